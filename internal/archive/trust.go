package archive

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/arkisto/arkisto/internal/xmldsig"
)

// DefaultTrustTTL is how long the trust state is cached: trust anchors,
// systems and revocations changed by an administrator take effect on a
// running server within it.
const DefaultTrustTTL = 2 * time.Second

// TrustCache is the one cache of the archive's trust state: its trust anchors,
// registered systems and the certificates imported CRLs revoke. The
// service verifies signatures with it and the doors authenticate systems
// with it, so that a change reaches both at the same moment.
type TrustCache struct {
	store Store
	ttl   time.Duration
	now   func() time.Time

	mu     sync.Mutex
	snap   *TrustSnapshot
	loaded time.Time
	sum    string              // fingerprint of the anchors in snap
	chains *xmldsig.ChainCache // chains verified against those anchors
}

// NewTrustCache caches the store's trust state for ttl (DefaultTrustTTL when
// not positive), by the clock now (time.Now when nil).
func NewTrustCache(st Store, ttl time.Duration, now func() time.Time) *TrustCache {
	if ttl <= 0 {
		ttl = DefaultTrustTTL
	}
	if now == nil {
		now = time.Now
	}
	return &TrustCache{store: st, ttl: ttl, now: now}
}

// TrustSnapshot is the trust state at one moment.
type TrustSnapshot struct {
	// Roots are the trust anchors.
	Roots *x509.CertPool
	// Chains caches chains verified against Roots; it outlives snapshots
	// while the anchors stay the same.
	Chains  *xmldsig.ChainCache
	systems map[string]*System   // by certificate SHA-256
	revoked map[string]time.Time // issuer|serial -> revocation time
}

// trustReader is what loading the trust state reads.
type trustReader interface {
	TrustAnchors(ctx context.Context) ([]*x509.Certificate, error)
	RevokedCerts(ctx context.Context) ([]RevokedCert, error)
	Systems(ctx context.Context) ([]*System, error)
}

// Snapshot returns the trust state, loading it when older than the TTL.
func (t *TrustCache) Snapshot(ctx context.Context) (*TrustSnapshot, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.snap != nil && t.now().Sub(t.loaded) < t.ttl {
		return t.snap, nil
	}
	s := &TrustSnapshot{Roots: x509.NewCertPool(), systems: map[string]*System{}}
	fp := sha256.New()
	err := t.store.View(ctx, func(tx Tx) error {
		var r trustReader = tx
		anchors, err := r.TrustAnchors(ctx)
		if err != nil {
			return err
		}
		for _, c := range anchors {
			s.Roots.AddCert(c)
			fp.Write(c.Raw)
		}
		systems, err := r.Systems(ctx)
		if err != nil {
			return err
		}
		for _, sys := range systems {
			s.systems[sys.CertSHA256] = sys
		}
		revs, err := r.RevokedCerts(ctx)
		s.revoked = RevocationIndex(revs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load the trust anchors, systems and revocations: %w", err)
	}
	if sum := hex.EncodeToString(fp.Sum(nil)); sum != t.sum || t.chains == nil {
		// Other anchors: chains verified against the old ones do not count.
		t.chains, t.sum = xmldsig.NewChainCache(0), sum
	}
	s.Chains = t.chains
	t.snap, t.loaded = s, t.now()
	return s, nil
}

// RevokedAt says whether an imported CRL revoked the certificate, and when.
func (s *TrustSnapshot) RevokedAt(c *x509.Certificate) (time.Time, bool) {
	issuer, serial := RevocationKey(c)
	at, ok := s.revoked[issuer+"|"+serial]
	return at, ok
}

// SystemByCert returns the registered system whose certificate has the
// SHA-256 fingerprint, revoked or not.
func (s *TrustSnapshot) SystemByCert(sha256 string) (*System, bool) {
	sys, ok := s.systems[sha256]
	return sys, ok
}
