package xmldsig_test

// Signature wrapping and shape attacks. Where an attack needs a valid
// signature, the document is signed for real with a trusted key (by
// xmldsig.Signer or by the hand signer), so that the refusal can only come
// from the rule under test. TestHandSignerControl shows that the hand
// signer's ordinary output is accepted.

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// The hand signer's default output is an ordinary, accepted signature; so
// are its permitted variants. Every negative test below changes one thing.
func TestHandSignerControl(t *testing.T) {
	w := testWorld(t)
	cases := []struct {
		name         string
		professional bool
		s            spec
	}{
		{"system", false, spec{Signer: w.system}},
		{"professional", true, spec{Signer: w.prof, TypeCode: codes.SignatureProfessional}},
		{"enveloped-signature then exc-c14n", false, spec{Signer: w.system, Refs: func(body, ts *etree.Element) []ref {
			return []ref{
				{URI: "#" + body.SelectAttrValue("ID", ""), Target: body, Transforms: []string{xmldsig.AlgEnveloped, xmldsig.AlgExcC14N}},
				{URI: "#" + ts.SelectAttrValue("ID", ""), Target: ts, Transforms: []string{xmldsig.AlgEnveloped, xmldsig.AlgExcC14N}},
			}
		}}},
		{"timestamp first", false, spec{Signer: w.system, Refs: func(body, ts *etree.Element) []ref { return []ref{idRef(ts), idRef(body)} }}},
		{"RSA-SHA512 and SHA-512", false, spec{Signer: w.system, Method: xmldsig.AlgRSASHA512, Refs: func(body, ts *etree.Element) []ref {
			b, s := idRef(body), idRef(ts)
			b.Digest, s.Digest = xmldsig.AlgSHA512, xmldsig.AlgSHA512
			return []ref{b, s}
		}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := w.fresh(c.professional)
			handSign(t, b, c.s)
			rep := w.verifyBuilt(t, b)
			wantAccepted(t, rep)
			if rep.Signatures[0].Form != xmldsig.FormAsReceived {
				t.Errorf("form %q", rep.Signatures[0].Form)
			}
		})
	}
	// Two signatures, each over its own timestamp.
	b := w.fresh(true)
	handSign(t, b, spec{ID: "sig-1", Signer: w.prof, TypeCode: codes.SignatureProfessional})
	handSign(t, b, spec{ID: "sig-2", Signer: w.system})
	rep := w.verifyBuilt(t, b)
	wantAccepted(t, rep)
	if len(rep.Signatures) != 2 || rep.Signatures[0].Type != xmldsig.TypeProfessional || rep.Signatures[1].Type != xmldsig.TypeSystem {
		t.Fatalf("signatures: %+v", rep.Signatures)
	}
}

// ---------------------------------------------------------------------------
// Wrapping

// signedTree parses a document signed by gen and returns the tree with its
// body element and the header extension.
func signedTree(t *testing.T, xml []byte) (doc *etree.Document, body, header *etree.Element) {
	t.Helper()
	doc = parseTree(t, xml)
	root := doc.Root()
	return doc, must(t, root, "component/nonXMLBody"), must(t, root, "localSocialHeader")
}

// forge replaces the display form in body with other content.
func forge(t *testing.T, body *etree.Element) {
	t.Helper()
	txt := must(t, body, "text")
	txt.SetText(base64.StdEncoding.EncodeToString([]byte(`<div xmlns="http://www.w3.org/1999/xhtml"><p>Forged.</p></div>`)))
}

// A copy of the signed body carrying its ID is hidden in an extension
// element while the body the archive reads is altered: a resolver that
// picks the first (or any) element with the ID would verify the copy.
func TestDuplicateIDCopiedBody(t *testing.T) {
	w := testWorld(t)
	for _, attr := range []string{"ID", "Id", "id", "xml:id"} {
		t.Run(attr, func(t *testing.T) {
			doc, body, header := signedTree(t, w.sysDoc.XML)
			decoy := body.Copy()
			if attr != "ID" {
				decoy.RemoveAttr("ID")
				decoy.CreateAttr(attr, body.SelectAttrValue("ID", ""))
			}
			ext := header.CreateElement("hl7fi:extension")
			ext.AddChild(decoy)
			forge(t, body)
			rep := w.verifier().Verify(readDoc(t, treeBytes(t, doc)))
			wantInvalid(t, rep, xmldsig.RuleDuplicateID)
			if !rep.Document.Has(xmldsig.RuleDuplicateID) {
				t.Errorf("the collection does not report the duplicate: %v", rep.Document)
			}
			if attr == "ID" && !sigHas(rep, 0, xmldsig.RuleDuplicateID, "ds:Reference") {
				t.Errorf("the body reference does not report the duplicate: %v", rep.Signatures[0].Problems)
			}
		})
	}
	// An unrelated duplicate anywhere also refuses the document.
	doc, _, header := signedTree(t, w.sysDoc.XML)
	header.CreateElement("hl7fi:a").CreateAttr("ID", "x")
	header.CreateElement("hl7fi:b").CreateAttr("ID", "x")
	wantInvalid(t, w.verifier().Verify(readDoc(t, treeBytes(t, doc))), xmldsig.RuleDuplicateID)
}

// The classic wrap: the signed body is moved elsewhere (its digest still
// matches there) and a forged body without the signed ID takes its place at
// /ClinicalDocument/component/nonXMLBody, where the archive reads it.
func TestWrappedBodyMoved(t *testing.T) {
	w := testWorld(t)
	hide := map[string]func(t *testing.T, doc *etree.Document, body, header *etree.Element){
		"into an extension element": func(t *testing.T, doc *etree.Document, body, header *etree.Element) {
			header.CreateElement("hl7fi:extension").AddChild(body)
		},
		"into a ds:Object of the signature": func(t *testing.T, doc *etree.Document, body, header *etree.Element) {
			must(t, header, "signatureCollection/signature/Signature").CreateElement("Object").AddChild(body)
		},
		"into a second component after the forged one": func(t *testing.T, doc *etree.Document, body, header *etree.Element) {
			doc.Root().CreateElement("component").AddChild(body)
		},
	}
	forgedID := map[string]string{"other ID": "OID1.2.246.10.99999999.95.2026.1.1", "no ID": ""}
	for name, move := range hide {
		for idName, id := range forgedID {
			t.Run(name+", forged body with "+idName, func(t *testing.T) {
				doc, body, header := signedTree(t, w.sysDoc.XML)
				comp := body.Parent()
				forged := body.Copy()
				forged.RemoveAttr("ID")
				if id != "" {
					forged.CreateAttr("ID", id)
				}
				forge(t, forged)
				comp.RemoveChild(body)
				comp.AddChild(forged)
				move(t, doc, body, header)
				d := readDoc(t, treeBytes(t, doc))
				if d.BodyElement() == nil || d.BodyElement().SelectAttrValue("ID", "") != id {
					t.Fatal("the archive does not read the forged body; the attack is mis-built")
				}
				rep := w.verifier().Verify(d)
				wantInvalid(t, rep, xmldsig.RuleReferenceTarget)
				if !sigHas(rep, 0, xmldsig.RuleReferenceTarget, "ds:Reference") || !sigHas(rep, 0, xmldsig.RuleReferenceMissing, "") {
					t.Errorf("want the body reference refused as pointing elsewhere: %v", rep.Signatures[0].Problems)
				}
			})
		}
	}
}

// The same wrap on the public sample, by editing its text: the signed
// nonXMLBody is renamed into an extension and a forged one put first.
func TestWrappedSampleBody(t *testing.T) {
	xml := readSample(t, samples[1].file)
	start := strings.Index(string(xml), "<nonXMLBody ")
	end := strings.Index(string(xml), "</nonXMLBody>") + len("</nonXMLBody>")
	signed := string(xml[start:end])
	moved := strings.Replace(strings.Replace(signed, "<nonXMLBody ", "<hl7fi:signedCopy xmlns:hl7fi=\"urn:hl7finland\" ", 1), "</nonXMLBody>", "</hl7fi:signedCopy>", 1)
	forged := `<nonXMLBody ID="OIDforged"><text mediaType="application/xhtml+xml" representation="B64">` +
		base64.StdEncoding.EncodeToString([]byte(`<div xmlns="http://www.w3.org/1999/xhtml">Forged</div>`)) + `</text></nonXMLBody>`
	out := string(xml[:start]) + forged + moved + string(xml[end:])
	rep := sampleVerifier(t, []byte(out)).Verify(readDoc(t, []byte(out)))
	wantInvalid(t, rep, xmldsig.RuleReferenceTarget)
	for i := range rep.Signatures {
		if !sigHas(rep, i, xmldsig.RuleReferenceTarget, "ds:Reference[1]") {
			t.Errorf("signature %d: %v", i, rep.Signatures[i].Problems)
		}
	}
}

// A signature that covers another signature's timestamp instead of its
// own, validly signed.
func TestReferenceToOtherSignaturesTimestamp(t *testing.T) {
	w := testWorld(t)
	b := w.fresh(false)
	first := handSign(t, b, spec{ID: "sig-1", Signer: w.system})
	handSign(t, b, spec{ID: "sig-2", Signer: w.system, Refs: func(body, _ *etree.Element) []ref {
		return []ref{idRef(body), idRef(first.TS)}
	}})
	rep := w.verifyBuilt(t, b)
	wantInvalid(t, rep, xmldsig.RuleReferenceTarget)
	if !rep.Signatures[0].Valid || len(rep.Signatures[0].Problems) > 0 {
		t.Errorf("the first signature is fine: %v", rep.Signatures[0].Problems)
	}
	if !sigHas(rep, 1, xmldsig.RuleReferenceTarget, "ds:Reference[2]") || !sigHas(rep, 1, xmldsig.RuleReferenceMissing, "") || rep.Signatures[1].Valid {
		t.Errorf("second signature: %v", rep.Signatures[1].Problems)
	}
}

// The two sample signatures with their timestamps swapped: each reference
// now resolves to a timestamp in the other signature.
func TestSampleTimestampsSwapped(t *testing.T) {
	xml := readSample(t, samples[1].file)
	s := string(xml)
	var ts [2]string
	from := 0
	for k := range ts {
		i := strings.Index(s[from:], "<signatureTimestamp ") + from
		j := strings.Index(s[i:], "</signatureTimestamp>") + i + len("</signatureTimestamp>")
		ts[k] = s[i:j]
		from = j
	}
	s = strings.Replace(s, ts[0], "\x00", 1)
	s = strings.Replace(s, ts[1], ts[0], 1)
	s = strings.Replace(s, "\x00", ts[1], 1)
	rep := sampleVerifier(t, []byte(s)).Verify(readDoc(t, []byte(s)))
	wantInvalid(t, rep, xmldsig.RuleReferenceTarget)
	for i := range rep.Signatures {
		if !sigHas(rep, i, xmldsig.RuleReferenceTarget, "ds:Reference[2]") {
			t.Errorf("signature %d: %v", i, rep.Signatures[i].Problems)
		}
	}
}

// ---------------------------------------------------------------------------
// Reference shapes

// refCase signs the system document with the given references.
func refCase(t *testing.T, refs func(b *cda.Built, body, ts *etree.Element) []ref) *xmldsig.Report {
	t.Helper()
	w := testWorld(t)
	b := w.fresh(false)
	handSign(t, b, spec{Signer: w.system, Refs: func(body, ts *etree.Element) []ref { return refs(b, body, ts) }})
	return w.verifyBuilt(t, b)
}

func TestReferenceExtra(t *testing.T) {
	cases := map[string]func(b *cda.Built, body, ts *etree.Element) []ref{
		"third reference to a header element": func(b *cda.Built, body, ts *etree.Element) []ref {
			cust := b.Tree.Root().FindElement("custodian")
			cust.CreateAttr("ID", "custodian-1")
			return []ref{idRef(body), idRef(ts), idRef(cust)}
		},
		"third reference to the whole signature entry": func(b *cda.Built, body, ts *etree.Element) []ref {
			return []ref{idRef(body), idRef(ts), {URI: "#sig-1", Transforms: []string{xmldsig.AlgEnveloped, xmldsig.AlgExcC14N}}}
		},
		"body referenced twice": func(b *cda.Built, body, ts *etree.Element) []ref {
			return []ref{idRef(body), idRef(ts), idRef(body)}
		},
		"body twice, no timestamp": func(b *cda.Built, body, ts *etree.Element) []ref {
			return []ref{idRef(body), idRef(body)}
		},
		"timestamp referenced twice": func(b *cda.Built, body, ts *etree.Element) []ref {
			return []ref{idRef(body), idRef(ts), idRef(ts)}
		},
	}
	for name, refs := range cases {
		t.Run(name, func(t *testing.T) {
			wantInvalid(t, refCase(t, refs), xmldsig.RuleReferenceExtra)
		})
	}
}

func TestReferenceMissing(t *testing.T) {
	cases := map[string]func(b *cda.Built, body, ts *etree.Element) []ref{
		"no timestamp reference": func(b *cda.Built, body, ts *etree.Element) []ref { return []ref{idRef(body)} },
		"no body reference":      func(b *cda.Built, body, ts *etree.Element) []ref { return []ref{idRef(ts)} },
		"no references":          func(b *cda.Built, body, ts *etree.Element) []ref { return nil },
	}
	for name, refs := range cases {
		t.Run(name, func(t *testing.T) {
			wantInvalid(t, refCase(t, refs), xmldsig.RuleReferenceMissing)
		})
	}
}

func TestReferenceURI(t *testing.T) {
	w := testWorld(t)
	bodyID := "OID" + w.sysDoc.Header.ID
	uris := []string{
		"",
		"#",
		"#xpointer(id('" + bodyID + "'))",
		"#xpointer(/)",
		"http://example.org/document.xml#" + bodyID,
		"document.xml#" + bodyID,
		"file:///etc/passwd",
		bodyID,
		"# " + bodyID,
	}
	for _, uri := range uris {
		t.Run(uri, func(t *testing.T) {
			rep := refCase(t, func(b *cda.Built, body, ts *etree.Element) []ref {
				return []ref{{URI: uri, Target: body}, idRef(ts)}
			})
			wantInvalid(t, rep, xmldsig.RuleReferenceURI)
		})
	}
	t.Run("no URI attribute", func(t *testing.T) {
		rep := refCase(t, func(b *cda.Built, body, ts *etree.Element) []ref {
			return []ref{{NoURI: true, Target: body}, idRef(ts)}
		})
		wantInvalid(t, rep, xmldsig.RuleReferenceURI)
	})
}

func TestReferenceUnresolved(t *testing.T) {
	w := testWorld(t)
	for _, uri := range []string{"#OIDnobody", "#OID" + w.sysDoc.Header.ID + "0", "#cda-timestamp.sig-1"} {
		t.Run(uri, func(t *testing.T) {
			rep := refCase(t, func(b *cda.Built, body, ts *etree.Element) []ref {
				return []ref{idRef(body), {URI: uri, Target: ts}}
			})
			wantInvalid(t, rep, xmldsig.RuleReferenceUnknown)
		})
	}
}

func TestTransforms(t *testing.T) {
	cases := map[string][]string{
		"XPath":                          {algXPath, xmldsig.AlgExcC14N},
		"XPath filter 2":                 {algXPath2, xmldsig.AlgExcC14N},
		"XSLT":                           {algXSLT, xmldsig.AlgExcC14N},
		"XSLT only":                      {algXSLT},
		"base64":                         {algBase64},
		"inclusive C14N":                 {algC14N},
		"inclusive C14N 1.1":             {algC14N11},
		"exclusive C14N with comments":   {algExcComment},
		"enveloped-signature only":       {xmldsig.AlgEnveloped},
		"exc-c14n then enveloped":        {xmldsig.AlgExcC14N, xmldsig.AlgEnveloped},
		"exc-c14n twice":                 {xmldsig.AlgExcC14N, xmldsig.AlgExcC14N},
		"enveloped, XPath, exc-c14n":     {xmldsig.AlgEnveloped, algXPath, xmldsig.AlgExcC14N},
		"no transforms":                  {},
		"empty Algorithm":                {""},
		"inclusive C14N before exc-c14n": {algC14N, xmldsig.AlgExcC14N},
	}
	for name, algs := range cases {
		t.Run(name, func(t *testing.T) {
			rep := refCase(t, func(b *cda.Built, body, ts *etree.Element) []ref {
				r := idRef(body)
				r.Transforms = algs
				return []ref{r, idRef(ts)}
			})
			wantInvalid(t, rep, xmldsig.RuleTransform)
		})
	}
}

func TestCanonicalizationMethod(t *testing.T) {
	w := testWorld(t)
	for _, alg := range []string{algC14N, algC14NComment, algC14N11, algExcComment, "urn:unknown"} {
		t.Run(alg, func(t *testing.T) {
			b := w.fresh(false)
			handSign(t, b, spec{Signer: w.system, C14N: alg})
			wantInvalid(t, w.verifyBuilt(t, b), xmldsig.RuleC14NMethod)
		})
	}
}

func TestSignatureMethod(t *testing.T) {
	w := testWorld(t)
	for _, alg := range []string{algRSASHA1, algRSASHA384, algHMACSHA1, "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1", ""} {
		t.Run(alg, func(t *testing.T) {
			b := w.fresh(false)
			s := handSign(t, b, spec{Signer: w.system, Method: alg})
			if alg == "" {
				must(t, s.DS, "SignedInfo/SignatureMethod").RemoveAttr("Algorithm")
			}
			wantInvalid(t, w.verifyBuilt(t, b), xmldsig.RuleMethod)
		})
	}
	// A method of the other key type fails at the value.
	b := w.fresh(false)
	handSign(t, b, spec{Signer: w.system, Method: xmldsig.AlgECDSASHA256})
	wantInvalid(t, w.verifyBuilt(t, b), xmldsig.RuleValue)
}

func TestDigestMethod(t *testing.T) {
	for _, alg := range []string{algSHA1, algSHA384, algMD5, "urn:none"} {
		for _, which := range []string{"body", "timestamp"} {
			t.Run(alg+" "+which, func(t *testing.T) {
				rep := refCase(t, func(b *cda.Built, body, ts *etree.Element) []ref {
					rb, rt := idRef(body), idRef(ts)
					if which == "body" {
						rb.Digest = alg
					} else {
						rt.Digest = alg
					}
					return []ref{rb, rt}
				})
				wantInvalid(t, rep, xmldsig.RuleDigestMethod)
			})
		}
	}
}

// ---------------------------------------------------------------------------
// Certificates and keys

func TestCertificateMissingOrBroken(t *testing.T) {
	w := testWorld(t)
	cases := map[string]func(t *testing.T, s signed){
		"no KeyInfo": func(t *testing.T, s signed) { s.DS.RemoveChild(must(t, s.DS, "KeyInfo")) },
		"KeyInfo with a key value only": func(t *testing.T, s signed) {
			ki := must(t, s.DS, "KeyInfo")
			ki.RemoveChild(must(t, ki, "X509Data"))
			ki.CreateElement("KeyValue").CreateElement("RSAKeyValue").CreateElement("Modulus").SetText("AQAB")
		},
		"empty X509Data": func(t *testing.T, s signed) {
			xd := must(t, s.DS, "KeyInfo/X509Data")
			xd.RemoveChild(must(t, xd, "X509Certificate"))
		},
		"X509Data with a subject name only": func(t *testing.T, s signed) {
			xd := must(t, s.DS, "KeyInfo/X509Data")
			xd.RemoveChild(must(t, xd, "X509Certificate"))
			xd.CreateElement("X509SubjectName").SetText("CN=Testijärjestelmä")
		},
		"two X509Data": func(t *testing.T, s signed) {
			ki := must(t, s.DS, "KeyInfo")
			ki.AddChild(must(t, ki, "X509Data").Copy())
		},
		"two KeyInfo": func(t *testing.T, s signed) { s.DS.AddChild(must(t, s.DS, "KeyInfo").Copy()) },
		"certificate not base64": func(t *testing.T, s signed) {
			must(t, s.DS, "KeyInfo/X509Data/X509Certificate").SetText("this is *not* base64")
		},
		"certificate garbage DER": func(t *testing.T, s signed) {
			must(t, s.DS, "KeyInfo/X509Data/X509Certificate").SetText(b64([]byte("garbage garbage garbage")))
		},
		"certificate truncated": func(t *testing.T, s signed) {
			must(t, s.DS, "KeyInfo/X509Data/X509Certificate").SetText(b64(w.system.Cert.Raw[:len(w.system.Cert.Raw)-30]))
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			b := w.fresh(false)
			edit(t, handSign(t, b, spec{Signer: w.system}))
			wantInvalid(t, w.verifyBuilt(t, b), xmldsig.RuleCert)
		})
	}
}

// A trusted certificate put in KeyInfo by someone signing with another key.
func TestCertificateOfAnotherKey(t *testing.T) {
	w := testWorld(t)
	b := w.fresh(false)
	handSign(t, b, spec{Signer: w.encipherOnly, Certs: []string{b64(w.system.Cert.Raw)}})
	wantInvalid(t, w.verifyBuilt(t, b), xmldsig.RuleValue)
}

func TestWeakOrUnsupportedKey(t *testing.T) {
	w := testWorld(t)
	for name, id := range map[string]spec{
		"RSA-1024":    {Signer: w.rsa1024},
		"ECDSA P-224": {Signer: w.p224, Method: xmldsig.AlgECDSASHA256},
		"Ed25519":     {Signer: w.ed25519, Method: "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519"},
	} {
		t.Run(name, func(t *testing.T) {
			b := w.fresh(false)
			handSign(t, b, id)
			rep := w.verifyBuilt(t, b)
			wantInvalid(t, rep, xmldsig.RuleKey)
			if !sigHas(rep, 0, xmldsig.RuleKey, "ds:KeyInfo") {
				t.Errorf("%v", rep.Signatures[0].Problems)
			}
		})
	}
}

func TestCertificateUsage(t *testing.T) {
	w := testWorld(t)
	b := w.fresh(false)
	handSign(t, b, spec{Signer: w.encipherOnly})
	rep := w.verifyBuilt(t, b)
	wantRefused(t, rep, xmldsig.RuleCertUsage)

	// A CA certificate is no signing certificate either.
	b = w.fresh(false)
	handSign(t, b, spec{Signer: &w.pki.CA.Identity})
	wantRefused(t, w.verifyBuilt(t, b), xmldsig.RuleCertUsage)
}

func TestCertificateValidityAtTimestamp(t *testing.T) {
	w := testWorld(t)
	for name, id := range map[string]spec{
		"expired before the signature":   {Signer: w.expired},
		"not yet valid at the signature": {Signer: w.notYetValid},
		"not yet valid when signed":      {Signer: w.system, At: w.system.Cert.NotBefore.Add(-time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			b := w.fresh(false)
			handSign(t, b, id)
			rep := w.verifyBuilt(t, b)
			wantRefused(t, rep, xmldsig.RuleCertValidity)
			if rep.Signatures[0].Trusted {
				t.Error("trusted")
			}
		})
	}
	// Signed while valid, verified long after expiry: accepted.
	b := w.fresh(false)
	handSign(t, b, spec{Signer: w.expired, At: w.expired.Cert.NotAfter.Add(-time.Hour)})
	wantAccepted(t, w.verifyBuilt(t, b))
}

func TestCertificateChain(t *testing.T) {
	w := testWorld(t)
	for name, id := range map[string]spec{
		"issued by another CA": {Signer: w.foreign},
		"self-signed":          {Signer: w.selfSigned},
		// The foreign CA's certificate offered as an intermediate does not help.
		"with its own CA as intermediate": {Signer: w.foreign, Certs: []string{b64(w.foreign.Cert.Raw), b64(w.otherCA.Cert.Raw)}},
	} {
		t.Run(name, func(t *testing.T) {
			b := w.fresh(false)
			handSign(t, b, id)
			rep := w.verifyBuilt(t, b)
			wantRefused(t, rep, xmldsig.RuleChain)
			if !rep.CryptoValid() || rep.Signatures[0].Trusted {
				t.Errorf("want valid but untrusted:%s", describe(rep))
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Signature type and signer

func TestSignatureType(t *testing.T) {
	w := testWorld(t)
	for name, s := range map[string]spec{
		"type code 2":          {Signer: w.system, TypeCode: "2"},
		"type code 99":         {Signer: w.system, TypeCode: "99"},
		"wrong code system":    {Signer: w.system, CodeSystem: "1.2.246.537.5.40127.2007"},
		"document type system": {Signer: w.system, CodeSystem: codes.OIDSignatureType + ".1"},
	} {
		t.Run(name, func(t *testing.T) {
			b := w.fresh(false)
			handSign(t, b, s)
			rep := w.verifyBuilt(t, b)
			wantRefused(t, rep, xmldsig.RuleType)
			if rep.Signatures[0].Type != "" {
				t.Errorf("type %q reported", rep.Signatures[0].Type)
			}
		})
	}
}

func TestSigner(t *testing.T) {
	w := testWorld(t)
	for name, s := range map[string]spec{
		"system signature, registration number as serialNumber": {Signer: w.prof, TypeCode: codes.SignatureSystem},
		"system signature, text serialNumber":                   {Signer: w.textSerial, TypeCode: codes.SignatureSystem},
		"system signature, no serialNumber":                     {Signer: w.noSerial, TypeCode: codes.SignatureSystem},
		"professional signature, organisation OID":              {Signer: w.system, TypeCode: codes.SignatureProfessional},
		"professional signature, no serialNumber":               {Signer: w.noSerial, TypeCode: codes.SignatureProfessional},
	} {
		t.Run(name, func(t *testing.T) {
			b := w.fresh(s.TypeCode == codes.SignatureProfessional)
			handSign(t, b, s)
			rep := w.verifyBuilt(t, b)
			wantRefused(t, rep, xmldsig.RuleSigner)
		})
	}
}

// ---------------------------------------------------------------------------
// Collection and signature structure

func TestNoSignatures(t *testing.T) {
	w := testWorld(t)
	rep := w.verifyBuilt(t, w.fresh(false))
	wantInvalid(t, rep, xmldsig.RuleMissing)
	if !rep.Document.Has(xmldsig.RuleMissing) || len(rep.Signatures) != 0 {
		t.Errorf("%+v", rep)
	}
	// Signatures outside the collection do not count.
	doc, _, header := signedTree(t, w.sysDoc.XML)
	coll := must(t, header, "signatureCollection")
	sig := must(t, coll, "signature")
	coll.RemoveChild(sig)
	header.AddChild(sig)
	wantInvalid(t, w.verifier().Verify(readDoc(t, treeBytes(t, doc))), xmldsig.RuleMissing)

	wantInvalid(t, w.verifier().Verify(nil), xmldsig.RuleMissing)
}

func TestSignatureStructure(t *testing.T) {
	w := testWorld(t)
	t.Run("no timestamp", func(t *testing.T) {
		b := w.fresh(false)
		handSign(t, b, spec{Signer: w.system, NoTimestamp: true, Refs: func(body, _ *etree.Element) []ref { return []ref{idRef(body)} }})
		wantInvalid(t, w.verifyBuilt(t, b), xmldsig.RuleStructure)
	})
	edits := map[string]func(t *testing.T, s signed){
		"two timestamps": func(t *testing.T, s signed) {
			extra := s.TS.Copy()
			extra.RemoveAttr("ID")
			extra.CreateAttr("ID", "CDA-timestamp.other")
			s.Sig.InsertChildAt(s.TS.Index(), extra)
		},
		"timestamp without ID": func(t *testing.T, s signed) { s.TS.RemoveAttr("ID") },
		"no description":       func(t *testing.T, s signed) { s.Sig.RemoveChild(must(t, s.Sig, "signatureDescription")) },
		"two descriptions": func(t *testing.T, s signed) {
			s.Sig.InsertChildAt(0, must(t, s.Sig, "signatureDescription").Copy())
		},
		"no ds:Signature":   func(t *testing.T, s signed) { s.Sig.RemoveChild(s.DS) },
		"two ds:Signature":  func(t *testing.T, s signed) { s.Sig.AddChild(s.DS.Copy()) },
		"no SignedInfo":     func(t *testing.T, s signed) { s.DS.RemoveChild(must(t, s.DS, "SignedInfo")) },
		"two SignedInfo":    func(t *testing.T, s signed) { s.DS.InsertChildAt(0, must(t, s.DS, "SignedInfo").Copy()) },
		"no SignatureValue": func(t *testing.T, s signed) { s.DS.RemoveChild(must(t, s.DS, "SignatureValue")) },
		"no CanonicalizationMethod": func(t *testing.T, s signed) {
			si := must(t, s.DS, "SignedInfo")
			si.RemoveChild(must(t, si, "CanonicalizationMethod"))
		},
		"no SignatureMethod": func(t *testing.T, s signed) {
			si := must(t, s.DS, "SignedInfo")
			si.RemoveChild(must(t, si, "SignatureMethod"))
		},
		"two Transforms": func(t *testing.T, s signed) {
			r := s.DS.FindElement("SignedInfo/Reference")
			r.InsertChildAt(0, must(t, r, "Transforms").Copy())
		},
		"foreign element in Transforms": func(t *testing.T, s signed) {
			s.DS.FindElement("SignedInfo/Reference/Transforms").CreateElement("XPath").SetText("1")
		},
		"no DigestMethod": func(t *testing.T, s signed) {
			r := s.DS.FindElement("SignedInfo/Reference")
			r.RemoveChild(must(t, r, "DigestMethod"))
		},
		"no DigestValue": func(t *testing.T, s signed) {
			r := s.DS.FindElement("SignedInfo/Reference")
			r.RemoveChild(must(t, r, "DigestValue"))
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			b := w.fresh(false)
			edit(t, handSign(t, b, spec{Signer: w.system}))
			wantInvalid(t, w.verifyBuilt(t, b), xmldsig.RuleStructure)
		})
	}
}

func TestTimestampValue(t *testing.T) {
	w := testWorld(t)
	for name, s := range map[string]spec{
		"in the future":               {Signer: w.system, At: time.Now().Add(time.Hour)},
		"long before the certificate": {Signer: w.system, At: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(name, func(t *testing.T) {
			b := w.fresh(false)
			handSign(t, b, s)
			rep := w.verifyBuilt(t, b)
			if s.At.After(time.Now()) {
				wantRefused(t, rep, xmldsig.RuleTimestamp)
			} else {
				wantRefused(t, rep, xmldsig.RuleCertValidity)
			}
		})
	}
	for _, text := range []string{"yesterday", "2026-03-23", "2026-03-23T08:50:35", "20260323105424+0200", ""} {
		t.Run("text "+text, func(t *testing.T) {
			b := w.fresh(false)
			// The timestamp text is set before signing: the signature is valid,
			// the timestamp is not.
			handSign(t, b, spec{Signer: w.system, Refs: func(body, ts *etree.Element) []ref {
				ts.SetText(text)
				return []ref{idRef(body), idRef(ts)}
			}})
			rep := w.verifyBuilt(t, b)
			wantRefused(t, rep, xmldsig.RuleTimestamp)
			if !rep.CryptoValid() {
				t.Errorf("signature itself is valid:%s", describe(rep))
			}
		})
	}
}
