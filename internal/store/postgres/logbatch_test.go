package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/pgtest"
)

// openStore opens a store in a schema of its own, dropped after the test.
func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func logEntry(client string) *archive.AccessEntry {
	return &archive.AccessEntry{
		At: time.Now().UTC().Truncate(time.Microsecond), ClientKey: client, Action: archive.ActionRead, Outcome: archive.OutcomeAllowed,
		Reason: "test", Caller: archive.Caller{System: "sys", Organisation: "1.2.246.10.1", Person: "p1"}, Documents: []string{"d-" + client},
	}
}

// stored returns every log entry by id.
func stored(t *testing.T, s *Store) map[int64]*archive.AccessEntry {
	t.Helper()
	out := map[int64]*archive.AccessEntry{}
	err := s.View(context.Background(), func(tx archive.Tx) error {
		es, err := tx.ScanAccessLog(context.Background(), 0, 100000)
		for _, e := range es {
			out[e.ID] = e
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLogEntriesBatched: entries sent at once are written in fewer
// inserts than entries, each under the id it is told, whole.
func TestLogEntriesBatched(t *testing.T) {
	s := openStore(t)
	const n = 300
	entries := make([]*archive.AccessEntry, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		entries[i] = logEntry(fmt.Sprint("c", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.AppendAccessEntry(context.Background(), entries[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	batches, written := s.LogBatchStats()
	if written != n {
		t.Fatalf("the loggers wrote %d entries, want %d", written, n)
	}
	if batches >= n {
		t.Errorf("%d inserts for %d entries sent at once: not batched", batches, n)
	}
	got := stored(t, s)
	if len(got) != n {
		t.Fatalf("%d entries stored, want %d", len(got), n)
	}
	for _, e := range entries {
		g := got[e.ID]
		if g == nil {
			t.Fatalf("entry %s: no row under its id %d", e.ClientKey, e.ID)
		}
		if g.ClientKey != e.ClientKey || !g.At.Equal(e.At) || g.Caller != e.Caller || len(g.Documents) != 1 || g.Documents[0] != e.Documents[0] ||
			g.Action != e.Action || g.Outcome != e.Outcome || g.Reason != e.Reason {
			t.Fatalf("entry %s stored as %+v", e.ClientKey, g)
		}
	}
}

// TestLogBatchWithBadEntry: an entry the database refuses fails alone;
// the others of its batch are written and acknowledged.
func TestLogBatchWithBadEntry(t *testing.T) {
	s := openStore(t)
	s.log.close() // this test runs its own logger on a queue it fills first
	b := &logBatcher{queue: make(chan *logReq, 8), stop: make(chan struct{})}
	bad := logEntry("bad")
	bad.Reason = "NUL \x00 is not text to PostgreSQL"
	reqs := []*logReq{{e: logEntry("a")}, {e: bad}, {e: logEntry("b")}}
	for _, r := range reqs {
		r.done = make(chan error, 1)
		b.queue <- r
	}
	b.wg.Add(1)
	go s.logLoop(b)
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		errs[i] = <-r.done
	}
	b.close()
	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("the good entries failed: %v, %v", errs[0], errs[2])
	}
	if errs[1] == nil {
		t.Fatal("an entry with a NUL byte was acknowledged")
	}
	if got := b.batches.Load(); got != 1 {
		t.Errorf("%d batches, want the 3 entries in 1", got)
	}
	got := stored(t, s)
	if len(got) != 2 || got[reqs[0].e.ID].ClientKey != "a" || got[reqs[2].e.ID].ClientKey != "b" {
		t.Fatalf("stored %v", got)
	}
}

// TestLogAfterClose: entries sent after Close are refused, not lost
// silently.
func TestLogAfterClose(t *testing.T) {
	s := openStore(t)
	s.Close()
	if err := s.AppendAccessEntry(context.Background(), logEntry("late")); err != errClosed {
		t.Fatalf("after Close: %v, want %v", err, errClosed)
	}
}
