package citizenui

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/arkisto/arkisto/internal/hetu"
)

// DefaultClaim is the ID token claim that carries the personal identity
// code: the national attribute name.
const DefaultClaim = "urn:oid:1.2.246.21"

// Config names the OpenID Connect provider the view signs clients in with.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is the view's callback as the provider knows it,
	// https://<public host>/citizen/callback.
	RedirectURL string
	// Claim carries the identity code; default DefaultClaim.
	Claim string
	// HTTPClient fetches the provider's discovery document and keys and
	// exchanges codes; default http.DefaultClient.
	HTTPClient *http.Client
}

// relyingParty is the view as an OpenID Connect client. The provider's
// discovery document is fetched at the first login, and again after a
// failure, so that the archive starts while the provider is away.
type relyingParty struct {
	cfg Config

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newRelyingParty(cfg Config) (*relyingParty, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("the citizen view needs the OpenID Connect issuer, client id and redirect URL")
	}
	if cfg.ClientSecret == "" {
		return nil, errors.New("the citizen view needs the OpenID Connect client secret")
	}
	if cfg.Claim == "" {
		cfg.Claim = DefaultClaim
	}
	return &relyingParty{cfg: cfg}, nil
}

func (rp *relyingParty) context(ctx context.Context) context.Context {
	if rp.cfg.HTTPClient != nil {
		return oidc.ClientContext(ctx, rp.cfg.HTTPClient)
	}
	return ctx
}

// discover returns the OAuth 2 configuration and ID token verifier.
func (rp *relyingParty) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.oauth != nil {
		return rp.oauth, rp.verifier, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(rp.context(ctx), rp.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("discover the OpenID Connect provider %s: %w", rp.cfg.Issuer, err)
	}
	rp.oauth = &oauth2.Config{ClientID: rp.cfg.ClientID, ClientSecret: rp.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: rp.cfg.RedirectURL, Scopes: []string{oidc.ScopeOpenID}}
	// The verifier checks the signature against the provider's keys, the
	// issuer, the audience (this client) and the expiry.
	rp.verifier = p.Verifier(&oidc.Config{ClientID: rp.cfg.ClientID})
	return rp.oauth, rp.verifier, nil
}

// MaxPendingLogins bounds the sign-ins in progress (each lives 10
// minutes unless completed).
var MaxPendingLogins = 10000

// pendingLogin is a login in progress: what the callback must find again.
type pendingLogin struct {
	state, nonce, verifier string
	next                   string
	expires                time.Time
}

// login starts the authorization code flow with PKCE.
func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	oc, _, err := u.rp.discover(r.Context())
	if err != nil {
		u.log.ErrorContext(r.Context(), "citizen view: the identity provider is unavailable", "err", err)
		u.refuse(w, r, nil, http.StatusServiceUnavailable, "cit.idp.unavailable")
		return
	}
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, Prefix+"/") || strings.ContainsAny(next, "\\?#") {
		next = Prefix + "documents" // never redirect elsewhere after login
	}
	p := &pendingLogin{state: randomID(), nonce: randomID(), verifier: oauth2.GenerateVerifier(), next: next, expires: u.now().Add(loginTTL)}
	id := randomID()
	u.mu.Lock()
	now := u.now()
	for k, l := range u.logins {
		if now.After(l.expires) {
			delete(u.logins, k)
		}
	}
	// Starting a sign-in needs no session: bound what strangers can make
	// the server remember.
	full := len(u.logins) >= MaxPendingLogins
	if !full {
		u.logins[id] = p
	}
	u.mu.Unlock()
	if full {
		u.log.WarnContext(r.Context(), "citizen view: too many sign-ins in progress", "max", MaxPendingLogins)
		u.refuse(w, r, nil, http.StatusServiceUnavailable, "cit.unavailable")
		return
	}
	u.setCookie(w, LoginCookie, id, loginTTL)
	opts := []oauth2.AuthCodeOption{oidc.Nonce(p.nonce), oauth2.S256ChallengeOption(p.verifier)}
	if l := u.site.Lang(r); l != "" {
		opts = append(opts, oauth2.SetAuthURLParam("ui_locales", l))
	}
	http.Redirect(w, r, oc.AuthCodeURL(p.state, opts...), http.StatusSeeOther)
}

// takeLogin returns and forgets the request's login in progress: each is
// used once.
func (u *UI) takeLogin(r *http.Request) *pendingLogin {
	c, err := r.Cookie(LoginCookie)
	if err != nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	p, ok := u.logins[c.Value]
	delete(u.logins, c.Value)
	if !ok || u.now().After(p.expires) {
		return nil
	}
	return p
}

// callback completes the login: the state must be the one this browser
// was sent with, the code is exchanged with the PKCE verifier, the ID
// token is verified and must carry the nonce, and the identity code is
// read from the configured claim.
func (u *UI) callback(w http.ResponseWriter, r *http.Request) {
	u.clearCookie(w, LoginCookie)
	p := u.takeLogin(r)
	q := r.URL.Query()
	if p == nil || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(p.state)) != 1 {
		u.refuse(w, r, nil, http.StatusBadRequest, "cit.login.state")
		return
	}
	if e := q.Get("error"); e != "" {
		u.refuse(w, r, nil, http.StatusUnauthorized, "cit.login.cancelled")
		return
	}
	person, name, err := u.identify(r.Context(), q.Get("code"), p)
	if err != nil {
		// The reason is the operator's, without the person's identity code.
		u.log.WarnContext(r.Context(), "citizen view: login refused", "err", err)
		u.refuse(w, r, nil, http.StatusUnauthorized, "cit.login.failed")
		return
	}
	s := u.newSession(w, person, name)
	// A guardian picks whom to act for first; others go where they were
	// going.
	n, err := u.loadChildren(r, s)
	if err != nil {
		u.unavailable(w, r, s, "read guardianships", err)
		return
	}
	if n > 0 {
		http.Redirect(w, r, Prefix+"act-for", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, p.next, http.StatusSeeOther)
}

// identify exchanges the code and reads the person from the verified ID
// token.
func (u *UI) identify(ctx context.Context, code string, p *pendingLogin) (person, name string, err error) {
	oc, verifier, err := u.rp.discover(ctx)
	if err != nil {
		return "", "", err
	}
	if code == "" {
		return "", "", errors.New("no authorization code")
	}
	ctx, cancel := context.WithTimeout(u.rp.context(ctx), 15*time.Second)
	defer cancel()
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(p.verifier))
	if err != nil {
		return "", "", fmt.Errorf("exchange the code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return "", "", errors.New("the token response has no ID token")
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return "", "", fmt.Errorf("verify the ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(p.nonce)) != 1 {
		return "", "", errors.New("the ID token's nonce is not this login's")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return "", "", fmt.Errorf("read the ID token's claims: %w", err)
	}
	code, _ = claims[u.rp.cfg.Claim].(string)
	code = strings.ToUpper(strings.TrimSpace(code))
	if !hetu.Valid(code) {
		return "", "", fmt.Errorf("the ID token's claim %s is no valid personal identity code", u.rp.cfg.Claim)
	}
	name, _ = claims["name"].(string)
	if name == "" {
		given, _ := claims["given_name"].(string)
		family, _ := claims["family_name"].(string)
		name = strings.TrimSpace(given + " " + family)
	}
	return code, name, nil
}

// logout ends the session.
func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		u.mu.Lock()
		delete(u.sessions, c.Value)
		u.mu.Unlock()
	}
	u.clearCookie(w, SessionCookie)
	http.Redirect(w, r, Prefix+"signed-out", http.StatusSeeOther)
}

func (u *UI) signedOut(w http.ResponseWriter, r *http.Request) {
	u.site.Render(w, http.StatusOK, "signedout", u.site.NewPage(w, r))
}

// redirectURL is the callback under a public base URL.
func RedirectURL(base string) string {
	b, err := url.Parse(base)
	if err != nil {
		return strings.TrimSuffix(base, "/") + Prefix + "callback"
	}
	b.Path = strings.TrimSuffix(b.Path, "/") + Prefix + "callback"
	return b.String()
}
