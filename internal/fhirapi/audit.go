package fhirapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/jsoncodec"
)

// Code systems of IHE BALP audit events.
const (
	sysAuditEventType  = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	sysRestful         = "http://hl7.org/fhir/restful-interaction"
	sysDICOM           = "http://dicom.nema.org/resources/ontology/DCM"
	sysSecurityRole    = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
	sysActReason       = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	sysRoleClass       = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
	sysSourceType      = "http://terminology.hl7.org/CodeSystem/security-source-type"
	sysEntityType      = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	sysObjectRole      = "http://terminology.hl7.org/CodeSystem/object-role"
	SystemClientSystem = "urn:arkisto:system"
)

// interaction maps a logged action to the RESTful interaction and the
// AuditEvent action code (C, R, U, E).
func interaction(a archive.Action) (string, string) {
	switch a {
	case archive.ActionArchive:
		return "create", "C"
	case archive.ActionRead:
		return "read", "R"
	case archive.ActionSearch, archive.ActionLogRead:
		return "search-type", "E"
	case archive.ActionHistory:
		return "history-instance", "R"
	case archive.ActionNullify:
		return "update", "U"
	}
	return "operation", "E"
}

// IHE BALP 1.1 (https://profiles.ihe.net/ITI/BALP/) and the IHE
// transactions the door serves (urn:ihe:event-type-code).
const (
	sysIHEEventType  = "urn:ihe:event-type-code"
	sysParticipation = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	ProfileBALP      = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit."
	// observerID is the contained Device of every AuditEvent: the archive,
	// its source.observer and its server agent.
	observerID = "archive"
)

// iheTransactions are the displays of the IHE MHD transactions the door
// logs (MHD 4.2 volume 2).
var iheTransactions = map[string]string{
	"ITI-65": "Provide Document Bundle",
	"ITI-66": "Find Document Lists",
	"ITI-67": "Find Document References",
	"ITI-68": "Retrieve Document",
}

// auditEvent is an access-log entry as an IHE BALP AuditEvent; entries
// never change, so meta.lastUpdated is when it was logged.
func (s *Server) auditEvent(ctx context.Context, e *archive.AccessEntry) (*AuditEvent, error) {
	var pid string
	if e.ClientKey != "" {
		var err error
		if pid, err = s.svc.PatientID(ctx, e.ClientKey); err != nil {
			return nil, err
		}
	}
	ev := s.auditEventOf(e, pid)
	ev.Meta = resourceMeta(e.At)
	if p := balpProfile(e, ev); p != "" {
		ev.Meta.Profile = []string{ProfileBALP + p}
	}
	return stamp(ev), nil
}

// observer is the contained Device that is the archive: the BALP
// source.observer, a reference the AuditEvent itself resolves.
func (s *Server) observer() json.RawMessage {
	b, _ := jsoncodec.Marshal(Device{ResourceType: "Device", ID: observerID,
		Identifier: []Identifier{{System: "urn:ietf:rfc:3986", Value: s.cfg.BaseURL}},
		DeviceName: []DeviceName{{Name: "arkisto client data archive", Type: "user-friendly-name"}}})
	return b
}

func (s *Server) auditEventOf(e *archive.AccessEntry, patientID string) *AuditEvent {
	sub, action := interaction(e.Action)
	outcome := "0"
	if e.Outcome == archive.OutcomeRefused {
		outcome = "4"
	}
	ev := &AuditEvent{
		ResourceType: "AuditEvent",
		ID:           strconv.FormatInt(e.ID, 10),
		Contained:    []json.RawMessage{s.observer()},
		Type:         Coding{System: sysAuditEventType, Code: "rest", Display: "RESTful Operation"},
		Subtype:      []Coding{{System: sysRestful, Code: sub}},
		Action:       action,
		Recorded:     instant(e.At),
		Outcome:      outcome,
		OutcomeDesc:  string(e.Outcome) + ": " + e.Reason,
		Source: AuditEventSource{
			Site:     "arkisto",
			Observer: Reference{Reference: "#" + observerID, Display: "arkisto client data archive"},
			Type:     []Coding{{System: sysSourceType, Code: "4", Display: "Application Server"}},
		},
	}
	req := e.Request
	if req == nil {
		req = &archive.Request{}
	}
	if req.Transaction != "" {
		ev.Subtype = append(ev.Subtype, Coding{System: sysIHEEventType, Code: req.Transaction, Display: iheTransactions[req.Transaction]})
	}
	if e.Caller.InCitizenView() {
		// A use in the citizen view, for no organisation: the client's
		// own (patient requested), or a guardian's for a minor (family
		// requested; the guardian a related person of the client).
		reason, display, who := "PATRQT", "patient requested", "Patient"
		if e.Caller.Purpose == archive.PurposeGuardian {
			reason, display, who = "FAMRQT", "family requested", "RelatedPerson"
		}
		ev.PurposeOfEvent = []CodeableConcept{{Coding: []Coding{{System: sysActReason, Code: reason, Display: display}}}}
		ev.Agent = append(ev.Agent,
			AuditEventAgent{
				Type: &CodeableConcept{Coding: []Coding{{System: sysDICOM, Code: "110150", Display: "Application"}}},
				Who:  &Reference{Identifier: &Identifier{System: SystemClientSystem, Value: e.Caller.System}, Display: e.Caller.System},
			},
			AuditEventAgent{
				Type:      &CodeableConcept{Coding: []Coding{{System: sysSecurityRole, Code: "humanuser", Display: "human user"}}},
				Who:       &Reference{Type: who, Identifier: &Identifier{System: SystemIdentityCode, Value: e.Caller.Person}, Display: e.Caller.PersonName},
				Requestor: true,
			})
		s.auditEntities(ev, e, patientID)
		return ev
	}
	if e.Caller.Purpose != "" {
		ev.PurposeOfEvent = []CodeableConcept{{Coding: []Coding{{System: oidURN(codes.OIDUsageSituation), Code: e.Caller.Purpose, Display: codes.UsageSituation.Display(e.Caller.Purpose, "en")}}}}
	}
	// DICOM and BALP name the client the Source Role ID and the server the
	// Destination Role ID, except in a read (BALP Read), where the data
	// flows to the client.
	client, server := Coding{System: sysDICOM, Code: "110153", Display: "Source Role ID"}, Coding{System: sysDICOM, Code: "110152", Display: "Destination Role ID"}
	if action == "R" {
		client, server = server, client
	}
	ev.Agent = append(ev.Agent, AuditEventAgent{
		Type:      &CodeableConcept{Coding: []Coding{client, {System: sysDICOM, Code: "110150", Display: "Application"}}},
		Who:       &Reference{Identifier: &Identifier{System: SystemClientSystem, Value: e.Caller.System}, Display: e.Caller.System},
		Requestor: e.Caller.Person == "",
		Network:   network(req.ClientAddress),
	}, AuditEventAgent{
		Type:    &CodeableConcept{Coding: []Coding{server}},
		Who:     &Reference{Reference: "#" + observerID, Display: "arkisto client data archive"},
		Network: network(req.ServerAddress),
	}, AuditEventAgent{
		Type: &CodeableConcept{Coding: []Coding{{System: sysRoleClass, Code: "PROV", Display: "healthcare provider"}}},
		Who:  &Reference{Type: "Organization", Identifier: &Identifier{System: SystemURI, Value: oidURN(e.Caller.Organisation)}},
	})
	if e.Caller.Person != "" {
		// BALP's user: the information recipient of a read or a search, the
		// author of a change.
		role := Coding{System: sysParticipation, Code: "IRCP", Display: "information recipient"}
		if action == "C" || action == "U" {
			role = Coding{System: sysParticipation, Code: "AUT", Display: "author (originator)"}
		}
		person := AuditEventAgent{
			Type:      &CodeableConcept{Coding: []Coding{role, {System: sysSecurityRole, Code: "humanuser", Display: "human user"}}},
			Who:       &Reference{Type: "Practitioner", Identifier: &Identifier{System: SystemProfessional, Value: e.Caller.Person}, Display: e.Caller.PersonName},
			Name:      e.Caller.PersonName,
			Requestor: true,
		}
		if e.Caller.Unit != "" {
			person.Location = &Reference{Identifier: &Identifier{System: SystemURI, Value: oidURN(e.Caller.Unit)}, Display: "service unit"}
		}
		ev.Agent = append(ev.Agent, person)
	}
	s.auditEntities(ev, e, patientID)
	return ev
}

// network is an agent's network access point: the host of a host:port
// address, typed as an IP address (2) or a machine name (1); nil for none.
func network(addr string) *AuditEventNetwork {
	if addr == "" {
		return nil
	}
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return &AuditEventNetwork{Address: host, Type: "2"}
	}
	return &AuditEventNetwork{Address: host, Type: "1"}
}

// auditEntities adds the client, the documents and the details of an
// access-log entry to its AuditEvent. The client is a reference to its
// Patient (when patientID is given) carrying its identifier too. In a
// search the single System Object entity is the query (BALP Query: the raw
// request, base64, and the archive's reading of it as the description);
// the documents the search found, which the law requires the log to name,
// are entities with a reference and a role but no type.
func (s *Server) auditEntities(ev *AuditEvent, e *archive.AccessEntry, patientID string) {
	if root, ext, ok := strings.Cut(e.ClientKey, "|"); ok {
		what := &Reference{Identifier: &Identifier{System: oidURN(root), Value: ext}}
		if patientID != "" {
			what.Reference = "Patient/" + patientID
		}
		ev.Entity = append(ev.Entity, AuditEventEntity{
			What: what,
			Type: &Coding{System: sysEntityType, Code: "1", Display: "Person"},
			Role: &Coding{System: sysObjectRole, Code: "1", Display: "Patient"},
		})
	}
	search := e.Action == archive.ActionSearch || e.Action == archive.ActionLogRead
	for _, d := range e.Documents {
		ent := AuditEventEntity{
			What: &Reference{Reference: "DocumentReference/" + d},
			Role: &Coding{System: sysObjectRole, Code: "3", Display: "Report"},
		}
		if !search {
			ent.Type = &Coding{System: sysEntityType, Code: "2", Display: "System Object"}
		}
		ev.Entity = append(ev.Entity, ent)
	}
	raw := e.Details
	if e.Request != nil && e.Request.Query != "" {
		raw = e.Request.Query
	}
	switch {
	case search && raw != "":
		ev.Entity = append(ev.Entity, AuditEventEntity{
			Type:        &Coding{System: sysEntityType, Code: "2", Display: "System Object"},
			Role:        &Coding{System: sysObjectRole, Code: "24", Display: "Query"},
			Query:       base64.StdEncoding.EncodeToString([]byte(raw)),
			Description: e.Details,
		})
	case e.Details != "":
		ev.Entity = append(ev.Entity, AuditEventEntity{
			Type:   &Coding{System: sysEntityType, Code: "4", Display: "Other"},
			Detail: []AuditEventEntityDetail{{Type: "details", ValueString: e.Details}},
		})
	}
}

// balpProfile is the IHE BALP profile an AuditEvent conforms to, or "":
// a successful create, read or search by a system whose request the log
// holds (both network addresses), with the one System Object entity the
// profile admits: Create/PatientCreate, Read/PatientRead and
// Update/PatientUpdate (a nullification) the document, Query/PatientQuery
// the query. The Patient variants have the client as a
// reference to its Patient. .ci/balp-check.mjs checks each claim against
// the profile's constraints.
func balpProfile(e *archive.AccessEntry, ev *AuditEvent) string {
	if ev.Outcome != "0" || e.Caller.InCitizenView() || e.Request == nil ||
		e.Request.ClientAddress == "" || e.Request.ServerAddress == "" {
		return ""
	}
	objects, patient := 0, ""
	for _, en := range ev.Entity {
		switch {
		case en.Type == nil:
		case en.Type.Code == "2":
			objects++
		case en.Type.Code == "1" && en.What != nil && strings.HasPrefix(en.What.Reference, "Patient/"):
			patient = "Patient"
		}
	}
	if objects != 1 {
		return ""
	}
	switch ev.Subtype[0].Code {
	case "create":
		return patient + "Create"
	case "read":
		return patient + "Read"
	case "update":
		return patient + "Update"
	case "search-type":
		if patient == "" {
			return "Query"
		}
		return "PatientQuery"
	}
	return ""
}

// auditParams are the AuditEvent search parameters, with what each takes.
var auditParams = map[string]string{
	"patient":            "the client as Patient/<id>",
	"patient.identifier": "the client as " + SystemIdentityCode + "|<identity code>",
	"date":               "when logged: ge, gt, le, lt or eq and a day or a time",
	"type":               sysAuditEventType + "|rest (the access log) or " + SystemAuditType + "|" + auditDisclosure + " (the disclosure log)",
	"subtype":            sysIHEEventType + "|ITI-65, ITI-66, ITI-67, ITI-68, or " + sysRestful + "|create, read, search-type, history-instance, update",
	"agent":              "the professional (" + SystemProfessional + "|<registration number>) or the system (" + SystemClientSystem + "|<name>)",
	"agent:identifier":   "as agent",
	"entity":             "a document: DocumentReference/<id>",
	"outcome":            "0 (success) or 4 (refused)",
	"_id":                "an AuditEvent id",
	"_count":             "page size",
	"_cursor":            "the next page",
	"_format":            "json",
}

// auditEvents is GET /fhir/AuditEvent: the access-log entries that the
// caller's organisation may see (its register's, and its own systems'), of
// one client (patient, patient.identifier) or of a period (date, both
// ends), narrowed by type, subtype, agent, entity, outcome and _id.
func (s *Server) auditEvents(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	q := r.URL.Query()
	for p := range q {
		switch {
		case p == "":
			s.badRequest(w, paramErr(RuleQueryParam, "query", "a parameter without a name (a stray = or &)"))
			return
		case auditParams[p] == "":
			s.badRequest(w, paramErr(RuleQueryParam, p, "unknown search parameter; supported: %s", strings.Join(slices.Sorted(maps.Keys(auditParams)), ", ")))
			return
		}
	}
	disclosure, err := auditTypeOf(q)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	if disclosure {
		for _, p := range []string{"patient", "subtype", "agent", "agent:identifier", "entity", "outcome", "_id"} {
			if q.Has(p) {
				s.badRequest(w, paramErr(RuleQueryParam, p, "the disclosure log (type=%s) is searched by patient.identifier and date", auditDisclosure))
				return
			}
		}
		s.disclosureEvents(w, r, c, q)
		return
	}
	aq, patientID, err := s.parseAuditQuery(q)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	limit, err := pageSize(q)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	if aq.Before, err = logCursor(q); err != nil {
		s.badRequest(w, err)
		return
	}
	aq.Limit = limit + 1
	var entries []*archive.AccessEntry
	if aq.ID > 0 {
		// _id: the one entry, if the caller may see it and it matches.
		var e *archive.AccessEntry
		if e, err = s.svc.AccessEntry(r.Context(), c, aq.ID); err == nil {
			var pid string
			if patientID != "" && e.ClientKey != "" {
				pid, err = s.svc.PatientID(r.Context(), e.ClientKey)
			}
			if err == nil && matches(e, aq, pid == patientID) {
				entries = []*archive.AccessEntry{e}
			}
		} else if errors.Is(err, archive.ErrNotFound) {
			err = nil
		}
	} else {
		entries, err = s.svc.SearchAccessLog(r.Context(), c, aq, patientID)
	}
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	evs := make([]*AuditEvent, len(entries))
	for i, e := range entries {
		if evs[i], err = s.auditEvent(r.Context(), e); err != nil {
			s.archiveError(w, r, err, "")
			return
		}
	}
	b, err := s.logBundle(q, len(entries), limit, func(i int) (int64, string, any) {
		return entries[i].ID, evs[i].ID, evs[i]
	})
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// parseAuditQuery reads the access-log search parameters: the client (by
// identity code, or by Patient id, returned apart for the service to
// resolve), the period and the filters. Without a client both ends of the
// period are required.
func (s *Server) parseAuditQuery(q url.Values) (archive.AccessLogQuery, string, error) {
	var aq archive.AccessLogQuery
	var patientID string
	var err error
	switch {
	case q.Has("patient") && q.Has("patient.identifier"):
		return aq, "", paramErr(RuleQueryClient, "patient", "give the client once: patient or patient.identifier")
	case q.Has("patient"):
		if patientID, err = s.patientParam(q); err != nil {
			return aq, "", err
		}
	case q.Has("patient.identifier") || !q.Has("date") && !q.Has("_id"):
		if aq.ClientKey, err = clientKey(q, "patient.identifier"); err != nil {
			return aq, "", err
		}
	}
	if aq.From, aq.To, err = dateRange(q, "date"); err != nil {
		return aq, "", err
	}
	if aq.ClientKey == "" && patientID == "" && !q.Has("_id") && (aq.From.IsZero() || aq.To.IsZero()) {
		return aq, "", paramErr(RuleQueryDate, "date", "without patient or patient.identifier, the controller's own log is read for a period: date=ge<first day>&date=le<last day>")
	}
	if v := q["_id"]; len(v) > 0 {
		id, err := strconv.ParseInt(v[0], 10, 64)
		if len(v) != 1 || err != nil || id < 1 {
			return aq, "", paramErr(RuleQueryParam, "_id", "one AuditEvent id of the access log (a number)")
		}
		aq.ID = id
	}
	for _, t := range tokens(q["subtype"]) {
		switch t[0] {
		case sysIHEEventType, "":
			if iheTransactions[t[1]] != "" {
				aq.Transactions = append(aq.Transactions, t[1])
				continue
			}
		}
		if t[0] == sysRestful || t[0] == "" {
			if as := restfulActions[t[1]]; as != nil {
				aq.Actions = append(aq.Actions, as...)
				continue
			}
		}
		return aq, "", paramErr(RuleQueryCode, "subtype", "%s|ITI-65, ITI-66, ITI-67 or ITI-68, or %s|create, read, search-type, history-instance or update", sysIHEEventType, sysRestful)
	}
	if len(aq.Transactions) > 0 && len(aq.Actions) > 0 {
		// Each selects on its own column; both would have to hold.
		return aq, "", paramErr(RuleQueryCode, "subtype", "an IHE transaction or a RESTful interaction, not both")
	}
	for _, p := range []string{"agent", "agent:identifier"} {
		for _, t := range tokens(q[p]) {
			switch t[0] {
			case SystemProfessional:
				if aq.Person != "" {
					return aq, "", paramErr(RuleQueryParam, p, "one professional")
				}
				aq.Person = t[1]
			case SystemClientSystem:
				if aq.System != "" {
					return aq, "", paramErr(RuleQueryParam, p, "one system")
				}
				aq.System = t[1]
			default:
				return aq, "", paramErr(RuleQueryParam, p, "the professional as %s|<registration number> or the system as %s|<name>", SystemProfessional, SystemClientSystem)
			}
		}
	}
	if v := q["entity"]; len(v) > 0 {
		ref := strings.TrimPrefix(v[0], s.cfg.BaseURL+"/")
		id, _ := strings.CutPrefix(ref, "DocumentReference/")
		if len(v) != 1 || strings.Contains(id, ",") || strings.Contains(id, "/") || id == "" {
			return aq, "", paramErr(RuleQueryParam, "entity", "one document, as DocumentReference/<id>")
		}
		aq.Document = id
	}
	if v := q["outcome"]; len(v) > 0 {
		switch {
		case len(v) == 1 && v[0] == "0":
			aq.Outcome = archive.OutcomeAllowed
		case len(v) == 1 && v[0] == "4":
			aq.Outcome = archive.OutcomeRefused
		default:
			return aq, "", paramErr(RuleQueryCode, "outcome", "one of 0 (success) and 4 (refused): the access log records no other")
		}
	}
	return aq, patientID, nil
}

// restfulActions are the logged actions of each RESTful interaction
// (interaction's inverse).
var restfulActions = map[string][]archive.Action{
	"create":           {archive.ActionArchive},
	"read":             {archive.ActionRead},
	"search-type":      {archive.ActionSearch, archive.ActionLogRead},
	"history-instance": {archive.ActionHistory},
	"update":           {archive.ActionNullify},
}

// matches reports whether an entry read by id meets the search's other
// conditions; patient is whether it is of the Patient the search names, if
// it names one.
func matches(e *archive.AccessEntry, q archive.AccessLogQuery, patient bool) bool {
	req := e.Request
	if req == nil {
		req = &archive.Request{}
	}
	return (q.ClientKey == "" || e.ClientKey == q.ClientKey) && patient &&
		(q.From.IsZero() || !e.At.Before(q.From)) && (q.To.IsZero() || e.At.Before(q.To)) &&
		(len(q.Actions) == 0 || slices.Contains(q.Actions, e.Action)) &&
		(len(q.Transactions) == 0 || slices.Contains(q.Transactions, req.Transaction)) &&
		(q.Outcome == "" || e.Outcome == q.Outcome) && (q.Person == "" || e.Caller.Person == q.Person) &&
		(q.System == "" || e.Caller.System == q.System) && (q.Document == "" || slices.Contains(e.Documents, q.Document))
}

// readAuditEvent is GET /fhir/AuditEvent/{id}: one access-log entry, if
// the caller's organisation may see it; any other id is 404.
func (s *Server) readAuditEvent(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		s.fail(w, http.StatusNotFound, issue("not-found", "id", "", "no such AuditEvent: the access log's ids are numbers (the disclosure log's are found by search, type="+auditDisclosure+")"))
		return
	}
	e, err := s.svc.AccessEntry(r.Context(), c, id)
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	ev, err := s.auditEvent(r.Context(), e)
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	s.writeRead(w, r, ev, e.At)
}

// logBundle is a searchset page of n log entries, newest first, of which
// one more than limit means a next page; entry(i) gives the i-th entry's
// id (the cursor), its resource id and its resource.
func (s *Server) logBundle(q url.Values, n, limit int, entry func(i int) (int64, string, any)) (*Bundle, error) {
	b := &Bundle{ResourceType: "Bundle", Type: "searchset", Timestamp: instant(nowUTC())}
	b.Link = []BundleLink{{Relation: "self", URL: s.cfg.BaseURL + "/AuditEvent?" + q.Encode()}}
	if n > limit {
		n = limit
		last, _, _ := entry(n - 1)
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("_cursor", strconv.FormatInt(last, 10))
		b.Link = append(b.Link, BundleLink{Relation: "next", URL: s.cfg.BaseURL + "/AuditEvent?" + nq.Encode()})
	}
	for i := range n {
		_, id, res := entry(i)
		raw, err := jsonMarshal(res)
		if err != nil {
			return nil, err
		}
		b.Entry = append(b.Entry, BundleEntry{FullURL: s.cfg.BaseURL + "/AuditEvent/" + id, Resource: raw, Search: &BundleSearch{Mode: "match"}})
	}
	return b, nil
}

// logCursor reads a log page's _cursor: the id entries are older than.
func logCursor(q url.Values) (int64, error) {
	v := q.Get("_cursor")
	if v == "" {
		return 0, nil
	}
	before, err := strconv.ParseInt(v, 10, 64)
	if err != nil || before < 1 {
		return 0, paramErr(RuleQueryCursor, "_cursor", "not a cursor this archive issued")
	}
	return before, nil
}
