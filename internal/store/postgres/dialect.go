package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

// dialect is PostgreSQL's SQL for the shared statements: numbered
// placeholders, times as timestamptz, and lists as = ANY(array), except a
// list of one: plain equality lets an index on (col, effective_at, doc_id)
// deliver rows in order, where = ANY would need a sort.
var dialect = sqlstore.Dialect{
	Numbered:       true,
	Time:           func(t time.Time) any { return t },
	Effective:      "d.effective_at",
	CaseOpened:     "d.case_opened",
	CaseClosed:     "d.case_closed",
	Updated:        "d.updated_at",
	Referenced:     "d.referenced_at",
	LogAt:          "at",
	LogPerson:      "caller->>'person'",
	LogHasDocument: "documents @> jsonb_build_array(?::text)",
	In: func(col string, vals []string) (string, []any) {
		if len(vals) == 1 {
			return col + " = ?", []any{vals[0]}
		}
		return col + " = ANY(?)", []any{vals}
	},
	Before: func(effective string, at any, id string) (string, []any) {
		return "(" + effective + ", d.doc_id) < (?, ?)", []any{at, id}
	},
	ScopeController: func(bool) string { return "d.controller" },
}

// settings runs the blob-store setting's statements on the pool.
type settings struct{ pool *pgxpool.Pool }

func (s settings) Exec(ctx context.Context, query string, args ...any) error {
	_, err := s.pool.Exec(ctx, query, args...)
	return err
}

func (s settings) QueryString(ctx context.Context, query string, args ...any) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, query, args...).Scan(&v)
	return v, err
}
