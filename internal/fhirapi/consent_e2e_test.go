package fhirapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
)

// example reads a docs/examples body with the examples' client,
// organisations, system and professional replaced by the test world's.
func example(t *testing.T, name string, repl ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer(repl...).Replace(string(b)))
}

func consentOf(t *testing.T, r *resp, status int) fhirapi.Consent {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %v", r.Status, status, r)
	}
	c := decode[fhirapi.Consent](t, r)
	if c.ResourceType != "Consent" || c.ID == "" {
		t.Fatalf("not a Consent: %v", r)
	}
	return c
}

func consentIDs(t *testing.T, r *resp) []string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("search: %v", r)
	}
	b := decode[fhirapi.Bundle](t, r)
	if b.Total == nil || *b.Total != len(b.Entry) {
		t.Fatalf("a Consent search gives its exact total: %v", r)
	}
	var out []string
	for _, en := range b.Entry {
		var c fhirapi.Consent
		if err := json.Unmarshal(en.Resource, &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c.ID)
	}
	return out
}

// TestConsentE2E records, reads, searches and withdraws will expressions
// through HTTPS, with the docs' examples, and the refusals the issue
// names: a consent before the notice, an unknown target, a second
// withdrawal, a withdrawn notice, a controller without a client
// relationship, a malformed Consent; refusals change nothing.
func TestConsentE2E(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		e := newEnv(t)
		rel := e.next() // the first client's client relationship document
		org := rel.Org
		c := e.as(org)
		c.archive(rel)
		var other *gen.Organisation
		for _, o := range e.world.Organisations {
			if o != org {
				other = o
				break
			}
		}
		client := rel.Header.Client.ID.Extension
		repl := []string{
			"1.2.246.10.51602220.10.0.99.2026.42", rel.Header.SetID,
			"1.2.246.10.51602220.10.0", org.ControllerOID(),
			"1.2.246.10.26954473.10.0", other.ControllerOID(),
			"170580-901P", client,
		}
		search := func(c *caller, status string) []string {
			q := "/fhir/Consent?patient.identifier=" + url.QueryEscape(fhirapi.SystemIdentityCode+"|"+client)
			if status != "" {
				q += "&status=" + url.QueryEscape(status)
			}
			return consentIDs(t, c.get(q))
		}

		// A consent needs the notice first.
		expectOO(t, c.post("/fhir/Consent", example(t, "consent-disclosure.json", repl...)), http.StatusUnprocessableEntity, "business-rule", "Consent.category[0]", consent.RuleNotInformed)

		r := c.post("/fhir/Consent", example(t, "consent-notice.json", repl...))
		notice := consentOf(t, r, http.StatusCreated)
		if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, "/Consent/"+notice.ID) {
			t.Errorf("Location %q", loc)
		}
		if notice.Status != "active" || notice.Category[0].Coding[0].Code != "notice" || notice.Patient.Identifier.Value != client || notice.DateTime == "" {
			t.Errorf("notice %+v", notice)
		}
		cons := consentOf(t, c.post("/fhir/Consent", example(t, "consent-disclosure.json", repl...)), http.StatusCreated)
		if cons.Provision == nil || cons.Provision.Type != "permit" || cons.Provision.Period.Start != "2026-03-01" {
			t.Errorf("consent %+v", cons.Provision)
		}
		var prohibitions []string
		for _, name := range []string{"consent-prohibition-document.json", "consent-prohibition-service-task.json", "consent-prohibition-controller.json"} {
			p := consentOf(t, c.post("/fhir/Consent", example(t, name, repl...)), http.StatusCreated)
			if p.Provision == nil || p.Provision.Type != "deny" {
				t.Errorf("%s: %+v", name, p.Provision)
			}
			prohibitions = append(prohibitions, p.ID)
		}

		// Refusals change nothing.
		unknown := example(t, "consent-prohibition-document.json", append([]string{"1.2.246.10.51602220.10.0.99.2026.42", rel.Header.SetID + ".404"}, repl...)...)
		expectOO(t, c.post("/fhir/Consent", unknown), http.StatusUnprocessableEntity, "business-rule", "Consent.provision.data[0].reference.identifier.value", "CONSENT_TARGET_UNKNOWN")
		malformed := bytes.Replace(example(t, "consent-notice.json", repl...), []byte(`"status"`), []byte(`"sourceReference":{"display":"x"},"status"`), 1)
		expectOO(t, c.post("/fhir/Consent", malformed), http.StatusBadRequest, "not-supported", "Consent.sourceReference", fhirapi.RuleConsentElement)
		stranger := e.as(other)
		expectOO(t, stranger.post("/fhir/Consent", example(t, "consent-notice.json", append([]string{"1.2.246.10.51602220.10.0", other.ControllerOID()}, repl...)...)), http.StatusForbidden, "forbidden", "", "ACCESS_DENIED")
		if r := stranger.get("/fhir/Consent/" + notice.ID); r.Status != http.StatusNotFound {
			t.Errorf("another controller reads a will expression: %v", r)
		}
		expectOO(t, stranger.get("/fhir/Consent?patient.identifier="+url.QueryEscape(fhirapi.SystemIdentityCode+"|"+client)), http.StatusForbidden, "forbidden", "", "ACCESS_DENIED")
		all := append([]string{notice.ID, cons.ID}, prohibitions...)
		if got := search(c, ""); strings.Join(got, " ") != strings.Join(all, " ") {
			t.Errorf("active: %v, want %v (oldest first)", got, all)
		}

		// Read and withdraw.
		if got := consentOf(t, c.get("/fhir/Consent/"+cons.ID), http.StatusOK); got.ID != cons.ID || got.Status != "active" {
			t.Errorf("read %+v", got)
		}
		w := consentOf(t, c.post("/fhir/Consent/"+cons.ID+"/$withdraw", example(t, "consent-withdraw.json", repl...)), http.StatusOK)
		withdrawn := false
		for _, x := range w.Extension {
			withdrawn = withdrawn || x.URL == fhirapi.ExtConsentWithdrawal
		}
		if w.Status != "inactive" || !withdrawn {
			t.Errorf("withdrawn consent %+v", w)
		}
		expectOO(t, c.post("/fhir/Consent/"+cons.ID+"/$withdraw", example(t, "consent-withdraw.json", repl...)), http.StatusUnprocessableEntity, "business-rule", "Consent.status", consent.RuleWithdrawn)
		expectOO(t, c.post("/fhir/Consent/"+notice.ID+"/$withdraw", example(t, "consent-withdraw.json", repl...)), http.StatusUnprocessableEntity, "business-rule", "Consent.category[0]", consent.RuleNoticeIsFinal)
		expectOO(t, c.post("/fhir/Consent/"+prohibitions[0]+"/$withdraw", []byte(`{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"x"}]}`)), http.StatusBadRequest, "value", "Parameters.parameter[0].name", fhirapi.RuleConsentElement)
		if r := c.post("/fhir/Consent/nosuchid/$withdraw", example(t, "consent-withdraw.json", repl...)); r.Status != http.StatusNotFound {
			t.Errorf("withdrawal of a missing expression: %v", r)
		}

		if got := search(c, ""); len(got) != 4 {
			t.Errorf("active after the withdrawal: %v", got)
		}
		if got := search(c, "inactive"); len(got) != 1 || got[0] != cons.ID {
			t.Errorf("inactive: %v", got)
		}
		if got := search(c, "active,inactive"); len(got) != 5 {
			t.Errorf("all: %v", got)
		}
		expectOO(t, c.get("/fhir/Consent?status=draft&patient.identifier="+url.QueryEscape(fhirapi.SystemIdentityCode+"|"+client)), http.StatusBadRequest, "value", "status", "QUERY_STATUS")
	})
}

func sameInstant(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

// TestDisclosureNoticeE2E reports a disclosure made outside the archive
// with the docs' example and finds it in the client's disclosure log as an
// AuditEvent; a notice of another reporter is refused and not logged.
func TestDisclosureNoticeE2E(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		e := newEnv(t)
		rel := e.next()
		org := rel.Org
		c := e.as(org)
		c.archive(rel)
		client := rel.Header.Client.ID.Extension
		repl := []string{
			"1.2.246.10.51602220.10.0.99", org.ControllerOID() + ".99",
			"1.2.246.10.51602220.10.0", org.ControllerOID(),
			"170580-901P", client,
			"ats-pohjolan", org.SystemName,
			"25104559650", testProfessional,
		}
		logOf := func() []fhirapi.AuditEvent {
			r := c.get("/fhir/AuditEvent?type=disclosure&patient.identifier=" + url.QueryEscape(fhirapi.SystemIdentityCode+"|"+client))
			if r.Status != http.StatusOK {
				t.Fatalf("disclosure log: %v", r)
			}
			var out []fhirapi.AuditEvent
			for _, en := range decode[fhirapi.Bundle](t, r).Entry {
				var ev fhirapi.AuditEvent
				if err := json.Unmarshal(en.Resource, &ev); err != nil {
					t.Fatal(err)
				}
				out = append(out, ev)
			}
			return out
		}

		bad := example(t, "disclosure-notice.json", append([]string{"25104559650", "1"}, repl...)...)
		expectOO(t, c.post("/fhir", bad), http.StatusBadRequest, "value", "Bundle.entry[1].resource.agent[0].who.identifier", fhirapi.RuleNoticeProvenance)
		future := example(t, "disclosure-notice.json", append([]string{`"2026-03-20T13:30:00+02:00"`, `"2099-03-20T13:30:00+02:00"`, `"2026-03-20T13:45:00+02:00"`, `"2099-03-20T13:45:00+02:00"`}, repl...)...)
		expectOO(t, c.post("/fhir", future), http.StatusUnprocessableEntity, "business-rule", "Bundle.entry[0].resource.period.start", "NOTICE_FIELD")
		if got := logOf(); len(got) != 0 {
			t.Fatalf("refused notices in the log: %+v", got)
		}

		r := c.post("/fhir", example(t, "disclosure-notice.json", repl...))
		if r.Status != http.StatusOK {
			t.Fatalf("notice: %v", r)
		}
		b := decode[fhirapi.Bundle](t, r)
		if b.Type != "transaction-response" || len(b.Entry) != 2 || b.Entry[0].Response.Status != "201 Created" || !strings.HasPrefix(b.Entry[0].Response.Location, "AuditEvent/disclosure-") {
			t.Fatalf("transaction response %v", r)
		}
		got := logOf()
		if len(got) != 1 {
			t.Fatalf("disclosure log %+v", got)
		}
		ev := got[0]
		if "AuditEvent/"+ev.ID != b.Entry[0].Response.Location || ev.Type.Code != "110106" || ev.Period == nil || !sameInstant(ev.Period.Start, "2026-03-20T11:30:00Z") {
			t.Errorf("event %+v", ev)
		}
		if ev.Agent[0].Who.Identifier.Value != "urn:oid:"+org.ControllerOID() || ev.Agent[1].Who.Display != "Pohjois-Suomen käräjäoikeus" {
			t.Errorf("agents %+v", ev.Agent)
		}
		var details []string
		for _, en := range ev.Entity {
			for _, d := range en.Detail {
				details = append(details, d.Type+"="+d.ValueString)
			}
		}
		if want := "general-type=15 specific-type=15007 service-task=24 ground=notice"; strings.Join(details, " ") != want {
			t.Errorf("entity details %v, want %s", details, want)
		}
		// Without a client: the controller's own disclosure log; another
		// controller's has nothing of it.
		if r := c.get("/fhir/AuditEvent?type=disclosure&date=ge2026-03-20"); r.Status != http.StatusOK || len(decode[fhirapi.Bundle](t, r).Entry) != 1 {
			t.Errorf("the controller's own disclosure log: %v", r)
		}
		if r := c.get("/fhir/AuditEvent?type=disclosure&date=lt2026-03-20"); r.Status != http.StatusOK || len(decode[fhirapi.Bundle](t, r).Entry) != 0 {
			t.Errorf("the log before the entry was recorded: %v", r)
		}
		var other *gen.Organisation
		for _, o := range e.world.Organisations {
			if o != org {
				other = o
				break
			}
		}
		if r := e.as(other).get("/fhir/AuditEvent?type=disclosure"); r.Status != http.StatusOK || len(decode[fhirapi.Bundle](t, r).Entry) != 0 {
			t.Errorf("another controller's disclosure log: %v", r)
		}
		// The access log is still the default.
		if r := c.get("/fhir/AuditEvent?patient.identifier=" + url.QueryEscape(fhirapi.SystemIdentityCode+"|"+client)); r.Status != http.StatusOK || bytes.Contains(r.Body, []byte("disclosure-")) {
			t.Errorf("access log: %v", r)
		}
		expectOO(t, c.get("/fhir/AuditEvent?date=2026&patient.identifier="+url.QueryEscape(fhirapi.SystemIdentityCode+"|"+client)), http.StatusBadRequest, "value", "date", "QUERY_PARAM")
	})
}
