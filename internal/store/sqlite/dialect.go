package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

// dialect is SQLite's SQL for the shared statements: times in
// microseconds, lists as IN (?, ...), and the cursor spelled out, which
// SQLite plans as an index range where a row value comparison it does not.
var dialect = sqlstore.Dialect{
	Time:       func(t time.Time) any { return t.UnixMicro() },
	Effective:  "d.effective_us",
	CaseOpened: "d.case_opened_us",
	CaseClosed: "d.case_closed_us",
	Updated:    "d.updated_us",
	Referenced: "d.referenced_us",
	LogAt:      "at_us",
	LogPerson:  "json_extract(caller_json, '$.person')",
	// Entries name few documents: the JSON array is read only for entries
	// the other conditions (client or controller, period) leave.
	LogHasDocument: "EXISTS (SELECT 1 FROM json_each(documents) WHERE value = ?)",
	In:             sqlstore.InList,
	Before: func(effective string, at any, id string) (string, []any) {
		return "(" + effective + " < ? OR (" + effective + " = ? AND d.doc_id < ?))", []any{at, at, id}
	},
	// When the search names a client, the unary + keeps SQLite from using
	// the controller index for the scope: it would walk all of a
	// controller's documents to find one client's, where the client index
	// goes straight to them.
	ScopeController: func(client bool) string {
		if client {
			return "+d.controller"
		}
		return "d.controller"
	},
}

// settings runs the blob-store setting's statements on the writer.
type settings struct{ db *sql.DB }

func (s settings) Exec(ctx context.Context, query string, args ...any) error {
	_, err := s.db.ExecContext(ctx, query, args...)
	return err
}

func (s settings) QueryString(ctx context.Context, query string, args ...any) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, query, args...).Scan(&v)
	return v, err
}
