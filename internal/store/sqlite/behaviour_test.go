package sqlite_test

import (
	"testing"

	"github.com/arkisto/arkisto/internal/storetest"
)

// The behaviour suites on SQLite, with content in the database and in files.

func TestBehaviour(t *testing.T) { storetest.Each(t, storetest.SQLite(), storetest.TestBehaviour) }

func TestTokenLedgerIsShared(t *testing.T) {
	storetest.Each(t, storetest.SQLite(), storetest.TestTokenLedger)
}

func TestWills(t *testing.T) { storetest.Each(t, storetest.SQLite(), storetest.TestWills) }

func TestDisclosures(t *testing.T) { storetest.Each(t, storetest.SQLite(), storetest.TestDisclosures) }

func TestSearchScope(t *testing.T) { storetest.Each(t, storetest.SQLite(), storetest.TestSearchScope) }

func TestClientRelationships(t *testing.T) {
	storetest.Each(t, storetest.SQLite(), storetest.TestClientRelationships)
}

func TestAccessLogExport(t *testing.T) {
	storetest.Each(t, storetest.SQLite(), storetest.TestAccessLogExport)
}
func TestSecrets(t *testing.T) { storetest.Each(t, storetest.SQLite(), storetest.TestSecrets) }

func TestSubmissionSets(t *testing.T) {
	storetest.Each(t, storetest.SQLite(), storetest.TestSubmissionSets)
}

func TestGuardianships(t *testing.T) {
	storetest.Each(t, storetest.SQLite(), storetest.TestGuardianships)
}

func TestAccessLogSearch(t *testing.T) {
	storetest.Each(t, storetest.SQLite(), storetest.TestAccessLogSearch)
}
