package webtest

import (
	"bytes"
	"crypto/tls"
	"sync"

	"github.com/arkisto/arkisto/internal/pki"
)

// LogBuffer is an operator's log a test server writes and the test reads,
// safe for both at once.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *LogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *LogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TLSCert is an identity as a TLS certificate with its chain.
func TLSCert(id *pki.Identity) tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}
	for _, x := range id.Chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c
}
