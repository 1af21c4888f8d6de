package fhirapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/hetu"
)

// testGuardianAuditEvent: a guardian's read of a minor's document in the
// citizen view is in the controller's AuditEvents with the guardian as the
// requesting related person (not the patient), no organisation, and
// purpose "family requested".
func testGuardianAuditEvent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	org := e.world.Organisations[0]
	c := e.as(org)
	child, rel, err := e.gen.Minor(org, 10)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := e.gen.PlanWithGuardianCode(child, "1")
	if err != nil {
		t.Fatal(err)
	}
	c.archive(rel, plan)
	guardian, err := hetu.Make(time.Date(1982, 2, 2, 0, 0, 0, 0, time.UTC), 960, '-')
	if err != nil {
		t.Fatal(err)
	}
	if err := archive.NewAdmin(e.store, slog.New(slog.DiscardHandler)).AddGuardian(ctx, &archive.Guardianship{Guardian: guardian, Child: child.ID}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Get(ctx, archive.GuardianCaller(guardian, "Testi Huoltaja", child.ID), plan.Header.ID); err != nil {
		t.Fatal(err)
	}
	r := c.get("/fhir/AuditEvent?patient.identifier=" + url.QueryEscape(clientParam(plan.Header)))
	if r.Status != http.StatusOK {
		t.Fatal(r)
	}
	dump(t, "auditevent-guardian-bundle.json", r)
	var found bool
	for _, ev := range auditEvents(t, decode[fhirapi.Bundle](t, r)) {
		var related, patient, orgAgent bool
		for _, a := range ev.Agent {
			if a.Who == nil {
				continue
			}
			switch a.Who.Type {
			case "RelatedPerson":
				related = a.Requestor && a.Who.Identifier != nil && a.Who.Identifier.System == fhirapi.SystemIdentityCode && a.Who.Identifier.Value == guardian
			case "Patient":
				patient = true
			case "Organization":
				orgAgent = true
			}
		}
		if !related {
			continue
		}
		found = true
		if patient || orgAgent || len(ev.PurposeOfEvent) != 1 || ev.PurposeOfEvent[0].Coding[0].Code != "FAMRQT" || ev.Subtype[0].Code != "read" {
			t.Errorf("the guardian's read: %s", ev.raw)
		}
	}
	if !found {
		t.Error("the guardian's read is not in the controller's AuditEvents")
	}
}

func TestGuardianAuditEvent(t *testing.T) { forEachBackend(t, testGuardianAuditEvent) }
