package archivetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/gen"
)

// testDisclosureProperty: for random clients, documents, relationships,
// consents and prohibitions, every way out — search pages and their
// totals, fetch, version history — returns exactly the documents the
// access decision (Policy.Read) allows each caller with each purpose:
// never one it refuses, and every one it allows.
func testDisclosureProperty(t *testing.T, e *Env) {
	w := AccessWorld(t)
	ctx := context.Background()
	if err := archive.NewAdmin(e.Store, quiet).Apply(ctx, w.Setup(true)); err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	d := ServiceDriver{e.Service}
	O1, O2, O3, P := w.Organisations[0], w.Organisations[1], w.Organisations[2], w.Organisations[3]
	orgs := []*gen.Organisation{O1, O2, O3}
	b := &builder{t: t, w: w, run: int64(seed % 1000000)}
	now := time.Now()
	ok := func(o Outcome, what string) {
		t.Helper()
		if o.Kind != nil {
			t.Fatalf("setting up: %s: %v %s", what, o.Kind, o.Code)
		}
	}
	var clients []string
	for range 10 {
		c := b.person(time.Date(1950+rng.IntN(60), time.Month(1+rng.IntN(12)), 1, 0, 0, 0, 0, time.UTC))
		key := archive.ClientKey(c.ID)
		clients = append(clients, key)
		// Relationships: active, ended or none, with each organiser; O1's
		// names P for task 24.
		related := map[*gen.Organisation]bool{}
		for i, o := range orgs {
			var tasks []gen.TaskSpec
			if o == O1 {
				tasks = []gen.TaskSpec{{Code: "24", Providers: []gen.ProviderSpec{{Unit: P.Units[1]}}}}
			} else {
				tasks = []gen.TaskSpec{{Code: "24"}}
			}
			switch r := rng.IntN(10); {
			case r < 6:
				_, raw := b.relationship(o, c, o.OID+".95999."+strconv.Itoa(i), now.Add(-30*day), time.Time{}, tasks)
				ok(d.Archive(t, o, raw), "relationship")
				related[o] = true
			case r < 8:
				_, raw := b.relationship(o, c, o.OID+".95999."+strconv.Itoa(i), now.Add(-90*day), now.Add(-3*day), tasks)
				ok(d.Archive(t, o, raw), "ended relationship")
			}
		}
		// Documents of every group, task and status.
		var sets []string
		for range 6 {
			o := orgs[rng.IntN(len(orgs))]
			group := []string{"2", "3", "4", "5", "5"}[rng.IntN(5)]
			task := []string{"21", "24"}[rng.IntN(2)]
			h, raw := b.doc(o, c, group, task)
			ok(d.Archive(t, o, raw), "document")
			sets = append(sets, h.SetID)
			switch rng.IntN(4) {
			case 0:
				_, raw2 := b.replacePlan(h, o, o, h.ID)
				ok(d.Archive(t, o, raw2), "correction")
			case 1:
				ok(d.Nullify(t, o, h.ID), "nullify")
			}
		}
		// A random will history, recorded by a related controller.
		var recorder *gen.Organisation
		for _, o := range orgs {
			if related[o] {
				recorder = o
			}
		}
		if recorder == nil {
			continue
		}
		var withdrawable []string
		record := func(ws WillSpec) {
			if o := d.RecordWill(t, recorder, ws); o.Kind == nil && ws.Kind != consent.KindNotice {
				withdrawable = append(withdrawable, o.Docs[0])
			}
		}
		if rng.IntN(8) > 0 {
			record(WillSpec{ClientKey: key, Kind: consent.KindNotice})
		}
		if rng.IntN(5) > 0 {
			ws := WillSpec{ClientKey: key, Kind: consent.KindConsent}
			if rng.IntN(4) == 0 {
				ws.From, ws.Until = now.AddDate(0, 0, -20), now.AddDate(0, 0, -2)
			}
			record(ws)
		}
		for range rng.IntN(4) {
			tg := &consent.Target{Kind: consent.TargetServiceTask, Value: []string{"21", "24"}[rng.IntN(2)]}
			switch rng.IntN(3) {
			case 1:
				tg = &consent.Target{Kind: consent.TargetDocument, Value: sets[rng.IntN(len(sets))]}
			case 2:
				tg = &consent.Target{Kind: consent.TargetController, Value: orgs[rng.IntN(len(orgs))].ControllerOID()}
			}
			record(WillSpec{ClientKey: key, Kind: consent.KindProhibition, Target: tg})
		}
		for range rng.IntN(3) {
			if len(withdrawable) > 0 {
				i := rng.IntN(len(withdrawable))
				d.WithdrawWill(t, recorder, withdrawable[i], "")
				withdrawable = slices.Delete(withdrawable, i, i+1)
			}
		}
	}

	purposes := []Purpose{OwnUse, Disclosure, BroadSearch("service-provision", "Palvelun järjestäminen")}
	rules := archive.Rules{}
	for _, key := range clients {
		var recs []*archive.Record
		err := e.Store.View(ctx, func(tx archive.Tx) error {
			all, err := tx.ScanDocuments(ctx, "", 100000)
			for _, r := range all {
				if r.ClientKey() == key {
					recs = append(recs, r)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []*gen.Organisation{O1, O2, O3, P} {
			for _, p := range purposes {
				c := DisclosureCaller(o, p)
				// The one decision, per record.
				allowed := map[string]bool{}
				err := e.Store.View(ctx, func(tx archive.Tx) error {
					for _, r := range recs {
						if rules.Read(ctx, tx, c, r).Allowed {
							allowed[r.Header.ID] = true
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				checkWaysOut(t, e, c, key, recs, allowed)
			}
		}
	}
}

// checkWaysOut compares search pages, totals, fetches and histories with
// the decision.
func checkWaysOut(t *testing.T, e *Env, c archive.Caller, key string, recs []*archive.Record, allowed map[string]bool) {
	t.Helper()
	ctx := context.Background()
	who := c.Organisation + " " + c.Purpose
	// Search, two at a time, every status.
	q := archive.Query{ClientKey: key, Limit: 2, Statuses: []archive.Status{archive.StatusCurrent, archive.StatusSuperseded, archive.StatusNullified}}
	found := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > len(recs)+1 {
			t.Fatalf("%s: paging does not end", who)
		}
		page, err := e.Service.Search(ctx, c, q)
		if err != nil {
			t.Fatalf("%s: search: %v", who, err)
		}
		if page.Total != len(allowed) {
			t.Errorf("%s: total %d, the decision allows %d", who, page.Total, len(allowed))
		}
		for _, r := range page.Records {
			if !allowed[r.Header.ID] {
				t.Errorf("%s: the search returned %s, which the decision refuses", who, r.Header.ID)
			}
			found[r.Header.ID] = true
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	for id := range allowed {
		if !found[id] {
			t.Errorf("%s: the search missed %s, which the decision allows", who, id)
		}
	}
	// Fetch and history.
	bySet := map[string][]string{}
	for _, r := range recs {
		_, _, err := e.Service.Get(ctx, c, r.Header.ID)
		switch {
		case allowed[r.Header.ID] && err != nil:
			t.Errorf("%s: fetch of %s refused (%v), the decision allows it", who, r.Header.ID, err)
		case !allowed[r.Header.ID] && !errors.Is(err, archive.ErrNotFound) && !errors.Is(err, archive.ErrForbidden):
			t.Errorf("%s: fetch of %s answered %v, the decision refuses it", who, r.Header.ID, err)
		}
		if allowed[r.Header.ID] {
			bySet[r.Header.SetID] = append(bySet[r.Header.SetID], r.Header.ID)
		}
	}
	for _, r := range recs {
		hist, err := e.Service.History(ctx, c, r.Header.SetID)
		want := bySet[r.Header.SetID]
		var got []string
		for _, h := range hist {
			got = append(got, h.Header.ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if len(want) == 0 {
			if err == nil {
				t.Errorf("%s: history of set %s returned %v, the decision refuses all", who, r.Header.SetID, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: history of set %s is %v (%v), the decision allows %v", who, r.Header.SetID, got, err, want)
		}
	}
}
