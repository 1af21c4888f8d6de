package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/hetu"
)

// TestGuardianships checks a backend's archive.Guardians: a guardianship
// comes back as stored; one pair has at most one in force; ending keeps
// the row with its end, and a new one of the pair may start after it;
// queries select by guardian, by child, by both and by neither, in order
// (guardian, child, start).
func TestGuardianships(t *testing.T, b Backend) {
	st := b.Open(t)
	code := func(y, m, d, n int, sign byte) string {
		c, err := hetu.Make(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), n, sign)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	g1, g2, c1, c2 := code(1980, 1, 1, 900, '-'), code(1980, 2, 2, 902, '-'), code(2015, 3, 15, 904, 'A'), code(2018, 6, 20, 906, 'A')
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 123000, time.UTC)
	put := func(g, c, name string, at time.Time) (*archive.Guardianship, error) {
		x := &archive.Guardianship{Guardian: g, Child: c, ChildName: name, From: at}
		return x, update(t, st, func(tx archive.Tx) error { return tx.PutGuardianship(t.Context(), x) })
	}
	first, err := put(g1, c1, "Lapsi Yksi", t0)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == 0 {
		t.Error("PutGuardianship set no id")
	}
	if _, err := put(g1, c1, "", t0.Add(time.Hour)); !errors.Is(err, archive.ErrConflict) {
		t.Errorf("a second guardianship of the pair in force: %v, want ErrConflict", err)
	}
	for _, p := range []struct{ g, c string }{{g1, c2}, {g2, c1}} {
		if _, err := put(p.g, p.c, "", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	var ended bool
	end := t0.Add(24 * time.Hour)
	if err := update(t, st, func(tx archive.Tx) (err error) {
		ended, err = tx.EndGuardianship(t.Context(), g1, c1, end)
		return err
	}); err != nil || !ended {
		t.Fatalf("EndGuardianship: %v, %v", ended, err)
	}
	if err := update(t, st, func(tx archive.Tx) (err error) {
		ended, err = tx.EndGuardianship(t.Context(), g1, c1, end.Add(time.Hour))
		return err
	}); err != nil || ended {
		t.Errorf("ending an ended guardianship: %v, %v; want false", ended, err)
	}
	again := end.Add(48 * time.Hour)
	if _, err := put(g1, c1, "Lapsi Yksi", again); err != nil {
		t.Fatalf("a new guardianship after the end: %v", err)
	}
	get := func(q archive.GuardianshipQuery) []*archive.Guardianship {
		var out []*archive.Guardianship
		view(t, st, func(tx archive.Tx) (err error) {
			out, err = tx.Guardianships(t.Context(), q)
			return err
		})
		return out
	}
	pair := get(archive.GuardianshipQuery{Guardian: g1, Child: c1})
	if len(pair) != 2 {
		t.Fatalf("the pair's history: %d guardianships, want 2", len(pair))
	}
	want := archive.Guardianship{ID: first.ID, Guardian: g1, Child: c1, ChildName: "Lapsi Yksi", From: t0, Until: end}
	if !sameJSON(t, pair[0], want) {
		t.Errorf("the ended guardianship:\n got %+v\nwant %+v", *pair[0], want)
	}
	if !pair[1].From.Equal(again) || !pair[1].Until.IsZero() || pair[0].InForce(again) || !pair[1].InForce(again) {
		t.Errorf("the new guardianship: %+v", *pair[1])
	}
	key := func(gs []*archive.Guardianship) (out []string) {
		for _, g := range gs {
			out = append(out, g.Guardian+">"+g.Child)
		}
		return out
	}
	for _, c := range []struct {
		q    archive.GuardianshipQuery
		want []string
	}{
		{archive.GuardianshipQuery{Guardian: g1}, []string{g1 + ">" + c1, g1 + ">" + c1, g1 + ">" + c2}},
		{archive.GuardianshipQuery{Child: c1}, []string{g1 + ">" + c1, g1 + ">" + c1, g2 + ">" + c1}},
		{archive.GuardianshipQuery{Guardian: g2, Child: c2}, nil},
		{archive.GuardianshipQuery{}, []string{g1 + ">" + c1, g1 + ">" + c1, g1 + ">" + c2, g2 + ">" + c1}},
	} {
		if got := key(get(c.q)); !sameJSON(t, got, c.want) {
			t.Errorf("Guardianships(%+v) = %v, want %v", c.q, got, c.want)
		}
	}
}
