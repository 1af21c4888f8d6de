package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

func (t *txn) AppendDisclosure(ctx context.Context, d *archive.Disclosure) error {
	body, err := sqlstore.EncodeDisclosure(d)
	if err != nil {
		return err
	}
	err = t.tx.QueryRow(ctx, `INSERT INTO disclosures (client_key, at, discloser, recipient, source, body) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		d.ClientKey, d.At, d.Discloser, d.Recipient, string(d.Source), body).Scan(&d.ID)
	if err != nil {
		return fmt.Errorf("log disclosure: %w", mapErr(err))
	}
	return nil
}

// RestoreDisclosure implements archive.Scans: the entry keeps its id, and
// the id sequence moves past it so that later entries are numbered after
// it. The id is unique only with the client in the primary key (Citus
// needs the distribution column there), so a taken id is looked for first.
func (t *txn) RestoreDisclosure(ctx context.Context, d *archive.Disclosure) error {
	if d.ID <= 0 {
		return fmt.Errorf("restore disclosure: id %d is not an entry's", d.ID)
	}
	body, err := sqlstore.EncodeDisclosure(d)
	if err != nil {
		return err
	}
	var taken bool
	if err := t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM disclosures WHERE id = $1)`, d.ID).Scan(&taken); err != nil {
		return fmt.Errorf("restore disclosure: %w", err)
	}
	if taken {
		return &archive.Error{Kind: archive.ErrConflict, Message: fmt.Sprintf("disclosure-log entry %d is already in the log", d.ID)}
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO disclosures (client_key, id, at, discloser, recipient, source, body) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		d.ClientKey, d.ID, d.At, d.Discloser, d.Recipient, string(d.Source), body); err != nil {
		return fmt.Errorf("restore disclosure: %w", mapErr(err))
	}
	// setval is not undone by a rollback; moving the sequence on too far
	// only leaves a gap.
	_, err = t.tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('disclosures', 'id'),
		GREATEST($1, COALESCE(pg_sequence_last_value(pg_get_serial_sequence('disclosures', 'id')::regclass), 0)))`, d.ID)
	if err != nil {
		return fmt.Errorf("restore disclosure: %w", err)
	}
	return nil
}

func (t *txn) Disclosures(ctx context.Context, q archive.DisclosureQuery) ([]*archive.Disclosure, error) {
	w := sqlstore.DisclosureWhere(dialect, q)
	rows, err := t.tx.Query(ctx, dialect.Rebind(`SELECT id, body FROM disclosures WHERE `+w.String()+` ORDER BY id DESC LIMIT ?`),
		append(w.Args, sqlstore.DisclosureLimit(q))...)
	if err != nil {
		return nil, fmt.Errorf("read disclosure log: %w", err)
	}
	return scanDisclosures(rows)
}

func (t *txn) ScanDisclosures(ctx context.Context, after int64, limit int) ([]*archive.Disclosure, error) {
	rows, err := t.tx.Query(ctx, `SELECT id, body FROM disclosures WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("scan disclosure log: %w", err)
	}
	return scanDisclosures(rows)
}

func scanDisclosures(rows pgx.Rows) ([]*archive.Disclosure, error) {
	defer rows.Close()
	var out []*archive.Disclosure
	for rows.Next() {
		var id int64
		var body []byte
		if err := rows.Scan(&id, &body); err != nil {
			return nil, err
		}
		d, err := sqlstore.DecodeDisclosure(id, body)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
