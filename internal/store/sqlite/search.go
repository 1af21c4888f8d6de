package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

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
