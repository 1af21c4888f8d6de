package fhirapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/jsoncodec"
)

// The MHD List types (MHD 4.2 CodeSystem MHDlistTypes) and the
// SubmissionSet's designation type extension.
const (
	SystemListTypes          = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"
	ExtensionDesignationType = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType"
	// extensionContentTypeCode is the same extension as some MHD 4.2
	// builds name it; it is read, and written as ihe-designationType.
	extensionContentTypeCode = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-submissionSet-contentTypeCode"
)

func (l *List) metaOf() *Meta { return l.Meta }

// listMeta reads what a submission's SubmissionSet List says of the set
// (MHD 4.2 2:3.65.4.1.2, IHE.MHD.Minimal.SubmissionSet): its uniqueId
// (identifier, use usual: IHE.MHD.UniqueIdIdentifier), entryUUID (use
// official: IHE.MHD.EntryUUID.Identifier), ihe-sourceId, title,
// designation type and date. Elements it gives must be what a
// SubmissionSet has; a Folder is refused (the archive keeps none).
func listMeta(l *List, path string) (archive.SubmissionSetMeta, error) {
	var m archive.SubmissionSetMeta
	if l.Code != nil {
		for _, cd := range l.Code.Coding {
			if cd.System == SystemListTypes && cd.Code != "submissionset" {
				return m, unprocessable("not-supported", path+".code", "the List of a submission is a SubmissionSet (%s|submissionset); the archive keeps no Folders", SystemListTypes)
			}
		}
	}
	if l.Status != "" && l.Status != "current" {
		return m, unprocessable("value", path+".status", "a SubmissionSet is current, not %q", l.Status)
	}
	if l.Mode != "" && l.Mode != "working" {
		return m, unprocessable("value", path+".mode", "a SubmissionSet's mode is working, not %q", l.Mode)
	}
	for i, id := range l.Identifier {
		var dst *string
		switch id.Use {
		case "usual":
			dst = &m.UniqueID
		case "official":
			dst = &m.EntryUUID
		default:
			continue // not a SubmissionSet identifier; not kept
		}
		if *dst != "" {
			return m, unprocessable("value", fmt.Sprintf("%s.identifier[%d]", path, i), "a SubmissionSet has one identifier of use %s", id.Use)
		}
		if id.Value == "" {
			return m, unprocessable("required", fmt.Sprintf("%s.identifier[%d].value", path, i), "the identifier needs a value")
		}
		*dst = id.Value
	}
	for i, e := range l.Extension {
		epath := fmt.Sprintf("%s.extension[%d]", path, i)
		switch e.URL {
		case ExtensionSourceID:
			if e.ValueIdentifier == nil || e.ValueIdentifier.Value == "" {
				return m, unprocessable("required", epath+".valueIdentifier.value", "ihe-sourceId needs a valueIdentifier with a value")
			}
			m.SourceID = e.ValueIdentifier.Value
		case ExtensionDesignationType, extensionContentTypeCode:
			if e.ValueCodeableConcept == nil || len(e.ValueCodeableConcept.Coding) == 0 {
				return m, unprocessable("required", epath+".valueCodeableConcept", "the designation type needs a valueCodeableConcept with a coding")
			}
			cd := e.ValueCodeableConcept.Coding[0]
			m.DesignationType = &archive.SetCode{System: cd.System, Code: cd.Code, Display: cd.Display}
		}
	}
	m.Title = l.Title
	if l.Date != "" {
		t, err := time.Parse(time.RFC3339Nano, l.Date)
		if err != nil {
			return m, unprocessable("value", path+".date", "date must be an instant with zone, as 2026-03-23T10:54:24+02:00")
		}
		m.Date = t
	}
	// The domain's own limits, named by the FHIR element (the first
	// problem, as for the other elements).
	if probs := m.Check(); len(probs) > 0 {
		p := probs[0]
		expr := map[string]string{
			"uniqueId": path + ".identifier", "entryUUID": path + ".identifier", "sourceId": path + ".extension",
			"title": path + ".title",
		}[p.Path]
		if expr == "" {
			expr = path + ".extension" // the designation type
		}
		b := unprocessable("value", expr, "%s: %s", p.Path, p.Message)
		b.rule = p.Code
		return m, b
	}
	return m, nil
}

// agreeList checks a SubmissionSet List's subject against a document: the
// set and its documents concern one client (MHD 4.2 2:3.65.4.1.2, as XDS
// requires of a SubmissionSet's patientId).
func (s *Server) agreeList(l *List, path string, clientRoot, clientExt, patientID string) *badRequest {
	sub := l.Subject
	if sub == nil {
		return nil
	}
	if id := sub.Identifier; id != nil && (id.System != oidURN(clientRoot) || id.Value != clientExt) {
		return unprocessable("business-rule", path+".subject.identifier", "the SubmissionSet's subject is not the client of its documents")
	}
	if sub.Reference != "" {
		id, ok := s.patientRef(sub.Reference)
		if !ok {
			return unprocessable("not-supported", path+".subject.reference", "give the client as Patient/<id> (GET /fhir/Patient?identifier=%s|<identity code> gives the id) or by identifier", SystemIdentityCode)
		}
		if id != patientID {
			return unprocessable("business-rule", path+".subject.reference", "the SubmissionSet's subject is not the client of its documents")
		}
	}
	return nil
}

// listResource is a kept submission set as MHD's SubmissionSet List. It
// claims IHE.MHD.Minimal.SubmissionSet when the source gave what that
// profile requires (a uniqueId, an entryUUID, a source id and a date).
func (s *Server) listResource(set *archive.SubmissionSet) *List {
	root, ext, _ := strings.Cut(set.ClientKey, "|")
	l := &List{
		ResourceType: "List", ID: set.ID, Meta: resourceMeta(listUpdated(set)),
		Status: "current", Mode: "working", Title: set.Title,
		Code:    &CodeableConcept{Coding: []Coding{{System: SystemListTypes, Code: "submissionset"}}},
		Subject: &Reference{Reference: "Patient/" + set.PatientID, Type: "Patient", Identifier: &Identifier{System: oidURN(root), Value: ext}},
		Date:    instant(setDate(set)),
	}
	if set.SourceID != "" {
		l.Extension = append(l.Extension, Extension{URL: ExtensionSourceID, ValueIdentifier: &Identifier{System: SystemURI, Value: set.SourceID}})
	}
	if d := set.DesignationType; d != nil {
		l.Extension = append(l.Extension, Extension{URL: ExtensionDesignationType, ValueCodeableConcept: &CodeableConcept{Coding: []Coding{{System: d.System, Code: d.Code, Display: d.Display}}}})
	}
	if set.EntryUUID != "" {
		l.Identifier = append(l.Identifier, Identifier{Use: "official", System: SystemURI, Value: set.EntryUUID})
	}
	if set.UniqueID != "" {
		l.Identifier = append(l.Identifier, Identifier{Use: "usual", System: SystemURI, Value: set.UniqueID})
	}
	if c := set.Submitter; c.Person != "" {
		// The author: the professional who submitted it.
		l.Source = &Reference{Type: "Practitioner", Identifier: &Identifier{System: SystemProfessional, Value: c.Person}, Display: c.PersonName}
	}
	for _, id := range set.Documents {
		l.Entry = append(l.Entry, ListEntry{Item: Reference{Reference: "DocumentReference/" + id}})
	}
	// MHD 4.2.3 IHE.MHD.SubmissionSetUniqueIdIdentifier (an OID) and
	// IHE.MHD.EntryUUID.Identifier (a UUID).
	if strings.HasPrefix(set.UniqueID, "urn:oid:") && strings.HasPrefix(set.EntryUUID, "urn:uuid:") && set.SourceID != "" && !set.Date.IsZero() {
		l.Meta.Profile = []string{ProfileMinimalSubmissionSet}
	}
	return stamp(l)
}

// listUpdated is the List's meta.lastUpdated: when anything it shows the
// caller last changed.
func listUpdated(set *archive.SubmissionSet) time.Time {
	if set.Updated.After(set.ReceivedAt) {
		return set.Updated
	}
	return set.ReceivedAt
}

// setDate is List.date: the source's submission time, or when the archive
// received the set if it gave none.
func setDate(set *archive.SubmissionSet) time.Time {
	if set.Date.IsZero() {
		return set.ReceivedAt
	}
	return set.Date
}

// listIDOK reports whether id has the shape of a List id: 32 lower-case
// hex digits.
func listIDOK(id string) bool { return patientIDOK(id) }

// readList is GET /fhir/List/{id}: a SubmissionSet, if the caller may see
// any of its documents, with only those; 404 otherwise, as for an id the
// archive never gave.
func (s *Server) readList(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	id := r.PathValue("id")
	if !listIDOK(id) {
		// The id is not echoed: a caller may have put an identity code there.
		s.fail(w, http.StatusNotFound, issue("not-found", "id", "", "no such List: ids are 32 hex digits, as the transaction response and GET /fhir/List?... give them"))
		return
	}
	set, err := s.svc.SubmissionSetRead(r.Context(), c, id)
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	s.writeRead(w, r, s.listResource(set), listUpdated(set))
}

// listParams are the ITI-66 Find Document Lists parameters (MHD 4.2
// 2:3.66.4.1.2.1) the archive supports.
var listParams = map[string]string{
	"patient.identifier": "the client: " + SystemIdentityCode + "|<identity code>, or <temporary id root as urn:oid>|<id> (this or patient is required)",
	"patient":            "the client as Patient/<id> (this or patient.identifier is required)",
	"code":               "submissionset (" + SystemListTypes + "); folder finds nothing: the archive keeps no Folders",
	"status":             "current (every kept SubmissionSet is); superseded finds nothing",
	"date":               "List.date, the submission time, with prefixes ge, gt, le, lt, eq",
	"identifier":         "the SubmissionSet's uniqueId or entryUUID (" + SystemURI + "|<value>, or the value)",
	"sourceId":           "the SubmissionSet's ihe-sourceId",
	"designationType":    "the SubmissionSet's ihe-designationType: <system>|<code>, or <code>",
	"source.given":       "a word of the submitting professional's name starts with this, case- and accent-insensitive",
	"source.family":      "a word of the submitting professional's name starts with this, case- and accent-insensitive",
	"_summary":           "count: the total alone, no entries",
	"_count":             "page size, 0–500 (default 50); 0: the total alone",
	"_cursor":            "paging cursor from a next link",
}

// parseFindLists reads ITI-66 parameters into a domain query.
func (s *Server) parseFindLists(q url.Values) (archive.SubmissionSetQuery, error) {
	var lq archive.SubmissionSetQuery
	var err error
	switch {
	case len(q["patient"]) > 0 && len(q["patient.identifier"]) > 0:
		return lq, paramErr(RuleQueryClient, "patient", "give the client once: patient or patient.identifier")
	case len(q["patient"]) > 0:
		if lq.PatientID, err = s.patientParam(q); err != nil {
			return lq, err
		}
	default:
		if lq.ClientKey, err = clientKey(q, "patient.identifier"); err != nil {
			return lq, err
		}
	}
	if cs := tokens(q["code"]); len(cs) > 0 {
		// Any of the codes: only submissionset finds anything, as the
		// archive keeps no Folders.
		sets := false
		for _, t := range cs {
			if t[0] != "" && t[0] != SystemListTypes {
				return lq, paramErr(RuleQueryCode, "code", "code system must be %s, is %q", SystemListTypes, t[0])
			}
			switch t[1] {
			case "submissionset":
				sets = true
			case "folder":
			default:
				return lq, paramErr(RuleQueryCode, "code", "must be submissionset or folder, is %q", t[1])
			}
		}
		lq.None = !sets
	}
	if sts := tokens(q["status"]); len(sts) > 0 {
		current := false
		for _, t := range sts {
			switch t[1] {
			case "current":
				current = true
			case "superseded", "retired", "entered-in-error":
			default:
				return lq, paramErr(RuleQueryStatus, "status", "must be current, superseded, retired or entered-in-error, is %q", t[1])
			}
		}
		lq.None = lq.None || !current
	}
	if lq.From, lq.To, err = dateRange(q, "date"); err != nil {
		return lq, err
	}
	for _, t := range tokens(q["identifier"]) {
		if t[0] != "" && t[0] != SystemURI {
			return lq, paramErr(RuleQueryCode, "identifier", "identifier system must be %s, is %q", SystemURI, t[0])
		}
		lq.Identifiers = append(lq.Identifiers, t[1])
	}
	for _, t := range tokens(q["sourceId"]) {
		lq.SourceIDs = append(lq.SourceIDs, t[1])
	}
	for _, t := range tokens(q["designationType"]) {
		if t[0] != "" {
			lq.DesignationTypes = append(lq.DesignationTypes, t[0]+"|"+t[1])
		} else {
			lq.DesignationTypes = append(lq.DesignationTypes, t[1])
		}
	}
	lq.AuthorGiven, lq.AuthorFamily = names(q, "source.given"), names(q, "source.family")
	if lq.Limit, err = pageSize(q); err != nil {
		return lq, err
	}
	lq.CountOnly = lq.Limit == 0 || q.Get("_summary") == "count"
	lq.After = q.Get("_cursor")
	return lq, nil
}

func (s *Server) findLists(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	s.findListsWith(w, r, c, r.URL.Query())
}

// searchListsForm is POST /fhir/List/_search (MHD 4.2 2:3.66.4.1.2: the
// Responder supports GET and POST searches).
func (s *Server) searchListsForm(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	if form, ok := s.readSearchForm(w, r, c); ok {
		s.findListsWith(w, r, c, form)
	}
}

// findListsWith answers ITI-66 for the parameters q.
func (s *Server) findListsWith(w http.ResponseWriter, r *http.Request, c archive.Caller, q url.Values) {
	ignored, err := unsupported(q, listParams, lenient(r))
	if err != nil {
		s.badRequest(w, err)
		return
	}
	lq, err := s.parseFindLists(q)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	page, err := s.svc.FindSubmissionSets(r.Context(), c, lq)
	var ae *archive.Error
	if errors.As(err, &ae) && ae.Problems.Has(RuleQueryCursor) {
		s.badRequest(w, paramErr(RuleQueryCursor, "_cursor", "not a paging cursor of this List search: page with the next link of the same search"))
		return
	}
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	b := &Bundle{ResourceType: "Bundle", Type: "searchset", Timestamp: instant(time.Now().UTC())}
	for _, set := range page.Sets {
		raw, _ := jsoncodec.Marshal(s.listResource(set))
		b.Entry = append(b.Entry, BundleEntry{FullURL: s.cfg.BaseURL + "/List/" + set.ID, Resource: raw, Search: &BundleSearch{Mode: "match"}})
	}
	total := page.Total
	b.Total = &total
	if len(ignored) > 0 {
		b.Entry = append(b.Entry, ignoredOutcome(ignored))
	}
	b.Link = []BundleLink{{Relation: "self", URL: s.cfg.BaseURL + "/List?" + q.Encode()}}
	if page.Next != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("_cursor", page.Next)
		b.Link = append(b.Link, BundleLink{Relation: "next", URL: s.cfg.BaseURL + "/List?" + nq.Encode()})
	}
	writeJSON(w, http.StatusOK, b)
}
