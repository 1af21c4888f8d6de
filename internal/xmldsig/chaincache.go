package xmldsig

import (
	"crypto/sha256"
	"crypto/x509"
	"io"
	"sync"
	"time"
)

// ChainCache remembers certificate chains already verified against a set
// of trust anchors, so that the chain of a signer who signs thousands of
// documents is built and its signatures checked once. What depends on the
// signature time — each certificate's validity — is still checked for
// every signature. A cache serves one set of anchors: make a new one when
// the anchors change.
type ChainCache struct {
	mu     sync.Mutex
	chains map[[32]byte][]*x509.Certificate
	max    int
}

// NewChainCache holds up to max chains (default 10,000).
func NewChainCache(max int) *ChainCache {
	if max <= 0 {
		max = 10_000
	}
	return &ChainCache{chains: map[[32]byte][]*x509.Certificate{}, max: max}
}

func chainKey(leaf *x509.Certificate, intermediates []*x509.Certificate) [32]byte {
	h := sha256.New()
	h.Write(leaf.Raw)
	for _, c := range intermediates {
		h.Write(c.Raw)
	}
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

func (c *ChainCache) get(k [32]byte) []*x509.Certificate {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chains[k]
}

func (c *ChainCache) put(k [32]byte, chain []*x509.Certificate) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.chains) >= c.max {
		clear(c.chains) // simple and bounded; signers are few
	}
	c.chains[k] = chain
}

// validAt reports whether every certificate of the chain was valid at t.
func validAt(chain []*x509.Certificate, t time.Time) bool {
	for _, c := range chain {
		if t.Before(c.NotBefore) || t.After(c.NotAfter) {
			return false
		}
	}
	return true
}

// certs keeps certificates already parsed, by the SHA-256 of their DER:
// a signer signs thousands of documents with one certificate, and parsing
// it (an RSA key, extensions, names) cost more than hashing its bytes. A
// parsed certificate is never changed, so one copy serves every document.
var certs = &certCache{m: map[[32]byte]*x509.Certificate{}, max: 4096}

// certTexts keeps them by the SHA-256 of their base64 text as the
// document writes it: the same text decodes to the same DER, so a
// signer's next document costs neither the decoding nor the parsing.
var certTexts = &certCache{m: map[[32]byte]*x509.Certificate{}, max: 4096}

type certCache struct {
	mu  sync.Mutex
	m   map[[32]byte]*x509.Certificate
	max int
}

// parseCertificate is x509.ParseCertificate through the cache.
func parseCertificate(der []byte) (*x509.Certificate, error) {
	k := sha256.Sum256(der)
	certs.mu.Lock()
	c := certs.m[k]
	certs.mu.Unlock()
	if c != nil {
		return c, nil
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	certs.mu.Lock()
	if len(certs.m) >= certs.max {
		clear(certs.m) // bounded; signers' certificates are few
	}
	certs.m[k] = c
	certs.mu.Unlock()
	return c, nil
}

// certificateText is decodeB64 and parseCertificate of a certificate's
// base64 text through certTexts: b64ok false when the text is not base64,
// err when the DER does not parse.
func certificateText(text string) (c *x509.Certificate, b64ok bool, err error) {
	h := sha256.New()
	io.WriteString(h, text)
	var k [32]byte
	h.Sum(k[:0])
	certTexts.mu.Lock()
	c = certTexts.m[k]
	certTexts.mu.Unlock()
	if c != nil {
		return c, true, nil
	}
	der, err := decodeB64(text)
	if err != nil {
		return nil, false, err
	}
	if c, err = parseCertificate(der); err != nil {
		return nil, true, err
	}
	certTexts.mu.Lock()
	if len(certTexts.m) >= certTexts.max {
		clear(certTexts.m)
	}
	certTexts.m[k] = c
	certTexts.mu.Unlock()
	return c, true, nil
}
