package xmldsig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"testing"
	"time"
)

// certificateText gives what decodeB64 and parseCertificate give, from
// the cache the second time, and caches no failure.
func TestCertificateText(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(der)
	text := "\n" + b64[:40] + "\r\n " + b64[40:] + "\n"
	for range 2 {
		c, ok, err := certificateText(text)
		if !ok || err != nil || !c.Equal(mustParse(t, der)) {
			t.Fatalf("certificateText: %v %v", ok, err)
		}
	}
	for _, bad := range []struct {
		text string
		b64  bool
	}{{"this is *not* base64", false}, {base64.StdEncoding.EncodeToString([]byte("garbage garbage")), true}, {b64[:len(b64)-7], false}, {b64[:len(b64)-8], true}} {
		for range 2 {
			c, ok, err := certificateText(bad.text)
			_, wantErr := decodeB64(bad.text)
			if c != nil || ok != bad.b64 || err == nil || ok != (wantErr == nil) {
				t.Fatalf("%q: %v %v %v", bad.text, c, ok, err)
			}
		}
	}
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
