package fhirapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/archive/archivetest"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
)

// fhirDriver drives the access decision table through the FHIR door.
type fhirDriver struct{ e *env }

// outcomeOf maps an HTTP answer to the table's outcome.
func outcomeOf(t *testing.T, r *resp, ok int) archivetest.Outcome {
	t.Helper()
	if r.Status == ok {
		return archivetest.Outcome{}
	}
	o := archivetest.Outcome{Answer: fmt.Sprintf("%d %s", r.Status, r.Body)}
	switch r.Status {
	case http.StatusForbidden:
		o.Kind = archive.ErrForbidden
	case http.StatusUnprocessableEntity:
		o.Kind = archive.ErrInvalid
	case http.StatusConflict:
		o.Kind = archive.ErrConflict
	case http.StatusNotFound:
		o.Kind = archive.ErrNotFound
	default:
		t.Fatalf("unexpected %s", r)
	}
	var oo fhirapi.OperationOutcome
	if json.Unmarshal(r.Body, &oo) == nil && len(oo.Issue) > 0 && oo.Issue[0].Details != nil {
		for _, c := range oo.Issue[0].Details.Coding {
			if c.System == fhirapi.RuleSystem {
				o.Code = c.Code
			}
		}
	}
	return o
}

func (d fhirDriver) Archive(t *testing.T, org *gen.Organisation, raw []byte) archivetest.Outcome {
	b, err := fhirapi.SubmissionBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	dump(t, "provide-bundle.json", &resp{Body: b}) // what `arkisto bundle` writes, for .ci/mhd-profiles.mjs
	return outcomeOf(t, d.e.as(org).post("/fhir", b), http.StatusOK)
}

func (d fhirDriver) Read(t *testing.T, org *gen.Organisation, id string) archivetest.Outcome {
	return outcomeOf(t, d.e.as(org).get("/fhir/Binary/"+id), http.StatusOK)
}

func (d fhirDriver) Search(t *testing.T, org *gen.Organisation, clientKey string) archivetest.Outcome {
	root, ext, _ := strings.Cut(clientKey, "|")
	path := "/fhir/DocumentReference?_count=500&patient.identifier=" + url.QueryEscape("urn:oid:"+root+"|"+ext)
	var o archivetest.Outcome
	for path != "" {
		r := d.e.as(org).get(path)
		if r.Status != http.StatusOK {
			return outcomeOf(t, r, http.StatusOK)
		}
		var b fhirapi.Bundle
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatal(err)
		}
		o.Docs = append(o.Docs, ids(docRefs(t, b))...)
		path = link(b, "next")
	}
	return o
}

func (d fhirDriver) Nullify(t *testing.T, org *gen.Organisation, id string) archivetest.Outcome {
	body := `{"resourceType":"Parameters","parameter":[{"name":"reason","valueCodeableConcept":{"coding":[{"code":"test"}],"text":"nullified by the access table"}}]}`
	return outcomeOf(t, d.e.as(org).post("/fhir/DocumentReference/"+id+"/$nullify", []byte(body)), http.StatusOK)
}

func (d fhirDriver) Log(t *testing.T, org *gen.Organisation, clientKey string) archivetest.Outcome {
	root, ext, _ := strings.Cut(clientKey, "|")
	r := d.e.as(org).get("/fhir/AuditEvent?_count=500&patient.identifier=" + url.QueryEscape("urn:oid:"+root+"|"+ext))
	if r.Status != http.StatusOK {
		return outcomeOf(t, r, http.StatusOK)
	}
	var b fhirapi.Bundle
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatal(err)
	}
	var o archivetest.Outcome
	for _, en := range b.Entry {
		var ev fhirapi.AuditEvent
		if err := json.Unmarshal(en.Resource, &ev); err != nil {
			t.Fatal(err)
		}
		for _, x := range ev.Entity {
			if x.What == nil || !strings.HasPrefix(x.What.Reference, "DocumentReference/") {
				continue
			}
			doc := strings.TrimPrefix(x.What.Reference, "DocumentReference/")
			if ev.Outcome != "0" {
				doc = archivetest.Refused + doc
			}
			o.Docs = append(o.Docs, doc)
		}
	}
	return o
}

// testAccessRules runs the access decision table through the FHIR door,
// the same table the domain behaviour suite runs through the service.
func testAccessRules(t *testing.T) {
	w := archivetest.AccessWorld(t)
	e := newEnvWith(t, envOptions{world: w})
	archivetest.RunAccessTable(t, fhirDriver{e}, e.svc, e.store, w)
}

func TestAccessRules(t *testing.T) { forEachBackend(t, testAccessRules) }
