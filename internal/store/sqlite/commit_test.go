package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

// Group commit: these tests hold the committer on a first write so that
// the writes after it queue up and are taken as one group, which makes the
// grouping deterministic instead of dependent on the disk's speed.

// held starts a write that blocks the committer until release is called,
// and returns once the committer is inside it.
func held(t *testing.T, s *Store) (release func()) {
	t.Helper()
	in, out := make(chan struct{}), make(chan struct{})
	go s.Update(context.Background(), func(archive.Tx) error {
		close(in)
		<-out
		return nil
	})
	<-in
	return func() { close(out) }
}

// waitQueued waits until n writes are queued behind the held one.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(s.queue) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", len(s.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func logEntry(client string) *archive.AccessEntry {
	return &archive.AccessEntry{
		At: time.Now().UTC(), ClientKey: client, Action: archive.ActionRead, Outcome: archive.OutcomeAllowed,
		Reason: "test", Caller: archive.Caller{System: "sys", Organisation: "1.2.246.10.1"},
	}
}

// clients returns the client keys of every log entry, in id order.
func clients(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := s.View(context.Background(), func(tx archive.Tx) error {
		es, err := tx.ScanAccessLog(context.Background(), 0, 10000)
		for _, e := range es {
			out = append(out, e.ClientKey)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// group runs fns as one group and returns each one's Update result.
func group(t *testing.T, s *Store, fns ...func(archive.Tx) error) []error {
	t.Helper()
	release := held(t, s)
	g0, w0, _ := s.GroupStats()
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(context.Background(), fn)
		}()
		// One at a time, so that the group's order is the order of fns.
		waitQueued(t, s, i+1)
	}
	release()
	wg.Wait()
	if g1, w1, _ := s.GroupStats(); g1-g0 != 1 || w1-w0 != int64(len(fns)) {
		t.Fatalf("%d groups of %d writes ran after the held one, want one of %d", g1-g0, w1-w0, len(fns))
	}
	return errs
}

func appendLog(client string, then error) func(archive.Tx) error {
	return func(tx archive.Tx) error {
		if err := tx.AppendAccess(context.Background(), logEntry(client)); err != nil {
			return err
		}
		return then
	}
}

func TestGroupCommitsAllWaitingWrites(t *testing.T) {
	s := openStore(t)
	const n = 50
	release := held(t, s)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(context.Background(), appendLog(fmt.Sprint("c", i), nil))
		}()
	}
	waitQueued(t, s, n)
	g0, w0, _ := s.GroupStats()
	release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	g1, w1, _ := s.GroupStats()
	if g1-g0 != 1 || w1-w0 != n {
		t.Fatalf("%d groups with %d writes, want 1 group with %d", g1-g0, w1-w0, n)
	}
	got := map[string]bool{}
	for _, c := range clients(t, s) {
		got[c] = true
	}
	for i := range n {
		if !got[fmt.Sprint("c", i)] {
			t.Errorf("acknowledged write c%d is missing", i)
		}
	}
}

func TestGroupFailingWriteRollsBackAlone(t *testing.T) {
	s := openStore(t)
	bad := errors.New("refused")
	errs := group(t, s, appendLog("a", nil), appendLog("b", bad), appendLog("c", nil))
	if errs[0] != nil || !errors.Is(errs[1], bad) || errs[2] != nil {
		t.Fatalf("results %v", errs)
	}
	if got := fmt.Sprint(clients(t, s)); got != "[a c]" {
		t.Fatalf("log holds %s, want [a c]: b's entry must roll back with b alone", got)
	}
}

// TestGroupExactlyOneWins: two writes of the same key in one group; the
// second sees the first and fails, and only one row exists.
func TestGroupExactlyOneWins(t *testing.T) {
	s := openStore(t)
	put := func(v string) func(archive.Tx) error {
		return func(tx archive.Tx) error {
			_, err := tx.(*txn).tx.ExecContext(context.Background(), `INSERT INTO settings (key, value) VALUES ('k', ?)`, v)
			return mapErr(err)
		}
	}
	errs := group(t, s, put("first"), put("second"))
	var ae *archive.Error
	if errs[0] != nil || !errors.As(errs[1], &ae) || ae.Kind != archive.ErrConflict {
		t.Fatalf("results %v; want the first to win and the second to conflict", errs)
	}
	var v string
	var n int
	if err := s.r.QueryRow(`SELECT value, (SELECT COUNT(*) FROM settings WHERE key = 'k') FROM settings WHERE key = 'k'`).Scan(&v, &n); err != nil || v != "first" || n != 1 {
		t.Fatalf("stored %q ×%d, %v", v, n, err)
	}
}

// TestGroupFailureRunsEachAlone: a write that ends the whole transaction
// fails the group; every write then runs alone, the innocent ones commit
// exactly once and the culprit gets an error.
func TestGroupFailureRunsEachAlone(t *testing.T) {
	s := openStore(t)
	breaker := func(tx archive.Tx) error {
		if err := tx.AppendAccess(context.Background(), logEntry("x")); err != nil {
			return err
		}
		_, err := tx.(*txn).tx.tx.Exec(`ROLLBACK`)
		return err
	}
	_, _, r0 := s.GroupStats()
	errs := group(t, s, appendLog("a", nil), breaker, appendLog("c", nil))
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("results %v", errs)
	}
	if _, _, r1 := s.GroupStats(); r1-r0 != 1 {
		t.Fatalf("%d groups ran again alone, want 1", r1-r0)
	}
	if got := fmt.Sprint(clients(t, s)); got != "[a c]" {
		t.Fatalf("log holds %s, want [a c]", got)
	}
}

func TestGroupPanicReachesItsCaller(t *testing.T) {
	s := openStore(t)
	release := held(t, s)
	errA := make(chan error)
	go func() { errA <- s.Update(context.Background(), appendLog("a", nil)) }()
	waitQueued(t, s, 1)
	recovered := make(chan any)
	go func() {
		defer func() { recovered <- recover() }()
		s.Update(context.Background(), func(tx archive.Tx) error {
			if err := appendLog("p", nil)(tx); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	waitQueued(t, s, 2)
	release()
	if got := <-recovered; got != "boom" {
		t.Fatalf("recovered %v, want the write's own panic", got)
	}
	if err := <-errA; err != nil {
		t.Fatalf("the other write in the group: %v", err)
	}
	if err := s.Update(context.Background(), appendLog("after", nil)); err != nil {
		t.Fatalf("the committer did not survive a panic: %v", err)
	}
	if got := fmt.Sprint(clients(t, s)); got != "[a after]" {
		t.Fatalf("log holds %s; the panicking write's entry must roll back", got)
	}
}

func TestAbandonedWriteNeverRuns(t *testing.T) {
	s := openStore(t)
	release := held(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	done := make(chan error)
	go func() {
		done <- s.Update(ctx, func(tx archive.Tx) error { ran = true; return appendLog("late", nil)(tx) })
	}()
	waitQueued(t, s, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned write returned %v", err)
	}
	release()
	if err := s.Update(context.Background(), appendLog("next", nil)); err != nil {
		t.Fatal(err)
	}
	if ran || fmt.Sprint(clients(t, s)) != "[next]" {
		t.Fatalf("an abandoned write ran (%v): log %v", ran, clients(t, s))
	}
}

func TestCloseAnswersQueuedWrites(t *testing.T) {
	s := openStore(t)
	release := held(t, s)
	done := make(chan error)
	go func() { done <- s.Update(context.Background(), appendLog("q", nil)) }()
	waitQueued(t, s, 1)
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	release()
	<-closed
	// Taken before Close or answered by it: never left hanging.
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a queued write was left waiting after Close")
	}
	if err := s.Update(context.Background(), appendLog("after", nil)); !errors.Is(err, errClosed) {
		t.Fatalf("write after Close: %v", err)
	}
}

// TestGroupLogEntries: access-log entries sent on their own are written
// together, in as few inserts as the prepared batches allow, beside the
// group's other writes; each gets the id it was stored under, and a
// failing write in the group does not take them down.
func TestGroupLogEntries(t *testing.T) {
	s := openStore(t)
	const n = 70 // 64 + 4 + 1 + 1
	release := held(t, s)
	entries := make([]*archive.AccessEntry, n)
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := range n {
		entries[i] = logEntry(fmt.Sprint("e", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.AppendAccessEntry(context.Background(), entries[i])
		}()
	}
	bad := errors.New("refused")
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[n] = s.Update(context.Background(), appendLog("failing", bad))
	}()
	waitQueued(t, s, n+1)
	g0, _, _ := s.GroupStats()
	release()
	wg.Wait()
	if g1, _, _ := s.GroupStats(); g1-g0 != 1 {
		t.Fatalf("%d groups, want 1", g1-g0)
	}
	for i, err := range errs[:n] {
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if !errors.Is(errs[n], bad) {
		t.Fatalf("the failing write returned %v", errs[n])
	}
	stored := map[int64]string{}
	err := s.View(context.Background(), func(tx archive.Tx) error {
		es, err := tx.ScanAccessLog(context.Background(), 0, 1000)
		for _, e := range es {
			stored[e.ID] = e.ClientKey
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != n {
		t.Fatalf("%d entries stored, want %d: %v", len(stored), n, stored)
	}
	for _, e := range entries {
		if stored[e.ID] != e.ClientKey {
			t.Errorf("entry %s was given id %d, which holds %q", e.ClientKey, e.ID, stored[e.ID])
		}
	}
}
