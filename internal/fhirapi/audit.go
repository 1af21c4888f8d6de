package fhirapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/codes"
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

// auditEvent renders an access-log entry in the IHE BALP shape: the system,
// its organisation and the professional as agents, the client and the
// documents as entities.
// auditEvent is an access-log entry as an AuditEvent; entries never
// change, so meta.lastUpdated is when it was logged.
func (s *Server) auditEvent(e *archive.AccessEntry) *AuditEvent {
	ev := s.auditEventOf(e)
	ev.Meta = resourceMeta(e.At)
	return stamp(ev)
}

func (s *Server) auditEventOf(e *archive.AccessEntry) *AuditEvent {
	sub, action := interaction(e.Action)
	outcome := "0"
	if e.Outcome == archive.OutcomeRefused {
		outcome = "4"
	}
	ev := &AuditEvent{
		ResourceType: "AuditEvent",
		ID:           strconv.FormatInt(e.ID, 10),
		Type:         Coding{System: sysAuditEventType, Code: "rest", Display: "RESTful Operation"},
		Subtype:      []Coding{{System: sysRestful, Code: sub}},
		Action:       action,
		Recorded:     instant(e.At),
		Outcome:      outcome,
		OutcomeDesc:  string(e.Outcome) + ": " + e.Reason,
		Source: AuditEventSource{
			Site:     "arkisto",
			Observer: Reference{Display: "arkisto client data archive"},
			Type:     []Coding{{System: sysSourceType, Code: "4", Display: "Application Server"}},
		},
	}
	if e.Caller.Purpose == archive.PurposeCitizen {
		// The client's own use in the citizen view: the client asked, for
		// no organisation.
		ev.PurposeOfEvent = []CodeableConcept{{Coding: []Coding{{System: sysActReason, Code: "PATRQT", Display: "patient requested"}}}}
		ev.Agent = append(ev.Agent,
			AuditEventAgent{
				Type: &CodeableConcept{Coding: []Coding{{System: sysDICOM, Code: "110150", Display: "Application"}}},
				Who:  &Reference{Identifier: &Identifier{System: SystemClientSystem, Value: e.Caller.System}, Display: e.Caller.System},
			},
			AuditEventAgent{
				Type:      &CodeableConcept{Coding: []Coding{{System: sysSecurityRole, Code: "humanuser", Display: "human user"}}},
				Who:       &Reference{Type: "Patient", Identifier: &Identifier{System: SystemIdentityCode, Value: e.Caller.Person}, Display: e.Caller.PersonName},
				Requestor: true,
			})
		s.auditEntities(ev, e)
		return ev
	}
	if e.Caller.Purpose == archive.PurposeGuardian {
		// A guardian's use for a minor in the citizen view: the guardian
		// (a related person of the client) asked, for no organisation.
		ev.PurposeOfEvent = []CodeableConcept{{Coding: []Coding{{System: sysActReason, Code: "FAMRQT", Display: "family requested"}}}}
		ev.Agent = append(ev.Agent,
			AuditEventAgent{
				Type: &CodeableConcept{Coding: []Coding{{System: sysDICOM, Code: "110150", Display: "Application"}}},
				Who:  &Reference{Identifier: &Identifier{System: SystemClientSystem, Value: e.Caller.System}, Display: e.Caller.System},
			},
			AuditEventAgent{
				Type:      &CodeableConcept{Coding: []Coding{{System: sysSecurityRole, Code: "humanuser", Display: "human user"}}},
				Who:       &Reference{Type: "RelatedPerson", Identifier: &Identifier{System: SystemIdentityCode, Value: e.Caller.Person}, Display: e.Caller.PersonName},
				Requestor: true,
			})
		s.auditEntities(ev, e)
		return ev
	}
	if e.Caller.Purpose != "" {
		ev.PurposeOfEvent = []CodeableConcept{{Coding: []Coding{{System: oidURN(codes.OIDUsageSituation), Code: e.Caller.Purpose, Display: codes.UsageSituation.Display(e.Caller.Purpose, "en")}}}}
	}
	ev.Agent = append(ev.Agent, AuditEventAgent{
		Type:      &CodeableConcept{Coding: []Coding{{System: sysDICOM, Code: "110150", Display: "Application"}}},
		Who:       &Reference{Identifier: &Identifier{System: SystemClientSystem, Value: e.Caller.System}, Display: e.Caller.System},
		Requestor: false,
	})
	ev.Agent = append(ev.Agent, AuditEventAgent{
		Type:      &CodeableConcept{Coding: []Coding{{System: sysRoleClass, Code: "PROV", Display: "healthcare provider"}}},
		Who:       &Reference{Type: "Organization", Identifier: &Identifier{System: SystemURI, Value: oidURN(e.Caller.Organisation)}},
		Requestor: false,
	})
	if e.Caller.Person != "" {
		person := AuditEventAgent{
			Type:      &CodeableConcept{Coding: []Coding{{System: sysSecurityRole, Code: "humanuser", Display: "human user"}}},
			Who:       &Reference{Type: "Practitioner", Identifier: &Identifier{System: SystemProfessional, Value: e.Caller.Person}, Display: e.Caller.PersonName},
			Requestor: true,
		}
		if e.Caller.Unit != "" {
			person.Location = &Reference{Identifier: &Identifier{System: SystemURI, Value: oidURN(e.Caller.Unit)}, Display: "service unit"}
		}
		ev.Agent = append(ev.Agent, person)
	} else {
		ev.Agent[0].Requestor = true
	}
	s.auditEntities(ev, e)
	return ev
}

// auditEntities adds the client, the documents and the details of an
// access-log entry to its AuditEvent.
func (s *Server) auditEntities(ev *AuditEvent, e *archive.AccessEntry) {
	if root, ext, ok := strings.Cut(e.ClientKey, "|"); ok {
		ev.Entity = append(ev.Entity, AuditEventEntity{
			What: &Reference{Identifier: &Identifier{System: oidURN(root), Value: ext}},
			Type: &Coding{System: sysEntityType, Code: "1", Display: "Person"},
			Role: &Coding{System: sysObjectRole, Code: "1", Display: "Patient"},
		})
	}
	for _, d := range e.Documents {
		ev.Entity = append(ev.Entity, AuditEventEntity{
			What: &Reference{Reference: "DocumentReference/" + d},
			Type: &Coding{System: sysEntityType, Code: "2", Display: "System Object"},
			Role: &Coding{System: sysObjectRole, Code: "3", Display: "Report"},
		})
	}
	if e.Details != "" {
		ent := AuditEventEntity{
			Type: &Coding{System: sysEntityType, Code: "2", Display: "System Object"},
			Role: &Coding{System: sysObjectRole, Code: "24", Display: "Query"},
		}
		if e.Action == archive.ActionSearch {
			ent.Query = base64.StdEncoding.EncodeToString([]byte(e.Details))
		} else {
			ent.Detail = []AuditEventEntityDetail{{Type: "details", ValueString: e.Details}}
		}
		ev.Entity = append(ev.Entity, ent)
	}
}

// auditEvents is GET /fhir/AuditEvent?patient.identifier=...: the client's
// access-log entries that the caller's organisation may see.
func (s *Server) auditEvents(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	q := r.URL.Query()
	for p := range q {
		switch p {
		case "patient.identifier", "_count", "_cursor", "_format", "type", "date":
		case "":
			s.badRequest(w, paramErr(RuleQueryParam, "query", "a parameter without a name (a stray = or &)"))
			return
		default:
			s.badRequest(w, paramErr(RuleQueryParam, p, "unknown search parameter; supported: patient.identifier, type, date (disclosure log), _count, _cursor"))
			return
		}
	}
	disclosure, err := auditTypeOf(q)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	if disclosure {
		s.disclosureEvents(w, r, c, q)
		return
	}
	var key string
	if q.Has("patient.identifier") || !q.Has("date") {
		if key, err = clientKey(q, "patient.identifier"); err != nil {
			s.badRequest(w, err)
			return
		}
	}
	from, to, err := dateRange(q, "date")
	if err != nil {
		s.badRequest(w, err)
		return
	}
	if key == "" && (from.IsZero() || to.IsZero()) {
		s.badRequest(w, paramErr(RuleQueryDate, "date", "without patient.identifier, the controller's own log is read for a period: date=ge<first day>&date=le<last day>"))
		return
	}
	limit, err := pageSize(q)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	before, err := logCursor(q)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	var entries []*archive.AccessEntry
	if key != "" && from.IsZero() && to.IsZero() {
		entries, err = s.svc.AccessLog(r.Context(), c, key, limit+1, before)
	} else if key != "" {
		entries, err = s.svc.ClientAccessLog(r.Context(), c, key, from, to, limit+1, before)
	} else {
		entries, err = s.svc.OwnAccessLog(r.Context(), c, from, to, limit+1, before)
	}
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	b, err := s.logBundle(q, len(entries), limit, func(i int) (int64, string, any) {
		e := entries[i]
		return e.ID, strconv.FormatInt(e.ID, 10), s.auditEvent(e)
	})
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, b)
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
