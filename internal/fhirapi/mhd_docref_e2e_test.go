package fhirapi_test

// IHE MHD DocumentReference semantics (issue 15 item 2) and the
// replacement pattern (item 3), end to end over HTTPS on every backend.

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
)

// sentBundle is a Bundle as written by fhirapi.SubmissionBundleWith.
type sentBundle struct {
	fhirapi.Bundle
	refs []int // entry index of each DocumentReference
}

func bundleOf(t *testing.T, opt fhirapi.BundleOptions, docs ...[]byte) *sentBundle {
	t.Helper()
	body, err := fhirapi.SubmissionBundleWith(opt, docs...)
	if err != nil {
		t.Fatal(err)
	}
	b := &sentBundle{}
	if err := json.Unmarshal(body, &b.Bundle); err != nil {
		t.Fatal(err)
	}
	for i, en := range b.Entry {
		var head struct{ ResourceType string }
		json.Unmarshal(en.Resource, &head)
		if head.ResourceType == "DocumentReference" {
			b.refs = append(b.refs, i)
		}
	}
	return b
}

// ref decodes the n-th DocumentReference.
func (b *sentBundle) ref(t *testing.T, n int) *fhirapi.DocumentReference {
	t.Helper()
	var r fhirapi.DocumentReference
	if err := json.Unmarshal(b.Entry[b.refs[n]].Resource, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// with changes the n-th DocumentReference and returns the body.
func (b *sentBundle) with(t *testing.T, n int, change func(r *fhirapi.DocumentReference)) []byte {
	t.Helper()
	r := b.ref(t, n)
	change(r)
	cp := b.Bundle
	cp.Entry = slices.Clone(b.Entry)
	cp.Entry[b.refs[n]].Resource = raw(t, r)
	return raw(t, &cp)
}

func (b *sentBundle) body(t *testing.T) []byte { return raw(t, &b.Bundle) }

func hasProfile(m *fhirapi.Meta, p string) bool { return m != nil && slices.Contains(m.Profile, p) }

// 2. DocumentReference.date as FHIR means it; the Minimal profile; the
// source's metadata kept and returned; what disagrees with the CDA refused.
func testMHDDocumentReference(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)

	// What arkisto bundle sends, with a date unlike the document's time
	// (an hour ago, not its effective time: once refused), a security label
	// of another code system beside the archive's, and a format of IHE's.
	d := e.nextOf(org)
	h := d.Header
	sent := bundleOf(t, fhirapi.BundleOptions{}, d.XML)
	made := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	hl7Label := fhirapi.Coding{System: "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", Code: "R"}
	iheFormat := fhirapi.Coding{System: "urn:ihe:iti:xds:2017:mimeTypeSufficient", Code: "urn:ihe:iti:xds:2017:mimeTypeSufficient"}
	body := sent.with(t, 0, func(r *fhirapi.DocumentReference) {
		r.Date = made.Format(time.RFC3339)
		r.SecurityLabel = []fhirapi.CodeableConcept{{Coding: []fhirapi.Coding{hl7Label}, Text: "restricted"}}
		r.Content[0].Format = &iheFormat
	})
	in := sent.ref(t, 0)
	if r := c.post("/fhir", body); r.Status != http.StatusOK {
		t.Fatalf("a DocumentReference whose date is when it was made: %v", r)
	}
	r := c.get("/fhir/DocumentReference/" + h.ID)
	dump(t, "documentreference-source.json", r)
	got := decode[fhirapi.DocumentReference](t, r)
	sum := sha1.Sum(d.XML)
	att := got.Content[0].Attachment
	if !hasProfile(got.Meta, fhirapi.ProfileMinimalDocumentReference) || got.DocStatus != "" || len(got.Category) != 1 {
		t.Errorf("not the Minimal profile: meta %+v docStatus %q categories %d", got.Meta, got.DocStatus, len(got.Category))
	}
	if at, err := time.Parse(time.RFC3339Nano, got.Date); err != nil || !at.Equal(made) {
		t.Errorf("date %s, want the source's %s", got.Date, made)
	}
	if at, err := time.Parse(time.RFC3339Nano, att.Creation); err != nil || !at.Equal(h.EffectiveTime) {
		t.Errorf("attachment.creation %s, want the document's effective time %s", att.Creation, h.EffectiveTime)
	}
	if !slices.Equal(got.Identifier, in.Identifier) || len(got.Identifier) != 1 || got.Identifier[0].Value != sent.Entry[sent.refs[0]].FullURL {
		t.Errorf("identifier %+v, want the entryUUID sent %+v", got.Identifier, in.Identifier)
	}
	if att.Hash != base64.StdEncoding.EncodeToString(sum[:]) || att.Size == nil || *att.Size != int64(len(d.XML)) {
		t.Errorf("attachment hash %q size %v", att.Hash, att.Size)
	}
	var labels []fhirapi.Coding
	for _, l := range got.SecurityLabel {
		labels = append(labels, l.Coding...)
	}
	if len(got.SecurityLabel) != 2 || got.SecurityLabel[0].Text != "restricted" || !slices.Contains(labels, hl7Label) ||
		!slices.ContainsFunc(labels, func(cd fhirapi.Coding) bool {
			return cd.System == oidURN(codes.OIDConfidentiality) && cd.Code == h.Confidentiality.Code
		}) {
		t.Errorf("securityLabel %+v: want the source's and the document's", got.SecurityLabel)
	}
	if f := got.Content[0].Format; f == nil || *f != iheFormat {
		t.Errorf("format %+v, want the source's %+v", f, iheFormat)
	}
	if i := slices.IndexFunc(got.Extension, func(x fhirapi.Extension) bool { return x.URL == fhirapi.ExtDisplayFormat }); h.DisplayFormat.Code != "" &&
		(i < 0 || got.Extension[i].ValueCoding.Code != h.DisplayFormat.Code) {
		t.Errorf("the document's display format is not in its extension: %+v", got.Extension)
	}
	// The CapabilityStatement says the DocumentReferences claim it.
	var capst struct {
		Rest []struct {
			Resource []struct {
				Type             string
				SupportedProfile []string
			}
		}
	}
	if err := json.Unmarshal(c.get("/fhir/metadata").Body, &capst); err != nil || len(capst.Rest) != 1 ||
		!slices.ContainsFunc(capst.Rest[0].Resource, func(r struct {
			Type             string
			SupportedProfile []string
		}) bool {
			return r.Type == "DocumentReference" && slices.Contains(r.SupportedProfile, fhirapi.ProfileMinimalDocumentReference)
		}) {
		t.Errorf("the CapabilityStatement does not name the Minimal DocumentReference profile: %v %+v", err, capst)
	}
	// ITI-67 date searches when the reference was made, creation the
	// document's time: the source's date an hour ago, not the receipt.
	patientQ := "patient.identifier=" + url.QueryEscape(clientParam(h))
	stamp := func(x time.Time) string { return url.QueryEscape(x.Format(time.RFC3339)) }
	for _, tt := range []struct {
		query string
		found bool
	}{
		{"date=ge" + stamp(made) + "&date=lt" + stamp(made.Add(time.Second)), true},
		{"date=ge" + stamp(time.Now().Add(-time.Minute)), false},
		{"creation=ge" + stamp(made) + "&creation=lt" + stamp(made.Add(time.Second)), h.EffectiveTime.Truncate(time.Second).Equal(made)},
		{"creation=ge" + stamp(h.EffectiveTime.Truncate(time.Second)) + "&creation=lt" + stamp(h.EffectiveTime.Truncate(time.Second).Add(time.Second)), true},
	} {
		refs := docRefs(t, decode[fhirapi.Bundle](t, c.get("/fhir/DocumentReference?"+patientQ+"&"+tt.query)))
		if found := slices.Contains(ids(refs), h.ID); found != tt.found {
			t.Errorf("%s: found %v, want %v", tt.query, found, tt.found)
		}
	}
	// In a search, the same.
	sr := decode[fhirapi.Bundle](t, c.get("/fhir/DocumentReference?_id="+h.ID+"&patient.identifier="+url.QueryEscape(clientParam(h))))
	if refs := docRefs(t, sr); len(refs) != 1 || refs[0].Date != got.Date || !slices.Equal(refs[0].Identifier, got.Identifier) || !hasProfile(refs[0].Meta, fhirapi.ProfileMinimalDocumentReference) {
		t.Errorf("searched: %+v", sr.Entry)
	}

	// A DocumentReference without source metadata: date is when the archive
	// made it, on receipt; the document's own metadata.
	bare := e.nextOf(org)
	before := time.Now().Add(-time.Second)
	c.archive(bare)
	plain := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+bare.Header.ID))
	if at, err := time.Parse(time.RFC3339Nano, plain.Date); err != nil || at.Before(before) || at.After(time.Now()) {
		// fullRef sends a date of now: either way a time of this request.
		t.Errorf("date %s, want about now", plain.Date)
	}
	if len(plain.SecurityLabel) != 1 || plain.SecurityLabel[0].Coding[0].Code != h.Confidentiality.Code || !hasProfile(plain.Meta, fhirapi.ProfileMinimalDocumentReference) {
		t.Errorf("plain DocumentReference: %+v %+v", plain.SecurityLabel, plain.Meta)
	}

	// What disagrees with the document, or breaks a rule of what is kept,
	// is refused naming the element, and nothing is archived.
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		name             string
		change           func(r *fhirapi.DocumentReference, h *fhirapiHeader)
		code, expr, rule string
	}{
		{"creation is not the effective time", func(r *fhirapi.DocumentReference, h *fhirapiHeader) {
			r.Content[0].Attachment.Creation = h.effective.Add(time.Hour).Format(time.RFC3339)
		}, "business-rule", "content[0].attachment.creation", ""},
		{"the archive's confidentiality code disagrees", func(r *fhirapi.DocumentReference, h *fhirapiHeader) {
			r.SecurityLabel[0].Coding[0].Code = h.confidentiality + "9"
		}, "business-rule", "securityLabel[0].coding[0]", ""},
		{"the display format disagrees", func(r *fhirapi.DocumentReference, h *fhirapiHeader) {
			r.Content[0].Format = &fhirapi.Coding{System: oidURN(codes.OIDDisplayFormat), Code: h.format + "9"}
		}, "business-rule", "content[0].format", ""},
		{"a hash that is not the content's", func(r *fhirapi.DocumentReference, h *fhirapiHeader) {
			other := sha1.Sum([]byte("other"))
			r.Content[0].Attachment.Hash = base64.StdEncoding.EncodeToString(other[:])
		}, "value", "content[0].attachment.hash", fhirapi.RuleAttachmentHash},
		{"a date after receipt", func(r *fhirapi.DocumentReference, h *fhirapiHeader) { r.Date = future }, "value", "date", fhirapi.RuleSourceMetadata},
		{"an official identifier that is no entryUUID", func(r *fhirapi.DocumentReference, h *fhirapiHeader) {
			r.Identifier[0].Value = "urn:oid:1.2.3"
		}, "value", "identifier[0]", fhirapi.RuleSourceMetadata},
		{"too many identifiers", func(r *fhirapi.DocumentReference, h *fhirapiHeader) {
			for i := range 9 {
				r.Identifier = append(r.Identifier, fhirapi.Identifier{System: "urn:x", Value: fmt.Sprint(i)})
			}
		}, "value", "identifier", fhirapi.RuleSourceMetadata},
		{"context.period is not the case's", func(r *fhirapi.DocumentReference, h *fhirapiHeader) {
			r.Context = &fhirapi.DocumentReferenceContext{Period: &fhirapi.Period{Start: h.effective.Add(-99 * time.Hour).Format(time.RFC3339)}}
		}, "business-rule", "context.period.start", ""},
		{"relatesTo appends", func(r *fhirapi.DocumentReference, h *fhirapiHeader) {
			r.RelatesTo = []fhirapi.DocumentReferenceRelatesTo{{Code: "appends", Target: fhirapi.Reference{Reference: "DocumentReference/" + bare.Header.ID}}}
		}, "not-supported", "relatesTo[0].code", fhirapi.RuleRelatesTo},
		{"relatesTo transforms", func(r *fhirapi.DocumentReference, h *fhirapiHeader) {
			r.RelatesTo = []fhirapi.DocumentReferenceRelatesTo{{Code: "transforms", Target: fhirapi.Reference{Reference: "DocumentReference/" + bare.Header.ID}}}
		}, "not-supported", "relatesTo[0].code", fhirapi.RuleRelatesTo},
		{"relatesTo signs", func(r *fhirapi.DocumentReference, h *fhirapiHeader) {
			r.RelatesTo = []fhirapi.DocumentReferenceRelatesTo{{Code: "signs", Target: fhirapi.Reference{Reference: "DocumentReference/" + bare.Header.ID}}}
		}, "not-supported", "relatesTo[0].code", fhirapi.RuleRelatesTo},
		{"relatesTo of no FHIR code", func(r *fhirapi.DocumentReference, h *fhirapiHeader) {
			r.RelatesTo = []fhirapi.DocumentReferenceRelatesTo{{Code: "amends", Target: fhirapi.Reference{Reference: "DocumentReference/" + bare.Header.ID}}}
		}, "code-invalid", "relatesTo[0].code", fhirapi.RuleRelatesTo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.nextOf(org)
			hh := &fhirapiHeader{effective: d.Header.EffectiveTime, confidentiality: d.Header.Confidentiality.Code, format: d.Header.DisplayFormat.Code}
			b := bundleOf(t, fhirapi.BundleOptions{}, d.XML)
			r := c.post("/fhir", b.with(t, 0, func(r *fhirapi.DocumentReference) { tt.change(r, hh) }))
			expectOO(t, r, http.StatusUnprocessableEntity, tt.code, fmt.Sprintf("Bundle.entry[%d].resource.%s", b.refs[0], tt.expr), tt.rule)
			if g := c.get("/fhir/DocumentReference/" + d.Header.ID); g.Status != http.StatusNotFound {
				t.Errorf("a refused document was archived: %v", g)
			}
		})
	}

	// A nullified version's status, entered-in-error, is not in the
	// Minimal profile's value set: it claims no profile.
	if r := c.post("/fhir/DocumentReference/"+bare.Header.ID+"/$nullify", nullifyBody("wrong-client", "Kirjattu väärälle asiakkaalle")); r.Status != http.StatusOK {
		t.Fatalf("nullify: %v", r)
	}
	if n := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+bare.Header.ID)); n.Status != "entered-in-error" || hasProfile(n.Meta, fhirapi.ProfileMinimalDocumentReference) {
		t.Errorf("nullified: status %s meta %+v", n.Status, n.Meta)
	}
}

// fhirapiHeader is what a refusal case needs of its document's header.
type fhirapiHeader struct {
	effective               time.Time
	confidentiality, format string
}

func TestMHDDocumentReference(t *testing.T) { forEachBackend(t, testMHDDocumentReference) }

// 3. The MHD replacement pattern: the UpdateDocumentRefs PATCH entry in
// the ITI-65 transaction, today's form without it, and every other PATCH
// refused.
func testMHDReplacement(t *testing.T) {
	e := newEnvWith(t, envOptions{gen: gen.Options{Clients: 2}})
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)
	for d.Header.DocumentGroup.Code != codes.GroupLaterPhase {
		d = e.nextOf(org)
	}
	other := e.nextOf(org) // a version no correction below replaces
	v1 := d.Header.ID
	if r := c.post("/fhir", bundleOf(t, fhirapi.BundleOptions{}, d.XML, other.XML).body(t)); r.Status != http.StatusOK {
		t.Fatalf("archive: %v", r)
	}
	h2, v2xml := e.replacement(d, v1+".2", nil)
	sent := bundleOf(t, fhirapi.BundleOptions{}, v2xml)
	patchAt := len(sent.Entry) - 1
	dump(t, "provide-bundle-replace.json", &resp{Body: sent.body(t)})

	// A PATCH is refused, naming the element, when it asks anything else
	// than superseding the version the new one replaces; nothing changes.
	patch := func(change func(p map[string]any, en *fhirapi.BundleEntry)) []byte {
		cp := sent.Bundle
		cp.Entry = slices.Clone(sent.Entry)
		en := cp.Entry[patchAt]
		var p map[string]any
		if err := json.Unmarshal(en.Resource, &p); err != nil {
			t.Fatal(err)
		}
		req := *en.Request
		en.Request = &req
		change(p, &en)
		en.Resource = raw(t, p)
		cp.Entry[patchAt] = en
		return raw(t, &cp)
	}
	part := func(p map[string]any, i int) map[string]any {
		return p["parameter"].([]any)[0].(map[string]any)["part"].([]any)[i].(map[string]any)
	}
	at := fmt.Sprintf("Bundle.entry[%d]", patchAt)
	tests := []struct {
		name             string
		change           func(p map[string]any, en *fhirapi.BundleEntry)
		status           int
		code, expr, rule string
	}{
		{"supersedes a version nothing here replaces", func(p map[string]any, en *fhirapi.BundleEntry) {
			en.Request.URL = "DocumentReference/" + other.Header.ID
		}, 422, "business-rule", at + ".request.url", fhirapi.RulePatch},
		{"a conditional patch", func(p map[string]any, en *fhirapi.BundleEntry) {
			en.Request.URL = "DocumentReference?identifier=" + oidURN(v1)
		}, 422, "business-rule", at + ".request.url", fhirapi.RulePatch},
		{"another element", func(p map[string]any, en *fhirapi.BundleEntry) {
			part(p, 1)["valueString"] = "DocumentReference.securityLabel"
		}, 422, "business-rule", at + ".resource.parameter[0].part[1].valueString", fhirapi.RulePatch},
		{"another status", func(p map[string]any, en *fhirapi.BundleEntry) {
			part(p, 2)["valueCode"] = "entered-in-error"
		}, 422, "business-rule", at + ".resource.parameter[0].part[2].valueCode", fhirapi.RulePatch},
		{"another operation", func(p map[string]any, en *fhirapi.BundleEntry) {
			part(p, 0)["valueCode"] = "delete"
		}, 422, "business-rule", at + ".resource.parameter[0].part[0].valueCode", fhirapi.RulePatch},
		{"a second operation", func(p map[string]any, en *fhirapi.BundleEntry) {
			ps := p["parameter"].([]any)
			p["parameter"] = append(ps, ps[0])
		}, 400, "value", at + ".resource.parameter", fhirapi.RulePatch},
		{"an extra part", func(p map[string]any, en *fhirapi.BundleEntry) {
			op := p["parameter"].([]any)[0].(map[string]any)
			op["part"] = append(op["part"].([]any), map[string]any{"name": "index", "valueInteger": 0})
		}, 422, "business-rule", at + ".resource.parameter[0].part[3].name", fhirapi.RulePatch},
		{"a JSON Patch instead of FHIRPath Patch", func(p map[string]any, en *fhirapi.BundleEntry) {
			delete(p, "parameter")
			p["op"] = "replace"
		}, 400, "required", at + ".resource.parameter", fhirapi.RulePatch},
		{"sent as POST", func(p map[string]any, en *fhirapi.BundleEntry) {
			en.Request.Method = "POST"
		}, 400, "structure", at + ".request.method", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectOO(t, c.post("/fhir", patch(tt.change)), tt.status, tt.code, tt.expr, tt.rule)
			if g := c.get("/fhir/DocumentReference/" + h2.ID); g.Status != http.StatusNotFound {
				t.Errorf("the correction was archived: %v", g)
			}
			for _, id := range []string{v1, other.Header.ID} {
				if s := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+id)).Status; s != "current" {
					t.Errorf("%s is %s after a refused PATCH", id, s)
				}
			}
		})
	}
	// A PATCH in a submission that replaces nothing.
	fresh := e.nextOf(org)
	lone := bundleOf(t, fhirapi.BundleOptions{}, fresh.XML)
	lone.Entry = append(lone.Entry, sent.Entry[patchAt])
	expectOO(t, c.post("/fhir", lone.body(t)), 422, "business-rule", fmt.Sprintf("Bundle.entry[%d].request.url", len(lone.Entry)-1), fhirapi.RulePatch)

	// The correction with its UpdateDocumentRefs PATCH: every entry
	// answered, the PATCH's with the version it superseded.
	r := c.post("/fhir", sent.body(t))
	dump(t, "transaction-response-replace-bundle.json", r)
	b := decode[fhirapi.Bundle](t, r)
	if r.Status != http.StatusOK || len(b.Entry) != len(sent.Entry) || b.Entry[sent.refs[0]].Response.Status != "201 Created" {
		t.Fatalf("the correction: %v", r)
	}
	if pr := b.Entry[patchAt].Response; pr == nil || pr.Status != "200 OK" || pr.Location != "DocumentReference/"+v1 {
		t.Errorf("the PATCH's response %+v", pr)
	}
	old := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+v1))
	if old.Status != "superseded" || !hasProfile(old.Meta, fhirapi.ProfileMinimalDocumentReference) {
		t.Errorf("v1: status %s meta %+v", old.Status, old.Meta)
	}
	cur := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+h2.ID))
	if cur.Status != "current" || len(cur.RelatesTo) != 1 || cur.RelatesTo[0].Code != "replaces" || cur.RelatesTo[0].Target.Reference != "DocumentReference/"+v1 {
		t.Errorf("v2 %+v", cur)
	}
	if s := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+other.Header.ID)).Status; s != "current" {
		t.Errorf("an unrelated version is %s", s)
	}

	// Today's form, without the PATCH, is accepted too.
	v2doc := &gen.Doc{Header: h2, XML: v2xml, Org: d.Org}
	h3, v3xml := e.replacement(v2doc, v1+".3", nil)
	nopatch := bundleOf(t, fhirapi.BundleOptions{NoPatch: true}, v3xml)
	if len(nopatch.Entry) != 3 {
		t.Fatalf("a bundle without the PATCH has %d entries", len(nopatch.Entry))
	}
	if r := c.post("/fhir", nopatch.body(t)); r.Status != http.StatusOK {
		t.Fatalf("a correction without the PATCH: %v", r)
	}
	if s := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+h2.ID)).Status; s != "superseded" {
		t.Errorf("v2 is %s after its correction", s)
	}
	if s := decode[fhirapi.DocumentReference](t, c.get("/fhir/DocumentReference/"+h3.ID)).Status; s != "current" {
		t.Errorf("v3 is %s", s)
	}

	// A PATCH of a superseded version, with a correction of it, is the
	// conflict the correction is (the PATCH adds no way around it).
	h4, v4xml := e.replacement(d, v1+".4", nil)
	expectOO(t, c.post("/fhir", bundleOf(t, fhirapi.BundleOptions{}, v4xml).body(t)), http.StatusConflict, "conflict", "", "CONFLICT")
	if g := c.get("/fhir/DocumentReference/" + h4.ID); g.Status != http.StatusNotFound {
		t.Errorf("a conflicting correction was archived: %v", g)
	}
}

func TestMHDReplacement(t *testing.T) { forEachBackend(t, testMHDReplacement) }
