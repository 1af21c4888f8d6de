package xmldsig_test

// Revoked signers and the signature time judged against the document.

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// revokedSet is a revocation lookup of the certificates given, revoked at.
func revokedSet(at time.Time, certs ...*x509.Certificate) func(*x509.Certificate) (time.Time, bool) {
	return func(c *x509.Certificate) (time.Time, bool) {
		for _, r := range certs {
			if r.Equal(c) {
				return at, true
			}
		}
		return time.Time{}, false
	}
}

// A revoked certificate's signature is refused whether the revocation lies
// after or before the signature time: that time is the signer's own claim.
func TestRevokedSignerRefused(t *testing.T) {
	w := testWorld(t)
	for _, tc := range []struct {
		name string
		xml  []byte
		cert *x509.Certificate
	}{
		{"system", w.sysDoc.XML, w.system.Cert},
		{"professional", w.profDoc.XML, w.prof.Cert},
	} {
		signedAt := readDoc(t, tc.xml).Signatures[0].Timestamp
		for _, when := range []struct {
			name string
			at   time.Time
		}{
			{"revoked after the signature time", signedAt.Add(time.Hour)},
			{"revoked before the signature time", signedAt.Add(-time.Hour)},
		} {
			t.Run(tc.name+"/"+when.name, func(t *testing.T) {
				v := w.verifier()
				v.Revoked = revokedSet(when.at, tc.cert)
				rep := v.Verify(readDoc(t, tc.xml))
				wantRefused(t, rep, xmldsig.RuleRevoked)
				if !sigHas(rep, 0, xmldsig.RuleRevoked, "hl7fi:signature[1]/ds:Signature/ds:KeyInfo") {
					t.Errorf("the problem does not name the signature's path: %v", rep.Signatures[0].Problems)
				}
				if rep.Signatures[0].Trusted || !rep.Signatures[0].Valid {
					t.Errorf("trusted %v, valid %v: a revoked signer is not trusted, and its signature is still intact", rep.Signatures[0].Trusted, rep.Signatures[0].Valid)
				}
				msg := rep.Signatures[0].Problems[0].Message
				if strings.Contains(msg, tc.cert.Subject.SerialNumber) || strings.Contains(msg, tc.cert.Subject.CommonName) {
					t.Errorf("the message names the signer: %s", msg)
				}
			})
		}
	}
	t.Run("other certificates revoked", func(t *testing.T) {
		v := w.verifier()
		v.Revoked = revokedSet(time.Now(), w.expired.Cert, w.foreign.Cert)
		wantAccepted(t, v.Verify(readDoc(t, w.sysDoc.XML)))
	})
}

// A revoked intermediate CA given in KeyInfo refuses its leaves' signatures.
func TestRevokedIntermediateRefused(t *testing.T) {
	w := testWorld(t)
	interID, err := w.pki.CA.Issue(pki.Template{Subject: pki.SystemSubject("1.2.246.10.1", "Intermediate", "Test Intermediate CA"), IsCA: true, NotBefore: time.Now().AddDate(-3, 0, 0), Validity: 4 * 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	inter := &pki.CA{Identity: *interID}
	org := w.pki.Organisations[0]
	leaf, err := inter.Issue(pki.Template{Subject: pki.SystemSubject(org.ControllerOID(), org.Name, "leaf"), NotBefore: time.Now().AddDate(-3, 0, 0), Validity: 4 * 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(leaf.Chain) == 0 || !leaf.Chain[0].Equal(interID.Cert) {
		t.Fatal("fixture: the leaf's chain does not carry the intermediate")
	}
	b := w.fresh(false)
	s := &xmldsig.Signer{Key: leaf.Key, Cert: leaf.Cert, Chain: leaf.Chain, TypeCode: codes.SignatureSystem}
	if err := s.Sign(b.Collection, b.Body, "sig-1", w.sysDoc.Header.CreationTime.Add(time.Minute), false); err != nil {
		t.Fatal(err)
	}
	xml := serialise(t, b)
	v := w.verifier()
	wantAccepted(t, v.Verify(readDoc(t, xml)))
	v.Revoked = revokedSet(time.Now(), interID.Cert)
	rep := v.Verify(readDoc(t, xml))
	wantRefused(t, rep, xmldsig.RuleRevoked)
	if !strings.Contains(rep.Signatures[0].Problems[0].Message, "Test Intermediate CA") {
		t.Errorf("the message does not name the CA: %v", rep.Signatures[0].Problems)
	}
}

// The public samples keep verifying with a revocation lookup that revokes
// nothing of theirs, and are refused when their certificate is revoked.
func TestSamplesRevocation(t *testing.T) {
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			xml := readSample(t, s.file)
			v := sampleVerifier(t, xml)
			v.Revoked = revokedSet(time.Now())
			wantAccepted(t, v.Verify(readDoc(t, xml)))
			v.Revoked = revokedSet(sampleNow, sampleCert(t, xml))
			rep := v.Verify(readDoc(t, xml))
			wantRefused(t, rep, xmldsig.RuleRevoked)
			for i := range rep.Signatures {
				if !sigHas(rep, i, xmldsig.RuleRevoked, "/ds:KeyInfo") {
					t.Errorf("signature %d: %v", i, rep.Signatures[i].Problems)
				}
			}
		})
	}
}

// A signature is made after the document: a timestamp before the later of
// effectiveTime and hl7fi:creationTime, beyond the clock skew, is refused.
func TestSignatureTimeBeforeDocument(t *testing.T) {
	w := testWorld(t)
	h := w.sysDoc.Header
	made := h.CreationTime
	if h.EffectiveTime.After(made) {
		made = h.EffectiveTime
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"a minute after", made.Add(time.Minute), true},
		{"at the creation time", made, true},
		{"four minutes before (within the skew)", made.Add(-4 * time.Minute), true},
		{"six minutes before", made.Add(-6 * time.Minute), false},
		{"a year before", made.AddDate(-1, 0, 0), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := w.fresh(false)
			s := &xmldsig.Signer{Key: w.system.Key, Cert: w.system.Cert, Chain: w.system.Chain, TypeCode: codes.SignatureSystem}
			if err := s.Sign(b.Collection, b.Body, "sig-1", tc.at, false); err != nil {
				t.Fatal(err)
			}
			rep := w.verifyBuilt(t, b)
			if tc.ok {
				wantAccepted(t, rep)
				return
			}
			wantRefused(t, rep, xmldsig.RuleTimestamp)
			if !sigHas(rep, 0, xmldsig.RuleTimestamp, "/hl7fi:signatureTimestamp") {
				t.Errorf("problem not at the timestamp: %v", rep.Signatures[0].Problems)
			}
		})
	}
}
