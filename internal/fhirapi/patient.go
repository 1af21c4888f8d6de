package fhirapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

// Patient is the client as the archive shows it: its id and identifier,
// no name or other demographics (they stay in the documents). The id is
// archive.PatientID: derived from the client identifier under the
// archive's secret, so that it tells outsiders nothing and cannot be
// computed from an identity code.
type Patient struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id,omitempty"`
	Meta         *Meta        `json:"meta,omitempty"`
	Identifier   []Identifier `json:"identifier,omitempty"`
}

// patientParams are the Patient search parameters (PDQm ITI-78 style,
// restricted to what the archive knows of a client).
var patientParams = map[string]string{
	"identifier": "the client: " + SystemIdentityCode + "|<identity code>, or <temporary id root as urn:oid>|<id>",
	"_id":        "the Patient id",
}

// patientIDOK reports whether id has the shape of archive.PatientID: 32
// lower-case hex digits.
func patientIDOK(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// patientRef reads a reference to a Patient: Patient/<id>, or the same
// under this archive's base URL. It returns the id, or false.
func (s *Server) patientRef(ref string) (string, bool) {
	ref = strings.TrimPrefix(ref, s.cfg.BaseURL+"/")
	id, ok := strings.CutPrefix(ref, "Patient/")
	if !ok || !patientIDOK(id) {
		return "", false
	}
	return id, true
}

// patientResource is the Patient of a client.
func patientResource(p *archive.Patient) *Patient {
	root, ext, _ := strings.Cut(p.ClientKey, "|")
	return stamp(&Patient{
		ResourceType: "Patient", ID: p.ID,
		Meta:       resourceMeta(p.Updated),
		Identifier: []Identifier{{System: oidURN(root), Value: ext}},
	})
}

// readPatient is GET /fhir/Patient/{id}: the client, if the caller may use
// any of its documents; 404 otherwise, as for an id the archive never gave.
func (s *Server) readPatient(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	id := r.PathValue("id")
	if !patientIDOK(id) {
		// The id is not echoed: a caller may have put an identity code there.
		s.fail(w, http.StatusNotFound, issue("not-found", "id", "", "no such Patient: ids are 32 hex digits, as GET /fhir/Patient?identifier=... gives them"))
		return
	}
	p, err := s.svc.Patient(r.Context(), c, id, "")
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	s.writeRead(w, r, patientResource(p), p.Updated)
}

// searchPatients is GET /fhir/Patient?identifier=...: at most the one
// client the identifier names, if the caller may use any of its documents.
func (s *Server) searchPatients(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	q := r.URL.Query()
	ignored, err := unsupported(q, patientParams, lenient(r))
	if err != nil {
		s.badRequest(w, err)
		return
	}
	var key, id string
	switch {
	case len(q["identifier"]) > 0 && len(q["_id"]) == 0:
		if key, err = clientKey(q, "identifier"); err != nil {
			s.badRequest(w, err)
			return
		}
	case len(q["_id"]) == 1 && len(q["identifier"]) == 0:
		if id = q.Get("_id"); !patientIDOK(id) {
			s.writePatients(w, q, nil, ignored) // no such id
			return
		}
	default:
		s.badRequest(w, paramErr(RuleQueryClient, "identifier", "exactly one of identifier (%s|<identity code>) and _id is required", SystemIdentityCode))
		return
	}
	p, err := s.svc.Patient(r.Context(), c, id, key)
	if err != nil && !isNotFound(err) {
		s.archiveError(w, r, err, "")
		return
	}
	s.writePatients(w, q, p, ignored)
}

func (s *Server) writePatients(w http.ResponseWriter, q url.Values, p *archive.Patient, ignored []string) {
	b := &Bundle{ResourceType: "Bundle", Type: "searchset", Timestamp: instant(time.Now().UTC())}
	total := 0
	if p != nil {
		raw, _ := json.Marshal(patientResource(p))
		b.Entry = append(b.Entry, BundleEntry{FullURL: s.cfg.BaseURL + "/Patient/" + p.ID, Resource: raw, Search: &BundleSearch{Mode: "match"}})
		total = 1
	}
	if len(ignored) > 0 {
		b.Entry = append(b.Entry, ignoredOutcome(ignored))
	}
	b.Total = &total
	b.Link = []BundleLink{{Relation: "self", URL: s.cfg.BaseURL + "/Patient?" + q.Encode()}}
	writeJSON(w, http.StatusOK, b)
}
