package xmldsig_test

// The public Kanta samples: what a real producer (Epic/Apotti, .NET) sends.

import (
	"bytes"
	"crypto/x509"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

func TestSamplesVerify(t *testing.T) {
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			xml := readSample(t, s.file)
			cert := sampleCert(t, xml)
			rep := sampleVerifier(t, xml).Verify(readDoc(t, xml))
			wantAccepted(t, rep)
			if len(rep.Document) > 0 {
				t.Errorf("collection problems: %v", rep.Document)
			}
			if len(rep.Signatures) != len(s.timestamps) {
				t.Fatalf("%d signatures, want %d", len(rep.Signatures), len(s.timestamps))
			}
			for i, r := range rep.Signatures {
				want, err := time.Parse(time.RFC3339Nano, s.timestamps[i])
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case r.Index != i+1 || r.ID != s.sigIDs[i]:
					t.Errorf("signature %d: index %d, id %q; want %d, %q", i, r.Index, r.ID, i+1, s.sigIDs[i])
				case !r.Valid || !r.Trusted || len(r.Problems) > 0:
					t.Errorf("signature %d: valid %v, trusted %v, problems %v", i, r.Valid, r.Trusted, r.Problems)
				case r.Form != xmldsig.FormWhitespaceStripped:
					t.Errorf("signature %d verified over %q; the samples are signed over the whitespace-stripped form", i, r.Form)
				case r.Type != s.typ || r.TypeCode != s.typeCode:
					t.Errorf("signature %d: type %q (%s), want %q (%s)", i, r.Type, r.TypeCode, s.typ, s.typeCode)
				case r.SignerID != s.signerID:
					t.Errorf("signature %d: signer id %q, want %q", i, r.SignerID, s.signerID)
				case r.SignerName != s.signerName:
					t.Errorf("signature %d: signer name %q, want %q", i, r.SignerName, s.signerName)
				case !r.Timestamp.Equal(want):
					t.Errorf("signature %d: timestamp %s, want %s", i, r.Timestamp, want)
				case r.Algorithm != xmldsig.AlgRSASHA256:
					t.Errorf("signature %d: algorithm %q", i, r.Algorithm)
				case r.Certificate == nil || !r.Certificate.Equal(cert) || !r.CertNotAfter.Equal(cert.NotAfter):
					t.Errorf("signature %d: certificate not reported", i)
				}
				if d := r.Describe(); d == "" {
					t.Errorf("signature %d: empty description", i)
				}
			}
		})
	}
}

// The system sample's certificate expired on 2026-10-09, after the
// signature (2026-07-17): validity is judged at the signature timestamp.
func TestSampleExpiredCertificateJudgedAtTimestamp(t *testing.T) {
	xml := readSample(t, samples[0].file)
	cert := sampleCert(t, xml)
	ts, _ := time.Parse(time.RFC3339Nano, samples[0].timestamps[0])
	if !cert.NotAfter.Before(sampleNow) || !cert.NotAfter.After(ts) || cert.NotBefore.After(ts) {
		t.Fatalf("fixture assumption broken: certificate valid %s–%s, signed %s, now %s", cert.NotBefore, cert.NotAfter, ts, sampleNow)
	}
	for _, now := range []time.Time{sampleNow, sampleNow.AddDate(10, 0, 0), time.Now()} {
		v := &xmldsig.Verifier{Roots: poolOf(cert), Now: fixedNow(now)}
		rep := v.Verify(readDoc(t, xml))
		wantAccepted(t, rep)
		if !rep.Signatures[0].CertNotAfter.Before(now) {
			t.Errorf("certificate reported valid until %s", rep.Signatures[0].CertNotAfter)
		}
	}
	// The same certificate checked as of today is expired: the verifier
	// must not be using the current time.
	if _, err := cert.Verify(x509.VerifyOptions{Roots: poolOf(cert), CurrentTime: sampleNow, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
		t.Fatal("fixture assumption broken: certificate verifies as of now")
	}
}

func TestSamplesOtherCA(t *testing.T) {
	other, err := pki.NewCA("Not the DVV test CA", pki.P256, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), 20*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			xml := readSample(t, s.file)
			v := &xmldsig.Verifier{Roots: poolOf(other.Cert), Now: fixedNow(sampleNow)}
			rep := v.Verify(readDoc(t, xml))
			wantRefused(t, rep, xmldsig.RuleChain)
			if !rep.CryptoValid() {
				t.Errorf("untrusted but intact signatures must stay cryptographically valid:%s", describe(rep))
			}
			for i, r := range rep.Signatures {
				if r.Trusted || !sigHas(rep, i, xmldsig.RuleChain, "/ds:KeyInfo") {
					t.Errorf("signature %d: trusted %v, problems %v", i, r.Trusted, r.Problems)
				}
			}
		})
	}
}

// Without trust anchors nothing is trusted and nothing is accepted, but
// the cryptographic verdict stands.
func TestSamplesNoRoots(t *testing.T) {
	for _, s := range samples {
		xml := readSample(t, s.file)
		rep := (&xmldsig.Verifier{Now: fixedNow(sampleNow)}).Verify(readDoc(t, xml))
		if !rep.CryptoValid() || rep.Accepted() || len(rep.Problems()) > 0 {
			t.Errorf("%s: crypto valid %v, accepted %v, problems %v", s.file, rep.CryptoValid(), rep.Accepted(), rep.Problems())
		}
	}
}

func TestSamplesTimestampInFuture(t *testing.T) {
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			xml := readSample(t, s.file)
			first, _ := time.Parse(time.RFC3339Nano, s.timestamps[0])
			v := sampleVerifier(t, xml)

			v.Now = fixedNow(first.Add(-time.Hour))
			rep := v.Verify(readDoc(t, xml))
			wantRefused(t, rep, xmldsig.RuleTimestamp)
			for i := range rep.Signatures {
				if !sigHas(rep, i, xmldsig.RuleTimestamp, "/hl7fi:signatureTimestamp") {
					t.Errorf("signature %d: %v", i, rep.Signatures[i].Problems)
				}
			}

			// Within the default skew of five minutes it is accepted...
			last, _ := time.Parse(time.RFC3339Nano, s.timestamps[len(s.timestamps)-1])
			v.Now = fixedNow(last.Add(-4 * time.Minute))
			wantAccepted(t, v.Verify(readDoc(t, xml)))

			// ... but not with a tighter MaxSkew.
			v.MaxSkew = time.Minute
			wantRefused(t, v.Verify(readDoc(t, xml)), xmldsig.RuleTimestamp)
		})
	}
}

// Removing whitespace-only text nodes (as xmllint --noblanks does) gives
// the form the samples were signed over: it verifies as received.
func TestSamplesStrippedVerifyAsReceived(t *testing.T) {
	for _, s := range samples {
		xml := stripBlanks(t, readSample(t, s.file))
		rep := sampleVerifier(t, xml).Verify(readDoc(t, xml))
		wantAccepted(t, rep)
		for i, r := range rep.Signatures {
			if r.Form != xmldsig.FormAsReceived {
				t.Errorf("%s signature %d verified over %q", s.file, i, r.Form)
			}
		}
	}
}

// The signature description (the type code) is not covered by the
// signature; changing it must not let a certificate sign as something it
// is not.
func TestSamplesSignatureTypeIsBoundToCertificate(t *testing.T) {
	sys := readSample(t, samples[0].file)
	prof := readSample(t, samples[1].file)
	cases := []struct {
		name string
		xml  []byte
		old  string
		new  string
		code string
	}{
		{"system signature relabelled professional", sys, `code="3" displayName="Järjestelmäallekirjoitus"`, `code="1" displayName="Järjestelmäallekirjoitus"`, xmldsig.RuleSigner},
		{"professional signature relabelled system", prof, `code="1" displayName="Ammattihenkilön allekirjoitus" codeSystem="1.2.246.537.5.40127.2006" codeSystemName="KanTa-palvelut - Sähköisen allekirjoituksen tyyppi"/>
				<signatureTimestamp ID="CDA-timestamp.sig_5bada148`, `code="3" displayName="Ammattihenkilön allekirjoitus" codeSystem="1.2.246.537.5.40127.2006" codeSystemName="KanTa-palvelut - Sähköisen allekirjoituksen tyyppi"/>
				<signatureTimestamp ID="CDA-timestamp.sig_5bada148`, xmldsig.RuleSigner},
		{"type code 2", sys, `code="3" displayName="Järjestelmäallekirjoitus"`, `code="2" displayName="Järjestelmäallekirjoitus"`, xmldsig.RuleType},
		{"other code system", sys, `codeSystem="1.2.246.537.5.40127.2006"`, `codeSystem="1.2.246.537.5.40127.2007"`, xmldsig.RuleType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The samples use CRLF line ends.
			old := bytes.ReplaceAll([]byte(c.old), []byte("\n"), []byte("\r\n"))
			neu := bytes.ReplaceAll([]byte(c.new), []byte("\n"), []byte("\r\n"))
			xml := replaceOnce(t, c.xml, string(old), string(neu))
			rep := sampleVerifier(t, xml).Verify(readDoc(t, xml))
			wantRefused(t, rep, c.code)
			if !sigHas(rep, 0, c.code, "") {
				t.Errorf("first signature lacks %s: %v", c.code, rep.Signatures[0].Problems)
			}
		})
	}
}
