package sqlstore

import (
	"fmt"
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

// TestDisclosureScopeWhere: the disclosure branch of a scope has an
// argument for every placeholder, excludes an organisation and every OID
// under it (not another organisation whose number merely begins alike),
// and lists of one and of several render alike.
func TestDisclosureScopeWhere(t *testing.T) {
	d := Dialect{In: InList, ScopeController: func(bool) string { return "d.controller" }}
	ds := &archive.DisclosureScope{ClientKey: "c", Groups: []string{"1", "5"}, ExcludeSetIDs: []string{"s"}, ExcludeServiceTasks: []string{"01", "02"},
		ExcludeOrganisations: []string{"1.2.246.10.1", "1.2.246.10.2"}}
	w := &Where{}
	ScopeWhere(d, w, archive.Scope{Disclosure: ds}, false)
	want := "((d.client_key = ? AND d.status <> 'nullified' AND d.document_group IN (?, ?) AND NOT (d.set_id IN (?)) AND NOT (d.service_task IN (?, ?))" +
		" AND NOT (d.controller = ? OR d.controller LIKE ?) AND NOT (d.controller = ? OR d.controller LIKE ?)))"
	if w.String() != want {
		t.Errorf("disclosure scope\n%s\nwant\n%s", w.String(), want)
	}
	wantArgs := []any{"c", "1", "5", "s", "01", "02", "1.2.246.10.1", "1.2.246.10.1.%", "1.2.246.10.2", "1.2.246.10.2.%"}
	if fmt.Sprint(w.Args) != fmt.Sprint(wantArgs) {
		t.Errorf("arguments %v, want %v", w.Args, wantArgs)
	}
	for _, tt := range []struct {
		scope archive.Scope
		empty bool
	}{{archive.Scope{}, true}, {archive.Scope{Disclosure: ds}, false}, {archive.Scope{Controllers: []string{"o"}}, false}} {
		if ScopeEmpty(tt.scope) != tt.empty {
			t.Errorf("ScopeEmpty(%+v) = %v", tt.scope, !tt.empty)
		}
	}
}

// TestLogWhereExport: without a client, an organisation's query reaches
// every client; without either, it stays with the entries of no client.
func TestLogWhereExport(t *testing.T) {
	d := Dialect{Time: func(t time.Time) any { return t.UnixMicro() }, LogAt: "at"}
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		q    archive.AccessLogQuery
		want string
	}{
		{archive.AccessLogQuery{Organisation: "o", From: day, To: day}, "(custodian = ? OR (caller_org = ? AND outcome = 'allowed')) AND at >= ? AND at < ?"},
		{archive.AccessLogQuery{}, "client_key = ?"},
		{archive.AccessLogQuery{ClientKey: "c", To: day}, "client_key = ? AND at < ?"},
	} {
		if got := LogWhere(d, tt.q).String(); got != tt.want {
			t.Errorf("LogWhere(%+v) = %q, want %q", tt.q, got, tt.want)
		}
	}
}
