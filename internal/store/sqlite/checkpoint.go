package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
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
	db             *sql.DB // its own connection, closed with it
	stop, stopped  chan struct{}
	runs, failures atomic.Int64
}

func startCheckpointer(db *sql.DB) *checkpointer {
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, stop: make(chan struct{}), stopped: make(chan struct{})}
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer close(c.stopped)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			// A failed checkpoint loses nothing (the WAL keeps every
			// commit), but the WAL then grows: tell the operator once
			// when checkpoints start failing and once when they recover.
			err := c.checkpoint(context.Background())
			if err != nil {
				c.failures.Add(1)
			}
			if (err != nil) != failing {
				failing = err != nil
				if failing {
					slog.Warn("sqlite: WAL checkpoints are failing; the WAL grows until they succeed", "err", err)
				} else {
					slog.Info("sqlite: WAL checkpoints succeed again")
				}
			}
		}
	}
}

// checkpoint copies what it can of the WAL into the database file without
// waiting for readers or the writer.
func (c *checkpointer) checkpoint(ctx context.Context) error {
	if _, err := c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	c.runs.Add(1)
	return nil
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.stopped
	return c.db.Close()
}

// checkpointStats reports how many checkpoints the checkpointer has run
// and how many of them failed (for tests).
func (s *Store) checkpointStats() (runs, failures int64) {
	return s.ckpt.runs.Load(), s.ckpt.failures.Load()
}
