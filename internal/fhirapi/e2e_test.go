package fhirapi_test

// The FHIR door end to end: a real HTTPS server with mutual TLS over a
// SQLite store, called by real clients with fresh tokens. Set
// ARKISTO_FHIR_DUMP=<dir> to have the suite write real response bodies
// there for an independent FHIR validator.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/archive/archivetest"
	"github.com/arkisto/arkisto/internal/auth"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/fitime"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
)

func clientParam(h *cda.Header) string {
	return oidURN(h.Client.ID.Root) + "|" + h.Client.ID.Extension
}

// 1. ITI-65 Provide Document Bundle.
func testProvideDocumentBundle(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)

	d := e.nextOf(org)
	sub := provideBundle(t, part{xml: d.XML, ref: fullRef(d.Header)})
	r := c.post("/fhir", sub.body)
	if r.Status != http.StatusOK {
		t.Fatalf("provide: %v", r)
	}
	dump(t, "transaction-response-bundle.json", r)
	b := decode[fhirapi.Bundle](t, r)
	if b.ResourceType != "Bundle" || b.Type != "transaction-response" || len(b.Entry) != 3 || b.Timestamp == "" {
		t.Fatalf("response bundle: %s", r.Body)
	}
	sum := sha256Hex(d.XML)
	if lr := b.Entry[sub.list].Response; lr == nil || lr.Status != "201 Created" || !strings.HasPrefix(lr.Location, "List/") {
		t.Errorf("List entry response %+v", lr)
	}
	if rr := b.Entry[sub.refs[0]].Response; rr == nil || rr.Status != "201 Created" || rr.Location != "DocumentReference/"+d.Header.ID || rr.Etag != `W/"`+sum+`"` || rr.LastModified == "" {
		t.Errorf("DocumentReference entry response %+v", rr)
	}
	if br := b.Entry[sub.bins[0]].Response; br == nil || br.Status != "201 Created" || br.Location != "Binary/"+d.Header.ID || br.Etag != `"`+sum+`"` {
		t.Errorf("Binary entry response %+v", br)
	}
	got := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+d.Header.ID))
	if got.ID != d.Header.ID || got.Status != "current" || got.Subject.Identifier.Value != d.Header.Client.ID.Extension {
		t.Errorf("archived DocumentReference %+v", got)
	}

	// The same bytes again: 200 OK entries, nothing new.
	again := provideBundle(t, part{xml: d.XML, ref: fullRef(d.Header)})
	r = c.post("/fhir", again.body)
	b = decode[fhirapi.Bundle](t, r)
	if r.Status != http.StatusOK || b.Entry[again.refs[0]].Response.Status != "200 OK" || b.Entry[again.bins[0]].Response.Status != "200 OK" ||
		b.Entry[again.refs[0]].Response.Location != "DocumentReference/"+d.Header.ID {
		t.Errorf("re-submission: %v", r)
	}
	if n := len(docRefs(t, decode[fhirapi.Bundle](t, c.get("/fhir/DocumentReference?patient.identifier="+url.QueryEscape(clientParam(d.Header)))))); n != 1 {
		t.Errorf("after a re-submission the client has %d documents, want 1", n)
	}

	// Minimal metadata: a DocumentReference with only its content.
	m := e.nextOf(org)
	msub := provideBundle(t, part{xml: m.XML})
	r = c.post("/fhir", msub.body)
	b = decode[fhirapi.Bundle](t, r)
	if r.Status != http.StatusOK || b.Entry[msub.refs[0]].Response.Status != "201 Created" || b.Entry[msub.refs[0]].Response.Location != "DocumentReference/"+m.Header.ID {
		t.Fatalf("minimal metadata: %v", r)
	}
	mref := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+m.Header.ID))
	if mref.Subject == nil || mref.Subject.Identifier.Value != m.Header.Client.ID.Extension || mref.Custodian.Identifier.Value != oidURN(org.ControllerOID()) {
		t.Errorf("minimal metadata: the DocumentReference is not filled from the CDA: %+v", mref)
	}
}

// 1. All or nothing: one bad document refuses the whole submission.
func testProvideAllOrNothing(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	d1, d2 := e.nextOf(org), e.nextOf(org)
	notStored := func(what string, ds ...*gen.Doc) {
		t.Helper()
		for _, d := range ds {
			r := c.get("/fhir/DocumentReference/" + d.Header.ID)
			if r.Status != http.StatusNotFound {
				t.Errorf("%s: document %s was stored: %v", what, d.Header.ID, r)
			}
		}
	}

	// The second document is not valid CDA for the archive.
	bad := bytes.Replace(d2.XML, []byte(`<realmCode code="FI"/>`), []byte(`<realmCode code="SE"/>`), 1)
	if bytes.Equal(bad, d2.XML) {
		t.Fatal("could not spoil the document")
	}
	sub := provideBundle(t, part{xml: d1.XML, ref: fullRef(d1.Header)}, part{xml: bad, ref: fullRef(d2.Header)})
	r := c.post("/fhir", sub.body)
	dump(t, "operationoutcome-422.json", r)
	expectOO(t, r, http.StatusUnprocessableEntity, "value", fmt.Sprintf("Bundle.entry[%d].resource.data", sub.bins[1]), cda.RuleFixed)
	notStored("invalid second document", d1, d2)

	// The second DocumentReference disagrees with its document.
	ref := fullRef(d2.Header)
	ref.Subject.Identifier.Value = d1.Header.Client.ID.Extension
	if d1.Header.Client.ID == d2.Header.Client.ID {
		ref.Subject.Identifier.Value = "010101-123N"
	}
	sub = provideBundle(t, part{xml: d1.XML, ref: fullRef(d1.Header)}, part{xml: d2.XML, ref: ref})
	expectOO(t, c.post("/fhir", sub.body), http.StatusUnprocessableEntity, "business-rule", fmt.Sprintf("Bundle.entry[%d].resource.subject.identifier", sub.refs[1]), "")
	notStored("metadata disagreement", d1, d2)

	// The second document belongs to another organisation's register.
	foreign := e.nextOf(e.world.Organisations[1])
	sub = provideBundle(t, part{xml: d1.XML, ref: fullRef(d1.Header)}, part{xml: foreign.XML, ref: fullRef(foreign.Header)})
	expectOO(t, c.post("/fhir", sub.body), http.StatusForbidden, "forbidden", fmt.Sprintf("Bundle.entry[%d].resource", sub.refs[1]), "ACCESS_DENIED")
	notStored("foreign document", d1)

	// Both good: both created.
	sub = provideBundle(t, part{xml: d1.XML, ref: fullRef(d1.Header)}, part{xml: d2.XML, ref: fullRef(d2.Header)})
	r = c.post("/fhir", sub.body)
	b := decode[fhirapi.Bundle](t, r)
	if r.Status != http.StatusOK {
		t.Fatalf("valid two-document submission: %v", r)
	}
	for i, d := range []*gen.Doc{d1, d2} {
		if rr := b.Entry[sub.refs[i]].Response; rr.Status != "201 Created" || rr.Location != "DocumentReference/"+d.Header.ID {
			t.Errorf("document %d: %+v", i, rr)
		}
	}
}

// 2. ITI-67 Find Document References: every search parameter.
func testFindDocumentReferences(t *testing.T) {
	e := newEnvWith(t, envOptions{gen: gen.Options{Clients: 3, ReplaceEvery: 4}})
	org, other := e.world.Organisations[0], e.world.Organisations[1]
	c := e.as(org)
	callers := map[*gen.Organisation]*caller{org: c, other: e.as(other)}
	var docs []*gen.Doc
	for i := 0; i < 24; i++ {
		d := e.next()
		callers[d.Org].archive(d)
		docs = append(docs, d)
	}
	superseded := map[string]bool{}
	for _, d := range docs {
		if p := d.Header.Replaces; p != nil {
			superseded[p.ID] = true
		}
	}
	// The org's client with the most documents.
	byClient := map[string][]*cda.Header{}
	for _, d := range docs {
		if d.Org == org {
			byClient[clientParam(d.Header)] = append(byClient[clientParam(d.Header)], d.Header)
		}
	}
	var client string
	for k, hs := range byClient {
		if len(hs) > len(byClient[client]) || (len(hs) == len(byClient[client]) && k < client) {
			client = k
		}
	}
	hs := byClient[client]
	if len(hs) < 6 || len(superseded) == 0 {
		t.Fatalf("generated too little: %d documents for the client, %d replacements", len(hs), len(superseded))
	}
	var plan *cda.Header // a client document with a case, preferring a replacement's case
	for _, h := range hs {
		if h.Case.Opened != nil && (plan == nil || h.Replaces != nil) {
			plan = h
		}
	}
	var rel *cda.Header
	for _, h := range hs {
		if h.DocumentGroup.Code == codes.GroupClientRelationship {
			rel = h
		}
	}
	if plan == nil || rel == nil {
		t.Fatal("no client document or client relationship document generated")
	}
	sorted := newestFirst(hs)
	var pivot *cda.Header
	for _, h := range hs {
		if h.ID == sorted[len(sorted)/2] {
			pivot = h
		}
	}
	day := pivot.EffectiveTime.In(fitime.Location).Format("2006-01-02")
	lo, hi := pivot.EffectiveTime.AddDate(0, -3, 0), pivot.EffectiveTime.AddDate(0, 3, 0)
	periodBound := plan.Case.Opened.Add(time.Second)
	ts := func(x time.Time) string { return x.Format(time.RFC3339) }

	all := func(*cda.Header) bool { return true }
	none := func(*cda.Header) bool { return false }
	tests := []struct {
		name   string
		params string
		pred   func(h *cda.Header) bool
	}{
		{"client only", "", all},
		{"status current", "status=current", func(h *cda.Header) bool { return !superseded[h.ID] }},
		{"status superseded", "status=superseded", func(h *cda.Header) bool { return superseded[h.ID] }},
		{"status current or superseded", "status=current,superseded", all},
		{"status entered-in-error", "status=entered-in-error", none},
		// The document's time is creation (date is when the reference was
		// made: testMHDDocumentReference).
		{"creation ge", "creation=ge" + url.QueryEscape(ts(pivot.EffectiveTime)), func(h *cda.Header) bool { return !h.EffectiveTime.Before(pivot.EffectiveTime) }},
		{"creation lt", "creation=lt" + url.QueryEscape(ts(pivot.EffectiveTime)), func(h *cda.Header) bool { return h.EffectiveTime.Before(pivot.EffectiveTime) }},
		{"creation range", "creation=ge" + url.QueryEscape(ts(lo)) + "&creation=lt" + url.QueryEscape(ts(hi)), func(h *cda.Header) bool {
			return !h.EffectiveTime.Before(lo) && h.EffectiveTime.Before(hi)
		}},
		{"creation day", "creation=" + day, func(h *cda.Header) bool { return h.EffectiveTime.In(fitime.Location).Format("2006-01-02") == day }},
		{"period ge", "period=ge2000-01-01", func(h *cda.Header) bool { return h.Case.Opened != nil }},
		{"period lt", "period=lt" + url.QueryEscape(ts(periodBound)), func(h *cda.Header) bool { return h.Case.Opened != nil && h.Case.Opened.Before(periodBound) }},
		{"type specific", "type=" + url.QueryEscape(oidURN(codes.OIDDocumentType)+"|15007"), func(h *cda.Header) bool { return h.SpecificType.Code == "15007" }},
		{"type client relationship document", "type=" + url.QueryEscape(oidURN(codes.OIDDocumentGroup)+"|1"), func(h *cda.Header) bool { return h.DocumentGroup.Code == "1" }},
		{"category general type", "category=" + url.QueryEscape(oidURN(codes.OIDDocumentType)+"|15"), func(h *cda.Header) bool { return h.GeneralType.Code == "15" }},
		{"category document group", "category=" + url.QueryEscape(oidURN(codes.OIDDocumentGroup)+"|1"), func(h *cda.Header) bool { return h.DocumentGroup.Code == "1" }},
		{"event", "event=" + url.QueryEscape(oidURN(codes.OIDServiceTask)+"|24"), func(h *cda.Header) bool { return h.ServiceTask.Code == "24" }},
		{"event none", "event=" + url.QueryEscape(oidURN(codes.OIDServiceTask)+"|99"), none},
		{"setting", "setting=" + url.QueryEscape(oidURN(codes.OIDServiceProcess)+"|3"), func(h *cda.Header) bool { return h.ServiceProcess != nil && h.ServiceProcess.Code.Code == "3" }},
		{"related", "related=" + url.QueryEscape(oidURN(plan.Case.ID)), func(h *cda.Header) bool { return h.Case.ID == plan.Case.ID }},
		{"facility", "facility=" + url.QueryEscape(fhirapi.SystemServiceUnit+"|"+plan.Case.ServiceUnit.OID), func(h *cda.Header) bool {
			return h.Case.ServiceUnit.OID == plan.Case.ServiceUnit.OID
		}},
		{"facility other unit", "facility=" + url.QueryEscape(fhirapi.SystemServiceUnit+"|"+org.OID+".10.3"), none},
		{"register", "register=" + url.QueryEscape(oidURN(codes.OIDRegister)+"|1"), func(h *cda.Header) bool { return h.Register.Code == "1" }},
		{"document-group", "document-group=" + url.QueryEscape(oidURN(codes.OIDDocumentGroup)+"|5"), func(h *cda.Header) bool { return h.DocumentGroup.Code == "5" }},
		{"client-relationship", "client-relationship=" + url.QueryEscape(oidURN(rel.ClientRelationshipID)), func(h *cda.Header) bool {
			return h.ClientRelationshipID == rel.ClientRelationshipID
		}},
		{"custodian", "custodian=" + url.QueryEscape(oidURN(org.ControllerOID())), all},
		{"custodian other", "custodian=" + url.QueryEscape(oidURN(other.ControllerOID())), none},
		{"combined", "category=" + url.QueryEscape(oidURN(codes.OIDDocumentType)+"|15") + "&related=" + url.QueryEscape(oidURN(plan.Case.ID)) + "&status=current", func(h *cda.Header) bool {
			return h.GeneralType.Code == "15" && h.Case.ID == plan.Case.ID && !superseded[h.ID]
		}},
	}
	base := "/fhir/DocumentReference?patient.identifier=" + url.QueryEscape(client)
	nonEmpty := 0
	for _, tt := range tests {
		path := base
		if tt.params != "" {
			path += "&" + tt.params
		}
		r := c.get(path)
		if r.Status != http.StatusOK {
			t.Errorf("%s: %v", tt.name, r)
			continue
		}
		if tt.name == "client only" {
			dump(t, "searchset-bundle.json", r)
		}
		b := decode[fhirapi.Bundle](t, r)
		if b.Type != "searchset" || !strings.HasPrefix(link(b, "self"), e.run.BaseURL+"/DocumentReference?") || link(b, "next") != "" {
			t.Errorf("%s: bundle type %q links %+v", tt.name, b.Type, b.Link)
		}
		refs := docRefs(t, b)
		var want []*cda.Header
		for _, h := range hs {
			if tt.pred(h) {
				want = append(want, h)
			}
		}
		if got, exp := ids(refs), newestFirst(want); !slices.Equal(got, exp) {
			t.Errorf("%s: got %v, want %v", tt.name, got, exp)
		}
		if len(want) > 0 {
			nonEmpty++
		}
		for _, ref := range refs {
			status := "current"
			if superseded[ref.ID] {
				status = "superseded"
			}
			if ref.Status != status || ref.Subject == nil || oidURN(hs[0].Client.ID.Root)+"|"+ref.Subject.Identifier.Value != client {
				t.Errorf("%s: %s: status %s (want %s), subject %+v", tt.name, ref.ID, ref.Status, status, ref.Subject)
			}
		}
	}
	if nonEmpty < 15 {
		t.Errorf("only %d of %d searches found anything: the data does not discriminate", nonEmpty, len(tests))
	}

	// A client document's DocumentReference carries the header's metadata.
	r := c.get(base + "&related=" + url.QueryEscape(oidURN(plan.Case.ID)))
	for _, ref := range docRefs(t, decode[fhirapi.Bundle](t, r)) {
		if ref.ID != plan.ID {
			continue
		}
		cx := ref.Context
		if ref.Type.Coding[0].Code != plan.SpecificType.Code || ref.Date == "" || cx == nil || len(cx.Event) != 1 || cx.Event[0].Coding[0].Code != plan.ServiceTask.Code ||
			cx.FacilityType == nil || cx.FacilityType.Coding[0].Code != plan.Case.ServiceUnit.OID || cx.PracticeSetting == nil ||
			cx.Period == nil || cx.Period.Start == "" || len(cx.Related) == 0 || cx.Related[0].Identifier.Value != oidURN(plan.Case.ID) {
			t.Errorf("client document metadata: %+v, context %+v", ref, cx)
		}
		// The document's own time is attachment.creation; date is when the
		// reference was made (FHIR R4).
		if dt, err := time.Parse(time.RFC3339Nano, ref.Content[0].Attachment.Creation); err != nil || !dt.Equal(plan.EffectiveTime) {
			t.Errorf("attachment.creation %q, want %v", ref.Content[0].Attachment.Creation, plan.EffectiveTime)
		}
	}

	// Another organisation sees none of them.
	if refs := docRefs(t, decode[fhirapi.Bundle](t, callers[other].get(base))); len(refs) != 0 {
		t.Errorf("another organisation found %d documents", len(refs))
	}

	// Paging through next links: every document exactly once, newest first.
	var paged []string
	next := base + "&_count=3"
	pages := 0
	for next != "" {
		if pages++; pages > len(hs) {
			t.Fatal("paging does not end")
		}
		b := decode[fhirapi.Bundle](t, c.get(next))
		refs := docRefs(t, b)
		if len(refs) > 3 || len(refs) == 0 {
			t.Fatalf("page %d has %d entries", pages, len(refs))
		}
		paged = append(paged, ids(refs)...)
		next = link(b, "next")
		if next != "" && (!strings.HasPrefix(next, e.run.BaseURL+"/DocumentReference?") || !strings.Contains(next, "_cursor=") || !strings.Contains(next, "_count=3")) {
			t.Fatalf("next link %q", next)
		}
	}
	if !slices.Equal(paged, sorted) {
		t.Errorf("paged %v, want %v", paged, sorted)
	}
	if want := (len(hs) + 2) / 3; pages != want {
		t.Errorf("%d pages, want %d", pages, want)
	}

	// Bad requests name the parameter.
	oo := expectOO(t, c.get(base+"&colour=blue"), http.StatusBadRequest, "value", "colour", fhirapi.RuleQueryParam)
	if !strings.Contains(oo.Issue[0].Diagnostics, "colour") {
		t.Errorf("unknown parameter diagnostics %q", oo.Issue[0].Diagnostics)
	}
	_, ext, _ := strings.Cut(client, "|")
	wrong := ext[:len(ext)-1] + "X"
	if ext[len(ext)-1] == 'X' {
		wrong = ext[:len(ext)-1] + "Y"
	}
	expectOO(t, c.get("/fhir/DocumentReference?patient.identifier="+url.QueryEscape(fhirapi.SystemIdentityCode+"|"+wrong)), http.StatusBadRequest, "value", "patient.identifier", fhirapi.RuleQueryClient)
	expectOO(t, c.get("/fhir/DocumentReference?status=current"), http.StatusBadRequest, "value", "patient.identifier", fhirapi.RuleQueryClient)
	expectOO(t, c.get(base+"&status=draft"), http.StatusBadRequest, "value", "status", fhirapi.RuleQueryStatus)
	expectOO(t, c.get(base+"&date=yesterday"), http.StatusBadRequest, "value", "date", fhirapi.RuleQueryDate)
	expectOO(t, c.get(base+"&_count=501"), http.StatusBadRequest, "value", "_count", fhirapi.RuleQueryCount) // _count=0 is a count: mhd_e2e_test.go
	expectOO(t, c.get(base+"&_cursor=bogus"), http.StatusBadRequest, "value", "_cursor", fhirapi.RuleQueryCursor)
	expectOO(t, c.get(base+"&event="+url.QueryEscape("urn:oid:1.2.3|24")), http.StatusBadRequest, "value", "event", fhirapi.RuleQueryCode)
}

// 3. ITI-68 Retrieve Document: the exact bytes.
func testRetrieveExactBytes(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)
	for d.Header.DocumentGroup.Code != codes.GroupLaterPhase {
		d = e.nextOf(org)
	}
	c.archive(d)
	r := c.get("/fhir/DocumentReference/" + d.Header.ID)
	if r.Status != http.StatusOK {
		t.Fatalf("read: %v", r)
	}
	dump(t, "documentreference.json", r)
	sum := sha256Hex(d.XML)
	ref := decode[fhirapi.DocumentReference](t, r)
	if et := r.Header.Get("ETag"); ref.Meta == nil || ref.Meta.VersionID == "" || et != `W/"`+ref.Meta.VersionID+`"` {
		t.Errorf("DocumentReference ETag %q, meta %+v", et, ref.Meta)
	}
	h := d.Header
	if ref.ResourceType != "DocumentReference" || ref.ID != h.ID || ref.MasterIdentifier.Value != oidURN(h.ID) || ref.Status != "current" || ref.DocStatus != "" ||
		ref.Subject.Identifier.System != fhirapi.SystemIdentityCode || ref.Subject.Identifier.Value != h.Client.ID.Extension ||
		ref.Custodian.Identifier.Value != oidURN(h.Custodian.OID) || ref.Type.Coding[0].Code != h.SpecificType.Code || len(ref.Category) != 1 || ref.Category[0].Coding[0].Code != h.GeneralType.Code ||
		len(ref.Author) != 1 || ref.Author[0].Identifier.Value != h.Author.ID.Extension {
		t.Errorf("DocumentReference %s", r.Body)
	}
	if len(ref.Content) != 1 {
		t.Fatalf("content %+v", ref.Content)
	}
	att := ref.Content[0].Attachment
	if att.URL != e.run.BaseURL+"/Binary/"+h.ID || att.ContentType != fhirapi.ContentCDA || att.Size == nil || *att.Size != int64(len(d.XML)) {
		t.Errorf("attachment %+v", att)
	}
	bin := c.get(att.URL)
	if bin.Status != http.StatusOK {
		t.Fatalf("retrieve: %v", bin)
	}
	if !bytes.Equal(bin.Body, d.XML) {
		t.Error("retrieved bytes differ from the submitted ones")
	}
	if ct := bin.Header.Get("Content-Type"); ct != fhirapi.ContentCDA {
		t.Errorf("Content-Type %q", ct)
	}
	if et := bin.Header.Get("ETag"); et != `"`+sum+`"` {
		t.Errorf("ETag %q, want %q", et, `"`+sum+`"`)
	}
	if cc := bin.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	expectOO(t, c.get("/fhir/Binary/"+h.ID+".999"), http.StatusNotFound, "not-found", "", "")
	expectOO(t, c.get("/fhir/Binary/not-an-oid"), http.StatusNotFound, "not-found", "id", "")
	expectOO(t, c.get("/fhir/DocumentReference/"+h.ID+".999"), http.StatusNotFound, "not-found", "", "")
}

// 4. Correction: a replacement version through ITI-65.
func testCorrection(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)
	for d.Header.DocumentGroup.Code != codes.GroupLaterPhase {
		d = e.nextOf(org)
	}
	c.archive(d)
	v1 := d.Header.ID
	h2, v2xml := e.replacement(d, v1+".2", nil)

	// relatesTo naming another version than the CDA replaces.
	ref := fullRef(h2)
	ref.RelatesTo[0].Target.Reference = "DocumentReference/" + v1 + ".77"
	sub := provideBundle(t, part{xml: v2xml, ref: ref})
	expectOO(t, c.post("/fhir", sub.body), http.StatusUnprocessableEntity, "business-rule", fmt.Sprintf("Bundle.entry[%d].resource.relatesTo", sub.refs[0]), "")
	// relatesTo on a document that replaces nothing.
	fresh := e.nextOf(org)
	ref = fullRef(fresh.Header)
	ref.RelatesTo = []fhirapi.DocumentReferenceRelatesTo{{Code: "replaces", Target: fhirapi.Reference{Reference: "DocumentReference/" + v1}}}
	sub = provideBundle(t, part{xml: fresh.XML, ref: ref})
	expectOO(t, c.post("/fhir", sub.body), http.StatusUnprocessableEntity, "business-rule", "relatesTo", "")
	if got := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+v1)); got.Status != "current" {
		t.Fatalf("a refused correction changed v1 to %s", got.Status)
	}

	// The correction.
	sub = provideBundle(t, part{xml: v2xml, ref: fullRef(h2)})
	r := c.post("/fhir", sub.body)
	b := decode[fhirapi.Bundle](t, r)
	if r.Status != http.StatusOK || b.Entry[sub.refs[0]].Response.Status != "201 Created" || b.Entry[sub.refs[0]].Response.Location != "DocumentReference/"+h2.ID {
		t.Fatalf("correction: %v", r)
	}
	old := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+v1))
	if old.Status != "superseded" {
		t.Errorf("v1 status %s, want superseded", old.Status)
	}
	cur := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+h2.ID))
	if cur.Status != "current" || len(cur.RelatesTo) != 1 || cur.RelatesTo[0].Code != "replaces" || cur.RelatesTo[0].Target.Reference != "DocumentReference/"+v1 {
		t.Errorf("v2 %+v", cur)
	}
	var version int
	var setID string
	for _, x := range cur.Extension {
		switch x.URL {
		case fhirapi.ExtVersion:
			version = *x.ValueInteger
		case fhirapi.ExtSetID:
			setID = x.ValueIdentifier.Value
		}
	}
	if version != 2 || setID != oidURN(d.Header.SetID) {
		t.Errorf("v2 version %d set %s", version, setID)
	}
	for _, id := range []string{v1, h2.ID} {
		r := c.get("/fhir/DocumentReference/" + id + "/$versions")
		vb := decode[fhirapi.Bundle](t, r)
		refs := docRefs(t, vb)
		if vb.Total == nil || *vb.Total != 2 || !slices.Equal(ids(refs), []string{v1, h2.ID}) || refs[0].Status != "superseded" || refs[1].Status != "current" {
			t.Errorf("$versions of %s: %s", id, r.Body)
		}
	}
	// Correcting the superseded version again is a conflict.
	h3, v3xml := e.replacement(d, v1+".3", nil)
	expectOO(t, c.post("/fhir", provideBundle(t, part{xml: v3xml, ref: fullRef(h3)}).body), http.StatusConflict, "conflict", "", "CONFLICT")
}

// 5. Concurrent corrections of one version: exactly one wins.
func testConcurrentCorrections(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)
	c.archive(d)
	const n = 8
	bodies := make([][]byte, n)
	tokens := make([]string, n)
	for i := range bodies {
		h, xml := e.replacement(d, fmt.Sprintf("%s.%d", d.Header.ID, 100+i), nil)
		bodies[i] = provideBundle(t, part{xml: xml, ref: fullRef(h)}).body
		tokens[i] = c.token()
	}
	results := make([]*resp, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			results[i], errs[i] = c.send(http.MethodPost, "/fhir", bodies[i], fhirapi.ContentFHIRJSON, "Bearer "+tokens[i])
		}(i)
	}
	close(start)
	wg.Wait()
	created, conflicts := 0, 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		switch r.Status {
		case http.StatusOK:
			b := decode[fhirapi.Bundle](t, r)
			if b.Entry[1].Response.Status == "201 Created" {
				created++
			}
		case http.StatusConflict:
			expectOO(t, r, http.StatusConflict, "conflict", "", "CONFLICT")
			conflicts++
		default:
			t.Errorf("request %d: %v", i, r)
		}
	}
	if created != 1 || conflicts != n-1 {
		t.Fatalf("%d created and %d conflicts, want 1 and %d", created, conflicts, n-1)
	}
	vb := decode[fhirapi.Bundle](t, c.get("/fhir/DocumentReference/"+d.Header.ID+"/$versions"))
	if refs := docRefs(t, vb); len(refs) != 2 || refs[0].Status != "superseded" || refs[1].Status != "current" {
		t.Errorf("versions after the race: %d", len(refs))
	}
}

func nullifyBody(code, text string) []byte {
	b, _ := json.Marshal(&fhirapi.Parameters{ResourceType: "Parameters", Parameter: []fhirapi.ParametersParameter{{
		Name: "reason", ValueCodeableConcept: &fhirapi.CodeableConcept{Coding: []fhirapi.Coding{{Code: code}}, Text: text},
	}}})
	return b
}

// 6. Nullification.
func testNullify(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)
	c.archive(d)
	id := d.Header.ID
	path := "/fhir/DocumentReference/" + id + "/$nullify"

	expectOO(t, c.post(path, nullifyBody("wrong-client", "")), http.StatusBadRequest, "required", "Parameters.parameter[0].valueCodeableConcept.text", "NULLIFY_REASON")
	expectOO(t, c.post(path, nullifyBody("", "Kirjattu väärälle asiakkaalle")), http.StatusBadRequest, "required", "coding[0].code", "NULLIFY_REASON")
	expectOO(t, c.post(path, []byte(`{"resourceType":"Parameters"}`)), http.StatusBadRequest, "required", "Parameters.parameter", "NULLIFY_REASON")
	expectOO(t, c.post(path, []byte(`{"resourceType":"Bundle"}`)), http.StatusBadRequest, "structure", "Parameters", "")
	expectOO(t, c.post("/fhir/DocumentReference/"+id+".999/$nullify", nullifyBody("x", "y")), http.StatusNotFound, "not-found", "", "")

	r := c.post(path, nullifyBody("wrong-client", "Kirjattu väärälle asiakkaalle"))
	if r.Status != http.StatusOK {
		t.Fatalf("$nullify: %v", r)
	}
	dump(t, "nullified-documentreference.json", r)
	ref := decode[fhirapi.DocumentReference](t, r)
	reason := ""
	for _, x := range ref.Extension {
		if x.URL == fhirapi.ExtNullification {
			reason = x.ValueString
		}
	}
	if ref.ID != id || ref.Status != "entered-in-error" || !strings.Contains(reason, "wrong-client") || !strings.Contains(reason, "väärälle") {
		t.Errorf("nullified: %s", r.Body)
	}
	if got := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+id)); got.Status != "entered-in-error" {
		t.Errorf("read after nullification: status %s", got.Status)
	}
	base := "/fhir/DocumentReference?patient.identifier=" + url.QueryEscape(clientParam(d.Header))
	if refs := docRefs(t, decode[fhirapi.Bundle](t, c.get(base))); slices.Contains(ids(refs), id) {
		t.Error("the default search returns a nullified document")
	}
	refs := docRefs(t, decode[fhirapi.Bundle](t, c.get(base+"&status=entered-in-error")))
	if !slices.Equal(ids(refs), []string{id}) || refs[0].Status != "entered-in-error" {
		t.Errorf("status=entered-in-error found %v", ids(refs))
	}
	expectOO(t, c.post(path, nullifyBody("wrong-client", "again")), http.StatusConflict, "conflict", "", "CONFLICT")
}

// 7. Authentication failures.
func testAuthFailures(t *testing.T) {
	logs := &archivetest.OperatorLog{}
	e := newEnvWith(t, envOptions{logs: logs})
	org := e.world.Organisations[0]
	w := e.world
	// Systems registered before the first request, so that the registry's
	// first snapshot holds them.
	revokable := issueClient(t, w.CA, org, "ats-e2e-revoked", time.Now().Add(-time.Hour), 24*time.Hour)
	e.register(org, "ats-e2e-revoked", revokable.Cert)
	expired := issueClient(t, w.CA, org, "ats-e2e-expired", time.Now().AddDate(-2, 0, 0), 365*24*time.Hour)
	e.register(org, "ats-e2e-expired", expired.Cert)
	otherCA, err := pki.NewCA("untrusted e2e CA", pki.P256, time.Now().Add(-time.Hour), 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	untrusted := issueClient(t, otherCA, org, "ats-e2e-untrusted", time.Now().Add(-time.Hour), 24*time.Hour)
	e.register(org, "ats-e2e-untrusted", untrusted.Cert)
	unregistered := issueClient(t, w.CA, org, "ats-e2e-unregistered", time.Now().Add(-time.Hour), 24*time.Hour)

	c := e.as(org)
	const path = tokenPath
	if r := c.get(path); r.Status != http.StatusOK {
		t.Fatalf("a good request: %v", r)
	}
	send := func(authz string) *resp {
		t.Helper()
		r, err := c.send(http.MethodGet, path, nil, "", authz)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	login := func(r *resp, expr, mention string) {
		t.Helper()
		oo := expectOO(t, r, http.StatusUnauthorized, "login", expr, "")
		if !strings.Contains(oo.Issue[0].Diagnostics, mention) {
			t.Errorf("diagnostics %q do not mention %q", oo.Issue[0].Diagnostics, mention)
		}
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
		}
	}
	claims := func(mod func(cl *auth.Claims)) string {
		cl := c.claims()
		mod(&cl)
		return "Bearer " + signClaims(t, c.key, cl)
	}
	now := time.Now()

	t.Run("no Authorization", func(t *testing.T) {
		r := send("")
		dump(t, "operationoutcome-401.json", r)
		login(r, "Authorization", "Authorization")
	})
	t.Run("not a bearer token", func(t *testing.T) {
		login(send("Basic dXNlcjpwYXNz"), "Authorization", "Bearer")
	})
	t.Run("scheme in lower case", func(t *testing.T) {
		if r := send("bearer " + c.token()); r.Status != http.StatusOK {
			t.Errorf("lower-case bearer scheme: %v", r)
		}
	})
	t.Run("unsigned", func(t *testing.T) {
		enc := base64.RawURLEncoding.EncodeToString
		payload, _ := json.Marshal(c.claims())
		login(send("Bearer "+enc([]byte(`{"alg":"none","typ":"JWT"}`))+"."+enc(payload)+"."), "token.alg", "ES256")
	})
	t.Run("not a JWS", func(t *testing.T) {
		login(send("Bearer abc"), "token", "JWS")
	})
	t.Run("expired", func(t *testing.T) {
		login(send(claims(func(cl *auth.Claims) {
			cl.Iat, cl.Exp = now.Add(-20*time.Minute).Unix(), now.Add(-12*time.Minute).Unix()
		})), "token.exp", "expired")
	})
	t.Run("lifetime over 10 minutes", func(t *testing.T) {
		login(send(claims(func(cl *auth.Claims) { cl.Iat, cl.Exp = now.Unix(), now.Add(11*time.Minute).Unix() })), "token.exp", "at most")
	})
	t.Run("forged", func(t *testing.T) {
		login(send("Bearer "+signClaims(t, newKey(t), c.claims())), "token.signature", "signature")
	})
	t.Run("another system's key", func(t *testing.T) {
		login(send("Bearer "+signClaims(t, w.Organisations[1].System.Key, c.claims())), "token.signature", "signature")
	})
	t.Run("replayed", func(t *testing.T) {
		tok := "Bearer " + c.token()
		if r := send(tok); r.Status != http.StatusOK {
			t.Fatalf("first use: %v", r)
		}
		login(send(tok), "token.jti", "jti")
	})
	t.Run("missing unit", func(t *testing.T) {
		login(send(claims(func(cl *auth.Claims) { cl.Unit = "" })), "token.unit", "missing")
	})
	t.Run("the archivist UI's purpose", func(t *testing.T) {
		login(send(claims(func(cl *auth.Claims) { cl.Purpose = archive.PurposeArchivist })), "token.purpose", "archivist UI")
	})
	t.Run("the citizen view's purpose", func(t *testing.T) {
		login(send(claims(func(cl *auth.Claims) { cl.Purpose = archive.PurposeCitizen })), "token.purpose", "citizen view")
	})
	t.Run("the guardian's purpose", func(t *testing.T) {
		login(send(claims(func(cl *auth.Claims) { cl.Purpose = archive.PurposeGuardian })), "token.purpose", "citizen view")
	})
	t.Run("missing sub", func(t *testing.T) {
		login(send(claims(func(cl *auth.Claims) { cl.Sub = "" })), "token.sub", "missing")
	})
	t.Run("issued before the server started", func(t *testing.T) {
		login(send(claims(func(cl *auth.Claims) { cl.Iat, cl.Exp = now.Add(-3*time.Minute).Unix(), now.Add(5*time.Minute).Unix() })), "token.iat", "before this server started")
	})
	t.Run("issued in the future", func(t *testing.T) {
		login(send(claims(func(cl *auth.Claims) { cl.Iat, cl.Exp = now.Add(5*time.Minute).Unix(), now.Add(10*time.Minute).Unix() })), "token.iat", "future")
	})

	handshakeFails := func(t *testing.T, id *pki.Identity) {
		t.Helper()
		cc := e.asIdentity(org, id)
		r, err := cc.send(http.MethodGet, path, nil, "", "Bearer "+cc.token())
		if err == nil {
			t.Fatalf("the server answered: %v", r)
		}
	}
	// The listener asks for a certificate without requiring one (the
	// citizen's door will take none): this door refuses the request itself,
	// and the refusal is in the operator's log.
	t.Run("no client certificate", func(t *testing.T) {
		cc := e.asIdentity(org, org.System)
		cc.client = e.httpClient(nil)
		r, err := cc.send(http.MethodGet, path, nil, "", "Bearer "+cc.token())
		if err != nil {
			t.Fatal(err)
		}
		login(r, "certificate", "client certificate")
		if !logs.Has("client certificate refused") {
			t.Errorf("the refusal is not in the operator's log: %q", logs.Messages(slog.LevelDebug))
		}
	})
	t.Run("untrusted CA", func(t *testing.T) { handshakeFails(t, untrusted) })
	t.Run("expired client certificate", func(t *testing.T) { handshakeFails(t, expired) })
	t.Run("trusted but unregistered", func(t *testing.T) {
		cc := e.asIdentity(org, unregistered)
		r, err := cc.send(http.MethodGet, path, nil, "", "Bearer "+cc.token())
		if err != nil {
			t.Fatal(err)
		}
		login(r, "certificate", "not registered")
	})
	t.Run("revoked system", func(t *testing.T) {
		cc := e.asIdentity(org, revokable)
		if r := cc.get(path); r.Status != http.StatusOK {
			t.Fatalf("before revocation: %v", r)
		}
		ctx := context.Background()
		if err := e.store.Update(ctx, func(tx archive.Tx) error { return tx.RevokeSystem(ctx, "ats-e2e-revoked", time.Now()) }); err != nil {
			t.Fatal(err)
		}
		refused := func(cc *caller) (bool, string) {
			r, err := cc.send(http.MethodGet, path, nil, "", "Bearer "+cc.token())
			switch {
			case err != nil:
				return true, err.Error()
			case r.Status == http.StatusUnauthorized:
				expectOO(t, r, http.StatusUnauthorized, "login", "certificate", "")
				return true, r.String()
			}
			return false, r.String()
		}
		deadline := time.Now().Add(3 * time.Second)
		for {
			ok, what := refused(cc)
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a revoked system is still served after 3 s: %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// A new connection is refused too.
		if ok, what := refused(e.asIdentity(org, revokable)); !ok {
			t.Errorf("a new connection of a revoked system: %s", what)
		}
	})
}

// 8. Another organisation's document: 403, and the refusal is logged.
func testOtherOrganisationForbidden(t *testing.T) {
	e := newEnv(t)
	owner, intruderOrg := e.world.Organisations[0], e.world.Organisations[1]
	c, intruder := e.as(owner), e.as(intruderOrg)
	d := e.nextOf(owner)
	c.archive(d)
	id := d.Header.ID

	// Every answer about the document is exactly the answer about one that
	// does not exist: probing tells nothing.
	missing := id + "404"
	sameAsMissing := func(what string, do func(id string) *resp) {
		t.Helper()
		got, want := do(id), do(missing)
		if got.Status != http.StatusNotFound || got.Status != want.Status ||
			strings.ReplaceAll(string(got.Body), id, "ID") != strings.ReplaceAll(string(want.Body), missing, "ID") {
			t.Errorf("%s: %s\nbut for a document that does not exist: %s", what, got, want)
		}
	}
	dump(t, "operationoutcome-404.json", intruder.get("/fhir/DocumentReference/"+id))
	sameAsMissing("DocumentReference", func(id string) *resp { return intruder.get("/fhir/DocumentReference/" + id) })
	sameAsMissing("Binary", func(id string) *resp { return intruder.get("/fhir/Binary/" + id) })
	sameAsMissing("$versions", func(id string) *resp { return intruder.get("/fhir/DocumentReference/" + id + "/$versions") })
	sameAsMissing("$nullify", func(id string) *resp {
		return intruder.post("/fhir/DocumentReference/"+id+"/$nullify", nullifyBody("x", "not mine"))
	})
	// Re-submitting another organisation's document does not disclose it.
	r := intruder.post("/fhir", provideBundle(t, part{xml: d.XML}).body)
	dump(t, "operationoutcome-403.json", r)
	expectOO(t, r, http.StatusForbidden, "forbidden", "", "ACCESS_DENIED")
	if got := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+id)); got.Status != "current" {
		t.Errorf("the intruder changed the document: %s", got.Status)
	}

	ab := decode[fhirapi.Bundle](t, c.get("/fhir/AuditEvent?patient.identifier="+url.QueryEscape(clientParam(d.Header))))
	refusedReads := 0
	for _, en := range ab.Entry {
		var ev fhirapi.AuditEvent
		if err := json.Unmarshal(en.Resource, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Outcome != "4" || len(ev.Subtype) == 0 || ev.Subtype[0].Code != "read" {
			continue
		}
		var sys, orgID, doc string
		for _, a := range ev.Agent {
			if a.Who != nil && a.Who.Identifier != nil {
				switch a.Who.Identifier.System {
				case fhirapi.SystemClientSystem:
					sys = a.Who.Identifier.Value
				case fhirapi.SystemURI:
					orgID = a.Who.Identifier.Value
				}
			}
		}
		for _, en := range ev.Entity {
			if en.What != nil && en.What.Reference != "" {
				doc = en.What.Reference
			}
		}
		if sys == intruderOrg.SystemName && orgID == oidURN(intruderOrg.ControllerOID()) && doc == "DocumentReference/"+id {
			refusedReads++
			if ev.OutcomeDesc == "" || !strings.HasPrefix(ev.OutcomeDesc, "refused") {
				t.Errorf("outcomeDesc %q", ev.OutcomeDesc)
			}
		}
	}
	if refusedReads < 2 {
		t.Errorf("the owner's AuditEvents show %d refused reads by the intruder, want 2 (DocumentReference and Binary)", refusedReads)
	}
}

// 9. Malformed requests.
func testMalformedRequests(t *testing.T) {
	e := newEnvWith(t, envOptions{maxBody: 64 << 10})
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)
	good := provideBundle(t, part{xml: d.XML, ref: fullRef(d.Header)})
	if len(good.body) >= 64<<10 {
		t.Fatalf("a normal submission is %d bytes: raise the test limit", len(good.body))
	}

	expectOO(t, c.post("/fhir", []byte("this is not JSON")), http.StatusBadRequest, "structure", "Bundle", "")
	expectOO(t, c.post("/fhir", []byte(`{"resourceType":"Patient","id":"x"}`)), http.StatusBadRequest, "structure", "Bundle.resourceType", "")
	batch := bytes.Replace(good.body, []byte(`"type":"transaction"`), []byte(`"type":"batch"`), 1)
	expectOO(t, c.post("/fhir", batch), http.StatusBadRequest, "structure", "Bundle.type", "")
	expectOO(t, c.post("/fhir", []byte(`{"resourceType":"Bundle","type":"transaction"}`)), http.StatusBadRequest, "structure", "Bundle.entry", "")

	var noList fhirapi.Bundle
	if err := json.Unmarshal(good.body, &noList); err != nil {
		t.Fatal(err)
	}
	noList.Entry = noList.Entry[1:]
	oo := expectOO(t, c.post("/fhir", raw(t, &noList)), http.StatusBadRequest, "structure", "Bundle.entry", "")
	if !strings.Contains(oo.Issue[0].Diagnostics, "List") {
		t.Errorf("missing List: %q", oo.Issue[0].Diagnostics)
	}
	var unlisted fhirapi.Bundle
	json.Unmarshal(good.body, &unlisted)
	var list fhirapi.List
	json.Unmarshal(unlisted.Entry[0].Resource, &list)
	list.Entry = nil
	unlisted.Entry[0].Resource = raw(t, &list)
	expectOO(t, c.post("/fhir", raw(t, &unlisted)), http.StatusBadRequest, "structure", "Bundle.entry[0].resource.entry", "")
	var wrongType fhirapi.Bundle
	json.Unmarshal(good.body, &wrongType)
	wrongType.Entry[good.bins[0]].Resource = raw(t, &fhirapi.Binary{ResourceType: "Binary", ContentType: "application/pdf", Data: base64.StdEncoding.EncodeToString(d.XML)})
	expectOO(t, c.post("/fhir", raw(t, &wrongType)), http.StatusUnprocessableEntity, "value", fmt.Sprintf("Bundle.entry[%d].resource.contentType", good.bins[0]), "")

	// Too large.
	big := provideBundle(t, part{xml: append(bytes.Repeat([]byte(" "), 80<<10), d.XML...), ref: fullRef(d.Header)})
	tooBig := expectOO(t, c.post("/fhir", big.body), http.StatusRequestEntityTooLarge, "too-long", "Bundle", "BODY_TOO_LARGE")
	if msg := tooBig.Issue[0].Diagnostics; !strings.Contains(msg, "64 KiB") {
		t.Errorf("the limit is not said in binary units: %q", msg)
	}

	// Wrong content types.
	for _, ct := range []string{"text/plain", "application/xml", ""} {
		r := c.do(http.MethodPost, "/fhir", good.body, ct)
		expectOO(t, r, http.StatusUnsupportedMediaType, "not-supported", "Content-Type", "")
	}
	expectOO(t, c.do(http.MethodPost, "/fhir/DocumentReference/"+d.Header.ID+"/$nullify", nullifyBody("x", "y"), "text/plain"), http.StatusUnsupportedMediaType, "not-supported", "Content-Type", "")

	// None of it stored anything; the good Bundle still goes through.
	expectOO(t, c.get("/fhir/DocumentReference/"+d.Header.ID), http.StatusNotFound, "not-found", "", "")
	r := c.do(http.MethodPost, "/fhir", good.body, "application/fhir+json; charset=utf-8")
	if r.Status != http.StatusOK {
		t.Fatalf("a good submission after the bad ones: %v", r)
	}
}

type auditEvent struct {
	fhirapi.AuditEvent
	raw json.RawMessage
}

func auditEvents(t *testing.T, b fhirapi.Bundle) []auditEvent {
	t.Helper()
	var out []auditEvent
	for _, en := range b.Entry {
		var ev fhirapi.AuditEvent
		if err := json.Unmarshal(en.Resource, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.ResourceType != "AuditEvent" || !strings.HasSuffix(en.FullURL, "/AuditEvent/"+ev.ID) {
			t.Fatalf("entry %s: %s", en.FullURL, en.Resource)
		}
		out = append(out, auditEvent{ev, en.Resource})
	}
	return out
}

// 10. The access log as IHE BALP AuditEvents.
func testAuditEvents(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)
	c.archive(d)
	id := d.Header.ID
	if r := c.get("/fhir/DocumentReference/" + id); r.Status != http.StatusOK {
		t.Fatal(r)
	}
	patient := url.QueryEscape(clientParam(d.Header))
	if r := c.get("/fhir/DocumentReference?patient.identifier=" + patient); r.Status != http.StatusOK {
		t.Fatal(r)
	}
	r := c.get("/fhir/AuditEvent?patient.identifier=" + patient)
	if r.Status != http.StatusOK {
		t.Fatalf("AuditEvent search: %v", r)
	}
	dump(t, "auditevent-bundle.json", r)
	b := decode[fhirapi.Bundle](t, r)
	evs := auditEvents(t, b)
	if b.Type != "searchset" || len(evs) != 3 {
		t.Fatalf("%d AuditEvents, want 3 (search, read, archive): %s", len(evs), r.Body)
	}
	want := []struct{ subtype, action string }{{"search-type", "E"}, {"read", "R"}, {"create", "C"}}
	for i, ev := range evs {
		if ev.Type.Code != "rest" || ev.Type.System != "http://terminology.hl7.org/CodeSystem/audit-event-type" ||
			len(ev.Subtype) == 0 || ev.Subtype[0].Code != want[i].subtype || ev.Subtype[0].System != "http://hl7.org/fhir/restful-interaction" ||
			ev.Action != want[i].action || ev.Outcome != "0" || ev.Recorded == "" {
			t.Errorf("event %d: %s", i, ev.raw)
		}
		if i > 0 && ev.Recorded > evs[i-1].Recorded {
			t.Errorf("events not newest first: %s after %s", ev.Recorded, evs[i-1].Recorded)
		}
		var sys, orgAgent, person bool
		for _, a := range ev.Agent {
			if a.Who == nil || a.Who.Identifier == nil && a.Who.Reference != "#archive" {
				t.Errorf("event %d: agent without who: %+v", i, a)
				continue
			}
			if a.Who.Identifier == nil {
				continue // the archive itself, the server (TestBALPAudit)
			}
			switch a.Who.Identifier.System {
			case fhirapi.SystemClientSystem:
				sys = a.Who.Identifier.Value == org.SystemName && !a.Requestor
			case fhirapi.SystemURI:
				orgAgent = a.Who.Identifier.Value == oidURN(org.ControllerOID()) && a.Who.Type == "Organization"
			case fhirapi.SystemProfessional:
				person = a.Who.Identifier.Value == testProfessional && a.Requestor && a.Who.Type == "Practitioner" &&
					a.Location != nil && a.Location.Identifier.Value == oidURN(org.Units[1].OID)
			}
		}
		if !sys || !orgAgent || !person {
			t.Errorf("event %d agents (system %v, organisation %v, professional requestor %v): %s", i, sys, orgAgent, person, ev.raw)
		}
		var patientEntity, docEntity bool
		for _, en := range ev.Entity {
			if en.What == nil {
				continue
			}
			if w := en.What.Identifier; w != nil && w.System == oidURN(d.Header.Client.ID.Root) && w.Value == d.Header.Client.ID.Extension && en.Type.Code == "1" && en.Role.Code == "1" {
				patientEntity = true
			}
			// A search's documents have no type: its System Object is the
			// query (BALP Query).
			if en.What.Reference == "DocumentReference/"+id && (en.Type == nil) == (ev.Action == "E") && (en.Type == nil || en.Type.Code == "2") {
				docEntity = true
			}
		}
		if !patientEntity || !docEntity {
			t.Errorf("event %d entities (client %v, document %v): %s", i, patientEntity, docEntity, ev.raw)
		}
		if len(ev.PurposeOfEvent) != 1 || ev.PurposeOfEvent[0].Coding[0].Code != codes.UsageOwnRegister {
			t.Errorf("event %d purposeOfEvent %+v", i, ev.PurposeOfEvent)
		}
	}
	if len(evs[0].Entity) < 3 || evs[0].Entity[len(evs[0].Entity)-1].Query == "" {
		t.Errorf("the search event does not carry its query: %s", evs[0].raw)
	}

	// Paging: now four entries (the AuditEvent search above is logged too).
	var paged []auditEvent
	next := "/fhir/AuditEvent?patient.identifier=" + patient + "&_count=2"
	for pages := 0; next != ""; pages++ {
		if pages > 4 {
			t.Fatal("AuditEvent paging does not end")
		}
		pb := decode[fhirapi.Bundle](t, c.get(next))
		page := auditEvents(t, pb)
		if len(page) > 2 {
			t.Fatalf("a page of %d", len(page))
		}
		paged = append(paged, page...)
		next = link(pb, "next")
		if next != "" && (!strings.HasPrefix(next, e.run.BaseURL+"/AuditEvent?") || !strings.Contains(next, "_cursor=")) {
			t.Fatalf("next link %q", next)
		}
	}
	if len(paged) != 4 || paged[0].Subtype[0].Code != "search-type" {
		t.Fatalf("paged %d events: the AuditEvent search, then the 3 above", len(paged))
	}
	seen := map[string]bool{}
	for i, ev := range paged {
		if seen[ev.ID] {
			t.Errorf("event %s twice", ev.ID)
		}
		seen[ev.ID] = true
		if i > 0 && ev.Recorded > paged[i-1].Recorded {
			t.Error("paged events not newest first")
		}
	}
	for i, ev := range evs {
		if paged[i+1].ID != ev.ID {
			t.Errorf("paged event %d is %s, want %s", i+1, paged[i+1].ID, ev.ID)
		}
	}
	expectOO(t, c.get("/fhir/AuditEvent?patient.identifier="+patient+"&agent-name=x"), http.StatusBadRequest, "value", "agent-name", fhirapi.RuleQueryParam)
	expectOO(t, c.get("/fhir/AuditEvent?patient.identifier="+patient+"&type=login"), http.StatusBadRequest, "value", "type", fhirapi.RuleQueryCode)
	if typed := decode[fhirapi.Bundle](t, c.get("/fhir/AuditEvent?patient.identifier="+patient+"&type=rest")); len(typed.Entry) == 0 {
		t.Error("type=rest is the access log")
	}
	expectOO(t, c.get("/fhir/AuditEvent"), http.StatusBadRequest, "value", "patient.identifier", fhirapi.RuleQueryClient)

	// The controller's own log of a period, every client: today's holds
	// these entries; another organisation's holds none of them; yesterday's
	// none; an open period is refused.
	today := time.Now().In(fitime.Location).Format("2006-01-02")
	yesterday := time.Now().In(fitime.Location).AddDate(0, 0, -1).Format("2006-01-02")
	own := auditEvents(t, decode[fhirapi.Bundle](t, c.get("/fhir/AuditEvent?_count=500&date=ge"+today+"&date=le"+today)))
	ownIDs := map[string]bool{}
	for _, ev := range own {
		ownIDs[ev.ID] = true
	}
	for _, ev := range paged {
		if !ownIDs[ev.ID] {
			t.Errorf("the controller's log of today lacks event %s", ev.ID)
		}
	}
	for _, ev := range auditEvents(t, decode[fhirapi.Bundle](t, e.as(e.world.Organisations[1]).get("/fhir/AuditEvent?_count=500&date=ge"+today+"&date=le"+today))) {
		if seen[ev.ID] {
			t.Errorf("another organisation's log of today has event %s", ev.ID)
		}
	}
	if old := auditEvents(t, decode[fhirapi.Bundle](t, c.get("/fhir/AuditEvent?date=ge"+yesterday+"&date=le"+yesterday))); len(old) != 0 {
		t.Errorf("yesterday's log has %d events of today", len(old))
	}
	if bounded := auditEvents(t, decode[fhirapi.Bundle](t, c.get("/fhir/AuditEvent?patient.identifier="+patient+"&date=ge"+yesterday+"&date=le"+yesterday))); len(bounded) != 0 {
		t.Errorf("the client's log of yesterday has %d events of today", len(bounded))
	}
	expectOO(t, c.get("/fhir/AuditEvent?date=ge"+today), http.StatusBadRequest, "value", "date", fhirapi.RuleQueryDate)
}

// 10. A page of the largest size still links to the next page.
func testAuditEventLargestPage(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)
	c.archive(d)
	key := archive.ClientKey(d.Header.Client.ID)
	// Fill the log quickly through the domain service: 520 more entries.
	ctx := context.Background()
	dc := archive.Caller{System: org.SystemName, Organisation: org.ControllerOID(), Person: testProfessional, Unit: org.Units[1].OID, Purpose: codes.UsageOwnRegister}
	for i := 0; i < 520; i++ {
		if _, err := e.svc.Search(ctx, dc, archive.Query{ClientKey: key}); err != nil {
			t.Fatal(err)
		}
	}
	patient := url.QueryEscape(clientParam(d.Header))
	next := "/fhir/AuditEvent?patient.identifier=" + patient + "&_count=500"
	var sizes []int
	for next != "" && len(sizes) < 5 {
		b := decode[fhirapi.Bundle](t, c.get(next))
		sizes = append(sizes, len(b.Entry))
		next = link(b, "next")
	}
	if !slices.Equal(sizes, []int{500, 21}) {
		t.Errorf("pages of %v AuditEvents, want [500 21]", sizes)
	}
}

// 11. Operations: /metrics, /healthz and the CapabilityStatement.
func testOperationalEndpoints(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)
	c.archive(d)
	c.get("/fhir/DocumentReference/" + d.Header.ID)
	c.get("/fhir/Binary/" + d.Header.ID)
	c.get("/fhir/DocumentReference?patient.identifier=" + url.QueryEscape(clientParam(d.Header)))
	c.get("/fhir/AuditEvent?patient.identifier=" + url.QueryEscape(clientParam(d.Header)))
	expectOO(t, c.get("/fhir/DocumentReference/"+d.Header.ID+".404"), http.StatusNotFound, "not-found", "", "")
	expectOO(t, c.get("/fhir/Observation/"+d.Header.Client.ID.Extension), http.StatusNotFound, "not-supported", "", "")

	r := c.get("/healthz")
	if r.Status != http.StatusOK || strings.TrimSpace(string(r.Body)) != "ok" {
		t.Errorf("/healthz: %v", r)
	}

	r = c.get("/metrics")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %v", r)
	}
	m := string(r.Body)
	for _, want := range []string{
		"# TYPE arkisto_http_requests_total counter",
		`arkisto_http_requests_total{code="200",route="GET /fhir/DocumentReference/{id}"} 1`,
		`arkisto_http_requests_total{code="200",route="POST /fhir"} 1`,
		`arkisto_http_requests_total{code="404",route="/fhir/"} 1`,
		"arkisto_http_request_duration_seconds_bucket",
		"arkisto_documents_archived_total 1",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, secret := range []string{d.Header.Client.ID.Extension, d.Header.ID, d.Header.Client.ID.Extension[:6] + d.Header.Client.ID.Extension[7:]} {
		if strings.Contains(m, secret) {
			t.Errorf("/metrics contains %q", secret)
		}
	}

	r = c.get("/fhir/metadata")
	if r.Status != http.StatusOK {
		t.Fatalf("metadata: %v", r)
	}
	dump(t, "capabilitystatement.json", r)
	var cs fhirapi.CapabilityStatement
	if err := json.Unmarshal(r.Body, &cs); err != nil {
		t.Fatal(err)
	}
	if cs.ResourceType != "CapabilityStatement" || cs.FHIRVersion != "4.0.1" || cs.Kind != "instance" || cs.Status != "active" || len(cs.Rest) != 1 || cs.Rest[0].Mode != "server" {
		t.Fatalf("CapabilityStatement %s", r.Body)
	}
	var generic struct {
		Rest []struct {
			Resource []struct {
				Type        string `json:"type"`
				Interaction []struct {
					Code string `json:"code"`
				} `json:"interaction"`
				SearchParam []struct {
					Name string `json:"name"`
				} `json:"searchParam"`
			} `json:"resource"`
			Interaction []struct {
				Code string `json:"code"`
			} `json:"interaction"`
		} `json:"rest"`
	}
	json.Unmarshal(r.Body, &generic)
	res := map[string][]string{}
	params := map[string][]string{}
	for _, rs := range generic.Rest[0].Resource {
		for _, in := range rs.Interaction {
			res[rs.Type] = append(res[rs.Type], in.Code)
		}
		for _, p := range rs.SearchParam {
			params[rs.Type] = append(params[rs.Type], p.Name)
		}
	}
	if !slices.Contains(res["DocumentReference"], "read") || !slices.Contains(res["DocumentReference"], "search-type") ||
		!slices.Contains(res["Binary"], "read") || !slices.Contains(res["AuditEvent"], "search-type") {
		t.Errorf("resources %v", res)
	}
	for _, p := range []string{"patient.identifier", "status", "date", "period", "type", "category", "event", "setting", "related", "facility", "register", "document-group", "client-relationship", "custodian"} {
		if !slices.Contains(params["DocumentReference"], p) {
			t.Errorf("CapabilityStatement lacks DocumentReference search parameter %s", p)
		}
	}
	transaction := false
	for _, in := range generic.Rest[0].Interaction {
		transaction = transaction || in.Code == "transaction"
	}
	if !transaction {
		t.Error("CapabilityStatement lacks the transaction interaction")
	}
}

// 12. Graceful shutdown completes a request in flight.
func testGracefulShutdown(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)
	body := provideBundle(t, part{xml: d.XML, ref: fullRef(d.Header)}).body
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, e.root+"/fhir", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", fhirapi.ContentFHIRJSON)
	req.Header.Set("Authorization", "Bearer "+c.token())
	type result struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan result, 1)
	go func() {
		res, err := c.client.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		done <- result{status: res.StatusCode, body: b, err: err}
	}()
	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the server reads the request's head
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- e.run.Shutdown(ctx)
	}()
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
	case res := <-done:
		t.Fatalf("the request ended before its body was sent: %+v", res)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := pw.Write(body[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	res := <-done
	if res.err != nil || res.status != http.StatusOK {
		t.Fatalf("the request in flight: %d %v %s", res.status, res.err, res.body)
	}
	var b fhirapi.Bundle
	if err := json.Unmarshal(res.body, &b); err != nil || b.Entry[1].Response.Status != "201 Created" {
		t.Fatalf("the request in flight: %s", res.body)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	// The document was stored before the server stopped.
	if _, _, err := e.svc.Get(context.Background(), archive.Caller{System: org.SystemName, Organisation: org.ControllerOID(), Purpose: codes.UsageOwnRegister}, d.Header.ID); err != nil {
		t.Errorf("the document of the request in flight: %v", err)
	}
	// The server no longer answers.
	if r, err := e.as(org).send(http.MethodGet, "/healthz", nil, "", ""); err == nil {
		t.Errorf("answered after Shutdown: %v", r)
	}
}

// Every end-to-end test runs on every storage backend (storetest).
func TestProvideDocumentBundle(t *testing.T)      { forEachBackend(t, testProvideDocumentBundle) }
func TestProvideAllOrNothing(t *testing.T)        { forEachBackend(t, testProvideAllOrNothing) }
func TestFindDocumentReferences(t *testing.T)     { forEachBackend(t, testFindDocumentReferences) }
func TestRetrieveExactBytes(t *testing.T)         { forEachBackend(t, testRetrieveExactBytes) }
func TestCorrection(t *testing.T)                 { forEachBackend(t, testCorrection) }
func TestConcurrentCorrections(t *testing.T)      { forEachBackend(t, testConcurrentCorrections) }
func TestNullify(t *testing.T)                    { forEachBackend(t, testNullify) }
func TestAuthFailures(t *testing.T)               { forEachBackend(t, testAuthFailures) }
func TestOtherOrganisationForbidden(t *testing.T) { forEachBackend(t, testOtherOrganisationForbidden) }
func TestMalformedRequests(t *testing.T)          { forEachBackend(t, testMalformedRequests) }
func TestAuditEvents(t *testing.T)                { forEachBackend(t, testAuditEvents) }
func TestAuditEventLargestPage(t *testing.T)      { forEachBackend(t, testAuditEventLargestPage) }
func TestOperationalEndpoints(t *testing.T)       { forEachBackend(t, testOperationalEndpoints) }
func TestGracefulShutdown(t *testing.T)           { forEachBackend(t, testGracefulShutdown) }

// TestTokenSingleUseAcrossServers: two servers on one archive (one SQLite
// data directory, one PostgreSQL schema), as behind a load balancer: a
// token one has accepted is refused by the other, either way round.
func TestTokenSingleUseAcrossServers(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		e := newEnvWith(t, envOptions{twin: true})
		second := e.startTwin()
		c := e.as(e.world.Organisations[0])
		get := func(root, tok string) *resp {
			t.Helper()
			r, err := c.send(http.MethodGet, root+tokenPath, nil, "", "Bearer "+tok)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		for _, order := range [][2]string{{e.root, second}, {second, e.root}} {
			tok := c.token()
			if r := get(order[0], tok); r.Status != http.StatusOK {
				t.Fatalf("first use at %s: %v", order[0], r)
			}
			expectOO(t, get(order[1], tok), http.StatusUnauthorized, "login", "token.jti", "")
		}
	})
}
