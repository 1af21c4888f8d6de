package fhirapi_test

// The disclosure decision table's will and log actions through the FHIR
// door: Consent resources, $withdraw and the disclosure log's AuditEvents.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive/archivetest"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/fitime"
	"github.com/arkisto/arkisto/internal/gen"
)

// clientRef is a client key as a FHIR reference by identifier.
func clientRef(typ, key string) map[string]any {
	root, ext, _ := strings.Cut(key, "|")
	return map[string]any{"type": typ, "identifier": map[string]any{"system": "urn:oid:" + root, "value": ext}}
}

// whose is the performer: the client, or the named representative.
func whose(key string, role consent.Role, representative string) map[string]any {
	if role == consent.RoleRepresentative {
		return map[string]any{"type": "RelatedPerson", "identifier": map[string]any{"system": fhirapi.SystemIdentityCode, "value": representative}}
	}
	return clientRef("Patient", key)
}

// fhirDay is the day of a time as the table means it (its UTC date).
func fhirDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// consentBody is the Consent of a will expression as the table specifies it.
func consentBody(t *testing.T, w archivetest.WillSpec) []byte {
	c := map[string]any{
		"resourceType": "Consent",
		"status":       "active",
		"scope":        map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}}},
		"category":     []any{map[string]any{"coding": []any{map[string]any{"system": fhirapi.SystemWillExpression, "code": string(w.Kind)}}}},
		"patient":      clientRef("Patient", w.ClientKey),
		"performer":    []any{whose(w.ClientKey, w.OnStatementOf, w.Representative)},
		"policy":       []any{map[string]any{"uri": fhirapi.ClientDataAct}},
	}
	delete(c["patient"].(map[string]any), "type")
	switch w.Kind {
	case consent.KindConsent:
		p := map[string]any{"type": "permit"}
		period := map[string]any{}
		if !w.From.IsZero() {
			period["start"] = fhirDay(w.From)
		} else {
			period["start"] = time.Now().In(fitime.Location).Format(time.DateOnly)
		}
		if !w.Until.IsZero() {
			// The table's Until is the first day no longer covered; FHIR's
			// end is the last day covered.
			period["end"] = fhirDay(w.Until.AddDate(0, 0, -1))
		}
		p["period"] = period
		c["provision"] = p
	case consent.KindProhibition:
		p := map[string]any{"type": "deny"}
		if tg := w.Target; tg != nil {
			switch tg.Kind {
			case consent.TargetDocument:
				p["data"] = []any{map[string]any{"meaning": "related", "reference": map[string]any{"identifier": map[string]any{"system": fhirapi.SystemURI, "value": "urn:oid:" + tg.Value}}}}
			case consent.TargetServiceTask:
				p["code"] = []any{map[string]any{"coding": []any{map[string]any{"system": "urn:oid:1.2.246.537.6.1221.201601", "code": tg.Value}}}}
			case consent.TargetController:
				p["actor"] = []any{map[string]any{
					"role":      map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "CST"}}},
					"reference": map[string]any{"identifier": map[string]any{"system": fhirapi.SystemURI, "value": "urn:oid:" + tg.Value}},
				}}
			}
		}
		c["provision"] = p
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (d fhirDriver) RecordWill(t *testing.T, org *gen.Organisation, w archivetest.WillSpec) archivetest.Outcome {
	r := d.e.as(org).post("/fhir/Consent", consentBody(t, w))
	o := outcomeOf(t, r, http.StatusCreated)
	if o.Kind == nil {
		var c fhirapi.Consent
		if err := json.Unmarshal(r.Body, &c); err != nil {
			t.Fatal(err)
		}
		o.Docs = []string{c.ID}
	}
	return o
}

func (d fhirDriver) WithdrawWill(t *testing.T, org *gen.Organisation, id, representative string) archivetest.Outcome {
	if id == "" {
		t.Fatal("withdrawing a will expression the table did not record")
	}
	// The performer names the expression's client, read as the table's
	// caller would before withdrawing.
	r := d.e.as(org).get("/fhir/Consent/" + id)
	if r.Status != http.StatusOK {
		return outcomeOf(t, r, http.StatusOK)
	}
	var c fhirapi.Consent
	if err := json.Unmarshal(r.Body, &c); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimPrefix(c.Patient.Identifier.System, "urn:oid:") + "|" + c.Patient.Identifier.Value
	role := consent.RoleClient
	if representative != "" {
		role = consent.RoleRepresentative
	}
	body, err := json.Marshal(map[string]any{"resourceType": "Parameters", "parameter": []any{map[string]any{"name": "performer", "valueReference": whose(key, role, representative)}}})
	if err != nil {
		t.Fatal(err)
	}
	return outcomeOf(t, d.e.as(org).post("/fhir/Consent/"+id+"/$withdraw", body), http.StatusOK)
}

// Disclosures reads the disclosure log as AuditEvents: "<ground>:<id>" for
// each disclosed document.
func (d fhirDriver) Disclosures(t *testing.T, org *gen.Organisation, clientKey string) archivetest.Outcome {
	root, ext, _ := strings.Cut(clientKey, "|")
	path := "/fhir/AuditEvent?type=disclosure&_count=500&patient.identifier=" + url.QueryEscape("urn:oid:"+root+"|"+ext)
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
		for _, en := range b.Entry {
			var ev fhirapi.AuditEvent
			if err := json.Unmarshal(en.Resource, &ev); err != nil {
				t.Fatal(err)
			}
			ground := ""
			var docs []string
			for _, x := range ev.Entity {
				for _, dt := range x.Detail {
					if dt.Type == "ground" {
						ground = dt.ValueString
					}
				}
				if x.What != nil && strings.HasPrefix(x.What.Reference, "DocumentReference/") {
					docs = append(docs, strings.TrimPrefix(x.What.Reference, "DocumentReference/"))
				}
				if x.What != nil && strings.HasPrefix(x.What.Reference, "Consent/") && strings.TrimPrefix(x.What.Reference, "Consent/") == "" {
					t.Errorf("a consent ground without the consent's id: %s", en.Resource)
				}
			}
			if ground == "" {
				t.Errorf("a disclosure without its ground: %s", en.Resource)
			}
			for _, doc := range docs {
				o.Docs = append(o.Docs, ground+":"+doc)
			}
		}
		path = link(b, "next")
	}
	return o
}

// TestDisclosureRules runs the disclosure decision table through the FHIR
// door, the same table the domain behaviour suite runs through the
// service: will expressions as Consent resources, documents by
// DocumentReference and Binary, the log as AuditEvents.
func TestDisclosureRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		w := archivetest.AccessWorld(t)
		e := newEnvWith(t, envOptions{world: w})
		archivetest.RunDisclosureTable(t, fhirDriver{e}, w)
	})
}
