package postgres_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/store/pgtest"
	"github.com/arkisto/arkisto/internal/store/postgres"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

// The behaviour suite runs in behaviour_test.go; these are PostgreSQL's own properties: migrations and the blob setting.

func dbURL(t *testing.T) string { return pgtest.URL(t) }

func TestMigrateFromEmpty(t *testing.T) {
	ctx := context.Background()
	url := dbURL(t)
	s, err := postgres.Open(ctx, url, postgres.Options{NoMigrate: true, SkipBlobCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(ctx); err != nil || v != 0 {
		t.Fatalf("empty database at version %d, %v", v, err)
	}
	if err := s.Migrate(ctx, postgres.Latest()); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx, postgres.Latest()); err != nil {
		t.Fatalf("migrating twice: %v", err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != postgres.Latest() {
		t.Fatalf("after migrating: version %d, %v; want %d", v, err, postgres.Latest())
	}
}

// TestMigrateFromPreviousVersion fills a database at the schema version
// before migration 8 (the last that changes stored data) with raw SQL, as
// an older build left it, then opens it with this build, which migrates
// it through every later migration; the data must come through.
func TestMigrateFromPreviousVersion(t *testing.T) {
	ctx := context.Background()
	url := dbURL(t)
	old, err := postgres.Open(ctx, url, postgres.Options{NoMigrate: true, SkipBlobCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Migrate(ctx, 7); err != nil {
		t.Fatal(err)
	}
	ca, err := pki.NewCA("ca", pki.P256, time.Now().Add(-time.Hour), time.Hour*24)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := ca.Issue(pki.Template{KeyType: pki.P256, TLSClient: true})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `INSERT INTO organisations (oid, name, kind, added_at) VALUES ('1.2.246.10.1.10.0', 'Vanha', 'public', now());
		INSERT INTO trust_anchors (sha256, subject, der, added_at) VALUES ('`+blob.Sum(ca.Cert.Raw)+`', 'ca', decode('`+hex.EncodeToString(ca.Cert.Raw)+`', 'hex'), now());
		INSERT INTO systems (name, org_oid, cert_sha256, cert_der, added_at) VALUES ('ats-vanha', '1.2.246.10.1.10.0', '`+blob.Sum(sys.Cert.Raw)+`', decode('`+hex.EncodeToString(sys.Cert.Raw)+`', 'hex'), now());`)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A document stored by the previous version (its record as jsonb)
	// must read back whole after the record column became json.
	content := []byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2.246.10.1.95.1"/></ClinicalDocument>`)
	opened := time.Date(2024, 3, 1, 8, 0, 0, 0, time.FixedZone("", 2*3600))
	rec := &archive.Record{
		Header: cda.Header{ID: "1.2.246.10.1.95.1", SetID: "1.2.246.10.1.95.1", Version: 1, Language: "fi",
			EffectiveTime: opened, CreationTime: opened,
			Client:        cda.Client{ID: cda.ID{Root: "1.2.246.21", Extension: "010101-999A"}, Name: cda.Name{Given: []string{"Åke", "Ülla"}, Family: "Öberg"}},
			Custodian:     cda.Organisation{OID: "1.2.246.10.1.10.0", Name: "Vanha"},
			DocumentGroup: cda.Code{Code: "2", System: "1.2.246.537.6.1505.201601", Display: "Palveluasiakirja \"x\" <y>"},
			Register:      cda.Code{Code: "1"}, Case: cda.Case{ID: "1.2.246.10.1.96.1", Opened: &opened},
			Signatures: []cda.SignatureEntry{{ID: "sig-1", Timestamp: opened.UTC()}}},
		Controller: "1.2.246.10.1.10.0", Status: archive.StatusCurrent, SHA256: blob.Sum(content), Size: int64(len(content)),
		ReceivedAt: opened.UTC(), Submitter: archive.Caller{System: "ats-vanha", Organisation: "1.2.246.10.1.10.0"},
	}
	rec.Header.Author = cda.Author{ID: cda.ID{Root: "1.2.246.537.26", Extension: "123"}, Name: cda.Name{Given: []string{"Ärrä"}, Family: "Öberg-Mäki"}}
	rec.Header.Confidentiality = cda.Code{Code: "1", System: "1.2.246.777.5.99902.2006"}
	// The row as the previous version wrote it: PutDocument writes the
	// columns of the newest.
	doc, err := sqlstore.EncodeDocument(rec)
	if err != nil {
		t.Fatal(err)
	}
	key := rec.ClientKey()
	conn, err = pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `INSERT INTO document_ids (doc_id, client_key) VALUES ($1, $2)`, rec.Header.ID, key)
	if err == nil {
		_, err = conn.Exec(ctx, `INSERT INTO document_sets (set_id, client_key) VALUES ($1, $2)`, rec.Header.SetID, key)
	}
	if err == nil {
		_, err = conn.Exec(ctx, `INSERT INTO blobs (client_key, sha256, size, data) VALUES ($1, $2, $3, $4)`, key, rec.SHA256, len(content), content)
	}
	if err == nil {
		_, err = conn.Exec(ctx, `INSERT INTO documents (client_key, doc_id, set_id, version, status, custodian, register, document_group,
			case_id, case_opened, effective_at, content_sha256, content_size, record, received_at, submitter_system, submitter_org, controller)
			VALUES ($1, $2, $3, 1, 'current', $4, '1', '2', $5, $6, $6, $7, $8, $9, $10, 'ats-vanha', $4, $4)`,
			key, rec.Header.ID, rec.Header.SetID, rec.Header.Custodian.OID, rec.Header.Case.ID, opened, rec.SHA256, rec.Size, doc.JSON, rec.ReceivedAt)
	}
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("opening a previous-version database: %v", err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(ctx); v != postgres.Latest() {
		t.Fatalf("not migrated: version %d", v)
	}
	anchors, systems := 0, 0
	var revoked bool
	err = s.View(ctx, func(tx archive.Tx) error {
		a, err := tx.TrustAnchors(ctx)
		anchors = len(a)
		if err != nil {
			return err
		}
		ss, err := tx.Systems(ctx)
		systems = len(ss)
		if len(ss) == 1 {
			revoked = ss[0].RevokedAt != nil
		}
		return err
	})
	if err != nil || anchors != 1 || systems != 1 || revoked {
		t.Fatalf("data after migration: %d anchors, %d systems, revoked %v, %v", anchors, systems, revoked, err)
	}
	var got *archive.Record
	var gotContent []byte
	err = s.View(ctx, func(tx archive.Tx) error {
		var err error
		if got, err = tx.Document(ctx, rec.Header.ID); err != nil {
			return err
		}
		gotContent, err = tx.Content(ctx, got)
		return err
	})
	if err != nil {
		t.Fatalf("the previous version's document: %v", err)
	}
	want, have := recordJSON(t, rec), recordJSON(t, got)
	if want != have || string(gotContent) != string(content) {
		t.Fatalf("the previous version's document after migration:\n%s\nwant\n%s", have, want)
	}
	// Migration 8 gave it its search terms and its last update.
	if !got.LastUpdated().Equal(rec.ReceivedAt) {
		t.Errorf("last updated %v, want %v", got.LastUpdated(), rec.ReceivedAt)
	}
	// ... and its Patient id.
	pkey, err := s.Secret(ctx, archive.PatientSecret, 32)
	if err != nil {
		t.Fatal(err)
	}
	var patientClient string
	err = s.View(ctx, func(tx archive.Tx) error {
		var err error
		patientClient, err = tx.PatientClient(ctx, archive.PatientID(pkey, key))
		return err
	})
	if err != nil || patientClient != key {
		t.Errorf("the Patient id's client after migration: %q, %v", patientClient, err)
	}
	scope := archive.Scope{Controllers: []string{rec.Header.Custodian.OID}}
	for _, q := range []archive.Query{
		{ClientKey: key, AuthorFamily: []string{"OBERG-m"}},
		{ClientKey: key, AuthorGiven: []string{"arr"}},
		{ClientKey: key, Confidentialities: []string{"1"}},
		{ClientKey: key, UpdatedFrom: rec.ReceivedAt, UpdatedTo: rec.ReceivedAt.Add(time.Second)},
	} {
		var n int
		err := s.View(ctx, func(tx archive.Tx) error {
			var err error
			n, err = tx.SearchCount(ctx, q, scope)
			return err
		})
		if err != nil || n != 1 {
			t.Errorf("%+v after migration: %d found, %v", q, n, err)
		}
	}
}

func recordJSON(t *testing.T, r *archive.Record) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBlobSettingIsKept(t *testing.T) {
	ctx := context.Background()
	url := dbURL(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	fb, err := blob.OpenFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, url, postgres.Options{Blobs: fb}); err == nil || !strings.Contains(err.Error(), "keeps its content in db") {
		t.Fatalf("opening a db-blob archive with a file store: %v", err)
	}
}

// TestMigrateRelationshipsByOrganiser: migration 5 keys relationships by
// organiser and keeps every relationship and grant stored before it.
func TestMigrateRelationshipsByOrganiser(t *testing.T) {
	ctx := context.Background()
	url := dbURL(t)
	old, err := postgres.Open(ctx, url, postgres.Options{NoMigrate: true, SkipBlobCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Migrate(ctx, 4); err != nil {
		t.Fatal(err)
	}
	old.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `
		INSERT INTO relationships (client_key, id, organiser, start_day, end_day, document, stated) VALUES ('1.2.246.21|010101-999A', '1.2.246.10.1.95777.1', '1.2.246.10.1.10.0', '2024-01-01', NULL, '1.2.246.10.1.95.1', '{}');
		INSERT INTO relationship_grants (client_key, relationship_id, organiser, provider, unit, service_task, start_day, end_day) VALUES ('1.2.246.21|010101-999A', '1.2.246.10.1.95777.1', '1.2.246.10.1.10.0', '1.2.246.10.2', '1.2.246.10.2.10.1', '24', '2024-01-01', NULL);`)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, url, postgres.Options{SkipBlobCheck: true})
	if err != nil {
		t.Fatalf("opening a version-4 database: %v", err)
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
	err = s.Update(ctx, func(tx archive.Tx) error {
		// A transfer moves the relationship and its grants.
		if _, err := tx.MoveRelationships(ctx, key.Organiser, "1.2.246.10.4.10.0"); err != nil {
			return err
		}
		moved := key
		moved.Organiser = "1.2.246.10.4.10.0"
		r, err := tx.Relationship(ctx, moved)
		if err != nil {
			return err
		}
		if r.Document != "1.2.246.10.1.95.1" || len(r.Grants) != 1 || r.Grants[0].Provider != "1.2.246.10.2" || r.Grants[0].Organiser != moved.Organiser {
			t.Errorf("relationship after migration and transfer: %+v", r)
		}
		if r, err := tx.Relationship(ctx, other); err != nil || r.Document != "1.2.246.10.3.95.1" {
			t.Errorf("the other organiser's relationship: %+v %v", r, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
