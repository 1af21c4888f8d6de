package archivetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/relationship"
)

// doorError is a door's own refusal, returned by its Agreement.
type doorError struct{ field string }

func (e *doorError) Error() string { return e.field + " disagrees with the document" }

// testInspectIsSubmit: what Inspect finds wrong is what Submit refuses,
// with the same problems (a client relationship document whose signed
// structured form names another relationship than its header); a door's
// agreement runs only on documents that passed inspection, its refusal
// comes back with the door's own error in it and is logged once; a
// submission that passes everything is archived.
func testInspectIsSubmit(t *testing.T, e *Env) {
	ctx := context.Background()
	rels := []*gen.Doc{e.Next(), e.Next()}
	org := rels[0].Org
	bad := e.Resign(rels[0], SystemSigner(org), func(h *cda.Header) { h.ClientRelationshipID += "9" })

	chs, err := e.Service.Inspect(ctx, rels[0].XML, bad)
	if err != nil {
		t.Fatal(err)
	}
	if len(chs[0].Problem) > 0 || !chs[1].Problem.Has(relationship.RuleID) {
		t.Fatalf("Inspect: good %v, bad %v", chs[0].Problem, chs[1].Problem)
	}
	called := 0
	agree := func(int, *archive.Checked) error { called++; return nil }
	_, err = e.Service.Submit(ctx, Caller(org), [][]byte{rels[0].XML, bad}, agree)
	var ae *archive.Error
	if !errors.As(err, &ae) || !ae.Inspection || ae.Index != 1 || !ae.Problems.Has(relationship.RuleID) {
		t.Fatalf("Submit of what Inspect refuses: %v", err)
	}
	if called != 0 {
		t.Errorf("the door's agreement ran %d times on a submission inspection refused", called)
	}

	// The door's agreement refuses: its own error comes back, the refusal
	// is logged once for the client, and nothing is stored.
	refuse := func(i int, ch *archive.Checked) error {
		if ch.Doc.Header.ID != rels[0].Header.ID {
			t.Errorf("agreement %d got document %s", i, ch.Doc.Header.ID)
		}
		return &doorError{field: "masterIdentifier"}
	}
	key := archive.ClientKey(rels[0].Header.Client.ID)
	before := len(e.AccessLog(key))
	_, err = e.Service.Submit(ctx, Caller(org), [][]byte{rels[0].XML}, refuse)
	var de *doorError
	if !errors.As(err, &de) || !errors.Is(err, archive.ErrInvalid) || !errors.As(err, &ae) || ae.Index != 0 {
		t.Fatalf("Submit refused by the door's agreement: %v", err)
	}
	log := e.AccessLog(key)
	if len(log) != before+1 || log[len(log)-1].Outcome != archive.OutcomeRefused {
		t.Errorf("a refusal by the door's agreement: %d new entries, want one refused", len(log)-before)
	}
	if _, _, err := e.Service.Get(ctx, Caller(org), rels[0].Header.ID); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("a document the door refused was stored: %v", err)
	}

	// What the door's agreement keeps as the source sent it is stored with
	// the version and read back as it was, on every backend.
	at := time.Date(2026, 3, 1, 8, 0, 0, 123000, time.FixedZone("", 2*3600))
	src := &archive.SourceMetadata{Date: &at,
		Identifiers:    []archive.SourceIdentifier{{Use: "official", System: "urn:ietf:rfc:3986", Value: "urn:uuid:6f1c2a8e-3b9d-4c55-8a7e-2d4f6b8c0e13"}},
		SecurityLabels: []archive.SourceConcept{{Coding: []archive.SourceCoding{{System: "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", Code: "R"}}, Text: "rajattu"}},
		Format:         &archive.SourceCoding{System: "urn:ihe:iti:xds:2017:mimeTypeSufficient", Code: "urn:ihe:iti:xds:2017:mimeTypeSufficient"},
		Hash:           "2jmj7l5rSw0yVb/vlWAYkK/YBwk="}
	keep := func(i int, ch *archive.Checked) error { called++; ch.Source = src; return nil }
	res, err := e.Service.Submit(ctx, Caller(org), [][]byte{rels[0].XML}, keep)
	if err != nil || len(res) != 1 || !res[0].Created || called != 1 {
		t.Fatalf("a good submission: %v %+v (agreement ran %d times)", err, res, called)
	}
	rec, _, err := e.Service.Get(ctx, Caller(org), rels[0].Header.ID)
	if err != nil || rec.Source == nil || rec.Source.Format == nil || rec.Source.Date == nil {
		t.Fatalf("the archived version's source metadata: %v %+v", err, rec)
	}
	if got, want := fmt.Sprintf("%+v %+v %+v %+v %s", rec.Source.Identifiers, rec.Source.SecurityLabels, *rec.Source.Format, rec.Source.Hash, rec.Source.Date.Format(time.RFC3339Nano)),
		fmt.Sprintf("%+v %+v %+v %+v %s", src.Identifiers, src.SecurityLabels, *src.Format, src.Hash, at.Format(time.RFC3339Nano)); got != want {
		t.Errorf("source metadata read back\n%s\nwant\n%s", got, want)
	}
}
