package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

// TestDisclosures checks a backend's archive.Disclosures, ScanDisclosures
// and RestoreDisclosure: entries are numbered in order, every query filter
// selects what it says alone and with the others, pages by Before join up
// to the whole answer, and a restored entry keeps its id. Each backend
// runs it from its own tests.
func TestDisclosures(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 12))
	clients := []string{"1.2.246.21|a", "1.2.246.21|b", "1.2.246.21|c"}
	orgs := []string{"1.2.246.10.1111111", "1.2.246.10.2222222", "1.2.246.10.3333333", "1.2.246.10.4444444"}
	day := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	var all []*archive.Disclosure
	for i := range 120 {
		at := day.Add(time.Duration(rng.IntN(10*24)) * time.Hour) // not in id order
		d := &archive.Disclosure{At: at, DisclosedAt: at.Add(-time.Minute), Source: archive.SourceArchive, ClientKey: clients[rng.IntN(len(clients))],
			Discloser: orgs[rng.IntN(len(orgs))], Recipient: orgs[rng.IntN(len(orgs))],
			Caller:     archive.Caller{System: "ats", Organisation: "x", Purpose: archive.PurposeDisclosure},
			Documents:  []archive.DisclosedDocument{{ID: fmt.Sprintf("1.2.3.%d", i), SetID: "1.2.3", ServiceTasks: []string{"03"}}},
			GroundKind: archive.GroundConsent, Ground: "c-1"}
		if i%7 == 0 {
			d.Source, d.GroundKind, d.NoticeID, d.RecipientName = archive.SourceNotice, archive.GroundNotice, "n-1", "Käräjäoikeus"
		}
		all = append(all, d)
	}
	// Most in one transaction, the rest one at a time.
	if err := update(t, st, func(tx archive.Tx) error {
		for _, d := range all[:100] {
			if err := tx.AppendDisclosure(ctx, d); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, d := range all[100:] {
		if err := update(t, st, func(tx archive.Tx) error { return tx.AppendDisclosure(ctx, d) }); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatalf("entry %d has id %d after %d", i, all[i].ID, all[i-1].ID)
		}
	}
	match := func(q archive.DisclosureQuery) []int64 {
		var ids []int64
		for _, d := range slices.Backward(all) {
			if (q.ClientKey == "" || d.ClientKey == q.ClientKey) &&
				(q.Organisation == "" || d.Discloser == q.Organisation || d.Recipient == q.Organisation) &&
				(q.From.IsZero() || !d.At.Before(q.From)) && (q.To.IsZero() || d.At.Before(q.To)) &&
				(q.Before == 0 || d.ID < q.Before) {
				ids = append(ids, d.ID)
			}
		}
		limit := q.Limit
		if limit <= 0 {
			limit = 100
		}
		return ids[:min(limit, len(ids))]
	}
	ask := func(tx archive.Tx, q archive.DisclosureQuery) []*archive.Disclosure {
		t.Helper()
		got, err := tx.Disclosures(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	idsOf := func(ds []*archive.Disclosure) []int64 {
		var ids []int64
		for _, d := range ds {
			ids = append(ids, d.ID)
		}
		return ids
	}
	from, to := day.Add(3*24*time.Hour), day.Add(6*24*time.Hour)
	mid := all[60].ID
	queries := []archive.DisclosureQuery{
		{},
		{Limit: 1000},
		{ClientKey: clients[0], Limit: 1000},
		{Organisation: orgs[1], Limit: 1000},
		{From: from, Limit: 1000},
		{To: to, Limit: 1000},
		{Before: mid, Limit: 1000},
		{Limit: 7},
		{ClientKey: clients[1], Organisation: orgs[2], Limit: 1000},
		{ClientKey: clients[2], From: from, To: to, Limit: 1000},
		{Organisation: orgs[0], From: from, To: to, Before: mid, Limit: 1000},
		{ClientKey: clients[0], Organisation: orgs[3], From: from, To: to, Before: mid, Limit: 3},
		{ClientKey: "nobody|x", Limit: 1000},
	}
	view(t, st, func(tx archive.Tx) error {
		for _, q := range queries {
			got, want := idsOf(ask(tx, q)), match(q)
			if !slices.Equal(got, want) {
				t.Errorf("seed %d, query %+v: %v, want %v", seed, q, got, want)
			}
		}
		// Entries read back as they were logged.
		got := ask(tx, archive.DisclosureQuery{Limit: 1000})
		for i, d := range got {
			if w := all[len(all)-1-i]; !sameJSON(t, d, w) {
				t.Errorf("entry %d reads %+v, want %+v", w.ID, d, w)
				break
			}
		}
		// Pages by Before join up to the whole answer.
		for _, q := range []archive.DisclosureQuery{{Limit: 9}, {Organisation: orgs[1], Limit: 4}, {ClientKey: clients[1], From: from, Limit: 5}} {
			var paged []int64
			for {
				page := idsOf(ask(tx, q))
				paged = append(paged, page...)
				if len(page) < q.Limit {
					break
				}
				q.Before = page[len(page)-1]
			}
			q.Before, q.Limit = 0, 1000
			if want := match(q); !slices.Equal(paged, want) {
				t.Errorf("seed %d, query %+v by pages: %v, want %v", seed, q, paged, want)
			}
		}
		// The scan goes through every entry in id order.
		var scanned []int64
		var after int64
		for {
			page, err := tx.ScanDisclosures(ctx, after, 50)
			if err != nil {
				return err
			}
			scanned = append(scanned, idsOf(page)...)
			if len(page) < 50 {
				break
			}
			after = page[len(page)-1].ID
		}
		var want []int64
		for _, d := range all {
			want = append(want, d.ID)
		}
		if !slices.Equal(scanned, want) {
			t.Errorf("scan: %v, want %v", scanned, want)
		}
		return nil
	})

	t.Run("restored entries keep their ids", func(t *testing.T) {
		fresh := b.Open(t)
		for _, id := range []int64{5, 9} {
			d := *all[0]
			d.ID = id
			if err := update(t, fresh, func(tx archive.Tx) error { return tx.RestoreDisclosure(ctx, &d) }); err != nil {
				t.Fatal(err)
			}
			if d.ID != id {
				t.Errorf("restored entry %d got id %d", id, d.ID)
			}
		}
		taken := *all[1]
		taken.ID = 9
		if err := update(t, fresh, func(tx archive.Tx) error { return tx.RestoreDisclosure(ctx, &taken) }); !errors.Is(err, archive.ErrConflict) {
			t.Errorf("restoring a taken id: %v, want ErrConflict", err)
		}
		next := *all[2]
		next.ID = 0
		if err := update(t, fresh, func(tx archive.Tx) error { return tx.AppendDisclosure(ctx, &next) }); err != nil {
			t.Fatal(err)
		}
		if next.ID <= 9 {
			t.Errorf("an entry appended after a restore got id %d, not after the restored 9", next.ID)
		}
		view(t, fresh, func(tx archive.Tx) error {
			got := idsOf(ask(tx, archive.DisclosureQuery{}))
			if want := []int64{next.ID, 9, 5}; !slices.Equal(got, want) {
				t.Errorf("after the restore the log holds %v, want %v", got, want)
			}
			return nil
		})
	})
}
