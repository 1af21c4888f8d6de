package fhirapi

import (
	"encoding/json"
	"net/url"
	"testing"
)

// FuzzListMeta: any SubmissionSet List gives the set's metadata, which the
// domain's own check accepts, or a 422 naming the element, never a panic.
func FuzzListMeta(f *testing.F) {
	f.Add([]byte(`{"resourceType":"List","status":"current","mode":"working","identifier":[{"use":"usual","value":"urn:oid:1.2.3"},{"use":"official","value":"urn:uuid:1"}],"extension":[{"url":"` + ExtensionSourceID + `","valueIdentifier":{"value":"urn:oid:1.2"}},{"url":"` + ExtensionDesignationType + `","valueCodeableConcept":{"coding":[{"system":"s","code":"c"}]}}],"code":{"coding":[{"system":"` + SystemListTypes + `","code":"submissionset"}]},"date":"2026-03-01T10:00:00+02:00","title":"t"}`))
	f.Add([]byte(`{"resourceType":"List","identifier":[{"use":"official","value":"a b"}],"date":"2026"}`))
	f.Add([]byte(`{"resourceType":"List","code":{"coding":[{"system":"` + SystemListTypes + `","code":"folder"}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var l List
		if json.Unmarshal(body, &l) != nil {
			return
		}
		m, err := listMeta(&l, "Bundle.entry[0].resource")
		if err != nil {
			if b, ok := err.(*badRequest); !ok || b.expr == "" || b.msg == "" || b.status != 422 {
				t.Fatalf("error without an element or not 422: %v", err)
			}
			return
		}
		if probs := m.Check(); len(probs) > 0 {
			t.Fatalf("accepted metadata the domain refuses: %v", probs)
		}
	})
}

// FuzzParseFindLists: any query string gives an ITI-66 query or a 400
// naming the parameter.
func FuzzParseFindLists(f *testing.F) {
	f.Add("patient.identifier=urn:oid:1.2.246.21%7C200111A904P&code=submissionset&status=current&date=ge2026-01-01")
	f.Add("patient=Patient/0123456789abcdef0123456789abcdef&code=folder,submissionset&identifier=urn:ietf:rfc:3986%7Curn:oid:1.2&_count=0")
	f.Add("patient.identifier=200111A904P&designationType=s%7Cc&source.family=M%C3%A4ki&sourceId=x&_cursor=1.abc&foo=1")
	s := &Server{cfg: Config{BaseURL: "https://archive.example/fhir"}}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if _, err := unsupported(q, listParams, true); err != nil {
			if b, ok := err.(*badRequest); !ok || b.expr == "" {
				t.Fatalf("error without a parameter: %v", err)
			}
			return
		}
		lq, err := s.parseFindLists(q)
		if err != nil {
			if b, ok := err.(*badRequest); !ok || b.expr == "" {
				t.Fatalf("error without a parameter: %v", err)
			}
			return
		}
		if (lq.ClientKey == "") == (lq.PatientID == "") || lq.Limit < 0 || lq.Limit > 500 {
			t.Fatalf("accepted a query without one client or with a bad page size: %+v", lq)
		}
	})
}
