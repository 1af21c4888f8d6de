// Package pgtest gives tests a PostgreSQL schema of their own in the test
// database named by ARKISTO_TEST_DATABASE_URL. It imports no store, so that
// the PostgreSQL backend's own tests and the backend lists of storetest use
// the one helper.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvDatabaseURL names the test database; unset, PostgreSQL tests skip,
// except in CI (CI=true), where they fail.
const EnvDatabaseURL = "ARKISTO_TEST_DATABASE_URL"

// DatabaseURL returns the test database's URL, skipping the test when none
// is set and failing it in CI.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvDatabaseURL)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI tests PostgreSQL", EnvDatabaseURL)
		}
		t.Skipf("set %s to test PostgreSQL", EnvDatabaseURL)
	}
	return u
}

// URL makes a fresh schema in the test database and returns a URL that
// uses it; see DatabaseURL and Schema.
func URL(t testing.TB) string {
	t.Helper()
	return Schema(t, DatabaseURL(t))
}

// Schema makes a fresh schema in the database at dbURL and returns a URL
// that uses it; the schema is dropped when the test ends.
func Schema(t testing.TB, dbURL string) string {
	t.Helper()
	ctx := context.Background()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
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
		ctx := context.Background()
		c, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
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
