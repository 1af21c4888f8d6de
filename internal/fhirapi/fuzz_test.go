package fhirapi

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
)

// FuzzParseSubmission: any body gives a submission or an error naming the
// field, never a panic.
func FuzzParseSubmission(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[]}`))
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"List","status":"current","mode":"working","entry":[{"item":{"reference":"urn:uuid:2"}}]},"request":{"method":"POST","url":"List"}},{"fullUrl":"urn:uuid:2","resource":{"resourceType":"DocumentReference","content":[{"attachment":{"url":"urn:uuid:3"}}]},"request":{"method":"POST","url":"DocumentReference"}},{"fullUrl":"urn:uuid:3","resource":{"resourceType":"Binary","contentType":"application/hl7-v3+xml","data":"PGEvPg=="},"request":{"method":"POST","url":"Binary"}}]}`))
	// A correction with the UpdateDocumentRefs PATCH of the version it replaces.
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"List","status":"current","mode":"working","entry":[{"item":{"reference":"urn:uuid:2"}}]},"request":{"method":"POST","url":"List"}},{"fullUrl":"urn:uuid:2","resource":{"resourceType":"DocumentReference","relatesTo":[{"code":"replaces","target":{"reference":"DocumentReference/1.2.3"}}],"content":[{"attachment":{"data":"PGEvPg=="}}]},"request":{"method":"POST","url":"DocumentReference"}},{"fullUrl":"urn:uuid:4","resource":` + goodPatch + `,"request":{"method":"PATCH","url":"DocumentReference/1.2.3"}}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		sub, err := parseSubmission(body, "https://arkisto.test/fhir")
		if err != nil {
			if b, ok := err.(*badRequest); !ok || b.expr == "" || b.msg == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		if sub.list == nil || len(sub.docs) == 0 {
			t.Fatal("accepted a submission without a List or documents")
		}
		// Every accepted resource has the type encoding/json reads in it.
		var b rawBundle
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatalf("accepted a body that does not decode: %v", err)
		}
		types := map[int]string{sub.listIndex: "List"}
		for _, d := range sub.docs {
			types[d.refIndex] = "DocumentReference"
			if d.binIndex >= 0 {
				types[d.binIndex] = "Binary"
			}
		}
		for i, typ := range types {
			var head struct {
				ResourceType string `json:"resourceType"`
			}
			if json.Unmarshal(b.Entry[i].Resource, &head) != nil || head.ResourceType != typ {
				t.Fatalf("entry %d accepted as a %s, is a %q", i, typ, head.ResourceType)
			}
		}
		for _, p := range sub.patches {
			types[p.index] = "Parameters"
			if b.Entry[p.index].Request == nil || b.Entry[p.index].Request.Method != "PATCH" {
				t.Fatalf("entry %d accepted as a PATCH, is not one", p.index)
			}
		}
		for _, d := range sub.docs {
			if len(d.data) == 0 || d.dataExpr == "" {
				t.Fatal("accepted a document without data")
			}
		}
	})
}

// FuzzParseFind: any query string gives a query or a 400 naming the
// parameter.
func FuzzParseFind(f *testing.F) {
	f.Add("patient.identifier=urn:oid:1.2.246.21%7C200111A904P&date=ge2026-01-01&type=15007&_count=10")
	f.Add("patient.identifier=200111A904P&status=entered-in-error&period=lt2026&related=urn:oid:1.2.3")
	f.Add("patient.identifier=x&_cursor=!!")
	f.Add("patient=Patient/0123456789abcdef0123456789abcdef&author.family=M%C3%A4ki&_summary=count&foo=1")
	f.Add("patient.identifier=200111A904P&identifier=urn:oid:1.2.3&_id=1.2.4&_lastUpdated=ge2026&_count=0")
	s := &Server{cfg: Config{BaseURL: "https://archive.example/fhir"}}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		_, err = unsupported(q, searchParams, true)
		if err != nil {
			if b, ok := err.(*badRequest); !ok || b.expr == "" {
				t.Fatalf("error without a parameter: %v", err)
			}
			return
		}
		for p := range q {
			if _, ok := searchParams[p]; !ok && p != "_format" && p != "_summary" {
				t.Fatalf("unsupported left %q in the query", p)
			}
		}
		aq, err := s.parseFind(q)
		if err != nil {
			if b, ok := err.(*badRequest); !ok || b.expr == "" {
				t.Fatalf("error without a parameter: %v", err)
			}
			return
		}
		if (aq.ClientKey == "") == (aq.PatientID == "") || aq.Limit < 0 || aq.Limit > 500 || (aq.Limit == 0) != aq.CountOnly && q.Get("_summary") != "count" {
			t.Fatalf("accepted a query without a client or with a bad page size: %+v", aq)
		}
	})
}

// FuzzParseAuditQuery: any AuditEvent query string gives an access-log
// query that names a client, a period or an entry, or a 400 naming the
// parameter; never a panic.
func FuzzParseAuditQuery(f *testing.F) {
	f.Add("patient.identifier=urn:oid:1.2.246.21%7C200111A904P&subtype=ITI-67,ITI-68&outcome=0")
	f.Add("patient=Patient/0123456789abcdef0123456789abcdef&agent=urn:oid:1.2.246.537.26%7C123&entity=DocumentReference/1.2.3")
	f.Add("date=ge2026-03-01&date=le2026-03-31&subtype=http://hl7.org/fhir/restful-interaction%7Cread&agent:identifier=urn:arkisto:system%7Cats")
	f.Add("_id=42&outcome=4&entity=https://archive.example/fhir/DocumentReference/1.2")
	f.Add("patient.identifier=x&subtype=ITI-67,read&_id=0")
	s := &Server{cfg: Config{BaseURL: "https://archive.example/fhir"}}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		aq, patientID, err := s.parseAuditQuery(q)
		if err != nil {
			if b, ok := err.(*badRequest); !ok || b.expr == "" || b.msg == "" {
				t.Fatalf("error without a parameter: %v", err)
			}
			return
		}
		if aq.ClientKey == "" && patientID == "" && aq.ID == 0 && (aq.From.IsZero() || aq.To.IsZero()) {
			t.Fatalf("accepted a query of no client, period or entry: %+v", aq)
		}
		if aq.ClientKey != "" && patientID != "" {
			t.Fatalf("accepted two clients: %+v, %q", aq, patientID)
		}
		if len(aq.Actions) > 0 && len(aq.Transactions) > 0 {
			t.Fatalf("accepted both kinds of subtype: %+v", aq)
		}
		for _, tx := range aq.Transactions {
			if iheTransactions[tx] == "" {
				t.Fatalf("accepted transaction %q", tx)
			}
		}
		if aq.Outcome != "" && aq.Outcome != archive.OutcomeAllowed && aq.Outcome != archive.OutcomeRefused || strings.ContainsAny(aq.Document, ",/") {
			t.Fatalf("accepted %+v", aq)
		}
	})
}
