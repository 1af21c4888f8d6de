package archivetest

import (
	"context"
	"errors"
	"testing"

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

	res, err := e.Service.Submit(ctx, Caller(org), [][]byte{rels[0].XML}, agree)
	if err != nil || len(res) != 1 || !res[0].Created || called != 1 {
		t.Fatalf("a good submission: %v %+v (agreement ran %d times)", err, res, called)
	}
}
