package postgres

import (
	"context"
	"fmt"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
	"github.com/jackc/pgx/v5"
)

func (t *txn) AppendAccess(ctx context.Context, e *archive.AccessEntry) error {
	caller, docs, err := sqlstore.EncodeEntry(e)
	if err != nil {
		return err
	}
	ca, sa, txn, query := sqlstore.RequestColumns(e)
	err = t.tx.QueryRow(ctx, `INSERT INTO access_log (client_key, at, custodian, action, outcome, reason, caller_system, caller_org, caller, documents, details,
		client_addr, server_addr, txn, raw_query)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		e.ClientKey, e.At, e.Custodian, string(e.Action), string(e.Outcome), e.Reason, e.Caller.System, e.Caller.Organisation, caller, docs, e.Details,
		ca, sa, txn, query).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("append access log: %w", err)
	}
	return nil
}

func (t *txn) AccessLog(ctx context.Context, q archive.AccessLogQuery) ([]*archive.AccessEntry, error) {
	w := sqlstore.LogWhere(dialect, q)
	rows, err := t.tx.Query(ctx, dialect.Rebind(`SELECT `+logSelect+`
		FROM access_log WHERE `+w.String()+` ORDER BY id DESC LIMIT ?`), append(w.Args, sqlstore.LogLimit(q))...)
	if err != nil {
		return nil, err
	}
	return scanLogRows(rows)
}

// logSelect are the columns scanLogRows reads.
const logSelect = `id, at, client_key, custodian, action, outcome, reason, caller, documents, details, client_addr, server_addr, txn, raw_query`

func scanLogRows(rows pgx.Rows) ([]*archive.AccessEntry, error) {
	defer rows.Close()
	var out []*archive.AccessEntry
	for rows.Next() {
		e := &archive.AccessEntry{}
		var action, outcome, ca, sa, txn, query string
		var caller, docs []byte
		if err := rows.Scan(&e.ID, &e.At, &e.ClientKey, &e.Custodian, &action, &outcome, &e.Reason, &caller, &docs, &e.Details, &ca, &sa, &txn, &query); err != nil {
			return nil, err
		}
		if err := sqlstore.DecodeEntry(e, action, outcome, caller, docs); err != nil {
			return nil, err
		}
		sqlstore.SetRequest(e, ca, sa, txn, query)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (t *txn) ScanAccessLog(ctx context.Context, after int64, limit int) ([]*archive.AccessEntry, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+logSelect+`
		FROM access_log WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	return scanLogRows(rows)
}
