package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestCheckpointerCopiesTheWAL: the committer leaves checkpoints to the
// checkpointer, which copies committed pages into the database file.
func TestCheckpointerCopiesTheWAL(t *testing.T) {
	s := openStore(t)
	for name, db := range map[string]*sql.DB{"writer": s.w, "token connection": s.tw} {
		var auto int
		if err := db.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != writerAutoCheckpoint {
			t.Fatalf("the %s checkpoints at %d pages (%v), want %d", name, auto, err, writerAutoCheckpoint)
		}
	}
	size := func() int64 {
		fi, err := os.Stat(s.path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	// Let a checkpoint of what Open wrote pass, then write a good deal.
	time.Sleep(2 * checkpointEvery)
	before := size()
	for i := range 200 {
		if err := s.Update(context.Background(), appendLog(fmt.Sprintf("client-%04d-%s", i, string(make([]byte, 200))), nil)); err != nil {
			t.Fatal(err)
		}
	}
	runs0, _ := s.checkpointStats()
	deadline := time.Now().Add(10 * time.Second)
	for size() <= before {
		if time.Now().After(deadline) {
			t.Fatalf("the database file stayed at %d bytes: nothing was checkpointed", before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	runs, failures := s.checkpointStats()
	if runs == 0 || failures != 0 {
		t.Errorf("%d checkpoints (%d before the wait), %d failed", runs, runs0, failures)
	}
}
