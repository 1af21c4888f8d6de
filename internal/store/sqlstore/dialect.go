package sqlstore

import (
	"strconv"
	"strings"
	"time"
)

// Dialect is what differs between the backends' SQL in the statements this
// package builds.
type Dialect struct {
	// Numbered placeholders ($1, $2, ...) instead of ?.
	Numbered bool
	// Time is a time as its column value (SQLite: microseconds).
	Time func(time.Time) any
	// Time columns of the documents table (d) and the access log.
	Effective, CaseOpened, CaseClosed, LogAt string
	// Updated is the documents column of Record.Updated (migration 7 in
	// SQLite, 8 in PostgreSQL): set whenever the metadata changes.
	Updated string
	// Referenced is the documents column of Record.ReferenceDate (the
	// migration after 7 in SQLite, after 8 in PostgreSQL).
	Referenced string
	// In renders col IN vals for one or more values.
	In func(col string, vals []string) (string, []any)
	// Before renders "(d.effective, d.doc_id) < (at, id)", the cursor of a
	// search in its order.
	Before func(effective string, at any, id string) (string, []any)
	// ScopeController is the controller column in the scope predicate of
	// a search that names (client) or does not name a client.
	ScopeController func(client bool) string
	// LogPerson is the access log's professional (Caller.Person), and
	// LogHasDocument the condition that an entry names the document
	// given as its one argument.
	LogPerson, LogHasDocument string
}

// Rebind rewrites a statement's ? placeholders for the dialect. The
// statements here have no ? in literals.
func (d Dialect) Rebind(query string) string {
	if !d.Numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// InList renders col IN (?, ?, ...) with one argument per value.
func InList(col string, vals []string) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ") + ")", args
}
