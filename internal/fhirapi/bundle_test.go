package fhirapi

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
)

func TestSubmissionBundleIsAcceptedByTheParser(t *testing.T) {
	world, err := gen.NewPKI(gen.PKIOptions{KeyType: pki.P256, Organisations: 1, ProfessionalsPerOrg: 1})
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(world, gen.Options{Clients: 1, ReplaceEvery: 2})
	var docs [][]byte
	var ids []string
	for i := 0; i < 3; i++ {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d.XML)
		ids = append(ids, d.Header.ID)
	}
	raw, err := SubmissionBundle(docs...)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := parseSubmission(raw, "")
	if err != nil {
		t.Fatalf("the bundle arkisto bundle makes is refused: %v", err)
	}
	if len(sub.docs) != 3 {
		t.Fatalf("%d documents in the submission", len(sub.docs))
	}
	for i, d := range sub.docs {
		if string(d.data) != string(docs[i]) {
			t.Errorf("document %d changed in the bundle", i)
		}
		if d.ref.MasterIdentifier.Value != "urn:oid:"+ids[i] {
			t.Errorf("document %d masterIdentifier %s", i, d.ref.MasterIdentifier.Value)
		}
	}
	if r := sub.docs[2].ref.RelatesTo; len(r) != 1 || r[0].Target.Reference != "DocumentReference/"+ids[1] {
		t.Errorf("the correction's relatesTo: %+v", r)
	}
	if _, err := SubmissionBundle([]byte("<not-cda/>")); err == nil {
		t.Error("a non-CDA document was bundled")
	}
}

// TestSubmissionDecoding: each resource is decoded by its type, found
// without decoding the resource when it comes first, and a resource whose
// type the decoding of it as that type does not confirm is refused.
func TestSubmissionDecoding(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want string
		ok   bool
	}{
		{`{"resourceType":"Binary","data":"AAAA"}`, "Binary", true},
		{"  \n{\"resourceType\":\"List\"}", "List", true},
		{`{"id":"x","resourceType":"DocumentReference"}`, "DocumentReference", true},
		{`{ "resourceType" : "List" }`, "List", true},
		{`{"resourceType":"Bin\u0061ry"}`, "Binary", true},
		{``, "", false},
		{`[1]`, "", false},
		{`{"resourceType":1}`, "", false},
	} {
		got, ok := resourceType([]byte(tt.raw))
		if got != tt.want || ok != tt.ok {
			t.Errorf("resourceType(%q) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
	bundle := func(resources ...string) []byte {
		var es []string
		for i, r := range resources {
			es = append(es, `{"fullUrl":"urn:uuid:`+string(rune('1'+i))+`","resource":`+r+`,"request":{"method":"POST","url":"x"}}`)
		}
		return []byte(`{"resourceType":"Bundle","type":"transaction","entry":[` + strings.Join(es, ",") + `]}`)
	}
	const (
		list = `{"resourceType":"List","status":"current","mode":"working","entry":[{"item":{"reference":"urn:uuid:2"}}]}`
		ref  = `{"resourceType":"DocumentReference","content":[{"attachment":{"url":"urn:uuid:3"}}]}`
		bin  = `{"resourceType":"Binary","contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`
	)
	for _, tt := range []struct {
		name    string
		body    []byte
		refusal string // field and message; "" when accepted
	}{
		{"a submission", bundle(list, ref, bin), ""},
		{"resources with their type later", bundle(`{"status":"current","mode":"working","entry":[{"item":{"reference":"urn:uuid:2"}}],"resourceType":"List"}`, ref, `{"data":"PGEvPg==","contentType":"application/hl7-v3+xml","resourceType":"Binary"}`), ""},
		{"a List that is also a Binary", bundle(`{"resourceType":"List","resourceType":"Binary"}`, ref, bin), "Bundle.entry[0].resource.resourceType: the resource has more than one resourceType"},
		{"a DocumentReference that is also a List", bundle(list, `{"resourceType":"DocumentReference","resourceType":"List"}`, bin), "Bundle.entry[1].resource.resourceType: the resource has more than one"},
		{"a List that does not decode", bundle(`{"resourceType":"List","status":1}`, ref, bin), "Bundle.entry[0].resource: the List does not decode"},
		{"a Binary that does not decode", bundle(list, ref, `{"resourceType":"Binary","data":[]}`), "Bundle.entry[2].resource: the Binary does not decode"},
		{"a resource without a type", bundle(list, `{}`, bin), "Bundle.entry[1].resource: each entry needs a resource"},
		{"a Patient", bundle(list, `{"resourceType":"Patient"}`, bin), "Bundle.entry[1].resource.resourceType: a submission holds"},
		{"not JSON", []byte(`{"resourceType":"Bundle"`), "Bundle: the body is not a JSON FHIR resource"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSubmission(tt.body, "")
			got := ""
			if b, ok := err.(*badRequest); ok {
				got = b.expr + ": " + b.msg
			} else if err != nil {
				got = err.Error()
			}
			switch {
			case tt.refusal == "" && err != nil:
				t.Errorf("refused: %v", got)
			case tt.refusal != "" && !strings.HasPrefix(got, tt.refusal):
				t.Errorf("got %q, want a refusal starting %q", got, tt.refusal)
			}
		})
	}
}

// TestSubmissionBundleIsMHDMinimal: the bundle `arkisto bundle` writes
// claims the MHD Minimal profiles and carries what they require of the
// SubmissionSet: the source id, a unique id and an entry UUID, the date,
// the subject.
func TestSubmissionBundleIsMHDMinimal(t *testing.T) {
	world, err := gen.NewPKI(gen.PKIOptions{KeyType: pki.P256, Organisations: 1, ProfessionalsPerOrg: 1})
	if err != nil {
		t.Fatal(err)
	}
	d, err := gen.New(world, gen.Options{Clients: 1}).Next()
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	raw, err := SubmissionBundle(d.XML)
	if err != nil {
		t.Fatal(err)
	}
	var b Bundle
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	if b.Meta == nil || len(b.Meta.Profile) != 1 || b.Meta.Profile[0] != ProfileMinimalProvideBundle {
		t.Errorf("bundle meta %+v", b.Meta)
	}
	var list List
	if err := json.Unmarshal(b.Entry[0].Resource, &list); err != nil || list.ResourceType != "List" {
		t.Fatalf("first entry: %v %s", err, b.Entry[0].Resource)
	}
	if list.Meta == nil || len(list.Meta.Profile) != 1 || list.Meta.Profile[0] != ProfileMinimalSubmissionSet {
		t.Errorf("submission set meta %+v", list.Meta)
	}
	if len(list.Extension) != 1 || list.Extension[0].URL != ExtensionSourceID || list.Extension[0].ValueIdentifier == nil ||
		list.Extension[0].ValueIdentifier.Value != "urn:oid:"+d.Header.Custodian.OID {
		t.Errorf("sourceId %+v, want the custodian %s", list.Extension, d.Header.Custodian.OID)
	}
	uses := map[string]string{}
	for _, id := range list.Identifier {
		uses[id.Use] = id.Value
	}
	// MHD 4.2.3: the entryUUID is official (a urn:uuid:, here the
	// fullUrl), the uniqueId usual (an OID as a urn:oid:).
	if uses["official"] != b.Entry[0].FullURL || !strings.HasPrefix(uses["official"], "urn:uuid:") ||
		!regexp.MustCompile(`^urn:oid:2\.25\.[1-9][0-9]{0,38}$`).MatchString(uses["usual"]) {
		t.Errorf("identifiers %+v (fullUrl %s): want the entryUUID (official) and a uniqueId OID (usual)", list.Identifier, b.Entry[0].FullURL)
	}
	var ref DocumentReference
	if err := json.Unmarshal(b.Entry[1].Resource, &ref); err != nil || ref.MasterIdentifier == nil || ref.MasterIdentifier.Use != "usual" ||
		ref.MasterIdentifier.Value != "urn:oid:"+d.Header.ID {
		t.Errorf("DocumentReference masterIdentifier %+v (%v): want the document's uniqueId, use usual", ref.MasterIdentifier, err)
	}
	at, err := time.Parse(time.RFC3339Nano, list.Date)
	if err != nil || at.Before(before) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("date %q (%v), want now", list.Date, err)
	}
	if list.Subject == nil || list.Subject.Identifier == nil || list.Subject.Identifier.Value != d.Header.Client.ID.Extension {
		t.Errorf("subject %+v", list.Subject)
	}
}

func TestUUIDOID(t *testing.T) {
	// ITU-T X.667's own example: the UUID f81d4fae-7dec-11d0-a765-00a0c91e6bf6
	// is the OID 2.25.329800735698586629295641978511506172918.
	if got, want := uuidOID("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"), "urn:oid:2.25.329800735698586629295641978511506172918"; got != want {
		t.Errorf("uuidOID = %s, want %s", got, want)
	}
}

// TestSubmissionBundleReplacement: the DocumentReferences `arkisto bundle`
// writes claim the MHD Minimal profile and carry the document's uniqueId,
// entryUUID, size, SHA-1 hash and creation; a correction brings the
// UpdateDocumentRefs PATCH of the replaced version, last, unless NoPatch;
// and the door's own parser reads the PATCH as superseding that version.
func TestSubmissionBundleReplacement(t *testing.T) {
	world, err := gen.NewPKI(gen.PKIOptions{KeyType: pki.P256, Organisations: 1, ProfessionalsPerOrg: 1})
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(world, gen.Options{Clients: 1, ReplaceEvery: 1})
	var doc *gen.Doc
	for range 20 {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if d.Header.Replaces != nil {
			doc = d
			break
		}
	}
	if doc == nil {
		t.Fatal("no correction generated")
	}
	h := doc.Header
	for _, tt := range []struct {
		name string
		opt  BundleOptions
		want int // entries
	}{{"with the PATCH", BundleOptions{}, 4}, {"without", BundleOptions{NoPatch: true}, 3}} {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := SubmissionBundleWith(tt.opt, doc.XML)
			if err != nil {
				t.Fatal(err)
			}
			var b Bundle
			if err := json.Unmarshal(raw, &b); err != nil {
				t.Fatal(err)
			}
			if len(b.Entry) != tt.want {
				t.Fatalf("%d entries, want %d", len(b.Entry), tt.want)
			}
			var ref DocumentReference
			if err := json.Unmarshal(b.Entry[1].Resource, &ref); err != nil {
				t.Fatal(err)
			}
			sum := sha1.Sum(doc.XML)
			att := ref.Content[0].Attachment
			if ref.Meta == nil || !slices.Equal(ref.Meta.Profile, []string{ProfileMinimalDocumentReference}) || !conformsMinimal(&ref) {
				t.Errorf("DocumentReference meta %+v", ref.Meta)
			}
			if ref.MasterIdentifier.Use != "usual" || ref.MasterIdentifier.Value != "urn:oid:"+h.ID ||
				len(ref.Identifier) != 1 || ref.Identifier[0].Use != "official" || ref.Identifier[0].Value != b.Entry[1].FullURL {
				t.Errorf("identifiers %+v %+v", ref.MasterIdentifier, ref.Identifier)
			}
			if att.Hash != base64.StdEncoding.EncodeToString(sum[:]) || att.Size == nil || *att.Size != int64(len(doc.XML)) || att.Creation != instant(h.EffectiveTime) {
				t.Errorf("attachment %+v", att)
			}
			sub, err := parseSubmission(raw, "")
			if err != nil {
				t.Fatalf("the door's parser refuses it: %v", err)
			}
			if tt.opt.NoPatch {
				if len(sub.patches) != 0 {
					t.Errorf("patches %+v", sub.patches)
				}
				return
			}
			last := b.Entry[len(b.Entry)-1]
			if last.Request.Method != "PATCH" || last.Request.URL != "DocumentReference/"+h.Replaces.ID {
				t.Errorf("the last entry's request %+v", last.Request)
			}
			if len(sub.patches) != 1 || sub.patches[0].target != h.Replaces.ID || sub.patches[0].index != len(b.Entry)-1 {
				t.Errorf("patches %+v, want one of %s", sub.patches, h.Replaces.ID)
			}
		})
	}
}
