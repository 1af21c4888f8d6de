package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

// TestSubmissionSets checks a backend's archive.SubmissionSets and
// ScanSubmissionSets: a set
// comes back as it was kept, by id and by its organisation's uniqueId; a
// client's sets come back whole, only that client's, newest first (received
// time, then id); an id is kept once, and so is a client's uniqueId from
// one organisation, also when two stores on one archive keep it at once;
// nothing of a refused transaction stays. Each backend runs it from its
// own tests.
func TestSubmissionSets(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 15))
	clients := []string{"1.2.246.21|010180-9026", "1.2.246.21|020280-902B", "1.2.246.10.1234.20|T-1"}
	orgs := []string{"1.2.246.10.1111111.10.0", "1.2.246.10.2222222.10.0"}
	base := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	var all []*archive.SubmissionSet
	for i := range 40 {
		s := &archive.SubmissionSet{
			ID: fmt.Sprintf("%032x", rng.Uint64()), ClientKey: clients[rng.IntN(len(clients))], PatientID: fmt.Sprintf("%032x", i),
			// Some share a received time, so that the id orders them.
			ReceivedAt:  base.Add(time.Duration(rng.IntN(20)) * time.Minute).Add(time.Duration(i%3) * time.Microsecond),
			Submitter:   archive.Caller{System: "ats", Organisation: orgs[rng.IntN(len(orgs))], Person: "10000000001", PersonName: "Testi Ammattilainen", Purpose: "1"},
			Controllers: []string{orgs[0]}, Documents: []string{fmt.Sprintf("1.2.246.10.1111111.95.%d", i), fmt.Sprintf("1.2.246.10.1111111.95.%d.1", i)},
		}
		if i%2 == 0 {
			s.UniqueID, s.EntryUUID, s.SourceID = fmt.Sprintf("urn:oid:1.2.3.%d", i), fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i), "urn:oid:1.2.246.10.1111111.10.0"
			s.Title, s.Date = "Päätös ja suunnitelma", base.Add(-time.Hour)
			s.DesignationType = &archive.SetCode{System: "urn:oid:1.2.246.537.6.1506.201701", Code: "15007", Display: "Asiakassuunnitelma"}
		}
		all = append(all, s)
	}
	if err := update(t, st, func(tx archive.Tx) error {
		for _, s := range all {
			if err := tx.PutSubmissionSet(ctx, s); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	view(t, st, func(tx archive.Tx) error {
		for _, s := range all {
			got, err := tx.SubmissionSet(ctx, s.ID)
			if err != nil {
				t.Fatalf("set %s: %v", s.ID, err)
			}
			if !sameJSON(t, got, s) {
				t.Errorf("set %s came back as %+v, kept %+v", s.ID, got, s)
			}
			if s.UniqueID != "" {
				got, err := tx.SubmissionSetByUniqueID(ctx, s.ClientKey, s.Submitter.Organisation, s.UniqueID)
				if err != nil || got.ID != s.ID {
					t.Errorf("set by uniqueId %s: %v, %v", s.UniqueID, got, err)
				}
				other := orgs[0]
				if other == s.Submitter.Organisation {
					other = orgs[1]
				}
				if _, err := tx.SubmissionSetByUniqueID(ctx, s.ClientKey, other, s.UniqueID); !errors.Is(err, archive.ErrNotFound) {
					t.Errorf("another organisation's uniqueId %s found: %v", s.UniqueID, err)
				}
			}
		}
		if _, err := tx.SubmissionSet(ctx, fmt.Sprintf("%032x", 0)); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("an unknown id: %v, want ErrNotFound", err)
		}
		if _, err := tx.SubmissionSetByUniqueID(ctx, clients[0], orgs[0], ""); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("an empty uniqueId found a set: %v", err)
		}
		for _, c := range clients {
			var want []*archive.SubmissionSet
			for _, s := range all {
				if s.ClientKey == c {
					want = append(want, s)
				}
			}
			slices.SortFunc(want, func(a, b *archive.SubmissionSet) int {
				if d := b.ReceivedAt.Compare(a.ReceivedAt); d != 0 {
					return d
				}
				if a.ID > b.ID {
					return -1
				}
				return 1
			})
			got, err := tx.ClientSubmissionSets(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, got, want) {
				t.Errorf("seed %d: client %s: %d sets, want %d in order", seed, c, len(got), len(want))
			}
		}
		// A scan in pages of 7 sees every set once, in id order.
		var scanned []string
		for after := ""; ; {
			page, err := tx.ScanSubmissionSets(ctx, after, 7)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page {
				scanned = append(scanned, s.ID)
			}
			if len(page) < 7 {
				break
			}
			after = page[len(page)-1].ID
		}
		var ids []string
		for _, s := range all {
			ids = append(ids, s.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(scanned, ids) {
			t.Errorf("seed %d: the scan saw %d sets, want the %d kept, in id order", seed, len(scanned), len(ids))
		}
		return nil
	})
	// An id, and a client's uniqueId from one organisation, are kept once;
	// the refused transaction leaves nothing.
	dupID := *all[0]
	dupID.ClientKey, dupID.UniqueID = clients[(slices.Index(clients, all[0].ClientKey)+1)%len(clients)], ""
	var withUnique *archive.SubmissionSet
	for _, s := range all {
		if s.UniqueID != "" {
			withUnique = s
			break
		}
	}
	dupUnique := *withUnique
	dupUnique.ID = fmt.Sprintf("%032x", rng.Uint64())
	otherOrg := dupUnique
	otherOrg.ID = fmt.Sprintf("%032x", rng.Uint64())
	otherOrg.Submitter.Organisation = orgs[0]
	if withUnique.Submitter.Organisation == orgs[0] {
		otherOrg.Submitter.Organisation = orgs[1]
	}
	for name, s := range map[string]*archive.SubmissionSet{"the same id": &dupID, "the same uniqueId": &dupUnique} {
		fresh := &archive.SubmissionSet{ID: fmt.Sprintf("%032x", rng.Uint64()), ClientKey: clients[0], ReceivedAt: base, Submitter: all[0].Submitter, Documents: []string{"1.2.3"}}
		err := update(t, st, func(tx archive.Tx) error {
			if err := tx.PutSubmissionSet(ctx, fresh); err != nil {
				return err
			}
			return tx.PutSubmissionSet(ctx, s)
		})
		if !errors.Is(err, archive.ErrConflict) {
			t.Errorf("%s kept twice: %v, want ErrConflict", name, err)
		}
		view(t, st, func(tx archive.Tx) error {
			if _, err := tx.SubmissionSet(ctx, fresh.ID); !errors.Is(err, archive.ErrNotFound) {
				t.Errorf("%s: the refused transaction's other set was kept: %v", name, err)
			}
			return nil
		})
	}
	if err := update(t, st, func(tx archive.Tx) error { return tx.PutSubmissionSet(ctx, &otherOrg) }); err != nil {
		t.Errorf("another organisation's set with the same uniqueId: %v", err)
	}
	// A set that is not whole is refused before it reaches the database.
	if err := update(t, st, func(tx archive.Tx) error {
		return tx.PutSubmissionSet(ctx, &archive.SubmissionSet{ID: fmt.Sprintf("%032x", rng.Uint64()), ClientKey: clients[0], Submitter: all[0].Submitter})
	}); err == nil {
		t.Error("a set without documents was kept")
	}

	// Two stores on one archive keep one uniqueId at once: exactly one wins.
	if b.OpenTwo == nil {
		return
	}
	a, b2 := b.OpenTwo(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []archive.Store{a, b2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			set := &archive.SubmissionSet{ID: fmt.Sprintf("%032x", i+1), ClientKey: clients[0], UniqueID: "urn:oid:9.9.9", ReceivedAt: base,
				Submitter: all[0].Submitter, Documents: []string{"1.2.3"}}
			errs[i] = s.Update(ctx, func(tx archive.Tx) error { return tx.PutSubmissionSet(ctx, set) })
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, archive.ErrConflict):
			t.Errorf("a concurrent keep failed otherwise than by conflict: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of two concurrent keeps of one uniqueId succeeded, want exactly 1 (%v)", ok, errs)
	}
}
