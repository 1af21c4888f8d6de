package archivetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/gen"
)

// testCitizen: a client in the citizen view sees exactly their own
// current documents of the shown groups, not first-phase, old, case,
// nullified, superseded or hidden ones, nor another client's; reads only
// those; sees others' uses and the disclosures of their data but not
// their own views; records their own will expressions as the client and
// nobody else's; searches, archives and reports nothing.
func testCitizen(t *testing.T, e *Env) {
	ctx := context.Background()
	w := AccessWorld(t)
	if err := archive.NewAdmin(e.Store, quiet).Apply(ctx, w.Setup(true)); err != nil {
		t.Fatal(err)
	}
	O1, O2 := w.Organisations[0], w.Organisations[1]
	b := &builder{t: t, w: w, run: time.Now().UnixNano() % 1000000}
	now := time.Now()
	svc := e.Service
	putAs := func(o *gen.Organisation) func(h *cda.Header, raw []byte) *cda.Header {
		return func(h *cda.Header, raw []byte) *cda.Header {
			t.Helper()
			if _, err := svc.Archive(ctx, Caller(o), raw); err != nil {
				t.Fatalf("archive %s: %v", h.ID, err)
			}
			return h
		}
	}
	put1, put2 := putAs(O1), putAs(O2)
	X := b.person(time.Date(1980, 5, 1, 0, 0, 0, 0, time.UTC))
	Y := b.person(time.Date(1981, 6, 1, 0, 0, 0, 0, time.UTC))
	rel1 := put1(b.relationship(O1, X, O1.OID+".95777.1", now.Add(-60*day), time.Time{}, []gen.TaskSpec{{Code: "24"}}))
	rel2 := put2(b.relationship(O2, X, O2.OID+".95777.2", now.Add(-10*day), time.Time{}, []gen.TaskSpec{{Code: "24"}}))
	plan := put1(b.doc(O1, X, codes.GroupLaterPhase, "24"))
	caseDoc := put1(b.doc(O1, X, "2", "24"))
	first := put1(b.doc(O1, X, "3", "24"))
	old := put1(b.doc(O1, X, "4", "24"))
	nulled := put1(b.doc(O1, X, codes.GroupLaterPhase, "24"))
	if _, err := svc.Nullify(ctx, Caller(O1), nulled.ID, "test", "nullified for the citizen test"); err != nil {
		t.Fatal(err)
	}
	v1 := put1(b.doc(O1, X, codes.GroupLaterPhase, "24"))
	v2h, v2raw := b.replacePlan(v1, O1, O1, v1.ID)
	v2 := put1(v2h, v2raw)
	hh, _ := b.doc(O1, X, codes.GroupLaterPhase, "24")
	hh.HideReason, hh.HideReasonText = cd(codes.HideReason, "1"), "Viivästys"
	body, err := gen.MinimalBody(hh)
	if err != nil {
		t.Fatal(err)
	}
	hidden := put1(hh, b.sign(O1, hh, body))
	// Delayed until a day to come: hidden until then, shown from then on.
	release := now.Add(3 * day).Truncate(time.Second)
	dh, _ := b.doc(O1, X, codes.GroupLaterPhase, "24")
	dh.HideReason, dh.HideReasonText, dh.CitizenRelease = cd(codes.HideReason, "1"), "Viivästys", &release
	body, err = gen.MinimalBody(dh)
	if err != nil {
		t.Fatal(err)
	}
	delayed := put1(dh, b.sign(O1, dh, body))
	// A plan whose structured form names a social service.
	sh, _ := b.doc(O1, X, codes.GroupLaterPhase, "24")
	body, err = gen.MinimalBody(sh)
	if err != nil {
		t.Fatal(err)
	}
	body.Structured = []byte(`{"palvelut": [{"sosiaalipalvelu": {"system": "urn:oid:` + codes.OIDSocialService + `", "code": "999"}}]}`)
	withService := put1(sh, b.sign(O1, sh, body))
	theirs := put1(b.doc(O1, Y, codes.GroupLaterPhase, "24"))
	other := put2(b.doc(O2, X, codes.GroupLaterPhase, "24"))

	x := archive.CitizenCaller(X.ID.Extension, "Testi Asiakas")
	want := []string{rel1.ID, rel2.ID, plan.ID, v2.ID, withService.ID, other.ID}
	notShown := []string{caseDoc.ID, first.ID, old.ID, nulled.ID, v1.ID, hidden.ID, delayed.ID, theirs.ID}

	t.Run("lists exactly the shown documents, newest first", func(t *testing.T) {
		recs, err := svc.CitizenDocuments(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i, r := range recs {
			got = append(got, r.Header.ID)
			if i > 0 && r.Header.EffectiveTime.After(recs[i-1].Header.EffectiveTime) {
				t.Errorf("%s is newer than the one before it", r.Header.ID)
			}
		}
		g, wnt := slices.Clone(got), slices.Clone(want)
		slices.Sort(g)
		slices.Sort(wnt)
		if !slices.Equal(g, wnt) {
			t.Errorf("listed %v, want %v", got, want)
		}
	})
	t.Run("reads the shown documents, and no other", func(t *testing.T) {
		for _, id := range want {
			if _, content, err := svc.Get(ctx, x, id); err != nil || len(content) == 0 {
				t.Errorf("%s: err %v", id, err)
			}
		}
		for _, id := range notShown {
			if _, _, err := svc.Get(ctx, x, id); !errors.Is(err, archive.ErrNotFound) {
				t.Errorf("%s: err = %v, want not found", id, err)
			}
		}
	})
	t.Run("the operator's hidden categories are not shown", func(t *testing.T) {
		for _, hidden := range []archive.CitizenHidden{{ServiceTasks: []string{"24"}}, {DocumentTypes: []string{plan.GeneralType.Code}}} {
			hiding := archive.NewService(e.Store, archive.Rules{CitizenHidden: hidden}, archive.Config{}, quiet)
			recs, err := hiding.CitizenDocuments(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if hidden.Hides(r) {
					t.Errorf("%+v: %s (task %s, type %s) is listed", hidden, r.Header.ID, r.Header.ServiceTask.Code, r.Header.GeneralType.Code)
				}
			}
			if !slices.ContainsFunc(recs, func(r *archive.Record) bool { return r.Header.ID == rel1.ID }) {
				t.Errorf("%+v: the client relationship document is hidden too", hidden)
			}
			if _, _, err := hiding.Get(ctx, x, plan.ID); !errors.Is(err, archive.ErrNotFound) {
				t.Errorf("%+v: reading the plan: err = %v, want not found", hidden, err)
			}
		}
	})
	t.Run("a document naming a hidden social service is not shown", func(t *testing.T) {
		hiding := archive.NewService(e.Store, archive.Rules{CitizenHidden: archive.CitizenHidden{SocialServices: []string{"999"}}}, archive.Config{}, quiet)
		recs, err := hiding.CitizenDocuments(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(recs, func(r *archive.Record) bool { return r.Header.ID == withService.ID }) {
			t.Error("the document naming social service 999 is listed")
		}
		if !slices.ContainsFunc(recs, func(r *archive.Record) bool { return r.Header.ID == plan.ID }) {
			t.Error("a plan naming no social service is hidden too")
		}
		if _, _, err := hiding.Get(ctx, x, withService.ID); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("reading it: err = %v, want not found", err)
		}
	})
	t.Run("a delayed document is shown once the delay has ended", func(t *testing.T) {
		for _, tc := range []struct {
			at    time.Time
			shown bool
		}{{release.Add(-time.Second), false}, {release, true}, {release.Add(time.Hour), true}} {
			at := tc.at
			later := archive.NewService(e.Store, archive.Rules{Now: func() time.Time { return at }}, archive.Config{Now: func() time.Time { return at }}, quiet)
			recs, err := later.CitizenDocuments(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			listed := slices.ContainsFunc(recs, func(r *archive.Record) bool { return r.Header.ID == delayed.ID })
			_, _, err = later.Get(ctx, x, delayed.ID)
			if listed != tc.shown || (err == nil) != tc.shown {
				t.Errorf("at %v (delay ends %v): listed %v, read err %v; want shown %v", at, release, listed, err, tc.shown)
			}
			if slices.ContainsFunc(recs, func(r *archive.Record) bool { return r.Header.ID == hidden.ID }) {
				t.Errorf("at %v: the document hidden without an end is listed", at)
			}
		}
	})
	t.Run("the listing is in each listed controller's own log", func(t *testing.T) {
		recs, err := svc.CitizenDocuments(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		byController := map[string][]string{}
		for _, r := range recs {
			byController[r.ControllerOID()] = append(byController[r.ControllerOID()], r.Header.ID)
		}
		if len(byController) != 2 {
			t.Fatalf("listed documents of %d controllers, want 2", len(byController))
		}
		for _, o := range []*gen.Organisation{O1, O2} {
			log, err := svc.AccessLog(ctx, Caller(o), archive.CitizenKey(x), 100, 0)
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, a := range log {
				if a.Caller.Purpose != archive.PurposeCitizen || a.Action != archive.ActionSearch {
					continue
				}
				if a.Custodian != o.ControllerOID() {
					t.Errorf("%s's log has a listing for %s", o.ControllerOID(), a.Custodian)
				}
				got, want := slices.Sorted(slices.Values(a.Documents)), slices.Sorted(slices.Values(byController[o.ControllerOID()]))
				if slices.Equal(got, want) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s's own log has no listing naming exactly its documents %v", o.ControllerOID(), byController[o.ControllerOID()])
			}
		}
		if _, err := svc.CitizenRelationships(ctx, x); err != nil {
			t.Fatal(err)
		}
		for o, rel := range map[*gen.Organisation]string{O1: rel1.ID, O2: rel2.ID} {
			log, err := svc.AccessLog(ctx, Caller(o), archive.CitizenKey(x), 100, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(log, func(a *archive.AccessEntry) bool {
				return a.Caller.Purpose == archive.PurposeCitizen && a.Action == archive.ActionRead && a.Custodian == o.ControllerOID() && slices.Equal(a.Documents, []string{rel})
			}) {
				t.Errorf("%s's own log has no entry of the client seeing its relationship document %s", o.ControllerOID(), rel)
			}
		}
	})
	t.Run("sees their own client relationships", func(t *testing.T) {
		rels, err := svc.CitizenRelationships(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rels {
			got = append(got, r.Organiser)
		}
		slices.Sort(got)
		want := []string{O1.ControllerOID(), O2.ControllerOID()}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("relationships with %v, want %v", got, want)
		}
		if rels, err := svc.CitizenRelationships(ctx, archive.CitizenCaller(Y.ID.Extension, "")); err != nil || len(rels) != 0 {
			t.Errorf("Y, without relationships: %d, %v", len(rels), err)
		}
	})
	t.Run("searches, archives, nullifies and reports nothing", func(t *testing.T) {
		if _, err := svc.Search(ctx, x, archive.Query{ClientKey: archive.CitizenKey(x)}); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("search: err = %v, want forbidden", err)
		}
		_, raw := b.doc(O1, X, codes.GroupLaterPhase, "24")
		if _, err := svc.Archive(ctx, x, raw); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("archive: err = %v, want forbidden", err)
		}
		if _, err := svc.Nullify(ctx, x, plan.ID, "test", "by the client"); err == nil {
			t.Error("the client nullified a document")
		}
		if _, err := svc.Disclosures(ctx, x, archive.DisclosureQuery{}); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("the whole disclosure log: err = %v, want forbidden", err)
		}
		if _, err := svc.AccessLog(ctx, x, archive.CitizenKey(x), 10, 0); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("a controller's access log: err = %v, want forbidden", err)
		}
	})
	t.Run("a caller that is no valid client is refused", func(t *testing.T) {
		for _, c := range []archive.Caller{
			archive.CitizenCaller("010180-123X", ""),
			{System: archive.CitizenSystem, Organisation: O1.ControllerOID(), Person: X.ID.Extension, Purpose: archive.PurposeCitizen},
			{System: O1.SystemName, Person: X.ID.Extension, Purpose: archive.PurposeCitizen},
		} {
			if _, err := svc.CitizenDocuments(ctx, c); !errors.Is(err, archive.ErrForbidden) {
				t.Errorf("%+v: err = %v, want forbidden", c, err)
			}
		}
	})

	y := archive.CitizenCaller(Y.ID.Extension, "Toinen Asiakas")
	var notice *consent.Expression
	t.Run("records their own will as the client, not another's", func(t *testing.T) {
		var err error
		notice, err = svc.RecordWill(ctx, x, &consent.Expression{ClientKey: archive.CitizenKey(x), Kind: consent.KindNotice,
			Recorder: consent.Recorder{Role: consent.RoleProfessional, Person: "123"}})
		if err != nil {
			t.Fatal(err)
		}
		if r := notice.Recorder; r.Role != consent.RoleClient || r.Person != X.ID.Extension {
			t.Errorf("recorder %+v, want the client", r)
		}
		c, err := svc.RecordWill(ctx, x, &consent.Expression{ClientKey: archive.CitizenKey(x), Kind: consent.KindConsent, From: dayOf(now)})
		if err != nil {
			t.Fatal(err)
		}
		p, err := svc.RecordWill(ctx, x, &consent.Expression{ClientKey: archive.CitizenKey(x), Kind: consent.KindProhibition,
			Target: &consent.Target{Kind: consent.TargetController, Value: O2.ControllerOID()}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.WithdrawWill(ctx, x, p.ID, consent.Recorder{}); err != nil {
			t.Fatal(err)
		}
		hist, err := svc.Wills(ctx, x, archive.CitizenKey(x))
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 3 || hist[1].ID != c.ID || hist[2].Withdrawn == nil || hist[2].Withdrawn.By.Role != consent.RoleClient {
			t.Errorf("history %+v", hist)
		}
		if _, err := svc.RecordWill(ctx, y, &consent.Expression{ClientKey: archive.CitizenKey(x), Kind: consent.KindNotice}); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("another client recording X's will: err = %v, want forbidden", err)
		}
		if _, err := svc.Wills(ctx, y, archive.CitizenKey(x)); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("another client reading X's will: err = %v, want forbidden", err)
		}
		if _, err := svc.WithdrawWill(ctx, y, c.ID, consent.Recorder{}); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("another client withdrawing X's consent: err = %v, want not found", err)
		}
	})
	t.Run("sees others' uses and disclosures, not their own views", func(t *testing.T) {
		// O2 reads O1's plan with X's consent: a use and a disclosure.
		if _, _, err := svc.Get(ctx, DisclosureCaller(O2, Purpose{Code: archive.PurposeDisclosure}), plan.ID); err != nil {
			t.Fatalf("disclosure to O2: %v", err)
		}
		log, err := svc.CitizenAccessLog(ctx, x, now.AddDate(-2, 0, 0), time.Time{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		var sawO2 bool
		for _, a := range log {
			if a.Caller.Purpose == archive.PurposeCitizen || a.ClientKey != archive.CitizenKey(x) || a.Outcome != archive.OutcomeAllowed {
				t.Errorf("entry %+v in who used my data", a)
			}
			sawO2 = sawO2 || (a.Caller.Organisation == O2.ControllerOID() && a.Action == archive.ActionRead && slices.Contains(a.Documents, plan.ID))
		}
		if !sawO2 {
			t.Error("O2's read of the plan is not in who used my data")
		}
		if !slices.ContainsFunc(e.AccessLog(archive.CitizenKey(x)), func(a *archive.AccessEntry) bool {
			return a.Caller.Purpose == archive.PurposeCitizen && a.Action == archive.ActionSearch && a.Caller.Person == X.ID.Extension
		}) {
			t.Error("the client's own listing is not in the access log")
		}
		ds, err := svc.CitizenDisclosures(ctx, x, now.AddDate(-2, 0, 0), time.Time{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].Recipient != O2.ControllerOID() || ds[0].Documents[0].ID != plan.ID {
			t.Errorf("disclosures %+v, want O2's read of the plan", ds)
		}
		if ds, err := svc.CitizenDisclosures(ctx, y, time.Time{}, time.Time{}, 100); err != nil || len(ds) != 0 {
			t.Errorf("Y's disclosures: %d, %v; want none", len(ds), err)
		}
	})
}
