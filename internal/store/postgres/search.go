package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/arkisto/arkisto/internal/archive"
)

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
