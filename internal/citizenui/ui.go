// Package citizenui is the citizen view under /citizen/: a client signs in
// through OpenID Connect (authorization code flow with PKCE, the ID token
// verified with github.com/coreos/go-oidc), and sees their own documents,
// who used their data and to whom it was disclosed, and records their will
// expressions. Every decision is the domain service's (purpose
// archive.PurposeCitizen), and every page is in the access log as the
// client's own use. No client certificate, no JavaScript.
package citizenui

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/web"
)

//go:embed pages/*.html
var pagesFS embed.FS

// Prefix is where the view is mounted.
const Prefix = "/citizen/"

// Cookies: the session, and the login in progress (state, nonce and PKCE
// verifier are kept on the server under it). __Host- binds them to this
// host, path / and Secure.
const (
	SessionCookie = "__Host-arkisto-citizen"
	LoginCookie   = "__Host-arkisto-citizen-login"
)

// SessionTTL is how long a session lasts without use; each request renews
// it. SessionMax bounds a session however it is used.
const (
	SessionTTL = 15 * time.Minute
	SessionMax = 8 * time.Hour
	loginTTL   = 10 * time.Minute
)

// UI is the citizen view.
type UI struct {
	svc  *archive.Service
	site *web.Site
	log  *slog.Logger
	now  func() time.Time
	rp   *relyingParty

	mu       sync.Mutex
	sessions map[string]*session
	logins   map[string]*pendingLogin
}

// session is a signed-in client, kept on the server; the cookie carries
// only its random id. A guardian also has the minors they may act for and
// whom they act for now (nil: themself); the domain checks the
// guardianship again on every request.
type session struct {
	person, name string
	started      time.Time
	expires      time.Time

	mu       sync.Mutex
	children []child
	acting   *child
}

// child is a minor the signed-in person is a guardian of.
type child struct {
	id, name, birth string // birth as Finns write it
}

// label names the child for the page: the name, and the birth date.
func (c *child) label() string {
	if c.name == "" {
		return c.birth
	}
	return c.name + " (" + c.birth + ")"
}

func (s *session) caller() archive.Caller {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acting != nil {
		return archive.GuardianCaller(s.person, s.name, s.acting.id)
	}
	return archive.CitizenCaller(s.person, s.name)
}

// self is the signed-in person acting for themself, whoever they act for now.
func (s *session) self() archive.Caller { return archive.CitizenCaller(s.person, s.name) }

// state returns whom the session acts for and the children it may.
func (s *session) state() (*child, []child) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acting, s.children
}

// New makes the view, signing clients in with the OpenID Connect provider
// cfg names.
func New(svc *archive.Service, cfg Config, log *slog.Logger) (*UI, error) {
	if log == nil {
		log = slog.Default()
	}
	pages, err := fs.Sub(pagesFS, "pages")
	if err != nil {
		return nil, err
	}
	site, err := web.NewSite(pages, Prefix+"static/", log)
	if err != nil {
		return nil, err
	}
	rp, err := newRelyingParty(cfg)
	if err != nil {
		return nil, err
	}
	return &UI{svc: svc, site: site, log: log, now: time.Now, rp: rp, sessions: map[string]*session{}, logins: map[string]*pendingLogin{}}, nil
}

// Handler serves the view under Prefix, with the security headers and
// cross-origin protection of every web page.
func (u *UI) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", web.Static()))
	mux.HandleFunc("GET "+Prefix+"{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"documents", http.StatusSeeOther)
	})
	mux.HandleFunc("GET "+Prefix+"login", u.login)
	mux.HandleFunc("GET "+Prefix+"callback", u.callback)
	mux.HandleFunc("POST "+Prefix+"logout", u.logout)
	mux.HandleFunc("GET "+Prefix+"signed-out", u.signedOut)
	mux.HandleFunc("GET "+Prefix+"documents", u.withSession(u.documents))
	mux.HandleFunc("GET "+Prefix+"documents/{id}", u.withSession(u.document))
	mux.HandleFunc("GET "+Prefix+"documents/{id}/display", u.withSession(u.display))
	mux.HandleFunc("GET "+Prefix+"act-for", u.withSession(u.actFor))
	mux.HandleFunc("POST "+Prefix+"act-for", u.withSession(u.chooseActFor))
	mux.HandleFunc("GET "+Prefix+"log", u.withSession(u.logPage))
	mux.HandleFunc("GET "+Prefix+"consents", u.withSession(u.consents))
	mux.HandleFunc("POST "+Prefix+"consents", u.withSession(u.changeConsents))
	mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		u.refuse(w, r, u.session(w, r), http.StatusNotFound, "cit.notfound")
	})
	return web.Secure(web.RememberLang(mux))
}

// refusal is the data of the refused page: a message id.
type refusal struct{ Reason string }

func (u *UI) refuse(w http.ResponseWriter, r *http.Request, s *session, status int, reason string) {
	var p *web.Page
	if s != nil {
		p = u.page(w, r, s, "")
	} else {
		p = u.site.NewPage(w, r)
	}
	p.Data = refusal{Reason: reason}
	u.site.Render(w, status, "refused", p)
}

func randomID() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (u *UI) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge / time.Second), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (u *UI) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// session returns the request's live session, renewing it.
func (u *UI) session(w http.ResponseWriter, r *http.Request) *session {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.now()
	for id, s := range u.sessions {
		if now.After(s.expires) || now.Sub(s.started) > SessionMax {
			delete(u.sessions, id)
		}
	}
	s, ok := u.sessions[c.Value]
	if !ok {
		return nil
	}
	s.expires = now.Add(SessionTTL)
	u.setCookie(w, SessionCookie, c.Value, SessionTTL)
	return s
}

// newSession starts a session for a signed-in client under a new id.
func (u *UI) newSession(w http.ResponseWriter, person, name string) *session {
	id := randomID()
	now := u.now()
	s := &session{person: person, name: name, started: now, expires: now.Add(SessionTTL)}
	u.mu.Lock()
	u.sessions[id] = s
	u.mu.Unlock()
	u.setCookie(w, SessionCookie, id, SessionTTL)
	return s
}

// withSession runs h for a signed-in client; others are sent to sign in
// and come back here.
func (u *UI) withSession(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := u.session(w, r)
		if s == nil {
			next := r.URL.Path
			if r.Method != http.MethodGet {
				next = Prefix + "documents"
			}
			http.Redirect(w, r, Prefix+"login?next="+next, http.StatusSeeOther)
			return
		}
		h(w, r, s)
	}
}

// page makes a page for a signed-in client.
func (u *UI) page(w http.ResponseWriter, r *http.Request, s *session, current string) *web.Page {
	p := u.site.NewPage(w, r)
	p.Who = s.name
	p.Logout = Prefix + "logout"
	acting, children := s.state()
	if acting != nil {
		// Always in the header: whose data the pages show.
		p.Who = p.T("cit.acting.who", "Name", s.name, "Child", acting.label())
	}
	for _, l := range []struct{ href, label string }{{"documents", "cit.nav.documents"}, {"log", "cit.nav.log"}, {"consents", "cit.nav.consents"}} {
		p.Nav = append(p.Nav, web.Link{Href: Prefix + l.href, Label: l.label, Current: current == l.href})
	}
	if len(children) > 0 || acting != nil {
		p.Nav = append(p.Nav, web.Link{Href: Prefix + "act-for", Label: "cit.nav.actfor", Current: current == "act-for"})
	}
	return p
}

// unavailable answers a failure of the archive. A guardian refused for a
// child (the guardianship ended, or the child came of age) acts for
// themself again and is told so.
func (u *UI) unavailable(w http.ResponseWriter, r *http.Request, s *session, what string, err error) {
	if acting, _ := s.state(); acting != nil && errors.Is(err, archive.ErrForbidden) {
		s.mu.Lock()
		s.acting = nil
		s.mu.Unlock()
		u.refuse(w, r, s, http.StatusForbidden, "cit.actfor.ended")
		return
	}
	u.log.ErrorContext(r.Context(), "citizen view: "+what, "err", err)
	u.refuse(w, r, s, http.StatusServiceUnavailable, "cit.unavailable")
}
