package xmldsig_test

import (
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// TestChainCacheStillJudgesEachSignatureTime: a cached chain saves the
// chain building, not the validity check at each signature's time.
func TestChainCacheStillJudgesEachSignatureTime(t *testing.T) {
	now := time.Now()
	world, err := gen.NewPKI(gen.PKIOptions{KeyType: pki.P256, Organisations: 1, ProfessionalsPerOrg: 1})
	if err != nil {
		t.Fatal(err)
	}
	org := world.Organisations[0]
	short, err := world.CA.Issue(pki.Template{Subject: pki.SystemSubject(org.ControllerOID(), org.Name, "short"), KeyType: pki.P256,
		NotBefore: now.AddDate(0, 0, -10), Validity: 5 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	signer := &xmldsig.Signer{Key: short.Key, Cert: short.Cert, TypeCode: codes.SignatureSystem}
	render := func(created time.Time) *cda.Document {
		d, err := gen.New(world, gen.Options{Clients: 1}).Next()
		if err != nil {
			t.Fatal(err)
		}
		h := *d.Header
		h.CreationTime, h.EffectiveTime = created, created
		body, err := gen.MinimalBody(&h)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := gen.Render(&h, body, signer, false)
		if err != nil {
			t.Fatal(err)
		}
		doc, probs := cda.Read(raw, cda.Options{})
		if probs != nil {
			t.Fatal(probs)
		}
		return doc
	}
	cache := xmldsig.NewChainCache(0)
	v := &xmldsig.Verifier{Roots: world.Roots(), Chains: cache}
	inside := render(now.AddDate(0, 0, -8))
	for i := 0; i < 2; i++ { // the second time from the cache
		if rep := v.Verify(inside); !rep.Accepted() {
			t.Fatalf("signed while valid (pass %d): %v", i, rep.Problems())
		}
	}
	after := render(now.AddDate(0, 0, -1))
	rep := v.Verify(after)
	if rep.Accepted() || !rep.Problems().Has(xmldsig.RuleCertValidity) {
		t.Fatalf("signed after the certificate expired, with its chain cached: %v", rep.Problems())
	}
}
