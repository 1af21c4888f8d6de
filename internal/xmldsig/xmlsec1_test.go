package xmldsig_test

// Interoperability with xmlsec1 (libxmlsec1 with OpenSSL), an independent
// XML Signature implementation: documents we sign verify with xmlsec1, and
// documents xmlsec1 signs verify with us.

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// tool finds an external program; without it the test is skipped, except
// on CI, where it must be installed.
func tool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found; CI must install it (Debian package %s)", name, debianPackage)
		}
		t.Skipf("%s not installed (Debian package %s)", name, debianPackage)
	}
	return p
}

var xmlsecIDArgs = []string{
	"--id-attr:ID", "urn:hl7-org:v3:nonXMLBody",
	"--id-attr:ID", "urn:hl7finland:signatureTimestamp",
	"--enabled-reference-uris", "same-doc",
}

func nthSignature(n int) string {
	return fmt.Sprintf("(//*[local-name()='Signature' and namespace-uri()='%s'])[%d]", cda.NSDSig, n)
}

// xmlsecVerify runs xmlsec1 --verify on the n-th ds:Signature. trustedPEM
// "" means --insecure (no certificate checks).
func xmlsecVerify(t testing.TB, xml []byte, trustedPEM string, n int) (bool, string) {
	t.Helper()
	bin := tool(t, "xmlsec1", "xmlsec1")
	f := filepath.Join(tempDir(t), "doc.xml")
	if err := os.WriteFile(f, xml, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--verify"}
	if trustedPEM == "" {
		args = append(args, "--insecure")
	} else {
		args = append(args, "--trusted-pem", trustedPEM)
	}
	args = append(args, xmlsecIDArgs...)
	args = append(args, "--node-xpath", nthSignature(n), f)
	out, err := exec.Command(bin, args...).CombinedOutput()
	return err == nil, string(out)
}

// tempDir is a temporary directory whose path holds no commas: xmlsec1
// splits --privkey-pem at them (t.TempDir's path carries the test name).
func tempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "xmldsig-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// noblanks runs xmllint --noblanks, as SOURCE.md does for documents signed
// over the whitespace-free form.
func noblanks(t testing.TB, xml []byte) []byte {
	t.Helper()
	bin := tool(t, "xmllint", "libxml2-utils")
	f := filepath.Join(tempDir(t), "in.xml")
	if err := os.WriteFile(f, xml, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--noblanks", f).Output()
	if err != nil {
		t.Fatalf("xmllint: %v", err)
	}
	return out
}

func writePEM(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	f := filepath.Join(dir, name)
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// The harness itself: xmlsec1 accepts the public samples over the stripped
// form and refuses them as stored, as SOURCE.md records.
func TestXmlsecHarnessOnSamples(t *testing.T) {
	tool(t, "xmlsec1", "xmlsec1")
	tool(t, "xmllint", "libxml2-utils")
	for _, s := range samples {
		xml := readSample(t, s.file)
		for n := 1; n <= len(s.timestamps); n++ {
			if ok, out := xmlsecVerify(t, noblanks(t, xml), "", n); !ok {
				t.Errorf("%s signature %d: xmlsec1 refuses the stripped sample:\n%s", s.file, n, out)
			}
			if ok, _ := xmlsecVerify(t, xml, "", n); ok {
				t.Errorf("%s signature %d: xmlsec1 accepts the sample as stored", s.file, n)
			}
		}
	}
}

// (a) Generated documents, RSA and ECDSA, signed as received and over the
// stripped form, verify with xmlsec1 against the test CA.
func TestXmlsecVerifiesGenerated(t *testing.T) {
	tool(t, "xmlsec1", "xmlsec1")
	tool(t, "xmllint", "libxml2-utils")
	worlds := map[string]*gen.PKI{"RSA": testWorld(t).pki, "ECDSA P-256": testECWorld(t)}
	for name, world := range worlds {
		t.Run(name, func(t *testing.T) {
			ca := writePEM(t, tempDir(t), "ca.pem", pki.EncodeCert(world.CA.Cert))
			v := &xmldsig.Verifier{Roots: world.Roots()}
			g := gen.New(world, gen.Options{Seed: 44, Clients: 2, StrippedEvery: 2})
			var plain, stripped int
			for i := 0; i < 16 && (plain < 2 || stripped < 2); i++ {
				doc, err := g.Next()
				if err != nil {
					t.Fatal(err)
				}
				rep := v.Verify(readDoc(t, doc.XML))
				wantAccepted(t, rep)
				xml := doc.XML
				if doc.Stripped {
					stripped++
					xml = noblanks(t, doc.XML)
					if rep.Signatures[0].Form != xmldsig.FormWhitespaceStripped {
						t.Errorf("document %d: form %q", i, rep.Signatures[0].Form)
					}
				} else {
					plain++
				}
				if ok, out := xmlsecVerify(t, xml, ca, 1); !ok {
					t.Errorf("document %d (stripped %v, %s): xmlsec1 refuses it:\n%s", i, doc.Stripped, rep.Signatures[0].Type, out)
				}
				if i == 0 {
					// The harness can fail: a changed body is refused.
					start, end := elementContent(t, xml, "text", bytes.Index(xml, []byte("<nonXMLBody")), 0)
					p := base64Positions(xml, start, end)[10]
					if ok, _ := xmlsecVerify(t, withByte(xml, p, otherB64(xml[p])), ca, 1); ok {
						t.Error("xmlsec1 accepts a changed body")
					}
				}
			}
			if plain < 2 || stripped < 2 {
				t.Fatalf("only %d plain and %d stripped documents", plain, stripped)
			}
			// The CA is really checked: another CA does not do.
			other := writePEM(t, tempDir(t), "other.pem", pki.EncodeCert(testWorld(t).otherCA.Cert))
			doc, err := g.Next()
			if err != nil {
				t.Fatal(err)
			}
			xml := doc.XML
			if doc.Stripped {
				xml = noblanks(t, xml)
			}
			if ok, _ := xmlsecVerify(t, xml, other, 1); ok {
				t.Error("xmlsec1 accepts the signature with another CA as trust anchor")
			}
		})
	}
}

// Two signatures by xmldsig.Signer in one document (one with the
// enveloped-signature transform): xmlsec1 verifies each.
func TestXmlsecVerifiesTwoSignatures(t *testing.T) {
	tool(t, "xmlsec1", "xmlsec1")
	w := testWorld(t)
	b := w.fresh(true)
	at := time.Now().Add(-time.Hour)
	for i, s := range []*xmldsig.Signer{
		{Key: w.prof.Key, Cert: w.prof.Cert, TypeCode: codes.SignatureProfessional},
		{Key: w.system.Key, Cert: w.system.Cert, TypeCode: codes.SignatureSystem, Enveloped: true},
	} {
		if err := s.Sign(b.Collection, b.Body, fmt.Sprintf("sig-%d", i+1), at.Add(time.Duration(i)*time.Minute), false); err != nil {
			t.Fatal(err)
		}
	}
	xml := serialise(t, b)
	wantAccepted(t, w.verifier().Verify(readDoc(t, xml)))
	ca := writePEM(t, tempDir(t), "ca.pem", pki.EncodeCert(w.pki.CA.Cert))
	for n := 1; n <= 2; n++ {
		if ok, out := xmlsecVerify(t, xml, ca, n); !ok {
			t.Errorf("signature %d: xmlsec1 refuses it:\n%s", n, out)
		}
	}
}

// ---------------------------------------------------------------------------
// (b) Documents signed by xmlsec1

// template is one hl7fi:signature for xmlsec1 to sign.
type template struct {
	id        string
	typeCode  string
	method    string
	digest    string
	enveloped bool
	at        time.Time
}

// addTemplate appends the hl7fi:signature with description, timestamp and a
// ds:Signature template: SignedInfo with the two references and empty
// DigestValue and SignatureValue, KeyInfo with an empty X509Data.
func addTemplate(b *cda.Built, tp template) {
	sig := b.Collection.CreateElement("signature")
	sig.CreateAttr("ID", tp.id)
	desc := sig.CreateElement("signatureDescription")
	desc.CreateAttr("code", tp.typeCode)
	desc.CreateAttr("codeSystem", codes.OIDSignatureType)
	ts := sig.CreateElement("signatureTimestamp")
	ts.CreateAttr("ID", "CDA-timestamp."+tp.id)
	ts.SetText(tp.at.UTC().Format("2006-01-02T15:04:05.000Z"))
	ds := sig.CreateElement("Signature")
	ds.CreateAttr("xmlns", cda.NSDSig)
	si := ds.CreateElement("SignedInfo")
	si.CreateElement("CanonicalizationMethod").CreateAttr("Algorithm", xmldsig.AlgExcC14N)
	si.CreateElement("SignatureMethod").CreateAttr("Algorithm", tp.method)
	for _, uri := range []string{"#" + b.Body.SelectAttrValue("ID", ""), "#CDA-timestamp." + tp.id} {
		r := si.CreateElement("Reference")
		r.CreateAttr("URI", uri)
		tr := r.CreateElement("Transforms")
		if tp.enveloped {
			tr.CreateElement("Transform").CreateAttr("Algorithm", xmldsig.AlgEnveloped)
		}
		tr.CreateElement("Transform").CreateAttr("Algorithm", xmldsig.AlgExcC14N)
		r.CreateElement("DigestMethod").CreateAttr("Algorithm", tp.digest)
		r.CreateElement("DigestValue")
	}
	ds.CreateElement("SignatureValue")
	ds.CreateElement("KeyInfo").CreateElement("X509Data")
}

// xmlsecSign has xmlsec1 sign the n-th ds:Signature of xml with id's key.
func xmlsecSign(t testing.TB, xml []byte, id *pki.Identity, n int) []byte {
	t.Helper()
	bin := tool(t, "xmlsec1", "xmlsec1")
	dir := tempDir(t)
	if err := id.Save(filepath.Join(dir, "signer")); err != nil {
		t.Fatal(err)
	}
	in, out := filepath.Join(dir, "template.xml"), filepath.Join(dir, "signed.xml")
	if err := os.WriteFile(in, xml, 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--sign", "--privkey-pem", filepath.Join(dir, "signer.key") + "," + filepath.Join(dir, "signer.crt")}, xmlsecIDArgs...)
	args = append(args, "--node-xpath", nthSignature(n), "--output", out, in)
	if msg, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("xmlsec1 --sign: %v\n%s", err, msg)
	}
	signed, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

type signer struct {
	id       *pki.Identity
	typeCode string
}

// signWithXmlsec builds the document, adds one template per signer and
// has xmlsec1 sign them in turn.
func signWithXmlsec(t testing.TB, b *cda.Built, signers []signer, tp template) []byte {
	t.Helper()
	for i, s := range signers {
		tp := tp
		tp.id = fmt.Sprintf("sig-%d", i+1)
		tp.typeCode = s.typeCode
		tp.at = time.Now().Add(-time.Duration(len(signers)-i) * time.Minute)
		if tp.method == "" {
			tp.method = xmldsig.AlgRSASHA256
			if _, ok := s.id.Key.(*ecdsa.PrivateKey); ok {
				tp.method = xmldsig.AlgECDSASHA256
			}
		}
		addTemplate(b, tp)
	}
	xml := serialise(t, b)
	for i, s := range signers {
		xml = xmlsecSign(t, xml, s.id, i+1)
	}
	return xml
}

func TestVerifiesXmlsecSigned(t *testing.T) {
	tool(t, "xmlsec1", "xmlsec1")
	w := testWorld(t)
	ec := testECWorld(t)
	ecSys, ecProf := ec.Organisations[0].System, ec.Professionals[0].Identity
	ecDoc, err := gen.New(ec, gen.Options{Seed: 45, Clients: 1}).Next()
	if err != nil {
		t.Fatal(err)
	}
	ecBody := readDoc(t, ecDoc.XML).Body
	sys := signer{w.system, codes.SignatureSystem}
	prof := signer{w.prof, codes.SignatureProfessional}
	cases := []struct {
		name    string
		roots   *gen.PKI
		build   func() *cda.Built
		signers []signer
		tp      template
	}{
		{"RSA system, exc-c14n", w.pki, func() *cda.Built { return w.fresh(false) }, []signer{sys}, template{digest: xmldsig.AlgSHA256}},
		{"RSA professional, enveloped", w.pki, func() *cda.Built { return w.fresh(true) }, []signer{prof}, template{digest: xmldsig.AlgSHA256, enveloped: true}},
		{"RSA-SHA512, SHA-512", w.pki, func() *cda.Built { return w.fresh(false) }, []signer{sys}, template{method: xmldsig.AlgRSASHA512, digest: xmldsig.AlgSHA512}},
		{"not indented", w.pki, func() *cda.Built { return cda.Build(w.sysDoc.Header, w.sysBody, false) }, []signer{sys}, template{digest: xmldsig.AlgSHA256}},
		{"two signatures", w.pki, func() *cda.Built { return w.fresh(true) }, []signer{prof, sys}, template{digest: xmldsig.AlgSHA256}},
		{"ECDSA system", ec, func() *cda.Built { return cda.Build(ecDoc.Header, ecBody, true) }, []signer{{ecSys, codes.SignatureSystem}}, template{digest: xmldsig.AlgSHA256}},
		{"ECDSA professional, enveloped", ec, func() *cda.Built { return cda.Build(ecDoc.Header, ecBody, true) }, []signer{{ecProf, codes.SignatureProfessional}}, template{digest: xmldsig.AlgSHA256, enveloped: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			xml := signWithXmlsec(t, c.build(), c.signers, c.tp)
			rep := (&xmldsig.Verifier{Roots: c.roots.Roots()}).Verify(readDoc(t, xml))
			wantAccepted(t, rep)
			if len(rep.Signatures) != len(c.signers) {
				t.Fatalf("%d signatures", len(rep.Signatures))
			}
			for i, r := range rep.Signatures {
				if r.Form != xmldsig.FormAsReceived || r.TypeCode != c.signers[i].typeCode {
					t.Errorf("signature %d: form %q, type %q", i, r.Form, r.TypeCode)
				}
			}
			// And a change after xmlsec1 signed is caught.
			start, end := elementContent(t, xml, "text", bytes.Index(xml, []byte("<nonXMLBody")), 0)
			p := base64Positions(xml, start, end)[5]
			wantInvalid(t, (&xmldsig.Verifier{Roots: c.roots.Roots()}).Verify(readDoc(t, withByte(xml, p, otherB64(xml[p])))), xmldsig.RuleDigest)
		})
	}
}

// Canonicalisation corner cases inside the signed body, checked both ways:
// xmlsec1 signs and we verify; we sign and xmlsec1 verifies. Markers in
// the tree are replaced in the serialised text by constructs etree does
// not write itself (character references, CDATA).
func TestXmlsecCanonicalisationCorners(t *testing.T) {
	tool(t, "xmlsec1", "xmlsec1")
	w := testWorld(t)
	ca := writePEM(t, tempDir(t), "ca.pem", pki.EncodeCert(w.pki.CA.Cert))
	markers := strings.NewReplacer(
		"@TAB@", "&#9;", "@LF@", "&#10;", "@CR@", "&#13;",
		"@CDATA@", "<![CDATA[a < b && c > d ]]]]><![CDATA[>]]>",
	)
	cases := map[string]func(body *etree.Element){
		"unused namespace declarations": func(body *etree.Element) {
			body.CreateAttr("xmlns:unused", "urn:example:unused")
			body.CreateAttr("xmlns:hl7fi", cda.NSHL7FI)
		},
		"xml:lang and xml:space": func(body *etree.Element) {
			body.CreateAttr("xml:lang", "fi")
			body.FindElement("text").CreateAttr("xml:space", "preserve")
		},
		"attribute character references": func(body *etree.Element) {
			body.CreateAttr("classCode", `a@TAB@b@LF@c@CR@d "q" <lt> &amp; 'apos'`)
		},
		"text character references and CDATA": func(body *etree.Element) {
			e := body.CreateElement("hl7fi:note")
			e.SetText("x@CR@y@CDATA@z \"q\" > '")
		},
		"comments and processing instructions": func(body *etree.Element) {
			body.InsertChildAt(0, etree.NewComment(" a comment "))
			body.CreateProcInst("arkisto", "mode=\"test\"")
			body.CreateElement("hl7fi:note").CreateComment("inside")
		},
		"namespace declared on an ancestor, used deep": func(body *etree.Element) {
			e := body.CreateElement("ext:a")
			e.CreateAttr("xmlns:ext", "urn:example:ext")
			e.CreateElement("ext:b").CreateElement("ext:c").CreateAttr("ext:d", "1")
		},
		"default namespace undeclared and redeclared": func(body *etree.Element) {
			e := body.CreateElement("plain")
			e.CreateAttr("xmlns", "")
			e.CreateElement("inner").CreateAttr("k", "v")
			f := body.CreateElement("other")
			f.CreateAttr("xmlns", "urn:example:other")
			f.CreateElement("inner")
		},
		"prefixed attributes ordered by namespace URI": func(body *etree.Element) {
			e := body.CreateElement("hl7fi:note")
			e.CreateAttr("xmlns:z", "urn:a-first")
			e.CreateAttr("xmlns:a", "urn:z-last")
			e.CreateAttr("a:a", "2")
			e.CreateAttr("z:b", "1")
			e.CreateAttr("plain", "0")
		},
		"prefixed attributes, same local name": func(body *etree.Element) {
			body.Parent().Parent().CreateAttr("xmlns:p", "urn:z")
			body.Parent().Parent().CreateAttr("xmlns:q", "urn:a")
			e := body.CreateElement("hl7fi:note")
			e.CreateAttr("p:k", "1")
			e.CreateAttr("q:k", "2")
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			t.Run("xmlsec1 signs", func(t *testing.T) {
				b := w.fresh(false)
				edit(b.Body)
				addTemplate(b, template{id: "sig-1", typeCode: codes.SignatureSystem, method: xmldsig.AlgRSASHA256, digest: xmldsig.AlgSHA256, at: time.Now().Add(-time.Hour)})
				xml := []byte(markers.Replace(string(serialise(t, b))))
				xml = xmlsecSign(t, xml, w.system, 1)
				rep := w.verifier().Verify(readDoc(t, xml))
				wantAccepted(t, rep)
			})
			t.Run("we sign", func(t *testing.T) {
				// Parse the marked-up text first, so that we sign the tree the
				// archive (and xmlsec1) will read.
				b := w.fresh(false)
				edit(b.Body)
				tree := parseTree(t, []byte(markers.Replace(string(serialise(t, b)))))
				body := must(t, tree.Root(), "component/nonXMLBody")
				coll := must(t, tree.Root(), "localSocialHeader/signatureCollection")
				s := &xmldsig.Signer{Key: w.system.Key, Cert: w.system.Cert, TypeCode: codes.SignatureSystem}
				if err := s.Sign(coll, body, "sig-1", time.Now().Add(-time.Hour), false); err != nil {
					t.Fatal(err)
				}
				// Character references must survive serialisation.
				tree.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
				xml := treeBytes(t, tree)
				wantAccepted(t, w.verifier().Verify(readDoc(t, xml)))
				if ok, out := xmlsecVerify(t, xml, ca, 1); !ok {
					t.Errorf("xmlsec1 refuses our signature:\n%s", out)
				}
			})
		})
	}
}
