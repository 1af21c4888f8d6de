package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
	res, err := t.tx.ExecContext(ctx, `INSERT INTO will_expressions (id, client_key, kind, recorded_us, body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, e.ID, e.ClientKey, string(e.Kind), e.RecordedAt.UnixMicro(), string(body))
	if err != nil {
		return fmt.Errorf("store will expression: %w", mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return sqlstore.WillTaken(e.ID)
	}
	return nil
}

func (t *txn) WithdrawWill(ctx context.Context, id string, w consent.Withdrawal) (bool, error) {
	body, err := sqlstore.EncodeWithdrawal(w)
	if err != nil {
		return false, err
	}
	// The first withdrawal stands: a second finds the key taken.
	res, err := t.tx.ExecContext(ctx, `INSERT INTO will_withdrawals (id, client_key, at_us, body)
		SELECT id, client_key, ?, ? FROM will_expressions WHERE id = ? ON CONFLICT (id) DO NOTHING`, w.At.UnixMicro(), string(body), id)
	if err != nil {
		return false, fmt.Errorf("withdraw will expression: %w", mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil || n == 1 {
		return n == 1, err
	}
	var one int
	err = t.tx.QueryRowContext(ctx, `SELECT 1 FROM will_expressions WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, archive.ErrNotFound
	}
	return false, err
}

func (t *txn) Will(ctx context.Context, id string) (*consent.Expression, error) {
	e, err := scanWill(t.tx.QueryRowContext(ctx, `SELECT `+willCols+`WHERE e.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return e, err
}

func (t *txn) Wills(ctx context.Context, clientKey string) ([]*consent.Expression, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+willCols+`WHERE e.client_key = ? ORDER BY e.recorded_us, e.id`, clientKey)
	if err != nil {
		return nil, fmt.Errorf("read will expressions: %w", err)
	}
	return scanWills(rows)
}

func (t *txn) ScanWills(ctx context.Context, after string, limit int) ([]*consent.Expression, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+willCols+`WHERE e.id > ? ORDER BY e.id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("scan will expressions: %w", err)
	}
	return scanWills(rows)
}

func scanWill(row scanner) (*consent.Expression, error) {
	var body string
	var withdrawal sql.NullString
	if err := row.Scan(&body, &withdrawal); err != nil {
		return nil, err
	}
	var wb []byte
	if withdrawal.Valid {
		wb = []byte(withdrawal.String)
	}
	return sqlstore.DecodeWill([]byte(body), wb)
}

func scanWills(rows *sql.Rows) ([]*consent.Expression, error) {
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
