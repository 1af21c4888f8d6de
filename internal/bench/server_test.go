package bench

import (
	"os"
	"testing"
	"time"
)

// TestProcCPU: the CPU time read from /proc grows by what the process
// burns, as its own rusage says (the tick is 10 ms).
func TestProcCPU(t *testing.T) {
	before, err := procCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	self0 := selfCPU()
	x := 0
	for selfCPU()-self0 < 200*time.Millisecond {
		for i := range 100000 {
			x += i
		}
	}
	after, err := procCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	burnt := selfCPU() - self0
	if got := after - before; got < burnt-50*time.Millisecond || got > burnt+50*time.Millisecond {
		t.Fatalf("/proc says %v used, rusage %v (x=%d)", got, burnt, x)
	}
}

// TestDatabaseCPUOnlyForLocalPostgres: no database time is counted for
// SQLite or a database on another machine.
func TestDatabaseCPUOnlyForLocalPostgres(t *testing.T) {
	for _, b := range []*run{{backend: "sqlite", localDatabase: true}, {backend: "postgres", localDatabase: false}} {
		if d := b.databaseCPU(); d != 0 {
			t.Errorf("%s, local %v: %v", b.backend, b.localDatabase, d)
		}
	}
}
