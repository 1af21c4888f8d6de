package sqlite

import (
	"context"
	"fmt"
	"time"

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
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return collect(rows)
}

// searchShapes are the searches professionals make most, as SQL: a
// client's documents in the caller's own register, a page of them, and
// those of one case, service task or period. A search whose SQL is one of
// these runs prepared; parsing it is a tenth of the cost of a list.
func searchShapes() []string {
	day := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	own := archive.Scope{Controllers: []string{"o"}}
	var out []string
	for _, q := range []archive.Query{
		{ClientKey: "c"},
		{ClientKey: "c", Cursor: archive.EncodeCursor(day, "d")},
		{ClientKey: "c", Cases: []string{"x"}},
		{ClientKey: "c", ServiceTasks: []string{"x"}},
		{ClientKey: "c", From: day, To: day},
	} {
		query, _, err := searchSQL(q, own)
		if err != nil {
			panic(err) // the queries above are fixed
		}
		out = append(out, query)
	}
	return out
}

// searchSQL builds a search's query.
func searchSQL(q archive.Query, scope archive.Scope) (string, []any, error) {
	w, err := sqlstore.SearchWhere(dialect, q, scope)
	if err != nil {
		return "", nil, err
	}
	return `SELECT ` + recordCols + recordFrom + `WHERE ` + w.String() +
		` ORDER BY d.effective_us DESC, d.doc_id DESC LIMIT ?`, append(w.Args, q.Limit+1), nil
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
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM documents d WHERE `+w.String(), w.Args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count search: %w", err)
	}
	return n, nil
}
