package archivetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/gen"
)

// testSubmissionSets: a submission's set is kept with its documents, all
// or nothing; a caller sees a set only when it may see one of its
// documents, and then only those documents, as if the others did not
// exist; every read and search is logged, a refusal for the set's
// controller; the same submission sent again is the same set, and a
// uniqueId used again for other documents is a conflict.
func testSubmissionSets(t *testing.T, e *Env) {
	w := AccessWorld(t)
	ctx := context.Background()
	if err := archive.NewAdmin(e.Store, quiet).Apply(ctx, w.Setup(true)); err != nil {
		t.Fatal(err)
	}
	O1, O2, P := w.Organisations[0], w.Organisations[1], w.Organisations[3]
	b := &builder{t: t, w: w, run: time.Now().UnixNano() % 1000000}
	now := time.Now()
	svc := e.Service

	// C: O1's client; the relationship names P for task 24 only.
	C := b.client()
	rel, relRaw := b.relationship(O1, C, O1.OID+".95777.1", now.Add(-60*day), time.Time{}, []gen.TaskSpec{
		{Code: "24", Providers: []gen.ProviderSpec{{Unit: P.Units[1], Start: now.Add(-10 * day)}}},
	})
	d24, d24Raw := b.plan(O1, O1, O1, C, "24")
	d99, d99Raw := b.plan(O1, O1, O1, C, "99")
	meta := archive.SubmissionSetMeta{UniqueID: "urn:oid:1.2.246.10.1.99.1", EntryUUID: "urn:uuid:7a1c3f2e-1b2c-4d3e-8f40-123456789abc",
		SourceID: "urn:oid:" + O1.OID, Title: "Asiakkuus ja suunnitelmat", Date: now.Add(-time.Minute).Truncate(time.Second),
		DesignationType: &archive.SetCode{System: "urn:oid:1.2.246.537.6.1506.201701", Code: "15007"}}
	docs := [][]byte{relRaw, d24Raw, d99Raw}
	all := []string{rel.ID, d24.ID, d99.ID}

	// Refused metadata keeps nothing.
	bad := meta
	bad.Title = "rivi\nrivi"
	if _, _, err := svc.Provide(ctx, Caller(O1), docs, nil, bad); !errors.Is(err, archive.ErrInvalid) || !hasProblem(err, archive.RuleSubmissionSet) {
		t.Fatalf("a title with a line break: %v, want ErrInvalid %s", err, archive.RuleSubmissionSet)
	}
	if _, _, err := svc.Get(ctx, Caller(O1), rel.ID); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("a submission refused for its set's metadata archived its documents: %v", err)
	}

	res, sets, err := svc.Provide(ctx, Caller(O1), docs, nil, meta)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || len(sets) != 1 || !sets[0].Created {
		t.Fatalf("provide: %d archived, sets %+v", len(res), sets)
	}
	set := sets[0].Set
	if !slices.Equal(set.Documents, all) || !slices.Equal(set.Controllers, []string{O1.ControllerOID()}) || set.ClientKey != archive.ClientKey(C.ID) ||
		set.UniqueID != meta.UniqueID || set.EntryUUID != meta.EntryUUID || set.SourceID != meta.SourceID || !set.Date.Equal(meta.Date) ||
		set.Submitter.Person != Caller(O1).Person || set.PatientID == "" || len(set.ID) != 32 {
		t.Fatalf("the kept set %+v", set)
	}

	// The same submission again is the same set; its uniqueId for other
	// documents is a conflict, and archives nothing.
	_, again, err := svc.Provide(ctx, Caller(O1), docs, nil, meta)
	if err != nil || len(again) != 1 || again[0].Created || again[0].Set.ID != set.ID {
		t.Fatalf("the same submission again: %+v, %v", again, err)
	}
	dMore, dMoreRaw := b.plan(O1, O1, O1, C, "24")
	if _, _, err := svc.Provide(ctx, Caller(O1), [][]byte{d24Raw, dMoreRaw}, nil, meta); !errors.Is(err, archive.ErrConflict) {
		t.Fatalf("the uniqueId again for other documents: %v, want ErrConflict", err)
	}
	if _, _, err := svc.Get(ctx, Caller(O1), dMore.ID); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("a submission refused for its set archived its documents: %v", err)
	}

	// Who sees what: O1 all, P what its grant covers, O2 nothing.
	read := func(o *gen.Organisation, id string) ([]string, error) {
		s, err := svc.SubmissionSetRead(ctx, Caller(o), id)
		if err != nil {
			return nil, err
		}
		return s.Documents, nil
	}
	if got, err := read(O1, set.ID); err != nil || !slices.Equal(got, all) {
		t.Errorf("O1 reads its set: %v, %v; want %v", got, err, all)
	}
	if got, err := read(P, set.ID); err != nil || !slices.Equal(got, []string{rel.ID, d24.ID}) {
		t.Errorf("P reads the set: %v, %v; want the relationship and the task 24 plan only", got, err)
	}
	missing := strings.Repeat("0", 32)
	_, errO2 := read(O2, set.ID)
	_, errNone := read(O2, missing)
	if !errors.Is(errO2, archive.ErrNotFound) || strings.ReplaceAll(errO2.Error(), set.ID, "ID") != strings.ReplaceAll(errNone.Error(), missing, "ID") {
		t.Errorf("O2 reads another's set: %v; a set that does not exist: %v", errO2, errNone)
	}
	find := func(o *gen.Organisation, q archive.SubmissionSetQuery) *archive.SubmissionSetPage {
		t.Helper()
		q.ClientKey = archive.ClientKey(C.ID)
		p, err := svc.FindSubmissionSets(ctx, Caller(o), q)
		if err != nil {
			t.Fatalf("find as %s: %v", o.Name, err)
		}
		return p
	}
	if p := find(P, archive.SubmissionSetQuery{}); p.Total != 1 || len(p.Sets) != 1 || !slices.Equal(p.Sets[0].Documents, []string{rel.ID, d24.ID}) {
		t.Errorf("P finds %d sets %+v, want the one with its documents only", p.Total, p.Sets)
	}
	if p := find(O2, archive.SubmissionSetQuery{}); p.Total != 0 || len(p.Sets) != 0 {
		t.Errorf("O2 finds %d sets of another's client", p.Total)
	}
	// P's search by its own patient id finds the same.
	if p, err := svc.FindSubmissionSets(ctx, Caller(P), archive.SubmissionSetQuery{PatientID: set.PatientID}); err != nil || p.Total != 1 {
		t.Errorf("P finds by Patient id: %+v, %v", p, err)
	}
	for _, tc := range []struct {
		name string
		q    archive.SubmissionSetQuery
		want int
	}{
		{"uniqueId", archive.SubmissionSetQuery{Identifiers: []string{meta.UniqueID}}, 1},
		{"entryUUID", archive.SubmissionSetQuery{Identifiers: []string{meta.EntryUUID}}, 1},
		{"another identifier", archive.SubmissionSetQuery{Identifiers: []string{"urn:oid:1.2.3"}}, 0},
		{"sourceId", archive.SubmissionSetQuery{SourceIDs: []string{meta.SourceID}}, 1},
		{"another sourceId", archive.SubmissionSetQuery{SourceIDs: []string{"urn:oid:1.2.3"}}, 0},
		{"designation type", archive.SubmissionSetQuery{DesignationTypes: []string{"urn:oid:1.2.246.537.6.1506.201701|15007"}}, 1},
		{"designation code", archive.SubmissionSetQuery{DesignationTypes: []string{"15007"}}, 1},
		{"another designation", archive.SubmissionSetQuery{DesignationTypes: []string{"15001"}}, 0},
		{"author", archive.SubmissionSetQuery{AuthorFamily: []string{"käytt"}}, 1},
		{"another author", archive.SubmissionSetQuery{AuthorGiven: []string{"Matti"}}, 0},
		{"date from", archive.SubmissionSetQuery{From: meta.Date}, 1},
		{"date to", archive.SubmissionSetQuery{To: meta.Date}, 0},
		{"none", archive.SubmissionSetQuery{None: true}, 0},
		{"count", archive.SubmissionSetQuery{CountOnly: true}, 1},
	} {
		if p := find(O1, tc.q); p.Total != tc.want || (!tc.q.CountOnly && len(p.Sets) != tc.want) || (tc.q.CountOnly && len(p.Sets) != 0) {
			t.Errorf("%s: total %d, %d sets; want %d", tc.name, p.Total, len(p.Sets), tc.want)
		}
	}

	// The log: P's read shows what P saw, O2's refused read is O1's.
	var pRead, o2Refused bool
	for _, en := range e.AccessLog(archive.ClientKey(C.ID)) {
		if en.Details != "submission set "+set.ID || en.Action != archive.ActionRead {
			continue
		}
		switch {
		case en.Caller.Organisation == P.ControllerOID() && en.Outcome == archive.OutcomeAllowed:
			pRead = true
			if slices.Contains(en.Documents, d99.ID) {
				t.Errorf("P's read is logged with a document it did not see: %v", en.Documents)
			}
		case en.Caller.Organisation == O2.ControllerOID() && en.Outcome == archive.OutcomeRefused:
			o2Refused = en.Custodian == O1.ControllerOID()
		}
	}
	if !pRead || !o2Refused {
		t.Errorf("access log: P's read logged %v, O2's refusal logged for O1 %v", pRead, o2Refused)
	}

	// Pages join up to the whole answer, newest first.
	var ids []string
	for range 3 {
		_, raw := b.plan(O1, O1, O1, C, "24")
		e.Later(time.Millisecond)
		_, s, err := svc.Provide(ctx, Caller(O1), [][]byte{raw}, nil, archive.SubmissionSetMeta{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]string{s[0].Set.ID}, ids...)
	}
	ids = append(ids, set.ID)
	var paged []string
	q := archive.SubmissionSetQuery{Limit: 3}
	for pages := 0; ; pages++ {
		p := find(O1, q)
		if p.Total != 4 || pages > 2 {
			t.Fatalf("page %d: total %d", pages, p.Total)
		}
		for _, s := range p.Sets {
			paged = append(paged, s.ID)
		}
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	if !slices.Equal(paged, ids) {
		t.Errorf("pages %v, want %v", paged, ids)
	}
	if _, err := svc.FindSubmissionSets(ctx, Caller(O1), archive.SubmissionSetQuery{ClientKey: archive.ClientKey(C.ID), After: "x"}); !hasProblem(err, "QUERY_CURSOR") {
		t.Errorf("a bad cursor: %v", err)
	}

	// Disclosure: O2 serves X too, and X consents; with the purpose
	// disclosure O2 sees O1's set with the documents that may be disclosed
	// alone (the client relationship document and the later-phase plan,
	// not the group 2 case document), and they are in the disclosure log;
	// for its own use it sees nothing of the set.
	X := b.person(time.Date(1980, 5, 1, 0, 0, 0, 0, time.UTC))
	xRel, xRelRaw := b.relationship(O1, X, O1.OID+".95777.2", now.Add(-60*day), time.Time{}, []gen.TaskSpec{{Code: "24"}})
	x24, x24Raw := b.plan(O1, O1, O1, X, "24")
	xCase, xCaseRaw := b.doc(O1, X, "2", "24")
	_, o2Rel := b.relationship(O2, X, O2.OID+".95777.3", now.Add(-10*day), time.Time{}, []gen.TaskSpec{{Code: "24"}})
	if _, err := svc.Archive(ctx, Caller(O2), o2Rel); err != nil {
		t.Fatal(err)
	}
	for _, k := range []consent.Kind{consent.KindNotice, consent.KindConsent} {
		if _, err := svc.RecordWill(ctx, Caller(O2), WillSpec{ClientKey: archive.ClientKey(X.ID), Kind: k}.Expression()); err != nil {
			t.Fatal(err)
		}
	}
	_, xs, err := svc.Provide(ctx, Caller(O1), [][]byte{xRelRaw, x24Raw, xCaseRaw}, nil, archive.SubmissionSetMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := svc.SubmissionSetRead(ctx, DisclosureCaller(O2, Disclosure), xs[0].Set.ID); err != nil || !slices.Equal(got.Documents, []string{xRel.ID, x24.ID}) {
		t.Errorf("O2 reads O1's set with the purpose disclosure: %+v, %v; want %s and %s", got, err, xRel.ID, x24.ID)
	}
	if _, err := svc.SubmissionSetRead(ctx, Caller(O2), xs[0].Set.ID); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("O2 reads O1's set for its own use: %v, want ErrNotFound", err)
	}
	if p, err := svc.FindSubmissionSets(ctx, DisclosureCaller(O2, Disclosure), archive.SubmissionSetQuery{ClientKey: archive.ClientKey(X.ID)}); err != nil || p.Total != 1 ||
		!slices.Equal(p.Sets[0].Documents, []string{xRel.ID, x24.ID}) {
		t.Errorf("O2 finds X's sets with the purpose disclosure: %+v, %v", p, err)
	}
	ds, err := svc.Disclosures(ctx, Caller(O2), archive.DisclosureQuery{ClientKey: archive.ClientKey(X.ID), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	logged := 0
	for _, d := range ds {
		for _, doc := range d.Documents {
			switch doc.ID {
			case x24.ID, xRel.ID:
				if d.GroundKind == archive.GroundConsent && d.Discloser == O1.ControllerOID() && d.Recipient == O2.ControllerOID() {
					logged++
				}
			case xCase.ID:
				t.Errorf("the case document was disclosed: %+v", d)
			}
		}
	}
	if logged != 4 {
		t.Errorf("the disclosure log names the set's documents %d times, want 4 (two documents, by the read and the search)", logged)
	}

	// A submission about two clients is one set per client.
	C2 := b.client()
	_, c2Raw := b.plan(O1, O1, O1, C2, "24")
	_, c1Raw := b.plan(O1, O1, O1, C, "24")
	_, two, err := svc.Provide(ctx, Caller(O1), [][]byte{c1Raw, c2Raw}, nil, archive.SubmissionSetMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if len(two) != 2 || two[0].Set.ClientKey != archive.ClientKey(C.ID) || two[1].Set.ClientKey != archive.ClientKey(C2.ID) ||
		len(two[0].Set.Documents) != 1 || len(two[1].Set.Documents) != 1 || two[0].Set.ID == two[1].Set.ID {
		t.Errorf("a submission about two clients: %+v", two)
	}
}

// hasProblem reports whether err is an *archive.Error with the rule code.
func hasProblem(err error, code string) bool {
	var ae *archive.Error
	return errors.As(err, &ae) && ae.Problems.Has(code)
}
