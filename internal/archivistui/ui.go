// Package archivistui is the archivist's user interface under /archivist/:
// a person the controller designates logs in with a professional
// certificate (chained to the archive's trust store, the registration
// number in the subject serialNumber), picks the controller it acts for,
// and searches that controller's registers, views a version (metadata,
// signatures verified now, the sanitised display form, the structured
// form, the exact bytes, versions and access-log entries), compares two
// versions of a set and nullifies a version. Every decision is the domain
// service's (purpose archive.PurposeArchivist), and every page view,
// search and action is in the access log as the archivist's use.
package archivistui

import (
	"crypto/rand"
	"crypto/x509"
	"embed"
	"encoding/base64"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/auth"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/web"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

//go:embed pages/*.html
var pagesFS embed.FS

// Prefix is where the UI is mounted.
const Prefix = "/archivist/"

// SessionCookie holds the session id; __Host- binds it to this host, path
// / and Secure.
const SessionCookie = "__Host-arkisto-archivist"

// SessionTTL is how long a session lasts without use.
const SessionTTL = 15 * time.Minute

// UI is the archivist UI.
type UI struct {
	svc  *archive.Service
	reg  *auth.Registry
	site *web.Site
	log  *slog.Logger
	now  func() time.Time

	mu       sync.Mutex
	sessions map[string]*session
}

// session is a logged-in archivist's choice of controller, kept on the
// server; the cookie carries only its random id. It is bound to the
// certificate it was made with.
type session struct {
	person, name   string
	cert           string // SHA-256 of the certificate
	controller     string
	controllerName string
	several        bool // the person archives for several controllers
	expires        time.Time
}

// New makes the UI.
func New(svc *archive.Service, reg *auth.Registry, log *slog.Logger) (*UI, error) {
	pages, err := fs.Sub(pagesFS, "pages")
	if err != nil {
		return nil, err
	}
	site, err := web.NewSite(pages, Prefix+"static/", log)
	if err != nil {
		return nil, err
	}
	return &UI{svc: svc, reg: reg, site: site, log: log, now: time.Now, sessions: map[string]*session{}}, nil
}

// Handler serves the UI under Prefix, with the security headers and
// cross-origin protection of every web page.
func (u *UI) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", web.Static()))
	mux.HandleFunc("GET "+Prefix+"{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"documents", http.StatusSeeOther)
	})
	mux.HandleFunc("GET "+Prefix+"controller", u.chooseForm)
	mux.HandleFunc("POST "+Prefix+"controller", u.choose)
	mux.HandleFunc("GET "+Prefix+"documents", u.withCaller(u.searchForm))
	mux.HandleFunc("POST "+Prefix+"documents", u.withCaller(u.search))
	mux.HandleFunc("GET "+Prefix+"documents/{id}", u.withCaller(u.view))
	mux.HandleFunc("GET "+Prefix+"documents/{id}/download", u.withCaller(u.download))
	mux.HandleFunc("GET "+Prefix+"documents/{id}/compare", u.withCaller(u.compare))
	mux.HandleFunc("GET "+Prefix+"documents/{id}/nullify", u.withCaller(u.nullifyForm))
	mux.HandleFunc("POST "+Prefix+"documents/{id}/nullify", u.withCaller(u.nullify))
	mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		u.refuse(w, r, http.StatusNotFound, "notfound.text")
	})
	return web.Secure(web.RememberLang(mux))
}

// refusal is the data of the refused page: message ids of the heading
// and the reason.
type refusal struct{ Title, Reason string }

func (u *UI) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	title := "refused.title"
	if status == http.StatusNotFound {
		title = "notfound.title"
	}
	p := u.site.NewPage(w, r)
	p.Data = refusal{Title: title, Reason: reason}
	u.site.Render(w, status, "refused", p)
}

// professional is who the client certificate names.
type professional struct {
	person, name, cert string
}

// identify reads the professional from the connection's certificate,
// which the handshake verified against the trust store. It checks again
// what may have changed since the handshake (a CRL, expiry). On failure it
// shows the refusal and logs the attempt in the access log, when a
// certificate names who tried. A request without any certificate names
// nobody and touches nothing: it goes to the operator's log only, as the
// FHIR door's do, so that anyone on the network cannot fill the access
// log (a durable write each) with anonymous requests.
func (u *UI) identify(w http.ResponseWriter, r *http.Request) (*professional, bool) {
	ctx := r.Context()
	attempt := archive.Caller{System: archive.ArchivistSystem, Purpose: archive.PurposeArchivist}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		u.log.InfoContext(ctx, "client certificate refused", "reason", "none presented", "route", "/archivist/")
		u.refuse(w, r, http.StatusUnauthorized, "refused.nocert")
		return nil, false
	}
	leaf := r.TLS.PeerCertificates[0]
	snap, err := u.reg.Snapshot(ctx)
	if err != nil {
		u.log.Error("trust registry unavailable", "err", err)
		u.refuse(w, r, http.StatusServiceUnavailable, "refused.unavailable")
		return nil, false
	}
	if err := snap.StillValid(r.TLS.PeerCertificates, u.now()); err != nil {
		attempt.PersonName = leaf.Subject.CommonName
		u.svc.ArchivistLogin(ctx, attempt)
		u.refuse(w, r, http.StatusUnauthorized, "refused.revoked")
		return nil, false
	}
	reg := xmldsig.SubjectSerialNumber(leaf.Subject)
	if reg == "" || oid.Valid(reg) {
		// A system's certificate names its organisation: not a person.
		attempt.PersonName = leaf.Subject.CommonName
		u.svc.ArchivistLogin(ctx, attempt)
		u.refuse(w, r, http.StatusForbidden, "refused.notprofessional")
		return nil, false
	}
	return &professional{person: reg, name: personName(leaf), cert: pki.Fingerprint(leaf)}, true
}

// personName is the given name and surname of a professional certificate,
// or its common name.
func personName(c *x509.Certificate) string {
	var given, family string
	for _, a := range c.Subject.Names {
		v, _ := a.Value.(string)
		switch a.Type.String() {
		case "2.5.4.42":
			given = v
		case "2.5.4.4":
			family = v
		}
	}
	if given != "" || family != "" {
		return strings.TrimSpace(given + " " + family)
	}
	return c.Subject.CommonName
}

// login asks the service which controllers the person archives for; a
// person who archives for none gets the refusal (the service logged it).
func (u *UI) login(w http.ResponseWriter, r *http.Request, p *professional) ([]*archive.Organisation, bool) {
	orgs, err := u.svc.ArchivistLogin(r.Context(), archive.Caller{System: archive.ArchivistSystem, Person: p.person, PersonName: p.name, Purpose: archive.PurposeArchivist})
	if errors.Is(err, archive.ErrForbidden) {
		u.refuse(w, r, http.StatusForbidden, "refused.notarchivist")
		return nil, false
	}
	if err != nil {
		u.refuse(w, r, http.StatusServiceUnavailable, "refused.unavailable")
		return nil, false
	}
	return orgs, true
}

// withCaller runs h as the logged-in archivist of the session's
// controller. Without a session, a person who archives for one
// controller gets one; one who archives for several picks first.
func (u *UI) withCaller(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := u.identify(w, r)
		if !ok {
			return
		}
		if s := u.session(r, p); s != nil {
			h(w, r, s)
			return
		}
		orgs, ok := u.login(w, r, p)
		if !ok {
			return
		}
		if len(orgs) > 1 {
			http.Redirect(w, r, Prefix+"controller", http.StatusSeeOther)
			return
		}
		h(w, r, u.newSession(w, p, orgs[0], false))
	}
}

func (s *session) caller() archive.Caller {
	return archive.Caller{System: archive.ArchivistSystem, Organisation: s.controller, Person: s.person, PersonName: s.name, Purpose: archive.PurposeArchivist}
}

// session returns the request's live session made with the same
// certificate, extending it.
func (u *UI) session(r *http.Request, p *professional) *session {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.now()
	for id, s := range u.sessions {
		if now.After(s.expires) {
			delete(u.sessions, id)
		}
	}
	s, ok := u.sessions[c.Value]
	if !ok || s.cert != p.cert || s.person != p.person {
		return nil
	}
	s.expires = now.Add(SessionTTL)
	return s
}

func (u *UI) newSession(w http.ResponseWriter, p *professional, o *archive.Organisation, several bool) *session {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	id := base64.RawURLEncoding.EncodeToString(b[:])
	s := &session{person: p.person, name: p.name, cert: p.cert, controller: o.OID, controllerName: o.Name, several: several, expires: u.now().Add(SessionTTL)}
	u.mu.Lock()
	u.sessions[id] = s
	u.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", MaxAge: int(SessionTTL / time.Second), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return s
}

// page makes a page for a logged-in archivist.
func (u *UI) page(w http.ResponseWriter, r *http.Request, s *session, current string) *web.Page {
	p := u.site.NewPage(w, r)
	p.Who = s.name + " · " + s.controllerName
	p.Nav = []web.Link{{Href: Prefix + "documents", Label: "nav.documents", Current: current == "documents"}}
	if s.several {
		p.Nav = append(p.Nav, web.Link{Href: Prefix + "controller", Label: "nav.controller"})
	}
	return p
}

// chooseData is the data of the controller choice.
type chooseData struct {
	Controllers []*archive.Organisation
	Error       string
}

func (u *UI) chooseForm(w http.ResponseWriter, r *http.Request) {
	p, ok := u.identify(w, r)
	if !ok {
		return
	}
	orgs, ok := u.login(w, r, p)
	if !ok {
		return
	}
	u.renderChoice(w, r, p, http.StatusOK, orgs, "")
}

func (u *UI) renderChoice(w http.ResponseWriter, r *http.Request, p *professional, status int, orgs []*archive.Organisation, errID string) {
	pg := u.site.NewPage(w, r)
	pg.Who = p.name
	pg.Data = chooseData{Controllers: orgs, Error: errID}
	u.site.Render(w, status, "choose", pg)
}

func (u *UI) choose(w http.ResponseWriter, r *http.Request) {
	p, ok := u.identify(w, r)
	if !ok {
		return
	}
	orgs, ok := u.login(w, r, p)
	if !ok {
		return
	}
	want := r.PostFormValue("controller")
	for _, o := range orgs {
		if o.OID == want {
			u.newSession(w, p, o, len(orgs) > 1)
			http.Redirect(w, r, Prefix+"documents", http.StatusSeeOther)
			return
		}
	}
	u.renderChoice(w, r, p, http.StatusBadRequest, orgs, "choose.error")
}
