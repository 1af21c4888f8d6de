package archivetest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
)

// testRefusedSubmissionLoggedOnce: a refused submission of many documents
// is one access-log entry per client it concerns, listing its documents,
// not one entry per document; one refused unread is one entry.
func testRefusedSubmissionLoggedOnce(t *testing.T, e *Env) {
	ctx := context.Background()
	org := e.World.Organisations[0]
	c := Caller(org)
	var chs [][]byte
	byClient := map[string][]string{}
	for len(chs) < 24 {
		d := e.Next()
		if d.Org != org {
			continue
		}
		chs = append(chs, d.XML)
		key := archive.ClientKey(d.Header.Client.ID)
		byClient[key] = append(byClient[key], d.Header.ID)
	}
	// The last document is invalid: the whole submission is refused.
	chs[len(chs)-1] = bytes.Replace(chs[len(chs)-1], []byte(`<realmCode code="FI"/>`), []byte(`<realmCode code="SE"/>`), 1)
	if _, err := e.Service.Submit(ctx, c, chs, nil); !errors.Is(err, archive.ErrInvalid) {
		t.Fatalf("submission with an invalid document: %v", err)
	}
	total := 0
	for key, ids := range byClient {
		var refused []*archive.AccessEntry
		for _, l := range e.AccessLog(key) {
			if l.Action == archive.ActionArchive && l.Outcome == archive.OutcomeRefused {
				refused = append(refused, l)
			}
		}
		total += len(refused)
		if len(refused) != 1 {
			t.Errorf("a client with %d documents in the submission: %d refused entries, want 1", len(ids), len(refused))
			continue
		}
		if got := refused[0].Documents; !slices.Equal(got, ids) {
			t.Errorf("the refused entry lists %v, want the client's documents of the submission %v", got, ids)
		}
		if refused[0].Custodian != org.ControllerOID() || refused[0].Reason == "" {
			t.Errorf("refused entry custodian %q reason %q", refused[0].Custodian, refused[0].Reason)
		}
	}
	if total != len(byClient) || total >= len(chs) {
		t.Errorf("%d entries for a refused submission of %d documents about %d clients", total, len(chs), len(byClient))
	}

	// A submission a door refuses unread is one entry, with no documents.
	refusal := &archive.Error{Kind: archive.ErrInvalid, Message: "too many documents"}
	if err := e.Service.RefuseUnread(ctx, c, refusal); !errors.Is(err, archive.ErrInvalid) {
		t.Fatalf("RefuseUnread: %v", err)
	}
	if log := e.AccessLog(""); len(log) != 1 || log[0].Outcome != archive.OutcomeRefused || len(log[0].Documents) != 0 || log[0].Caller.System != c.System {
		t.Errorf("a submission refused unread: %d entries %+v, want one refused entry of the caller", len(log), log)
	}
}

// testTemporaryClientID: a document whose client has a temporary
// identifier is archived only under the root of the submitting
// organisation (or the custodian); another's is refused with
// CLIENT_TEMP_ID_ORG, logged, and nothing is stored.
func testTemporaryClientID(t *testing.T, e *Env) {
	ctx := context.Background()
	org := e.World.Organisations[0]
	other := otherOrg(e, org)
	c := Caller(org)
	d := e.Next()
	for d.Org != org || d.Header.Replaces != nil || d.Header.DocumentGroup.Code == codes.GroupClientRelationship {
		d = e.Next()
	}
	render := func(suffix, root string) (*cda.Header, []byte) {
		h := *d.Header
		h.ID, h.SetID = d.Header.ID+suffix, d.Header.ID+suffix
		h.Client.ID = cda.ID{Root: root, Extension: "TEMP-" + suffix[1:]}
		return &h, e.Render(&h)
	}
	fh, foreign := render(".71", other.OID+".22.2026")
	_, err := e.Service.Archive(ctx, c, foreign)
	var ae *archive.Error
	if !errors.As(err, &ae) || !errors.Is(err, archive.ErrInvalid) || !ae.Problems.Has(archive.RuleTempIDOrganisation) {
		t.Fatalf("a document under another organisation's temporary id root: %v", err)
	}
	if _, _, err := e.Service.Get(ctx, c, fh.ID); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("the refused document was stored: %v", err)
	}
	logged := false
	for _, l := range e.AccessLog(archive.ClientKey(fh.Client.ID)) {
		logged = logged || (l.Action == archive.ActionArchive && l.Outcome == archive.OutcomeRefused && slices.Contains(l.Documents, fh.ID))
	}
	if !logged {
		t.Error("the refusal is not in the access log")
	}
	oh, own := render(".72", org.OID+".22.2026")
	if _, err := e.Service.Archive(ctx, c, own); err != nil {
		t.Fatalf("a document under the organisation's own temporary id root: %v", err)
	}
	if _, _, err := e.Service.Get(ctx, c, oh.ID); err != nil {
		t.Fatalf("the archived document: %v", err)
	}
}

// testClientGoneIsNoError: a request whose client has gone away (its
// context canceled) fails without an ERROR in the operator log: it is no
// fault of the archive's.
func testClientGoneIsNoError(t *testing.T, e *Env) {
	logs := &OperatorLog{}
	svc := archive.NewService(e.Store, archive.Rules{}, archive.Config{}, slog.New(logs))
	org := e.World.Organisations[0]
	c := Caller(org)
	d := e.Next()
	for d.Org != org {
		d = e.Next()
	}
	if _, err := svc.Inspect(context.Background(), d.XML); err != nil { // loads the trust anchors
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := svc.Submit(gone, c, [][]byte{d.XML}, nil); err == nil {
		t.Fatal("archived with a canceled context")
	}
	if _, _, err := svc.Get(gone, c, d.Header.ID); err == nil {
		t.Fatal("read with a canceled context")
	}
	if errs := logs.Errors(); len(errs) > 0 {
		t.Errorf("a client that went away is logged as ERROR: %q", errs)
	}
	// The service still works for clients that stay.
	if _, err := svc.Submit(context.Background(), c, [][]byte{d.XML}, nil); err != nil {
		t.Fatal(err)
	}
}
