// Package devidp is a development OpenID Connect provider for the demo and
// tests only: a real provider (github.com/zitadel/oidc's op package —
// discovery, authorization code flow with PKCE, signed ID tokens) whose
// login page signs in as whichever synthetic person is typed or picked,
// with no password. It accepts test identity codes only (individual
// number 900–999), so that it can never sign anyone in as a real person.
// `arkisto demo` starts it; `arkisto serve` only with --dev-idp.
package devidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/web"
)

// DefaultClaim is the claim that carries the personal identity code: the
// national attribute name, as the national identification service uses it.
const DefaultClaim = "urn:oid:1.2.246.21"

// Warning is printed on every start.
const Warning = "DEVELOPMENT IDENTITY PROVIDER: anyone can sign in as any test identity code (individual number 900-999) without a password; never use it with real clients"

const loginPath = "/login"

// Client is a relying party registered with the provider.
type Client struct {
	ID, Secret          string
	Redirects           []string // allowed redirect URIs, exactly
	PostLogoutRedirects []string
}

// Person is a synthetic person the login page offers.
type Person struct {
	Hetu, Name string
}

// Options configure the provider.
type Options struct {
	Listen  string // host:port; port 0 picks a free one
	Issuer  string // default http://<listen address>
	Claim   string // default DefaultClaim
	Clients []Client
	People  []Person // listed on the login page to pick from
	Logger  *slog.Logger
}

// Provider is a running development provider.
type Provider struct {
	Issuer string
	Addr   string

	srv  *http.Server
	st   *storage
	done chan struct{}
}

// Listen opens the provider's listener, so that its address (and issuer)
// is known before the relying parties are registered with Serve.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("the development identity provider: listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Start listens and serves the provider in the background.
func Start(opt Options) (*Provider, error) {
	ln, err := Listen(opt.Listen)
	if err != nil {
		return nil, err
	}
	p, err := Serve(ln, opt)
	if err != nil {
		ln.Close()
	}
	return p, err
}

// Serve serves the provider on ln in the background.
func Serve(ln net.Listener, opt Options) (*Provider, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Claim == "" {
		opt.Claim = DefaultClaim
	}
	addr := ln.Addr().String()
	if opt.Issuer == "" {
		opt.Issuer = "http://" + addr
	}
	for _, p := range opt.People {
		if err := TestCode(p.Hetu); err != nil {
			return nil, fmt.Errorf("the development identity provider offers %s: %w", p.Name, err)
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	st := &storage{claim: opt.Claim, clients: map[string]client{}, key: &signingKey{id: randomID(), key: key},
		requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]token{}, people: map[string]Person{}}
	for _, c := range opt.Clients {
		st.clients[c.ID] = client{c}
	}
	var crypto [32]byte
	rand.Read(crypto[:]) // never fails (crypto/rand)
	cfg := &op.Config{
		CryptoKey: crypto, CryptoKeyId: "dev",
		CodeMethodS256:     true,
		SupportedUILocales: []language.Tag{language.Finnish, language.Swedish, language.English},
		SupportedClaims:    []string{"sub", "name", opt.Claim},
	}
	var opts []op.Option
	if strings.HasPrefix(opt.Issuer, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(cfg, st, op.StaticIssuer(opt.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("the development identity provider: %w", err)
	}
	site, err := newSite(opt.Logger)
	if err != nil {
		return nil, fmt.Errorf("the development identity provider's login page: %w", err)
	}
	l := &loginPage{site: site, st: st, people: opt.People, callback: op.AuthCallbackURL(provider)}
	mux := http.NewServeMux()
	mux.Handle("GET "+staticPath, http.StripPrefix(staticPath, web.Static()))
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux.HandleFunc("GET "+loginPath, l.form)
	mux.Handle("POST "+loginPath, interceptor.HandlerFunc(l.submit))
	mux.Handle("/", provider)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(opt.Logger.Handler(), slog.LevelDebug)}
	p := &Provider{Issuer: opt.Issuer, Addr: addr, srv: srv, st: st, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			opt.Logger.Error("the development identity provider stopped", "err", err)
		}
	}()
	opt.Logger.Warn(Warning, "issuer", opt.Issuer)
	return p, nil
}

// Shutdown stops the provider.
func (p *Provider) Shutdown(ctx context.Context) error {
	err := p.srv.Shutdown(ctx)
	<-p.done
	return err
}

// TestCode checks that s is a valid identity code of the range kept for
// testing (individual number 900–999).
func TestCode(s string) error {
	c, err := hetu.Parse(s)
	if err != nil {
		return err
	}
	if !c.Temporary() {
		return errors.New("only test identity codes (individual number 900-999) sign in here")
	}
	return nil
}

type loginPage struct {
	site     *web.Site
	st       *storage
	people   []Person
	callback func(context.Context, string) string
}

type loginData struct {
	ID     string
	Hetu   string
	Error  string // a message id
	People []Person
}

//go:embed pages/*.html
var pagesFS embed.FS

// staticPath is where the provider serves the project's stylesheet.
const staticPath = "/static/"

// csp is the login page's Content-Security-Policy: the web pages' own, but
// a sign-in form's redirect goes on to the relying party's callback, which
// form-action covers in browsers that enforce it on redirects.
var csp = strings.Replace(web.CSP, "form-action 'self'", "form-action 'self' http: https:", 1)

func newSite(log *slog.Logger) (*web.Site, error) {
	pages, err := fs.Sub(pagesFS, "pages")
	if err != nil {
		return nil, err
	}
	return web.NewSite(pages, staticPath, log)
}

// render shows the login page for the login request id. A failed sign-in
// (a POST) is shown as the form's own page, so that the language switch
// keeps the request.
func (l *loginPage) render(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	d.People = l.people
	get := r.Clone(r.Context())
	get.Method = http.MethodGet
	q := url.Values{"authRequestID": {d.ID}}
	if lang := r.URL.Query().Get("lang"); lang != "" {
		q.Set("lang", lang)
	} else if _, err := r.Cookie(web.LangCookie); err != nil {
		// The relying party's ui_locales, unless the user has chosen.
		if req, err := l.st.request(d.ID); err == nil && len(req.req.UILocales) > 0 {
			b, _ := req.req.UILocales[0].Base()
			q.Set("lang", b.String())
		}
	}
	get.URL.RawQuery = q.Encode()
	p := l.site.NewPage(w, get)
	p.Footer = "idp.footer"
	p.Data = d
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	l.site.Render(w, status, "login", p)
}

func (l *loginPage) form(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if _, err := l.st.request(id); err != nil {
		http.Error(w, "no such login request: start again from the application", http.StatusBadRequest)
		return
	}
	l.render(w, r, http.StatusOK, loginData{ID: id})
}

func (l *loginPage) submit(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("id")
	code := strings.ToUpper(strings.TrimSpace(r.PostFormValue("hetu")))
	if err := TestCode(code); err != nil {
		l.render(w, r, http.StatusBadRequest, loginData{ID: id, Hetu: code, Error: "idp.error"})
		return
	}
	p := Person{Hetu: code, Name: "Testi Henkilö"}
	for _, q := range l.people {
		if q.Hetu == code {
			p = q
		}
	}
	if err := l.st.login(id, p); err != nil {
		http.Error(w, "no such login request: start again from the application", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
}
