// Package storetest lists the storage backends the behaviour suites run
// against: SQLite with content in the database and in files always;
// PostgreSQL with content in the database when ARKISTO_TEST_DATABASE_URL is
// set, and with content in S3 when ARKISTO_TEST_S3_URL is set too. In CI
// (CI=true) every backend must be available: a missing one fails the tests
// rather than skipping them.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/store/postgres"
	"github.com/arkisto/arkisto/internal/store/sqlite"
)

// Environment variables that enable backends.
const (
	EnvDatabaseURL = "ARKISTO_TEST_DATABASE_URL"
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

// Backends returns the backends to test, failing in CI when one is missing.
func Backends(t testing.TB) []Backend {
	bs := []Backend{
		{Name: "sqlite+db", Open: func(t testing.TB) archive.Store { return openSQLite(t, false) },
			OpenTwo: func(t testing.TB) (archive.Store, archive.Store) { return openSQLiteTwo(t, false) }},
		{Name: "sqlite+files", Open: func(t testing.TB) archive.Store { return openSQLite(t, true) },
			OpenTwo: func(t testing.TB) (archive.Store, archive.Store) { return openSQLiteTwo(t, true) }},
	}
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
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
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
	t.Cleanup(func() { s.Close() })
	return s
}

// PostgresURL makes a fresh schema in the test database and returns a URL
// that uses it; the schema is dropped when the test ends.
func PostgresURL(t testing.TB, dbURL string) string {
	t.Helper()
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	schema := "arkisto_test_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvDatabaseURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dbURL)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

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
	t.Cleanup(func() { s.Close() })
	return s
}
