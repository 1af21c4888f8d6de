package archivetest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
)

// testRefusedSubmissionLoggedOnce: a refused submission of many documents
// is one access-log entry per client it concerns, listing its documents,
// not one entry per document; one refused unread is one entry.
func testRefusedSubmissionLoggedOnce(t *testing.T, e *Env) {
	ctx := context.Background()
	org := e.World.Organisations[0]
	c := Caller(org)
	var chs []*archive.Checked
	byClient := map[string][]string{}
	for len(chs) < 24 {
		d := e.Next()
		if d.Org != org {
			continue
		}
		ch, err := e.Service.Check(ctx, d.XML)
		if err != nil {
			t.Fatal(err)
		}
		chs = append(chs, ch)
		key := archive.ClientKey(d.Header.Client.ID)
		byClient[key] = append(byClient[key], d.Header.ID)
	}
	// The last document is invalid: the whole submission is refused.
	last := chs[len(chs)-1]
	bad, err := e.Service.Check(ctx, bytes.Replace(last.Raw, []byte(`<realmCode code="FI"/>`), []byte(`<realmCode code="SE"/>`), 1))
	if err != nil {
		t.Fatal(err)
	}
	chs[len(chs)-1] = bad
	if _, err := e.Service.ArchiveAll(ctx, c, chs); !errors.Is(err, archive.ErrInvalid) {
		t.Fatalf("submission with an invalid document: %v", err)
	}
	total := 0
	for key, ids := range byClient {
		var refused []*archive.AccessEntry
		for _, l := range e.Log(key) {
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
	if err := e.Service.Reject(ctx, c, nil, refusal); !errors.Is(err, archive.ErrInvalid) {
		t.Fatalf("Reject: %v", err)
	}
	if log := e.Log(""); len(log) != 1 || log[0].Outcome != archive.OutcomeRefused || len(log[0].Documents) != 0 || log[0].Caller.System != c.System {
		t.Errorf("a submission refused unread: %d entries %+v, want one refused entry of the caller", len(log), log)
	}
}

// errorLog records the messages of ERROR records.
type errorLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *errorLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		l.mu.Lock()
		l.msgs = append(l.msgs, r.Message)
		l.mu.Unlock()
	}
	return nil
}
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

func (l *errorLog) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

// testClientGoneIsNoError: a request whose client has gone away (its
// context canceled) fails without an ERROR in the operator log: it is no
// fault of the archive's.
func testClientGoneIsNoError(t *testing.T, e *Env) {
	logs := &errorLog{}
	svc := archive.NewService(e.Store, archive.Rules{}, archive.Config{}, slog.New(logs))
	org := e.World.Organisations[0]
	c := Caller(org)
	d := e.Next()
	for d.Org != org {
		d = e.Next()
	}
	ch, err := svc.Check(context.Background(), d.XML) // also loads the trust anchors
	if err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := svc.ArchiveAll(gone, c, []*archive.Checked{ch}); err == nil {
		t.Fatal("archived with a canceled context")
	}
	if _, _, err := svc.Get(gone, c, d.Header.ID); err == nil {
		t.Fatal("read with a canceled context")
	}
	if errs := logs.errors(); len(errs) > 0 {
		t.Errorf("a client that went away is logged as ERROR: %q", errs)
	}
	// The service still works for clients that stay.
	if _, err := svc.ArchiveAll(context.Background(), c, []*archive.Checked{ch}); err != nil {
		t.Fatal(err)
	}
}
