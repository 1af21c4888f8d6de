package fhirapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/archive/archivetest"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
)

// asPurpose calls as the organisation with a purpose of use.
func (d fhirDriver) asPurpose(org *gen.Organisation, p archivetest.Purpose) *caller {
	c := d.e.as(org)
	c.purpose, c.justification, c.justificationText = p.Code, p.Justification, p.JustificationText
	return c
}

func (d fhirDriver) ArchiveAs(t *testing.T, org *gen.Organisation, p archivetest.Purpose, raw []byte) archivetest.Outcome {
	b, err := fhirapi.SubmissionBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	return outcomeOf(t, d.asPurpose(org, p).post("/fhir", b), http.StatusOK)
}

func (d fhirDriver) ReadAs(t *testing.T, org *gen.Organisation, p archivetest.Purpose, id string) archivetest.Outcome {
	return outcomeOf(t, d.asPurpose(org, p).get("/fhir/Binary/"+id), http.StatusOK)
}

// SearchAs pages through the search; Total is the first page's total,
// which every page must repeat.
func (d fhirDriver) SearchAs(t *testing.T, org *gen.Organisation, p archivetest.Purpose, clientKey string) archivetest.Outcome {
	root, ext, _ := strings.Cut(clientKey, "|")
	path := "/fhir/DocumentReference?_count=3&patient.identifier=" + url.QueryEscape("urn:oid:"+root+"|"+ext)
	o := archivetest.Outcome{Total: -1}
	for path != "" {
		r := d.asPurpose(org, p).get(path)
		if r.Status != http.StatusOK {
			return outcomeOf(t, r, http.StatusOK)
		}
		var b fhirapi.Bundle
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatal(err)
		}
		if b.Total == nil {
			t.Fatalf("a search page without a total: %s", r.Body)
		}
		if o.Total >= 0 && *b.Total != o.Total {
			t.Errorf("the total changed between pages: %d, then %d", o.Total, *b.Total)
		}
		o.Total = *b.Total
		o.Docs = append(o.Docs, ids(docRefs(t, b))...)
		path = link(b, "next")
	}
	return o
}

func (d fhirDriver) HistoryAs(t *testing.T, org *gen.Organisation, p archivetest.Purpose, id string) archivetest.Outcome {
	r := d.asPurpose(org, p).get("/fhir/DocumentReference/" + id + "/$versions")
	if r.Status != http.StatusOK {
		return outcomeOf(t, r, http.StatusOK)
	}
	var b fhirapi.Bundle
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatal(err)
	}
	return archivetest.Outcome{Total: -1, Docs: ids(docRefs(t, b))}
}
