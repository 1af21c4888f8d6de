package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/jackc/pgx/v5"
)

func (t *txn) AppendLog(ctx context.Context, e *archive.AccessEntry) error {
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

func (t *txn) Log(ctx context.Context, q archive.LogQuery) ([]*archive.AccessEntry, error) {
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

func (t *txn) ScanLog(ctx context.Context, after int64, limit int) ([]*archive.AccessEntry, error) {
	rows, err := t.tx.Query(ctx, `SELECT id, at, client_key, custodian, action, outcome, reason, caller, documents, details
		FROM access_log WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	return scanLogRows(rows)
}
