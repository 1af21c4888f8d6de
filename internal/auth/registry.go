// Package auth authenticates callers of the archive's doors: the client
// information system by its TLS client certificate (chained to the trust
// store, registered, not revoked) and the acting professional by a JWT the
// system signs with the key of its registered certificate.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

// Snapshot is the registry's state at one moment: trust anchors, systems
// by certificate, revocations.
type Snapshot struct {
	Roots   *x509.CertPool
	systems map[string]*archive.System // by certificate SHA-256
	revoked map[string]bool            // issuer|serial
}

// Registry caches the store's trust anchors, registered systems and
// revocations, reloading them when older than TTL, so that admin changes
// made while the server runs take effect within TTL.
type Registry struct {
	store archive.Store
	ttl   time.Duration

	mu     sync.Mutex
	snap   *Snapshot
	loaded time.Time
}

// NewRegistry returns a registry over the store; ttl defaults to 2 s.
func NewRegistry(st archive.Store, ttl time.Duration) *Registry {
	if ttl <= 0 {
		ttl = 2 * time.Second
	}
	return &Registry{store: st, ttl: ttl}
}

// Invalidate forces a reload on the next use.
func (r *Registry) Invalidate() {
	r.mu.Lock()
	r.snap = nil
	r.mu.Unlock()
}

// Snapshot returns the current state.
func (r *Registry) Snapshot(ctx context.Context) (*Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.snap != nil && time.Since(r.loaded) < r.ttl {
		return r.snap, nil
	}
	s := &Snapshot{Roots: x509.NewCertPool(), systems: map[string]*archive.System{}, revoked: map[string]bool{}}
	err := r.store.View(ctx, func(tx archive.Tx) error {
		anchors, err := tx.TrustAnchors(ctx)
		if err != nil {
			return err
		}
		for _, c := range anchors {
			s.Roots.AddCert(c)
		}
		systems, err := tx.Systems(ctx)
		if err != nil {
			return err
		}
		for _, sys := range systems {
			s.systems[sys.CertSHA256] = sys
		}
		revs, err := tx.RevokedCerts(ctx)
		for _, rv := range revs {
			s.revoked[rv.Issuer+"|"+rv.Serial] = true
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load the trust registry: %w", err)
	}
	r.snap, r.loaded = s, time.Now()
	return s, nil
}

// CertSHA256 is the hex SHA-256 of a certificate's DER.
func CertSHA256(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return hex.EncodeToString(s[:])
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
	if sys, ok := s.systems[CertSHA256(chain[0])]; ok && sys.RevokedAt != nil {
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
	issuer, serial := archive.RevocationKey(c)
	return s.revoked[issuer+"|"+serial]
}

// System returns the registered, unrevoked system of a client certificate.
func (s *Snapshot) System(leaf *x509.Certificate) (*archive.System, error) {
	sys, ok := s.systems[CertSHA256(leaf)]
	if !ok {
		return nil, ErrUnregistered
	}
	if sys.RevokedAt != nil {
		return nil, ErrRevoked
	}
	return sys, nil
}
