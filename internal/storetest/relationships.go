package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

// TestClientRelationships checks a backend's ClientRelationships: every
// relationship of the client, of every organiser, with its grants, in
// (organiser, id) order, and no other client's. Each backend runs it from
// its own tests.
func TestClientRelationships(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	alice, bob := "1.2.246.21|010180-9026", "1.2.246.21|020290-903X"
	orgA, orgB := "1.2.246.10.1111111", "1.2.246.10.2222222"
	day := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	rel := func(client, organiser, id string, grants int) *archive.Relationship {
		r := &archive.Relationship{ClientKey: client, Organiser: organiser, ID: id, Start: day, Document: "1.2.3." + id}
		for i := range grants {
			r.Grants = append(r.Grants, archive.Grant{ClientKey: client, RelationshipID: id, Organiser: organiser,
				Provider: "1.2.246.10.3333333", Unit: "1.2.246.10.3333333.10.1", ServiceTask: fmt.Sprintf("0%d", i+1), Start: day})
		}
		return r
	}
	// Put out of order; bob shares an organiser and an id with alice.
	rels := []*archive.Relationship{rel(alice, orgB, "r1", 1), rel(alice, orgA, "r2", 2), rel(bob, orgA, "r1", 1), rel(alice, orgA, "r1", 0), rel(alice, orgB, "r0", 0)}
	if err := update(t, st, func(tx archive.Tx) error {
		for _, r := range rels {
			if err := tx.PutRelationship(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	view(t, st, func(tx archive.Tx) error {
		for _, tt := range []struct {
			client string
			want   []*archive.Relationship
		}{
			{alice, []*archive.Relationship{rels[3], rels[1], rels[4], rels[0]}},
			{bob, []*archive.Relationship{rels[2]}},
			{"nobody|x", nil},
		} {
			got, err := tx.ClientRelationships(ctx, tt.client)
			if err != nil {
				return err
			}
			var keys, wantKeys []archive.RelationshipKey
			for _, r := range got {
				keys = append(keys, r.Key())
			}
			for _, r := range tt.want {
				wantKeys = append(wantKeys, r.Key())
			}
			if fmt.Sprint(keys) != fmt.Sprint(wantKeys) {
				t.Errorf("relationships of %s: %v, want %v", tt.client, keys, wantKeys)
				continue
			}
			for i, r := range got {
				if !sameJSON(t, r, tt.want[i]) {
					t.Errorf("relationship %v reads %+v, want %+v", r.Key(), r, tt.want[i])
				}
			}
		}
		return nil
	})
}

// TestAccessLogExport checks the access-log query without a client: an
// organisation's entries of every client, bounded by From and To. Each
// backend runs it from its own tests.
func TestAccessLogExport(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	orgA, orgB := "1.2.246.10.1111111", "1.2.246.10.2222222"
	day := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var entries []*archive.AccessEntry
	for i := range 24 {
		e := &archive.AccessEntry{At: day.Add(time.Duration(i) * time.Hour), ClientKey: fmt.Sprintf("1.2.246.21|c%d", i%3),
			Custodian: []string{orgA, orgB}[i%2], Action: archive.ActionRead, Outcome: archive.OutcomeAllowed, Reason: "test",
			Caller: archive.Caller{System: "ats", Organisation: orgB, Purpose: "1"}}
		entries = append(entries, e)
	}
	if err := update(t, st, func(tx archive.Tx) error {
		for _, e := range entries {
			if err := tx.AppendAccess(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	from, to := day.Add(5*time.Hour), day.Add(17*time.Hour)
	view(t, st, func(tx archive.Tx) error {
		for _, q := range []archive.AccessLogQuery{
			{Organisation: orgA, Limit: 100},
			{Organisation: orgA, From: from, To: to, Limit: 100},
			{Organisation: orgA, ClientKey: "1.2.246.21|c1", From: from, Limit: 100},
			{ClientKey: "1.2.246.21|c2", To: to, Limit: 100},
		} {
			var want []int64
			for i := len(entries) - 1; i >= 0; i-- {
				e := entries[i]
				if (q.ClientKey == "" || e.ClientKey == q.ClientKey) && (q.Organisation == "" || e.Custodian == q.Organisation || e.Caller.Organisation == q.Organisation) &&
					(q.From.IsZero() || !e.At.Before(q.From)) && (q.To.IsZero() || e.At.Before(q.To)) {
					want = append(want, e.ID)
				}
			}
			got, err := tx.AccessLog(ctx, q)
			if err != nil {
				return err
			}
			var ids []int64
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(want) {
				t.Errorf("access log %+v: %v, want %v", q, ids, want)
			}
		}
		return nil
	})
}
