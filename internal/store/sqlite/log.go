package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

func (t *txn) AppendAccess(ctx context.Context, e *archive.AccessEntry) error {
	return t.appendLogs(ctx, []*archive.AccessEntry{e})
}

// logRow is an access-log entry as the insert's arguments.
func logRow(e *archive.AccessEntry) ([]any, error) {
	caller, docs, err := sqlstore.EncodeEntry(e)
	if err != nil {
		return nil, err
	}
	ca, sa, txn, query := sqlstore.RequestColumns(e)
	return []any{e.At.UnixMicro(), e.ClientKey, e.Custodian, string(e.Action), string(e.Outcome), e.Reason, e.Caller.System, e.Caller.Organisation, string(caller), string(docs), e.Details,
		ca, sa, txn, query}, nil
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

const logCols = 15

// logSelect are the columns scanLogRows reads.
const logSelect = `id, at_us, client_key, custodian, action, outcome, reason, caller_json, documents, details, client_addr, server_addr, txn, raw_query`

// qAppendLogs is the insert of n access-log entries.
func qAppendLogs(n int) string {
	if n == 1 {
		return qAppendLog
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", logCols), ", ") + ")"
	return qAppendLogPrefix + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

func (t *txn) AccessLog(ctx context.Context, q archive.AccessLogQuery) ([]*archive.AccessEntry, error) {
	w := sqlstore.LogWhere(dialect, q)
	rows, err := t.tx.QueryContext(ctx, `SELECT `+logSelect+`
		FROM access_log WHERE `+w.String()+` ORDER BY id DESC LIMIT ?`, append(w.Args, sqlstore.LogLimit(q))...)
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
		var action, outcome, caller, docs, ca, sa, txn, query string
		if err := rows.Scan(&e.ID, &at, &e.ClientKey, &e.Custodian, &action, &outcome, &e.Reason, &caller, &docs, &e.Details, &ca, &sa, &txn, &query); err != nil {
			return nil, err
		}
		e.At = time.UnixMicro(at)
		if err := sqlstore.DecodeEntry(e, action, outcome, []byte(caller), []byte(docs)); err != nil {
			return nil, err
		}
		sqlstore.SetRequest(e, ca, sa, txn, query)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (t *txn) ScanAccessLog(ctx context.Context, after int64, limit int) ([]*archive.AccessEntry, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+logSelect+`
		FROM access_log WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	return scanLogRows(rows)
}
