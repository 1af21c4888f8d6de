package fhirapi

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/fitime"
	"github.com/arkisto/arkisto/internal/hetu"
)

// The examples' client, a guardian and the calling professional.
const (
	exClient   = "170580-901P"
	exGuardian = "030285-903L"
	exOrg      = "1.2.246.10.51602220.10.0"
)

var exCaller = archive.Caller{System: "ats-pohjolan", Organisation: exOrg, Person: "25104559650", PersonName: "Angelica Johansson", Unit: "1.2.246.10.51602220.10.1", Purpose: "1"}

func readExample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConsentExamples: every Consent example of the docs parses through
// the parser the door uses, into the will expression the docs say, and
// passes the domain's checks.
func TestConsentExamples(t *testing.T) {
	key := hetu.OIDRoot + "|" + exClient
	tests := []struct {
		file   string
		kind   consent.Kind
		target *consent.Target
		from   string
	}{
		{"consent-notice.json", consent.KindNotice, nil, ""},
		{"consent-disclosure.json", consent.KindConsent, nil, "2026-03-01"},
		{"consent-prohibition-document.json", consent.KindProhibition, &consent.Target{Kind: consent.TargetDocument, Value: "1.2.246.10.51602220.10.0.99.2026.42"}, ""},
		{"consent-prohibition-service-task.json", consent.KindProhibition, &consent.Target{Kind: consent.TargetServiceTask, Value: "24"}, ""},
		{"consent-prohibition-controller.json", consent.KindProhibition, &consent.Target{Kind: consent.TargetController, Value: "1.2.246.10.26954473.10.0"}, ""},
	}
	informed := []*consent.Expression{{Kind: consent.KindNotice, ClientKey: key, RecordedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Recorder: consent.Recorder{Role: consent.RoleClient, Person: exClient}}}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			e, err := parseConsent(readExample(t, tc.file), exCaller)
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind != tc.kind || e.ClientKey != key || !reflect.DeepEqual(e.Target, tc.target) {
				t.Fatalf("parsed %+v target %+v", e, e.Target)
			}
			if got := ""; !e.From.IsZero() {
				got = fhirDate(e.From)
				if got != tc.from {
					t.Errorf("from %s, want %s", got, tc.from)
				}
			} else if tc.from != "" {
				t.Errorf("no from, want %s", tc.from)
			}
			r := e.Recorder
			if r.Role != consent.RoleProfessional || r.OnStatementOf != consent.RoleClient || r.Person != exCaller.Person || r.Unit != exCaller.Unit || r.System != exCaller.System || r.Organisation != exOrg {
				t.Errorf("recorder %+v", r)
			}
			e.RecordedAt = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			if p := consent.Check(e, informed); len(p) > 0 {
				t.Errorf("the example breaks the domain's rules: %v", p)
			}
		})
	}
	by, err := readWithdrawal(readExample(t, "consent-withdraw.json"), key)
	if err != nil {
		t.Fatal(err)
	}
	if by.Role != consent.RoleProfessional || by.OnStatementOf != consent.RoleClient || by.Person != exCaller.Person {
		t.Errorf("withdrawal by %+v", by)
	}
}

// mutate applies f to the decoded example and encodes it again.
func mutate(t testing.TB, body []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dig returns the object at a path of keys and indexes.
func dig(m map[string]any, path ...any) map[string]any {
	var cur any = m
	for _, p := range path {
		switch k := p.(type) {
		case string:
			cur = cur.(map[string]any)[k]
		case int:
			cur = cur.([]any)[k]
		}
	}
	return cur.(map[string]any)
}

func TestParseConsentRefuses(t *testing.T) {
	notice := readExample(t, "consent-notice.json")
	cons := readExample(t, "consent-disclosure.json")
	doc := readExample(t, "consent-prohibition-document.json")
	task := readExample(t, "consent-prohibition-service-task.json")
	ctl := readExample(t, "consent-prohibition-controller.json")
	tests := []struct {
		name       string
		body       []byte
		expr, rule string
	}{
		{"not an object", []byte(`[1]`), "Consent", RuleConsentElement},
		{"another resource", mutate(t, notice, func(m map[string]any) { m["resourceType"] = "Patient" }), "Consent.resourceType", RuleConsentElement},
		{"an unknown element", mutate(t, notice, func(m map[string]any) { m["sourceAttachment"] = map[string]any{"url": "x"} }), "Consent.sourceAttachment", RuleConsentElement},
		{"a primitive's extension", mutate(t, notice, func(m map[string]any) { m["_status"] = map[string]any{"id": "x"} }), "Consent._status", RuleConsentElement},
		{"an id", mutate(t, notice, func(m map[string]any) { m["id"] = "x" }), "Consent.id", RuleConsentElement},
		{"a dateTime", mutate(t, notice, func(m map[string]any) { m["dateTime"] = "2026-01-01" }), "Consent.dateTime", RuleConsentElement},
		{"an extension", mutate(t, notice, func(m map[string]any) { m["extension"] = []any{map[string]any{"url": "x"}} }), "Consent.extension", RuleConsentElement},
		{"null", mutate(t, notice, func(m map[string]any) { m["status"] = nil }), "Consent.status", RuleConsentElement},
		{"no status", mutate(t, notice, func(m map[string]any) { delete(m, "status") }), "Consent.status", RuleConsentElement},
		{"status proposed", mutate(t, notice, func(m map[string]any) { m["status"] = "proposed" }), "Consent.status", RuleConsentStatus},
		{"status a number", mutate(t, notice, func(m map[string]any) { m["status"] = 1 }), "Consent.status", RuleConsentElement},
		{"another scope", mutate(t, notice, func(m map[string]any) { dig(m, "scope", "coding", 0)["code"] = "research" }), "Consent.scope", RuleConsentScope},
		{"two scope codings", mutate(t, notice, func(m map[string]any) {
			c := dig(m, "scope")
			c["coding"] = append(c["coding"].([]any), c["coding"].([]any)[0])
		}), "Consent.scope.coding", RuleConsentScope},
		{"an unknown kind", mutate(t, notice, func(m map[string]any) { dig(m, "category", 0, "coding", 0)["code"] = "research" }), "Consent.category[0].coding[0]", consent.RuleKind},
		{"a LOINC category", mutate(t, notice, func(m map[string]any) { dig(m, "category", 0, "coding", 0)["system"] = "http://loinc.org" }), "Consent.category[0].coding[0]", consent.RuleKind},
		{"two categories", mutate(t, notice, func(m map[string]any) { m["category"] = append(m["category"].([]any), m["category"].([]any)[0]) }), "Consent.category", consent.RuleKind},
		{"no patient", mutate(t, notice, func(m map[string]any) { delete(m, "patient") }), "Consent.patient", RuleConsentElement},
		{"a literal patient reference", mutate(t, notice, func(m map[string]any) { dig(m, "patient")["reference"] = "Patient/1" }), "Consent.patient.reference", RuleConsentElement},
		{"a bad identity code", mutate(t, notice, func(m map[string]any) { dig(m, "patient", "identifier")["value"] = "170580-901A" }), "Consent.patient.identifier", consent.RuleClientIdentity},
		{"a client without urn:oid", mutate(t, notice, func(m map[string]any) { dig(m, "patient", "identifier")["system"] = "1.2.246.21" }), "Consent.patient.identifier", consent.RuleClientIdentity},
		{"no performer", mutate(t, notice, func(m map[string]any) { delete(m, "performer") }), "Consent.performer", RuleConsentElement},
		{"a performer of another client", mutate(t, notice, func(m map[string]any) { dig(m, "performer", 0, "identifier")["value"] = exGuardian }), "Consent.performer[0].identifier", consent.RuleRecorder},
		{"a Practitioner performer", mutate(t, notice, func(m map[string]any) { dig(m, "performer", 0)["type"] = "Practitioner" }), "Consent.performer[0].type", consent.RuleRecorder},
		{"a representative without identity code system", mutate(t, notice, func(m map[string]any) {
			p := dig(m, "performer", 0)
			p["type"] = "RelatedPerson"
			dig(p, "identifier")["system"] = "urn:oid:1.2.3"
		}), "Consent.performer[0].identifier.system", consent.RuleRecorder},
		{"another organisation", mutate(t, notice, func(m map[string]any) {
			dig(m, "organization", 0, "identifier")["value"] = "urn:oid:1.2.246.10.26954473.10.0"
		}), "Consent.organization[0]", RuleConsentOrganization},
		{"no policy", mutate(t, notice, func(m map[string]any) { delete(m, "policy") }), "Consent.policy", RuleConsentElement},
		{"another policy", mutate(t, notice, func(m map[string]any) { dig(m, "policy", 0)["uri"] = "https://example.org" }), "Consent.policy[0].uri", RuleConsentPolicy},
		{"a policyRule", mutate(t, notice, func(m map[string]any) { m["policyRule"] = map[string]any{"text": "x"} }), "Consent.policyRule", RuleConsentElement},
		{"a notice with a provision", mutate(t, notice, func(m map[string]any) { m["provision"] = map[string]any{"type": "permit"} }), "Consent.provision", RuleConsentProvision},
		{"a consent without a provision", mutate(t, cons, func(m map[string]any) { delete(m, "provision") }), "Consent.provision", RuleConsentProvision},
		{"a consent that denies", mutate(t, cons, func(m map[string]any) { dig(m, "provision")["type"] = "deny" }), "Consent.provision.type", RuleConsentProvision},
		{"a consent from a dateTime", mutate(t, cons, func(m map[string]any) { dig(m, "provision", "period")["start"] = "2026-03-01T10:00:00+02:00" }), "Consent.provision.period.start", consent.RulePeriod},
		{"a consent with a target", mutate(t, cons, func(m map[string]any) { dig(m, "provision")["code"] = dig(mustMap(t, task), "provision")["code"] }), "Consent.provision", consent.RuleTarget},
		{"a nested provision", mutate(t, cons, func(m map[string]any) { dig(m, "provision")["provision"] = []any{map[string]any{"type": "deny"}} }), "Consent.provision.provision", RuleConsentElement},
		{"a prohibition with a period", mutate(t, task, func(m map[string]any) { dig(m, "provision")["period"] = map[string]any{"start": "2026-01-01"} }), "Consent.provision.period", consent.RulePeriod},
		{"a prohibition without a target", mutate(t, task, func(m map[string]any) { delete(dig(m, "provision"), "code") }), "Consent.provision", consent.RuleTarget},
		{"a prohibition with two targets", mutate(t, task, func(m map[string]any) { dig(m, "provision")["actor"] = dig(mustMap(t, ctl), "provision")["actor"] }), "Consent.provision", consent.RuleTarget},
		{"two documents", mutate(t, doc, func(m map[string]any) {
			p := dig(m, "provision")
			p["data"] = append(p["data"].([]any), p["data"].([]any)[0])
		}), "Consent.provision.data", consent.RuleTarget},
		{"a document by instance", mutate(t, doc, func(m map[string]any) { dig(m, "provision", "data", 0)["meaning"] = "instance" }), "Consent.provision.data[0].meaning", consent.RuleTarget},
		{"a document not by OID", mutate(t, doc, func(m map[string]any) {
			dig(m, "provision", "data", 0, "reference", "identifier")["value"] = "urn:uuid:x"
		}), "Consent.provision.data[0].reference.identifier", consent.RuleTarget},
		{"a service task of another system", mutate(t, task, func(m map[string]any) { dig(m, "provision", "code", 0, "coding", 0)["system"] = "urn:oid:1.2.3" }), "Consent.provision.code[0].coding[0].system", consent.RuleTarget},
		{"a controller in another role", mutate(t, ctl, func(m map[string]any) { dig(m, "provision", "actor", 0, "role", "coding", 0)["code"] = "AUT" }), "Consent.provision.actor[0].role", consent.RuleTarget},
		{"an unknown element in a coding", mutate(t, ctl, func(m map[string]any) { dig(m, "provision", "actor", 0, "role", "coding", 0)["version"] = "1" }), "Consent.provision.actor[0].role.coding[0].version", RuleConsentElement},
		{"an empty array", mutate(t, notice, func(m map[string]any) { m["performer"] = []any{} }), "Consent.performer", RuleConsentElement},
		{"an empty string", mutate(t, notice, func(m map[string]any) { dig(m, "patient", "identifier")["value"] = " " }), "Consent.patient.identifier.value", RuleConsentElement},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConsent(tc.body, exCaller)
			var b *badRequest
			if !errors.As(err, &b) {
				t.Fatalf("want a refusal, got %v", err)
			}
			if b.expr != tc.expr || b.rule != tc.rule || b.status != 400 {
				t.Errorf("refused at %s with %s (%d), want %s with %s: %s", b.expr, b.rule, b.status, tc.expr, tc.rule, b.msg)
			}
		})
	}
}

func mustMap(t testing.TB, body []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// asRequest strips a rendered Consent of what the archive assigns, giving
// a body a client could POST.
func asRequest(t testing.TB, c *Consent) []byte {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return mutate(t, b, func(m map[string]any) {
		for _, k := range []string{"id", "meta", "dateTime", "extension"} {
			delete(m, k)
		}
		m["status"] = "active"
	})
}

// comparable is what a request carries of an expression.
func comparable(e *consent.Expression) consent.Expression {
	return consent.Expression{ClientKey: e.ClientKey, Kind: e.Kind, Target: e.Target, From: e.From, Until: e.Until, Recorder: e.Recorder}
}

// TestConsentRoundTrip: an expression rendered as a Consent and read back
// is the same expression, for every kind, target, period and statement.
func TestConsentRoundTrip(t *testing.T) {
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, fitime.Location) }
	pro := func(on consent.Role, rep string) consent.Recorder {
		return consent.Recorder{Role: consent.RoleProfessional, Person: exCaller.Person, Name: exCaller.PersonName, Unit: exCaller.Unit, System: exCaller.System, Organisation: exOrg, OnStatementOf: on, Representative: rep}
	}
	key := hetu.OIDRoot + "|" + exClient
	temp := "1.2.246.10.51602220.22.2026|ABC-1"
	tests := []consent.Expression{
		{ClientKey: key, Kind: consent.KindNotice, Recorder: pro(consent.RoleClient, "")},
		{ClientKey: key, Kind: consent.KindNotice, Recorder: pro(consent.RoleRepresentative, exGuardian)},
		{ClientKey: temp, Kind: consent.KindNotice, Recorder: pro(consent.RoleClient, "")},
		{ClientKey: key, Kind: consent.KindConsent, Recorder: pro(consent.RoleClient, "")},
		{ClientKey: key, Kind: consent.KindConsent, From: day(2026, 3, 1), Recorder: pro(consent.RoleClient, "")},
		{ClientKey: key, Kind: consent.KindConsent, From: day(2026, 3, 1), Until: day(2027, 1, 1), Recorder: pro(consent.RoleClient, "")},
		{ClientKey: key, Kind: consent.KindConsent, Until: day(2026, 3, 29), Recorder: pro(consent.RoleRepresentative, exGuardian)}, // across the change to summer time
		{ClientKey: key, Kind: consent.KindProhibition, Target: &consent.Target{Kind: consent.TargetDocument, Value: "1.2.246.10.51602220.10.0.99.7"}, Recorder: pro(consent.RoleClient, "")},
		{ClientKey: key, Kind: consent.KindProhibition, Target: &consent.Target{Kind: consent.TargetServiceTask, Value: "24"}, Recorder: pro(consent.RoleClient, "")},
		{ClientKey: key, Kind: consent.KindProhibition, Target: &consent.Target{Kind: consent.TargetController, Value: "1.2.246.10.26954473.10.0"}, Recorder: pro(consent.RoleClient, "")},
	}
	for _, want := range tests {
		want.ID, want.RecordedAt = "9f0c1f56-5e2b-4f0e-9a55-0d1c3d5f2a10", time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		c := consentResource(&want, want.RecordedAt)
		got, err := parseConsent(asRequest(t, c), exCaller)
		if err != nil {
			t.Fatalf("%s %v: %v", want.Kind, want.Target, err)
		}
		if !reflect.DeepEqual(comparable(got), comparable(&want)) {
			t.Errorf("round trip\n got %+v\nwant %+v", comparable(got), comparable(&want))
		}
	}
}

func TestConsentRendering(t *testing.T) {
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	by := consent.Recorder{Role: consent.RoleProfessional, Person: "1", Unit: "1.2.246.10.51602220.10.1", System: "ats", Organisation: exOrg, OnStatementOf: consent.RoleClient}
	base := consent.Expression{ID: "x", ClientKey: hetu.OIDRoot + "|" + exClient, Kind: consent.KindConsent, RecordedAt: at, Recorder: by,
		From: time.Date(2026, 3, 1, 0, 0, 0, 0, fitime.Location), Until: time.Date(2026, 4, 1, 0, 0, 0, 0, fitime.Location)}
	withdrawn := base
	withdrawn.Withdrawn = &consent.Withdrawal{At: at.Add(time.Hour), By: by}
	tests := []struct {
		name   string
		e      consent.Expression
		now    time.Time
		status string
	}{
		{"in force", base, at, "active"},
		{"not yet in force", base, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), "active"},
		{"on its last day", base, time.Date(2026, 3, 31, 23, 0, 0, 0, fitime.Location), "active"},
		{"ended", base, time.Date(2026, 4, 1, 0, 0, 0, 0, fitime.Location), "inactive"},
		{"withdrawn", withdrawn, at.Add(2 * time.Hour), "inactive"},
	}
	for _, tc := range tests {
		c := consentResource(&tc.e, tc.now)
		if c.Status != tc.status {
			t.Errorf("%s: status %s, want %s", tc.name, c.Status, tc.status)
		}
		if c.Provision == nil || c.Provision.Period == nil || c.Provision.Period.Start != "2026-03-01" || c.Provision.Period.End != "2026-03-31" {
			t.Errorf("%s: provision %+v", tc.name, c.Provision)
		}
		var ext *Extension
		for i := range c.Extension {
			if c.Extension[i].URL == ExtConsentWithdrawal {
				ext = &c.Extension[i]
			}
		}
		if (ext != nil) != (tc.e.Withdrawn != nil) {
			t.Errorf("%s: withdrawal extension %+v", tc.name, ext)
		}
		if ext != nil && (ext.Extension[0].URL != "at" || ext.Extension[0].ValueDateTime != instant(tc.e.Withdrawn.At)) {
			t.Errorf("%s: withdrawal at %+v", tc.name, ext.Extension[0])
		}
	}
}

// readWithdrawal reads $withdraw as the door does, for an expression of
// the client.
func readWithdrawal(body []byte, clientKey string) (consent.Recorder, error) {
	wd, err := parseWithdrawal(body)
	if err != nil {
		return consent.Recorder{}, err
	}
	return wd.withdrawer(clientKey, exCaller)
}

func TestParseWithdrawalRefuses(t *testing.T) {
	key := hetu.OIDRoot + "|" + exClient
	w := readExample(t, "consent-withdraw.json")
	tests := []struct {
		name       string
		body       []byte
		expr, rule string
	}{
		{"another name", mutate(t, w, func(m map[string]any) { dig(m, "parameter", 0)["name"] = "reason" }), "Parameters.parameter[0].name", RuleConsentElement},
		{"two parameters", mutate(t, w, func(m map[string]any) { m["parameter"] = append(m["parameter"].([]any), m["parameter"].([]any)[0]) }), "Parameters.parameter", consent.RuleRecorder},
		{"a valueString", mutate(t, w, func(m map[string]any) { dig(m, "parameter", 0)["valueString"] = "x" }), "Parameters.parameter[0].valueString", RuleConsentElement},
		{"another client", mutate(t, w, func(m map[string]any) { dig(m, "parameter", 0, "valueReference", "identifier")["value"] = exGuardian }), "Parameters.parameter[0].valueReference.identifier", consent.RuleRecorder},
		{"no performer", mutate(t, w, func(m map[string]any) { delete(m, "parameter") }), "Parameters.parameter", RuleConsentElement},
	}
	for _, tc := range tests {
		_, err := readWithdrawal(tc.body, key)
		var b *badRequest
		if !errors.As(err, &b) {
			t.Fatalf("%s: want a refusal, got %v", tc.name, err)
		}
		if b.expr != tc.expr || b.rule != tc.rule {
			t.Errorf("%s: refused at %s with %s, want %s with %s: %s", tc.name, b.expr, b.rule, tc.expr, tc.rule, b.msg)
		}
	}
	by, err := readWithdrawal(mutate(t, w, func(m map[string]any) {
		v := dig(m, "parameter", 0, "valueReference")
		v["type"] = "RelatedPerson"
		dig(v, "identifier")["value"] = exGuardian
	}), key)
	if err != nil || by.OnStatementOf != consent.RoleRepresentative || by.Representative != exGuardian {
		t.Errorf("a guardian's statement: %+v, %v", by, err)
	}
}

// FuzzParseConsent: the parser never panics, refuses with a rule code and
// a path, and whatever it takes renders and reads back the same.
func FuzzParseConsent(f *testing.F) {
	for _, name := range []string{"consent-notice.json", "consent-disclosure.json", "consent-prohibition-document.json", "consent-prohibition-service-task.json", "consent-prohibition-controller.json"} {
		f.Add(readExample(f, name))
	}
	f.Add([]byte(`{"resourceType":"Consent","status":"active","provision":{"period":{"end":"2026-02-30"}}}`))
	f.Add([]byte(`{"resourceType":"Consent","category":[{"coding":[null]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := parseConsent(body, exCaller)
		if err != nil {
			var b *badRequest
			if !errors.As(err, &b) || b.rule == "" || !strings.HasPrefix(b.expr, "Consent") || b.status != 400 {
				t.Fatalf("refusal without a rule and a path: %#v", err)
			}
			return
		}
		e.ID, e.RecordedAt = "x", time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		again, err := parseConsent(asRequest(t, consentResource(e, e.RecordedAt)), exCaller)
		if err != nil {
			t.Fatalf("a taken Consent does not read back: %v", err)
		}
		if !reflect.DeepEqual(comparable(again), comparable(e)) {
			t.Fatalf("read back\n got %+v\nwant %+v", comparable(again), comparable(e))
		}
	})
}

// TestAPIDocConsents: the Consent and $withdraw bodies shown in
// docs/api.md read as the door reads them.
func TestAPIDocConsents(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	key := hetu.OIDRoot + "|" + exClient
	found := 0
	for _, block := range strings.Split(string(doc), "```json\n")[1:] {
		body := []byte(block[:strings.Index(block, "```")])
		switch {
		case strings.Contains(string(body), `"resourceType":"Consent"`):
			if _, err := parseConsent(body, exCaller); err != nil {
				t.Errorf("docs/api.md: %v\n%s", err, body)
			}
			found++
		case strings.Contains(string(body), `"name":"performer"`):
			if _, err := readWithdrawal(body, key); err != nil {
				t.Errorf("docs/api.md: %v\n%s", err, body)
			}
			found++
		}
	}
	if found < 2 {
		t.Errorf("found %d Consent and $withdraw bodies in docs/api.md, want 2", found)
	}
}
