package xmldsig_test

// Tampering: any change to signed content, a digest or a signature value
// must fail verification with the rule code that names it.

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// tamperCase is a signed document with the names of its body elements.
type tamperCase struct {
	name     string
	xml      []byte
	verifier *xmldsig.Verifier
	jsonTag  string
}

// tamperCases: both samples as stored (they verify only over the
// whitespace-stripped form), both samples already stripped (they verify as
// received, so every problem comes from the tampering alone), and
// generated documents signed by a system and by a professional.
func tamperCases(t *testing.T) []tamperCase {
	t.Helper()
	var out []tamperCase
	for _, s := range samples {
		xml := readSample(t, s.file)
		out = append(out, tamperCase{s.file, xml, sampleVerifier(t, xml), "ep2:json"})
		stripped := stripBlanks(t, xml)
		out = append(out, tamperCase{s.file + " stripped", stripped, sampleVerifier(t, stripped), "ep2:json"})
	}
	w := testWorld(t)
	ec := testECWorld(t)
	ecDoc, err := gen.New(ec, gen.Options{Seed: 46, Clients: 1}).Next()
	if err != nil {
		t.Fatal(err)
	}
	out = append(out,
		tamperCase{"generated system", w.sysDoc.XML, w.verifier(), "hl7fi:json"},
		tamperCase{"generated professional", w.profDoc.XML, w.verifier(), "hl7fi:json"},
		tamperCase{"generated ECDSA", ecDoc.XML, &xmldsig.Verifier{Roots: ec.Roots()}, "hl7fi:json"},
	)
	for _, c := range out {
		wantAccepted(t, c.verifier.Verify(readDoc(t, c.xml)))
	}
	return out
}

// Every character of every signature timestamp.
func TestTamperTimestamp(t *testing.T) {
	for _, c := range tamperCases(t) {
		t.Run(c.name, func(t *testing.T) {
			d := readDoc(t, c.xml)
			tried := 0
			for k, sig := range d.Signatures {
				refPath := fmt.Sprintf("ds:Reference[%d]/ds:DigestValue", referenceIndex(t, sig.Element(), "#"+sig.TimestampID))
				bodyPath := fmt.Sprintf("ds:Reference[%d]/ds:DigestValue", referenceIndex(t, sig.Element(), "#OID"+d.ID))
				start, end := elementContent(t, c.xml, "signatureTimestamp", 0, k)
				if end-start < 20 {
					t.Fatalf("signature %d: timestamp content %q", k, c.xml[start:end])
				}
				for i := start; i < end; i++ {
					ch := c.xml[i]
					repl := byte('X')
					switch {
					case ch >= '0' && ch <= '9':
						repl = '0' + (ch-'0'+1)%10
					case ch == 'X':
						repl = 'Y'
					}
					rep := c.verifier.Verify(readDoc(t, withByte(c.xml, i, repl)))
					tried++
					if rep.CryptoValid() || rep.Accepted() {
						t.Errorf("signature %d: timestamp %q verifies", k, withByte(c.xml, i, repl)[start:end])
						continue
					}
					if !sigHas(rep, k, xmldsig.RuleDigest, refPath) {
						t.Errorf("signature %d, timestamp byte %d: want %s at %s, got %v", k, i-start, xmldsig.RuleDigest, refPath, rep.Signatures[k].Problems)
					}
					// The intact body is not blamed, whichever form the
					// document was signed over.
					if sigHas(rep, k, xmldsig.RuleDigest, bodyPath) {
						t.Errorf("signature %d, timestamp byte %d: the body reference is reported as changed: %v", k, i-start, rep.Signatures[k].Problems)
					}
					// The other signatures are untouched.
					for j, r := range rep.Signatures {
						if j != k && !r.Valid {
							t.Errorf("tampering signature %d's timestamp broke signature %d: %v", k, j, r.Problems)
						}
					}
				}
			}
			if tried < 20 {
				t.Fatalf("only %d positions tried", tried)
			}
		})
	}
}

// A spread of positions in the base64 of the display form and of the
// structured form: every 97th character, the first and the last.
func TestTamperBody(t *testing.T) {
	for _, c := range tamperCases(t) {
		t.Run(c.name, func(t *testing.T) {
			d := readDoc(t, c.xml)
			bodyRef := make([]string, len(d.Signatures))
			for k, sig := range d.Signatures {
				bodyRef[k] = fmt.Sprintf("ds:Reference[%d]/ds:DigestValue", referenceIndex(t, sig.Element(), "#OID"+d.ID))
			}
			bodyAt := bytes.Index(c.xml, []byte("<nonXMLBody"))
			for _, part := range []string{"text", c.jsonTag} {
				start, end := elementContent(t, c.xml, part, bodyAt, 0)
				positions := spread(base64Positions(c.xml, start, end), 97)
				if len(positions) < 5 {
					t.Fatalf("%s: only %d positions", part, len(positions))
				}
				for _, i := range positions {
					rep := c.verifier.Verify(readDoc(t, withByte(c.xml, i, otherB64(c.xml[i]))))
					if rep.CryptoValid() || rep.Accepted() {
						t.Errorf("%s byte %d changed: signatures still valid", part, i-start)
						continue
					}
					for k, r := range rep.Signatures {
						if r.Valid || !sigHas(rep, k, xmldsig.RuleDigest, bodyRef[k]) {
							t.Errorf("%s byte %d changed: signature %d: want %s at %s, got %v", part, i-start, k, xmldsig.RuleDigest, bodyRef[k], r.Problems)
						}
					}
				}
			}
		})
	}
}

// Other changes inside the signed body: an attribute, an added element, a
// removed part.
func TestTamperBodyStructure(t *testing.T) {
	w := testWorld(t)
	xml := w.profDoc.XML
	cases := map[string][]byte{
		"media type":         replaceOnce(t, xml, `mediaType="application/xhtml+xml"`, `mediaType="application/pdf"`),
		"added attribute":    replaceOnce(t, xml, `<nonXMLBody ID=`, `<nonXMLBody classCode="DOCBODY" ID=`),
		"added element":      replaceOnce(t, xml, `</nonXMLBody>`, `<reference value="x"/></nonXMLBody>`),
		"text in body":       replaceOnce(t, xml, `</nonXMLBody>`, `x</nonXMLBody>`),
		"structured removed": cut(t, xml, "<hl7fi:json>", "</hl7fi:json>"),
	}
	for name, x := range cases {
		t.Run(name, func(t *testing.T) {
			wantInvalid(t, w.verifier().Verify(readDoc(t, x)), xmldsig.RuleDigest)
		})
	}
}

// cut removes xml from the start of from to the end of to.
func cut(t *testing.T, xml []byte, from, to string) []byte {
	t.Helper()
	i := bytes.Index(xml, []byte(from))
	j := bytes.Index(xml, []byte(to))
	if i < 0 || j < i {
		t.Fatalf("%s…%s not found", from, to)
	}
	return append(bytes.Clone(xml[:i]), xml[j+len(to):]...)
}

func TestTamperSignatureValue(t *testing.T) {
	for _, c := range tamperCases(t) {
		t.Run(c.name, func(t *testing.T) {
			start, end := elementContent(t, c.xml, "SignatureValue", 0, 0)
			pos := base64Positions(c.xml, start, end)
			for _, i := range []int{pos[0], pos[len(pos)/2], pos[len(pos)-3]} {
				rep := c.verifier.Verify(readDoc(t, withByte(c.xml, i, otherB64(c.xml[i]))))
				wantInvalid(t, rep, xmldsig.RuleValue)
				if !sigHas(rep, 0, xmldsig.RuleValue, "/ds:SignatureValue") || rep.Problems().Has(xmldsig.RuleDigest) {
					t.Errorf("byte %d: want only %s at the SignatureValue: %v", i-start, xmldsig.RuleValue, rep.Signatures[0].Problems)
				}
			}
			// Truncated, and not base64 at all.
			short := append(bytes.Clone(c.xml[:end-8]), c.xml[end:]...)
			wantInvalid(t, c.verifier.Verify(readDoc(t, short)), xmldsig.RuleValue)
			garbage := append(append(bytes.Clone(c.xml[:start]), "not*base64!"...), c.xml[end:]...)
			wantInvalid(t, c.verifier.Verify(readDoc(t, garbage)), xmldsig.RuleValue)
		})
	}
}

func TestTamperDigestValue(t *testing.T) {
	for _, c := range tamperCases(t) {
		t.Run(c.name, func(t *testing.T) {
			for n := 0; n < 2; n++ { // both references of the first signature
				start, end := elementContent(t, c.xml, "DigestValue", 0, n)
				pos := base64Positions(c.xml, start, end)
				i := pos[len(pos)/2]
				rep := c.verifier.Verify(readDoc(t, withByte(c.xml, i, otherB64(c.xml[i]))))
				wantInvalid(t, rep, xmldsig.RuleDigest)
				if want := fmt.Sprintf("ds:Reference[%d]/ds:DigestValue", n+1); !sigHas(rep, 0, xmldsig.RuleDigest, want) {
					t.Errorf("reference %d: want %s at %s: %v", n+1, xmldsig.RuleDigest, want, rep.Signatures[0].Problems)
				}
			}
		})
	}
}
