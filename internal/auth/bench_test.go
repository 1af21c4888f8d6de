package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"
)

// BenchmarkVerifyToken verifies a fresh RS256 token of an RSA-2048 system
// key, as the FHIR door does on every request (without a ledger).
func BenchmarkVerifyToken(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	v := NewTokenVerifier(time.Now().Add(-time.Minute))
	toks := make([]string, 4096)
	for i := range toks {
		if toks[i], err = Sign(key, NewClaims("10000000001", "Testi Käyttäjä", "1.2.246.10.1.2.3", "1", 5*time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(toks) {
			b.StopTimer()
			v = NewTokenVerifier(time.Now().Add(-time.Minute)) // the same tokens are fresh to a new verifier
			i = 0
			b.StartTimer()
		}
		if _, err := v.Verify(ctx, toks[i], "sys", &key.PublicKey); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
