package fhirapi

import (
	"testing"

	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
)

func TestSubmissionBundleIsAcceptedByTheParser(t *testing.T) {
	world, err := gen.NewPKI(gen.PKIOptions{KeyType: pki.P256, Organisations: 1, ProfessionalsPerOrg: 1})
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(world, gen.Options{Clients: 1, ReplaceEvery: 2})
	var docs [][]byte
	var ids []string
	for i := 0; i < 3; i++ {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d.XML)
		ids = append(ids, d.Header.ID)
	}
	raw, err := SubmissionBundle(docs...)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := parseSubmission(raw)
	if err != nil {
		t.Fatalf("the bundle arkisto bundle makes is refused: %v", err)
	}
	if len(sub.docs) != 3 {
		t.Fatalf("%d documents in the submission", len(sub.docs))
	}
	for i, d := range sub.docs {
		if string(d.data) != string(docs[i]) {
			t.Errorf("document %d changed in the bundle", i)
		}
		if d.ref.MasterIdentifier.Value != "urn:oid:"+ids[i] {
			t.Errorf("document %d masterIdentifier %s", i, d.ref.MasterIdentifier.Value)
		}
	}
	if r := sub.docs[2].ref.RelatesTo; len(r) != 1 || r[0].Target.Reference != "DocumentReference/"+ids[1] {
		t.Errorf("the correction's relatesTo: %+v", r)
	}
	if _, err := SubmissionBundle([]byte("<not-cda/>")); err == nil {
		t.Error("a non-CDA document was bundled")
	}
}
