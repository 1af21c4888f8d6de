package fhirapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/oid"
)

// docID reads the {id} path value: a document OID.
func (s *Server) docID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if err := oid.Check(id); err != nil {
		s.fail(w, http.StatusNotFound, issue("not-found", "id", "", "no document "+strconv.Quote(id)+": ids are document OIDs"))
		return "", false
	}
	return id, true
}

// read is GET /fhir/DocumentReference/{id}.
func (s *Server) read(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	id, ok := s.docID(w, r)
	if !ok {
		return
	}
	rec, err := s.svc.Metadata(r.Context(), c, id)
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	s.writeDocRef(w, r, rec)
}

// writeDocRef answers a read of a version's DocumentReference.
func (s *Server) writeDocRef(w http.ResponseWriter, r *http.Request, rec *archive.Record) {
	s.writeStamped(w, r, s.docRefOf(rec), rec.LastUpdated())
}

// versions is GET /fhir/DocumentReference/{id}/$versions: every version of
// the document's set, oldest first.
func (s *Server) versions(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	id, ok := s.docID(w, r)
	if !ok {
		return
	}
	recs, err := s.svc.Versions(r.Context(), c, id)
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	b := s.searchBundle(recs)
	total := len(recs)
	b.Total = &total
	b.Link = []BundleLink{{Relation: "self", URL: s.cfg.BaseURL + "/DocumentReference/" + id + "/$versions"}}
	writeJSON(w, http.StatusOK, b)
}

// retrieve is ITI-68: the exact stored bytes.
func (s *Server) retrieve(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	id, ok := s.docID(w, r)
	if !ok {
		return
	}
	rec, content, err := s.svc.Get(r.Context(), c, id)
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	if nw, ok := w.(*negotiatedWriter); ok && nw.ctype != ContentCDA {
		// A FHIR Binary resource: another representation of the same
		// bytes, so a weak ETag of their SHA-256.
		b := &Binary{ResourceType: "Binary", ID: id, Meta: resourceMeta(rec.ReceivedAt), ContentType: ContentCDA, Data: base64.StdEncoding.EncodeToString(content)}
		b.Meta.VersionID = rec.SHA256[:16]
		w.Header().Set("Cache-Control", "no-store")
		s.writeRead(w, r, b, rec.ReceivedAt)
		return
	}
	h := w.Header()
	// The bytes never change: the strong ETag is their SHA-256 and they
	// were last modified when received. A 304 was logged as a read too.
	etag := `"` + rec.SHA256 + `"`
	h.Set("ETag", etag)
	h.Set("Last-Modified", rec.ReceivedAt.UTC().Format(http.TimeFormat))
	h.Set("Cache-Control", "no-store")
	if notModified(r, etag, rec.ReceivedAt) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", ContentCDA)
	h.Set("Content-Length", strconv.Itoa(len(content)))
	w.WriteHeader(http.StatusOK)
	w.Write(content)
}

// nullify is POST /fhir/DocumentReference/{id}/$nullify with Parameters
// reason (valueCodeableConcept: a code and a text).
func (s *Server) nullify(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	id, ok := s.docID(w, r)
	if !ok {
		return
	}
	body, ok := s.readBody(w, r, "Parameters")
	if !ok {
		return
	}
	var p Parameters
	if err := json.Unmarshal(body, &p); err != nil || p.ResourceType != "Parameters" {
		s.fail(w, http.StatusBadRequest, issue("structure", "Parameters", "", "the body must be a Parameters resource with a reason"))
		return
	}
	var code, text string
	found := 0
	for i, prm := range p.Parameter {
		if prm.Name != "reason" {
			s.fail(w, http.StatusBadRequest, issue("not-supported", fmt.Sprintf("Parameters.parameter[%d].name", i), "", "$nullify takes one parameter, reason, not "+strconv.Quote(prm.Name)))
			return
		}
		found++
		switch {
		case prm.ValueCodeableConcept != nil:
			if len(prm.ValueCodeableConcept.Coding) > 0 {
				code = prm.ValueCodeableConcept.Coding[0].Code
			}
			text = prm.ValueCodeableConcept.Text
		case prm.ValueCoding != nil:
			code, text = prm.ValueCoding.Code, prm.ValueCoding.Display
		}
	}
	switch {
	case found != 1:
		s.fail(w, http.StatusBadRequest, issue("required", "Parameters.parameter", "NULLIFY_REASON", "$nullify needs exactly one reason parameter"))
		return
	case strings.TrimSpace(code) == "":
		s.fail(w, http.StatusBadRequest, issue("required", "Parameters.parameter[0].valueCodeableConcept.coding[0].code", "NULLIFY_REASON", "the reason needs a code"))
		return
	case strings.TrimSpace(text) == "":
		s.fail(w, http.StatusBadRequest, issue("required", "Parameters.parameter[0].valueCodeableConcept.text", "NULLIFY_REASON", "the reason needs a text saying why"))
		return
	}
	rec, err := s.svc.Nullify(r.Context(), c, id, code, text)
	if err != nil {
		s.archiveError(w, r, err, "Parameters.parameter[0]")
		return
	}
	writeJSON(w, http.StatusOK, s.docRef(rec))
}
