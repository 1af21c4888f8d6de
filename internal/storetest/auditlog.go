package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

// TestAccessLogSearch checks what an audit search needs of a backend's
// access log: an entry's request (addresses, transaction, raw query) comes
// back as written, through a write transaction and through the store's own
// appender alike, also when it is the caller's; and each filter of
// archive.AccessLogQuery (ID, Actions, Transactions, Outcome, Person,
// System, Document) selects exactly the entries it names. Each backend runs
// it from its own tests.
func TestAccessLogSearch(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	org := "1.2.246.10.1111111"
	day := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	actions := []archive.Action{archive.ActionArchive, archive.ActionSearch, archive.ActionRead}
	txns := []string{"ITI-65", "ITI-67", "ITI-68", ""}
	var entries []*archive.AccessEntry
	for i := range 24 {
		e := &archive.AccessEntry{At: day.Add(time.Duration(i) * time.Minute), ClientKey: "1.2.246.21|c1", Custodian: org,
			Action: actions[i%3], Outcome: []archive.Outcome{archive.OutcomeAllowed, archive.OutcomeRefused}[i%5/4], Reason: "test",
			Caller:    archive.Caller{System: []string{"ats", "other"}[i%2], Organisation: org, Person: fmt.Sprintf("p%d", i%4), Purpose: "1"},
			Documents: []string{fmt.Sprintf("1.2.246.10.1111111.1.%d", i%6), "1.2.246.10.1111111.9"}[:1+i%2]}
		if txn := txns[i%4]; txn != "" {
			r := &archive.Request{ClientAddress: fmt.Sprintf("192.0.2.%d:4431", i), ServerAddress: "[2001:db8::1]:443", Transaction: txn,
				Query: fmt.Sprintf("patient.identifier=urn:oid:1.2.246.21%%7C%d&_count=%d", i, i)}
			// Half name their request, half take their caller's.
			if i%3 == 0 {
				e.Request = r
			} else {
				e.Caller.Request = r
			}
		}
		entries = append(entries, e)
	}
	appender, ok := st.(archive.AccessAppender)
	for i, e := range entries {
		var err error
		if ok && i%2 == 1 {
			err = appender.AppendAccessEntry(ctx, e)
		} else {
			err = update(t, st, func(tx archive.Tx) error { return tx.AppendAccess(ctx, e) })
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	request := func(e *archive.AccessEntry) *archive.Request {
		if e.Request != nil {
			return e.Request
		}
		return e.Caller.Request
	}
	view(t, st, func(tx archive.Tx) error {
		all, err := tx.AccessLog(ctx, archive.AccessLogQuery{ClientKey: "1.2.246.21|c1", Limit: 100})
		if err != nil {
			return err
		}
		if len(all) != len(entries) {
			t.Fatalf("%d entries read, %d written", len(all), len(entries))
		}
		byID := map[int64]*archive.AccessEntry{}
		for _, e := range all {
			byID[e.ID] = e
		}
		for i, e := range entries {
			got := byID[e.ID]
			if got == nil {
				t.Fatalf("entry %d (id %d) not read back", i, e.ID)
			}
			want := request(e)
			switch {
			case want == nil && got.Request != nil:
				t.Errorf("entry %d: request %+v, written with none", i, *got.Request)
			case want != nil && (got.Request == nil || *got.Request != *want):
				t.Errorf("entry %d: request %+v, want %+v", i, got.Request, *want)
			}
			if got.Caller.Request != nil {
				t.Errorf("entry %d: the caller read back carries a request", i)
			}
		}
		for _, tc := range []struct {
			name  string
			q     archive.AccessLogQuery
			match func(*archive.AccessEntry) bool
		}{
			{"id", archive.AccessLogQuery{ID: entries[7].ID}, func(e *archive.AccessEntry) bool { return e.ID == entries[7].ID }},
			{"actions", archive.AccessLogQuery{Actions: []archive.Action{archive.ActionArchive, archive.ActionRead}},
				func(e *archive.AccessEntry) bool { return e.Action != archive.ActionSearch }},
			{"one action", archive.AccessLogQuery{Actions: []archive.Action{archive.ActionSearch}},
				func(e *archive.AccessEntry) bool { return e.Action == archive.ActionSearch }},
			{"transactions", archive.AccessLogQuery{Transactions: []string{"ITI-67", "ITI-68"}}, func(e *archive.AccessEntry) bool {
				r := request(e)
				return r != nil && (r.Transaction == "ITI-67" || r.Transaction == "ITI-68")
			}},
			{"outcome", archive.AccessLogQuery{Outcome: archive.OutcomeRefused}, func(e *archive.AccessEntry) bool { return e.Outcome == archive.OutcomeRefused }},
			{"person", archive.AccessLogQuery{Person: "p2"}, func(e *archive.AccessEntry) bool { return e.Caller.Person == "p2" }},
			{"system", archive.AccessLogQuery{System: "other"}, func(e *archive.AccessEntry) bool { return e.Caller.System == "other" }},
			{"document", archive.AccessLogQuery{Document: "1.2.246.10.1111111.9"},
				func(e *archive.AccessEntry) bool { return slices.Contains(e.Documents, "1.2.246.10.1111111.9") }},
			{"document and person", archive.AccessLogQuery{Document: "1.2.246.10.1111111.1.3", Person: "p3"},
				func(e *archive.AccessEntry) bool {
					return slices.Contains(e.Documents, "1.2.246.10.1111111.1.3") && e.Caller.Person == "p3"
				}},
			{"organisation and outcome", archive.AccessLogQuery{Organisation: org, From: day, To: day.Add(time.Hour), Outcome: archive.OutcomeAllowed},
				func(e *archive.AccessEntry) bool { return e.Outcome == archive.OutcomeAllowed }},
		} {
			q := tc.q
			if q.Organisation == "" {
				q.ClientKey = "1.2.246.21|c1"
			}
			q.Limit = 100
			var want []int64
			for i := len(entries) - 1; i >= 0; i-- {
				if tc.match(entries[i]) {
					want = append(want, entries[i].ID)
				}
			}
			if len(want) == 0 || len(want) == len(entries) {
				t.Fatalf("%s: the test data should match some entries, not %d of %d", tc.name, len(want), len(entries))
			}
			got, err := tx.AccessLog(ctx, q)
			if err != nil {
				return fmt.Errorf("%s: %w", tc.name, err)
			}
			var ids []int64
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(want) {
				t.Errorf("%s: %v, want %v", tc.name, ids, want)
			}
		}
		return nil
	})
}
