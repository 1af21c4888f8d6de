package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/jackc/pgx/v5"
)

func (t *txn) PutRegister(ctx context.Context, r *archive.Register) error {
	if r.AddedAt.IsZero() {
		r.AddedAt = time.Now().UTC()
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO registers (controller, type, added_at, transferred_to, transferred_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (controller, type) DO UPDATE SET transferred_to = excluded.transferred_to, transferred_at = excluded.transferred_at`,
		r.Controller, r.Type, r.AddedAt, r.TransferredTo, r.TransferredAt)
	return err
}

const registerCols = `controller, type, added_at, transferred_to, transferred_at`

func scanRegister(row pgx.Row) (*archive.Register, error) {
	r := &archive.Register{}
	if err := row.Scan(&r.Controller, &r.Type, &r.AddedAt, &r.TransferredTo, &r.TransferredAt); err != nil {
		return nil, err
	}
	r.AddedAt, r.TransferredAt = r.AddedAt.UTC(), utcPtr(r.TransferredAt)
	return r, nil
}

func (t *txn) Register(ctx context.Context, controller, typ string) (*archive.Register, error) {
	r, err := scanRegister(t.tx.QueryRow(ctx, `SELECT `+registerCols+` FROM registers WHERE controller = $1 AND type = $2`, controller, typ))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return r, err
}

func (t *txn) Registers(ctx context.Context) ([]*archive.Register, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+registerCols+` FROM registers ORDER BY controller, type`)
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
