package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/arkisto/arkisto/internal/archive"
)

// Group commit. SQLite has one writer, and a durable commit costs an fsync
// of the WAL, which on ordinary disks takes longer than the work of a
// whole request. So writes queue for one committer goroutine that runs
// every write waiting at the time in one transaction, each inside its own
// savepoint, and commits them with one fsync. A write whose function fails
// is rolled back to its savepoint alone; the others still commit. Callers
// hear back only after the commit is durable, so nothing acknowledged is
// lost, and a write is never acknowledged for a commit that failed.
//
// A lone write runs in a transaction of its own as before: the group forms
// only while the previous commit is being synced, so there is no added wait.

// maxGroup bounds one group: enough to amortise the fsync, little enough
// that a group's transaction stays short.
const maxGroup = 256

// Request states: queued requests can still be abandoned by their caller.
const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

type request struct {
	ctx   context.Context
	fn    func(archive.Tx) error
	entry *archive.AccessEntry // instead of fn: an access-log entry alone
	token *tokenUse            // instead of fn: a token's use alone
	state atomic.Int32
	done  chan error // buffered: the committer never blocks on a caller
}

// errClosed answers writes sent after Close.
var errClosed = errors.New("the archive database is closed")

// panicked carries a panic from a write function back to its caller's
// goroutine, where it is raised again: a bug in one request must not take
// down the committer and every other request with it.
type panicked struct{ v any }

func (p panicked) Error() string { return fmt.Sprintf("panic in a write: %v", p.v) }

// Update implements archive.Store: fn runs on the committer, possibly in a
// group with other writes, and Update returns once the outcome is durable.
func (s *Store) Update(ctx context.Context, fn func(archive.Tx) error) error {
	return s.submit(ctx, &request{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// AppendAccessEntry implements archive.AccessAppender. The entry is written by
// the committer together with every other entry waiting, in one insert,
// and without the savepoint a general write needs: an insert into the log
// fails only when the whole group does, and then each write runs alone.
func (s *Store) AppendAccessEntry(ctx context.Context, e *archive.AccessEntry) error {
	return s.submit(ctx, &request{ctx: ctx, entry: e, done: make(chan error, 1)})
}

func (s *Store) submit(ctx context.Context, r *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-s.stop:
		return errClosed
	default:
	}
	select {
	case s.queue <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stop:
		return errClosed
	}
	var err error
	select {
	case err = <-r.done:
	case <-ctx.Done():
		// Abandoned before it ran: it never will. Once taken, its outcome
		// is awaited whatever the caller's context says, so that the
		// answer is the truth about the database.
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		err = <-r.done
	case <-s.stopped:
		// Queued as Close stopped the committer, after its last look.
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return errClosed
		}
		err = <-r.done
	}
	if p, ok := err.(panicked); ok {
		panic(p.v)
	}
	return err
}

// commitLoop is the committer. It stops when Close closes stop, after
// answering everything queued.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	for {
		var first *request
		select {
		case first = <-s.queue:
		case <-s.stop:
			for {
				select {
				case r := <-s.queue:
					if r.state.CompareAndSwap(reqQueued, reqTaken) {
						r.done <- errClosed
					}
				default:
					return
				}
			}
		}
		group := []*request{first}
	more:
		for len(group) < maxGroup {
			select {
			case r := <-s.queue:
				group = append(group, r)
			default:
				break more
			}
		}
		live := group[:0]
		var tokens []*request
		for _, r := range group {
			if !r.state.CompareAndSwap(reqQueued, reqTaken) {
				continue
			}
			if r.token != nil {
				tokens = append(tokens, r)
			} else {
				live = append(live, r)
			}
		}
		if len(tokens) > 0 {
			s.runTokens(tokens) // not durable commits: not counted below
		}
		if len(live) > 0 {
			s.groups.Add(1)
			s.grouped.Add(int64(len(live)))
		}
		switch len(live) {
		case 0:
		case 1:
			live[0].done <- s.runAlone(live[0])
		default:
			s.runGroup(live)
		}
	}
}

// runAlone runs one write in a transaction of its own.
func (s *Store) runAlone(r *request) error {
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &txn{tx: s.wrap(tx), blobs: s.blobs}
	switch {
	case r.entry != nil:
		err = t.appendLogs(context.Background(), []*archive.AccessEntry{r.entry})
	default:
		err = call(r, t)
	}
	if err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

// runGroup runs writes in one transaction, each in a savepoint. If the
// group as a whole fails (an error that ends the transaction, a failed
// commit), every write in it runs again alone, so that each gets its own
// true answer; write functions are written to be run again.
func (s *Store) runGroup(group []*request) {
	results, err := s.tryGroup(group)
	if err != nil {
		s.regroups.Add(1)
		for _, r := range group {
			r.done <- s.runAlone(r)
		}
		return
	}
	for i, r := range group {
		r.done <- results[i]
	}
}

func (s *Store) tryGroup(group []*request) ([]error, error) {
	bg := context.Background()
	tx, err := s.w.BeginTx(bg, nil)
	if err != nil {
		return nil, err
	}
	t := &txn{tx: s.wrap(tx), blobs: s.blobs}
	results := make([]error, len(group))
	var entries []*archive.AccessEntry
	for i, r := range group {
		if r.entry != nil {
			entries = append(entries, r.entry)
			continue
		}
		if _, err := t.tx.ExecContext(bg, qSavepoint); err != nil {
			tx.Rollback()
			return nil, err
		}
		if results[i] = call(r, t); results[i] != nil {
			if _, err := t.tx.ExecContext(bg, qRollbackTo); err != nil {
				tx.Rollback()
				return nil, err
			}
		}
		if _, err := t.tx.ExecContext(bg, qRelease); err != nil {
			tx.Rollback()
			return nil, err
		}
	}
	if err := t.appendLogs(bg, entries); err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return results, nil
}

// call runs a write function, turning a panic into an error for its caller.
func call(r *request, t *txn) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicked{v}
		}
	}()
	return r.fn(t)
}

// GroupStats reports how many groups the committer has run and how many
// writes they held, and how many groups failed as a whole and ran their
// writes again alone: for benchmarks and tests.
func (s *Store) GroupStats() (groups, writes, regroups int64) {
	return s.groups.Load(), s.grouped.Load(), s.regroups.Load()
}

// CommitStats reports the durable commits made and the writes (access-log
// entries among them) they held.
func (s *Store) CommitStats() (commits, writes int64) {
	return s.groups.Load() + s.regroups.Load(), s.grouped.Load()
}
