package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// sqlTx is a transaction as the store's methods use it. Statements that
// the archive runs on every request are prepared once when the store opens
// and reused; parsing SQL is otherwise a fifth of the cost of a read.
// In a write group, statements run without the caller's cancellation: a
// write that has started runs to its savepoint's end, because SQLite ends
// the whole transaction, and with it the group, when a write in it is
// interrupted.
type sqlTx struct {
	tx     *sql.Tx
	stmts  map[string]*sql.Stmt
	detach bool
}

func (q *sqlTx) ctx(ctx context.Context) context.Context {
	if q.detach {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (q *sqlTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = q.ctx(ctx)
	if st := q.stmts[query]; st != nil {
		return q.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}

func (q *sqlTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = q.ctx(ctx)
	if st := q.stmts[query]; st != nil {
		return q.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q *sqlTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = q.ctx(ctx)
	if st := q.stmts[query]; st != nil {
		return q.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}

// prepare prepares queries on db for reuse by every transaction.
func prepare(ctx context.Context, db *sql.DB, queries []string) (map[string]*sql.Stmt, error) {
	m := make(map[string]*sql.Stmt, len(queries))
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prepare a statement: %w", err), closeStmts(m))
		}
		m[q] = st
	}
	return m, nil
}

func closeStmts(m map[string]*sql.Stmt) error {
	var errs []error
	for _, st := range m {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// Statements every request runs, prepared when the store opens.
const (
	qDocument    = `SELECT ` + recordCols + recordFrom + `WHERE d.doc_id = ?`
	qContent     = `SELECT data FROM blobs WHERE sha256 = ?`
	qPutBlob     = `INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING`
	qPutDocument = `INSERT INTO documents (doc_id, set_id, version, client_key, status, custodian, register,
		service_task, general_type, specific_type, document_group, case_id, client_relationship, service_unit,
		service_process, case_opened_us, case_closed_us,
		effective_us, replaces, content_sha256, content_size, record_json, received_us, submitter_system, submitter_org, controller,
		updated_us, author_family, author_given, confidentiality, display_format, patient_id, referenced_us, search_terms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`
	qAppendLogPrefix = `INSERT INTO access_log (at_us, client_key, custodian, action, outcome, reason, caller_system, caller_org, caller_json, documents, details,
		client_addr, server_addr, txn, raw_query)
		VALUES `
	qAppendLog          = qAppendLogPrefix + `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qSupersede          = `UPDATE documents SET status = 'superseded', updated_us = MAX(updated_us, ?) WHERE doc_id = ? AND status = 'current'`
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
