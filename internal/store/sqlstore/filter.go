package sqlstore

import (
	"strings"

	"github.com/arkisto/arkisto/internal/archive"
)

// Where is a conjunction of conditions with ? placeholders and their
// arguments, in order.
type Where struct {
	Conds []string
	Args  []any
}

// Add appends a condition and its arguments.
func (w *Where) Add(cond string, args ...any) {
	w.Conds = append(w.Conds, cond)
	w.Args = append(w.Args, args...)
}

// String is the conditions joined with AND.
func (w *Where) String() string { return strings.Join(w.Conds, " AND ") }

func (w *Where) in(d Dialect, col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	cond, args := d.In(col, vals)
	w.Add(cond, args...)
}

// prefixes matches col against any of the name prefixes, folded as the
// store folded the column (archive.FoldName), LIKE's wildcards in them
// escaped; lead goes before each.
func (w *Where) prefixes(col, lead string, vals []string) {
	if len(vals) == 0 {
		return
	}
	var ors []string
	var args []any
	for _, v := range vals {
		ors = append(ors, col+` LIKE ? ESCAPE '\'`)
		args = append(args, lead+likeEscaper.Replace(archive.FoldName(v))+"%")
	}
	w.Add("("+strings.Join(ors, " OR ")+")", args...)
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// SearchWhere translates a search and its scope into conditions on
// documents d. The scope must not be empty (the caller fails closed).
func SearchWhere(d Dialect, q archive.Query, scope archive.Scope) (*Where, error) {
	w := &Where{}
	ScopeWhere(d, w, scope, q.ClientKey != "")
	if q.ClientKey != "" {
		w.Add("d.client_key = ?", q.ClientKey)
	}
	w.in(d, "d.register", q.Registers)
	w.in(d, "d.controller", q.Custodians)
	w.in(d, "d.service_task", q.ServiceTasks)
	w.in(d, "d.general_type", q.GeneralTypes)
	w.in(d, "d.specific_type", q.SpecificTypes)
	w.in(d, "d.document_group", q.DocumentGroups)
	w.in(d, "d.case_id", q.Cases)
	w.in(d, "d.client_relationship", q.ClientRelationship)
	w.in(d, "d.service_unit", q.ServiceUnits)
	w.in(d, "d.set_id", q.SetIDs)
	w.in(d, "d.service_process", q.ServiceProcesses)
	w.in(d, "d.doc_id", q.DocumentIDs)
	w.in(d, "d.submitter_system", q.SubmitterSystems)
	w.in(d, "d.submitter_org", q.SubmitterOrganisations)
	w.in(d, "d.confidentiality", q.Confidentialities)
	w.in(d, "d.display_format", q.DisplayFormats)
	w.prefixes("d.author_family", "", q.AuthorFamily)
	// Every given name is kept preceded by a space (archive.AuthorTerms).
	w.prefixes("d.author_given", "% ", q.AuthorGiven)
	if !q.UpdatedFrom.IsZero() {
		w.Add(d.Updated+" >= ?", d.Time(q.UpdatedFrom))
	}
	if !q.UpdatedTo.IsZero() {
		w.Add(d.Updated+" < ?", d.Time(q.UpdatedTo))
	}
	if !q.ReferencedFrom.IsZero() {
		w.Add(d.Referenced+" >= ?", d.Time(q.ReferencedFrom))
	}
	if !q.ReferencedTo.IsZero() {
		w.Add(d.Referenced+" < ?", d.Time(q.ReferencedTo))
	}
	if !q.PeriodFrom.IsZero() {
		// The case period reaches PeriodFrom: it has not closed before it.
		w.Add(d.CaseOpened+" IS NOT NULL AND ("+d.CaseClosed+" IS NULL OR "+d.CaseClosed+" >= ?)", d.Time(q.PeriodFrom))
	}
	if !q.PeriodTo.IsZero() {
		w.Add(d.CaseOpened+" IS NOT NULL AND "+d.CaseOpened+" < ?", d.Time(q.PeriodTo))
	}
	statuses := q.Statuses
	if len(statuses) == 0 {
		statuses = []archive.Status{archive.StatusCurrent, archive.StatusSuperseded}
	}
	ss := make([]string, len(statuses))
	for i, s := range statuses {
		ss[i] = string(s)
	}
	w.in(d, "d.status", ss)
	if !q.From.IsZero() {
		w.Add(d.Effective+" >= ?", d.Time(q.From))
	}
	if !q.To.IsZero() {
		w.Add(d.Effective+" < ?", d.Time(q.To))
	}
	if q.Cursor != "" {
		at, id, err := archive.DecodeCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		cond, args := d.Before(d.Effective, d.Time(at), id)
		w.Add(cond, args...)
	}
	return w, nil
}

// ScopeWhere limits a search to the caller's registers and grants. It is
// archive.Scope.Allows in SQL: a document in one of the scope's registers,
// or, unless nullified, one a grant covers (the grant's client and
// organiser, and its service task or, for a client relationship document,
// its relationship). The behaviour suite checks that the two agree.
func ScopeWhere(d Dialect, w *Where, scope archive.Scope, client bool) {
	col := d.ScopeController(client)
	var ors []string
	var args []any
	if len(scope.Controllers) > 0 {
		cond, a := d.In(col, scope.Controllers)
		ors = append(ors, cond)
		args = append(args, a...)
	}
	for _, g := range scope.Grants {
		ors = append(ors, "(d.client_key = ? AND "+col+" = ? AND d.status <> 'nullified' AND (d.service_task = ? OR (d.document_group = '1' AND d.client_relationship = ?)))")
		args = append(args, g.ClientKey, g.Organiser, g.ServiceTask, g.RelationshipID)
	}
	if ds := scope.Disclosure; ds != nil {
		cond, a := disclosureWhere(d, col, ds)
		ors = append(ors, cond)
		args = append(args, a...)
	}
	w.Add("("+strings.Join(ors, " OR ")+")", args...)
}

// disclosureWhere is archive.DisclosureScope.Decide in SQL, as its
// exported lists state it: the client's documents, never nullified ones,
// of the groups named (any when none), and none of the excluded sets,
// service tasks and organisations' registers. An organisation covers its
// own OID and every OID under it (oid.SameOrganisation); OIDs are digits
// and dots, so LIKE's wildcards never occur in one.
func disclosureWhere(d Dialect, col string, ds *archive.DisclosureScope) (string, []any) {
	w := &Where{}
	w.Add("d.client_key = ?", ds.ClientKey)
	w.Add("d.status <> 'nullified'")
	w.in(d, "d.document_group", ds.Groups)
	for _, ex := range []struct {
		col  string
		vals []string
	}{{"d.set_id", ds.ExcludeSetIDs}, {"d.service_task", ds.ExcludeServiceTasks}} {
		if len(ex.vals) > 0 {
			cond, a := d.In(ex.col, ex.vals)
			w.Add("NOT ("+cond+")", a...)
		}
	}
	for _, org := range ds.ExcludeOrganisations {
		w.Add("NOT ("+col+" = ? OR "+col+" LIKE ?)", org, org+".%")
	}
	return "(" + w.String() + ")", w.Args
}

// ScopeEmpty reports whether a scope admits nothing, so that a search can
// fail closed without asking the database.
func ScopeEmpty(s archive.Scope) bool {
	return len(s.Controllers) == 0 && len(s.Grants) == 0 && s.Disclosure == nil
}

// LogWhere translates an access-log query into conditions on access_log:
// one client's entries, or with an organisation and no client, the
// organisation's entries of every client (a log export).
func LogWhere(d Dialect, q archive.AccessLogQuery) *Where {
	w := &Where{}
	if q.ClientKey != "" || q.Organisation == "" {
		w.Add("client_key = ?", q.ClientKey)
	}
	if q.Organisation != "" {
		or := []string{"custodian = ?", "(caller_org = ? AND outcome = 'allowed')"}
		args := []any{q.Organisation, q.Organisation}
		for _, p := range q.Predecessors {
			if p.Until.IsZero() {
				or = append(or, "custodian = ?")
				args = append(args, p.Controller)
			} else {
				or = append(or, "(custodian = ? AND "+d.LogAt+" < ?)")
				args = append(args, p.Controller, d.Time(p.Until))
			}
		}
		w.Add("("+strings.Join(or, " OR ")+")", args...)
	}
	if !q.From.IsZero() {
		w.Add(d.LogAt+" >= ?", d.Time(q.From))
	}
	if !q.To.IsZero() {
		w.Add(d.LogAt+" < ?", d.Time(q.To))
	}
	if q.Before > 0 {
		w.Add("id < ?", q.Before)
	}
	if q.ID > 0 {
		w.Add("id = ?", q.ID)
	}
	if len(q.Actions) > 0 {
		as := make([]string, len(q.Actions))
		for i, a := range q.Actions {
			as[i] = string(a)
		}
		c, a := d.In("action", as)
		w.Add(c, a...)
	}
	if len(q.Transactions) > 0 {
		c, a := d.In("txn", q.Transactions)
		w.Add(c, a...)
	}
	if q.Outcome != "" {
		w.Add("outcome = ?", string(q.Outcome))
	}
	if q.Person != "" {
		w.Add(d.LogPerson+" = ?", q.Person)
	}
	if q.System != "" {
		w.Add("caller_system = ?", q.System)
	}
	if q.Document != "" {
		w.Add(d.LogHasDocument, q.Document)
	}
	return w
}

// LogLimit is a log query's page size: 100 unless it names one.
func LogLimit(q archive.AccessLogQuery) int {
	if q.Limit <= 0 {
		return 100
	}
	return q.Limit
}
