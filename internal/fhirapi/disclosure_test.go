package fhirapi

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/hetu"
)

// noticeOf reads a body the way POST /fhir does: decoded as a transaction
// Bundle, and read as a disclosure notice when it is one.
func noticeOf(body []byte, c archive.Caller) (*archive.Disclosure, bool, error) {
	entries, err := decodeSubmission(body)
	if err != nil {
		return nil, false, err
	}
	if !isDisclosureNotice(entries) {
		return nil, false, nil
	}
	d, err := parseDisclosureNotice(entries, c)
	return d, true, err
}

func TestDisclosureNoticeExample(t *testing.T) {
	d, notice, err := noticeOf(readExample(t, "disclosure-notice.json"), exCaller)
	if err != nil || !notice {
		t.Fatalf("notice %v, err %v", notice, err)
	}
	want := &archive.Disclosure{
		DisclosedAt: time.Date(2026, 3, 20, 11, 30, 0, 0, time.UTC),
		Source:      archive.SourceNotice,
		ClientKey:   hetu.OIDRoot + "|" + exClient,
		Discloser:   exOrg, Recipient: "1.2.246.10.2694772.10.0", RecipientName: "Pohjois-Suomen käräjäoikeus",
		Caller: exCaller,
		Documents: []archive.DisclosedDocument{{SetID: "1.2.246.10.51602220.10.0.99.2026.42", GeneralType: "15", SpecificType: "15007",
			ServiceTasks: []string{"24"}, Description: "Lapsiperheiden palvelujen asiakassuunnitelma 2026"}},
		GroundKind: archive.GroundNotice, Ground: "court", NoticeID: "1.2.246.10.51602220.10.0.99.5001",
	}
	if !d.DisclosedAt.Equal(want.DisclosedAt) {
		t.Errorf("disclosed at %v, want %v", d.DisclosedAt, want.DisclosedAt)
	}
	d.DisclosedAt = want.DisclosedAt
	if !reflect.DeepEqual(d, want) {
		t.Errorf("notice\n got %+v\nwant %+v", d, want)
	}
}

func TestDisclosureNoticeRefuses(t *testing.T) {
	ex := readExample(t, "disclosure-notice.json")
	ev := func(f func(m map[string]any)) []byte {
		return mutate(t, ex, func(m map[string]any) { f(dig(m, "entry", 0, "resource")) })
	}
	prov := func(f func(m map[string]any)) []byte {
		return mutate(t, ex, func(m map[string]any) { f(dig(m, "entry", 1, "resource")) })
	}
	const a = "Bundle.entry[0].resource"
	tests := []struct {
		name       string
		body       []byte
		expr, rule string
	}{
		{"no Provenance", mutate(t, ex, func(m map[string]any) { m["entry"] = m["entry"].([]any)[:1] }), "Bundle.entry", RuleNoticeBundle},
		{"two AuditEvents", mutate(t, ex, func(m map[string]any) { m["entry"].([]any)[1] = m["entry"].([]any)[0] }), "Bundle.entry[1]", RuleNoticeBundle},
		{"a PUT", mutate(t, ex, func(m map[string]any) { dig(m, "entry", 1, "request")["method"] = "PUT" }), "Bundle.entry[1].request.method", RuleNoticeBundle},
		{"no id", ev(func(m map[string]any) { delete(m, "id") }), a + ".id", RuleNoticeElement},
		{"an id with a space", ev(func(m map[string]any) { m["id"] = "a b" }), a + ".id", RuleNoticeID},
		{"no kind of disclosure", ev(func(m map[string]any) { delete(m, "extension") }), a + ".extension", RuleNoticeElement},
		{"an unknown kind", ev(func(m map[string]any) { dig(m, "extension", 0, "valueCoding")["code"] = "press" }), a + ".extension[0].valueCoding", RuleNoticeType},
		{"another type", ev(func(m map[string]any) { dig(m, "type")["code"] = "110110" }), a + ".type", RuleNoticeType},
		{"an action", ev(func(m map[string]any) { m["action"] = "R" }), a + ".action", RuleNoticeElement},
		{"no period", ev(func(m map[string]any) { delete(m, "period") }), a + ".period", RuleNoticeElement},
		{"a date for a time", ev(func(m map[string]any) { dig(m, "period")["start"] = "2026-03-20" }), a + ".period.start", RuleNoticeTime},
		{"recorded before disclosed", ev(func(m map[string]any) { m["recorded"] = "2026-03-20T13:00:00+02:00" }), a + ".recorded", RuleNoticeTime},
		{"a discloser not by OID", ev(func(m map[string]any) { dig(m, "agent", 0, "who", "identifier")["value"] = "urn:oid:1.2.3" }), a + ".agent[0].who.identifier", RuleNoticeAgent},
		{"no recipient", ev(func(m map[string]any) { m["agent"] = m["agent"].([]any)[:1] }), a + ".agent", RuleNoticeAgent},
		{"two disclosers", ev(func(m map[string]any) { m["agent"].([]any)[1] = m["agent"].([]any)[0] }), a + ".agent[1].type", RuleNoticeAgent},
		{"a requestor", ev(func(m map[string]any) { dig(m, "agent", 1)["requestor"] = true }), a + ".agent[1].requestor", RuleNoticeAgent},
		{"an agent's name", ev(func(m map[string]any) { dig(m, "agent", 1)["name"] = "x" }), a + ".agent[1].name", RuleNoticeElement},
		{"another system as source", ev(func(m map[string]any) { dig(m, "source", "observer", "identifier")["value"] = "other" }), a + ".source.observer.identifier", RuleNoticeAgent},
		{"no client", ev(func(m map[string]any) { m["entity"] = m["entity"].([]any)[1:] }), a + ".entity", RuleNoticeEntity},
		{"no data set", ev(func(m map[string]any) { m["entity"] = m["entity"].([]any)[:1] }), a + ".entity", RuleNoticeEntity},
		{"a bad identity code", ev(func(m map[string]any) { dig(m, "entity", 0, "what", "identifier")["value"] = "170580-901A" }), a + ".entity[0].what.identifier", RuleNoticeEntity},
		{"no service task", ev(func(m map[string]any) {
			e := dig(m, "entity", 1)
			e["detail"] = e["detail"].([]any)[:2]
		}), a + ".entity[1].detail", RuleNoticeEntity},
		{"a service task not a code", ev(func(m map[string]any) { dig(m, "entity", 1, "detail", 2)["valueString"] = "lapset" }), a + ".entity[1].detail[2].valueString", RuleNoticeEntity},
		{"an unknown detail", ev(func(m map[string]any) { dig(m, "entity", 1, "detail", 0)["type"] = "author" }), a + ".entity[1].detail[0].type", RuleNoticeEntity},
		{"a query", ev(func(m map[string]any) { dig(m, "entity", 1)["query"] = "eA==" }), a + ".entity[1].query", RuleNoticeElement},
		{"a Provenance of something else", prov(func(m map[string]any) { dig(m, "target", 0)["reference"] = "urn:uuid:x" }), "Bundle.entry[1].resource.target[0].reference", RuleNoticeProvenance},
		{"another reporter", prov(func(m map[string]any) { dig(m, "agent", 0, "who", "identifier")["value"] = "1" }), "Bundle.entry[1].resource.agent[0].who.identifier", RuleNoticeProvenance},
		{"for another organisation", prov(func(m map[string]any) {
			dig(m, "agent", 0, "onBehalfOf", "identifier")["value"] = "urn:oid:1.2.246.10.2694772.10.0"
		}), "Bundle.entry[1].resource.agent[0].onBehalfOf.identifier", RuleNoticeProvenance},
		{"a signature", prov(func(m map[string]any) { m["signature"] = []any{map[string]any{"data": "x"}} }), "Bundle.entry[1].resource.signature", RuleNoticeElement},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, notice, err := noticeOf(tc.body, exCaller)
			var b *badRequest
			if !notice || !errors.As(err, &b) {
				t.Fatalf("want a refused notice, got notice %v, %v", notice, err)
			}
			if b.expr != tc.expr || b.rule != tc.rule || b.status != 400 {
				t.Errorf("refused at %s with %s (%d), want %s with %s: %s", b.expr, b.rule, b.status, tc.expr, tc.rule, b.msg)
			}
		})
	}
}

// TestNoticeDispatch: only a Bundle of AuditEvents and Provenances is a
// notice; a submission with an AuditEvent among its entries is judged as
// ITI-65, which refuses the AuditEvent.
func TestNoticeDispatch(t *testing.T) {
	ex := readExample(t, "disclosure-notice.json")
	mixed := mutate(t, ex, func(m map[string]any) {
		dig(m, "entry", 1)["resource"] = map[string]any{"resourceType": "List", "status": "current", "mode": "working"}
	})
	entries, err := decodeSubmission(mixed)
	if err != nil {
		t.Fatal(err)
	}
	if isDisclosureNotice(entries) {
		t.Fatal("a Bundle with a List is not a notice")
	}
	_, err = checkSubmission(entries, "")
	var b *badRequest
	if !errors.As(err, &b) || !strings.Contains(b.msg, "AuditEvent") {
		t.Errorf("the ITI-65 path must refuse the AuditEvent: %v", err)
	}
	provOnly := mutate(t, ex, func(m map[string]any) { m["entry"] = m["entry"].([]any)[1:] })
	entries, err = decodeSubmission(provOnly)
	if err != nil {
		t.Fatal(err)
	}
	if isDisclosureNotice(entries) {
		t.Error("a Bundle of a Provenance alone is not a notice")
	}
}

func TestDisclosureEvent(t *testing.T) {
	at := time.Date(2026, 3, 20, 11, 30, 0, 0, time.UTC)
	recipient := archive.Caller{System: "ats-etela", Organisation: "1.2.246.10.2694772.10.0", Person: "10000000002", PersonName: "Testi Sosiaalityöntekijä", Unit: "1.2.246.10.2694772.10.5"}
	base := archive.Disclosure{ID: 7, At: at, DisclosedAt: at, Source: archive.SourceArchive, ClientKey: hetu.OIDRoot + "|" + exClient,
		Discloser: exOrg, Recipient: recipient.Organisation, Caller: recipient,
		Documents: []archive.DisclosedDocument{
			{ID: "1.2.246.10.51602220.10.0.99.1", SetID: "1.2.246.10.51602220.10.0.99.1", GeneralType: "15", SpecificType: "15007", ServiceTasks: []string{"24"}},
			{ID: "1.2.246.10.51602220.10.0.99.2", GeneralType: "15", ServiceTasks: []string{"24", "25"}},
		},
		GroundKind: archive.GroundConsent, Ground: "9f0c1f56-5e2b-4f0e-9a55-0d1c3d5f2a10"}
	broad := base
	broad.GroundKind, broad.Ground = archive.GroundBroadSearch, "child-welfare: lastensuojeluilmoitus 3/2026"

	ev := disclosureEvent(&base)
	if ev.ID != "disclosure-7" || ev.Type.Code != dcmExport || ev.Type.System != sysDICOM || ev.Period == nil || ev.Period.Start != instant(at) {
		t.Errorf("event %+v", ev)
	}
	if len(ev.Subtype) == 0 || ev.Subtype[0] != (Coding{System: SystemAuditType, Code: auditDisclosure, Display: ev.Subtype[0].Display}) {
		t.Errorf("subtype %+v", ev.Subtype)
	}
	var agents []string
	for _, a := range ev.Agent {
		agents = append(agents, a.Type.Coding[0].Code+"="+a.Who.Identifier.Value)
	}
	wantAgents := []string{dcmSource + "=urn:oid:" + exOrg, dcmDestination + "=urn:oid:" + recipient.Organisation, "110150=ats-etela", "humanuser=10000000002"}
	if !reflect.DeepEqual(agents, wantAgents) {
		t.Errorf("agents %v, want %v", agents, wantAgents)
	}
	if p := ev.Agent[3]; p.Location == nil || p.Location.Identifier.Value != "urn:oid:"+recipient.Unit || !p.Requestor {
		t.Errorf("the professional %+v", p)
	}
	if len(ev.Entity) != 4 {
		t.Fatalf("entities %+v: the client, two documents, the ground", ev.Entity)
	}
	if d := ev.Entity[2]; d.What.Reference != "DocumentReference/1.2.246.10.51602220.10.0.99.2" ||
		!reflect.DeepEqual(d.Detail, []AuditEventEntityDetail{{detailGeneralType, "15"}, {detailServiceTask, "24"}, {detailServiceTask, "25"}}) {
		t.Errorf("second document %+v", d)
	}
	if g := ev.Entity[3]; g.What == nil || g.What.Reference != "Consent/"+base.Ground {
		t.Errorf("consent ground %+v", g)
	}
	ev = disclosureEvent(&broad)
	if g := ev.Entity[3]; g.What != nil || g.Description != broad.Ground {
		t.Errorf("broad search ground %+v", g)
	}
	if len(ev.PurposeOfEvent) != 1 || ev.PurposeOfEvent[0].Coding[0].Code != "child-welfare" {
		t.Errorf("broad search purpose %+v", ev.PurposeOfEvent)
	}

	// A notice reads back into the same entry's parts when rendered.
	n, _, err := noticeOf(readExample(t, "disclosure-notice.json"), exCaller)
	if err != nil {
		t.Fatal(err)
	}
	n.ID, n.At = 8, at
	ev = disclosureEvent(n)
	if len(ev.Extension) != 1 || ev.Extension[0].ValueCoding.Code != "court" {
		t.Errorf("notice kind %+v", ev.Extension)
	}
	if w := ev.Agent[1].Who; w.Display != n.RecipientName || w.Identifier.Value != "urn:oid:"+n.Recipient {
		t.Errorf("notice recipient %+v", w)
	}
	if d := ev.Entity[1]; d.What == nil || d.What.Identifier.Value != "urn:oid:"+n.Documents[0].SetID || d.Description != n.Documents[0].Description {
		t.Errorf("notice data set %+v", d)
	}
}

func TestAuditTypeOf(t *testing.T) {
	tests := []struct {
		q          string
		disclosure bool
		bad        bool
	}{
		{"", false, false},
		{"type=disclosure", true, false},
		{"type=" + url.QueryEscape(SystemAuditType+"|disclosure"), true, false},
		{"type=" + url.QueryEscape(sysDICOM+"|110106"), true, false},
		{"type=rest", false, false},
		{"type=" + url.QueryEscape(sysAuditEventType+"|rest"), false, false},
		{"type=export", false, true},
		{"type=disclosure,rest", false, true},
		{"type=" + url.QueryEscape("urn:other|disclosure"), false, true},
	}
	for _, tc := range tests {
		q, _ := url.ParseQuery(tc.q)
		d, err := auditTypeOf(q)
		if d != tc.disclosure || (err != nil) != tc.bad {
			t.Errorf("%s: disclosure %v, err %v", tc.q, d, err)
		}
	}
}

// FuzzDisclosureNotice: reading POST /fhir bodies as notices never panics,
// and refuses with a rule code and a path.
func FuzzDisclosureNotice(f *testing.F) {
	f.Add(readExample(f, "disclosure-notice.json"))
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"AuditEvent"},"request":{"method":"POST"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, notice, err := noticeOf(body, exCaller)
		if !notice || err == nil {
			if notice && (d.ClientKey == "" || d.Discloser == "" || d.Recipient == "" || len(d.Documents) == 0) {
				t.Fatalf("a notice taken without its parts: %+v", d)
			}
			return
		}
		var b *badRequest
		if !errors.As(err, &b) || b.rule == "" || !strings.HasPrefix(b.expr, "Bundle") {
			t.Fatalf("refusal without a rule and a path: %#v", err)
		}
	})
}
