package xmldsig_test

// A document signed by xmlsec1, stored, so that the interoperability
// regression (including the canonicalisation corner cases) runs also where
// xmlsec1 is not installed. Regenerate with
//
//	go test ./internal/xmldsig -run TestXmlsecFixture -regen-xmlsec-fixture
//
// (needs xmlsec1). Only the CA certificate is stored, no private key.

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

var regenFixture = flag.Bool("regen-xmlsec-fixture", false, "re-create testdata/xmlsec1_signed.xml with xmlsec1")

const (
	fixtureDoc = "testdata/xmlsec1_signed.xml"
	fixtureCA  = "testdata/xmlsec1_ca.pem"
)

func TestXmlsecFixture(t *testing.T) {
	if *regenFixture {
		regenerateFixture(t)
	}
	xml, err := os.ReadFile(fixtureDoc)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(fixtureCA)
	if err != nil {
		t.Fatal(err)
	}
	cas, err := pki.ParseCerts(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	// The corner cases are in the signed body.
	for _, want := range []string{`z:b="1"`, `a:a="2"`, `xml:lang="fi"`, "&#13;", "<![CDATA["} {
		if !bytes.Contains(xml, []byte(want)) {
			t.Fatalf("fixture lacks %s", want)
		}
	}
	v := &xmldsig.Verifier{Roots: poolOf(cas...)}
	rep := v.Verify(readDoc(t, xml))
	wantAccepted(t, rep)
	want := []struct{ typ, alg string }{{xmldsig.TypeProfessional, xmldsig.AlgECDSASHA256}, {xmldsig.TypeSystem, xmldsig.AlgRSASHA256}}
	if len(rep.Signatures) != len(want) {
		t.Fatalf("%d signatures", len(rep.Signatures))
	}
	for i, r := range rep.Signatures {
		if r.Type != want[i].typ || r.Algorithm != want[i].alg || r.Form != xmldsig.FormAsReceived {
			t.Errorf("signature %d: %s %s %s", i, r.Type, r.Algorithm, r.Form)
		}
	}
	// Attribute order in the text is no part of the canonical form (C14N
	// orders by namespace URI, then local name); attribute values are.
	swapped := replaceOnce(t, xml, `a:a="2" z:b="1"`, `z:b="1" a:a="2"`)
	wantAccepted(t, v.Verify(readDoc(t, swapped)))
	changed := replaceOnce(t, xml, `z:b="1"`, `z:b="2"`)
	wantInvalid(t, v.Verify(readDoc(t, changed)), xmldsig.RuleDigest)
}

func regenerateFixture(t *testing.T) {
	w := testWorld(t)
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ca, err := pki.NewCA("arkisto xmldsig fixture CA", pki.RSA2048, from, 30*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := ca.Issue(pki.Template{Subject: pki.SystemSubject("1.2.246.10.12345678.10.0", "Fixture Oy", "Fixture system"), KeyType: pki.RSA2048, NotBefore: from, Validity: 20 * 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	prof, err := ca.Issue(pki.Template{Subject: pki.ProfessionalSubject("10012345678", "Testi", "Ammattilainen"), KeyType: pki.P256, NotBefore: from, Validity: 20 * 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	b := w.fresh(true)
	b.Body.CreateAttr("xml:lang", "fi")
	note := b.Body.CreateElement("hl7fi:note")
	note.CreateAttr("xmlns:z", "urn:a-first")
	note.CreateAttr("xmlns:a", "urn:z-last")
	note.CreateAttr("a:a", "2")
	note.CreateAttr("z:b", "1")
	note.SetText("x@CR@y@CDATA@")
	note.CreateComment(" not signed ")
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	addTemplate(b, template{id: "sig-1", typeCode: codes.SignatureProfessional, method: xmldsig.AlgECDSASHA256, digest: xmldsig.AlgSHA256, at: at})
	addTemplate(b, template{id: "sig-2", typeCode: codes.SignatureSystem, method: xmldsig.AlgRSASHA256, digest: xmldsig.AlgSHA256, enveloped: true, at: at.Add(time.Minute)})
	markers := strings.NewReplacer("@CR@", "&#13;", "@CDATA@", "<![CDATA[a < b & c]]>")
	xml := []byte(markers.Replace(string(serialise(t, b))))
	xml = xmlsecSign(t, xml, prof, 1)
	xml = xmlsecSign(t, xml, sys, 2)
	if err := os.WriteFile(fixtureDoc, xml, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fixtureCA, pki.EncodeCert(ca.Cert), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s and %s", fixtureDoc, fixtureCA)
}
