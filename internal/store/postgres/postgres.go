// Package postgres is the production storage backend: PostgreSQL through
// pgx, with document content in the database or in an external blob store.
// It behaves exactly as the SQLite backend; the archive's behaviour suite
// proves it.
package postgres

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/fastjson"
)

// Store is an archive.Store on PostgreSQL.
type Store struct {
	pool  *pgxpool.Pool
	blobs blob.Store
	log   *logBatcher // writes access-log entries of reads together (logbatch.go)

	updates   atomic.Int64 // write transactions committed
	tokenUses atomic.Int64 // token uses recorded (token.go)
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
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLock)
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
	return nil
}

// BlobStoreName names where content is kept: "db" or the blob store.
func (s *Store) BlobStoreName() string {
	if s.blobs == nil {
		return "db"
	}
	return s.blobs.Name()
}

func (s *Store) checkBlobSetting(ctx context.Context) error {
	want := s.BlobStoreName()
	if _, err := s.pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('blob_store', $1) ON CONFLICT (key) DO NOTHING`, want); err != nil {
		return fmt.Errorf("record the blob store: %w", err)
	}
	var have string
	if err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = 'blob_store'`).Scan(&have); err != nil {
		return err
	}
	if have != want {
		return fmt.Errorf("this archive keeps its content in %s; open it with --blobs set to that, not %s", have, want)
	}
	return nil
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
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(&txn{tx: tx, blobs: s.blobs}); err != nil {
		tx.Rollback(context.Background())
		return mapErr(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

func mapErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return &archive.Error{Kind: archive.ErrConflict, Retry: true, Message: "a document with this id, or this version of its set, is already archived"}
		case "40001", "40P01": // serialization failure, deadlock
			return &archive.Error{Kind: archive.ErrConflict, Retry: true, Message: "a concurrent change conflicted; retry"}
		}
	}
	return err
}

type txn struct {
	tx    pgx.Tx
	blobs blob.Store
}

const recordCols = `d.status, d.controller, d.record, n.reason_code, n.reason_text, n.by_caller, n.at`

const recordFrom = ` FROM documents d LEFT JOIN nullifications n ON n.client_key = d.client_key AND n.doc_id = d.doc_id `

func scanRecord(row pgx.Row) (*archive.Record, error) {
	var status, controller string
	var rec []byte
	var rc, rt *string
	var by []byte
	var at *time.Time
	if err := row.Scan(&status, &controller, &rec, &rc, &rt, &by, &at); err != nil {
		return nil, err
	}
	r := &archive.Record{}
	if err := fastjson.Unmarshal(rec, r); err != nil {
		return nil, fmt.Errorf("decode stored record: %w", err)
	}
	r.Status, r.Controller = archive.Status(status), controller
	r.Nullification = nil
	if rc != nil {
		n := &archive.Nullification{ReasonCode: *rc, ReasonText: *rt, At: at.UTC()}
		if err := json.Unmarshal(by, &n.By); err != nil {
			return nil, fmt.Errorf("decode nullification: %w", err)
		}
		r.Nullification = n
	}
	return r, nil
}

// clientOf finds which client holds a document.
func (t *txn) clientOf(ctx context.Context, id string) (string, error) {
	var key string
	err := t.tx.QueryRow(ctx, `SELECT client_key FROM document_ids WHERE doc_id = $1`, id).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", archive.ErrNotFound
	}
	return key, err
}

// qDocument finds a document's client and the document in one round trip;
// on Citus the subquery runs first and routes the rest to one shard.
const qDocument = `SELECT ` + recordCols + recordFrom +
	`WHERE d.client_key = (SELECT client_key FROM document_ids WHERE doc_id = $1) AND d.doc_id = $1`

func (t *txn) Document(ctx context.Context, id string) (*archive.Record, error) {
	r, err := scanRecord(t.tx.QueryRow(ctx, qDocument, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return r, err
}

func (t *txn) Content(ctx context.Context, r *archive.Record) ([]byte, error) {
	var data []byte
	var size int64
	err := t.tx.QueryRow(ctx, `SELECT data, size FROM blobs WHERE client_key = $1 AND sha256 = $2`, r.ClientKey(), r.SHA256).Scan(&data, &size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: content %s has no row in the blobs table", blob.ErrMissing, r.SHA256)
	}
	if err != nil {
		return nil, err
	}
	if data == nil {
		if t.blobs == nil {
			return nil, fmt.Errorf("%w: content %s is kept outside the database, and no blob store is configured", blob.ErrMissing, r.SHA256)
		}
		if data, err = t.blobs.Get(ctx, r.SHA256); err != nil {
			return nil, err
		}
	} else if err := blob.Check(r.SHA256, data); err != nil {
		return nil, err
	}
	if err := archive.CheckContent(r, data); err != nil {
		return nil, err
	}
	return data, nil
}

func (t *txn) PutDocument(ctx context.Context, r *archive.Record, content []byte) error {
	key := r.ClientKey()
	h := &r.Header
	if _, err := t.tx.Exec(ctx, `INSERT INTO document_ids (doc_id, client_key) VALUES ($1, $2)`, h.ID, key); err != nil {
		return fmt.Errorf("store document: %w", mapErr(err))
	}
	var setClient string
	err := t.tx.QueryRow(ctx, `INSERT INTO document_sets (set_id, client_key) VALUES ($1, $2)
		ON CONFLICT (set_id) DO UPDATE SET set_id = excluded.set_id RETURNING client_key`, h.SetID, key).Scan(&setClient)
	if err != nil {
		return fmt.Errorf("store document: %w", mapErr(err))
	}
	if setClient != key {
		return &archive.Error{Kind: archive.ErrConflict, Message: "the document set " + h.SetID + " belongs to another client"}
	}
	stored := content
	if t.blobs != nil {
		// Durable before the transaction that refers to it commits; if
		// that transaction fails, the blob is merely unused.
		if err := t.blobs.Put(ctx, r.SHA256, content); err != nil {
			return err
		}
		stored = nil
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO blobs (client_key, sha256, size, data) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		key, r.SHA256, len(content), stored); err != nil {
		return fmt.Errorf("store content: %w", mapErr(err))
	}
	if r.Controller == "" {
		r.Controller = h.Custodian.OID
	}
	row := *r
	row.Nullification = nil
	js, err := fastjson.Marshal(&row)
	if err != nil {
		return err
	}
	replaces, process := "", ""
	if h.Replaces != nil {
		replaces = h.Replaces.ID
	}
	if h.ServiceProcess != nil {
		process = h.ServiceProcess.Code.Code
	}
	_, err = t.tx.Exec(ctx, `INSERT INTO documents (client_key, doc_id, set_id, version, status, custodian, register,
		service_task, general_type, specific_type, document_group, case_id, client_relationship, service_unit,
		service_process, case_opened, case_closed, effective_at, replaces, content_sha256, content_size, record,
		received_at, submitter_system, submitter_org, controller)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)`,
		key, h.ID, h.SetID, h.Version, string(r.Status), h.Custodian.OID, h.Register.Code,
		h.ServiceTask.Code, h.GeneralType.Code, h.SpecificType.Code, h.DocumentGroup.Code, h.Case.ID, h.ClientRelationshipID, h.Case.ServiceUnit.OID,
		process, h.Case.Opened, h.Case.Closed, h.EffectiveTime, replaces, r.SHA256, r.Size, js,
		r.ReceivedAt, r.Submitter.System, r.Submitter.Organisation, r.Controller)
	if err != nil {
		return fmt.Errorf("store document: %w", mapErr(err))
	}
	return nil
}

func (t *txn) Supersede(ctx context.Context, id string) (bool, error) {
	key, err := t.clientOf(ctx, id)
	if err != nil {
		return false, err
	}
	tag, err := t.tx.Exec(ctx, `UPDATE documents SET status = 'superseded' WHERE client_key = $1 AND doc_id = $2 AND status = 'current'`, key, id)
	if err != nil {
		return false, mapErr(err)
	}
	return tag.RowsAffected() == 1, nil
}

func (t *txn) Nullify(ctx context.Context, id string, n archive.Nullification) (bool, error) {
	key, err := t.clientOf(ctx, id)
	if err != nil {
		return false, err
	}
	tag, err := t.tx.Exec(ctx, `UPDATE documents SET status = 'nullified' WHERE client_key = $1 AND doc_id = $2 AND status <> 'nullified'`, key, id)
	if err != nil {
		return false, mapErr(err)
	}
	if tag.RowsAffected() != 1 {
		return false, nil
	}
	by, err := json.Marshal(n.By)
	if err != nil {
		return false, err
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO nullifications (client_key, doc_id, reason_code, reason_text, by_caller, at) VALUES ($1, $2, $3, $4, $5, $6)`,
		key, id, n.ReasonCode, n.ReasonText, by, n.At); err != nil {
		return false, mapErr(err)
	}
	return true, nil
}

// where builds a WHERE clause with numbered placeholders.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	n := len(w.args)
	w.args = append(w.args, args...)
	// Number the placeholders: each ? becomes $n.
	var b strings.Builder
	for _, c := range cond {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	w.conds = append(w.conds, b.String())
}

func (w *where) in(col string, vals []string) {
	switch len(vals) {
	case 0:
	case 1:
		// Plain equality lets an index on (col, effective_at, doc_id)
		// deliver rows in order, where = ANY would need a sort.
		w.add(col+" = ?", vals[0])
	default:
		w.add(col+" = ANY(?)", vals)
	}
}

func (t *txn) Search(ctx context.Context, q archive.Query, scope archive.Scope) ([]*archive.Record, error) {
	if len(scope.Controllers) == 0 && len(scope.Grants) == 0 {
		return nil, nil // nothing is visible: fail closed
	}
	var w where
	scopeWhere(&w, scope)
	if q.ClientKey != "" {
		w.add("d.client_key = ?", q.ClientKey)
	}
	w.in("d.register", q.Registers)
	w.in("d.controller", q.Custodians)
	w.in("d.service_task", q.ServiceTasks)
	w.in("d.general_type", q.GeneralTypes)
	w.in("d.specific_type", q.SpecificTypes)
	w.in("d.document_group", q.DocumentGroups)
	w.in("d.case_id", q.Cases)
	w.in("d.client_relationship", q.ClientRelationship)
	w.in("d.service_unit", q.ServiceUnits)
	w.in("d.set_id", q.SetIDs)
	w.in("d.service_process", q.ServiceProcesses)
	statuses := q.Statuses
	if len(statuses) == 0 {
		statuses = []archive.Status{archive.StatusCurrent, archive.StatusSuperseded}
	}
	ss := make([]string, len(statuses))
	for i, st := range statuses {
		ss[i] = string(st)
	}
	w.in("d.status", ss)
	if !q.From.IsZero() {
		w.add("d.effective_at >= ?", q.From)
	}
	if !q.To.IsZero() {
		w.add("d.effective_at < ?", q.To)
	}
	if !q.PeriodFrom.IsZero() {
		w.add("d.case_opened IS NOT NULL AND (d.case_closed IS NULL OR d.case_closed >= ?)", q.PeriodFrom)
	}
	if !q.PeriodTo.IsZero() {
		w.add("d.case_opened IS NOT NULL AND d.case_opened < ?", q.PeriodTo)
	}
	if q.Cursor != "" {
		at, id, err := archive.DecodeCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		w.add("(d.effective_at, d.doc_id) < (?, ?)", at, id)
	}
	args := append(w.args, q.Limit+1)
	sql := `SELECT ` + recordCols + recordFrom + `WHERE ` + strings.Join(w.conds, " AND ") +
		` ORDER BY d.effective_at DESC, d.doc_id DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := t.tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return collect(rows)
}

// scopeWhere limits a search to the caller's registers and grants.
func scopeWhere(w *where, scope archive.Scope) {
	var ors []string
	var args []any
	n := len(w.args)
	next := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(n+len(args))
	}
	switch len(scope.Controllers) {
	case 0:
	case 1:
		ors = append(ors, "d.controller = "+next(scope.Controllers[0]))
	default:
		ors = append(ors, "d.controller = ANY("+next(scope.Controllers)+")")
	}
	for _, g := range scope.Grants {
		ors = append(ors, "(d.client_key = "+next(g.ClientKey)+" AND d.controller = "+next(g.Organiser)+
			" AND d.status <> 'nullified' AND (d.service_task = "+next(g.ServiceTask)+
			" OR (d.document_group = '1' AND d.client_relationship = "+next(g.RelationshipID)+")))")
	}
	w.conds = append(w.conds, "("+strings.Join(ors, " OR ")+")")
	w.args = append(w.args, args...)
}

func collect(rows pgx.Rows) ([]*archive.Record, error) {
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
	var key string
	err := t.tx.QueryRow(ctx, `SELECT client_key FROM document_sets WHERE set_id = $1`, setID).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.Query(ctx, `SELECT `+recordCols+recordFrom+`WHERE d.client_key = $1 AND d.set_id = $2 ORDER BY d.version`, key, setID)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

func (t *txn) AppendAccess(ctx context.Context, e *archive.AccessEntry) error {
	caller, err := json.Marshal(e.Caller)
	if err != nil {
		return err
	}
	docs := e.Documents
	if docs == nil {
		docs = []string{}
	}
	dj, err := json.Marshal(docs)
	if err != nil {
		return err
	}
	err = t.tx.QueryRow(ctx, `INSERT INTO access_log (client_key, at, custodian, action, outcome, reason, caller_system, caller_org, caller, documents, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		e.ClientKey, e.At, e.Custodian, string(e.Action), string(e.Outcome), e.Reason, e.Caller.System, e.Caller.Organisation, caller, dj, e.Details).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("append access log: %w", err)
	}
	return nil
}

func (t *txn) AccessLog(ctx context.Context, q archive.AccessLogQuery) ([]*archive.AccessEntry, error) {
	var w where
	w.add("client_key = ?", q.ClientKey)
	if q.Organisation != "" {
		or := []string{"custodian = ?", "(caller_org = ? AND outcome = 'allowed')"}
		args := []any{q.Organisation, q.Organisation}
		for _, p := range q.Predecessors {
			if p.Until.IsZero() {
				or = append(or, "custodian = ?")
				args = append(args, p.Controller)
			} else {
				or = append(or, "(custodian = ? AND at < ?)")
				args = append(args, p.Controller, p.Until)
			}
		}
		w.add("("+strings.Join(or, " OR ")+")", args...)
	}
	if q.Before > 0 {
		w.add("id < ?", q.Before)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	args := append(w.args, limit)
	rows, err := t.tx.Query(ctx, `SELECT id, at, client_key, custodian, action, outcome, reason, caller, documents, details
		FROM access_log WHERE `+strings.Join(w.conds, " AND ")+` ORDER BY id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	return scanLogRows(rows)
}

func scanLogRows(rows pgx.Rows) ([]*archive.AccessEntry, error) {
	defer rows.Close()
	var out []*archive.AccessEntry
	for rows.Next() {
		e := &archive.AccessEntry{}
		var action, outcome string
		var caller, docs []byte
		if err := rows.Scan(&e.ID, &e.At, &e.ClientKey, &e.Custodian, &action, &outcome, &e.Reason, &caller, &docs, &e.Details); err != nil {
			return nil, err
		}
		e.At, e.Action, e.Outcome = e.At.UTC(), archive.Action(action), archive.Outcome(outcome)
		if err := json.Unmarshal(caller, &e.Caller); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(docs, &e.Documents); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (t *txn) AddTrustAnchor(ctx context.Context, c *x509.Certificate) (bool, error) {
	tag, err := t.tx.Exec(ctx, `INSERT INTO trust_anchors (sha256, subject, der, added_at) VALUES ($1, $2, $3, now()) ON CONFLICT (sha256) DO NOTHING`,
		blob.Sum(c.Raw), c.Subject.String(), c.Raw)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

func (t *txn) TrustAnchors(ctx context.Context) ([]*x509.Certificate, error) {
	rows, err := t.tx.Query(ctx, `SELECT der FROM trust_anchors ORDER BY added_at, sha256`)
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
	_, err := t.tx.Exec(ctx, `INSERT INTO organisations (oid, name, kind, added_at, name_sv, name_en, business_id, parent, active_from, active_to)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (oid) DO UPDATE SET name = excluded.name, kind = excluded.kind, name_sv = excluded.name_sv, name_en = excluded.name_en,
			business_id = excluded.business_id, parent = excluded.parent, active_from = excluded.active_from, active_to = excluded.active_to`,
		o.OID, o.Name, o.Kind, o.AddedAt, o.NameSV, o.NameEN, o.BusinessID, o.Parent, o.ActiveFrom, o.ActiveTo)
	return err
}

const orgCols = `oid, name, kind, added_at, name_sv, name_en, business_id, parent, active_from, active_to`

func scanOrg(row pgx.Row) (*archive.Organisation, error) {
	o := &archive.Organisation{}
	if err := row.Scan(&o.OID, &o.Name, &o.Kind, &o.AddedAt, &o.NameSV, &o.NameEN, &o.BusinessID, &o.Parent, &o.ActiveFrom, &o.ActiveTo); err != nil {
		return nil, err
	}
	o.AddedAt = o.AddedAt.UTC()
	o.ActiveFrom, o.ActiveTo = utcPtr(o.ActiveFrom), utcPtr(o.ActiveTo)
	return o, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (t *txn) Organisation(ctx context.Context, oid string) (*archive.Organisation, error) {
	o, err := scanOrg(t.tx.QueryRow(ctx, `SELECT `+orgCols+` FROM organisations WHERE oid = $1`, oid))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return o, err
}

func (t *txn) Organisations(ctx context.Context) ([]*archive.Organisation, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+orgCols+` FROM organisations ORDER BY oid`)
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
	s.CertSHA256 = blob.Sum(s.Cert.Raw)
	_, err := t.tx.Exec(ctx, `INSERT INTO systems (name, org_oid, cert_sha256, cert_der, added_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (name) DO UPDATE SET org_oid = excluded.org_oid, cert_sha256 = excluded.cert_sha256, cert_der = excluded.cert_der, revoked_at = NULL`,
		s.Name, s.Organisation, s.CertSHA256, s.Cert.Raw, s.AddedAt)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return &archive.Error{Kind: archive.ErrConflict, Message: "this certificate is already registered to another system"}
		case "23503":
			return &archive.Error{Kind: archive.ErrNotFound, Message: "organisation " + s.Organisation + " is not onboarded; add it first"}
		}
	}
	return err
}

func (t *txn) System(ctx context.Context, name string) (*archive.System, error) {
	return t.system(ctx, "name = $1", name)
}

func (t *txn) SystemByCert(ctx context.Context, sum string) (*archive.System, error) {
	return t.system(ctx, "cert_sha256 = $1", sum)
}

func (t *txn) system(ctx context.Context, cond string, arg any) (*archive.System, error) {
	s := &archive.System{}
	var der []byte
	err := t.tx.QueryRow(ctx, `SELECT name, org_oid, cert_sha256, cert_der, added_at, revoked_at FROM systems WHERE `+cond, arg).
		Scan(&s.Name, &s.Organisation, &s.CertSHA256, &der, &s.AddedAt, &s.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s.AddedAt = s.AddedAt.UTC()
	s.Cert, err = x509.ParseCertificate(der)
	return s, err
}

func (t *txn) Systems(ctx context.Context) ([]*archive.System, error) {
	rows, err := t.tx.Query(ctx, `SELECT name, org_oid, cert_sha256, cert_der, added_at, revoked_at FROM systems ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.System
	for rows.Next() {
		s := &archive.System{}
		var der []byte
		if err := rows.Scan(&s.Name, &s.Organisation, &s.CertSHA256, &der, &s.AddedAt, &s.RevokedAt); err != nil {
			return nil, err
		}
		if s.Cert, err = x509.ParseCertificate(der); err != nil {
			return nil, err
		}
		s.AddedAt = s.AddedAt.UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

func (t *txn) RevokeSystem(ctx context.Context, name string, at time.Time) error {
	tag, err := t.tx.Exec(ctx, `UPDATE systems SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL`, name, at)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		if _, err := t.System(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) AddRevoked(ctx context.Context, r archive.RevokedCert) (bool, error) {
	tag, err := t.tx.Exec(ctx, `INSERT INTO revoked_certificates (issuer, serial, revoked_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		r.Issuer, r.Serial, r.RevokedAt)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

func (t *txn) RevokedCerts(ctx context.Context) ([]archive.RevokedCert, error) {
	rows, err := t.tx.Query(ctx, `SELECT issuer, serial, revoked_at FROM revoked_certificates`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []archive.RevokedCert
	for rows.Next() {
		var r archive.RevokedCert
		if err := rows.Scan(&r.Issuer, &r.Serial, &r.RevokedAt); err != nil {
			return nil, err
		}
		r.RevokedAt = r.RevokedAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

func (t *txn) ScanDocuments(ctx context.Context, after string, limit int) ([]*archive.Record, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+recordCols+recordFrom+`WHERE d.doc_id > $1 ORDER BY d.doc_id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

// ScanDocumentIDs implements archive.IDScanner.
func (t *txn) ScanDocumentIDs(ctx context.Context, after string, limit int) ([]string, error) {
	rows, err := t.tx.Query(ctx, `SELECT doc_id FROM documents WHERE doc_id > $1 ORDER BY doc_id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (t *txn) ScanAccessLog(ctx context.Context, after int64, limit int) ([]*archive.AccessEntry, error) {
	rows, err := t.tx.Query(ctx, `SELECT id, at, client_key, custodian, action, outcome, reason, caller, documents, details
		FROM access_log WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	return scanLogRows(rows)
}

func (t *txn) RestoreNullification(ctx context.Context, id string, n archive.Nullification) error {
	key, err := t.clientOf(ctx, id)
	if err != nil {
		return err
	}
	by, err := json.Marshal(n.By)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(ctx, `INSERT INTO nullifications (client_key, doc_id, reason_code, reason_text, by_caller, at)
		SELECT client_key, doc_id, $3, $4, $5, $6 FROM documents WHERE client_key = $1 AND doc_id = $2 AND status = 'nullified'`,
		key, id, n.ReasonCode, n.ReasonText, by, n.At)
	return mapErr(err)
}

func (t *txn) PutRegister(ctx context.Context, r *archive.Register) error {
	if r.AddedAt.IsZero() {
		r.AddedAt = time.Now().UTC()
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO registers (controller, type, added_at, transferred_to, transferred_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (controller, type) DO UPDATE SET transferred_to = excluded.transferred_to, transferred_at = excluded.transferred_at`,
		r.Controller, r.Type, r.AddedAt, r.TransferredTo, r.TransferredAt)
	return err
}

const registerCols = `controller, type, added_at, transferred_to, transferred_at`

func scanRegister(row pgx.Row) (*archive.Register, error) {
	r := &archive.Register{}
	if err := row.Scan(&r.Controller, &r.Type, &r.AddedAt, &r.TransferredTo, &r.TransferredAt); err != nil {
		return nil, err
	}
	r.AddedAt, r.TransferredAt = r.AddedAt.UTC(), utcPtr(r.TransferredAt)
	return r, nil
}

func (t *txn) Register(ctx context.Context, controller, typ string) (*archive.Register, error) {
	r, err := scanRegister(t.tx.QueryRow(ctx, `SELECT `+registerCols+` FROM registers WHERE controller = $1 AND type = $2`, controller, typ))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return r, err
}

func (t *txn) Registers(ctx context.Context) ([]*archive.Register, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+registerCols+` FROM registers ORDER BY controller, type`)
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
	var n int
	var last *string
	err := t.tx.QueryRow(ctx, `WITH batch AS (
			SELECT client_key, doc_id FROM documents WHERE controller = $1 AND register = $3 AND doc_id > $4 ORDER BY doc_id LIMIT $5
		), moved AS (
			UPDATE documents d SET controller = $2 FROM batch b WHERE d.client_key = b.client_key AND d.doc_id = b.doc_id RETURNING d.doc_id
		)
		SELECT COUNT(*), MAX(doc_id) FROM moved`, from, to, typ, after, limit).Scan(&n, &last)
	if err != nil || last == nil {
		return n, after, err
	}
	return n, *last, nil
}

func (t *txn) CountDocuments(ctx context.Context, controller, typ string) (int, error) {
	var n int
	err := t.tx.QueryRow(ctx, `SELECT COUNT(*) FROM documents WHERE controller = $1 AND register = $2`, controller, typ).Scan(&n)
	return n, err
}

func (t *txn) MoveRelationships(ctx context.Context, from, to string) (int, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE relationships SET organiser = $2 WHERE organiser = $1`, from, to)
	if err != nil {
		return 0, mapErr(err)
	}
	if _, err := t.tx.Exec(ctx, `UPDATE relationship_grants SET organiser = $2 WHERE organiser = $1`, from, to); err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}

func (t *txn) PutTransfer(ctx context.Context, tr *archive.Transfer) error {
	if tr.ID == 0 {
		return t.tx.QueryRow(ctx, `INSERT INTO transfers (from_controller, to_controller, register_type, effective, started_at, finished_at, last_doc, moved, total)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, tr.From, tr.To, tr.RegisterType, tr.Effective, tr.StartedAt, tr.FinishedAt, tr.LastDoc, tr.Moved, tr.Total).Scan(&tr.ID)
	}
	_, err := t.tx.Exec(ctx, `UPDATE transfers SET finished_at = $2, last_doc = $3, moved = $4, total = $5 WHERE id = $1`,
		tr.ID, tr.FinishedAt, tr.LastDoc, tr.Moved, tr.Total)
	return err
}

func (t *txn) Transfers(ctx context.Context) ([]*archive.Transfer, error) {
	rows, err := t.tx.Query(ctx, `SELECT id, from_controller, to_controller, register_type, effective, started_at, finished_at, last_doc, moved, total FROM transfers ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.Transfer
	for rows.Next() {
		tr := &archive.Transfer{}
		if err := rows.Scan(&tr.ID, &tr.From, &tr.To, &tr.RegisterType, &tr.Effective, &tr.StartedAt, &tr.FinishedAt, &tr.LastDoc, &tr.Moved, &tr.Total); err != nil {
			return nil, err
		}
		tr.Effective, tr.StartedAt, tr.FinishedAt = tr.Effective.UTC(), tr.StartedAt.UTC(), utcPtr(tr.FinishedAt)
		out = append(out, tr)
	}
	return out, rows.Err()
}

func dayOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func fromDay(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (t *txn) PutRelationship(ctx context.Context, r *archive.Relationship) error {
	if err := t.WithdrawRelationship(ctx, r.Key()); err != nil {
		return err
	}
	stated, err := json.Marshal(r.Stated)
	if err != nil {
		return err
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO relationships (client_key, organiser, id, start_day, end_day, document, stated) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.ClientKey, r.Organiser, r.ID, dayOrNil(r.Start), dayOrNil(r.End), r.Document, stated); err != nil {
		return mapErr(err)
	}
	for _, g := range r.Grants {
		if _, err := t.tx.Exec(ctx, `INSERT INTO relationship_grants (client_key, organiser, relationship_id, provider, unit, service_task, start_day, end_day)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
			r.ClientKey, r.Organiser, r.ID, g.Provider, g.Unit, g.ServiceTask, dayOrNil(g.Start), dayOrNil(g.End)); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

func (t *txn) WithdrawRelationship(ctx context.Context, k archive.RelationshipKey) error {
	if _, err := t.tx.Exec(ctx, `DELETE FROM relationship_grants WHERE client_key = $1 AND organiser = $2 AND relationship_id = $3`, k.ClientKey, k.Organiser, k.ID); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, `DELETE FROM relationships WHERE client_key = $1 AND organiser = $2 AND id = $3`, k.ClientKey, k.Organiser, k.ID)
	return err
}

func (t *txn) Relationship(ctx context.Context, k archive.RelationshipKey) (*archive.Relationship, error) {
	r := &archive.Relationship{ClientKey: k.ClientKey, Organiser: k.Organiser, ID: k.ID}
	var start, end *time.Time
	var stated []byte
	err := t.tx.QueryRow(ctx, `SELECT start_day, end_day, document, stated FROM relationships WHERE client_key = $1 AND organiser = $2 AND id = $3`, k.ClientKey, k.Organiser, k.ID).
		Scan(&start, &end, &r.Document, &stated)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	r.Start, r.End = fromDay(start), fromDay(end)
	if s := string(stated); s != "null" && s != "{}" {
		if err := json.Unmarshal(stated, &r.Stated); err != nil {
			return nil, fmt.Errorf("decode relationship: %w", err)
		}
	}
	rows, err := t.tx.Query(ctx, `SELECT client_key, relationship_id, organiser, provider, unit, service_task, start_day, end_day
		FROM relationship_grants WHERE client_key = $1 AND organiser = $2 AND relationship_id = $3 ORDER BY service_task, unit`, k.ClientKey, k.Organiser, k.ID)
	if err != nil {
		return nil, err
	}
	r.Grants, err = scanGrants(rows)
	return r, err
}

func scanGrants(rows pgx.Rows) ([]archive.Grant, error) {
	defer rows.Close()
	var out []archive.Grant
	for rows.Next() {
		var g archive.Grant
		var start, end *time.Time
		if err := rows.Scan(&g.ClientKey, &g.RelationshipID, &g.Organiser, &g.Provider, &g.Unit, &g.ServiceTask, &start, &end); err != nil {
			return nil, err
		}
		g.Start, g.End = fromDay(start), fromDay(end)
		out = append(out, g)
	}
	return out, rows.Err()
}

func (t *txn) Grants(ctx context.Context, clientKey, provider string) ([]archive.Grant, error) {
	rows, err := t.tx.Query(ctx, `SELECT client_key, relationship_id, organiser, provider, unit, service_task, start_day, end_day
		FROM relationship_grants WHERE client_key = $1 AND provider = $2`, clientKey, provider)
	if err != nil {
		return nil, err
	}
	return scanGrants(rows)
}

func (t *txn) PutArchivist(ctx context.Context, a *archive.Archivist) error {
	if a.AddedAt.IsZero() {
		a.AddedAt = time.Now().UTC()
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO archivists (person, name, controller, added_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (person, controller) DO UPDATE SET name = excluded.name`, a.Person, a.Name, a.Controller, a.AddedAt)
	return err
}

func (t *txn) RemoveArchivist(ctx context.Context, person, controller string) (bool, error) {
	tag, err := t.tx.Exec(ctx, `DELETE FROM archivists WHERE person = $1 AND controller = $2`, person, controller)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

func (t *txn) Archivists(ctx context.Context) ([]*archive.Archivist, error) {
	rows, err := t.tx.Query(ctx, `SELECT person, name, controller, added_at FROM archivists ORDER BY controller, person`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.Archivist
	for rows.Next() {
		a := &archive.Archivist{}
		if err := rows.Scan(&a.Person, &a.Name, &a.Controller, &a.AddedAt); err != nil {
			return nil, err
		}
		a.AddedAt = a.AddedAt.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

func (t *txn) ScanRelationships(ctx context.Context, after archive.RelationshipKey, limit int) ([]*archive.Relationship, error) {
	rows, err := t.tx.Query(ctx, `SELECT client_key, organiser, id FROM relationships WHERE (client_key, organiser, id) > ($1, $2, $3)
		ORDER BY client_key, organiser, id LIMIT $4`, after.ClientKey, after.Organiser, after.ID, limit)
	if err != nil {
		return nil, err
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (archive.RelationshipKey, error) {
		var k archive.RelationshipKey
		err := row.Scan(&k.ClientKey, &k.Organiser, &k.ID)
		return k, err
	})
	if err != nil {
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
