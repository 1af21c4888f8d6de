package auth

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/store/sqlite"
)

func mustCA(t *testing.T) *pki.CA {
	ca, err := pki.NewCA("test CA", pki.P256, time.Now().Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func client(t *testing.T, ca *pki.CA, tmpl pki.Template) *pki.Identity {
	tmpl.TLSClient = true
	if tmpl.KeyType == "" {
		tmpl.KeyType = pki.P256
	}
	if tmpl.Subject.CommonName == "" {
		tmpl.Subject = pkix.Name{CommonName: "system", SerialNumber: "1.2.246.10.1.10.0"}
	}
	id, err := ca.Issue(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestTokens(t *testing.T) {
	ca := mustCA(t)
	sys := client(t, ca, pki.Template{})
	rsaSys := client(t, ca, pki.Template{KeyType: pki.RSA2048})
	other := client(t, ca, pki.Template{})
	start := time.Now().Add(-time.Minute)
	now := time.Now()
	good := func() Claims {
		return Claims{Sub: "10000000001", Name: "N", Unit: "1.2.246.10.1.10.1", Purpose: "1", Iat: now.Unix(), Exp: now.Add(5 * time.Minute).Unix(), Jti: randomID()}
	}
	tests := []struct {
		name   string
		claims func() Claims
		signer *pki.Identity
		field  string
	}{
		{"valid ES256", good, sys, ""},
		{"valid RS256", good, rsaSys, ""},
		{"forged", good, other, "signature"},
		{"no sub", func() Claims { c := good(); c.Sub = ""; return c }, sys, "sub"},
		{"no name", func() Claims { c := good(); c.Name = ""; return c }, sys, "name"},
		{"no unit", func() Claims { c := good(); c.Unit = ""; return c }, sys, "unit"},
		{"unit not an OID", func() Claims { c := good(); c.Unit = "unit-1"; return c }, sys, "unit"},
		{"no purpose", func() Claims { c := good(); c.Purpose = ""; return c }, sys, "purpose"},
		{"no jti", func() Claims { c := good(); c.Jti = ""; return c }, sys, "jti"},
		{"expired", func() Claims {
			c := good()
			c.Iat, c.Exp = now.Add(-8*time.Minute).Unix(), now.Add(-2*time.Minute).Unix()
			return c
		}, sys, "exp"},
		{"lifetime over 10 min", func() Claims { c := good(); c.Exp = now.Add(11 * time.Minute).Unix(); return c }, sys, "exp"},
		{"exp before iat", func() Claims { c := good(); c.Exp = c.Iat - 1; return c }, sys, "exp"},
		{"issued in the future", func() Claims {
			c := good()
			c.Iat, c.Exp = now.Add(5*time.Minute).Unix(), now.Add(9*time.Minute).Unix()
			return c
		}, sys, "iat"},
		{"issued before start", func() Claims {
			c := good()
			c.Iat, c.Exp = start.Add(-3*time.Minute).Unix(), now.Add(time.Minute).Unix()
			return c
		}, sys, "iat"},
	}
	v := NewTokenVerifier(start)
	for _, tt := range tests {
		raw, err := Sign(tt.signer.Key, tt.claims())
		if err != nil {
			t.Fatal(err)
		}
		key := sys.Cert.PublicKey
		if tt.signer == rsaSys {
			key = rsaSys.Cert.PublicKey
		}
		c, err := v.Verify(context.Background(), raw, "sys", key)
		if tt.field == "" {
			if err != nil || c.Sub != "10000000001" {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var te *TokenError
		if !errors.As(err, &te) || te.Field != tt.field {
			t.Errorf("%s: got %v, want an error about %s", tt.name, err, tt.field)
		}
	}
	// A token without iat at all.
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: sys.Key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	noIat, err := jwt.Signed(signer).Claims(map[string]any{"sub": "1", "name": "n", "unit": "1.2.3", "purpose": "1", "exp": now.Add(time.Minute).Unix(), "jti": randomID()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), noIat, "sys", sys.Cert.PublicKey); !errors.As(err, new(*TokenError)) || err.(*TokenError).Field != "iat" {
		t.Errorf("token without iat: %v", err)
	}
	// Claims of the wrong JSON type name the claim; a payload that is not
	// an object names the claims.
	for _, tt := range []struct {
		name    string
		payload any
		field   string
	}{
		{"iat a string", map[string]any{"sub": "1", "name": "n", "unit": "1.2.3", "purpose": "1", "iat": "now", "exp": now.Add(time.Minute).Unix(), "jti": randomID()}, "iat"},
		{"exp null", map[string]any{"sub": "1", "name": "n", "unit": "1.2.3", "purpose": "1", "iat": now.Unix(), "exp": nil, "jti": randomID()}, "exp"},
		{"sub a number", map[string]any{"sub": 1, "name": "n", "unit": "1.2.3", "purpose": "1", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": randomID()}, "sub"},
		{"an array", []any{1, 2}, "claims"},
	} {
		raw, err := jwt.Signed(signer).Claims(tt.payload).Serialize()
		if err != nil {
			// go-jose refuses to sign a non-object as claims: sign the bytes.
			b, _ := json.Marshal(tt.payload)
			jws, err := signer.Sign(b)
			if err != nil {
				t.Fatal(err)
			}
			if raw, err = jws.CompactSerialize(); err != nil {
				t.Fatal(err)
			}
		}
		var te *TokenError
		if _, err := v.Verify(context.Background(), raw, "sys", sys.Cert.PublicKey); !errors.As(err, &te) || te.Field != tt.field {
			t.Errorf("%s: %v, want an error about %s", tt.name, err, tt.field)
		}
	}
	// Replay: the same token twice, and the same jti from another system is fine.
	c := good()
	raw, _ := Sign(sys.Key, c)
	if _, err := v.Verify(context.Background(), raw, "sys", sys.Cert.PublicKey); err != nil {
		t.Fatal(err)
	}
	var te *TokenError
	if _, err := v.Verify(context.Background(), raw, "sys", sys.Cert.PublicKey); !errors.As(err, &te) || te.Field != "jti" {
		t.Errorf("replay: %v", err)
	}
	raw2, _ := Sign(other.Key, c)
	if _, err := v.Verify(context.Background(), raw2, "other", other.Cert.PublicKey); err != nil {
		t.Errorf("same jti from another system: %v", err)
	}
	// An RSA key signing as ES256 header, or garbage, is refused.
	for _, bad := range []string{"", "a.b", "a.b.c", strings.Repeat("x", 100)} {
		if _, err := v.Verify(context.Background(), bad, "sys", sys.Cert.PublicKey); err == nil {
			t.Errorf("garbage token %q accepted", bad)
		}
	}
	if _, err := v.Verify(context.Background(), mustSign(t, rsaSys, good()), "sys", sys.Cert.PublicKey); err == nil {
		t.Error("an RS256 token accepted for an ECDSA system key")
	}
}

func mustSign(t *testing.T, id *pki.Identity, c Claims) string {
	s, err := Sign(id.Key, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReplayMemoryIsReleased(t *testing.T) {
	v := NewTokenVerifier(time.Now())
	now := time.Now().Unix()
	for i := 0; i < 1000; i++ {
		// Expired a bucket's span ago: forgotten whole with its bucket.
		if !v.rememberKey(replayKey("s", randomID()), now-bucketSeconds-1, now-100) {
			t.Fatal("a fresh jti was refused")
		}
	}
	if !v.rememberKey(replayKey("s", "fresh"), now+60, now) {
		t.Fatal("a fresh jti was refused")
	}
	if n := v.remembered(); n != 1 {
		t.Fatalf("expired jtis kept: %d entries", n)
	}
	// A replay is refused while the token lives, whatever expiry it
	// claims, and the key is forgotten once it has expired.
	if v.rememberKey(replayKey("s", "fresh"), now+60, now+30) || v.rememberKey(replayKey("s", "fresh"), now+600, now+30) {
		t.Fatal("a replay was accepted")
	}
	afterExpiry := ((now+60)/bucketSeconds + 1) * bucketSeconds // the first second after the bucket of now+60
	if !v.rememberKey(replayKey("s", "fresh"), afterExpiry+60, afterExpiry) {
		t.Fatal("an expired jti is still remembered")
	}
	if !v.rememberKey(replayKey("other system", "fresh"), now+60, now) {
		t.Fatal("a jti of another system was refused")
	}
}

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ca := mustCA(t)
	stranger := mustCA(t)
	registered := client(t, ca, pki.Template{})
	crlRevoked := client(t, ca, pki.Template{})
	sysRevoked := client(t, ca, pki.Template{})
	unregistered := client(t, ca, pki.Template{})
	expired := client(t, ca, pki.Template{NotBefore: time.Now().Add(-48 * time.Hour), Validity: time.Hour})
	serverOnly, err := ca.Issue(pki.Template{TLSServer: true, KeyType: pki.P256, Subject: pkix.Name{CommonName: "srv"}})
	if err != nil {
		t.Fatal(err)
	}
	untrusted := client(t, stranger, pki.Template{})
	err = st.Update(ctx, func(tx archive.Tx) error {
		if _, err := tx.AddTrustAnchor(ctx, ca.Cert); err != nil {
			return err
		}
		if err := tx.PutOrganisation(ctx, &archive.Organisation{OID: "1.2.246.10.1.10.0", Name: "o", Kind: "public"}); err != nil {
			return err
		}
		for name, id := range map[string]*pki.Identity{"ok": registered, "crl": crlRevoked, "revoked": sysRevoked} {
			if err := tx.PutSystem(ctx, &archive.System{Name: name, Organisation: "1.2.246.10.1.10.0", Cert: id.Cert}); err != nil {
				return err
			}
		}
		issuer, serial := archive.RevocationKey(crlRevoked.Cert)
		if _, err := tx.AddRevoked(ctx, archive.RevokedCert{Issuer: issuer, Serial: serial, RevokedAt: time.Now()}); err != nil {
			return err
		}
		return tx.RevokeSystem(ctx, "revoked", time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	// The door checks clients against the service's own trust cache: one
	// cache, one lifetime, for signatures and TLS clients alike.
	svc := archive.NewService(st, archive.Rules{}, archive.Config{TrustTTL: time.Hour}, nil)
	snap, err := NewRegistry(svc.Trust()).Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if own, err := svc.Trust().Snapshot(ctx); err != nil || own != snap.TrustSnapshot {
		t.Fatalf("the registry's snapshot is not the service's: %v", err)
	}
	now := time.Now()
	chain := func(id *pki.Identity) []*x509.Certificate { return []*x509.Certificate{id.Cert} }
	tests := []struct {
		name string
		id   *pki.Identity
		want error
	}{
		{"registered", registered, nil},
		{"unregistered but trusted", unregistered, nil},
		{"revoked by CRL", crlRevoked, ErrRevoked},
		{"system revoked", sysRevoked, ErrRevoked},
		{"expired", expired, ErrUntrusted},
		{"server-only EKU", serverOnly, ErrUntrusted},
		{"untrusted CA", untrusted, ErrUntrusted},
	}
	for _, tt := range tests {
		if err := snap.VerifyChain(chain(tt.id), now); !errors.Is(err, tt.want) {
			t.Errorf("%s: VerifyChain = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := snap.System(unregistered.Cert); !errors.Is(err, ErrUnregistered) {
		t.Errorf("unregistered system: %v", err)
	}
	if _, err := snap.System(sysRevoked.Cert); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked system: %v", err)
	}
	if s, err := snap.System(registered.Cert); err != nil || s.Name != "ok" || s.Organisation != "1.2.246.10.1.10.0" {
		t.Errorf("registered system: %v %v", s, err)
	}
	if err := snap.VerifyChain(nil, now); err == nil {
		t.Error("no certificate accepted")
	}
	// On every request of an open connection: revocations and expiry.
	for _, tt := range []struct {
		name      string
		presented []*x509.Certificate
		at        time.Time
		want      error
	}{
		{"registered", chain(registered), now, nil},
		{"revoked by CRL", chain(crlRevoked), now, ErrRevoked},
		{"revoked certificate given after the leaf", []*x509.Certificate{registered.Cert, crlRevoked.Cert}, now, ErrRevoked},
		{"expired since the handshake", chain(registered), registered.Cert.NotAfter.Add(time.Second), ErrExpired},
	} {
		if err := snap.StillValid(tt.presented, tt.at); !errors.Is(err, tt.want) {
			t.Errorf("%s: StillValid = %v, want %v", tt.name, err, tt.want)
		}
	}
	if err := snap.StillValid(nil, now); err == nil {
		t.Error("StillValid: no certificate accepted")
	}
}

// FuzzVerify: any bearer value is refused with the field at fault, unless
// it is a valid token of the system's key (which random input is not).
func FuzzVerify(f *testing.F) {
	ca, err := pki.NewCA("fuzz", pki.P256, time.Now().Add(-time.Hour), 24*time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	sys, err := ca.Issue(pki.Template{KeyType: pki.P256, TLSClient: true})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := Sign(sys.Key, NewClaims("1", "n", "1.2.3", "1", time.Minute))
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		v := NewTokenVerifier(time.Now().Add(-time.Hour))
		c, err := v.Verify(context.Background(), raw, "sys", sys.Cert.PublicKey)
		if err != nil {
			var te *TokenError
			if !errors.As(err, &te) || te.Field == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		if c.Sub == "" || c.Jti == "" || c.Exp <= c.Iat {
			t.Fatalf("accepted bad claims %+v", c)
		}
	})
}

// fakeLedger is a token ledger shared by verifiers, as a store is by
// servers; fail makes it unavailable.
type fakeLedger struct {
	used  map[string]bool
	asked int
	fail  bool
}

func (l *fakeLedger) UseToken(_ context.Context, key []byte, _ time.Time) (bool, error) {
	l.asked++
	if l.fail {
		return false, errors.New("ledger down")
	}
	if l.used[string(key)] {
		return false, nil
	}
	l.used[string(key)] = true
	return true, nil
}

// TestReplayAcrossVerifiersWithLedger: a verifier asks the ledger about
// every token it has not seen itself, refuses what another verifier on
// the ledger accepted, refuses its own replays without asking, and does
// not take a token whose use could not be recorded for a replay.
func TestReplayAcrossVerifiersWithLedger(t *testing.T) {
	sys := client(t, mustCA(t), pki.Template{})
	l := &fakeLedger{used: map[string]bool{}}
	one, two := NewTokenVerifier(time.Now().Add(-time.Minute)), NewTokenVerifier(time.Now().Add(-time.Minute))
	one.Ledger, two.Ledger = l, l
	ctx := context.Background()
	raw := mustSign(t, sys, NewClaims("10000000001", "N", "1.2.246.10.1", "1", time.Minute))
	if _, err := one.Verify(ctx, raw, "sys", sys.Cert.PublicKey); err != nil {
		t.Fatal(err)
	}
	var te *TokenError
	if _, err := two.Verify(ctx, raw, "sys", sys.Cert.PublicKey); !errors.As(err, &te) || te.Field != "jti" {
		t.Errorf("the second verifier accepted a used token: %v", err)
	}
	asked := l.asked
	if _, err := one.Verify(ctx, raw, "sys", sys.Cert.PublicKey); !errors.As(err, &te) || te.Field != "jti" {
		t.Errorf("replay: %v", err)
	}
	if l.asked != asked {
		t.Error("the verifier asked the ledger about a token it had seen itself")
	}
	raw2 := mustSign(t, sys, NewClaims("10000000001", "N", "1.2.246.10.1", "1", time.Minute))
	l.fail = true
	if _, err := one.Verify(ctx, raw2, "sys", sys.Cert.PublicKey); err == nil || errors.As(err, &te) {
		t.Errorf("ledger down: %v, want an error that is not about the token", err)
	}
	l.fail = false
	if _, err := one.Verify(ctx, raw2, "sys", sys.Cert.PublicKey); err != nil {
		t.Errorf("a token whose use was never recorded is refused: %v", err)
	}
}
