package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

// The behaviour suites run in behaviour_test.go;
// these are SQLite's own properties.

func TestMigrationsAreRecorded(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != len(migrations) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(migrations))
	}
}

func TestBlobSettingIsKept(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	fb, err := blob.OpenFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dir, Options{Blobs: fb}); err == nil || !strings.Contains(err.Error(), "keeps its content in db") {
		t.Fatalf("opening a db-blob archive with a file store: %v", err)
	}
}

// TestMigrateFromPreviousVersion fills a database at the schema version
// before migration 7 (the last that changes stored data) with raw SQL, as
// an older build left it, then opens it with this build; the data must
// come through, and every later migration apply.
func TestMigrateFromPreviousVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old, err := Open(ctx, dir, Options{SkipBlobCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	// Rebuild the database at version 6, before migration 7's backfill.
	const previous = 6
	if err := os.Remove(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, FileName+"-wal"))
	os.Remove(filepath.Join(dir, FileName+"-shm"))
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	partial := &Store{w: raw, r: raw}
	if err := partial.migrateTo(ctx, previous); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO organisations (oid, name, kind, added_us) VALUES ('1.2.246.10.1.10.0', 'Vanha', 'public', 1)`); err != nil {
		t.Fatal(err)
	}
	// A version and its replacement as the previous version stored them:
	// migration 7 gives them search terms and when they last changed.
	received := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	for i, id := range []string{"1.2.246.10.1.95.1", "1.2.246.10.1.95.2"} {
		rec := &archive.Record{Header: cda.Header{ID: id, SetID: "1.2.246.10.1.95.1", Version: i + 1,
			Client:          cda.Client{ID: cda.ID{Root: "1.2.246.21", Extension: "010101-999A"}},
			Author:          cda.Author{Name: cda.Name{Given: []string{"Ärrä"}, Family: "Öberg"}},
			Confidentiality: cda.Code{Code: "1"}, DisplayFormat: cda.Code{Code: "2"},
			Custodian: cda.Organisation{OID: "1.2.246.10.1.10.0"}},
			Status: archive.StatusCurrent, ReceivedAt: received.Add(time.Duration(i) * time.Hour)}
		if i == 1 {
			rec.Header.Replaces = &cda.Parent{ID: "1.2.246.10.1.95.1", Version: 1}
		}
		doc, err := sqlstore.EncodeDocument(rec)
		if err != nil {
			t.Fatal(err)
		}
		status := []string{"superseded", "current"}[i]
		if _, err := raw.ExecContext(ctx, `INSERT OR IGNORE INTO blobs (sha256, size, data) VALUES ('x', 1, 'x');
			INSERT INTO documents (doc_id, set_id, version, client_key, status, custodian, register, document_group, effective_us, replaces,
				content_sha256, content_size, record_json, received_us, submitter_system, submitter_org, controller)
			VALUES (?, '1.2.246.10.1.95.1', ?, ?, ?, '1.2.246.10.1.10.0', '1', '2', 1, ?, 'x', 1, ?, ?, 's', '1.2.246.10.1.10.0', '1.2.246.10.1.10.0')`,
			id, i+1, rec.ClientKey(), status, doc.Replaces, string(doc.JSON), rec.ReceivedAt.UnixMicro()); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("opening a previous-version database: %v", err)
	}
	defer s.Close()
	if s.OpenedAt() != previous {
		t.Errorf("opened at version %d, want %d", s.OpenedAt(), previous)
	}
	if v, _ := s.SchemaVersion(ctx); v != len(migrations) {
		t.Fatalf("not migrated: version %d", v)
	}
	var orgs int
	s.View(ctx, func(tx archive.Tx) error {
		o, err := tx.Organisations(ctx)
		orgs = len(o)
		return err
	})
	if orgs != 1 {
		t.Fatalf("%d organisations after migration, want 1", orgs)
	}
	// ... and its Patient id.
	pkey, err := s.Secret(ctx, archive.PatientSecret, 32)
	if err != nil {
		t.Fatal(err)
	}
	var patientClient string
	err = s.View(ctx, func(tx archive.Tx) error {
		var err error
		patientClient, err = tx.PatientClient(ctx, archive.PatientID(pkey, "1.2.246.21|010101-999A"))
		return err
	})
	if err != nil || patientClient != "1.2.246.21|010101-999A" {
		t.Errorf("the Patient id's client after migration: %q, %v", patientClient, err)
	}
	scope := archive.Scope{Controllers: []string{"1.2.246.10.1.10.0"}}
	key := "1.2.246.21|010101-999A"
	for _, tt := range []struct {
		q    archive.Query
		want int
	}{
		{archive.Query{ClientKey: key, AuthorFamily: []string{"OBE"}}, 2},
		{archive.Query{ClientKey: key, AuthorGiven: []string{"ärr"}}, 2},
		{archive.Query{ClientKey: key, AuthorGiven: []string{"rr"}}, 0},
		{archive.Query{ClientKey: key, Confidentialities: []string{"1"}, DisplayFormats: []string{"2"}}, 2},
		// The replaced version changed when its replacement came.
		{archive.Query{ClientKey: key, UpdatedFrom: received.Add(time.Hour)}, 2},
		{archive.Query{ClientKey: key, UpdatedTo: received.Add(time.Hour)}, 0},
	} {
		var n int
		err := s.View(ctx, func(tx archive.Tx) error {
			var err error
			n, err = tx.SearchCount(ctx, tt.q, scope)
			return err
		})
		if err != nil || n != tt.want {
			t.Errorf("%+v after migration: %d found (want %d), %v", tt.q, n, tt.want, err)
		}
	}
}

// TestMigrateRelationshipsByOrganiser: migration 4 keys relationships by
// organiser and keeps every relationship and grant stored before it.
func TestMigrateRelationshipsByOrganiser(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	partial := &Store{w: raw, r: raw}
	if err := partial.migrateTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `
		INSERT INTO relationships (client_key, id, organiser, start_day, end_day, document, stated) VALUES ('1.2.246.21|010101-999A', '1.2.246.10.1.95777.1', '1.2.246.10.1.10.0', '2024-01-01', '', '1.2.246.10.1.95.1', '{}');
		INSERT INTO relationship_grants (client_key, relationship_id, organiser, provider, unit, service_task, start_day, end_day) VALUES ('1.2.246.21|010101-999A', '1.2.246.10.1.95777.1', '1.2.246.10.1.10.0', '1.2.246.10.2', '1.2.246.10.2.10.1', '24', '2024-01-01', '');`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	s, err := Open(ctx, dir, Options{SkipBlobCheck: true})
	if err != nil {
		t.Fatalf("opening a version-3 database: %v", err)
	}
	defer s.Close()
	key := archive.RelationshipKey{ClientKey: "1.2.246.21|010101-999A", Organiser: "1.2.246.10.1.10.0", ID: "1.2.246.10.1.95777.1"}
	other := archive.RelationshipKey{ClientKey: key.ClientKey, Organiser: "1.2.246.10.3.10.0", ID: key.ID}
	err = s.Update(ctx, func(tx archive.Tx) error {
		// Another organiser's relationship with the same client and id is kept apart.
		return tx.PutRelationship(ctx, &archive.Relationship{ClientKey: other.ClientKey, Organiser: other.Organiser, ID: other.ID, Document: "1.2.246.10.3.95.1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx archive.Tx) error {
		r, err := tx.Relationship(ctx, key)
		if err != nil {
			return err
		}
		if r.Document != "1.2.246.10.1.95.1" || len(r.Grants) != 1 || r.Grants[0].Provider != "1.2.246.10.2" || r.Grants[0].Organiser != key.Organiser {
			t.Errorf("relationship after migration: %+v", r)
		}
		gs, err := tx.Grants(ctx, key.ClientKey, "1.2.246.10.2")
		if err != nil || len(gs) != 1 {
			t.Errorf("grants after migration: %v %v", gs, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDataDirWithURICharacters: a data directory whose name holds '?',
// '#' or '%' opens the archive inside it, not a file named by the part of
// the path before that character.
func TestDataDirWithURICharacters(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"a?b", "c#d", "e%3Ff", "g?h#i%j"} {
		parent := t.TempDir()
		dir := filepath.Join(parent, name)
		s, err := Open(ctx, dir)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		err = s.Update(ctx, func(tx archive.Tx) error {
			return tx.PutOrganisation(ctx, &archive.Organisation{OID: "1.2.246.10.1.10.0", Name: "Kunta", Kind: archive.KindPublic})
		})
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
			t.Errorf("%s: the archive is not in its directory: %v", name, err)
		}
		ents, _ := os.ReadDir(parent)
		if len(ents) != 1 {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Errorf("%s: files beside the data directory: %v", name, names)
		}
		s, err = Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		var orgs []*archive.Organisation
		s.View(ctx, func(tx archive.Tx) error {
			orgs, err = tx.Organisations(ctx)
			return err
		})
		s.Close()
		if len(orgs) != 1 {
			t.Errorf("%s: reopened, %d organisations (%v)", name, len(orgs), err)
		}
	}
}

// TestDamagedDayIsAnError: a stored day that does not parse is an error,
// never an open period: a grant whose end was damaged must not become a
// grant without an end.
func TestDamagedDayIsAnError(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	end := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	rel := &archive.Relationship{ClientKey: "c", ID: "r", Organiser: "1.2.246.10.1", Start: end.AddDate(-1, 0, 0), End: end, Document: "d",
		Grants: []archive.Grant{{ClientKey: "c", RelationshipID: "r", Organiser: "1.2.246.10.1", Provider: "1.2.246.10.2", Unit: "u", ServiceTask: "03", Start: end.AddDate(-1, 0, 0), End: end}}}
	if err := s.Update(ctx, func(tx archive.Tx) error { return tx.PutRelationship(ctx, rel) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE relationship_grants SET end_day = '2025-13-45'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE relationships SET end_day = 'soon'`); err != nil {
		t.Fatal(err)
	}
	err := s.View(ctx, func(tx archive.Tx) error {
		if gs, err := tx.Grants(ctx, "c", "1.2.246.10.2"); err == nil {
			t.Errorf("grants with a damaged end day: %+v, no error", gs)
		}
		if r, err := tx.Relationship(ctx, rel.Key()); err == nil {
			t.Errorf("relationship with a damaged end day: %+v, no error", r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
