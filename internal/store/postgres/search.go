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
