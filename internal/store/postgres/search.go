package postgres

import (
	"context"
	"fmt"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

func (t *txn) Search(ctx context.Context, q archive.Query, scope archive.Scope) ([]*archive.Record, error) {
	if sqlstore.ScopeEmpty(scope) {
		return nil, nil // nothing is visible: fail closed
	}
	query, args, err := searchSQL(q, scope)
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return collect(rows)
}

// searchSQL builds a search's query.
func searchSQL(q archive.Query, scope archive.Scope) (string, []any, error) {
	w, err := sqlstore.SearchWhere(dialect, q, scope)
	if err != nil {
		return "", nil, err
	}
	return dialect.Rebind(`SELECT ` + recordCols + recordFrom + `WHERE ` + w.String() +
		` ORDER BY d.effective_at DESC, d.doc_id DESC LIMIT ?`), append(w.Args, q.Limit+1), nil
}

func (t *txn) SearchCount(ctx context.Context, q archive.Query, scope archive.Scope) (int, error) {
	if sqlstore.ScopeEmpty(scope) {
		return 0, nil
	}
	q.Cursor, q.Limit = "", 0
	w, err := sqlstore.SearchWhere(dialect, q, scope)
	if err != nil {
		return 0, err
	}
	var n int
	if err := t.tx.QueryRow(ctx, dialect.Rebind(`SELECT COUNT(*) FROM documents d WHERE `+w.String()), w.Args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count search: %w", err)
	}
	return n, nil
}
