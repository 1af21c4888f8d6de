package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// sqlTx is a transaction as the store's methods use it. Statements that
// the archive runs on every request are prepared once when the store opens
// and reused; parsing SQL is otherwise a fifth of the cost of a read.
// In a write group, statements run without the caller's cancellation: a
// write that has started runs to its savepoint's end, because SQLite ends
// the whole transaction, and with it the group, when a write in it is
// interrupted.
type sqlTx struct {
	tx     *sql.Tx
	stmts  map[string]*sql.Stmt
	detach bool
}

func (q *sqlTx) ctx(ctx context.Context) context.Context {
	if q.detach {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (q *sqlTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = q.ctx(ctx)
	if st := q.stmts[query]; st != nil {
		return q.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}

func (q *sqlTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = q.ctx(ctx)
	if st := q.stmts[query]; st != nil {
		return q.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q *sqlTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = q.ctx(ctx)
	if st := q.stmts[query]; st != nil {
		return q.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}

// prepare prepares queries on db for reuse by every transaction.
func prepare(ctx context.Context, db *sql.DB, queries []string) (map[string]*sql.Stmt, error) {
	m := make(map[string]*sql.Stmt, len(queries))
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			closeStmts(m)
			return nil, fmt.Errorf("prepare a statement: %w", err)
		}
		m[q] = st
	}
	return m, nil
}

func closeStmts(m map[string]*sql.Stmt) error {
	var errs []error
	for _, st := range m {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}
