package fhirapi_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/fhirapi"
)

// testCitizenAuditEvent: a client's own listing and read in the citizen
// view are in the controller's AuditEvents with the client as the
// requesting patient, no organisation, and purpose "patient requested".
func testCitizenAuditEvent(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)
	c.archive(d)
	citizen := archive.CitizenCaller(d.Header.Client.ID.Extension, "Testi Asiakas")
	recs, err := e.svc.CitizenDocuments(context.Background(), citizen)
	if err != nil || len(recs) == 0 {
		t.Fatalf("the client's documents: %d, %v", len(recs), err)
	}
	if _, _, err := e.svc.Get(context.Background(), citizen, recs[0].Header.ID); err != nil {
		t.Fatal(err)
	}
	r := c.get("/fhir/AuditEvent?patient.identifier=" + url.QueryEscape(clientParam(d.Header)))
	if r.Status != http.StatusOK {
		t.Fatal(r)
	}
	dump(t, "auditevent-citizen-bundle.json", r)
	found := map[string]bool{}
	for _, ev := range auditEvents(t, decode[fhirapi.Bundle](t, r)) {
		var patient, orgAgent bool
		for _, a := range ev.Agent {
			if a.Who != nil && a.Who.Type == "Patient" && a.Requestor && a.Who.Identifier != nil &&
				a.Who.Identifier.System == fhirapi.SystemIdentityCode && a.Who.Identifier.Value == d.Header.Client.ID.Extension {
				patient = true
			}
			if a.Who != nil && a.Who.Type == "Organization" {
				orgAgent = true
			}
		}
		if !patient {
			continue
		}
		found[ev.Subtype[0].Code] = true
		if orgAgent || len(ev.PurposeOfEvent) != 1 || ev.PurposeOfEvent[0].Coding[0].Code != "PATRQT" {
			t.Errorf("the client's own use: %s", ev.raw)
		}
	}
	for _, use := range []string{"search-type", "read"} {
		if !found[use] {
			t.Errorf("the client's own %s is not in the controller's AuditEvents", use)
		}
	}
}

func TestCitizenAuditEvent(t *testing.T) { forEachBackend(t, testCitizenAuditEvent) }
