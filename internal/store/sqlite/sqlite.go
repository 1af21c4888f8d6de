// Package sqlite is the embedded storage backend: one SQLite database in
// WAL mode with synchronous=FULL in a data directory, and document content
// addressed by SHA-256, in the database or in an external blob store. It
// uses the pure-Go driver so that the archive builds and runs with nothing
// but Go installed.
package sqlite

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/fastjson"
	"github.com/arkisto/arkisto/internal/pki"
)

// FileName is the database file inside the data directory.
const FileName = "arkisto.db"

// Store is an archive.Store on SQLite.
type Store struct {
	w     *sql.DB    // one connection: SQLite has one writer at a time
	tw    *sql.DB    // the committer's second connection, for token uses (token.go)
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
	w, err := sql.Open("sqlite", dsn(fmt.Sprintf("wal_autocheckpoint(%d)", writerAutoCheckpoint)))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database: %w", err)
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
		s.Close()
		return nil, err
	}
	if !opt.SkipBlobCheck {
		if err := s.checkBlobSetting(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	if s.wStmts, err = prepare(ctx, w, hotWrites); err == nil {
		s.rStmts, err = prepare(ctx, r, hotReads)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	// Token uses commit without waiting for an fsync (token.go says why);
	// only the committer uses this connection, so it never waits for w.
	// Like w, it leaves checkpoints to the checkpointer (checkpoint.go).
	if s.tw, err = sql.Open("sqlite", dsn("synchronous(NORMAL)", fmt.Sprintf("wal_autocheckpoint(%d)", writerAutoCheckpoint))); err != nil {
		s.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	s.tw.SetMaxOpenConns(1)
	s.tw.SetConnMaxIdleTime(0)
	if s.tStmts, err = prepare(ctx, s.tw, []string{qUseToken, qPurgeTokens}); err != nil {
		s.Close()
		return nil, err
	}
	ckptDB, err := sql.Open("sqlite", dsn())
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open database: %w", err)
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

// BlobStoreName names where content is kept: "db" or the blob store.
func (s *Store) BlobStoreName() string {
	if s.blobs == nil {
		return "db"
	}
	return s.blobs.Name()
}

// checkBlobSetting records where content goes on first use and refuses a
// later open that would look for it elsewhere: content must never seem lost.
func (s *Store) checkBlobSetting(ctx context.Context) error {
	want := s.BlobStoreName()
	if _, err := s.w.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('blob_store', ?) ON CONFLICT (key) DO NOTHING`, want); err != nil {
		return fmt.Errorf("record the blob store: %w", err)
	}
	var have string
	if err := s.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'blob_store'`).Scan(&have); err != nil {
		return err
	}
	if have != want {
		return fmt.Errorf("this archive keeps its content in %s; open it with --blobs set to that, not %s", have, want)
	}
	return nil
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
	return nil
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
			return &archive.Error{Kind: archive.ErrConflict, Message: "a document with this id, or this version of its set, is already archived"}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &archive.Error{Kind: archive.ErrConflict, Message: "the archive is busy; retry"}
		}
	}
	return err
}

const recordCols = `d.status, d.controller, d.record_json, n.reason_code, n.reason_text, n.by_json, n.at_us`

const recordFrom = ` FROM documents d LEFT JOIN nullifications n ON n.doc_id = d.doc_id `

// Statements every request runs, prepared when the store opens.
const (
	qDocument    = `SELECT ` + recordCols + recordFrom + `WHERE d.doc_id = ?`
	qContent     = `SELECT data FROM blobs WHERE sha256 = ?`
	qPutBlob     = `INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING`
	qPutDocument = `INSERT INTO documents (doc_id, set_id, version, client_key, status, custodian, register,
		service_task, general_type, specific_type, document_group, case_id, client_relationship, service_unit,
		service_process, case_opened_us, case_closed_us,
		effective_us, replaces, content_sha256, content_size, record_json, received_us, submitter_system, submitter_org, controller)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qAppendLogPrefix = `INSERT INTO access_log (at_us, client_key, custodian, action, outcome, reason, caller_system, caller_org, caller_json, documents, details)
		VALUES `
	qAppendLog          = qAppendLogPrefix + `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qSupersede          = `UPDATE documents SET status = 'superseded' WHERE doc_id = ? AND status = 'current'`
	qOrganisation       = `SELECT ` + orgCols + ` FROM organisations WHERE oid = ?`
	qRegister           = `SELECT ` + registerCols + ` FROM registers WHERE controller = ? AND type = ?`
	qRelationship       = `SELECT organiser, start_day, end_day, document, stated FROM relationships WHERE client_key = ? AND organiser = ? AND id = ?`
	qRelationshipGrants = `SELECT client_key, relationship_id, organiser, provider, unit, service_task, start_day, end_day
		FROM relationship_grants WHERE client_key = ? AND organiser = ? AND relationship_id = ? ORDER BY service_task, unit`
	qGrants = `SELECT client_key, relationship_id, organiser, provider, unit, service_task, start_day, end_day
		FROM relationship_grants WHERE client_key = ? AND provider = ?`
)

// The savepoints of a write group (commit.go).
const (
	qSavepoint  = `SAVEPOINT w`
	qRollbackTo = `ROLLBACK TO w`
	qRelease    = `RELEASE w`
)

// hotReads are prepared on the readers, hotWrites on the writer.
var (
	hotReads  = append([]string{qDocument, qContent, qOrganisation, qRegister, qRelationship, qRelationshipGrants, qGrants}, searchShapes()...)
	hotWrites = append([]string{qPutBlob, qPutDocument, qAppendLog, qAppendLogs(4), qAppendLogs(16), qAppendLogs(64),
		qSupersede, qSavepoint, qRollbackTo, qRelease}, hotReads...)
)

type scanner interface{ Scan(...any) error }

func scanRecord(row scanner) (*archive.Record, error) {
	var status, controller, recJSON string
	var rc, rt, by sql.NullString
	var at sql.NullInt64
	if err := row.Scan(&status, &controller, &recJSON, &rc, &rt, &by, &at); err != nil {
		return nil, err
	}
	r := &archive.Record{}
	if err := fastjson.Unmarshal([]byte(recJSON), r); err != nil {
		return nil, fmt.Errorf("decode stored record: %w", err)
	}
	r.Status, r.Controller = archive.Status(status), controller
	r.Nullification = nil
	if rc.Valid {
		n := &archive.Nullification{ReasonCode: rc.String, ReasonText: rt.String, At: time.UnixMicro(at.Int64).UTC()}
		if err := json.Unmarshal([]byte(by.String), &n.By); err != nil {
			return nil, fmt.Errorf("decode nullification: %w", err)
		}
		r.Nullification = n
	}
	return r, nil
}

func (t *txn) Document(ctx context.Context, id string) (*archive.Record, error) {
	r, err := scanRecord(t.tx.QueryRowContext(ctx, qDocument, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return r, err
}

func (t *txn) Content(ctx context.Context, r *archive.Record) ([]byte, error) {
	sum := r.SHA256
	var data []byte
	err := t.tx.QueryRowContext(ctx, qContent, sum).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: content %s has no row in the blobs table", blob.ErrMissing, sum)
	}
	if err != nil {
		return nil, err
	}
	if data == nil {
		if t.blobs == nil {
			return nil, fmt.Errorf("%w: content %s is kept outside the database, and no blob store is configured", blob.ErrMissing, sum)
		}
		if data, err = t.blobs.Get(ctx, sum); err != nil {
			return nil, err
		}
	} else if err := blob.Check(sum, data); err != nil {
		return nil, err
	}
	if err := archive.CheckContent(r, data); err != nil {
		return nil, err
	}
	return data, nil
}

func (t *txn) PutDocument(ctx context.Context, r *archive.Record, content []byte) error {
	stored := content
	if t.blobs != nil {
		// The blob is durable before the transaction that refers to it
		// commits; if that transaction fails, the blob is merely unused.
		if err := t.blobs.Put(ctx, r.SHA256, content); err != nil {
			return err
		}
		stored = nil
	}
	if _, err := t.tx.ExecContext(ctx, qPutBlob, r.SHA256, len(content), stored); err != nil {
		return fmt.Errorf("store content: %w", mapErr(err))
	}
	if r.Controller == "" {
		r.Controller = r.Header.Custodian.OID
	}
	row := *r
	row.Nullification = nil
	js, err := fastjson.Marshal(&row)
	if err != nil {
		return err
	}
	h := &r.Header
	replaces, process := "", ""
	if h.Replaces != nil {
		replaces = h.Replaces.ID
	}
	if h.ServiceProcess != nil {
		process = h.ServiceProcess.Code.Code
	}
	var opened, closed sql.NullInt64
	if h.Case.Opened != nil {
		opened = sql.NullInt64{Int64: h.Case.Opened.UnixMicro(), Valid: true}
	}
	if h.Case.Closed != nil {
		closed = sql.NullInt64{Int64: h.Case.Closed.UnixMicro(), Valid: true}
	}
	_, err = t.tx.ExecContext(ctx, qPutDocument,
		h.ID, h.SetID, h.Version, r.ClientKey(), string(r.Status), h.Custodian.OID, h.Register.Code,
		h.ServiceTask.Code, h.GeneralType.Code, h.SpecificType.Code, h.DocumentGroup.Code, h.Case.ID, h.ClientRelationshipID, h.Case.ServiceUnit.OID,
		process, opened, closed,
		h.EffectiveTime.UnixMicro(), replaces, r.SHA256, r.Size, string(js), r.ReceivedAt.UnixMicro(), r.Submitter.System, r.Submitter.Organisation, r.Controller)
	if err != nil {
		return fmt.Errorf("store document: %w", mapErr(err))
	}
	return nil
}

func (t *txn) Supersede(ctx context.Context, id string) (bool, error) {
	res, err := t.tx.ExecContext(ctx, qSupersede, id)
	if err != nil {
		return false, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *txn) Nullify(ctx context.Context, id string, n archive.Nullification) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE documents SET status = 'nullified' WHERE doc_id = ? AND status <> 'nullified'`, id)
	if err != nil {
		return false, mapErr(err)
	}
	if c, err := res.RowsAffected(); err != nil || c != 1 {
		return false, err
	}
	by, err := json.Marshal(n.By)
	if err != nil {
		return false, err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO nullifications (doc_id, client_key, reason_code, reason_text, by_json, at_us)
		SELECT doc_id, client_key, ?, ?, ?, ? FROM documents WHERE doc_id = ?`, n.ReasonCode, n.ReasonText, string(by), n.At.UnixMicro(), id)
	if err != nil {
		return false, mapErr(err)
	}
	return true, nil
}

// in appends "col IN (?, ...)" for a non-empty list.
func in(where *[]string, args *[]any, col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	*where = append(*where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")")
	for _, v := range vals {
		*args = append(*args, v)
	}
}

func (t *txn) Search(ctx context.Context, q archive.Query, scope archive.Scope) ([]*archive.Record, error) {
	if len(scope.Controllers) == 0 && len(scope.Grants) == 0 {
		return nil, nil // nothing is visible: fail closed
	}
	query, args, err := searchSQL(q, scope)
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return collect(rows)
}

// searchShapes are the searches professionals make most, as SQL: a
// client's documents in the caller's own register, a page of them, and
// those of one case, service task or period. A search whose SQL is one of
// these runs prepared; parsing it is a tenth of the cost of a list.
func searchShapes() []string {
	day := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	own := archive.Scope{Controllers: []string{"o"}}
	var out []string
	for _, q := range []archive.Query{
		{ClientKey: "c"},
		{ClientKey: "c", Cursor: archive.EncodeCursor(day, "d")},
		{ClientKey: "c", Cases: []string{"x"}},
		{ClientKey: "c", ServiceTasks: []string{"x"}},
		{ClientKey: "c", From: day, To: day},
	} {
		query, _, err := searchSQL(q, own)
		if err != nil {
			panic(err) // the queries above are fixed
		}
		out = append(out, query)
	}
	return out
}

// searchSQL builds a search's query.
func searchSQL(q archive.Query, scope archive.Scope) (string, []any, error) {
	var where []string
	var args []any
	scopeWhere(&where, &args, scope, q.ClientKey != "")
	if q.ClientKey != "" {
		where = append(where, "d.client_key = ?")
		args = append(args, q.ClientKey)
	}
	in(&where, &args, "d.register", q.Registers)
	in(&where, &args, "d.controller", q.Custodians)
	in(&where, &args, "d.service_task", q.ServiceTasks)
	in(&where, &args, "d.general_type", q.GeneralTypes)
	in(&where, &args, "d.specific_type", q.SpecificTypes)
	in(&where, &args, "d.document_group", q.DocumentGroups)
	in(&where, &args, "d.case_id", q.Cases)
	in(&where, &args, "d.client_relationship", q.ClientRelationship)
	in(&where, &args, "d.service_unit", q.ServiceUnits)
	in(&where, &args, "d.set_id", q.SetIDs)
	in(&where, &args, "d.service_process", q.ServiceProcesses)
	if !q.PeriodFrom.IsZero() {
		// The case period reaches PeriodFrom: it has not closed before it.
		where = append(where, "d.case_opened_us IS NOT NULL AND (d.case_closed_us IS NULL OR d.case_closed_us >= ?)")
		args = append(args, q.PeriodFrom.UnixMicro())
	}
	if !q.PeriodTo.IsZero() {
		where = append(where, "d.case_opened_us IS NOT NULL AND d.case_opened_us < ?")
		args = append(args, q.PeriodTo.UnixMicro())
	}
	statuses := q.Statuses
	if len(statuses) == 0 {
		statuses = []archive.Status{archive.StatusCurrent, archive.StatusSuperseded}
	}
	ss := make([]string, len(statuses))
	for i, s := range statuses {
		ss[i] = string(s)
	}
	in(&where, &args, "d.status", ss)
	if !q.From.IsZero() {
		where = append(where, "d.effective_us >= ?")
		args = append(args, q.From.UnixMicro())
	}
	if !q.To.IsZero() {
		where = append(where, "d.effective_us < ?")
		args = append(args, q.To.UnixMicro())
	}
	if q.Cursor != "" {
		at, id, err := archive.DecodeCursor(q.Cursor)
		if err != nil {
			return "", nil, err
		}
		where = append(where, "(d.effective_us < ? OR (d.effective_us = ? AND d.doc_id < ?))")
		args = append(args, at.UnixMicro(), at.UnixMicro(), id)
	}
	args = append(args, q.Limit+1)
	return `SELECT ` + recordCols + recordFrom + `WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY d.effective_us DESC, d.doc_id DESC LIMIT ?`, args, nil
}

// scopeWhere limits a search to the caller's registers and grants. When
// the search names a client, the unary + keeps SQLite from using the
// controller index for the scope: it would walk all of a controller's
// documents to find one client's, where the client index goes straight
// to them.
func scopeWhere(where *[]string, args *[]any, scope archive.Scope, client bool) {
	col := "d.controller"
	if client {
		col = "+d.controller"
	}
	var ors []string
	if len(scope.Controllers) > 0 {
		ors = append(ors, col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(scope.Controllers)), ", ")+")")
		for _, c := range scope.Controllers {
			*args = append(*args, c)
		}
	}
	for _, g := range scope.Grants {
		ors = append(ors, "(d.client_key = ? AND "+col+" = ? AND d.status <> 'nullified' AND (d.service_task = ? OR (d.document_group = '1' AND d.client_relationship = ?)))")
		*args = append(*args, g.ClientKey, g.Organiser, g.ServiceTask, g.RelationshipID)
	}
	*where = append(*where, "("+strings.Join(ors, " OR ")+")")
}

func collect(rows *sql.Rows) ([]*archive.Record, error) {
	defer rows.Close()
	var out []*archive.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (t *txn) Versions(ctx context.Context, setID string) ([]*archive.Record, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+recordCols+recordFrom+`WHERE d.set_id = ? ORDER BY d.version`, setID)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

func (t *txn) AppendAccess(ctx context.Context, e *archive.AccessEntry) error {
	return t.appendLogs(ctx, []*archive.AccessEntry{e})
}

// logRow is an access-log entry as the insert's arguments.
func logRow(e *archive.AccessEntry) ([]any, error) {
	caller, err := fastjson.Marshal(e.Caller)
	if err != nil {
		return nil, err
	}
	docs := e.Documents
	if docs == nil {
		docs = []string{}
	}
	dj, err := fastjson.Marshal(docs)
	if err != nil {
		return nil, err
	}
	return []any{e.At.UnixMicro(), e.ClientKey, e.Custodian, string(e.Action), string(e.Outcome), e.Reason, e.Caller.System, e.Caller.Organisation, string(caller), string(dj), e.Details}, nil
}

// appendLogs inserts entries with as few statements as the prepared
// multi-row inserts allow, and sets their ids: the rows of one statement
// get consecutive ids.
func (t *txn) appendLogs(ctx context.Context, es []*archive.AccessEntry) error {
	for len(es) > 0 {
		n := logBatch(len(es))
		args := make([]any, 0, n*logCols)
		for _, e := range es[:n] {
			row, err := logRow(e)
			if err != nil {
				return err
			}
			args = append(args, row...)
		}
		res, err := t.tx.ExecContext(ctx, qAppendLogs(n), args...)
		if err != nil {
			return fmt.Errorf("append access log: %w", err)
		}
		last, err := res.LastInsertId()
		if err != nil {
			return err
		}
		for i, e := range es[:n] {
			e.ID = last - int64(n-1-i)
		}
		es = es[n:]
	}
	return nil
}

// logBatches are the row counts of the prepared access-log inserts.
var logBatches = []int{64, 16, 4, 1}

// logBatch is the largest prepared batch that n entries fill.
func logBatch(n int) int {
	for _, b := range logBatches {
		if n >= b {
			return b
		}
	}
	return 1
}

const logCols = 11

// qAppendLogs is the insert of n access-log entries.
func qAppendLogs(n int) string {
	if n == 1 {
		return qAppendLog
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", logCols), ", ") + ")"
	return qAppendLogPrefix + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

func (t *txn) AccessLog(ctx context.Context, q archive.AccessLogQuery) ([]*archive.AccessEntry, error) {
	where := []string{"client_key = ?"}
	args := []any{q.ClientKey}
	if q.Organisation != "" {
		or := []string{"custodian = ?", "(caller_org = ? AND outcome = 'allowed')"}
		args = append(args, q.Organisation, q.Organisation)
		for _, p := range q.Predecessors {
			if p.Until.IsZero() {
				or = append(or, "custodian = ?")
				args = append(args, p.Controller)
			} else {
				or = append(or, "(custodian = ? AND at_us < ?)")
				args = append(args, p.Controller, p.Until.UnixMicro())
			}
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	if q.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, q.Before)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := t.tx.QueryContext(ctx, `SELECT id, at_us, client_key, custodian, action, outcome, reason, caller_json, documents, details
		FROM access_log WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	return scanLogRows(rows)
}

func scanLogRows(rows *sql.Rows) ([]*archive.AccessEntry, error) {
	defer rows.Close()
	var out []*archive.AccessEntry
	for rows.Next() {
		e := &archive.AccessEntry{}
		var at int64
		var action, outcome, caller, docs string
		if err := rows.Scan(&e.ID, &at, &e.ClientKey, &e.Custodian, &action, &outcome, &e.Reason, &caller, &docs, &e.Details); err != nil {
			return nil, err
		}
		e.At, e.Action, e.Outcome = time.UnixMicro(at).UTC(), archive.Action(action), archive.Outcome(outcome)
		if err := json.Unmarshal([]byte(caller), &e.Caller); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(docs), &e.Documents); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (t *txn) AddTrustAnchor(ctx context.Context, c *x509.Certificate) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO trust_anchors (sha256, subject, der, added_us) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING`,
		pki.Fingerprint(c), c.Subject.String(), c.Raw, time.Now().UnixMicro())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *txn) TrustAnchors(ctx context.Context) ([]*x509.Certificate, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT der FROM trust_anchors ORDER BY added_us`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*x509.Certificate
	for rows.Next() {
		var der []byte
		if err := rows.Scan(&der); err != nil {
			return nil, err
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("stored trust anchor: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (t *txn) PutOrganisation(ctx context.Context, o *archive.Organisation) error {
	if o.AddedAt.IsZero() {
		o.AddedAt = time.Now().UTC()
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO organisations (oid, name, kind, added_us, name_sv, name_en, business_id, parent, active_from_us, active_to_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (oid) DO UPDATE SET name = excluded.name, kind = excluded.kind, name_sv = excluded.name_sv, name_en = excluded.name_en,
			business_id = excluded.business_id, parent = excluded.parent, active_from_us = excluded.active_from_us, active_to_us = excluded.active_to_us`,
		o.OID, o.Name, o.Kind, o.AddedAt.UnixMicro(), o.NameSV, o.NameEN, o.BusinessID, o.Parent, usOrNull(o.ActiveFrom), usOrNull(o.ActiveTo))
	return err
}

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

const orgCols = `oid, name, kind, added_us, name_sv, name_en, business_id, parent, active_from_us, active_to_us`

func scanOrg(row scanner) (*archive.Organisation, error) {
	o := &archive.Organisation{}
	var at int64
	var from, to sql.NullInt64
	if err := row.Scan(&o.OID, &o.Name, &o.Kind, &at, &o.NameSV, &o.NameEN, &o.BusinessID, &o.Parent, &from, &to); err != nil {
		return nil, err
	}
	o.AddedAt, o.ActiveFrom, o.ActiveTo = time.UnixMicro(at).UTC(), timeOrNil(from), timeOrNil(to)
	return o, nil
}

func (t *txn) Organisation(ctx context.Context, oid string) (*archive.Organisation, error) {
	o, err := scanOrg(t.tx.QueryRowContext(ctx, qOrganisation, oid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return o, err
}

func (t *txn) Organisations(ctx context.Context) ([]*archive.Organisation, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+orgCols+` FROM organisations ORDER BY oid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.Organisation
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

func (t *txn) PutSystem(ctx context.Context, s *archive.System) error {
	if s.AddedAt.IsZero() {
		s.AddedAt = time.Now().UTC()
	}
	s.CertSHA256 = pki.Fingerprint(s.Cert)
	_, err := t.tx.ExecContext(ctx, `INSERT INTO systems (name, org_oid, cert_sha256, cert_der, added_us) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET org_oid = excluded.org_oid, cert_sha256 = excluded.cert_sha256, cert_der = excluded.cert_der, revoked_us = NULL`,
		s.Name, s.Organisation, s.CertSHA256, s.Cert.Raw, s.AddedAt.UnixMicro())
	if err != nil {
		var se *sqlite.Error
		if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
			return &archive.Error{Kind: archive.ErrConflict, Message: "this certificate is already registered to another system"}
		}
		if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
			return &archive.Error{Kind: archive.ErrNotFound, Message: "organisation " + s.Organisation + " is not onboarded; add it first"}
		}
	}
	return err
}

func (t *txn) system(ctx context.Context, where string, arg any) (*archive.System, error) {
	s := &archive.System{}
	var der []byte
	var at int64
	var revoked sql.NullInt64
	err := t.tx.QueryRowContext(ctx, `SELECT name, org_oid, cert_sha256, cert_der, added_us, revoked_us FROM systems WHERE `+where, arg).Scan(&s.Name, &s.Organisation, &s.CertSHA256, &der, &at, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s.AddedAt = time.UnixMicro(at).UTC()
	if revoked.Valid {
		r := time.UnixMicro(revoked.Int64).UTC()
		s.RevokedAt = &r
	}
	s.Cert, err = x509.ParseCertificate(der)
	return s, err
}

func (t *txn) System(ctx context.Context, name string) (*archive.System, error) {
	return t.system(ctx, "name = ?", name)
}

func (t *txn) SystemByCert(ctx context.Context, sum string) (*archive.System, error) {
	return t.system(ctx, "cert_sha256 = ?", sum)
}

func (t *txn) Systems(ctx context.Context) ([]*archive.System, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT name FROM systems ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	var out []*archive.System
	for _, n := range names {
		s, err := t.System(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (t *txn) RevokeSystem(ctx context.Context, name string, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE systems SET revoked_us = ? WHERE name = ? AND revoked_us IS NULL`, at.UnixMicro(), name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := t.System(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) AddRevoked(ctx context.Context, r archive.RevokedCert) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO revoked_certificates (issuer, serial, revoked_us) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		r.Issuer, r.Serial, r.RevokedAt.UnixMicro())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *txn) RevokedCerts(ctx context.Context) ([]archive.RevokedCert, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT issuer, serial, revoked_us FROM revoked_certificates`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []archive.RevokedCert
	for rows.Next() {
		var r archive.RevokedCert
		var at int64
		if err := rows.Scan(&r.Issuer, &r.Serial, &at); err != nil {
			return nil, err
		}
		r.RevokedAt = time.UnixMicro(at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

func (t *txn) ScanDocuments(ctx context.Context, after string, limit int) ([]*archive.Record, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+recordCols+recordFrom+`WHERE d.doc_id > ? ORDER BY d.doc_id LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

// ScanDocumentIDs implements archive.IDScanner.
func (t *txn) ScanDocumentIDs(ctx context.Context, after string, limit int) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT doc_id FROM documents WHERE doc_id > ? ORDER BY doc_id LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (t *txn) ScanAccessLog(ctx context.Context, after int64, limit int) ([]*archive.AccessEntry, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, at_us, client_key, custodian, action, outcome, reason, caller_json, documents, details
		FROM access_log WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	return scanLogRows(rows)
}

func (t *txn) RestoreNullification(ctx context.Context, id string, n archive.Nullification) error {
	by, err := json.Marshal(n.By)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO nullifications (doc_id, client_key, reason_code, reason_text, by_json, at_us)
		SELECT doc_id, client_key, ?, ?, ?, ? FROM documents WHERE doc_id = ? AND status = 'nullified'`, n.ReasonCode, n.ReasonText, string(by), n.At.UnixMicro(), id)
	return mapErr(err)
}

func (t *txn) PutRegister(ctx context.Context, r *archive.Register) error {
	if r.AddedAt.IsZero() {
		r.AddedAt = time.Now().UTC()
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO registers (controller, type, added_us, transferred_to, transferred_us) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (controller, type) DO UPDATE SET transferred_to = excluded.transferred_to, transferred_us = excluded.transferred_us`,
		r.Controller, r.Type, r.AddedAt.UnixMicro(), r.TransferredTo, usOrNull(r.TransferredAt))
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return &archive.Error{Kind: archive.ErrNotFound, Message: "organisation " + r.Controller + " is not onboarded"}
	}
	return err
}

const registerCols = `controller, type, added_us, transferred_to, transferred_us`

func scanRegister(row scanner) (*archive.Register, error) {
	r := &archive.Register{}
	var at int64
	var tr sql.NullInt64
	if err := row.Scan(&r.Controller, &r.Type, &at, &r.TransferredTo, &tr); err != nil {
		return nil, err
	}
	r.AddedAt, r.TransferredAt = time.UnixMicro(at).UTC(), timeOrNil(tr)
	return r, nil
}

func (t *txn) Register(ctx context.Context, controller, typ string) (*archive.Register, error) {
	r, err := scanRegister(t.tx.QueryRowContext(ctx, qRegister, controller, typ))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return r, err
}

func (t *txn) Registers(ctx context.Context) ([]*archive.Register, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+registerCols+` FROM registers ORDER BY controller, type`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.Register
	for rows.Next() {
		r, err := scanRegister(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (t *txn) MoveDocuments(ctx context.Context, from, to, typ, after string, limit int) (int, string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT doc_id FROM documents WHERE controller = ? AND register = ? AND doc_id > ? ORDER BY doc_id LIMIT ?`, from, typ, after, limit)
	if err != nil {
		return 0, after, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, after, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) == 0 {
		return 0, after, rows.Err()
	}
	last := ids[len(ids)-1]
	res, err := t.tx.ExecContext(ctx, `UPDATE documents SET controller = ? WHERE controller = ? AND register = ? AND doc_id > ? AND doc_id <= ?`, to, from, typ, after, last)
	if err != nil {
		return 0, after, err
	}
	n, err := res.RowsAffected()
	return int(n), last, err
}

func (t *txn) CountDocuments(ctx context.Context, controller, typ string) (int, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM documents WHERE controller = ? AND register = ?`, controller, typ).Scan(&n)
	return n, err
}

func (t *txn) MoveRelationships(ctx context.Context, from, to string) (int, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE relationships SET organiser = ? WHERE organiser = ?`, to, from)
	if err != nil {
		return 0, mapErr(err)
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE relationship_grants SET organiser = ? WHERE organiser = ?`, to, from); err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t *txn) PutTransfer(ctx context.Context, tr *archive.Transfer) error {
	if tr.ID == 0 {
		res, err := t.tx.ExecContext(ctx, `INSERT INTO transfers (from_controller, to_controller, register_type, effective_us, started_us, finished_us, last_doc, moved, total)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tr.From, tr.To, tr.RegisterType, tr.Effective.UnixMicro(), tr.StartedAt.UnixMicro(), usOrNull(tr.FinishedAt), tr.LastDoc, tr.Moved, tr.Total)
		if err != nil {
			return err
		}
		tr.ID, err = res.LastInsertId()
		return err
	}
	_, err := t.tx.ExecContext(ctx, `UPDATE transfers SET finished_us = ?, last_doc = ?, moved = ?, total = ? WHERE id = ?`,
		usOrNull(tr.FinishedAt), tr.LastDoc, tr.Moved, tr.Total, tr.ID)
	return err
}

func (t *txn) Transfers(ctx context.Context) ([]*archive.Transfer, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, from_controller, to_controller, register_type, effective_us, started_us, finished_us, last_doc, moved, total FROM transfers ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.Transfer
	for rows.Next() {
		tr := &archive.Transfer{}
		var eff, started int64
		var fin sql.NullInt64
		if err := rows.Scan(&tr.ID, &tr.From, &tr.To, &tr.RegisterType, &eff, &started, &fin, &tr.LastDoc, &tr.Moved, &tr.Total); err != nil {
			return nil, err
		}
		tr.Effective, tr.StartedAt, tr.FinishedAt = time.UnixMicro(eff).UTC(), time.UnixMicro(started).UTC(), timeOrNil(fin)
		out = append(out, tr)
	}
	return out, rows.Err()
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

func parseDay(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse("2006-01-02", s)
	return t
}

func (t *txn) PutRelationship(ctx context.Context, r *archive.Relationship) error {
	if err := t.WithdrawRelationship(ctx, r.Key()); err != nil {
		return err
	}
	stated, err := json.Marshal(r.Stated)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO relationships (client_key, organiser, id, start_day, end_day, document, stated) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.ClientKey, r.Organiser, r.ID, day(r.Start), day(r.End), r.Document, string(stated)); err != nil {
		return mapErr(err)
	}
	for _, g := range r.Grants {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO relationship_grants (client_key, organiser, relationship_id, provider, unit, service_task, start_day, end_day)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			r.ClientKey, r.Organiser, r.ID, g.Provider, g.Unit, g.ServiceTask, day(g.Start), day(g.End)); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

func (t *txn) WithdrawRelationship(ctx context.Context, k archive.RelationshipKey) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM relationship_grants WHERE client_key = ? AND organiser = ? AND relationship_id = ?`, k.ClientKey, k.Organiser, k.ID); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx, `DELETE FROM relationships WHERE client_key = ? AND organiser = ? AND id = ?`, k.ClientKey, k.Organiser, k.ID)
	return err
}

func (t *txn) Relationship(ctx context.Context, k archive.RelationshipKey) (*archive.Relationship, error) {
	r := &archive.Relationship{ClientKey: k.ClientKey, Organiser: k.Organiser, ID: k.ID}
	var start, end, stated string
	err := t.tx.QueryRowContext(ctx, qRelationship, k.ClientKey, k.Organiser, k.ID).
		Scan(&r.Organiser, &start, &end, &r.Document, &stated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	r.Start, r.End = parseDay(start), parseDay(end)
	if stated != "null" && stated != "{}" {
		if err := json.Unmarshal([]byte(stated), &r.Stated); err != nil {
			return nil, fmt.Errorf("decode relationship: %w", err)
		}
	}
	rows, err := t.tx.QueryContext(ctx, qRelationshipGrants, k.ClientKey, k.Organiser, k.ID)
	if err != nil {
		return nil, err
	}
	r.Grants, err = scanGrants(rows)
	return r, err
}

func scanGrants(rows *sql.Rows) ([]archive.Grant, error) {
	defer rows.Close()
	var out []archive.Grant
	for rows.Next() {
		var g archive.Grant
		var start, end string
		if err := rows.Scan(&g.ClientKey, &g.RelationshipID, &g.Organiser, &g.Provider, &g.Unit, &g.ServiceTask, &start, &end); err != nil {
			return nil, err
		}
		g.Start, g.End = parseDay(start), parseDay(end)
		out = append(out, g)
	}
	return out, rows.Err()
}

func (t *txn) Grants(ctx context.Context, clientKey, provider string) ([]archive.Grant, error) {
	rows, err := t.tx.QueryContext(ctx, qGrants, clientKey, provider)
	if err != nil {
		return nil, err
	}
	return scanGrants(rows)
}

func (t *txn) PutArchivist(ctx context.Context, a *archive.Archivist) error {
	if a.AddedAt.IsZero() {
		a.AddedAt = time.Now().UTC()
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO archivists (person, name, controller, added_us) VALUES (?, ?, ?, ?)
		ON CONFLICT (person, controller) DO UPDATE SET name = excluded.name`, a.Person, a.Name, a.Controller, a.AddedAt.UnixMicro())
	return err
}

func (t *txn) RemoveArchivist(ctx context.Context, person, controller string) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM archivists WHERE person = ? AND controller = ?`, person, controller)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *txn) Archivists(ctx context.Context) ([]*archive.Archivist, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT person, name, controller, added_us FROM archivists ORDER BY controller, person`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.Archivist
	for rows.Next() {
		a := &archive.Archivist{}
		var at int64
		if err := rows.Scan(&a.Person, &a.Name, &a.Controller, &at); err != nil {
			return nil, err
		}
		a.AddedAt = time.UnixMicro(at).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

func (t *txn) ScanRelationships(ctx context.Context, after archive.RelationshipKey, limit int) ([]*archive.Relationship, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT client_key, organiser, id FROM relationships WHERE (client_key, organiser, id) > (?, ?, ?)
		ORDER BY client_key, organiser, id LIMIT ?`, after.ClientKey, after.Organiser, after.ID, limit)
	if err != nil {
		return nil, err
	}
	var keys []archive.RelationshipKey
	for rows.Next() {
		var k archive.RelationshipKey
		if err := rows.Scan(&k.ClientKey, &k.Organiser, &k.ID); err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []*archive.Relationship
	for _, k := range keys {
		r, err := t.Relationship(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
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
