// Package auth authenticates callers of the archive's doors: the client
// information system by its TLS client certificate (chained to the trust
// store, registered, not revoked) and the acting professional by a JWT the
// system signs with the key of its registered certificate.
package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/pki"
)

// Snapshot is the trust state at one moment, as the doors check clients
// against it: trust anchors, systems by certificate, revocations.
type Snapshot struct {
	*archive.TrustSnapshot
}

// Registry is the doors' view of the archive's trust cache
// (archive.TrustCache), the one the service verifies signatures with: a
// trust anchor, system or CRL changed by an administrator takes effect for
// both within its TTL (archive.DefaultTrustTTL).
type Registry struct {
	trust *archive.TrustCache
}

// NewRegistry returns a registry over the archive's trust cache.
func NewRegistry(t *archive.TrustCache) *Registry { return &Registry{trust: t} }

// Snapshot returns the current state.
func (r *Registry) Snapshot(ctx context.Context) (*Snapshot, error) {
	s, err := r.trust.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return &Snapshot{s}, nil
}

// Errors of client certificate checks.
var (
	ErrUntrusted    = errors.New("the client certificate does not chain to a trusted CA")
	ErrRevoked      = errors.New("the client certificate has been revoked")
	ErrUnregistered = errors.New("the client certificate is not registered to any system")
	ErrExpired      = errors.New("the client certificate has expired")
)

// VerifyChain checks a presented chain (leaf first): it must chain to a
// trust anchor for client authentication, be valid now, and no certificate
// in it may be revoked.
func (s *Snapshot) VerifyChain(chain []*x509.Certificate, now time.Time) error {
	if len(chain) == 0 {
		return errors.New("no client certificate presented")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	verified, err := chain[0].Verify(x509.VerifyOptions{
		Roots: s.Roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	for _, c := range verified[0] {
		if s.IsRevoked(c) {
			return ErrRevoked
		}
	}
	if sys, ok := s.SystemByCert(pki.Fingerprint(chain[0])); ok && sys.RevokedAt != nil {
		return ErrRevoked
	}
	return nil
}

// StillValid checks, on every request of an open connection, what the
// handshake checked and what can change while the connection stays open:
// no certificate the client presented has been revoked by an imported CRL
// since, and the client certificate has not expired. A snapshot is at most
// the registry's TTL old, so a revocation stops an open connection within
// that TTL (2 s by default) instead of when the client hangs up.
func (s *Snapshot) StillValid(presented []*x509.Certificate, now time.Time) error {
	if len(presented) == 0 {
		return errors.New("no client certificate presented")
	}
	for _, c := range presented {
		if s.IsRevoked(c) {
			return ErrRevoked
		}
	}
	if now.After(presented[0].NotAfter) {
		return ErrExpired
	}
	return nil
}

// IsRevoked reports whether a CRL revoked the certificate.
func (s *Snapshot) IsRevoked(c *x509.Certificate) bool {
	_, revoked := s.RevokedAt(c)
	return revoked
}

// System returns the registered, unrevoked system of a client certificate.
func (s *Snapshot) System(leaf *x509.Certificate) (*archive.System, error) {
	sys, ok := s.SystemByCert(pki.Fingerprint(leaf))
	if !ok {
		return nil, ErrUnregistered
	}
	if sys.RevokedAt != nil {
		return nil, ErrRevoked
	}
	return sys, nil
}
