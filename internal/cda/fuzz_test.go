package cda

import (
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/xmlsafe"
)

// FuzzRead reads arbitrary input. Read must not panic, every problem must
// name a rule, a path and a message, and a document read without problems
// must be usable: an id, a set id, a version and a display form.
//
// Run: go test -run='^$' -fuzz=FuzzRead -fuzztime=30s ./internal/cda
func FuzzRead(f *testing.F) {
	for _, name := range samples {
		data := sampleXML(f, name)
		f.Add(data)
	}
	// Some of the rule cases, as seeds nearer the edges.
	for _, tc := range ruleCases() {
		switch tc.name {
		case "version 3 replaces version 1", "document replaces itself", "display form not well-formed",
			"structured form not UTF-8", "PDF display form that is XHTML", "DOCTYPE", "body ID of another document",
			"group 5 with nullFlavor general type", "identity code check character", "structuredBody instead of nonXMLBody":
			if tc.mut != nil {
				f.Add([]byte(tc.mut(f, string(sampleXML(f, tc.sample)))))
			}
		}
	}
	f.Add([]byte(replacement("2", rplc(planID, planID, "1"))(f, string(sampleXML(f, samplePlan)))))
	f.Add([]byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"/>`))
	f.Add([]byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"><versionNumber value="1"/><component><nonXMLBody ID="OID1.2"><text mediaType="application/pdf" representation="B64">JVBERi0=</text></nonXMLBody></component></ClinicalDocument>`))

	f.Fuzz(func(t *testing.T, data []byte) {
		d, p := Read(data, Options{MaxBytes: 1 << 20})
		for _, q := range p {
			if q.Code == "" || q.Path == "" || q.Message == "" {
				t.Fatalf("incomplete problem %#v", q)
			}
		}
		if d == nil {
			if len(p) == 0 {
				t.Fatal("neither a document nor a problem")
			}
			for _, q := range p {
				if !strings.HasPrefix(q.Code, "XML_") {
					t.Fatalf("no document, but problem %s is not an XML rule", q)
				}
			}
			if len(p) != 1 || p[0].Code == xmlsafe.RuleMalformed && p[0].Path != "/" {
				t.Fatalf("XML failure should be one problem at /: %v", p)
			}
			return
		}
		if len(p) > 0 {
			return
		}
		h := d.Header
		if h.ID == "" || h.SetID == "" || h.Version < 1 {
			t.Fatalf("accepted without id, set id or version: %q %q %d", h.ID, h.SetID, h.Version)
		}
		if h.Version == 1 && h.SetID != h.ID || h.Version > 1 && (h.SetID == h.ID || h.Replaces == nil) {
			t.Fatalf("accepted with inconsistent versioning: id %q set %q version %d replaces %v", h.ID, h.SetID, h.Version, h.Replaces)
		}
		if len(d.Body.Display) == 0 || d.Body.DisplayMediaType == "" || d.BodyElement() == nil {
			t.Fatal("accepted without a display form")
		}
		if d.BodyElement().SelectAttrValue("ID", "") != "OID"+h.ID {
			t.Fatal("accepted with a body ID that is not OID + id")
		}
		if h.DocumentGroup.Code == "" || h.Custodian.OID == "" || h.Client.ID.Root == "" || h.Client.ID.Extension == "" {
			t.Fatalf("accepted without group, custodian or client: %+v", h)
		}
	})
}
