package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

func (t *txn) PutRegister(ctx context.Context, r *archive.Register) error {
	if r.AddedAt.IsZero() {
		r.AddedAt = time.Now().UTC()
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO registers (controller, type, added_us, transferred_to, transferred_us) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (controller, type) DO UPDATE SET transferred_to = excluded.transferred_to, transferred_us = excluded.transferred_us`,
		r.Controller, r.Type, r.AddedAt.UnixMicro(), r.TransferredTo, usOrNull(r.TransferredAt))
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return sqlstore.NotOnboarded(r.Controller)
	}
	return err
}

const registerCols = `controller, type, added_us, transferred_to, transferred_us`

func scanRegister(row scanner) (*archive.Register, error) {
	r := &archive.Register{}
	var at int64
	var tr sql.NullInt64
	if err := row.Scan(&r.Controller, &r.Type, &at, &r.TransferredTo, &tr); err != nil {
		return nil, err
	}
	r.AddedAt, r.TransferredAt = time.UnixMicro(at).UTC(), timeOrNil(tr)
	return r, nil
}

func (t *txn) Register(ctx context.Context, controller, typ string) (*archive.Register, error) {
	r, err := scanRegister(t.tx.QueryRowContext(ctx, qRegister, controller, typ))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return r, err
}

func (t *txn) Registers(ctx context.Context) ([]*archive.Register, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+registerCols+` FROM registers ORDER BY controller, type`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.Register
	for rows.Next() {
		r, err := scanRegister(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
