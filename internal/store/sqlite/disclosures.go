package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

func (t *txn) AppendDisclosure(ctx context.Context, d *archive.Disclosure) error {
	return t.insertDisclosure(ctx, d, false)
}

// RestoreDisclosure implements archive.Scans: the entry keeps its id, and
// later entries are numbered after it (AUTOINCREMENT remembers the
// largest id ever used).
func (t *txn) RestoreDisclosure(ctx context.Context, d *archive.Disclosure) error {
	if d.ID <= 0 {
		return fmt.Errorf("restore disclosure: id %d is not an entry's", d.ID)
	}
	return t.insertDisclosure(ctx, d, true)
}

func (t *txn) insertDisclosure(ctx context.Context, d *archive.Disclosure, keepID bool) error {
	body, err := sqlstore.EncodeDisclosure(d)
	if err != nil {
		return err
	}
	var id any // NULL: the next id
	if keepID {
		id = d.ID
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO disclosures (id, at_us, client_key, discloser, recipient, source, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, d.At.UnixMicro(), d.ClientKey, d.Discloser, d.Recipient, string(d.Source), string(body))
	if err != nil {
		return fmt.Errorf("log disclosure: %w", mapErr(err))
	}
	last, err := res.LastInsertId()
	if err != nil {
		return err
	}
	d.ID = last
	return nil
}

func (t *txn) Disclosures(ctx context.Context, q archive.DisclosureQuery) ([]*archive.Disclosure, error) {
	w := sqlstore.DisclosureWhere(dialect, q)
	rows, err := t.tx.QueryContext(ctx, `SELECT id, body FROM disclosures WHERE `+w.String()+` ORDER BY id DESC LIMIT ?`,
		append(w.Args, sqlstore.DisclosureLimit(q))...)
	if err != nil {
		return nil, fmt.Errorf("read disclosure log: %w", err)
	}
	return scanDisclosures(rows)
}

func (t *txn) ScanDisclosures(ctx context.Context, after int64, limit int) ([]*archive.Disclosure, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, body FROM disclosures WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("scan disclosure log: %w", err)
	}
	return scanDisclosures(rows)
}

func scanDisclosures(rows *sql.Rows) ([]*archive.Disclosure, error) {
	defer rows.Close()
	var out []*archive.Disclosure
	for rows.Next() {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, err
		}
		d, err := sqlstore.DecodeDisclosure(id, []byte(body))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
