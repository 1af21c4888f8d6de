package bench

import (
	"testing"
)

// TestDatabaseCPUOnlyForLocalPostgres: no database time is counted for
// SQLite or a database on another machine.
func TestDatabaseCPUOnlyForLocalPostgres(t *testing.T) {
	for _, b := range []*run{{backend: "sqlite", localDatabase: true}, {backend: "postgres", localDatabase: false}} {
		if d := b.databaseCPU(); d != 0 {
			t.Errorf("%s, local %v: %v", b.backend, b.localDatabase, d)
		}
	}
}
