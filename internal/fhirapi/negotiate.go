package fhirapi

import (
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// The door speaks FHIR JSON only (and gives a document as itself). A request that can take only another
// format gets 406 rather than JSON under a 200 (FHIR R4
// http.html#mime-type; ITI TF-2 Appendix Z.6): the OperationOutcome that
// says so is JSON, the one format the door has.

// mediaRange is one range of an Accept header.
type mediaRange struct {
	typ string
	q   float64
}

// acceptRanges parses Accept into ranges, best first; none for an absent
// header. A range that does not parse is skipped.
func acceptRanges(h []string) []mediaRange {
	var out []mediaRange
	for _, v := range h {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if qs, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(qs, 64); err == nil {
					q = f
				}
			}
			out = append(out, mediaRange{mt, q})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].q > out[j].q })
	return out
}

// fhirContentType is the content type to answer a FHIR request with, or
// "" when the request accepts none the door can give. _format overrides
// Accept (FHIR R4 http.html#mime-type).
func fhirContentType(r *http.Request) string {
	if f := r.URL.Query().Get("_format"); f != "" {
		switch f {
		case "json", ContentFHIRJSON:
			return ContentFHIRJSON
		case "application/json":
			return "application/json"
		}
		return ""
	}
	ranges := acceptRanges(r.Header.Values("Accept"))
	if len(ranges) == 0 {
		return ContentFHIRJSON
	}
	for _, m := range ranges {
		if m.q <= 0 {
			continue
		}
		switch m.typ {
		case ContentFHIRJSON, "application/json+fhir", "*/*", "application/*":
			return ContentFHIRJSON
		case "application/json":
			return "application/json"
		}
	}
	return ""
}

// binaryContentType is how to answer a read of a Binary (ITI-68): the
// document itself (ContentCDA), or a FHIR Binary resource carrying it in
// base64 (ContentFHIRJSON or application/json) when the request prefers a
// FHIR type, as FHIR R4 binary.html#rest has it; "" when the request
// accepts neither. _format overrides Accept. An absent Accept, */* and the
// XML types get the document, as ITI-68 clients expect.
func binaryContentType(r *http.Request) string {
	if f := r.URL.Query().Get("_format"); f != "" {
		switch f {
		case "json", ContentFHIRJSON:
			return ContentFHIRJSON
		case "application/json":
			return "application/json"
		}
		return ""
	}
	ranges := acceptRanges(r.Header.Values("Accept"))
	if len(ranges) == 0 {
		return ContentCDA
	}
	for _, m := range ranges {
		if m.q <= 0 {
			continue
		}
		switch m.typ {
		case ContentCDA, "application/xml", "text/xml", "*/*", "application/*":
			return ContentCDA
		case ContentFHIRJSON, "application/json+fhir":
			return ContentFHIRJSON
		case "application/json":
			return "application/json"
		}
	}
	return ""
}

// negotiatedWriter carries the content type writeJSON answers with.
type negotiatedWriter struct {
	http.ResponseWriter
	ctype string
}

// negotiate answers 406 to a request that accepts nothing the route can
// give, before anything else is done with it.
func (s *Server) negotiate(binary bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if binary {
			ct := binaryContentType(r)
			if ct == "" {
				s.fail(w, http.StatusNotAcceptable, issue("not-supported", "Accept", "", "the document is "+ContentCDA+", or a FHIR Binary in "+ContentFHIRJSON+"; the request accepts "+strconv.Quote(strings.Join(append(r.Header.Values("Accept"), r.URL.Query()["_format"]...), ", "))))
				return
			}
			h.ServeHTTP(&negotiatedWriter{ResponseWriter: w, ctype: ct}, r)
			return
		}
		ct := fhirContentType(r)
		if ct == "" {
			s.fail(w, http.StatusNotAcceptable, issue("not-supported", "Accept", "", "the archive answers in "+ContentFHIRJSON+" (or application/json) only; the request accepts "+strconv.Quote(strings.Join(append(r.Header.Values("Accept"), r.URL.Query()["_format"]...), ", "))))
			return
		}
		h.ServeHTTP(&negotiatedWriter{ResponseWriter: w, ctype: ct}, r)
	})
}
