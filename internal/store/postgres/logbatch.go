package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

// Access-log entries of reads are written together. Every read the archive
// answers must be logged durably before its answer leaves, and a read's own
// transaction is read-only, so each read would otherwise cost a write
// transaction of its own: three round trips and a WAL flush. Instead the
// entries wait on a queue, and loggers insert every entry waiting in one
// statement, which is its own transaction: one round trip and one WAL
// flush for the lot. Callers hear back only once that statement has
// committed. Two loggers run so that one batch gathers while the other
// is being flushed.

// maxLogBatch bounds one insert.
const maxLogBatch = 256

// loggers is how many batches can be in flight at once.
const loggers = 2

// logTimeout bounds one insert, so that a stalled database fails the
// reads waiting on it (fail closed) instead of holding them for ever.
const logTimeout = 30 * time.Second

type logReq struct {
	e     *archive.AccessEntry
	state atomic.Int32
	done  chan error // buffered: a logger never blocks on a caller
}

const (
	logQueued int32 = iota
	logTaken
	logAbandoned
)

// errClosed answers entries sent after Close.
var errClosed = errors.New("the archive database is closed")

type logBatcher struct {
	queue   chan *logReq
	stop    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
	batches atomic.Int64
	entries atomic.Int64
}

func (s *Store) startLoggers() {
	b := &logBatcher{queue: make(chan *logReq, maxLogBatch*loggers), stop: make(chan struct{})}
	for range loggers {
		b.wg.Add(1)
		go s.logLoop(b)
	}
	s.log = b
}

func (b *logBatcher) close() {
	b.once.Do(func() {
		close(b.stop)
		b.wg.Wait()
	})
}

// AppendAccessEntry implements archive.AccessAppender: it returns once the entry
// is durable, with its ID set.
func (s *Store) AppendAccessEntry(ctx context.Context, e *archive.AccessEntry) error {
	b := s.log
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-b.stop:
		return errClosed
	default:
	}
	r := &logReq{e: e, done: make(chan error, 1)}
	select {
	case b.queue <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.stop:
		return errClosed
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		// Abandoned before a logger took it: it is never written. Once
		// taken, the caller waits for the truth about the database.
		if r.state.CompareAndSwap(logQueued, logAbandoned) {
			return ctx.Err()
		}
		return <-r.done
	case <-b.stop:
		// Queued as Close stopped the loggers, after their last look.
		if r.state.CompareAndSwap(logQueued, logAbandoned) {
			return errClosed
		}
		return <-r.done
	}
}

// logLoop is one logger. On Close it writes what is already queued, then
// stops.
func (s *Store) logLoop(b *logBatcher) {
	defer b.wg.Done()
	for {
		var first *logReq
		select {
		case first = <-b.queue:
		case <-b.stop:
			for {
				select {
				case r := <-b.queue:
					if r.state.CompareAndSwap(logQueued, logTaken) {
						r.done <- s.insertLog(context.Background(), []*archive.AccessEntry{r.e})
					}
				default:
					return
				}
			}
		}
		batch := []*logReq{first}
	more:
		for len(batch) < maxLogBatch {
			select {
			case r := <-b.queue:
				batch = append(batch, r)
			default:
				break more
			}
		}
		live := batch[:0]
		for _, r := range batch {
			if r.state.CompareAndSwap(logQueued, logTaken) {
				live = append(live, r)
			}
		}
		if len(live) == 0 {
			continue
		}
		b.batches.Add(1)
		b.entries.Add(int64(len(live)))
		es := make([]*archive.AccessEntry, len(live))
		for i, r := range live {
			es[i] = r.e
		}
		if err := s.insertLog(context.Background(), es); err != nil && len(live) > 1 {
			// One entry may spoil the statement for all: each is tried
			// alone, so that each gets its own true answer.
			for _, r := range live {
				r.done <- s.insertLog(context.Background(), []*archive.AccessEntry{r.e})
			}
			continue
		} else if err != nil {
			live[0].done <- err
			continue
		}
		for _, r := range live {
			r.done <- nil
		}
	}
}

// qInsertLogs inserts a batch of entries given as arrays, one per column,
// in their order; ids are drawn from the sequence in that order.
const qInsertLogs = `INSERT INTO access_log (client_key, at, custodian, action, outcome, reason, caller_system, caller_org, caller, documents, details,
		client_addr, server_addr, txn, raw_query)
	SELECT k, a, c, act, o, r, s, org, cj::jsonb, dj::jsonb, d, ca, sa, tx, rq
	FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
		$12::text[], $13::text[], $14::text[], $15::text[])
		WITH ORDINALITY AS u (k, a, c, act, o, r, s, org, cj, dj, d, ca, sa, tx, rq, n)
	ORDER BY n
	RETURNING id`

// insertLog writes entries in one statement and sets their ids.
func (s *Store) insertLog(ctx context.Context, es []*archive.AccessEntry) error {
	ctx, cancel := context.WithTimeout(ctx, logTimeout)
	defer cancel()
	n := len(es)
	keys, ats, custodians, actions, outcomes := make([]string, n), make([]time.Time, n), make([]string, n), make([]string, n), make([]string, n)
	reasons, systems, orgs, callers, docs, details := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	cas, sas, txns, queries := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range es {
		caller, dj, err := sqlstore.EncodeEntry(e)
		if err != nil {
			return err
		}
		keys[i], ats[i], custodians[i], actions[i], outcomes[i] = e.ClientKey, e.At, e.Custodian, string(e.Action), string(e.Outcome)
		reasons[i], systems[i], orgs[i], callers[i], docs[i], details[i] = e.Reason, e.Caller.System, e.Caller.Organisation, string(caller), string(dj), e.Details
		cas[i], sas[i], txns[i], queries[i] = sqlstore.RequestColumns(e)
	}
	rows, err := s.pool.Query(ctx, qInsertLogs, keys, ats, custodians, actions, outcomes, reasons, systems, orgs, callers, docs, details, cas, sas, txns, queries)
	if err != nil {
		return fmt.Errorf("append access log: %w", err)
	}
	ids := make([]int64, 0, n)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("append access log: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("append access log: %w", err)
	}
	if len(ids) != n {
		return fmt.Errorf("append access log: %d rows inserted for %d entries", len(ids), n)
	}
	// Rows are inserted, and their ids drawn, in the order given; the
	// order RETURNING lists them in is not promised.
	slices.Sort(ids)
	for i, e := range es {
		e.ID = ids[i]
	}
	return nil
}

// CommitStats reports the durable commits made and the writes (access-log
// entries among them) they held: every Update is a commit of its own, and
// every batch of access-log entries one more.
func (s *Store) CommitStats() (commits, writes int64) {
	tokens := s.tokenUses.Load() // each its own commit
	return s.updates.Load() + s.log.batches.Load() + tokens, s.updates.Load() + s.log.entries.Load() + tokens
}

// LogBatchStats reports how many inserts the loggers have run and how many
// entries they held: for benchmarks and tests.
func (s *Store) LogBatchStats() (batches, entries int64) {
	return s.log.batches.Load(), s.log.entries.Load()
}
