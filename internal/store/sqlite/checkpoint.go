package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"
)

// Checkpoints. In WAL mode every commit appends pages to the WAL, and a
// checkpoint copies them back into the database file. SQLite's default is
// for the committing connection to checkpoint whenever the WAL has grown
// past 1,000 pages, inside its commit. Here that connection is the
// committer every write waits for, and with readers always active a
// checkpoint often cannot finish, so the WAL stays over the mark and the
// next commit tries again: at a million documents, checkpoint attempts in
// the commit path took more CPU than the reads they held up
// (docs/benchmarks.md). So the committer does not checkpoint; a
// checkpointer of its own, on its own connection, does, a few times a
// second, without blocking readers or the writer (PASSIVE).

// checkpointEvery is how often the checkpointer runs.
const checkpointEvery = 200 * time.Millisecond

// writerAutoCheckpoint is the writer's own checkpoint threshold in pages,
// a safety valve should the checkpointer ever fall far behind: 256 MiB of
// WAL at 4 KiB pages.
const writerAutoCheckpoint = 65536

type checkpointer struct {
	db             *sql.DB
	stop, stopped  chan struct{}
	runs, failures atomic.Int64
}

func startCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, stop: make(chan struct{}), stopped: make(chan struct{})}
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer close(c.stopped)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			if _, err := c.checkpoint(context.Background()); err != nil {
				c.failures.Add(1)
			}
		}
	}
}

// checkpoint copies what it can of the WAL into the database file and
// reports how many frames the WAL holds that are not yet copied.
func (c *checkpointer) checkpoint(ctx context.Context) (behind int64, err error) {
	var busy, logFrames, copied int64
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &copied); err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	c.runs.Add(1)
	return logFrames - copied, nil
}

func (c *checkpointer) close() {
	close(c.stop)
	<-c.stopped
}

// CheckpointStats reports how many checkpoints the checkpointer has run
// and how many of them failed: for tests and benchmarks.
func (s *Store) CheckpointStats() (runs, failures int64) {
	return s.ckpt.runs.Load(), s.ckpt.failures.Load()
}
