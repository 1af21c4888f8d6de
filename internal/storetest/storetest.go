// Package storetest lists the storage backends the behaviour suites run
// against, and runs the suites on a backend: the domain's (TestBehaviour,
// internal/archive/archivetest) and the store's own (TestTokenLedger,
// TestWills, TestDisclosures, TestSearchScope, TestClientRelationships,
// TestSubmissionSets,
// TestAccessLogExport, TestGuardianships, TestAccessLogSearch).
// Each backend package runs them from its own tests, as each file system
// runs testing/fstest.TestFS. The backends are SQLite with
// content in the database and in files always; PostgreSQL with content in the database when ARKISTO_TEST_DATABASE_URL is
// set, and with content in S3 when ARKISTO_TEST_S3_URL is set too. In CI
// (CI=true) every backend must be available: a missing one fails the tests
// rather than skipping them.
package storetest

import (
	"context"
	"os"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/archive/archivetest"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/store/pgtest"
	"github.com/arkisto/arkisto/internal/store/postgres"
	"github.com/arkisto/arkisto/internal/store/sqlite"
)

// Environment variables that enable backends.
const (
	EnvDatabaseURL = pgtest.EnvDatabaseURL
	EnvS3URL       = "ARKISTO_TEST_S3_URL"
)

// Backend opens an empty store of one kind.
type Backend struct {
	Name string
	Open func(t testing.TB) archive.Store
	// OpenTwo opens two stores on one new archive (one data directory, one
	// database schema), as two servers on one archive do.
	OpenTwo func(t testing.TB) (archive.Store, archive.Store)
}

// Backends returns every backend to test, failing in CI when one is
// missing. Suites that cross the backends (the FHIR door, backup) use it;
// each backend runs the behaviour suites itself with SQLite or Postgres.
func Backends(t testing.TB) []Backend {
	return append(SQLite(), Postgres(t)...)
}

// SQLite returns the SQLite backends: content in the database and in files.
func SQLite() []Backend {
	return []Backend{
		{Name: "sqlite+db", Open: func(t testing.TB) archive.Store { return openSQLite(t, false) },
			OpenTwo: func(t testing.TB) (archive.Store, archive.Store) { return openSQLiteTwo(t, false) }},
		{Name: "sqlite+files", Open: func(t testing.TB) archive.Store { return openSQLite(t, true) },
			OpenTwo: func(t testing.TB) (archive.Store, archive.Store) { return openSQLiteTwo(t, true) }},
	}
}

// Postgres returns the PostgreSQL backends that are configured: content in
// the database when ARKISTO_TEST_DATABASE_URL is set, and in S3 when
// ARKISTO_TEST_S3_URL is set too. In CI a missing one fails the test.
func Postgres(t testing.TB) []Backend {
	var bs []Backend
	ci := os.Getenv("CI") == "true"
	dbURL, s3URL := os.Getenv(EnvDatabaseURL), os.Getenv(EnvS3URL)
	switch {
	case dbURL != "":
		bs = append(bs, Backend{Name: "postgres+db", Open: func(t testing.TB) archive.Store { return openPostgres(t, dbURL, "") },
			OpenTwo: func(t testing.TB) (archive.Store, archive.Store) { return openPostgresTwo(t, dbURL, "") }})
		if s3URL != "" {
			bs = append(bs, Backend{Name: "postgres+s3", Open: func(t testing.TB) archive.Store { return openPostgres(t, dbURL, s3URL) },
				OpenTwo: func(t testing.TB) (archive.Store, archive.Store) { return openPostgresTwo(t, dbURL, s3URL) }})
		} else if ci {
			t.Fatalf("%s is not set: CI runs the suite on PostgreSQL with S3 content too", EnvS3URL)
		}
	case ci:
		t.Fatalf("%s is not set: CI runs the suite on PostgreSQL too", EnvDatabaseURL)
	}
	return bs
}

// Run runs fn once per backend as a subtest named after it.
func Run(t *testing.T, fn func(t *testing.T, b Backend)) {
	Each(t, Backends(t), fn)
}

// Each runs fn once per backend in bs as a subtest named after it.
func Each(t *testing.T, bs []Backend, fn func(t *testing.T, b Backend)) {
	for _, b := range bs {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

// TestBehaviour runs the domain's behaviour suite (archivetest) on a
// backend.
func TestBehaviour(t *testing.T, b Backend) {
	archivetest.Run(t, func(t *testing.T) archive.Store { return b.Open(t) })
}

func openSQLite(t testing.TB, files bool) archive.Store {
	t.Helper()
	blobDir := ""
	if files {
		blobDir = t.TempDir()
	}
	return openSQLiteAt(t, t.TempDir(), blobDir)
}

func openSQLiteTwo(t testing.TB, files bool) (archive.Store, archive.Store) {
	t.Helper()
	dir, blobDir := t.TempDir(), ""
	if files {
		blobDir = t.TempDir()
	}
	return openSQLiteAt(t, dir, blobDir), openSQLiteAt(t, dir, blobDir)
}

func openSQLiteAt(t testing.TB, dir, blobDir string) archive.Store {
	t.Helper()
	var opt sqlite.Options
	if blobDir != "" {
		fb, err := blob.OpenFiles(blobDir)
		if err != nil {
			t.Fatal(err)
		}
		opt.Blobs = fb
	}
	s, err := sqlite.Open(context.Background(), dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close the store: %v", err)
		}
	})
	return s
}

// PostgresURL makes a fresh schema in the test database and returns a URL
// that uses it; the schema is dropped when the test ends.
func PostgresURL(t testing.TB, dbURL string) string { return pgtest.Schema(t, dbURL) }

func openPostgres(t testing.TB, dbURL, s3URL string) archive.Store {
	t.Helper()
	return openPostgresAt(t, PostgresURL(t, dbURL), s3URL)
}

func openPostgresTwo(t testing.TB, dbURL, s3URL string) (archive.Store, archive.Store) {
	t.Helper()
	u := PostgresURL(t, dbURL)
	return openPostgresAt(t, u, s3URL), openPostgresAt(t, u, s3URL)
}

func openPostgresAt(t testing.TB, schemaURL, s3URL string) archive.Store {
	t.Helper()
	ctx := context.Background()
	var opt postgres.Options
	if s3URL != "" {
		bs, err := blob.Open(ctx, s3URL)
		if err != nil {
			t.Fatal(err)
		}
		opt.Blobs = bs
	}
	opt.MaxConns = 8
	s, err := postgres.Open(ctx, schemaURL, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close the store: %v", err)
		}
	})
	return s
}
