// Package postgres is the production storage backend: PostgreSQL through
// pgx, with document content in the database or in an external blob store.
// It behaves exactly as the SQLite backend; the behaviour suites, which
// behaviour_test.go runs, prove it.
//
// Each entity's statements are in a file of their own (documents.go,
// search.go, log.go, relationships.go, ...); what the backends share
// whatever the dialect is in internal/store/sqlstore, and dialect.go says
// how PostgreSQL's SQL differs.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

// Store is an archive.Store on PostgreSQL.
type Store struct {
	pool  *pgxpool.Pool
	blobs blob.Store
	log   *logBatcher // writes access-log entries of reads together (logbatch.go)

	updates   atomic.Int64 // write transactions committed
	tokenUses atomic.Int64 // token uses recorded (tokens.go)
}

// Options configure Open.
type Options struct {
	// Blobs keeps content outside the database; nil keeps it inside.
	Blobs blob.Store
	// NoMigrate opens without applying migrations (admin migrate does).
	NoMigrate bool
	// MaxConns bounds the connection pool; default 16.
	MaxConns int32
	// SkipBlobCheck opens without checking (or recording) the blob store,
	// for schema maintenance only.
	SkipBlobCheck bool

	// tracer sees every statement sent (the benchmarks count them).
	tracer pgx.QueryTracer
}

// Open connects and applies pending migrations.
func Open(ctx context.Context, url string, opts ...Options) (*Store, error) {
	var opt Options
	if len(opts) > 0 {
		opt = opts[0]
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("--database: %w", err)
	}
	cfg.MaxConns = 16
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	if opt.tracer != nil {
		cfg.ConnConfig.Tracer = opt.tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	s := &Store{pool: pool, blobs: opt.Blobs}
	if !opt.NoMigrate {
		if err := s.Migrate(ctx, len(migrations)); err != nil {
			pool.Close()
			return nil, err
		}
	}
	if !opt.SkipBlobCheck {
		if err := s.checkBlobSetting(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	s.startLoggers()
	return s, nil
}

// Close writes the access-log entries already queued, then closes the pool.
func (s *Store) Close() error {
	if s.log != nil {
		s.log.close()
	}
	s.pool.Close()
	return nil
}

// Pool exposes the connection pool (backup, tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Latest is the newest schema version this build knows.
func Latest() int { return len(migrations) }

// SchemaVersion returns the applied schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&n)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // no table yet
		return 0, nil
	}
	return n, err
}

// migrationLock is the advisory lock key that serialises migrators.
const migrationLock = 0x61726b6973746f // "arkisto"

// Migrate applies migrations up to version `to`.
func (s *Store) Migrate(ctx context.Context, to int) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer func() {
		// A connection still holding the lock must not go back to the
		// pool, where it would block every later migrator.
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLock); err != nil {
			// Closing is the remedy; the pool drops a closed connection.
			_ = conn.Conn().Close(context.Background())
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	for i := 0; i < to && i < len(migrations); i++ {
		version := i + 1
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&done); err != nil || done {
				return err
			}
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", version, err)
		}
	}
	if to >= searchTermsMigration {
		return s.fillSearchTerms(ctx)
	}
	return nil
}

// searchTermsMigration is the migration that added the documents' search
// terms.
const searchTermsMigration = 8

// fillSearchTerms fills in the author terms of versions archived before
// migration 8, in batches, from their records; once done it finds nothing
// to do in one index probe. Servers doing it at once write the same values.
func (s *Store) fillSearchTerms(ctx context.Context) error {
	pkey, err := s.Secret(ctx, archive.PatientSecret, 32)
	if err != nil {
		return fmt.Errorf("search terms: %w", err)
	}
	for {
		rows, err := s.pool.Query(ctx, `SELECT client_key, doc_id, record FROM documents WHERE NOT search_terms ORDER BY doc_id LIMIT 500`)
		if err != nil {
			return fmt.Errorf("search terms: %w", err)
		}
		type row struct{ key, id, family, given, patient string }
		var batch []row
		for rows.Next() {
			var key, id string
			var js []byte
			if err := rows.Scan(&key, &id, &js); err != nil {
				rows.Close()
				return fmt.Errorf("search terms: %w", err)
			}
			r, err := sqlstore.DecodeRecord("current", "", js, nil)
			if err != nil {
				rows.Close()
				return fmt.Errorf("search terms of %s: %w", id, err)
			}
			f, g := archive.AuthorTerms(r)
			batch = append(batch, row{key, id, f, g, archive.PatientID(pkey, key)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("search terms: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			for _, b := range batch {
				if _, err := tx.Exec(ctx, `UPDATE documents SET author_family = $3, author_given = $4, patient_id = $5, search_terms = true WHERE client_key = $1 AND doc_id = $2`, b.key, b.id, b.family, b.given, b.patient); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("search terms: %w", err)
		}
	}
}

// Secret returns the archive's named secret (archive.Secrets), the same
// for every server on the archive.
func (s *Store) Secret(ctx context.Context, name string, n int) ([]byte, error) {
	return sqlstore.Secret(ctx, settings{s.pool}, dialect, name, n)
}

// BlobStoreName names where content is kept: "db" or the blob store.
func (s *Store) BlobStoreName() string { return sqlstore.BlobStoreName(s.blobs) }

// checkBlobSetting records where content goes on first use and refuses a
// later open that would look for it elsewhere.
func (s *Store) checkBlobSetting(ctx context.Context) error {
	return sqlstore.CheckBlobSetting(ctx, settings{s.pool}, dialect, s.BlobStoreName())
}

// Update implements archive.Store.
func (s *Store) Update(ctx context.Context, fn func(archive.Tx) error) error {
	err := s.run(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
	if err == nil {
		s.updates.Add(1)
	}
	return err
}

// View implements archive.Store.
func (s *Store) View(ctx context.Context, fn func(archive.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

func (s *Store) run(ctx context.Context, opts pgx.TxOptions, fn func(archive.Tx) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Release()
	tx := &lazyTx{conn: conn, opts: opts}
	if err := fn(&txn{tx: tx, blobs: s.blobs}); err != nil {
		tx.rollback()
		return mapErr(err)
	}
	if err := tx.commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

func mapErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return sqlstore.Duplicate(true)
		case "40001", "40P01": // serialization failure, deadlock
			return &archive.Error{Kind: archive.ErrConflict, Retry: true, Message: "a concurrent change conflicted; retry"}
		}
	}
	return err
}

type txn struct {
	tx    querier
	blobs blob.Store
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// IsArchive reports whether the database's search path holds an archive
// (its migrations table). It changes nothing.
func IsArchive(ctx context.Context, url string) (bool, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return false, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&ok); err != nil {
		return false, err
	}
	return ok, nil
}
