package cda

import (
	"os"
	"testing"
)

func TestDocumentID(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/kanta/asia_ja_rajoitukset_S.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, doc, want string
		ok              bool
	}{
		{"sample", string(raw), "1.2.246.10.2012566.95.2026.688883.2655274", true},
		{"prefixed", `<h:ClinicalDocument xmlns:h="urn:hl7-org:v3"><h:realmCode code="FI"/><h:id root="1.2.3"/></h:ClinicalDocument>`, "1.2.3", true},
		{"nested id first", `<ClinicalDocument xmlns="urn:hl7-org:v3"><typeId><id root="9.9"/></typeId><id root="1.2.3"/></ClinicalDocument>`, "1.2.3", true},
		{"id in another namespace first", `<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:x="urn:x"><x:id root="9.9"/><id root="1.2.3"/></ClinicalDocument>`, "1.2.3", true},
		{"default namespace redeclared", `<ClinicalDocument xmlns="urn:hl7-org:v3"><id xmlns="urn:x" root="9.9"/><id root="1.2.3"/></ClinicalDocument>`, "1.2.3", true},
		{"commented out", `<ClinicalDocument xmlns="urn:hl7-org:v3"><!-- <id root="9.9"/> --><id root="1.2.3"/></ClinicalDocument>`, "1.2.3", true},
		{"other namespace", `<ClinicalDocument xmlns="urn:x"><id root="1.2.3"/></ClinicalDocument>`, "", false},
		{"no id", `<ClinicalDocument xmlns="urn:hl7-org:v3"><code/></ClinicalDocument>`, "", false},
		{"not XML", `%PDF-1.7`, "", false},
	} {
		got, err := DocumentID([]byte(tt.doc))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func BenchmarkDocumentID(b *testing.B) {
	raw, err := os.ReadFile("../../testdata/kanta/asia_ja_rajoitukset_S.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DocumentID(raw); err != nil {
			b.Fatal(err)
		}
	}
}
