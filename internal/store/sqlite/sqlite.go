// Package sqlite is the embedded storage backend: one SQLite database in
// WAL mode with synchronous=FULL in a data directory, and document content
// addressed by SHA-256, in the database or in an external blob store. It
// uses the pure-Go driver so that the archive builds and runs with nothing
// but Go installed.
//
// Each entity's statements are in a file of their own (documents.go,
// search.go, log.go, relationships.go, ...); what the backends share
// whatever the dialect is in internal/store/sqlstore, and dialect.go says
// how SQLite's SQL differs. behaviour_test.go runs the behaviour suites.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

// FileName is the database file inside the data directory.
const FileName = "arkisto.db"

// Store is an archive.Store on SQLite.
type Store struct {
	w     *sql.DB    // one connection: SQLite has one writer at a time
	tw    *sql.DB    // the committer's second connection, for token uses (tokens.go)
	r     *sql.DB    // readers run concurrently with the writer in WAL mode
	blobs blob.Store // nil: content in the database
	path  string

	wStmts, rStmts, tStmts map[string]*sql.Stmt // prepared hot statements

	// The committer (commit.go).
	queue                     chan *request
	stop, stopped             chan struct{}
	closeOnce                 sync.Once
	groups, grouped, regroups atomic.Int64

	openedAt int // schema version found when opened

	ckpt *checkpointer // checkpoint.go
}

// OpenedAt is the schema version the database had before Open migrated it.
func (s *Store) OpenedAt() int { return s.openedAt }

// Options configure Open.
type Options struct {
	// Blobs keeps content outside the database; nil keeps it inside. An
	// archive remembers where its content is and refuses to open with
	// another setting.
	Blobs blob.Store
	// SkipBlobCheck opens without checking (or recording) the blob store,
	// for schema maintenance only.
	SkipBlobCheck bool
}

// Open opens (creating if needed) the archive database in dir and applies
// pending migrations.
func Open(ctx context.Context, dir string, opts ...Options) (*Store, error) {
	var opt Options
	if len(opts) > 0 {
		opt = opts[0]
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	dsn := func(extra ...string) string {
		v := url.Values{}
		v.Add("_pragma", "busy_timeout(15000)")
		v.Add("_pragma", "journal_mode(WAL)")
		v.Add("_pragma", "synchronous(FULL)")
		v.Add("_pragma", "foreign_keys(1)")
		for _, e := range extra {
			v.Add("_pragma", e)
		}
		v.Add("_txlock", "immediate")
		return FileURI(path) + "?" + v.Encode()
	}
	// The writers keep statement journals in memory: on disk, every write
	// spilled its savepoint journal to a temporary file, 52 write calls
	// per archived document instead of 17 (issue 16). Writes are bounded
	// (batches, one document's rows); the readers, whose sorts of a large
	// export may not be, keep temporary files.
	const memTemp = "temp_store(MEMORY)"
	w, err := sql.Open("sqlite", dsn(memTemp, fmt.Sprintf("wal_autocheckpoint(%d)", writerAutoCheckpoint)))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open database: %w", err), w.Close())
	}
	// Readers stay open: the default of two idle connections would close
	// and reopen the others, parsing the schema each time, under load.
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	r.SetConnMaxIdleTime(0)
	s := &Store{w: w, r: r, blobs: opt.Blobs, path: path}
	if s.openedAt, err = s.SchemaVersion(ctx); err != nil {
		s.openedAt = 0 // a new database has no migrations table yet
	}
	if err := s.migrate(ctx); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	if !opt.SkipBlobCheck {
		if err := s.checkBlobSetting(ctx); err != nil {
			return nil, errors.Join(err, s.Close())
		}
	}
	if s.wStmts, err = prepare(ctx, w, hotWrites); err == nil {
		s.rStmts, err = prepare(ctx, r, hotReads)
	}
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	// Token uses commit without waiting for an fsync (tokens.go says why);
	// only the committer uses this connection, so it never waits for w.
	// Like w, it leaves checkpoints to the checkpointer (checkpoint.go).
	if s.tw, err = sql.Open("sqlite", dsn(memTemp, "synchronous(NORMAL)", fmt.Sprintf("wal_autocheckpoint(%d)", writerAutoCheckpoint))); err != nil {
		return nil, errors.Join(fmt.Errorf("open database: %w", err), s.Close())
	}
	s.tw.SetMaxOpenConns(1)
	s.tw.SetConnMaxIdleTime(0)
	if s.tStmts, err = prepare(ctx, s.tw, []string{qUseToken, qPurgeTokens}); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	ckptDB, err := sql.Open("sqlite", dsn())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open database: %w", err), s.Close())
	}
	s.ckpt = startCheckpointer(ckptDB)
	s.queue = make(chan *request, maxGroup)
	s.stop, s.stopped = make(chan struct{}), make(chan struct{})
	go s.commitLoop()
	return s, nil
}

// FileURI is the SQLite URI of a database file, without parameters. The
// path is escaped: a '?' or '#' in it would otherwise end the path and
// open another file, and a '%' would be decoded.
func FileURI(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath()
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Secret returns the archive's named secret (archive.Secrets), the same
// for every server on the archive.
func (s *Store) Secret(ctx context.Context, name string, n int) ([]byte, error) {
	return sqlstore.Secret(ctx, settings{s.w}, dialect, name, n)
}

// BlobStoreName names where content is kept: "db" or the blob store.
func (s *Store) BlobStoreName() string { return sqlstore.BlobStoreName(s.blobs) }

// checkBlobSetting records where content goes on first use and refuses a
// later open that would look for it elsewhere.
func (s *Store) checkBlobSetting(ctx context.Context) error {
	return sqlstore.CheckBlobSetting(ctx, settings{s.w}, dialect, s.BlobStoreName())
}

// Close stops the committer, once every write taken before has been
// answered, and closes the database.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.stop != nil {
			close(s.stop)
			<-s.stopped
		}
		var cerr error
		if s.ckpt != nil {
			cerr = s.ckpt.close()
		}
		var terr error
		if s.tw != nil {
			terr = errors.Join(closeStmts(s.tStmts), s.tw.Close())
		}
		err = errors.Join(closeStmts(s.wStmts), closeStmts(s.rStmts), s.r.Close(), cerr, terr, s.w.Close())
	})
	return err
}

// SchemaVersion returns the number of applied migrations.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&n)
	return n, err
}

func (s *Store) migrate(ctx context.Context) error { return s.migrateTo(ctx, len(migrations)) }

// migrateTo applies migrations up to version to.
func (s *Store) migrateTo(ctx context.Context, to int) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_us INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	for i, m := range migrations[:to] {
		version := i + 1
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var done int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&done); err != nil {
			tx.Rollback()
			return err
		}
		if done > 0 {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, m); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_us) VALUES (?, ?)`, version, time.Now().UnixMicro()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
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
const searchTermsMigration = 7

// fillSearchTerms fills in the author terms of versions archived before
// migration 7, in batches, from their records; once done it finds nothing
// to do in one index probe.
func (s *Store) fillSearchTerms(ctx context.Context) error {
	pkey, err := s.Secret(ctx, archive.PatientSecret, 32)
	if err != nil {
		return fmt.Errorf("search terms: %w", err)
	}
	for {
		rows, err := s.w.QueryContext(ctx, `SELECT doc_id, record_json FROM documents WHERE search_terms = 0 ORDER BY doc_id LIMIT 500`)
		if err != nil {
			return fmt.Errorf("search terms: %w", err)
		}
		type row struct{ id, family, given, patient string }
		var batch []row
		for rows.Next() {
			var id, js string
			if err := rows.Scan(&id, &js); err != nil {
				rows.Close()
				return fmt.Errorf("search terms: %w", err)
			}
			r, err := sqlstore.DecodeRecord("current", "", []byte(js), nil)
			if err != nil {
				rows.Close()
				return fmt.Errorf("search terms of %s: %w", id, err)
			}
			f, g := archive.AuthorTerms(r)
			batch = append(batch, row{id, f, g, archive.PatientID(pkey, r.ClientKey())})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("search terms: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for _, b := range batch {
			if _, err := tx.ExecContext(ctx, `UPDATE documents SET author_family = ?, author_given = ?, patient_id = ?, search_terms = 1 WHERE doc_id = ?`, b.family, b.given, b.patient, b.id); err != nil {
				tx.Rollback()
				return fmt.Errorf("search terms: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("search terms: %w", err)
		}
	}
}

// View implements archive.Store.
func (s *Store) View(ctx context.Context, fn func(archive.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	return fn(&txn{tx: &sqlTx{tx: tx, stmts: s.rStmts}, blobs: s.blobs})
}

// wrap makes a write transaction of the committer's for the store's methods.
func (s *Store) wrap(tx *sql.Tx) *sqlTx {
	return &sqlTx{tx: tx, stmts: s.wStmts, detach: true}
}

type txn struct {
	tx    *sqlTx
	blobs blob.Store
}

func mapErr(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return sqlstore.Duplicate(false)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &archive.Error{Kind: archive.ErrConflict, Message: "the archive is busy; retry"}
		}
	}
	return err
}

type scanner interface{ Scan(...any) error }

func usOrNull(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func timeOrNil(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMicro(v.Int64).UTC()
	return &t
}

// IsArchive reports whether the database file at path holds an archive (its
// migrations table). It opens the file read-only and changes nothing.
func IsArchive(ctx context.Context, path string) (bool, error) {
	db, err := sql.Open("sqlite", FileURI(path)+"?mode=ro")
	if err != nil {
		return false, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	return n == 1, nil
}
