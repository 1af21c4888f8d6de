package fhirapi_test

// IHE MHD conformance of the FHIR door, end to end over HTTPS on every
// backend; docs/api.md "MHD conformance" lists what each test shows.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
)

// request makes a request with a fresh token and the given headers.
func (c *caller) request(method, path string, body []byte, header map[string]string) *resp {
	c.e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url(path), rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token())
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.client.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return &resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// prefix is the first n characters of s.
func prefix(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// mhdClient archives documents of one client of org and returns the
// client's headers, newest first being what searches return.
func mhdClient(t *testing.T, e *env, n int) (*caller, string, []*cda.Header) {
	t.Helper()
	org := e.world.Organisations[0]
	c := e.as(org)
	byClient := map[string][]*cda.Header{}
	for i := 0; i < n; i++ {
		d := e.nextOf(org)
		if r := c.archive(d); r.Status != http.StatusOK {
			t.Fatalf("archive: %v", r)
		}
		byClient[clientParam(d.Header)] = append(byClient[clientParam(d.Header)], d.Header)
	}
	var client string
	for k, hs := range byClient {
		if len(hs) > len(byClient[client]) || (len(hs) == len(byClient[client]) && k < client) {
			client = k
		}
	}
	return c, client, byClient[client]
}

// 5. ITI-67 as MHD 4.2 specifies: its parameters, POST search, lenient
// handling, counts.
func testMHDFindParameters(t *testing.T) {
	e := newEnvWith(t, envOptions{gen: gen.Options{Clients: 2}})
	c, client, hs := mhdClient(t, e, 16)
	if len(hs) < 5 {
		t.Fatalf("only %d documents for the client", len(hs))
	}
	superseded := map[string]bool{}
	for _, h := range hs {
		if h.Replaces != nil {
			superseded[h.Replaces.ID] = true
		}
	}
	var authored *cda.Header // a document with an author with a name
	for _, h := range hs {
		if h.Author.Name.Family != "" && len(h.Author.Name.Given) > 0 {
			authored = h
		}
	}
	if authored == nil {
		t.Fatal("no document with an author's name")
	}
	fold := archive.FoldName
	// The prefixes in upper case: the match ignores case.
	family := strings.ToUpper(prefix(authored.Author.Name.Family, 3))
	given := strings.ToUpper(prefix(authored.Author.Name.Given[0], 2))
	pivot := hs[len(hs)/2]
	ts := func(x time.Time) string { return url.QueryEscape(x.Format(time.RFC3339Nano)) }
	all := func(*cda.Header) bool { return true }
	none := func(*cda.Header) bool { return false }
	conf := authored.Confidentiality.Code
	format := authored.DisplayFormat.Code
	tests := []struct {
		name, params string
		pred         func(h *cda.Header) bool
	}{
		{"identifier", "identifier=" + url.QueryEscape(oidURN(pivot.ID)), func(h *cda.Header) bool { return h.ID == pivot.ID }},
		{"identifier with system", "identifier=" + url.QueryEscape(fhirapi.SystemURI+"|"+oidURN(pivot.ID)), func(h *cda.Header) bool { return h.ID == pivot.ID }},
		{"identifier or", "identifier=" + url.QueryEscape(oidURN(pivot.ID)+","+oidURN(hs[0].ID)), func(h *cda.Header) bool { return h.ID == pivot.ID || h.ID == hs[0].ID }},
		{"_id", "_id=" + pivot.ID, func(h *cda.Header) bool { return h.ID == pivot.ID }},
		{"_id and identifier disagree", "_id=" + pivot.ID + "&identifier=" + url.QueryEscape(oidURN(hs[0].ID)), none},
		{"author.family", "author.family=" + url.QueryEscape(family), func(h *cda.Header) bool {
			return strings.HasPrefix(fold(h.Author.Name.Family), fold(family))
		}},
		{"author.given", "author.given=" + url.QueryEscape(given), func(h *cda.Header) bool {
			return slices.ContainsFunc(h.Author.Name.Given, func(g string) bool { return strings.HasPrefix(fold(g), fold(given)) })
		}},
		{"author.family none", "author.family=zzq", none},
		{"author.family wildcard is literal", "author.family=%25", none},
		{"creation ge", "creation=ge" + ts(pivot.EffectiveTime), func(h *cda.Header) bool { return !h.EffectiveTime.Before(pivot.EffectiveTime) }},
		{"creation lt", "creation=lt" + ts(pivot.EffectiveTime), func(h *cda.Header) bool { return h.EffectiveTime.Before(pivot.EffectiveTime) }},
		{"security-label", "security-label=" + url.QueryEscape(oidURN(codes.OIDConfidentiality)+"|"+conf), func(h *cda.Header) bool { return h.Confidentiality.Code == conf }},
		{"security-label other", "security-label=" + url.QueryEscape(oidURN(codes.OIDConfidentiality)+"|1"), func(h *cda.Header) bool { return h.Confidentiality.Code == "1" }},
		{"format", "format=" + url.QueryEscape(oidURN(codes.OIDDisplayFormat)+"|"+format), func(h *cda.Header) bool { return h.DisplayFormat.Code == format }},
		{"format other", "format=" + url.QueryEscape(oidURN(codes.OIDDisplayFormat)+"|9"), func(h *cda.Header) bool { return h.DisplayFormat.Code == "9" }},
		{"_lastUpdated ge", "_lastUpdated=ge2000-01-01", all},
		{"_lastUpdated lt", "_lastUpdated=lt2000-01-01", none},
	}
	base := "/fhir/DocumentReference?patient.identifier=" + url.QueryEscape(client)
	for _, tt := range tests {
		var want []*cda.Header
		for _, h := range hs {
			if tt.pred(h) {
				want = append(want, h)
			}
		}
		r := c.get(base + "&" + tt.params)
		if r.Status != http.StatusOK {
			t.Errorf("%s: %v", tt.name, r)
			continue
		}
		b := decode[fhirapi.Bundle](t, r)
		if got, exp := ids(docRefs(t, b)), newestFirst(want); !slices.Equal(got, exp) {
			t.Errorf("%s: got %v, want %v", tt.name, got, exp)
		}
		if b.Total == nil || *b.Total != len(want) {
			t.Errorf("%s: total %v, want %d", tt.name, b.Total, len(want))
		}
	}

	// _lastUpdated: a nullification changes the DocumentReference.
	time.Sleep(5 * time.Millisecond)
	before := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	if r := c.post("/fhir/DocumentReference/"+pivot.ID+"/$nullify", nullifyBody("wrong-client", "väärä asiakas")); r.Status != http.StatusOK {
		t.Fatalf("nullify: %v", r)
	}
	everything := "&status=current,superseded,entered-in-error"
	r := c.get(base + everything + "&_lastUpdated=ge" + ts(before))
	if got := ids(docRefs(t, decode[fhirapi.Bundle](t, r))); !slices.Equal(got, []string{pivot.ID}) {
		t.Errorf("_lastUpdated after the nullification: %v, want [%s]", got, pivot.ID)
	}
	r = c.get(base + everything + "&_lastUpdated=lt" + ts(before))
	if got := ids(docRefs(t, decode[fhirapi.Bundle](t, r))); len(got) != len(hs)-1 || slices.Contains(got, pivot.ID) {
		t.Errorf("_lastUpdated before the nullification: %v", got)
	}

	// POST _search with a form body: the same answer as GET, nothing of
	// the client in the URL.
	form := url.Values{"patient.identifier": {client}, "author.family": {family}}
	getR := c.get(base + "&author.family=" + url.QueryEscape(family))
	postR := c.request(http.MethodPost, "/fhir/DocumentReference/_search", []byte(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if postR.Status != http.StatusOK {
		t.Fatalf("POST _search: %v", postR)
	}
	if g, p := ids(docRefs(t, decode[fhirapi.Bundle](t, getR))), ids(docRefs(t, decode[fhirapi.Bundle](t, postR))); !slices.Equal(g, p) || len(p) == 0 {
		t.Errorf("POST _search found %v, GET %v", p, g)
	}
	expectOO(t, c.request(http.MethodPost, "/fhir/DocumentReference/_search", []byte(form.Encode()), map[string]string{"Content-Type": fhirapi.ContentFHIRJSON}),
		http.StatusUnsupportedMediaType, "not-supported", "Content-Type", "")
	big := url.Values{"patient.identifier": {client}, "author.family": {strings.Repeat("a", 70<<10)}}
	expectOO(t, c.request(http.MethodPost, "/fhir/DocumentReference/_search", []byte(big.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}),
		http.StatusRequestEntityTooLarge, "too-long", "", "BODY_TOO_LARGE")

	// Unknown parameters: 400 by default and under strict; ignored and
	// reported under lenient.
	unknown := base + "&author.family=" + url.QueryEscape(family) + "&foo=bar&_summary=text"
	expectOO(t, c.get(unknown), http.StatusBadRequest, "value", "_summary", "QUERY_PARAM")
	expectOO(t, c.request(http.MethodGet, base+"&foo=bar", nil, map[string]string{"Prefer": "handling=strict"}), http.StatusBadRequest, "value", "foo", "QUERY_PARAM")
	r = c.request(http.MethodGet, unknown, nil, map[string]string{"Prefer": "return=minimal, handling=lenient"})
	if r.Status != http.StatusOK {
		t.Fatalf("lenient: %v", r)
	}
	dump(t, "searchset-lenient-bundle.json", r)
	b := decode[fhirapi.Bundle](t, r)
	var outcome *fhirapi.OperationOutcome
	var found []string
	for _, en := range b.Entry {
		switch en.Search.Mode {
		case "outcome":
			var oo fhirapi.OperationOutcome
			if err := json.Unmarshal(en.Resource, &oo); err != nil {
				t.Fatal(err)
			}
			outcome = &oo
		case "match":
			var d fhirapi.DocumentReference
			json.Unmarshal(en.Resource, &d)
			found = append(found, d.ID)
		}
	}
	if g := ids(docRefs(t, decode[fhirapi.Bundle](t, getR))); !slices.Equal(found, g) {
		t.Errorf("lenient search found %v, want %v", found, g)
	}
	var reported []string
	if outcome != nil {
		for _, is := range outcome.Issue {
			if is.Severity == "warning" && is.Code == "not-supported" && len(is.Expression) == 1 {
				reported = append(reported, is.Expression[0])
			}
		}
	}
	if !slices.Equal(reported, []string{"_summary", "foo"}) {
		t.Errorf("lenient search reported %v (outcome %+v), want _summary and foo", reported, outcome)
	}
	if self := link(b, "self"); strings.Contains(self, "foo") || !strings.Contains(self, "author.family") {
		t.Errorf("lenient self link %q: the ignored parameters are not part of the search", self)
	}

	// Counts: _summary=count and _count=0 answer the exact total alone.
	want := 0
	for _, h := range hs {
		if h.ID != pivot.ID {
			want++
		}
	}
	for _, p := range []string{"_summary=count", "_count=0"} {
		r := c.get(base + "&" + p)
		if r.Status != http.StatusOK {
			t.Errorf("%s: %v", p, r)
			continue
		}
		dump(t, "searchset-count-bundle.json", r)
		b := decode[fhirapi.Bundle](t, r)
		if b.Total == nil || *b.Total != want || len(b.Entry) != 0 {
			t.Errorf("%s: total %v, %d entries; want total %d and no entries", p, b.Total, len(b.Entry), want)
		}
	}
	expectOO(t, c.get(base+"&_count=-1"), http.StatusBadRequest, "value", "_count", "QUERY_COUNT")
}

func TestMHDFindParameters(t *testing.T) { forEachBackend(t, testMHDFindParameters) }

// reads counts the caller's own reads of document id in the client's
// access log.
func reads(t *testing.T, c *caller, client, id string) int {
	t.Helper()
	r := c.get("/fhir/AuditEvent?_count=500&patient.identifier=" + url.QueryEscape(client))
	if r.Status != http.StatusOK {
		t.Fatalf("audit: %v", r)
	}
	n := 0
	for _, en := range decode[fhirapi.Bundle](t, r).Entry {
		var ae fhirapi.AuditEvent
		if err := json.Unmarshal(en.Resource, &ae); err != nil {
			t.Fatal(err)
		}
		if len(ae.Subtype) == 0 || ae.Subtype[0].Code != "read" {
			continue
		}
		for _, ent := range ae.Entity {
			if ent.What != nil && ent.What.Reference == "DocumentReference/"+id {
				n++
			}
		}
	}
	return n
}

// 1. Patients: ids derived from the client identifier, Patient/<id> in
// subject and in the patient parameter, Patient lookup for the caller's
// clients only.
func testMHDPatients(t *testing.T) {
	e := newEnvWith(t, envOptions{gen: gen.Options{Clients: 1}})
	org, other := e.world.Organisations[0], e.world.Organisations[1]
	c, o := e.as(org), e.as(other)
	d1 := e.nextOf(org)
	if r := c.archive(d1); r.Status != http.StatusOK {
		t.Fatalf("archive: %v", r)
	}
	client := clientParam(d1.Header)

	// The Patient by identifier: one for the org, none for another.
	r := c.get("/fhir/Patient?identifier=" + url.QueryEscape(client))
	b := decode[fhirapi.Bundle](t, r)
	if r.Status != http.StatusOK || b.Total == nil || *b.Total != 1 || len(b.Entry) != 1 {
		t.Fatalf("Patient search: %v", r)
	}
	dump(t, "patient-searchset-bundle.json", r)
	var p fhirapi.Patient
	if err := json.Unmarshal(b.Entry[0].Resource, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.ID) != 32 || strings.Contains(p.ID, d1.Header.Client.ID.Extension) || len(p.Identifier) != 1 ||
		oidURN(d1.Header.Client.ID.Root)+"|"+p.Identifier[0].Value != client || p.Meta == nil || p.Meta.VersionID == "" || p.Meta.LastUpdated == "" {
		t.Fatalf("Patient %+v", p)
	}
	if r := o.get("/fhir/Patient?identifier=" + url.QueryEscape(client)); r.Status != http.StatusOK || len(decode[fhirapi.Bundle](t, r).Entry) != 0 {
		t.Errorf("another organisation's Patient search: %v", r)
	}
	if r := c.get("/fhir/Patient?_id=" + p.ID); r.Status != http.StatusOK || len(decode[fhirapi.Bundle](t, r).Entry) != 1 {
		t.Errorf("Patient search by _id: %v", r)
	}
	expectOO(t, c.get("/fhir/Patient?name=x&identifier="+url.QueryEscape(client)), http.StatusBadRequest, "value", "name", "QUERY_PARAM")
	expectOO(t, c.get("/fhir/Patient"), http.StatusBadRequest, "value", "identifier", "QUERY_CLIENT")

	// The Patient read: the org's, 404 for another org and for an id
	// never given.
	r = c.get("/fhir/Patient/" + p.ID)
	if r.Status != http.StatusOK || decode[fhirapi.Patient](t, r).ID != p.ID {
		t.Fatalf("Patient read: %v", r)
	}
	dump(t, "patient.json", r)
	expectOO(t, o.get("/fhir/Patient/"+p.ID), http.StatusNotFound, "not-found", "", "")
	expectOO(t, c.get("/fhir/Patient/"+strings.Repeat("0", 32)), http.StatusNotFound, "not-found", "", "")
	expectOO(t, c.get("/fhir/Patient/"+d1.Header.Client.ID.Extension), http.StatusNotFound, "not-found", "id", "")

	// The DocumentReference's subject references the Patient.
	ref := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+d1.Header.ID))
	if ref.Subject == nil || ref.Subject.Reference != "Patient/"+p.ID || ref.Subject.Identifier == nil {
		t.Errorf("subject %+v", ref.Subject)
	}

	// ITI-67 patient: Patient/<id>, the full URL or the id find what
	// patient.identifier finds.
	byIdentifier := ids(docRefs(t, decode[fhirapi.Bundle](t, c.get("/fhir/DocumentReference?patient.identifier="+url.QueryEscape(client)))))
	for _, v := range []string{"Patient/" + p.ID, e.run.BaseURL + "/Patient/" + p.ID, p.ID} {
		r := c.get("/fhir/DocumentReference?patient=" + url.QueryEscape(v))
		if got := ids(docRefs(t, decode[fhirapi.Bundle](t, r))); r.Status != http.StatusOK || !slices.Equal(got, byIdentifier) || len(got) == 0 {
			t.Errorf("patient=%s: %v, want %v", v, got, byIdentifier)
		}
	}
	if r := c.get("/fhir/DocumentReference?patient=Patient/" + strings.Repeat("a", 32)); r.Status != http.StatusOK || len(decode[fhirapi.Bundle](t, r).Entry) != 0 {
		t.Errorf("an unknown Patient: %v", r)
	}
	if r := o.get("/fhir/DocumentReference?patient=Patient/" + p.ID); r.Status == http.StatusOK && len(decode[fhirapi.Bundle](t, r).Entry) != 0 {
		t.Errorf("another organisation found the client's documents by Patient: %v", r)
	}
	expectOO(t, c.get("/fhir/DocumentReference?patient=Patient/"+p.ID+"&patient.identifier="+url.QueryEscape(client)), http.StatusBadRequest, "value", "patient", "QUERY_CLIENT")
	expectOO(t, c.get("/fhir/DocumentReference?patient="+url.QueryEscape(client)), http.StatusBadRequest, "value", "patient", "QUERY_CLIENT")

	// ITI-65 subject as Patient/<id> or a contained Patient.
	withSubject := func(d *gen.Doc, sub *fhirapi.Reference, contained ...any) *resp {
		ref := fullRef(d.Header)
		ref.Subject = sub
		for _, c := range contained {
			ref.Contained = append(ref.Contained, raw(t, c))
		}
		return c.post("/fhir", provideBundle(t, part{xml: d.XML, ref: ref}).body)
	}
	d2 := e.nextOf(org)
	if clientParam(d2.Header) != client {
		t.Fatal("the generator made another client")
	}
	expectOO(t, withSubject(d2, &fhirapi.Reference{Reference: "Patient/" + strings.Repeat("b", 32)}), http.StatusUnprocessableEntity, "business-rule", "Bundle.entry[1].resource.subject.reference", "")
	expectOO(t, withSubject(d2, &fhirapi.Reference{Reference: "Patient/x"}), http.StatusUnprocessableEntity, "not-supported", "Bundle.entry[1].resource.subject.reference", "")
	if r := withSubject(d2, &fhirapi.Reference{Reference: "Patient/" + p.ID}); r.Status != http.StatusOK {
		t.Errorf("subject Patient/<id>: %v", r)
	}
	d3 := e.nextOf(org)
	wrong := fhirapi.Patient{ResourceType: "Patient", ID: "pat", Identifier: []fhirapi.Identifier{{System: fhirapi.SystemIdentityCode, Value: "010101-0101"}}}
	expectOO(t, withSubject(d3, &fhirapi.Reference{Reference: "#pat"}, wrong), http.StatusUnprocessableEntity, "business-rule", "Bundle.entry[1].resource.contained[0].identifier", "")
	expectOO(t, withSubject(d3, &fhirapi.Reference{Reference: "#nobody"}, wrong), http.StatusUnprocessableEntity, "not-found", "Bundle.entry[1].resource.subject.reference", "")
	right := wrong
	right.Identifier = []fhirapi.Identifier{{System: oidURN(d3.Header.Client.ID.Root), Value: d3.Header.Client.ID.Extension}}
	if r := withSubject(d3, &fhirapi.Reference{Reference: "#pat"}, right); r.Status != http.StatusOK {
		t.Errorf("subject a contained Patient: %v", r)
	}
}

// 7. Caching: meta.versionId and lastUpdated, ETag and Last-Modified, 304
// for If-None-Match and If-Modified-Since, each still a logged read.
func testMHDCaching(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)
	c.archive(d)
	client := clientParam(d.Header)
	path := "/fhir/DocumentReference/" + d.Header.ID
	r := c.get(path)
	ref := decode[fhirapi.DocumentReference](t, r)
	etag, lastMod := r.Header.Get("ETag"), r.Header.Get("Last-Modified")
	if ref.Meta == nil || ref.Meta.VersionID == "" || ref.Meta.LastUpdated == "" || etag != `W/"`+ref.Meta.VersionID+`"` || lastMod == "" {
		t.Fatalf("meta %+v, ETag %q, Last-Modified %q", ref.Meta, etag, lastMod)
	}
	// Search results carry the same meta.
	sb := decode[fhirapi.Bundle](t, c.get("/fhir/DocumentReference?patient.identifier="+url.QueryEscape(client)))
	if refs := docRefs(t, sb); len(refs) != 1 || refs[0].Meta.VersionID != ref.Meta.VersionID || refs[0].Meta.LastUpdated != ref.Meta.LastUpdated {
		t.Errorf("search meta %+v, read meta %+v", refs[0].Meta, ref.Meta)
	}

	n := reads(t, c, client, d.Header.ID)
	for _, h := range []map[string]string{
		{"If-None-Match": etag},
		{"If-None-Match": `"other", ` + strings.TrimPrefix(etag, "W/")},
		{"If-Modified-Since": lastMod},
		{"If-Modified-Since": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)},
	} {
		r := c.request(http.MethodGet, path, nil, h)
		if r.Status != http.StatusNotModified || len(r.Body) != 0 || r.Header.Get("ETag") != etag {
			t.Errorf("%v: %v, ETag %q", h, r, r.Header.Get("ETag"))
		}
	}
	for _, h := range []map[string]string{
		{"If-None-Match": `W/"other"`},
		{"If-Modified-Since": time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)},
		{"If-None-Match": `W/"other"`, "If-Modified-Since": lastMod}, // If-None-Match decides
	} {
		if r := c.request(http.MethodGet, path, nil, h); r.Status != http.StatusOK {
			t.Errorf("%v: %v", h, r)
		}
	}
	// Every one of them was a read, in the log.
	if got := reads(t, c, client, d.Header.ID); got != n+7 {
		t.Errorf("%d reads logged after 4 answered 304 and 3 200, want %d", got, n+7)
	}

	// A change makes a new version: the old ETag no longer matches.
	time.Sleep(1100 * time.Millisecond) // Last-Modified has whole seconds
	if r := c.post(path+"/$nullify", nullifyBody("wrong-client", "väärä asiakas")); r.Status != http.StatusOK {
		t.Fatal(r)
	}
	r = c.request(http.MethodGet, path, nil, map[string]string{"If-None-Match": etag})
	after := decode[fhirapi.DocumentReference](t, r)
	if r.Status != http.StatusOK || after.Meta.VersionID == ref.Meta.VersionID || after.Meta.LastUpdated <= ref.Meta.LastUpdated || r.Header.Get("ETag") == etag {
		t.Errorf("after nullification: %v, meta %+v (was %+v)", r, after.Meta, ref.Meta)
	}
	if r := c.request(http.MethodGet, path, nil, map[string]string{"If-Modified-Since": lastMod}); r.Status != http.StatusOK {
		t.Errorf("If-Modified-Since before the nullification: %v", r)
	}

	// ITI-68: the bytes' strong ETag and their receipt time.
	bin := "/fhir/Binary/" + d.Header.ID
	r = c.get(bin)
	if r.Status != http.StatusOK || r.Header.Get("Last-Modified") == "" {
		t.Fatalf("Binary: %v", r)
	}
	if r := c.request(http.MethodGet, bin, nil, map[string]string{"If-None-Match": `"` + sha256Hex(d.XML) + `"`}); r.Status != http.StatusNotModified || len(r.Body) != 0 {
		t.Errorf("Binary If-None-Match: %v", r)
	}
	if r := c.request(http.MethodGet, bin, nil, map[string]string{"If-Modified-Since": r.Header.Get("Last-Modified")}); r.Status != http.StatusNotModified {
		t.Errorf("Binary If-Modified-Since: %v", r)
	}

	// The Patient too.
	pb := decode[fhirapi.Bundle](t, c.get("/fhir/Patient?identifier="+url.QueryEscape(client)))
	var p fhirapi.Patient
	json.Unmarshal(pb.Entry[0].Resource, &p)
	r = c.get("/fhir/Patient/" + p.ID)
	if p.Meta == nil || p.Meta.VersionID == "" || r.Header.Get("ETag") != `W/"`+p.Meta.VersionID+`"` {
		t.Errorf("Patient ETag %q, meta %+v", r.Header.Get("ETag"), p.Meta)
	}
	if r := c.request(http.MethodGet, "/fhir/Patient/"+p.ID, nil, map[string]string{"If-None-Match": r.Header.Get("ETag")}); r.Status != http.StatusNotModified {
		t.Errorf("Patient If-None-Match: %v", r)
	}
}

func TestMHDPatients(t *testing.T) { forEachBackend(t, testMHDPatients) }
func TestMHDCaching(t *testing.T)  { forEachBackend(t, testMHDCaching) }

// 9. The CapabilityStatement: read with mTLS and no token; it instantiates
// the MHD Document Recipient and Responder.
func testMHDCapabilityStatement(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	r, err := c.send(http.MethodGet, "/fhir/metadata", nil, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusOK {
		t.Fatalf("metadata without a token: %v", r)
	}
	var cs struct {
		fhirapi.CapabilityStatement
		Rest []struct {
			Resource []struct {
				Type        string `json:"type"`
				SearchParam []struct {
					Name, Type string
				} `json:"searchParam"`
			} `json:"resource"`
		} `json:"rest"`
	}
	if err := json.Unmarshal(r.Body, &cs); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cs.Instantiates, []string{fhirapi.MHDDocumentRecipient, fhirapi.MHDDocumentResponder}) ||
		cs.Instantiates[0] != "https://profiles.ihe.net/ITI/MHD/CapabilityStatement/IHE.MHD.DocumentRecipient" {
		t.Errorf("instantiates %v", cs.Instantiates)
	}
	params := map[string]map[string]string{}
	for _, res := range cs.Rest[0].Resource {
		params[res.Type] = map[string]string{}
		for _, p := range res.SearchParam {
			params[res.Type][p.Name] = p.Type
		}
	}
	// MHD 4.2 ITI-67 2:3.67.4.1.2.1 and the Patient lookup.
	for name, typ := range map[string]string{"patient": "reference", "patient.identifier": "token", "identifier": "token", "_id": "token",
		"author.given": "string", "author.family": "string", "creation": "date", "security-label": "token", "format": "token",
		"_lastUpdated": "date", "status": "token", "date": "date", "period": "date", "type": "token", "category": "token",
		"event": "token", "setting": "token", "facility": "token", "related": "token"} {
		if got := params["DocumentReference"][name]; got != typ {
			t.Errorf("DocumentReference search parameter %s: type %q, want %q", name, got, typ)
		}
	}
	if params["Patient"]["identifier"] != "token" {
		t.Errorf("Patient search parameters %v", params["Patient"])
	}

	// Still mutual TLS with a registered system.
	cc := e.asIdentity(org, org.System)
	cc.client = e.httpClient(nil)
	if r, err := cc.send(http.MethodGet, "/fhir/metadata", nil, "", ""); err != nil || r.Status != http.StatusUnauthorized {
		t.Errorf("metadata without a client certificate: %v %v", r, err)
	}
	unregistered := issueClient(t, e.world.CA, org, "ats-mhd-unregistered", time.Now().Add(-time.Hour), 24*time.Hour)
	if r, err := e.asIdentity(org, unregistered).send(http.MethodGet, "/fhir/metadata", nil, "", ""); err != nil || r.Status != http.StatusUnauthorized {
		t.Errorf("metadata with an unregistered certificate: %v %v", r, err)
	}
	// Everything else still needs a token.
	if r, _ := c.send(http.MethodGet, tokenPath, nil, "", ""); r.Status != http.StatusUnauthorized {
		t.Errorf("a Patient search without a token: %v", r)
	}
}

func TestMHDCapabilityStatement(t *testing.T) { forEachBackend(t, testMHDCapabilityStatement) }

// 6. Content negotiation: 406 to a request that takes only XML, never
// JSON under a 200; application/json answered as application/json; ITI-68
// honours Accept; an XML body is 415.
func testMHDContentNegotiation(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)
	c.archive(d)
	search := "/fhir/DocumentReference?patient.identifier=" + url.QueryEscape(clientParam(d.Header))
	for _, tt := range []struct {
		path, accept string
		status       int
		ctype        string
	}{
		{search, "application/fhir+xml", http.StatusNotAcceptable, fhirapi.ContentFHIRJSON},
		{search + "&_format=xml", "", http.StatusNotAcceptable, fhirapi.ContentFHIRJSON},
		{search + "&_format=" + url.QueryEscape("application/fhir+xml"), fhirapi.ContentFHIRJSON, http.StatusNotAcceptable, fhirapi.ContentFHIRJSON},
		{search, "application/json", http.StatusOK, "application/json"},
		{search + "&_format=json", "application/fhir+xml", http.StatusOK, fhirapi.ContentFHIRJSON},
		{search, "application/fhir+xml, application/fhir+json;q=0.5", http.StatusOK, fhirapi.ContentFHIRJSON},
		{search, "*/*", http.StatusOK, fhirapi.ContentFHIRJSON},
		{"/fhir/DocumentReference/" + d.Header.ID, "application/xml", http.StatusNotAcceptable, fhirapi.ContentFHIRJSON},
		{"/fhir/metadata", "application/fhir+xml", http.StatusNotAcceptable, fhirapi.ContentFHIRJSON},
		{"/fhir/metadata", "application/json", http.StatusOK, "application/json"},
		{"/fhir/Binary/" + d.Header.ID, "application/pdf", http.StatusNotAcceptable, fhirapi.ContentFHIRJSON},
		{"/fhir/Binary/" + d.Header.ID, "application/hl7-v3+xml", http.StatusOK, fhirapi.ContentCDA},
		{"/fhir/Binary/" + d.Header.ID, "text/html, application/xml;q=0.9", http.StatusOK, fhirapi.ContentCDA},
		{"/fhir/Binary/" + d.Header.ID, "", http.StatusOK, fhirapi.ContentCDA},
		{"/fhir/Binary/" + d.Header.ID, "*/*", http.StatusOK, fhirapi.ContentCDA},
		{"/fhir/Binary/" + d.Header.ID, "application/fhir+json, */*;q=0.1", http.StatusOK, fhirapi.ContentFHIRJSON},
		{"/fhir/Binary/" + d.Header.ID, "application/json", http.StatusOK, "application/json"},
		{"/fhir/Binary/" + d.Header.ID + "?_format=json", "application/hl7-v3+xml", http.StatusOK, fhirapi.ContentFHIRJSON},
		{"/fhir/Binary/" + d.Header.ID + "?_format=xml", "", http.StatusNotAcceptable, fhirapi.ContentFHIRJSON},
	} {
		r := c.request(http.MethodGet, tt.path, nil, map[string]string{"Accept": tt.accept})
		if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); r.Status != tt.status || ct != tt.ctype {
			t.Errorf("GET %s Accept %q: %d %q, want %d %q", tt.path, tt.accept, r.Status, ct, tt.status, tt.ctype)
			continue
		}
		if tt.status == http.StatusNotAcceptable {
			expectOO(t, r, http.StatusNotAcceptable, "not-supported", "Accept", "")
		}
		if tt.ctype == fhirapi.ContentCDA && !bytes.Equal(r.Body, d.XML) {
			t.Errorf("GET %s Accept %q: not the document's bytes", tt.path, tt.accept)
		}
		// A FHIR type asked for a Binary: the resource, carrying the
		// exact bytes (FHIR R4 binary.html#rest).
		if strings.HasPrefix(tt.path, "/fhir/Binary/") && tt.status == http.StatusOK && tt.ctype != fhirapi.ContentCDA {
			var b fhirapi.Binary
			err := json.Unmarshal(r.Body, &b)
			data, err2 := base64.StdEncoding.DecodeString(b.Data)
			err = errors.Join(err, err2)
			if b.ResourceType != "Binary" || b.ID != d.Header.ID || b.ContentType != fhirapi.ContentCDA || err != nil || !bytes.Equal(data, d.XML) ||
				b.Meta == nil || b.Meta.VersionID == "" || b.Meta.LastUpdated == "" || r.Header.Get("ETag") != `W/"`+b.Meta.VersionID+`"` {
				t.Errorf("GET %s Accept %q: not a Binary with the document: %.300s", tt.path, tt.accept, r.Body)
			}
			dump(t, "binary.json", r)
		}
	}
	// An XML body is refused: the door reads JSON only.
	expectOO(t, c.do(http.MethodPost, "/fhir", []byte(`<Bundle xmlns="http://hl7.org/fhir"/>`), "application/fhir+xml"), http.StatusUnsupportedMediaType, "not-supported", "Content-Type", "")
}

func TestMHDContentNegotiation(t *testing.T) { forEachBackend(t, testMHDContentNegotiation) }
