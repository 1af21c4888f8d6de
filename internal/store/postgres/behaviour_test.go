package postgres_test

import (
	"testing"

	"github.com/arkisto/arkisto/internal/store/pgtest"
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
