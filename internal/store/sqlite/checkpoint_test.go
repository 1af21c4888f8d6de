package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointerCopiesTheWAL: the committer leaves checkpoints to the
// checkpointer, which copies committed pages into the database file.
func TestCheckpointerCopiesTheWAL(t *testing.T) {
	s := openStore(t)
	// The token ledger is a file of its own, with a checkpointer of its own.
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

// TestTokenLedgerIsCheckpointed: the token ledger's own checkpointer copies
// its WAL into its file (its connection never checkpoints by itself).
func TestTokenLedgerIsCheckpointed(t *testing.T) {
	s := openStore(t)
	path := filepath.Join(filepath.Dir(s.path), TokensFileName)
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	time.Sleep(2 * checkpointEvery)
	before := size()
	for i := range 2000 {
		key := []byte(fmt.Sprintf("token-%06d-%s", i, make([]byte, 64)))
		if _, err := s.UseToken(context.Background(), key, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() <= before {
		if time.Now().After(deadline) {
			t.Fatalf("the token ledger's file stayed at %d bytes: nothing was checkpointed", before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
