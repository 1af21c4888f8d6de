package fhirapi_test

// The access log as IHE BALP AuditEvents (issue 15 item 8), end to end
// over HTTPS on every backend: what each event carries, GET by id, and the
// search parameters. .ci/balp-check.mjs checks the events dumped here
// against the BALP profiles they claim.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/fhirapi"
)

func TestBALPAudit(t *testing.T) { forEachBackend(t, testBALPAudit) }

// balpEvent is an AuditEvent with what the test asks of it.
type balpEvent struct {
	fhirapi.AuditEvent
	raw json.RawMessage
}

func (ev balpEvent) subtype(system string) string {
	for _, s := range ev.Subtype {
		if s.System == system {
			return s.Code
		}
	}
	return ""
}

func (ev balpEvent) profile() string {
	if ev.Meta == nil || len(ev.Meta.Profile) != 1 {
		return ""
	}
	return strings.TrimPrefix(ev.Meta.Profile[0], fhirapi.ProfileBALP)
}

// query is the decoded raw query of a search event, or "".
func (ev balpEvent) query(t *testing.T) string {
	for _, en := range ev.Entity {
		if en.Query != "" {
			b, err := base64.StdEncoding.DecodeString(en.Query)
			if err != nil {
				t.Fatalf("event %s: entity.query %q is not base64", ev.ID, en.Query)
			}
			return string(b)
		}
	}
	return ""
}

// agentOf returns the agent whose type has the code.
func (ev balpEvent) agentOf(code string) *fhirapi.AuditEventAgent {
	for i, a := range ev.Agent {
		if a.Type == nil {
			continue
		}
		for _, c := range a.Type.Coding {
			if c.Code == code {
				return &ev.Agent[i]
			}
		}
	}
	return nil
}

// system is the name of the acting system.
func (ev balpEvent) system() string {
	for _, a := range ev.Agent {
		if a.Who != nil && a.Who.Identifier != nil && a.Who.Identifier.System == fhirapi.SystemClientSystem {
			return a.Who.Identifier.Value
		}
	}
	return ""
}

func balpEvents(t *testing.T, r *resp) []balpEvent {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("AuditEvent search: %v", r)
	}
	var out []balpEvent
	for _, en := range decode[fhirapi.Bundle](t, r).Entry {
		var ev fhirapi.AuditEvent
		if err := json.Unmarshal(en.Resource, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, balpEvent{ev, en.Resource})
	}
	return out
}

// lockedBuffer is an operator log's output, written by the server's
// goroutines and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testBALPAudit(t *testing.T) {
	// The operator's log, every level: the raw queries the access log now
	// keeps name the client, and must not reach it.
	var oplog lockedBuffer
	e := newEnvWith(t, envOptions{logs: slog.NewTextHandler(&oplog, &slog.HandlerOptions{Level: slog.LevelDebug})})
	org, other := e.world.Organisations[0], e.world.Organisations[1]
	c, o := e.as(org), e.as(other)
	d := e.nextOf(org)
	if r := c.archive(d); r.Status != http.StatusOK {
		t.Fatalf("archive: %v", r)
	}
	id, client := d.Header.ID, clientParam(d.Header)
	pb := decode[fhirapi.Bundle](t, c.get("/fhir/Patient?identifier="+url.QueryEscape(client)))
	if len(pb.Entry) != 1 {
		t.Fatalf("Patient search: %d entries", len(pb.Entry))
	}
	var p fhirapi.Patient
	if err := json.Unmarshal(pb.Entry[0].Resource, &p); err != nil {
		t.Fatal(err)
	}
	// A read, an ITI-68 retrieve, an ITI-67 search by GET and by POST; and
	// another organisation's refused read, logged for the controller.
	if r := c.get("/fhir/DocumentReference/" + id); r.Status != http.StatusOK {
		t.Fatal(r)
	}
	if r := c.get("/fhir/Binary/" + id); r.Status != http.StatusOK {
		t.Fatal(r)
	}
	getQuery := "patient.identifier=" + url.QueryEscape(client) + "&_count=7"
	if r := c.get("/fhir/DocumentReference?" + getQuery); r.Status != http.StatusOK {
		t.Fatal(r)
	}
	form := "patient=Patient%2F" + p.ID + "&status=current"
	if r := c.request(http.MethodPost, "/fhir/DocumentReference/_search?_count=3", []byte(form), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); r.Status != http.StatusOK {
		t.Fatal(r)
	}
	if r := o.get("/fhir/DocumentReference/" + id); r.Status != http.StatusNotFound {
		t.Fatalf("another organisation's read: %v", r)
	}

	r := c.get("/fhir/AuditEvent?patient=Patient/" + p.ID)
	dump(t, "auditevent-balp-bundle.json", r)
	evs := balpEvents(t, r)
	// Newest first: the refused read, POST search, GET search, retrieve,
	// read, the Patient lookup, the archiving.
	type want struct {
		action, restful, iti, profile, query string
		outcome                              string
	}
	wants := []want{
		{"R", "read", "", "", "", "4"},
		{"E", "search-type", "ITI-67", "PatientQuery", "_count=3&" + form, "0"},
		{"E", "search-type", "ITI-67", "PatientQuery", getQuery, "0"},
		{"R", "read", "ITI-68", "PatientRead", "", "0"},
		{"R", "read", "", "PatientRead", "", "0"},
		{"R", "read", "", "", "", "0"}, // the Patient lookup: no document, no BALP Read
		{"C", "create", "ITI-65", "PatientCreate", "", "0"},
	}
	if len(evs) != len(wants) {
		t.Fatalf("%d events, want %d: %s", len(evs), len(wants), r.Body)
	}
	for i, w := range wants {
		ev := evs[i]
		got := want{ev.Action, ev.subtype("http://hl7.org/fhir/restful-interaction"), ev.subtype("urn:ihe:event-type-code"), ev.profile(), ev.query(t), ev.Outcome}
		if got != w {
			t.Errorf("event %d: %+v, want %+v: %s", i, got, w, ev.raw)
		}
		// The archive is the contained Device: the observer, and the server.
		if len(ev.Contained) != 1 || !strings.Contains(string(ev.Contained[0]), `"id":"archive"`) || ev.Source.Observer.Reference != "#archive" {
			t.Errorf("event %d: observer %+v, contained %s", i, ev.Source.Observer, ev.Contained)
		}
		// Source Role ID is the client, Destination Role ID the server,
		// except in a read (BALP Read: the data flows to the client).
		clientRole, serverRole := "110153", "110152"
		if ev.Action == "R" {
			clientRole, serverRole = serverRole, clientRole
		}
		cl, sv := ev.agentOf(clientRole), ev.agentOf(serverRole)
		wantSystem := org.SystemName
		if w.outcome == "4" {
			wantSystem = other.SystemName
		}
		if cl == nil || cl.Who == nil || cl.Who.Identifier == nil || cl.Who.Identifier.Value != wantSystem ||
			cl.Network == nil || cl.Network.Address != "127.0.0.1" || cl.Network.Type != "2" {
			t.Errorf("event %d: client agent %+v", i, cl)
		}
		if sv == nil || sv.Who == nil || sv.Who.Reference != "#archive" || sv.Network == nil || sv.Network.Address != "127.0.0.1" || sv.Requestor {
			t.Errorf("event %d: server agent %+v", i, sv)
		}
		user := ev.agentOf("humanuser")
		wantUser := "IRCP"
		if ev.Action == "C" {
			wantUser = "AUT"
		}
		if user == nil || user.Type.Coding[0].Code != wantUser || !user.Requestor || user.Name == "" || user.Network != nil ||
			user.Who.Identifier.Value != testProfessional {
			t.Errorf("event %d: user agent %+v", i, user)
		}
		// The client: its Patient, by reference and by identifier.
		if pe := ev.Entity[0]; pe.What == nil || pe.What.Reference != "Patient/"+p.ID || pe.What.Identifier == nil ||
			oidURN(d.Header.Client.ID.Root)+"|"+pe.What.Identifier.Value != client || pe.Role.Code != "1" || pe.Type.Code != "1" {
			t.Errorf("event %d: patient entity %+v", i, ev.Entity[0])
		}
	}

	// GET /fhir/AuditEvent/{id}: the same event, with an ETag.
	created := evs[len(evs)-1]
	r = c.get("/fhir/AuditEvent/" + created.ID)
	dump(t, "auditevent.json", r)
	var read fhirapi.AuditEvent
	if err := json.Unmarshal(r.Body, &read); r.Status != http.StatusOK || err != nil || read.ID != created.ID ||
		read.Meta.VersionID != created.Meta.VersionID || r.Header.Get("ETag") != `W/"`+created.Meta.VersionID+`"` {
		t.Fatalf("AuditEvent read: %v", r)
	}
	if r := c.request(http.MethodGet, "/fhir/AuditEvent/"+created.ID, nil, map[string]string{"If-None-Match": r.Header.Get("ETag")}); r.Status != http.StatusNotModified {
		t.Errorf("AuditEvent If-None-Match: %v", r)
	}
	// Another organisation, an id never given, and no number: 404 alike.
	for _, tc := range []struct {
		c    *caller
		path string
	}{{o, created.ID}, {c, "999999999"}, {c, "disclosure-1"}, {c, "0"}} {
		if r := tc.c.get("/fhir/AuditEvent/" + tc.path); r.Status != http.StatusNotFound {
			t.Errorf("AuditEvent/%s: %v", tc.path, r)
		}
	}

	// Search: each parameter selects what it names, within the client's log.
	base := "/fhir/AuditEvent?patient.identifier=" + url.QueryEscape(client)
	day := time.Now().UTC()
	period := "&date=ge" + day.AddDate(0, 0, -1).Format(time.DateOnly) + "&date=le" + day.AddDate(0, 0, 1).Format(time.DateOnly)
	all := balpEvents(t, c.get(base+"&_count=100"))
	for _, tc := range []struct {
		query string
		match func(balpEvent) bool
	}{
		{"&subtype=urn:ihe:event-type-code|ITI-67", func(ev balpEvent) bool { return ev.subtype("urn:ihe:event-type-code") == "ITI-67" }},
		{"&subtype=ITI-65,ITI-68", func(ev balpEvent) bool {
			return slices.Contains([]string{"ITI-65", "ITI-68"}, ev.subtype("urn:ihe:event-type-code"))
		}},
		{"&subtype=http://hl7.org/fhir/restful-interaction|read", func(ev balpEvent) bool { return ev.Action == "R" }},
		{"&agent=urn:arkisto:system|" + other.SystemName, func(ev balpEvent) bool { return ev.system() == other.SystemName }},
		{"&agent:identifier=urn:oid:1.2.246.537.26|" + testProfessional, func(balpEvent) bool { return true }},
		{"&agent=urn:oid:1.2.246.537.26|10000000999", func(balpEvent) bool { return false }},
		{"&entity=DocumentReference/" + id, func(ev balpEvent) bool {
			return slices.ContainsFunc(ev.Entity, func(en fhirapi.AuditEventEntity) bool {
				return en.What != nil && en.What.Reference == "DocumentReference/"+id
			})
		}},
		{"&outcome=4", func(ev balpEvent) bool { return ev.Outcome == "4" }},
		{"&outcome=0&subtype=search-type", func(ev balpEvent) bool { return ev.Outcome == "0" && ev.Action == "E" }},
		{"&_id=" + created.ID, func(ev balpEvent) bool { return ev.ID == created.ID }},
		{"&type=rest" + period, func(balpEvent) bool { return true }},
	} {
		got := balpEvents(t, c.get(base+tc.query+"&_count=100"))
		// Each search is itself logged, after: compare with the events
		// read before them.
		var gotIDs, wantIDs []string
		for _, ev := range got {
			if slices.ContainsFunc(all, func(a balpEvent) bool { return a.ID == ev.ID }) {
				gotIDs = append(gotIDs, ev.ID)
			}
		}
		for _, ev := range all {
			if tc.match(ev) {
				wantIDs = append(wantIDs, ev.ID)
			}
		}
		// Every query but the one naming nobody finds something.
		if fmt.Sprint(gotIDs) != fmt.Sprint(wantIDs) || (len(wantIDs) == 0) != strings.Contains(tc.query, "10000000999") {
			t.Errorf("AuditEvent search %s: %v, want %v", tc.query, gotIDs, wantIDs)
		}
	}
	// By Patient, and for a period without a client: the same entries.
	byPatient := balpEvents(t, c.get("/fhir/AuditEvent?patient="+url.QueryEscape(e.run.BaseURL+"/Patient/"+p.ID)+"&subtype=ITI-67"))
	byPeriod := balpEvents(t, c.get("/fhir/AuditEvent?subtype=ITI-67&entity=DocumentReference/"+id+period))
	if len(byPatient) != 2 || len(byPeriod) != 2 || byPatient[0].ID != byPeriod[0].ID {
		t.Errorf("ITI-67 events by Patient %d, by period %d", len(byPatient), len(byPeriod))
	}
	// Another organisation sees none of them.
	if got := balpEvents(t, o.get("/fhir/AuditEvent?subtype=ITI-67&entity=DocumentReference/"+id+period)); len(got) != 0 {
		t.Errorf("another organisation found %d events", len(got))
	}
	// A nullification is an update of the DocumentReference: BALP
	// PatientUpdate.
	d2 := e.nextOf(org)
	if r := c.archive(d2); r.Status != http.StatusOK {
		t.Fatal(r)
	}
	if r := c.post("/fhir/DocumentReference/"+d2.Header.ID+"/$nullify", nullifyBody("wrong-client", "väärä asiakas")); r.Status != http.StatusOK {
		t.Fatal(r)
	}
	r = c.get("/fhir/AuditEvent?subtype=update&entity=DocumentReference/" + d2.Header.ID + period)
	dump(t, "auditevent-update-bundle.json", r)
	if up := balpEvents(t, r); len(up) != 1 || up[0].Action != "U" || up[0].profile() != "PatientUpdate" ||
		up[0].agentOf("110153") == nil || up[0].agentOf("110153").Network == nil || up[0].agentOf("humanuser").Type.Coding[0].Code != "AUT" {
		t.Errorf("the nullification's events: %s", r.Body)
	}

	// A search of a huge form keeps the first 8 KiB of it in the log, and
	// says it was cut: no search makes its entry large.
	long := "patient=Patient%2F" + p.ID + "&author.family=" + strings.Repeat("a", 20000)
	if r := c.request(http.MethodPost, "/fhir/DocumentReference/_search", []byte(long), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); r.Status != http.StatusOK {
		t.Fatal(r)
	}
	cut := balpEvents(t, c.get(base+"&subtype=ITI-67&_count=1"))
	if q := cut[0].query(t); len(cut) != 1 || !strings.HasPrefix(q, long[:8<<10]) || !strings.HasSuffix(q, fmt.Sprintf("...[cut: %d bytes in all]", len(long))) || len(q) > 8<<10+40 {
		t.Errorf("the logged query of a %d-byte search: %d bytes, ending %q", len(long), len(q), q[max(0, len(q)-40):])
	}
	defer func() {
		out := oplog.String()
		if !strings.Contains(out, "refused") {
			t.Errorf("the operator's log does not show the refused read, so this check sees nothing: %s", out)
		}
		if strings.Contains(out, d.Header.Client.ID.Extension) || strings.Contains(out, url.QueryEscape(client)) {
			t.Errorf("the operator's log names the client: %s", out)
		}
	}()
	for _, tc := range []struct{ query, expr, rule string }{
		{"&outcome=8", "outcome", fhirapi.RuleQueryCode},
		{"&subtype=ITI-99", "subtype", fhirapi.RuleQueryCode},
		{"&subtype=ITI-67,read", "subtype", fhirapi.RuleQueryCode},
		{"&entity=DocumentReference/a,b", "entity", fhirapi.RuleQueryParam},
		{"&agent=urn:x|y", "agent", fhirapi.RuleQueryParam},
		{"&_id=x", "_id", fhirapi.RuleQueryParam},
		{"&patient=Patient/" + p.ID, "patient", fhirapi.RuleQueryClient},
		{"&type=disclosure&outcome=0", "outcome", fhirapi.RuleQueryParam},
	} {
		expectOO(t, c.get(base+tc.query), http.StatusBadRequest, "value", tc.expr, tc.rule)
	}
}
