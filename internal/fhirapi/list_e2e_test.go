package fhirapi_test

// IHE MHD SubmissionSets end to end over HTTPS on every backend: kept by
// ITI-65, read by id, found by ITI-66 (docs/api.md "MHD conformance").

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
)

func TestMHDSubmissionSets(t *testing.T) { forEachBackend(t, testMHDSubmissionSets) }

// listEntry is the List entry of a transaction response, checked: 201 (or
// 200 for the same submission again) with a location List/<id>.
func listEntry(t *testing.T, r *resp, index int, status string) string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("provide: %v", r)
	}
	b := decode[fhirapi.Bundle](t, r)
	lr := b.Entry[index].Response
	if lr == nil || lr.Status != status || !strings.HasPrefix(lr.Location, "List/") || len(lr.Location) != len("List/")+32 || lr.LastModified == "" {
		t.Fatalf("the List entry of the response: %+v, want %s with a location List/<id>", lr, status)
	}
	return strings.TrimPrefix(lr.Location, "List/")
}

func testMHDSubmissionSets(t *testing.T) {
	e := newEnv(t)
	org, other := e.world.Organisations[0], e.world.Organisations[1]
	c := e.as(org)
	d := e.nextOf(org)
	client := clientParam(d.Header)

	// ITI-65 with the project's own MHD Minimal bundle: every entry 201
	// with a location, the List's too.
	body, err := fhirapi.SubmissionBundle(d.XML)
	if err != nil {
		t.Fatal(err)
	}
	var sent struct {
		Entry []struct {
			Resource fhirapi.List `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatal(err)
	}
	sentList := sent.Entry[0].Resource
	r := c.post("/fhir", body)
	id := listEntry(t, r, 0, "201 Created")
	for i, en := range decode[fhirapi.Bundle](t, r).Entry {
		if en.Response == nil || en.Response.Status != "201 Created" || en.Response.Location == "" {
			t.Errorf("transaction response entry %d: %+v", i, en.Response)
		}
	}
	// The same submission again: the same List, 200.
	if again := listEntry(t, c.post("/fhir", body), 0, "200 OK"); again != id {
		t.Errorf("the same submission again is List/%s, first List/%s", again, id)
	}

	// GET /fhir/List/{id}: the SubmissionSet as sent, claiming MHD Minimal.
	lr := c.get("/fhir/List/" + id)
	if lr.Status != http.StatusOK || lr.Header.Get("ETag") == "" || lr.Header.Get("Last-Modified") == "" {
		t.Fatalf("read List: %v", lr)
	}
	dump(t, "list.json", lr)
	l := decode[fhirapi.List](t, lr)
	checkMinimalSubmissionSet(t, &l)
	if l.ID != id || len(l.Entry) != 1 || l.Entry[0].Item.Reference != "DocumentReference/"+d.Header.ID ||
		l.Subject == nil || l.Subject.Identifier == nil || l.Subject.Identifier.Value != d.Header.Client.ID.Extension || !strings.HasPrefix(l.Subject.Reference, "Patient/") ||
		!slices.Equal(l.Identifier, sentList.Identifier) || l.Date != sentList.Date || l.Source == nil || l.Source.Identifier.Value != testProfessional {
		t.Errorf("the List read back: %s\nsent: %+v", lr.Body, sentList)
	}
	if nm := c.request(http.MethodGet, "/fhir/List/"+id, nil, map[string]string{"If-None-Match": lr.Header.Get("ETag")}); nm.Status != http.StatusNotModified {
		t.Errorf("If-None-Match of the List's ETag: %v", nm)
	}

	// A List without what the profile requires is kept, and claims nothing.
	// (A correction of the first document: the same client.)
	h2, x2 := e.replacement(d, d.Header.ID+".2", nil)
	sub := provideBundle(t, part{xml: x2, ref: fullRef(h2)})
	id2 := listEntry(t, c.post("/fhir", sub.body), sub.list, "201 Created")
	if l2 := decode[fhirapi.List](t, c.get("/fhir/List/"+id2)); l2.Meta == nil || len(l2.Meta.Profile) != 0 || len(l2.Entry) != 1 {
		t.Errorf("a List without a uniqueId or source id: %+v", l2)
	}
	// The correction superseded the first List's document: that List
	// changed as the caller sees it, and a conditional read says so.
	changed := c.request(http.MethodGet, "/fhir/List/"+id, nil, map[string]string{"If-None-Match": lr.Header.Get("ETag")})
	cl := decode[fhirapi.List](t, changed)
	before, _ := time.Parse(time.RFC3339Nano, l.Meta.LastUpdated)
	after, err := time.Parse(time.RFC3339Nano, cl.Meta.LastUpdated)
	if changed.Status != http.StatusOK || changed.Header.Get("ETag") == lr.Header.Get("ETag") || err != nil || !after.After(before) {
		t.Errorf("the List after its document was superseded: %v (meta %+v, before %+v)", changed, cl.Meta, l.Meta)
	}

	// ITI-66: the client's Lists, by identifier or Patient, GET or POST.
	find := func(query string) fhirapi.Bundle {
		t.Helper()
		r := c.get("/fhir/List?" + query)
		if r.Status != http.StatusOK {
			t.Fatalf("find %s: %v", query, r)
		}
		return decode[fhirapi.Bundle](t, r)
	}
	lists := func(b fhirapi.Bundle) []string {
		var out []string
		for _, en := range b.Entry {
			if en.Search != nil && en.Search.Mode == "match" {
				var l fhirapi.List
				if err := json.Unmarshal(en.Resource, &l); err != nil {
					t.Fatal(err)
				}
				out = append(out, l.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	q := url.Values{"patient.identifier": {client}, "code": {"submissionset"}, "status": {"current"}}
	mine := []string{id, id2}
	slices.Sort(mine)
	sr := c.get("/fhir/List?" + q.Encode())
	dump(t, "list-searchset-bundle.json", sr)
	if got := lists(decode[fhirapi.Bundle](t, sr)); !slices.Equal(got, mine) {
		t.Errorf("ITI-66 found %v, want %v", got, mine)
	}
	patient := strings.TrimPrefix(l.Subject.Reference, "Patient/")
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"patient", "patient=Patient/" + patient + "&code=submissionset", mine},
		{"uniqueId", "patient.identifier=" + url.QueryEscape(client) + "&identifier=" + url.QueryEscape(fhirapi.SystemURI+"|"+sentList.Identifier[0].Value), []string{id}},
		{"entryUUID", "patient.identifier=" + url.QueryEscape(client) + "&identifier=" + url.QueryEscape(sentList.Identifier[1].Value), []string{id}},
		{"sourceId", "patient.identifier=" + url.QueryEscape(client) + "&sourceId=" + url.QueryEscape(oidURN(d.Header.Custodian.OID)), []string{id}},
		{"date", "patient.identifier=" + url.QueryEscape(client) + "&date=ge2000-01-01&date=le2100-01-01", mine},
		{"date later", "patient.identifier=" + url.QueryEscape(client) + "&date=ge2100-01-01", nil},
		{"source.family", "patient.identifier=" + url.QueryEscape(client) + "&source.family=k%C3%A4ytt", mine},
		{"source.given other", "patient.identifier=" + url.QueryEscape(client) + "&source.given=Matti", nil},
		{"folder", "patient.identifier=" + url.QueryEscape(client) + "&code=folder", nil},
		{"superseded", "patient.identifier=" + url.QueryEscape(client) + "&status=superseded", nil},
	} {
		b := find(tc.query)
		if got := lists(b); !slices.Equal(got, tc.want) || b.Total == nil || *b.Total != len(tc.want) {
			t.Errorf("%s: found %v (total %v), want %v", tc.name, got, b.Total, tc.want)
		}
	}
	form := url.Values{"patient.identifier": {client}, "code": {"submissionset"}}
	pr := c.request(http.MethodPost, "/fhir/List/_search", []byte(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if pr.Status != http.StatusOK || !slices.Equal(lists(decode[fhirapi.Bundle](t, pr)), mine) {
		t.Errorf("POST _search: %v", pr)
	}
	if cr := find("patient.identifier=" + url.QueryEscape(client) + "&_summary=count"); cr.Total == nil || *cr.Total != len(mine) || len(cr.Entry) != 0 {
		t.Errorf("_summary=count: %+v", cr)
	}
	// Paging: one a page, joined up.
	var paged []string
	next := "/fhir/List?patient.identifier=" + url.QueryEscape(client) + "&_count=1"
	for range 3 {
		b := decode[fhirapi.Bundle](t, c.get(next))
		paged = append(paged, lists(b)...)
		next = ""
		for _, ln := range b.Link {
			if ln.Relation == "next" {
				next = ln.URL
			}
		}
		if next == "" {
			break
		}
	}
	slices.Sort(paged)
	if !slices.Equal(paged, mine) {
		t.Errorf("paged %v, want %v", paged, mine)
	}
	expectOO(t, c.get("/fhir/List?patient.identifier="+url.QueryEscape(client)+"&code=folder2"), http.StatusBadRequest, "value", "code", fhirapi.RuleQueryCode)
	expectOO(t, c.get("/fhir/List?code=submissionset"), http.StatusBadRequest, "value", "patient.identifier", fhirapi.RuleQueryClient)
	expectOO(t, c.get("/fhir/List?patient.identifier="+url.QueryEscape(client)+"&emptyReason=x"), http.StatusBadRequest, "value", "emptyReason", fhirapi.RuleQueryParam)
	if lb := decode[fhirapi.Bundle](t, c.request(http.MethodGet, "/fhir/List?patient.identifier="+url.QueryEscape(client)+"&emptyReason=x", nil, map[string]string{"Prefer": "handling=lenient"})); len(lists(lb)) != len(mine) || lb.Entry[len(lb.Entry)-1].Search.Mode != "outcome" {
		t.Errorf("lenient: %+v", lb)
	}

	// A submission about two clients is kept as one List per client; the
	// entry names the first and says where the other is.
	var oc *gen.Doc
	for range 40 {
		if n := e.nextOf(org); clientParam(n.Header) != client {
			oc = n
			break
		}
	}
	if oc == nil {
		t.Fatal("no document of another client generated")
	}
	d4 := e.nextOf(org)
	for clientParam(d4.Header) != client {
		d4 = e.nextOf(org)
	}
	two := provideBundle(t, part{xml: d4.XML}, part{xml: oc.XML})
	tr := c.post("/fhir", two.body)
	first := listEntry(t, tr, two.list, "201 Created")
	out := decode[fhirapi.Bundle](t, tr).Entry[two.list].Response.Outcome
	var oo fhirapi.OperationOutcome
	if err := json.Unmarshal(out, &oo); err != nil || len(oo.Issue) != 1 || oo.Issue[0].Severity != "information" {
		t.Fatalf("the List entry of a submission about two clients: outcome %s", out)
	}
	second, _, _ := strings.Cut(strings.TrimPrefix(oo.Issue[0].Diagnostics[strings.LastIndex(oo.Issue[0].Diagnostics, "List/"):], "List/"), ",")
	if l1, l2 := decode[fhirapi.List](t, c.get("/fhir/List/"+first)), decode[fhirapi.List](t, c.get("/fhir/List/"+second)); len(l1.Entry) != 1 || len(l2.Entry) != 1 ||
		l1.Entry[0].Item.Reference != "DocumentReference/"+d4.Header.ID || l2.Entry[0].Item.Reference != "DocumentReference/"+oc.Header.ID ||
		l2.Subject.Identifier.Value != oc.Header.Client.ID.Extension {
		t.Errorf("the Lists of a submission about two clients: %+v, %+v", l1, l2)
	}

	// Another organisation without a right to the client's documents: the
	// List does not exist for it, exactly as one the archive never gave,
	// and the attempt is in the first organisation's log.
	c2 := e.as(other)
	missing := strings.Repeat("a", 32)
	got, want := c2.get("/fhir/List/"+id), c2.get("/fhir/List/"+missing)
	if got.Status != http.StatusNotFound || strings.ReplaceAll(string(got.Body), id, "ID") != strings.ReplaceAll(string(want.Body), missing, "ID") {
		t.Errorf("another organisation reads the List: %v; one that does not exist: %v", got, want)
	}
	if b := decode[fhirapi.Bundle](t, c2.get("/fhir/List?patient.identifier="+url.QueryEscape(client))); len(lists(b)) != 0 || *b.Total != 0 {
		t.Errorf("another organisation finds the client's Lists: %+v", b)
	}
	expectOO(t, c2.get("/fhir/List/"+client), http.StatusNotFound, "not-found", "id", "")
	var refused, read, searched bool
	for _, en := range e.logAbout(archive.ClientKey(d.Header.Client.ID)) {
		switch {
		case en.Details == "submission set "+id && en.Outcome == archive.OutcomeRefused && en.Caller.Organisation == other.ControllerOID():
			refused = en.Custodian == org.ControllerOID()
		case en.Details == "submission set "+id && en.Outcome == archive.OutcomeAllowed && en.Action == archive.ActionRead:
			read = slices.Equal(en.Documents, []string{d.Header.ID})
		case strings.HasPrefix(en.Details, "submission sets ") && en.Action == archive.ActionSearch && en.Caller.Organisation == org.ControllerOID():
			searched = true
		}
	}
	if !refused || !read || !searched {
		t.Errorf("access log: the refused read for the controller %v, the read %v, a search %v", refused, read, searched)
	}

	// The List's metadata is checked, and a bad one archives nothing.
	d3 := e.nextOf(org)
	badList := func(mutate func(l map[string]any)) []byte {
		b, err := fhirapi.SubmissionBundle(d3.XML)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		mutate(m["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any))
		out, _ := json.Marshal(m)
		return out
	}
	for _, tc := range []struct {
		name       string
		mutate     func(l map[string]any)
		status     int
		code, expr string
	}{
		{"a Folder", func(l map[string]any) {
			l["code"] = map[string]any{"coding": []any{map[string]any{"system": fhirapi.SystemListTypes, "code": "folder"}}}
		}, http.StatusUnprocessableEntity, "not-supported", "Bundle.entry[0].resource.code"},
		{"a date without zone", func(l map[string]any) { l["date"] = "2026-03-01T10:00:00" }, http.StatusUnprocessableEntity, "value", "Bundle.entry[0].resource.date"},
		{"another client", func(l map[string]any) {
			l["subject"] = map[string]any{"identifier": map[string]any{"system": "urn:oid:1.2.246.21", "value": "010101-123N"}}
		}, http.StatusUnprocessableEntity, "business-rule", "Bundle.entry[0].resource.subject.identifier"},
		{"a uniqueId with a space", func(l map[string]any) {
			l["identifier"] = []any{map[string]any{"use": "usual", "value": "urn:oid:1.2 3"}}
		}, http.StatusUnprocessableEntity, "value", "Bundle.entry[0].resource.identifier"},
	} {
		r := c.post("/fhir", badList(tc.mutate))
		expectOO(t, r, tc.status, tc.code, tc.expr, "")
		if g := c.get("/fhir/DocumentReference/" + d3.Header.ID); g.Status != http.StatusNotFound {
			t.Errorf("%s: the document was archived: %v", tc.name, g)
		}
	}

	// The CapabilityStatement lists ITI-66's parameters.
	var cs struct {
		Rest []struct {
			Resource []struct {
				Type        string `json:"type"`
				SearchParam []struct {
					Name, Type string
				} `json:"searchParam"`
			} `json:"resource"`
		} `json:"rest"`
	}
	if err := json.Unmarshal(c.get("/fhir/metadata").Body, &cs); err != nil {
		t.Fatal(err)
	}
	params := map[string]string{}
	for _, res := range cs.Rest[0].Resource {
		if res.Type == "List" {
			for _, p := range res.SearchParam {
				params[p.Name] = p.Type
			}
		}
	}
	for name, typ := range map[string]string{"patient": "reference", "patient.identifier": "token", "code": "token", "status": "token", "date": "date",
		"identifier": "token", "sourceId": "token", "designationType": "token", "source.given": "string", "source.family": "string"} {
		if params[name] != typ {
			t.Errorf("List search parameter %s: %q, want %q", name, params[name], typ)
		}
	}
}

// checkMinimalSubmissionSet checks the constraints of MHD 4.2's
// IHE.MHD.Minimal.SubmissionSet that a List claiming it must meet (the
// profile package cannot be downloaded here): extension ihe-sourceId 1..1,
// identifier 2..* (uniqueId usual, an OID; entryUUID official, a UUID), mode working,
// code submissionset, date 1..1, subject only Reference(Patient), entry.item
// only Reference(DocumentReference).
func checkMinimalSubmissionSet(t *testing.T, l *fhirapi.List) {
	t.Helper()
	if l.Meta == nil || !slices.Contains(l.Meta.Profile, fhirapi.ProfileMinimalSubmissionSet) {
		t.Errorf("the List does not claim %s: %+v", fhirapi.ProfileMinimalSubmissionSet, l.Meta)
	}
	sources := 0
	for _, x := range l.Extension {
		if x.URL == fhirapi.ExtensionSourceID && x.ValueIdentifier != nil && x.ValueIdentifier.Value != "" {
			sources++
		}
	}
	uses := map[string]int{}
	for _, id := range l.Identifier {
		uses[id.Use]++
	}
	if sources != 1 || uses["official"] != 1 || uses["usual"] != 1 || l.Mode != "working" || l.Status != "current" ||
		l.Code == nil || len(l.Code.Coding) != 1 || l.Code.Coding[0].System != fhirapi.SystemListTypes || l.Code.Coding[0].Code != "submissionset" ||
		l.Date == "" || l.Subject == nil || !strings.HasPrefix(l.Subject.Reference, "Patient/") {
		t.Errorf("the List breaks IHE.MHD.Minimal.SubmissionSet: %+v", l)
	}
	for _, en := range l.Entry {
		if !strings.HasPrefix(en.Item.Reference, "DocumentReference/") {
			t.Errorf("a List entry is not a DocumentReference: %+v", en)
		}
	}
}
