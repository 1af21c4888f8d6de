package postgres_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/store/postgres"
	"github.com/arkisto/arkisto/internal/storetest"
)

// The behaviour suite runs on PostgreSQL in internal/archive/archivetest;
// these are PostgreSQL's own properties: migrations and the blob setting.

func dbURL(t *testing.T) string {
	u := os.Getenv(storetest.EnvDatabaseURL)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI tests PostgreSQL", storetest.EnvDatabaseURL)
		}
		t.Skipf("set %s to test PostgreSQL", storetest.EnvDatabaseURL)
	}
	return storetest.PostgresURL(t, u)
}

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

// TestMigrateFromPreviousVersion fills a database at the previous schema
// version with raw SQL, as an older build left it, then opens it with this
// build, which migrates it; the data must come through.
func TestMigrateFromPreviousVersion(t *testing.T) {
	ctx := context.Background()
	url := dbURL(t)
	old, err := postgres.Open(ctx, url, postgres.Options{NoMigrate: true, SkipBlobCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Migrate(ctx, postgres.Latest()-1); err != nil {
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
		INSERT INTO trust_anchors (sha256, subject, der, added_at) VALUES ('`+blob.Sum(ca.Cert.Raw)+`', 'ca', decode('`+hexOf(ca.Cert.Raw)+`', 'hex'), now());
		INSERT INTO systems (name, org_oid, cert_sha256, cert_der, added_at) VALUES ('ats-vanha', '1.2.246.10.1.10.0', '`+blob.Sum(sys.Cert.Raw)+`', decode('`+hexOf(sys.Cert.Raw)+`', 'hex'), now());`)
	conn.Close(ctx)
	old.Close()
	if err != nil {
		t.Fatal(err)
	}
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
	err = s.View(ctx, func(tx archiveTx) error {
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
