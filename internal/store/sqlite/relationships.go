package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

// parseDay reads a stored day; "" is none (an open period). A day that
// does not parse is an error: read as none, it would open a period that
// has an end.
func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored day %q: %w", s, err)
	}
	return t, nil
}

// parseDays reads a stored period.
func parseDays(start, end string) (time.Time, time.Time, error) {
	s, err := parseDay(start)
	if err != nil {
		return s, s, err
	}
	e, err := parseDay(end)
	return s, e, err
}

func (t *txn) PutRelationship(ctx context.Context, r *archive.Relationship) error {
	if err := t.WithdrawRelationship(ctx, r.Key()); err != nil {
		return err
	}
	stated, err := sqlstore.EncodeStated(r)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO relationships (client_key, organiser, id, start_day, end_day, document, stated) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.ClientKey, r.Organiser, r.ID, day(r.Start), day(r.End), r.Document, string(stated)); err != nil {
		return mapErr(err)
	}
	for _, g := range r.Grants {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO relationship_grants (client_key, organiser, relationship_id, provider, unit, service_task, start_day, end_day)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			r.ClientKey, r.Organiser, r.ID, g.Provider, g.Unit, g.ServiceTask, day(g.Start), day(g.End)); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

func (t *txn) WithdrawRelationship(ctx context.Context, k archive.RelationshipKey) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM relationship_grants WHERE client_key = ? AND organiser = ? AND relationship_id = ?`, k.ClientKey, k.Organiser, k.ID); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx, `DELETE FROM relationships WHERE client_key = ? AND organiser = ? AND id = ?`, k.ClientKey, k.Organiser, k.ID)
	return err
}

func (t *txn) Relationship(ctx context.Context, k archive.RelationshipKey) (*archive.Relationship, error) {
	r := &archive.Relationship{ClientKey: k.ClientKey, Organiser: k.Organiser, ID: k.ID}
	var start, end, stated string
	err := t.tx.QueryRowContext(ctx, qRelationship, k.ClientKey, k.Organiser, k.ID).
		Scan(&r.Organiser, &start, &end, &r.Document, &stated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if r.Start, r.End, err = parseDays(start, end); err != nil {
		return nil, fmt.Errorf("decode relationship: %w", err)
	}
	if r.Stated, err = sqlstore.DecodeStated([]byte(stated)); err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, qRelationshipGrants, k.ClientKey, k.Organiser, k.ID)
	if err != nil {
		return nil, err
	}
	r.Grants, err = scanGrants(rows)
	return r, err
}

func scanGrants(rows *sql.Rows) ([]archive.Grant, error) {
	defer rows.Close()
	var out []archive.Grant
	for rows.Next() {
		var g archive.Grant
		var start, end string
		if err := rows.Scan(&g.ClientKey, &g.RelationshipID, &g.Organiser, &g.Provider, &g.Unit, &g.ServiceTask, &start, &end); err != nil {
			return nil, err
		}
		var err error
		if g.Start, g.End, err = parseDays(start, end); err != nil {
			return nil, fmt.Errorf("decode grant: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func (t *txn) Grants(ctx context.Context, clientKey, provider string) ([]archive.Grant, error) {
	rows, err := t.tx.QueryContext(ctx, qGrants, clientKey, provider)
	if err != nil {
		return nil, err
	}
	return scanGrants(rows)
}

func (t *txn) ScanRelationships(ctx context.Context, after archive.RelationshipKey, limit int) ([]*archive.Relationship, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT client_key, organiser, id FROM relationships WHERE (client_key, organiser, id) > (?, ?, ?)
		ORDER BY client_key, organiser, id LIMIT ?`, after.ClientKey, after.Organiser, after.ID, limit)
	if err != nil {
		return nil, err
	}
	return t.relationshipsOf(ctx, rows)
}

// relationshipsOf reads the relationships, with their grants, whose keys
// rows list.
func (t *txn) relationshipsOf(ctx context.Context, rows *sql.Rows) ([]*archive.Relationship, error) {
	var keys []archive.RelationshipKey
	for rows.Next() {
		var k archive.RelationshipKey
		if err := rows.Scan(&k.ClientKey, &k.Organiser, &k.ID); err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []*archive.Relationship
	for _, k := range keys {
		r, err := t.Relationship(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (t *txn) ClientRelationships(ctx context.Context, clientKey string) ([]*archive.Relationship, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT client_key, organiser, id FROM relationships WHERE client_key = ? ORDER BY organiser, id`, clientKey)
	if err != nil {
		return nil, fmt.Errorf("read client relationships: %w", err)
	}
	return t.relationshipsOf(ctx, rows)
}
