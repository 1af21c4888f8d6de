package postgres

import (
	"context"
	"fmt"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

func (t *txn) Search(ctx context.Context, q archive.Query, scope archive.Scope) ([]*archive.Record, error) {
	if len(scope.Controllers) == 0 && len(scope.Grants) == 0 {
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

func (t *txn) Count(ctx context.Context, q archive.Query, scope archive.Scope, max int) (int, error) {
	if len(scope.Controllers) == 0 && len(scope.Grants) == 0 {
		return 0, nil // nothing is visible: fail closed
	}
	q.Cursor = ""
	w, err := sqlstore.SearchWhere(dialect, q, scope)
	if err != nil {
		return 0, err
	}
	var n int
	err = t.tx.QueryRow(ctx, dialect.Rebind(`SELECT count(*) FROM (SELECT 1 FROM documents d WHERE `+w.String()+` LIMIT ?) c`), append(w.Args, max+1)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return n, nil
}
