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
	"github.com/arkisto/arkisto/internal/problem"
)

// testGuardian: guardianships are of minors only, with field-named
// errors; a guardian acting for a child in the citizen view sees exactly
// the child's documents the citizen view shows that allow disclosure to
// guardians (1.2.246.537.6.1286.201901 code 1), reads only those, sees the
// child's will and logs, records the notice and a consent as the child's
// legal representative and never a prohibition; every use is logged as the
// guardian's for the child, and the child's "who used my data" has it;
// the guardianship is checked on every request, so its end ends the
// guardian's access at once.
func testGuardian(t *testing.T, e *Env) {
	ctx := context.Background()
	w := AccessWorld(t)
	adm := archive.NewAdmin(e.Store, quiet)
	if err := adm.Apply(ctx, w.Setup(true)); err != nil {
		t.Fatal(err)
	}
	O1 := w.Organisations[0]
	b := &builder{t: t, w: w, run: time.Now().UnixNano() % 1000000}
	now := time.Now()
	svc := e.Service
	put := func(h *cda.Header, raw []byte) *cda.Header {
		t.Helper()
		if _, err := svc.Archive(ctx, Caller(O1), raw); err != nil {
			t.Fatalf("archive %s: %v", h.ID, err)
		}
		return h
	}
	G := b.person(time.Date(1985, 3, 1, 0, 0, 0, 0, time.UTC))
	A := b.person(time.Date(1990, 3, 1, 0, 0, 0, 0, time.UTC))
	C := b.person(now.AddDate(-10, 0, 0))
	D := b.person(now.AddDate(-8, 0, 0))
	// withGuardianCode is a later-phase document of C with the guardian
	// disclosure code given.
	withGuardianCode := func(code string) *cda.Header {
		h, _ := b.doc(O1, C, codes.GroupLaterPhase, "24")
		h.GuardianDisclosure = cd(codes.GuardianDisclosure, code)
		body, err := gen.MinimalBody(h)
		if err != nil {
			t.Fatal(err)
		}
		return put(h, b.sign(O1, h, body))
	}
	rel := put(b.relationship(O1, C, O1.OID+".95778.1", now.Add(-60*day), time.Time{}, []gen.TaskSpec{{Code: "24"}}))
	allowed := withGuardianCode("1")
	forbids := withGuardianCode("2")
	despite := withGuardianCode("3")
	uncoded := withGuardianCode("")
	caseDoc := put(b.doc(O1, C, "2", "24"))
	ofD := put(b.doc(O1, D, codes.GroupLaterPhase, "24"))

	t.Run("guardianships are of minors, named by valid identity codes", func(t *testing.T) {
		for _, c := range []struct {
			name, guardian, child, code, path string
		}{
			{"invalid guardian", "010180-123X", C.ID.Extension, archive.RuleGuardianID, "guardian"},
			{"invalid child", G.ID.Extension, "150315A12", archive.RuleGuardianID, "child"},
			{"an adult child", G.ID.Extension, A.ID.Extension, archive.RuleGuardianChild, "child"},
			{"oneself", C.ID.Extension, C.ID.Extension, archive.RuleGuardianSelf, "child"},
		} {
			err := adm.AddGuardian(ctx, &archive.Guardianship{Guardian: c.guardian, Child: c.child})
			var ae *archive.Error
			if !errors.As(err, &ae) || !errors.Is(err, archive.ErrInvalid) || !slices.ContainsFunc(ae.Problems, func(p problem.Problem) bool { return p.Code == c.code && p.Path == c.path }) {
				t.Errorf("%s: %v, want %s at %s", c.name, err, c.code, c.path)
			}
		}
		if gs, err := adm.Guardianships(ctx, archive.GuardianshipQuery{}); err != nil || len(gs) != 0 {
			t.Errorf("refused guardianships changed the archive: %d, %v", len(gs), err)
		}
		if err := adm.AddGuardian(ctx, &archive.Guardianship{Guardian: G.ID.Extension, Child: C.ID.Extension, ChildName: "Testi Lapsi"}); err != nil {
			t.Fatal(err)
		}
		if err := adm.AddGuardian(ctx, &archive.Guardianship{Guardian: G.ID.Extension, Child: C.ID.Extension}); !errors.Is(err, archive.ErrConflict) {
			t.Errorf("the same guardianship again: %v, want conflict", err)
		}
	})

	self := archive.CitizenCaller(G.ID.Extension, "Testi Huoltaja")
	g := archive.GuardianCaller(G.ID.Extension, "Testi Huoltaja", C.ID.Extension)
	key := archive.CitizenKey(g)
	t.Run("the guardian's children", func(t *testing.T) {
		kids, err := svc.GuardianChildren(ctx, self)
		if err != nil || len(kids) != 1 || kids[0].Child != C.ID.Extension || kids[0].ChildName != "Testi Lapsi" {
			t.Fatalf("children %+v, %v; want C", kids, err)
		}
		if kids, err := svc.GuardianChildren(ctx, archive.CitizenCaller(A.ID.Extension, "")); err != nil || len(kids) != 0 {
			t.Errorf("a person with no children: %d, %v", len(kids), err)
		}
		if _, err := svc.GuardianChildren(ctx, g); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("asked while acting for a child: %v, want forbidden", err)
		}
	})
	want := []string{allowed.ID}
	if rel.GuardianDisclosure.Code == archive.GuardianDisclosureAllowed {
		want = append(want, rel.ID)
	}
	notShown := []string{forbids.ID, despite.ID, uncoded.ID, caseDoc.ID, ofD.ID}
	t.Run("sees the child's documents that allow disclosure to guardians, and no other", func(t *testing.T) {
		recs, err := svc.CitizenDocuments(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.Header.ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("listed %v, want %v", got, want)
		}
		for _, id := range want {
			if _, content, err := svc.Get(ctx, g, id); err != nil || len(content) == 0 {
				t.Errorf("%s: %v", id, err)
			}
		}
		for _, id := range notShown {
			if _, _, err := svc.Get(ctx, g, id); !errors.Is(err, archive.ErrNotFound) {
				t.Errorf("%s: err = %v, want not found", id, err)
			}
		}
		rels, err := svc.CitizenRelationships(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		if got, wantRel := len(rels) == 1, rel.GuardianDisclosure.Code == archive.GuardianDisclosureAllowed; got != wantRel {
			t.Errorf("the guardian sees %d relationships; the relationship document's guardian code is %q", len(rels), rel.GuardianDisclosure.Code)
		}
		// The child sees their own documents whatever the code.
		recs, err = svc.CitizenDocuments(ctx, archive.CitizenCaller(C.ID.Extension, ""))
		if err != nil || !slices.ContainsFunc(recs, func(r *archive.Record) bool { return r.Header.ID == forbids.ID }) {
			t.Errorf("the child's own listing lacks the document forbidden to guardians: %v", err)
		}
	})
	t.Run("the use is logged as the guardian's for the child", func(t *testing.T) {
		var read, refused bool
		for _, a := range e.AccessLog(key) {
			if a.Caller.Purpose != archive.PurposeGuardian {
				continue
			}
			if a.Caller.Person != G.ID.Extension || a.Caller.ActingFor != C.ID.Extension {
				t.Errorf("guardian entry %+v names another person", a.Caller)
			}
			read = read || (a.Action == archive.ActionRead && a.Outcome == archive.OutcomeAllowed && slices.Contains(a.Documents, allowed.ID))
			refused = refused || (a.Outcome == archive.OutcomeRefused && slices.Contains(a.Documents, forbids.ID))
		}
		if !read || !refused {
			t.Errorf("guardian's read logged %v, refused read logged %v", read, refused)
		}
	})
	t.Run("acts for their own children only", func(t *testing.T) {
		for _, c := range []archive.Caller{
			archive.GuardianCaller(G.ID.Extension, "", D.ID.Extension),
			archive.GuardianCaller(A.ID.Extension, "", C.ID.Extension),
			archive.GuardianCaller(G.ID.Extension, "", A.ID.Extension),
			archive.GuardianCaller(G.ID.Extension, "", ""),
			{System: archive.CitizenSystem, Person: G.ID.Extension, Purpose: archive.PurposeCitizen, ActingFor: C.ID.Extension},
		} {
			if _, err := svc.CitizenDocuments(ctx, c); !errors.Is(err, archive.ErrForbidden) {
				t.Errorf("%+v: err = %v, want forbidden", c, err)
			}
		}
		if _, err := svc.Search(ctx, g, archive.Query{ClientKey: key}); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("search: %v, want forbidden", err)
		}
		if _, err := svc.Wills(ctx, g, archive.CitizenKey(archive.CitizenCaller(D.ID.Extension, ""))); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("another child's will: %v, want forbidden", err)
		}
	})
	var consentID string
	t.Run("records the notice and consent as the legal representative, never a prohibition", func(t *testing.T) {
		n, err := svc.RecordWill(ctx, g, &consent.Expression{ClientKey: key, Kind: consent.KindNotice, Recorder: consent.Recorder{Role: consent.RoleClient, Person: C.ID.Extension}})
		if err != nil {
			t.Fatal(err)
		}
		if r := n.Recorder; r.Role != consent.RoleRepresentative || r.Person != G.ID.Extension {
			t.Errorf("recorder %+v, want the guardian as legal representative", r)
		}
		c, err := svc.RecordWill(ctx, g, &consent.Expression{ClientKey: key, Kind: consent.KindConsent, From: dayOf(now)})
		if err != nil {
			t.Fatal(err)
		}
		consentID = c.ID
		_, err = svc.RecordWill(ctx, g, &consent.Expression{ClientKey: key, Kind: consent.KindProhibition, Target: &consent.Target{Kind: consent.TargetServiceTask, Value: "24"}})
		var ae *archive.Error
		if !errors.As(err, &ae) || !ae.Problems.Has(consent.RuleGuardian) {
			t.Errorf("a guardian's prohibition: %v, want %s", err, consent.RuleGuardian)
		}
		hist, err := svc.Wills(ctx, g, key)
		if err != nil || len(hist) != 2 {
			t.Fatalf("history %d, %v; want the notice and the consent", len(hist), err)
		}
		if _, err := svc.WithdrawWill(ctx, g, consentID, consent.Recorder{}); err != nil {
			t.Errorf("withdrawing the consent given for the child: %v", err)
		}
	})
	t.Run("the child's who used my data shows the guardian's uses", func(t *testing.T) {
		uses, err := svc.CitizenAccessLog(ctx, archive.CitizenCaller(C.ID.Extension, ""), now.AddDate(-2, 0, 0), time.Time{}, 500)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(uses, func(a *archive.AccessEntry) bool {
			return a.Caller.Purpose == archive.PurposeGuardian && a.Caller.Person == G.ID.Extension && a.Action == archive.ActionRead
		}) {
			t.Error("the guardian's read is not in the child's who used my data")
		}
		if slices.ContainsFunc(uses, func(a *archive.AccessEntry) bool { return a.Caller.Purpose == archive.PurposeCitizen }) {
			t.Error("the child's own views are in who used my data")
		}
		if _, err := svc.CitizenAccessLog(ctx, g, now.AddDate(-2, 0, 0), time.Time{}, 500); err != nil {
			t.Errorf("the guardian reading the child's log: %v", err)
		}
	})
	t.Run("the end of the guardianship ends the access at once", func(t *testing.T) {
		ok, err := adm.RemoveGuardian(ctx, G.ID.Extension, C.ID.Extension)
		if err != nil || !ok {
			t.Fatalf("remove: %v, %v", ok, err)
		}
		if ok, err := adm.RemoveGuardian(ctx, G.ID.Extension, C.ID.Extension); err != nil || ok {
			t.Errorf("removing it again: %v, %v; want false", ok, err)
		}
		if _, err := svc.CitizenDocuments(ctx, g); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("after the end: %v, want forbidden", err)
		}
		if _, _, err := svc.Get(ctx, g, allowed.ID); err == nil {
			t.Error("after the end the guardian read the child's document")
		}
		if kids, err := svc.GuardianChildren(ctx, self); err != nil || len(kids) != 0 {
			t.Errorf("children after the end: %d, %v", len(kids), err)
		}
		gs, err := adm.Guardianships(ctx, archive.GuardianshipQuery{Child: C.ID.Extension})
		if err != nil || len(gs) != 1 || gs[0].Until.IsZero() {
			t.Errorf("the ended guardianship is not kept: %+v, %v", gs, err)
		}
	})
}
