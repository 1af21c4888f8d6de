package fhirapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/store/postgres"
	"github.com/arkisto/arkisto/internal/store/sqlite"
)

// pointAt damages a stored record behind the archive's back: document id's
// record (and its row) get another document's content hash.
func pointAt(t *testing.T, st archive.Store, id, sha string) {
	t.Helper()
	ctx := context.Background()
	switch s := st.(type) {
	case *sqlite.Store:
		db, err := sql.Open("sqlite", sqlite.FileURI(s.Path()))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, `UPDATE documents SET record_json = json_set(record_json, '$.sha256', ?), content_sha256 = ? WHERE doc_id = ?`, sha, sha, id); err != nil {
			t.Fatal(err)
		}
	case *postgres.Store:
		if _, err := s.Pool().Exec(ctx, `UPDATE documents SET record = jsonb_set(record::jsonb, '{sha256}', to_jsonb($1::text))::json, content_sha256 = $1 WHERE doc_id = $2`, sha, id); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("cannot damage a %T", st)
	}
}

// TestRecordPointingAtOtherBytes: a stored record whose content hash points
// at another document's bytes (of the same client, so that the bytes are
// there and match the hash) is not served: the fetch fails instead of
// answering 200 with the other document.
func TestRecordPointingAtOtherBytes(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		e := newEnvWith(t, envOptions{gen: gen.Options{Clients: 1}})
		org := e.world.Organisations[0]
		c := e.as(org)
		a, b := e.nextOf(org), e.nextOf(org)
		c.archive(a, b)
		var recB *archive.Record
		if err := e.store.View(context.Background(), func(tx archive.Tx) error {
			var err error
			recB, err = tx.Document(context.Background(), b.Header.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if r := c.get("/fhir/Binary/" + a.Header.ID); r.Status != http.StatusOK || !bytes.Equal(r.Body, a.XML) {
			t.Fatalf("before the damage: %v", r)
		}
		pointAt(t, e.store, a.Header.ID, recB.SHA256)
		r := c.get("/fhir/Binary/" + a.Header.ID)
		if r.Status == http.StatusOK || bytes.Contains(r.Body, []byte(b.Header.ID)) {
			t.Fatalf("document %s was answered with %v", a.Header.ID, r)
		}
		if r.Status != http.StatusInternalServerError {
			t.Errorf("status %d, want 500", r.Status)
		}
		if r := c.get("/fhir/Binary/" + b.Header.ID); r.Status != http.StatusOK || !bytes.Equal(r.Body, b.XML) {
			t.Errorf("the undamaged document: %v", r)
		}
	})
}
