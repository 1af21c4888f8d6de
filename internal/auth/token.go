package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/oid"
)

// MaxTokenLifetime bounds exp − iat.
const MaxTokenLifetime = 10 * time.Minute

// Claims are the acting professional's claims.
type Claims struct {
	Sub     string `json:"sub"`     // professional registration number
	Name    string `json:"name"`    // professional's name
	Unit    string `json:"unit"`    // service unit OID
	Purpose string `json:"purpose"` // 1 (usage situation), disclosure or broad-search
	Iat     int64  `json:"iat"`
	Exp     int64  `json:"exp"`
	Jti     string `json:"jti"`
	// A broad search's justification: a code of the archive's own code
	// system urn:arkisto:broad-search-ground and the professional's words.
	Justification     string `json:"justification,omitempty"`
	JustificationText string `json:"justification_text,omitempty"`
}

// wireClaims is the payload as it comes: the claims, with iat and exp
// kept raw for their own checks.
type wireClaims struct {
	Claims
	Iat json.RawMessage `json:"iat"`
	Exp json.RawMessage `json:"exp"`
}

// seconds reads a NumericDate (RFC 7519 2): a JSON number, whole seconds
// as the tokens the archive takes carry them; a fraction is cut.
func seconds(raw json.RawMessage) (int64, error) {
	// A missing claim, a string, null, true, an object or an array is no
	// float: valid JSON that parses as one is a JSON number.
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f < 0 || f > 1<<40 {
		return 0, errors.New("not a number of seconds")
	}
	return int64(f), nil
}

// TokenError says what is wrong with a token, naming the claim or part.
type TokenError struct {
	Field   string
	Message string
}

func (e *TokenError) Error() string { return e.Field + ": " + e.Message }

func tokErr(field, format string, args ...any) error {
	return &TokenError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// TokenVerifier checks tokens and refuses replays.
type TokenVerifier struct {
	// NotBefore: tokens issued (iat) before it are refused. Set to the
	// server's start, it keeps out tokens a process before the ledger
	// existed (or without one) may have accepted.
	NotBefore time.Time
	// Skew tolerated between clocks; default 60 s.
	Skew time.Duration
	Now  func() time.Time
	// Ledger, when set, is where used tokens are recorded for every
	// server on the archive: a token is accepted only if the ledger has
	// not seen it. Without one, replays are refused by this process only.
	Ledger archive.TokenLedger

	mu sync.Mutex
	// seen holds the replay keys of tokens not yet expired, in buckets by
	// the minute they expire in: expired buckets are dropped whole, so
	// forgetting costs nothing per token, and no request waits while a
	// lock-held scan walks millions of entries. With a ledger it is a
	// front cache: what this process has seen is refused without asking
	// the ledger, and anything new is asked.
	seen map[int64]map[[16]byte]struct{}
}

// bucketSeconds is the span of one replay bucket.
const bucketSeconds = 60

// NewTokenVerifier returns a verifier refusing tokens issued before notBefore.
func NewTokenVerifier(notBefore time.Time) *TokenVerifier {
	return &TokenVerifier{NotBefore: notBefore, Skew: 60 * time.Second, Now: time.Now, seen: map[int64]map[[16]byte]struct{}{}}
}

// Verify checks a compact JWS signed by key (RS256 for RSA, ES256 for
// P-256 ECDSA) and its claims, and records its jti for the system. A token
// that is wrong gets a *TokenError that says what is wrong; a ledger that
// cannot record the use gets another error (the token may be fine).
func (v *TokenVerifier) Verify(ctx context.Context, raw, system string, key crypto.PublicKey) (*Claims, error) {
	if strings.Count(raw, ".") != 2 {
		return nil, tokErr("token", "must be a compact JWS: header.payload.signature")
	}
	var alg jose.SignatureAlgorithm
	switch k := key.(type) {
	case *rsa.PublicKey:
		alg = jose.RS256
	case *ecdsa.PublicKey:
		if k.Curve.Params().Name != "P-256" {
			return nil, tokErr("token", "the system's ECDSA key must be on P-256 for ES256")
		}
		alg = jose.ES256
	default:
		return nil, tokErr("token", "the system's certificate key cannot sign tokens")
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{alg})
	if err != nil {
		return nil, tokErr("alg", "the token must be signed with %s by the key of the calling system's certificate (%v)", alg, err)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, tokErr("signature", "the token's signature does not verify with the calling system's certificate key")
	}
	// The payload is decoded once: iat and exp raw, so that a missing or
	// non-numeric one is told apart from other faults.
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			// Field is the JSON path, through the embedded Claims.
			return nil, tokErr(te.Field[strings.LastIndex(te.Field, ".")+1:], "the claim has the wrong JSON type (%s)", te.Value)
		}
		return nil, tokErr("claims", "the payload must be a JSON object of claims")
	}
	c := w.Claims
	for _, f := range []struct{ name, value string }{{"sub", c.Sub}, {"name", c.Name}, {"unit", c.Unit}, {"purpose", c.Purpose}, {"jti", c.Jti}} {
		if strings.TrimSpace(f.value) == "" {
			return nil, tokErr(f.name, "required claim is missing or empty")
		}
	}
	var err2 error
	if c.Iat, err2 = seconds(w.Iat); err2 != nil {
		return nil, tokErr("iat", "required claim must be a number of seconds since the epoch")
	}
	if c.Exp, err2 = seconds(w.Exp); err2 != nil {
		return nil, tokErr("exp", "required claim must be a number of seconds since the epoch")
	}
	if len(c.Sub) > 64 || len(c.Jti) > 128 || len(c.Name) > 200 || len(c.Purpose) > 16 || len(c.Justification) > 64 || len(c.JustificationText) > 2000 {
		return nil, tokErr("claims", "a claim is too long (sub 64, jti 128, name 200, purpose 16, justification 64, justification_text 2000 characters)")
	}
	if err := checkClaimText(c.Sub, c.Name, c.Purpose); err != nil {
		return nil, err
	}
	if err := checkJustification(c.Justification, c.JustificationText); err != nil {
		return nil, err
	}
	if err := oid.Check(c.Unit); err != nil {
		return nil, tokErr("unit", "must be the service unit OID: %v", err)
	}
	now := v.Now()
	iat, exp := time.Unix(c.Iat, 0), time.Unix(c.Exp, 0)
	switch {
	case !exp.After(iat):
		return nil, tokErr("exp", "must be after iat")
	case exp.Sub(iat) > MaxTokenLifetime:
		return nil, tokErr("exp", "must be at most %v after iat", MaxTokenLifetime)
	case iat.After(now.Add(v.Skew)):
		return nil, tokErr("iat", "lies in the future")
	case !now.Before(exp.Add(v.Skew)):
		return nil, tokErr("exp", "the token has expired")
	case iat.Before(v.NotBefore.Add(-v.Skew)):
		return nil, tokErr("iat", "the token was issued before this server started; make a new one")
	}
	fresh, err := v.use(ctx, system, c.Jti, c.Exp+int64(v.Skew/time.Second), now.Unix())
	if err != nil {
		return nil, err
	}
	if !fresh {
		return nil, tokErr("jti", "this token has already been used; every request needs a new jti")
	}
	return &c, nil
}

// use records a token's use, reporting false for a replay: one this
// process has seen, or (with a ledger) one any server on the archive has.
func (v *TokenVerifier) use(ctx context.Context, system, jti string, exp, now int64) (bool, error) {
	key := replayKey(system, jti)
	if !v.rememberKey(key, exp, now) {
		return false, nil
	}
	if v.Ledger == nil {
		return true, nil
	}
	fresh, err := v.Ledger.UseToken(ctx, key[:], time.Unix(exp, 0))
	if err != nil {
		// Not recorded: a retry with the same token must not be taken
		// for a replay here.
		v.forget(key, exp)
		return false, fmt.Errorf("record the token's use: %w", err)
	}
	return fresh, nil
}

// replayKey names a system's jti.
func replayKey(system, jti string) [16]byte {
	sum := sha256.Sum256([]byte(system + "\x00" + jti))
	var key [16]byte
	copy(key[:], sum[:16])
	return key
}

func (v *TokenVerifier) forget(key [16]byte, exp int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.seen[exp/bucketSeconds], key)
}

// rememberKey records a token's replay key until its expiry, reporting
// false for a replay. Memory is bounded by the request rate times the
// token lifetime.
func (v *TokenVerifier) rememberKey(key [16]byte, exp, now int64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	// A bucket is dropped once every token in it has expired: its minute
	// ended before now. Tokens live at most MaxTokenLifetime plus skew, so
	// there are a dozen buckets or so to look in.
	for b := range v.seen {
		if (b+1)*bucketSeconds <= now {
			delete(v.seen, b)
		}
	}
	for _, m := range v.seen {
		if _, ok := m[key]; ok {
			return false
		}
	}
	b := exp / bucketSeconds
	m := v.seen[b]
	if m == nil {
		m = map[[16]byte]struct{}{}
		v.seen[b] = m
	}
	m[key] = struct{}{}
	return true
}

// remembered is the number of replay keys held (tests).
func (v *TokenVerifier) remembered() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for _, m := range v.seen {
		n += len(m)
	}
	return n
}

// Sign makes a token for the claims with the system's private key; it is
// for the demo, the tests and `arkisto token`.
func Sign(key crypto.Signer, c Claims) (string, error) {
	var alg jose.SignatureAlgorithm
	switch key.Public().(type) {
	case *rsa.PublicKey:
		alg = jose.RS256
	case *ecdsa.PublicKey:
		alg = jose.ES256
	default:
		return "", fmt.Errorf("unsupported key type %T", key)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(c).Serialize()
}

// NewClaims fills iat, exp and a random jti.
func NewClaims(sub, name, unit, purpose string, ttl time.Duration) Claims {
	now := time.Now()
	return Claims{Sub: sub, Name: name, Unit: unit, Purpose: purpose, Iat: now.Unix(), Exp: now.Add(ttl).Unix(), Jti: randomID()}
}

func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}
