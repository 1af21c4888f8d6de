package archivetest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/gen"
)

// swappedStore serves a record whose content hash points at another
// document's bytes, as a damaged row or a bad restore would.
type swappedStore struct {
	archive.Store
	id, sha string // the record with id gets the content hash sha
}

func (s swappedStore) View(ctx context.Context, fn func(archive.Tx) error) error {
	return s.Store.View(ctx, func(tx archive.Tx) error { return fn(swappedTx{tx, s.id, s.sha}) })
}

func (s swappedStore) Update(ctx context.Context, fn func(archive.Tx) error) error {
	return s.Store.Update(ctx, func(tx archive.Tx) error { return fn(swappedTx{tx, s.id, s.sha}) })
}

type swappedTx struct {
	archive.Tx
	id, sha string
}

func (t swappedTx) Document(ctx context.Context, id string) (*archive.Record, error) {
	r, err := t.Tx.Document(ctx, id)
	if err == nil && id == t.id {
		r.SHA256 = t.sha
	}
	return r, err
}

// testContentIsTheRecordsDocument: a record whose content hash points at
// another document's bytes (of the same client, so that the bytes are
// there and their hash matches) is an error on read, never the other
// document's bytes.
func testContentIsTheRecordsDocument(t *testing.T, e *Env) {
	ctx := context.Background()
	type archived struct {
		r   *archive.Record
		org *gen.Organisation
	}
	byClient := map[string]archived{}
	var a, b *archive.Record
	var org *gen.Organisation
	for a == nil {
		d := e.Next()
		r := e.Archive(d)
		if other, ok := byClient[r.ClientKey()]; ok && other.org == d.Org {
			a, b, org = other.r, r, d.Org
		}
		byClient[r.ClientKey()] = archived{r, d.Org}
	}
	svc := archive.NewService(swappedStore{e.Store, a.Header.ID, b.SHA256}, archive.Rules{}, archive.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	caller := Caller(org)
	_, content, err := svc.Get(ctx, caller, a.Header.ID)
	if err == nil {
		t.Fatalf("document %s was served with the bytes of %s (%d bytes)", a.Header.ID, b.Header.ID, len(content))
	}
	if !errors.Is(err, blob.ErrCorrupt) {
		t.Errorf("want a corrupt-content error, got %v", err)
	}
	// The undamaged document still reads.
	if _, _, err := svc.Get(ctx, caller, b.Header.ID); err != nil {
		t.Errorf("the other document: %v", err)
	}
}
