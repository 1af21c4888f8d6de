package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

// TestSearchPlans: a search for one client's documents must go through an
// index on the client (or the case), never walk a controller's documents.
// Without statistics SQLite preferred the controller index, which made a
// client's document list cost time in proportion to the register.
func TestSearchPlans(t *testing.T) {
	s := openStore(t)
	const client, org = "1.2.246.21|010101-9991", "1.2.246.10.1.10.0"
	own := archive.Scope{Controllers: []string{org}}
	granted := archive.Scope{Controllers: []string{org}, Grants: []archive.Grant{{ClientKey: client, Organiser: "1.2.246.10.2.10.0", ServiceTask: "03", RelationshipID: "1.2.3"}}}
	disclosed := archive.Scope{Controllers: []string{org}, Disclosure: &archive.DisclosureScope{ClientKey: client, Groups: []string{"1", "5"},
		ExcludeSetIDs: []string{"1.2.3"}, ExcludeServiceTasks: []string{"03"}, ExcludeOrganisations: []string{"1.2.246.10.1", "1.2.246.10.3"}}}
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		q     archive.Query
		scope archive.Scope
		want  string // index the plan must use
	}{
		{"client's list", archive.Query{ClientKey: client, Limit: 50}, own, "documents_client"},
		{"client's list with grants", archive.Query{ClientKey: client, Limit: 50}, granted, "documents_client"},
		{"client's list with disclosure", archive.Query{ClientKey: client, Limit: 50}, disclosed, "documents_client"},
		{"client's list, second page", archive.Query{ClientKey: client, Limit: 50, Cursor: archive.EncodeCursor(day, "1.2.3.4")}, own, "documents_client"},
		{"by service task", archive.Query{ClientKey: client, ServiceTasks: []string{"03"}, Limit: 50}, own, "documents_client"},
		{"by date", archive.Query{ClientKey: client, From: day, To: day.AddDate(0, 1, 0), Limit: 50}, own, "documents_client"},
		{"by case", archive.Query{ClientKey: client, Cases: []string{"1.2.246.10.1.99.1"}, Limit: 50}, own, "documents_"},
		{"a register without a client", archive.Query{Limit: 50}, own, "documents_controller"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			query, args, err := searchSQL(tt.q, tt.scope)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := s.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			p := strings.Join(plan, "; ")
			if !strings.Contains(p, "USING INDEX "+tt.want) && !strings.Contains(p, "USING COVERING INDEX "+tt.want) {
				t.Errorf("plan %q does not use %s", p, tt.want)
			}
			if tt.q.ClientKey != "" && strings.Contains(p, "documents_controller") {
				t.Errorf("plan %q walks a controller's documents", p)
			}
			if strings.Contains(p, "SCAN d") {
				t.Errorf("plan %q scans the documents table", p)
			}
		})
	}
}

// TestCommonSearchesArePrepared: the searches professionals make most
// run as prepared statements; a change to searchSQL that gave them other
// SQL would silently make every list parse its query again.
func TestCommonSearchesArePrepared(t *testing.T) {
	s := openStore(t)
	scope := archive.Scope{Controllers: []string{"1.2.246.10.1.10.0"}}
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, q := range []archive.Query{
		{ClientKey: "1.2.246.21|010101-9991", Limit: 50},
		{ClientKey: "1.2.246.21|010101-9991", Limit: 50, Cursor: archive.EncodeCursor(day, "1.2.3")},
		{ClientKey: "1.2.246.21|010101-9991", Limit: 20, Cases: []string{"1.2.3.4"}},
		{ClientKey: "1.2.246.21|010101-9991", Limit: 50, ServiceTasks: []string{"03"}},
		{ClientKey: "1.2.246.21|010101-9991", Limit: 50, From: day, To: day.AddDate(0, 1, 0)},
	} {
		query, _, err := searchSQL(q, scope)
		if err != nil {
			t.Fatal(err)
		}
		if s.rStmts[query] == nil {
			t.Errorf("the search %+v is not prepared", q)
		}
	}
	if query, _, _ := searchSQL(archive.Query{ClientKey: "c", Limit: 5, SetIDs: []string{"1", "2"}}, scope); s.rStmts[query] != nil {
		t.Error("a rare search shape is prepared: the check above proves nothing")
	}
}
