package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
	"github.com/jackc/pgx/v5"
)

func dayOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func fromDay(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

const (
	qWithdrawGrants       = `DELETE FROM relationship_grants WHERE client_key = $1 AND organiser = $2 AND relationship_id = $3`
	qWithdrawRelationship = `DELETE FROM relationships WHERE client_key = $1 AND organiser = $2 AND id = $3`
)

// PutRelationship replaces a relationship and its grants, its statements
// in one round trip; the first failure is the answer, and rolls back the
// transaction.
func (t *txn) PutRelationship(ctx context.Context, r *archive.Relationship) error {
	stated, err := sqlstore.EncodeStated(r)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(qWithdrawGrants, r.ClientKey, r.Organiser, r.ID)
	b.Queue(qWithdrawRelationship, r.ClientKey, r.Organiser, r.ID)
	b.Queue(`INSERT INTO relationships (client_key, organiser, id, start_day, end_day, document, stated) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.ClientKey, r.Organiser, r.ID, dayOrNil(r.Start), dayOrNil(r.End), r.Document, stated)
	for _, g := range r.Grants {
		b.Queue(`INSERT INTO relationship_grants (client_key, organiser, relationship_id, provider, unit, service_task, start_day, end_day)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
			r.ClientKey, r.Organiser, r.ID, g.Provider, g.Unit, g.ServiceTask, dayOrNil(g.Start), dayOrNil(g.End))
	}
	br := t.tx.SendBatch(ctx, b)
	defer br.Close()
	for i := range b.Len() {
		if _, err := br.Exec(); err != nil {
			if i < 2 { // the withdrawal's errors went unmapped
				return err
			}
			return mapErr(err)
		}
	}
	return mapErr(br.Close())
}

func (t *txn) WithdrawRelationship(ctx context.Context, k archive.RelationshipKey) error {
	if _, err := t.tx.Exec(ctx, qWithdrawGrants, k.ClientKey, k.Organiser, k.ID); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, qWithdrawRelationship, k.ClientKey, k.Organiser, k.ID)
	return err
}

func (t *txn) Relationship(ctx context.Context, k archive.RelationshipKey) (*archive.Relationship, error) {
	r := &archive.Relationship{ClientKey: k.ClientKey, Organiser: k.Organiser, ID: k.ID}
	var start, end *time.Time
	var stated []byte
	err := t.tx.QueryRow(ctx, `SELECT start_day, end_day, document, stated FROM relationships WHERE client_key = $1 AND organiser = $2 AND id = $3`, k.ClientKey, k.Organiser, k.ID).
		Scan(&start, &end, &r.Document, &stated)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	r.Start, r.End = fromDay(start), fromDay(end)
	if r.Stated, err = sqlstore.DecodeStated(stated); err != nil {
		return nil, err
	}
	rows, err := t.tx.Query(ctx, `SELECT client_key, relationship_id, organiser, provider, unit, service_task, start_day, end_day
		FROM relationship_grants WHERE client_key = $1 AND organiser = $2 AND relationship_id = $3 ORDER BY service_task, unit`, k.ClientKey, k.Organiser, k.ID)
	if err != nil {
		return nil, err
	}
	r.Grants, err = scanGrants(rows)
	return r, err
}

func scanGrants(rows pgx.Rows) ([]archive.Grant, error) {
	defer rows.Close()
	var out []archive.Grant
	for rows.Next() {
		var g archive.Grant
		var start, end *time.Time
		if err := rows.Scan(&g.ClientKey, &g.RelationshipID, &g.Organiser, &g.Provider, &g.Unit, &g.ServiceTask, &start, &end); err != nil {
			return nil, err
		}
		g.Start, g.End = fromDay(start), fromDay(end)
		out = append(out, g)
	}
	return out, rows.Err()
}

func (t *txn) Grants(ctx context.Context, clientKey, provider string) ([]archive.Grant, error) {
	rows, err := t.tx.Query(ctx, `SELECT client_key, relationship_id, organiser, provider, unit, service_task, start_day, end_day
		FROM relationship_grants WHERE client_key = $1 AND provider = $2`, clientKey, provider)
	if err != nil {
		return nil, err
	}
	return scanGrants(rows)
}

func (t *txn) ScanRelationships(ctx context.Context, after archive.RelationshipKey, limit int) ([]*archive.Relationship, error) {
	rows, err := t.tx.Query(ctx, `SELECT client_key, organiser, id FROM relationships WHERE (client_key, organiser, id) > ($1, $2, $3)
		ORDER BY client_key, organiser, id LIMIT $4`, after.ClientKey, after.Organiser, after.ID, limit)
	if err != nil {
		return nil, err
	}
	return t.relationshipsOf(ctx, rows)
}

func (t *txn) ClientRelationships(ctx context.Context, clientKey string) ([]*archive.Relationship, error) {
	rows, err := t.tx.Query(ctx, `SELECT client_key, organiser, id FROM relationships WHERE client_key = $1 ORDER BY organiser, id`, clientKey)
	if err != nil {
		return nil, fmt.Errorf("read client relationships: %w", err)
	}
	return t.relationshipsOf(ctx, rows)
}

// relationshipsOf reads the relationships, with their grants, whose keys
// rows list.
func (t *txn) relationshipsOf(ctx context.Context, rows pgx.Rows) ([]*archive.Relationship, error) {
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (archive.RelationshipKey, error) {
		var k archive.RelationshipKey
		err := row.Scan(&k.ClientKey, &k.Organiser, &k.ID)
		return k, err
	})
	if err != nil {
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
