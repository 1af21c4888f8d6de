package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // the driver the SQLite store uses
)

// plainRow is one document as the archive stores it, in a plain table:
// its id, the client it belongs to, the stored record and the content.
type plainRow struct {
	id, client      string
	record, content []byte
}

// plainInsert is the storage floor: the same rows inserted into one plain
// table with a primary key and nothing else, with the durability the
// store has (SQLite: WAL, synchronous=FULL, the same driver; PostgreSQL:
// synchronous_commit on), from the same number of concurrent writers,
// each row durable before its writer goes on, and commits grouped as the
// store groups them (every row waiting joins the next commit). It returns
// the time the rows took.
type plainInserter interface {
	insert(ctx context.Context, rows []plainRow) error
	close()
}

// openPlain makes an empty plain table beside the run's other stores.
func (b *run) openPlain(ctx context.Context) (plainInserter, error) {
	if b.cfg.DatabaseURL == "" {
		dir := filepath.Join(b.cfg.Dir, "plain-sqlite")
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		v := url.Values{}
		for _, p := range []string{"busy_timeout(15000)", "journal_mode(WAL)", "synchronous(FULL)"} {
			v.Add("_pragma", p)
		}
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "plain.db")+"?"+v.Encode())
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1) // one writer, as in the store
		if _, err := db.ExecContext(ctx, `CREATE TABLE plain (id TEXT PRIMARY KEY, client TEXT NOT NULL, record BLOB NOT NULL, content BLOB NOT NULL)`); err != nil {
			db.Close()
			return nil, fmt.Errorf("plain insert baseline: %w", err)
		}
		return newGrouped(&sqlitePlain{db: db}), nil
	}
	u, err := schemaURL(ctx, b.cfg.DatabaseURL, b.cfg.Schema+"_plain")
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		return nil, err
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE plain (id text PRIMARY KEY, client text NOT NULL, record jsonb NOT NULL, content bytea NOT NULL)`); err != nil {
		pool.Close()
		return nil, fmt.Errorf("plain insert baseline: %w", err)
	}
	return newGrouped(&pgPlain{pool: pool}), nil
}

// committer writes a group of rows in one transaction.
type committer interface {
	commit(ctx context.Context, rows []plainRow) error
	close()
}

type sqlitePlain struct{ db *sql.DB }

func (s *sqlitePlain) commit(ctx context.Context, rows []plainRow) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO plain (id, client, record, content) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := st.ExecContext(ctx, r.id, r.client, r.record, r.content); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *sqlitePlain) close() { s.db.Close() }

type pgPlain struct{ pool *pgxpool.Pool }

func (p *pgPlain) commit(ctx context.Context, rows []plainRow) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		for _, r := range rows {
			batch.Queue(`INSERT INTO plain (id, client, record, content) VALUES ($1, $2, $3, $4)`, r.id, r.client, r.record, r.content)
		}
		return tx.SendBatch(ctx, batch).Close()
	})
}

func (p *pgPlain) close() { p.pool.Close() }

// grouped commits every row that is waiting in one transaction: the
// store's group commit without anything else the store does.
type grouped struct {
	c    committer
	mu   sync.Mutex
	wait []pending
	busy bool
}

type pending struct {
	row  plainRow
	done chan error
}

func newGrouped(c committer) *grouped { return &grouped{c: c} }

func (g *grouped) insert(ctx context.Context, rows []plainRow) error {
	for _, r := range rows {
		done := make(chan error, 1)
		g.mu.Lock()
		g.wait = append(g.wait, pending{r, done})
		lead := !g.busy
		g.busy = true
		g.mu.Unlock()
		if lead {
			g.lead(ctx)
		}
		if err := <-done; err != nil {
			return err
		}
	}
	return nil
}

// lead commits groups until nothing waits.
func (g *grouped) lead(ctx context.Context) {
	for {
		g.mu.Lock()
		group := g.wait
		g.wait = nil
		if len(group) == 0 {
			g.busy = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		rows := make([]plainRow, len(group))
		for i, p := range group {
			rows[i] = p.row
		}
		err := g.c.commit(ctx, rows)
		for _, p := range group {
			p.done <- err
		}
	}
}

func (g *grouped) close() { g.c.close() }

// timePlain inserts rows from conc writers and returns the time taken.
func timePlain(ctx context.Context, p plainInserter, conc int, rows []plainRow) (time.Duration, error) {
	var next sync.Mutex
	i := 0
	start := time.Now()
	err := workers(ctx, conc, func(ctx context.Context) error {
		for {
			next.Lock()
			if i >= len(rows) {
				next.Unlock()
				return nil
			}
			r := rows[i]
			i++
			next.Unlock()
			if err := p.insert(ctx, []plainRow{r}); err != nil {
				return err
			}
		}
	})
	return time.Since(start), err
}
