package sqlstore

import (
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		numbered bool
		in, want string
	}{
		{false, "a = ? AND b IN (?, ?)", "a = ? AND b IN (?, ?)"},
		{true, "a = ? AND b IN (?, ?)", "a = $1 AND b IN ($2, $3)"},
		{true, "no placeholders", "no placeholders"},
	}
	for _, tt := range tests {
		if got := (Dialect{Numbered: tt.numbered}).Rebind(tt.in); got != tt.want {
			t.Errorf("Rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSearchWhereArguments: every placeholder has its argument, in order,
// for a query that uses every filter.
func TestSearchWhereArguments(t *testing.T) {
	d := Dialect{Time: func(t time.Time) any { return t.UnixMicro() }, Effective: "e", CaseOpened: "o", CaseClosed: "c", LogAt: "at", In: InList,
		Before: func(col string, at any, id string) (string, []any) {
			return "(" + col + ", id) < (?, ?)", []any{at, id}
		},
		ScopeController: func(bool) string { return "d.controller" }}
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	q := archive.Query{ClientKey: "c", Registers: []string{"1"}, Custodians: []string{"a", "b"}, ServiceTasks: []string{"x"}, Cases: []string{"k"},
		Statuses: []archive.Status{archive.StatusNullified}, From: day, To: day, PeriodFrom: day, PeriodTo: day, Cursor: archive.EncodeCursor(day, "id")}
	scope := archive.Scope{Controllers: []string{"o", "p"}, Grants: []archive.Grant{{ClientKey: "c", Organiser: "x", ServiceTask: "03", RelationshipID: "r"}}}
	w, err := SearchWhere(d, q, scope)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range w.String() {
		if c == '?' {
			n++
		}
	}
	if n != len(w.Args) || n != 19 {
		t.Errorf("%d placeholders, %d arguments, want 19 of each: %s %v", n, len(w.Args), w.String(), w.Args)
	}
	if _, err := SearchWhere(d, archive.Query{Cursor: "not a cursor"}, scope); err == nil {
		t.Error("a bad cursor was accepted")
	}
	lw := LogWhere(d, archive.AccessLogQuery{ClientKey: "c", Organisation: "o", Predecessors: []archive.Predecessor{{Controller: "p"}, {Controller: "q", Until: day}}, Before: 9})
	if want := "client_key = ? AND (custodian = ? OR (caller_org = ? AND outcome = 'allowed') OR custodian = ? OR (custodian = ? AND at < ?)) AND id < ?"; lw.String() != want || len(lw.Args) != 7 {
		t.Errorf("log conditions %q %v, want %q and 7 arguments", lw.String(), lw.Args, want)
	}
}
