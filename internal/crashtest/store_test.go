package crashtest

// The database side of the verification: every document's rows, read
// directly, and the database's own integrity checks.

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/arkisto/arkisto/internal/store/sqlite" // and database/sql driver "sqlite"
)

// backend is one storage backend under test: how the server is pointed at
// it and how the test reads it directly.
type backend struct {
	kind   string // "sqlite" or "postgres"
	args   []string
	driver string
	dsn    string
	schema string // PostgreSQL: the test's schema
}

func sqliteBackend(dir string) backend {
	return backend{
		kind:   "sqlite",
		args:   []string{"--data", dir, "--blobs", "db"},
		driver: "sqlite",
		dsn:    "file:" + filepath.Join(dir, sqlite.FileName) + "?_pragma=busy_timeout(10000)",
	}
}

func postgresBackend(dbURL string) backend {
	schema := ""
	if u, err := url.Parse(dbURL); err == nil {
		schema = u.Query().Get("search_path")
	}
	return backend{kind: "postgres", args: []string{"--database", dbURL, "--blobs", "db"}, driver: "pgx", dsn: dbURL, schema: schema}
}

func (b backend) name() string        { return b.kind }
func (b backend) storeArgs() []string { return append([]string(nil), b.args...) }

func (b backend) open(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open(b.driver, b.dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatalf("open the %s database: %v", b.kind, err)
	}
	return db
}

// loggedSQL lists the documents of allowed archive entries in the access log.
func (b backend) loggedSQL() string {
	if b.kind == "sqlite" {
		return `SELECT j.value FROM access_log a, json_each(a.documents) j WHERE a.action = 'archive' AND a.outcome = 'allowed'`
	}
	return `SELECT jsonb_array_elements_text(documents) FROM access_log WHERE action = 'archive' AND outcome = 'allowed'`
}

// readSQL lists the documents of allowed reads by an organisation ($1)
// in the access log, once per entry.
func (b backend) readSQL() string {
	if b.kind == "sqlite" {
		return `SELECT j.value FROM access_log a, json_each(a.documents) j WHERE a.action = 'read' AND a.outcome = 'allowed' AND a.caller_org = ?`
	}
	return `SELECT jsonb_array_elements_text(documents) FROM access_log WHERE action = 'read' AND outcome = 'allowed' AND caller_org = $1`
}

// antiJoins count rows that lack their partner row; each must be zero.
func (b backend) antiJoins() map[string]string {
	if b.kind == "sqlite" {
		return map[string]string{
			"documents without their blobs row":        `SELECT COUNT(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = d.content_sha256)`,
			"blobs without a document":                 `SELECT COUNT(*) FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.content_sha256 = b.sha256)`,
			"blobs whose size is not their length":     `SELECT COUNT(*) FROM blobs WHERE data IS NOT NULL AND size <> length(data)`,
			"documents whose size is not their blob's": `SELECT COUNT(*) FROM documents d JOIN blobs b ON b.sha256 = d.content_sha256 WHERE b.size <> d.content_size`,
		}
	}
	return map[string]string{
		"documents without their blobs row":        `SELECT COUNT(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.client_key = d.client_key AND b.sha256 = d.content_sha256)`,
		"blobs without a document":                 `SELECT COUNT(*) FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.client_key = b.client_key AND d.content_sha256 = b.sha256)`,
		"documents without their document_ids row": `SELECT COUNT(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM document_ids i WHERE i.doc_id = d.doc_id AND i.client_key = d.client_key)`,
		"document_ids without a document":          `SELECT COUNT(*) FROM document_ids i WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc_id = i.doc_id AND d.client_key = i.client_key)`,
		"document_sets without a document":         `SELECT COUNT(*) FROM document_sets s WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.set_id = s.set_id AND d.client_key = s.client_key)`,
		"blobs whose size is not their length":     `SELECT COUNT(*) FROM blobs WHERE data IS NOT NULL AND size <> octet_length(data)`,
		"documents whose size is not their blob's": `SELECT COUNT(*) FROM documents d JOIN blobs b ON b.client_key = d.client_key AND b.sha256 = d.content_sha256 WHERE b.size <> d.content_size`,
	}
}

// snapshot is every row the verification needs, read at once.
type snapshot struct {
	docs   map[string]string // doc_id → content_sha256
	blobs  map[string][]byte // sha256 → data
	logged map[string]bool   // documents of allowed archive entries
	docIDs map[string]bool   // PostgreSQL document_ids; nil for SQLite
}

func (b backend) snapshot(t *testing.T, db *sql.DB) *snapshot {
	t.Helper()
	s := &snapshot{docs: map[string]string{}, blobs: map[string][]byte{}, logged: map[string]bool{}}
	query(t, db, `SELECT doc_id, content_sha256 FROM documents`, func(rows *sql.Rows) error {
		var id, sum string
		err := rows.Scan(&id, &sum)
		s.docs[id] = sum
		return err
	})
	query(t, db, `SELECT sha256, data FROM blobs`, func(rows *sql.Rows) error {
		var sum string
		var data []byte
		err := rows.Scan(&sum, &data)
		s.blobs[sum] = data
		return err
	})
	query(t, db, b.loggedSQL(), func(rows *sql.Rows) error {
		var id string
		err := rows.Scan(&id)
		s.logged[id] = true
		return err
	})
	if b.kind == "postgres" {
		s.docIDs = map[string]bool{}
		query(t, db, `SELECT doc_id FROM document_ids`, func(rows *sql.Rows) error {
			var id string
			err := rows.Scan(&id)
			s.docIDs[id] = true
			return err
		})
	}
	return s
}

func query(t *testing.T, db *sql.DB, q string, scan func(*sql.Rows) error, args ...any) {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// verifyStore reads the stopped archive's database directly: each document
// wholly present or wholly absent, acknowledged ones present, the same as
// the API showed, no orphan rows, and the database's own checks clean.
func (h *harness) verifyStore() {
	t := h.t
	db := h.be.open(t)
	defer db.Close()
	s := h.be.snapshot(t, db)

	sent := map[string]bool{}
	var present, absent, bad int
	for _, d := range h.docs {
		sent[d.id] = true
		sum, row := s.docs[d.id]
		data, blob := s.blobs[d.sum]
		logged := s.logged[d.id]
		parts := []bool{row, blob, logged}
		desc := fmt.Sprintf("documents row %v, blobs row %v, archive logged %v", row, blob, logged)
		if s.docIDs != nil {
			parts = append(parts, s.docIDs[d.id])
			desc += fmt.Sprintf(", document_ids row %v", s.docIDs[d.id])
		}
		all, none := true, true
		for _, p := range parts {
			all, none = all && p, none && !p
		}
		if row && sum != d.sum {
			t.Errorf("document %s: stored content_sha256 %s, submitted %s", d.id, sum, d.sum)
		}
		if blob && !bytes.Equal(data, d.doc.XML) {
			t.Errorf("document %s: the blobs row holds %d bytes that differ from the %d submitted", d.id, len(data), len(d.doc.XML))
		}
		switch {
		case d.acked() && !all:
			t.Errorf("LOST in the database: acknowledged document %s: %s (%s)", d.id, desc, d.history())
			bad++
		case !all && !none:
			t.Errorf("HALF-PRESENT in the database: document %s: %s (%s)", d.id, desc, d.history())
			bad++
		case all && d.mustBeAbsent():
			t.Errorf("document %s was never received or was refused, yet the database holds it (%s)", d.id, d.history())
			bad++
		case all:
			present++
		default:
			absent++
		}
		if p := h.api[d.id]; p != nil && p.binary != row {
			t.Errorf("document %s: GET Binary found it %v, yet the documents row exists %v", d.id, p.binary, row)
		}
	}
	for id := range s.docs {
		if !sent[id] {
			t.Errorf("the database holds document %s, which was never sent", id)
		}
	}
	for id := range s.logged {
		if !sent[id] {
			t.Errorf("the access log records archiving %s, which was never sent", id)
		}
	}
	for what, q := range h.be.antiJoins() {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n != 0 {
			t.Errorf("%s: %d", what, n)
		}
	}
	t.Logf("database: %d documents wholly present, %d wholly absent, %d lost or half-present", present, absent, bad)
	h.verifyDisclosuresStore(db)
	if h.be.kind == "sqlite" {
		sqliteIntegrity(t, db)
	} else {
		h.postgresIndexes(db)
	}
}

func sqliteIntegrity(t *testing.T, db *sql.DB) {
	var msgs []string
	query(t, db, `PRAGMA integrity_check`, func(rows *sql.Rows) error {
		var m string
		err := rows.Scan(&m)
		msgs = append(msgs, m)
		return err
	})
	if len(msgs) != 1 || msgs[0] != "ok" {
		t.Errorf("PRAGMA integrity_check: %s", strings.Join(msgs, "; "))
	}
	var fk []string
	query(t, db, `PRAGMA foreign_key_check`, func(rows *sql.Rows) error {
		var table, parent string
		var rowid, fkid sql.NullInt64
		err := rows.Scan(&table, &rowid, &parent, &fkid)
		fk = append(fk, fmt.Sprintf("%s row %d → %s", table, rowid.Int64, parent))
		return err
	})
	if len(fk) > 0 {
		t.Errorf("PRAGMA foreign_key_check: %s", strings.Join(fk, "; "))
	}
	t.Logf("SQLite: integrity_check ok, foreign_key_check clean")
}

// postgresIndexes checks the B-tree indexes of the archive's tables with
// amcheck (bt_index_check, heapallindexed), when the extension can be had.
func (h *harness) postgresIndexes(db *sql.DB) {
	t := h.t
	var ext sql.NullString
	if err := db.QueryRow(`SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'amcheck'`).Scan(&ext); err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	if !ext.Valid {
		// In the test's own schema, so that it goes when the schema does.
		if _, err := db.Exec(`CREATE EXTENSION amcheck SCHEMA ` + quoteIdent(h.be.schema)); err != nil {
			t.Logf("PostgreSQL: amcheck is not available (%v); index check skipped", err)
			return
		}
		ext = sql.NullString{String: quoteIdent(h.be.schema), Valid: true}
	}
	var idx []string
	query(t, db, `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
		FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_class r ON r.oid = i.indrelid
		JOIN pg_namespace n ON n.oid = r.relnamespace
		JOIN pg_am am ON am.oid = c.relam
		WHERE n.nspname = current_schema() AND am.amname = 'btree'
		AND r.relname IN ('documents', 'access_log', 'blobs', 'document_ids', 'document_sets', 'nullifications', 'will_expressions', 'will_withdrawals', 'disclosures')
		ORDER BY 1`, func(rows *sql.Rows) error {
		var name string
		err := rows.Scan(&name)
		idx = append(idx, name)
		return err
	})
	if len(idx) == 0 {
		t.Fatal("PostgreSQL: no indexes of the archive's tables found in the test schema")
	}
	for _, name := range idx {
		if _, err := db.Exec(`SELECT `+ext.String+`.bt_index_check($1::regclass, true)`, name); err != nil {
			t.Errorf("bt_index_check(%s): %v", name, err)
		}
	}
	t.Logf("PostgreSQL: amcheck bt_index_check passes on %d indexes: %s", len(idx), strings.Join(idx, ", "))
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
