package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

// willCols reads an expression with its withdrawal, if any.
const willCols = `e.body, w.body FROM will_expressions e LEFT JOIN will_withdrawals w ON w.id = e.id `

func (t *txn) PutWill(ctx context.Context, e *consent.Expression) error {
	body, err := sqlstore.EncodeWill(e)
	if err != nil {
		return err
	}
	// DO NOTHING rather than a unique violation: a violation would end the
	// caller's whole transaction.
	tag, err := t.tx.Exec(ctx, `INSERT INTO will_expressions (id, client_key, kind, recorded_at, body) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO NOTHING`, e.ID, e.ClientKey, string(e.Kind), e.RecordedAt, body)
	if err != nil {
		return fmt.Errorf("store will expression: %w", mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return sqlstore.WillTaken(e.ID)
	}
	return nil
}

func (t *txn) WithdrawWill(ctx context.Context, id string, w consent.Withdrawal) (bool, error) {
	body, err := sqlstore.EncodeWithdrawal(w)
	if err != nil {
		return false, err
	}
	// The first withdrawal stands: a concurrent second waits for the first
	// to commit and then finds the key taken.
	tag, err := t.tx.Exec(ctx, `INSERT INTO will_withdrawals (id, client_key, at, body)
		SELECT id, client_key, $2, $3 FROM will_expressions WHERE id = $1 ON CONFLICT (id) DO NOTHING`, id, w.At, body)
	if err != nil {
		return false, fmt.Errorf("withdraw will expression: %w", mapErr(err))
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var exists bool
	if err := t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM will_expressions WHERE id = $1)`, id).Scan(&exists); err != nil {
		return false, err
	}
	if !exists {
		return false, archive.ErrNotFound
	}
	return false, nil
}

func (t *txn) Will(ctx context.Context, id string) (*consent.Expression, error) {
	e, err := scanWill(t.tx.QueryRow(ctx, `SELECT `+willCols+`WHERE e.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return e, err
}

func (t *txn) Wills(ctx context.Context, clientKey string) ([]*consent.Expression, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+willCols+`WHERE e.client_key = $1 ORDER BY e.recorded_at, e.id`, clientKey)
	if err != nil {
		return nil, fmt.Errorf("read will expressions: %w", err)
	}
	return scanWills(rows)
}

func (t *txn) ScanWills(ctx context.Context, after string, limit int) ([]*consent.Expression, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+willCols+`WHERE e.id > $1 ORDER BY e.id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("scan will expressions: %w", err)
	}
	return scanWills(rows)
}

func scanWill(row pgx.Row) (*consent.Expression, error) {
	var body, withdrawal []byte
	if err := row.Scan(&body, &withdrawal); err != nil {
		return nil, err
	}
	return sqlstore.DecodeWill(body, withdrawal)
}

func scanWills(rows pgx.Rows) ([]*consent.Expression, error) {
	defer rows.Close()
	var out []*consent.Expression
	for rows.Next() {
		e, err := scanWill(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
