package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/hetu"
)

// sameJSON reports whether two values encode alike: what the archive
// stores of them is their JSON.
func sameJSON(t *testing.T, got, want any) bool {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	return string(g) == string(w)
}

func willOf(id, client string, kind consent.Kind, at time.Time) *consent.Expression {
	e := &consent.Expression{ID: id, ClientKey: client, Kind: kind, RecordedAt: at,
		Recorder: consent.Recorder{Role: consent.RoleProfessional, Person: "10000000001", Name: "Testi Ammattilainen",
			Unit: "1.2.246.10.12345678.10.1", System: "ats", Organisation: "1.2.246.10.12345678", OnStatementOf: consent.RoleClient}}
	switch kind {
	case consent.KindConsent:
		e.From = at.Truncate(24 * time.Hour)
		e.Until = e.From.AddDate(1, 0, 0)
	case consent.KindProhibition:
		e.Target = &consent.Target{Kind: consent.TargetServiceTask, Value: "03"}
	}
	return e
}

func update(t *testing.T, st archive.Store, fn func(tx archive.Tx) error) error {
	t.Helper()
	return st.Update(context.Background(), fn)
}

func view(t *testing.T, st archive.Store, fn func(tx archive.Tx) error) {
	t.Helper()
	if err := st.View(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// TestWills checks a backend's archive.Wills and ScanWills: a client's
// history comes back whole and in order (recorded time, then id); an id is
// recorded once; a withdrawal never overwrites an earlier one, and of
// concurrent withdrawals through two stores on one archive exactly one
// stands. Each backend runs it from its own tests.
func TestWills(t *testing.T, b Backend) {
	ctx := context.Background()
	st, other := b.OpenTwo(t)
	alice, bob := hetu.OIDRoot+"|010180-9026", hetu.OIDRoot+"|020290-903X"
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	// Put out of order, with two recorded at the same time.
	wills := []*consent.Expression{
		willOf("w-3", alice, consent.KindProhibition, day.Add(2*time.Hour)),
		willOf("w-1", alice, consent.KindNotice, day),
		willOf("w-2b", alice, consent.KindConsent, day.Add(time.Hour+123*time.Microsecond)),
		willOf("w-2a", alice, consent.KindConsent, day.Add(time.Hour+123*time.Microsecond)),
		willOf("w-0", bob, consent.KindNotice, day.Add(-time.Hour)),
	}
	for _, e := range wills {
		if err := update(t, st, func(tx archive.Tx) error { return tx.PutWill(ctx, e) }); err != nil {
			t.Fatalf("put %s: %v", e.ID, err)
		}
	}
	wantOrder := func(client string, want ...string) {
		t.Helper()
		view(t, st, func(tx archive.Tx) error {
			got, err := tx.Wills(ctx, client)
			if err != nil {
				return err
			}
			var ids []string
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(want) {
				t.Errorf("history of %s: %v, want %v", client, ids, want)
			}
			return nil
		})
	}
	wantOrder(alice, "w-1", "w-2a", "w-2b", "w-3")
	wantOrder(bob, "w-0")
	wantOrder("nobody|x")

	t.Run("an id is recorded once", func(t *testing.T) {
		for _, e := range []*consent.Expression{willOf("w-1", alice, consent.KindNotice, day), willOf("w-1", bob, consent.KindConsent, day)} {
			err := update(t, st, func(tx archive.Tx) error { return tx.PutWill(ctx, e) })
			if !errors.Is(err, archive.ErrConflict) {
				t.Errorf("a second w-1 (client %s): %v, want ErrConflict", e.ClientKey, err)
			}
		}
		withdrawn := willOf("w-x", alice, consent.KindConsent, day)
		withdrawn.Withdrawn = &consent.Withdrawal{At: day}
		if err := update(t, st, func(tx archive.Tx) error { return tx.PutWill(ctx, withdrawn) }); err == nil {
			t.Error("a new expression that is withdrawn already was stored")
		}
		view(t, st, func(tx archive.Tx) error {
			got, err := tx.Will(ctx, "w-1")
			if err != nil {
				return err
			}
			if !sameJSON(t, got, wills[1]) {
				t.Errorf("w-1 reads %+v, want %+v", got, wills[1])
			}
			if _, err := tx.Will(ctx, "w-x"); !errors.Is(err, archive.ErrNotFound) {
				t.Errorf("the refused w-x: %v, want ErrNotFound", err)
			}
			return nil
		})
	})

	t.Run("the first withdrawal stands", func(t *testing.T) {
		first := consent.Withdrawal{At: day.Add(5 * time.Hour), By: consent.Recorder{Role: consent.RoleClient, Person: "010180-9026"}}
		second := consent.Withdrawal{At: day.Add(6 * time.Hour), By: consent.Recorder{Role: consent.RoleClient, Person: "010180-9026", Name: "later"}}
		for i, w := range []consent.Withdrawal{first, second} {
			var ok bool
			err := update(t, st, func(tx archive.Tx) (err error) {
				ok, err = tx.WithdrawWill(ctx, "w-3", w)
				return err
			})
			if err != nil || ok != (i == 0) {
				t.Errorf("withdrawal %d: %v %v, want %v", i+1, ok, err, i == 0)
			}
		}
		err := update(t, st, func(tx archive.Tx) error {
			_, err := tx.WithdrawWill(ctx, "no-such-will", first)
			return err
		})
		if !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("withdrawing an unknown id: %v, want ErrNotFound", err)
		}
		want := *wills[0]
		want.Withdrawn = &first
		view(t, st, func(tx archive.Tx) error {
			got, err := tx.Will(ctx, "w-3")
			if err != nil {
				return err
			}
			if !sameJSON(t, got, &want) {
				t.Errorf("w-3 reads %+v withdrawn %+v, want withdrawn %+v", got, got.Withdrawn, want.Withdrawn)
			}
			hist, err := tx.Wills(ctx, alice)
			if err != nil {
				return err
			}
			if len(hist) != 4 || !sameJSON(t, hist[3], &want) || hist[0].Withdrawn != nil {
				t.Errorf("the history does not show w-3's first withdrawal alone: %+v", hist)
			}
			return nil
		})
	})

	t.Run("of concurrent withdrawals exactly one stands", func(t *testing.T) {
		for round := range 3 {
			id := fmt.Sprintf("w-race-%d", round)
			if err := update(t, st, func(tx archive.Tx) error {
				return tx.PutWill(ctx, willOf(id, bob, consent.KindConsent, day.Add(time.Duration(round)*time.Minute)))
			}); err != nil {
				t.Fatal(err)
			}
			const n = 8
			var wg sync.WaitGroup
			oks := make([]bool, n)
			errs := make([]error, n)
			for i := range n {
				s := st
				if i%2 == 1 {
					s = other
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					w := consent.Withdrawal{At: day.Add(time.Hour), By: consent.Recorder{Role: consent.RoleClient, Person: "020290-903X", Name: fmt.Sprint(i)}}
					errs[i] = s.Update(ctx, func(tx archive.Tx) (err error) {
						oks[i], err = tx.WithdrawWill(ctx, id, w)
						return err
					})
				}()
			}
			wg.Wait()
			winner := -1
			for i := range n {
				if errs[i] != nil {
					t.Errorf("withdrawal %d: %v", i, errs[i])
				}
				if oks[i] {
					if winner >= 0 {
						t.Errorf("withdrawals %d and %d both stood", winner, i)
					}
					winner = i
				}
			}
			if winner < 0 {
				t.Fatal("no withdrawal stood")
			}
			view(t, st, func(tx archive.Tx) error {
				got, err := tx.Will(ctx, id)
				if err != nil {
					return err
				}
				if got.Withdrawn == nil || got.Withdrawn.By.Name != fmt.Sprint(winner) {
					t.Errorf("%s is withdrawn by %+v, the one that stood was %d", id, got.Withdrawn, winner)
				}
				return nil
			})
		}
	})

	t.Run("scan", func(t *testing.T) {
		var all []*consent.Expression
		view(t, st, func(tx archive.Tx) error {
			after := ""
			for {
				page, err := tx.ScanWills(ctx, after, 2)
				if err != nil {
					return err
				}
				all = append(all, page...)
				if len(page) < 2 {
					return nil
				}
				after = page[len(page)-1].ID
			}
		})
		var ids []string
		withdrawn := 0
		for _, e := range all {
			ids = append(ids, e.ID)
			if e.Withdrawn != nil {
				withdrawn++
			}
		}
		if want := "[w-0 w-1 w-2a w-2b w-3 w-race-0 w-race-1 w-race-2]"; fmt.Sprint(ids) != want {
			t.Errorf("scan: %v, want %s", ids, want)
		}
		if withdrawn != 4 {
			t.Errorf("scan shows %d withdrawals, want 4", withdrawn)
		}
	})
}
