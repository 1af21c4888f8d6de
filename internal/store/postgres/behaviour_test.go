package postgres_test

import (
	"context"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/store/pgtest"
	"github.com/arkisto/arkisto/internal/store/postgres"
	"github.com/arkisto/arkisto/internal/storetest"
)

// The behaviour suites on PostgreSQL, with content in the database and,
// when ARKISTO_TEST_S3_URL is set, in S3. Without a database they skip
// (and fail in CI).

func TestBehaviour(t *testing.T) {
	pgtest.DatabaseURL(t)
	storetest.Each(t, storetest.Postgres(t), storetest.TestBehaviour)
}

func TestTokenLedgerIsShared(t *testing.T) {
	pgtest.DatabaseURL(t)
	storetest.Each(t, storetest.Postgres(t), storetest.TestTokenLedger)
}

func TestWills(t *testing.T) {
	pgtest.DatabaseURL(t)
	storetest.Each(t, storetest.Postgres(t), storetest.TestWills)
}

func TestDisclosures(t *testing.T) {
	pgtest.DatabaseURL(t)
	storetest.Each(t, storetest.Postgres(t), storetest.TestDisclosures)
}

func TestSearchScope(t *testing.T) {
	pgtest.DatabaseURL(t)
	storetest.Each(t, storetest.Postgres(t), storetest.TestSearchScope)
}

func TestClientRelationships(t *testing.T) {
	pgtest.DatabaseURL(t)
	storetest.Each(t, storetest.Postgres(t), storetest.TestClientRelationships)
}

func TestAccessLogExport(t *testing.T) {
	pgtest.DatabaseURL(t)
	storetest.Each(t, storetest.Postgres(t), storetest.TestAccessLogExport)
}

func TestSecrets(t *testing.T) {
	pgtest.DatabaseURL(t)
	storetest.Each(t, storetest.Postgres(t), storetest.TestSecrets)
}

func TestSubmissionSets(t *testing.T) {
	pgtest.DatabaseURL(t)
	storetest.Each(t, storetest.Postgres(t), storetest.TestSubmissionSets)
}

func TestGuardianships(t *testing.T) {
	pgtest.DatabaseURL(t)
	storetest.Each(t, storetest.Postgres(t), storetest.TestGuardianships)
}

func TestAccessLogSearch(t *testing.T) {
	pgtest.DatabaseURL(t)
	storetest.Each(t, storetest.Postgres(t), storetest.TestAccessLogSearch)
}

// TestBehaviourContentOutside runs the behaviour suite with content in a
// blob store of files, which needs no S3: PutDocument takes another path
// when content is kept outside the database.
func TestBehaviourContentOutside(t *testing.T) {
	pgtest.DatabaseURL(t)
	storetest.TestBehaviour(t, storetest.Backend{Name: "postgres+files", Open: func(t testing.TB) archive.Store {
		ctx := context.Background()
		fb, err := blob.OpenFiles(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{Blobs: fb, MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}})
}
