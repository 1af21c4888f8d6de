package fhirapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // dates without a zone are Finnish local dates, on any host

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fitime"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/jsoncodec"
	"github.com/arkisto/arkisto/internal/oid"
)

// searchParams lists the DocumentReference search parameters and what
// they search.
var searchParams = map[string]string{
	"patient.identifier":  "the client: " + SystemIdentityCode + "|<identity code>, or <temporary id root as urn:oid>|<id> (this or patient is required)",
	"patient":             "the client as Patient/<id> (GET /fhir/Patient?identifier=... gives the id; this or patient.identifier is required)",
	"status":              "current, superseded, entered-in-error (default current,superseded)",
	"date":                "when the DocumentReference was made (DocumentReference.date: the source's date, or the receipt), with prefixes ge, gt, le, lt, eq",
	"period":              "the case's period (context.period), with prefixes ge, gt, le, lt, eq",
	"type":                "specific document type (" + oidURN(codes.OIDDocumentType) + ")",
	"category":            "general document type (" + oidURN(codes.OIDDocumentType) + ") or document group (" + oidURN(codes.OIDDocumentGroup) + ")",
	"event":               "service task (" + oidURN(codes.OIDServiceTask) + ")",
	"setting":             "service process phase (" + oidURN(codes.OIDServiceProcess) + ")",
	"related":             "case id (urn:oid:<case OID>)",
	"facility":            "service unit (" + SystemServiceUnit + "|<unit OID>)",
	"register":            "register type code (" + oidURN(codes.OIDRegister) + ")",
	"document-group":      "document group code (" + oidURN(codes.OIDDocumentGroup) + ")",
	"client-relationship": "client relationship id (urn:oid:<OID>)",
	"custodian":           "the controller whose register holds the document now (urn:oid:<OID>); the custodian unless the register was transferred",
	// MHD 4.2 ITI-67 2:3.67.4.1.2.1 Query Search Parameters.
	"identifier":     "the document's uniqueId, DocumentReference.masterIdentifier (urn:oid:<document OID>, or " + SystemURI + "|urn:oid:<document OID>)",
	"_id":            "the DocumentReference id (the document OID)",
	"author.given":   "a given name of the author starts with this, case- and accent-insensitive",
	"author.family":  "the author's family name starts with this, case- and accent-insensitive",
	"creation":       "attachment.creation, the document's effective time, with prefixes ge, gt, le, lt, eq",
	"security-label": "confidentiality (" + oidURN(codes.OIDConfidentiality) + ")",
	"format":         "display form format (" + oidURN(codes.OIDDisplayFormat) + ")",
	"_lastUpdated":   "meta.lastUpdated, when the DocumentReference last changed, with prefixes ge, gt, le, lt, eq",
	"_summary":       "count: the total alone, no entries",
	"_count":         "page size, 0–500 (default 50); 0: the total alone",
	"_cursor":        "paging cursor from a next link",
}

// Rule codes of search parameters; QUERY_STATUS and QUERY_CURSOR are the
// domain's own.
const (
	RuleQueryParam  = "QUERY_PARAM"  // an unknown or nameless parameter
	RuleQueryClient = "QUERY_CLIENT" // patient.identifier missing, repeated or not a client identifier
	RuleQueryCode   = "QUERY_CODE"   // a code or identifier of another system, or not an OID
	RuleQueryDate   = "QUERY_DATE"   // a date that is not a FHIR date, or an unknown prefix
	RuleQueryCount  = "QUERY_COUNT"  // _count outside 1–500
	RuleQueryStatus = "QUERY_STATUS"
	RuleQueryCursor = "QUERY_CURSOR"
)

// paramErr is a 400 naming the search parameter and the rule it breaks.
func paramErr(rule, param, format string, args ...any) *badRequest {
	return &badRequest{status: http.StatusBadRequest, code: "value", expr: param, rule: rule, msg: param + ": " + fmt.Sprintf(format, args...)}
}

// tokens splits a comma-separated token parameter into (system, code) pairs.
func tokens(values []string) [][2]string {
	var out [][2]string
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t == "" {
				continue
			}
			if sys, code, ok := strings.Cut(t, "|"); ok {
				out = append(out, [2]string{sys, code})
			} else {
				out = append(out, [2]string{"", t})
			}
		}
	}
	return out
}

// codesOf reads a token parameter restricted to one code system.
func codesOf(q url.Values, param, system string) ([]string, error) {
	var out []string
	for _, t := range tokens(q[param]) {
		if t[0] != "" && t[0] != oidURN(system) {
			return nil, paramErr(RuleQueryCode, param, "code system must be %s, is %q", oidURN(system), t[0])
		}
		out = append(out, t[1])
	}
	return out, nil
}

// oidsOf reads identifiers given as urn:oid:X, system|urn:oid:X, system|X
// or X; a system, when given, must be the one the parameter uses.
func oidsOf(q url.Values, param, system string) ([]string, error) {
	var out []string
	for _, t := range tokens(q[param]) {
		if t[0] != "" && t[0] != system {
			return nil, paramErr(RuleQueryCode, param, "identifier system must be %s, is %q", system, t[0])
		}
		v := strings.TrimPrefix(t[1], "urn:oid:")
		if err := oid.Check(v); err != nil {
			return nil, paramErr(RuleQueryCode, param, "must be an OID: %v", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// clientKey reads patient.identifier.
func clientKey(q url.Values, param string) (string, error) {
	vals := q[param]
	if len(vals) != 1 || vals[0] == "" {
		return "", paramErr(RuleQueryClient, param, "exactly one client is required, as %s|<identity code>", SystemIdentityCode)
	}
	sys, value, ok := strings.Cut(vals[0], "|")
	if !ok {
		sys, value = SystemIdentityCode, vals[0]
	}
	root := strings.TrimPrefix(sys, "urn:oid:")
	id, err := hetu.ParseClientID(root, value)
	if err != nil {
		return "", paramErr(RuleQueryClient, param, "not a valid client identifier: %v", err)
	}
	return id.Key(), nil
}

// dateBound turns a FHIR date or dateTime into the instants its precision
// spans: [start, end).
func dateBound(v string) (time.Time, time.Time, error) {
	layouts := []struct {
		layout string
		step   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
	}
	for _, l := range layouts {
		if len(v) == len(l.layout) {
			t, err := time.ParseInLocation(l.layout, v, fitime.Location)
			if err != nil {
				return time.Time{}, time.Time{}, err
			}
			return t, l.step(t), nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("must be YYYY, YYYY-MM, YYYY-MM-DD or a dateTime with zone")
	}
	return t, t.Add(time.Second), nil
}

// dateRange reads a date parameter with prefixes into [from, to).
func dateRange(q url.Values, param string) (from, to time.Time, err error) {
	for _, v := range q[param] {
		prefix := "eq"
		if len(v) > 2 && v[0] >= 'a' && v[0] <= 'z' {
			prefix, v = v[:2], v[2:]
		}
		start, end, err := dateBound(v)
		if err != nil {
			return from, to, paramErr(RuleQueryDate, param, "%v", err)
		}
		later := func(a, b time.Time) time.Time {
			if a.IsZero() || b.After(a) {
				return b
			}
			return a
		}
		earlier := func(a, b time.Time) time.Time {
			if a.IsZero() || b.Before(a) {
				return b
			}
			return a
		}
		switch prefix {
		case "eq":
			from, to = later(from, start), earlier(to, end)
		case "ge":
			from = later(from, start)
		case "gt":
			from = later(from, end)
		case "lt":
			to = earlier(to, start)
		case "le":
			to = earlier(to, end)
		default:
			return from, to, paramErr(RuleQueryDate, param, "prefix must be eq, ge, gt, le or lt, is %q", prefix)
		}
	}
	return from, to, nil
}

// pageSize reads _count: 1–500, or 0 for the total alone (FHIR R4
// search.html#count: "_count=0" asks for the count only).
func pageSize(q url.Values) (int, error) {
	if v := q.Get("_count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 500 {
			return 0, paramErr(RuleQueryCount, "_count", "must be a number from 0 to 500")
		}
		return n, nil
	}
	return 50, nil
}

// lenient reports whether the request asks unknown search parameters to be
// ignored: Prefer: handling=lenient (FHIR R4 search.html#errors; MHD
// clients expect it). The default is strict: an unknown parameter is 400.
func lenient(r *http.Request) bool {
	for _, h := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(h, ",") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "handling") {
				if strings.EqualFold(strings.Trim(strings.TrimSpace(v), `"`), "lenient") {
					return true
				}
			}
		}
	}
	return false
}

// unsupported takes out of q the parameters the search does not support:
// under lenient handling they are returned to be reported, under strict
// the first is an error. _summary is supported with the value count only.
func unsupported(q url.Values, params map[string]string, lenient bool) ([]string, error) {
	var out []string
	// In order, so that a strict refusal names the same parameter each time.
	for _, p := range slices.Sorted(maps.Keys(q)) {
		switch {
		case p == "":
			return nil, paramErr(RuleQueryParam, "query", "a parameter without a name (a stray = or &)")
		case p == "_format":
			continue
		case p == "_summary":
			if vs := q[p]; len(vs) == 1 && vs[0] == "count" {
				continue
			}
			if !lenient {
				return nil, paramErr(RuleQueryParam, p, "only _summary=count is supported")
			}
		default:
			if _, ok := params[p]; ok {
				continue
			}
			if !lenient {
				known := make([]string, 0, len(params))
				for k := range params {
					known = append(known, k)
				}
				sort.Strings(known)
				return nil, paramErr(RuleQueryParam, p, "unknown search parameter (send Prefer: handling=lenient to have unknown parameters ignored); supported: %s", strings.Join(known, ", "))
			}
		}
		out = append(out, p)
	}
	for _, p := range out {
		delete(q, p)
	}
	return out, nil
}

// documentIDs reads identifier (masterIdentifier, the uniqueId) and _id:
// both name the document, so given together a document must match both.
func documentIDs(q url.Values) ([]string, error) {
	byIdentifier, err := oidsOf(q, "identifier", SystemURI)
	if err != nil {
		return nil, err
	}
	var byID []string
	for _, t := range tokens(q["_id"]) {
		if err := oid.Check(t[1]); t[0] != "" || err != nil {
			return nil, paramErr(RuleQueryCode, "_id", "must be a DocumentReference id: a document OID")
		}
		byID = append(byID, t[1])
	}
	switch {
	case len(byID) == 0:
		return byIdentifier, nil
	case len(byIdentifier) == 0:
		return byID, nil
	}
	var both []string
	for _, a := range byID {
		if slices.Contains(byIdentifier, a) {
			both = append(both, a)
		}
	}
	if len(both) == 0 {
		// No document has two ids: match none ("-" is no OID).
		both = []string{"-"}
	}
	return both, nil
}

// patientParam reads patient: one Patient, as Patient/<id>, <base>/Patient/<id>
// or <id> (MHD 4.2 ITI-67 2:3.67.4.1.2.1: patient, a reference).
func (s *Server) patientParam(q url.Values) (string, error) {
	vals := q["patient"]
	if len(vals) != 1 || strings.Contains(vals[0], ",") {
		return "", paramErr(RuleQueryClient, "patient", "exactly one Patient is required")
	}
	v := vals[0]
	if patientIDOK(v) {
		return v, nil
	}
	id, ok := s.patientRef(v)
	if !ok {
		return "", paramErr(RuleQueryClient, "patient", "must be Patient/<id> of this archive (GET /fhir/Patient?identifier=%s|<identity code> gives the id)", SystemIdentityCode)
	}
	return id, nil
}

// names reads a string parameter's comma-separated values.
func names(q url.Values, param string) []string {
	var out []string
	for _, v := range q[param] {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}

// parseFind reads ITI-67 parameters into a domain query. q holds only
// supported parameters (unsupported took out the rest).
func (s *Server) parseFind(q url.Values) (archive.Query, error) {
	var aq archive.Query
	var err error
	switch {
	case len(q["patient"]) > 0 && len(q["patient.identifier"]) > 0:
		return aq, paramErr(RuleQueryClient, "patient", "give the client once: patient or patient.identifier")
	case len(q["patient"]) > 0:
		if aq.PatientID, err = s.patientParam(q); err != nil {
			return aq, err
		}
	default:
		if aq.ClientKey, err = clientKey(q, "patient.identifier"); err != nil {
			return aq, err
		}
	}
	for _, t := range tokens(q["status"]) {
		switch t[1] {
		case "current":
			aq.Statuses = append(aq.Statuses, archive.StatusCurrent)
		case "superseded":
			aq.Statuses = append(aq.Statuses, archive.StatusSuperseded)
		case "entered-in-error":
			aq.Statuses = append(aq.Statuses, archive.StatusNullified)
		default:
			return aq, paramErr(RuleQueryStatus, "status", "must be current, superseded or entered-in-error, is %q", t[1])
		}
	}
	// date is when the DocumentReference was made (MHD 4.2 2:3.67.4.1.2.1,
	// FHIR R4): the source's date, or the receipt; the document's own time
	// is creation.
	if aq.ReferencedFrom, aq.ReferencedTo, err = dateRange(q, "date"); err != nil {
		return aq, err
	}
	if aq.PeriodFrom, aq.PeriodTo, err = dateRange(q, "period"); err != nil {
		return aq, err
	}
	for _, t := range tokens(q["type"]) {
		switch t[0] {
		case "", oidURN(codes.OIDDocumentType):
			aq.SpecificTypes = append(aq.SpecificTypes, t[1])
		case oidURN(codes.OIDDocumentGroup):
			aq.DocumentGroups = append(aq.DocumentGroups, t[1])
		default:
			return aq, paramErr(RuleQueryCode, "type", "code system must be %s (or %s for a client relationship document)", oidURN(codes.OIDDocumentType), oidURN(codes.OIDDocumentGroup))
		}
	}
	for _, t := range tokens(q["category"]) {
		switch t[0] {
		case "", oidURN(codes.OIDDocumentType):
			aq.GeneralTypes = append(aq.GeneralTypes, t[1])
		case oidURN(codes.OIDDocumentGroup):
			aq.DocumentGroups = append(aq.DocumentGroups, t[1])
		default:
			return aq, paramErr(RuleQueryCode, "category", "code system must be %s or %s", oidURN(codes.OIDDocumentType), oidURN(codes.OIDDocumentGroup))
		}
	}
	type codeParam struct {
		name, system string
		dst          *[]string
	}
	for _, cp := range []codeParam{
		{"event", codes.OIDServiceTask, &aq.ServiceTasks},
		{"setting", codes.OIDServiceProcess, &aq.ServiceProcesses},
		{"register", codes.OIDRegister, &aq.Registers},
		{"document-group", codes.OIDDocumentGroup, &aq.DocumentGroups},
	} {
		vs, err := codesOf(q, cp.name, cp.system)
		if err != nil {
			return aq, err
		}
		*cp.dst = append(*cp.dst, vs...)
	}
	type oidParam struct {
		name, system string
		dst          *[]string
	}
	for _, op := range []oidParam{
		{"related", SystemURI, &aq.Cases}, {"facility", SystemServiceUnit, &aq.ServiceUnits},
		{"client-relationship", SystemURI, &aq.ClientRelationship}, {"custodian", SystemURI, &aq.Custodians},
	} {
		vs, err := oidsOf(q, op.name, op.system)
		if err != nil {
			return aq, err
		}
		*op.dst = vs
	}
	if aq.DocumentIDs, err = documentIDs(q); err != nil {
		return aq, err
	}
	// attachment.creation is the document's effective time.
	if aq.From, aq.To, err = dateRange(q, "creation"); err != nil {
		return aq, err
	}
	if aq.UpdatedFrom, aq.UpdatedTo, err = dateRange(q, "_lastUpdated"); err != nil {
		return aq, err
	}
	aq.AuthorGiven, aq.AuthorFamily = names(q, "author.given"), names(q, "author.family")
	if aq.Confidentialities, err = codesOf(q, "security-label", codes.OIDConfidentiality); err != nil {
		return aq, err
	}
	if aq.DisplayFormats, err = codesOf(q, "format", codes.OIDDisplayFormat); err != nil {
		return aq, err
	}
	if aq.Limit, err = pageSize(q); err != nil {
		return aq, err
	}
	aq.CountOnly = aq.Limit == 0 || q.Get("_summary") == "count"
	// The service checks that the cursor was issued to this caller for
	// this search.
	aq.Cursor = q.Get("_cursor")
	return aq, nil
}

// maxSearchForm limits the body of a POST search.
const maxSearchForm = 64 << 10

// searchForm is POST /fhir/DocumentReference/_search: the parameters in an
// application/x-www-form-urlencoded body (and any in the URL), which keeps
// identity codes out of URLs and proxy logs (MHD 4.2 ITI-67
// 2:3.67.4.1.2 Message Semantics; FHIR R4 http.html#search).
func (s *Server) searchForm(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	if form, ok := s.readSearchForm(w, r, c); ok {
		s.findWith(w, r, c, form)
	}
}

// readSearchForm reads the parameters of a POST search: an
// application/x-www-form-urlencoded body (and any in the URL), and puts
// the raw form into the caller's request for the access log. It answers
// the request itself and returns false when it cannot.
func (s *Server) readSearchForm(w http.ResponseWriter, r *http.Request, c archive.Caller) (url.Values, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		s.fail(w, http.StatusUnsupportedMediaType, issue("not-supported", "Content-Type", "", "a search by POST has the parameters as application/x-www-form-urlencoded, is "+strconv.Quote(r.Header.Get("Content-Type"))))
		return nil, false
	}
	// The raw form goes to the access log as the search request (BALP
	// Query), exactly as sent.
	var raw bytes.Buffer
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(http.MaxBytesReader(w, r.Body, maxSearchForm), &raw), r.Body}
	if err := r.ParseForm(); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			s.fail(w, http.StatusRequestEntityTooLarge, issue("too-long", "", "BODY_TOO_LARGE", fmt.Sprintf("the search form exceeds %d bytes", maxSearchForm)))
			return nil, false
		}
		s.badRequest(w, paramErr(RuleQueryParam, "query", "the form is not application/x-www-form-urlencoded: %v", err))
		return nil, false
	}
	if c.Request != nil {
		if c.Request.Query != "" && raw.Len() > 0 {
			c.Request.Query += "&"
		}
		c.Request.Query = loggedQuery(c.Request.Query + raw.String())
	}
	return r.Form, true
}

func (s *Server) find(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	s.findWith(w, r, c, r.URL.Query())
}

// findWith answers ITI-67 for the parameters q, of the URL or a POST form.
func (s *Server) findWith(w http.ResponseWriter, r *http.Request, c archive.Caller, q url.Values) {
	ignored, err := unsupported(q, searchParams, lenient(r))
	if err != nil {
		s.badRequest(w, err)
		return
	}
	aq, err := s.parseFind(q)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	page, err := s.svc.Search(r.Context(), c, aq)
	var ae *archive.Error
	if errors.As(err, &ae) && ae.Problems.Has(RuleQueryCursor) {
		s.badRequest(w, paramErr(RuleQueryCursor, "_cursor", "not a cursor this archive issued to this caller for this search: page with the next link of the same search"))
		return
	}
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	b := s.searchBundle(page.Records)
	total := page.Total
	b.Total = &total
	if len(ignored) > 0 {
		b.Entry = append(b.Entry, ignoredOutcome(ignored))
	}
	b.Link = []BundleLink{{Relation: "self", URL: s.cfg.BaseURL + "/DocumentReference?" + q.Encode()}}
	if page.Next != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("_cursor", page.Next)
		b.Link = append(b.Link, BundleLink{Relation: "next", URL: s.cfg.BaseURL + "/DocumentReference?" + nq.Encode()})
	}
	writeJSON(w, http.StatusOK, b)
}

// ignoredOutcome is the searchset entry that reports the parameters a
// lenient search ignored (FHIR R4 search.html#errors: an OperationOutcome
// with search.mode outcome).
func ignoredOutcome(params []string) BundleEntry {
	oo := &OperationOutcome{ResourceType: "OperationOutcome"}
	for _, p := range params {
		is := issue("not-supported", p, RuleQueryParam, p+": not a supported search parameter (or value); ignored under Prefer: handling=lenient")
		is.Severity = "warning"
		oo.Issue = append(oo.Issue, is)
	}
	raw, _ := jsoncodec.Marshal(oo)
	return BundleEntry{FullURL: uuidURN(), Resource: raw, Search: &BundleSearch{Mode: "outcome"}}
}

func (s *Server) searchBundle(recs []*archive.Record) *Bundle {
	b := &Bundle{ResourceType: "Bundle", Type: "searchset", Timestamp: instant(time.Now().UTC())}
	for _, rec := range recs {
		raw, _ := encodeStamped(s.docRefOf(rec))
		b.Entry = append(b.Entry, BundleEntry{
			FullURL: s.cfg.BaseURL + "/DocumentReference/" + rec.Header.ID, Resource: raw, Search: &BundleSearch{Mode: "match"},
		})
	}
	return b
}
