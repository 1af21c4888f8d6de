package archive_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

func read(t *testing.T, xml []byte) *cda.Document {
	t.Helper()
	d, probs := cda.Read(xml, cda.Options{})
	if d == nil || len(probs) > 0 {
		t.Fatalf("document does not read: %v", probs)
	}
	return d
}

func codesOf(p interface{ Codes() []string }) string { return strings.Join(p.Codes(), ",") }

// The public Kanta samples are bound: the plan is signed by its author, the
// client relationship document by its custodian's system, and their
// structured forms name the header's client and organiser.
func TestBindingSamples(t *testing.T) {
	for _, f := range []string{"asiakkuusasiakirja_S.xml", "asia_ja_rajoitukset_S.xml"} {
		xml, err := os.ReadFile("../../testdata/kanta/" + f)
		if err != nil {
			t.Fatal(err)
		}
		d := read(t, xml)
		rep := (&xmldsig.Verifier{}).Verify(d)
		if p := archive.Binding(d, rep); len(p) > 0 {
			t.Errorf("%s: %v", f, p)
		}
		ch := &archive.Checked{Doc: d, Report: rep}
		if p := ch.SignerProblems(archive.Caller{Organisation: d.Custodian.OID}); len(p) > 0 {
			t.Errorf("%s submitted by its custodian: %v", f, p)
		}
	}
}

func TestBindingSignatures(t *testing.T) {
	w, err := gen.NewPKI(gen.PKIOptions{Seed: 5, KeyType: pki.P256, ProfessionalsPerOrg: 2})
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(w, gen.Options{Seed: 6, Clients: 1})
	rel, err := g.Next() // client relationship document, the organiser's system signs
	if err != nil {
		t.Fatal(err)
	}
	plan, err := g.Next() // client plan, the author signs
	if err != nil {
		t.Fatal(err)
	}
	owner := rel.Org
	var other *gen.Organisation
	for _, o := range w.Organisations {
		if o != owner {
			other = o
			break
		}
	}
	var author, colleague *gen.Professional
	for _, p := range w.Professionals {
		switch {
		case p.RegistrationNumber == plan.Header.Author.ID.Extension:
			author = p
		case colleague == nil:
			colleague = p
		}
	}
	profSigner := func(p *gen.Professional) *xmldsig.Signer {
		return &xmldsig.Signer{Key: p.Identity.Key, Cert: p.Identity.Cert, TypeCode: codes.SignatureProfessional}
	}
	sysSigner := func(o *gen.Organisation) *xmldsig.Signer {
		return &xmldsig.Signer{Key: o.System.Key, Cert: o.System.Cert, TypeCode: codes.SignatureSystem}
	}
	render := func(h *cda.Header, body cda.Body, s *xmldsig.Signer) *cda.Document {
		xml, err := gen.Render(h, body, s, false)
		if err != nil {
			t.Fatal(err)
		}
		return read(t, xml)
	}
	relDoc, planDoc := read(t, rel.XML), read(t, plan.XML)
	withHeader := func(d *cda.Document, mutate func(h *cda.Header)) *cda.Header {
		h := d.Header
		mutate(&h)
		return &h
	}
	cases := []struct {
		name      string
		doc       *cda.Document
		submitter *gen.Organisation
		want      string // rule codes, "" for none
	}{
		{"generated relationship document", relDoc, owner, ""},
		{"generated plan", planDoc, owner, ""},
		{"plan signed by a colleague of the author", render(&planDoc.Header, planDoc.Body, profSigner(colleague)), owner, archive.RuleSignerAuthor},
		{"plan whose author was changed", render(withHeader(planDoc, func(h *cda.Header) { h.Author.ID.Extension = colleague.RegistrationNumber }), planDoc.Body, profSigner(author)), owner, archive.RuleSignerAuthor},
		{"relationship document signed by a professional", render(&relDoc.Header, relDoc.Body, profSigner(author)), owner, archive.RuleSignerAuthor},
		{"plan signed by the custodian's system", render(&planDoc.Header, planDoc.Body, sysSigner(owner)), owner, ""},
		{"plan signed by another organisation's system, submitted by the custodian", render(&planDoc.Header, planDoc.Body, sysSigner(other)), owner, archive.RuleSignerOrganisation},
		{"plan signed by the submitting provider's system", render(&planDoc.Header, planDoc.Body, sysSigner(other)), other, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := (&xmldsig.Verifier{Roots: w.Roots()}).Verify(tc.doc)
			if !rep.Accepted() {
				t.Fatalf("fixture: signatures not accepted: %v", rep.Problems())
			}
			p := archive.Binding(tc.doc, rep)
			ch := &archive.Checked{Doc: tc.doc, Report: rep}
			p = append(p, ch.SignerProblems(archive.Caller{Organisation: tc.submitter.ControllerOID()})...)
			if got := codesOf(p); got != tc.want {
				t.Fatalf("problems %q, want %q: %v", got, tc.want, p)
			}
			for _, pr := range p {
				if !strings.Contains(pr.Path, "hl7fi:signature[1]/ds:Signature") {
					t.Errorf("problem does not name the signature: %v", pr)
				}
				if pr.Code == archive.RuleSignerAuthor && (strings.Contains(pr.Message, author.RegistrationNumber) || strings.Contains(pr.Message, colleague.RegistrationNumber)) {
					t.Errorf("the message names a professional: %s", pr.Message)
				}
			}
		})
	}
}

// The client and, for a client relationship document, the organiser the
// signed structured form states must be the header's.
func TestBindingStructuredForm(t *testing.T) {
	client := cda.ID{Root: hetu.OIDRoot, Extension: "010190-999W"}
	temp := cda.ID{Root: "1.2.246.10.1234567.22.2026", Extension: "T-42"}
	const custodian = "1.2.246.10.1234567.10.0"
	form := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	person := func(system, value string) map[string]any {
		return map[string]any{"sukunimi": "X", "henkilotunnus": map[string]any{"system": system, "value": value}}
	}
	plan := func(asiakas any) []byte {
		return form(map[string]any{"lapsiperheiden_palvelujen_asiakassuunnitelma": map[string]any{"asiakas": asiakas, "paivamaara": "2026-03-23"}})
	}
	relForm := func(clientID, organiser string) []byte {
		return form(gen.RelationshipForm(gen.RelationshipSpec{ID: "1.2.3", ClientID: clientID, Organiser: cda.Organisation{OID: organiser}, Tasks: []gen.TaskSpec{{Code: "24"}}}))
	}
	cases := []struct {
		name   string
		client cda.ID
		group  string
		js     []byte
		want   string
	}{
		{"plan naming the client (urn:oid system)", client, codes.GroupLaterPhase, plan([]any{person("urn:oid:1.2.246.21", client.Extension)}), ""},
		{"plan naming the client (bare system)", client, codes.GroupLaterPhase, plan([]any{person("1.2.246.21", client.Extension)}), ""},
		{"plan naming another client", client, codes.GroupLaterPhase, plan([]any{person("urn:oid:1.2.246.21", "010190-998V")}), archive.RuleBodyClient},
		{"plan naming the client as an object", client, codes.GroupLaterPhase, plan(person("urn:oid:1.2.246.21", client.Extension)), ""},
		{"family plan naming the client among others", client, codes.GroupLaterPhase, plan([]any{person("urn:oid:1.2.246.21", "010190-998V"), person("urn:oid:1.2.246.21", client.Extension)}), ""},
		{"the same code under another root", temp, codes.GroupLaterPhase, plan([]any{person("urn:oid:1.2.246.21", temp.Extension)}), archive.RuleBodyClient},
		{"temporary identifier stated", temp, codes.GroupLaterPhase, plan([]any{map[string]any{"tilapainen_yksilointitunnus": map[string]any{"system": temp.Root, "value": temp.Extension}}}), ""},
		{"no client stated", client, codes.GroupLaterPhase, form(map[string]any{"v": 1}), ""},
		{"no structured form", client, codes.GroupLaterPhase, nil, ""},
		{"relationship of the client and custodian", client, codes.GroupClientRelationship, relForm(client.Extension, custodian), ""},
		{"relationship of the custodian's other unit", client, codes.GroupClientRelationship, relForm(client.Extension, "1.2.246.10.1234567.10.77"), ""},
		{"relationship of another client", client, codes.GroupClientRelationship, relForm("010190-998V", custodian), archive.RuleBodyClient},
		{"relationship of another organiser", client, codes.GroupClientRelationship, relForm(client.Extension, "1.2.246.10.7654321.10.0"), archive.RuleBodyOrganiser},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &cda.Document{Header: cda.Header{Client: cda.Client{ID: tc.client}, Custodian: cda.Organisation{OID: custodian}, DocumentGroup: cda.Code{Code: tc.group}}, Body: cda.Body{Structured: tc.js}}
			p := archive.Binding(d, nil)
			if got := codesOf(p); got != tc.want {
				t.Fatalf("problems %q, want %q: %v", got, tc.want, p)
			}
			for _, pr := range p {
				if strings.Contains(pr.Message, client.Extension) || strings.Contains(pr.Message, "010190-998V") {
					t.Errorf("the message names an identity code: %s", pr.Message)
				}
			}
		})
	}
}

// The generator's documents are bound: a stream with replacements and
// whitespace-stripped signatures, and a client relationship document of a
// client with a temporary identifier.
func TestBindingGenerated(t *testing.T) {
	w, err := gen.NewPKI(gen.PKIOptions{Seed: 8, KeyType: pki.P256})
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(w, gen.Options{Seed: 9, Clients: 5, ReplaceEvery: 3, StrippedEvery: 4})
	check := func(name string, xml []byte, submitter string) {
		t.Helper()
		d := read(t, xml)
		rep := (&xmldsig.Verifier{Roots: w.Roots()}).Verify(d)
		p := append(rep.Problems(), archive.Binding(d, rep)...)
		p = append(p, (&archive.Checked{Doc: d, Report: rep}).SignerProblems(archive.Caller{Organisation: submitter})...)
		if len(p) > 0 || !rep.Accepted() {
			t.Errorf("%s: %v", name, p)
		}
	}
	var rel *gen.Doc
	for i := 0; i < 40; i++ {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if rel == nil {
			rel = d
		}
		check(d.Header.ID, d.XML, d.Org.ControllerOID())
	}
	h := *rel.Header
	h.Signatures = nil
	h.Client.ID = cda.ID{Root: rel.Org.OID + ".22.2026", Extension: "T-1"}
	body, err := gen.MinimalBody(&h)
	if err != nil {
		t.Fatal(err)
	}
	xml, err := gen.Render(&h, body, &xmldsig.Signer{Key: rel.Org.System.Key, Cert: rel.Org.System.Cert, TypeCode: codes.SignatureSystem}, false)
	if err != nil {
		t.Fatal(err)
	}
	check("temporary identifier", xml, rel.Org.ControllerOID())
}
