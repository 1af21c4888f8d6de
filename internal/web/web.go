// Package web is the foundation of the archive's browser pages (the
// archivist UI, later the citizen's view): server-rendered html/template
// pages that work without JavaScript, in Finnish, Swedish and English,
// with security headers and cross-origin (CSRF) protection on every
// response, and one stylesheet served from the binary.
package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var localeFS embed.FS

//go:embed static
var staticFS embed.FS

// Languages are the languages of every page, the default first.
var Languages = []language.Tag{language.Finnish, language.Swedish, language.English}

// LangCookie remembers the language a user chose with the switch.
const LangCookie = "lang"

// Site renders the pages of one user interface.
type Site struct {
	bundle  *i18n.Bundle
	matcher language.Matcher
	pages   map[string]*template.Template
	static  string // URL path of the static files, ending in /
	log     *slog.Logger
}

// NewSite parses the layout with each page of pages (a file system whose
// *.html files each define "content", and "title" as a message id), and
// loads the translations. static is the URL path the Static handler is
// mounted at.
func NewSite(pages fs.FS, static string, log *slog.Logger) (*Site, error) {
	b, err := Bundle()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Site{bundle: b, matcher: language.NewMatcher(Languages), pages: map[string]*template.Template{}, static: static, log: log}
	layout, err := template.New("layout.html").ParseFS(staticFS, "static/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse the layout: %w", err)
	}
	names, err := fs.Glob(pages, "*.html")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("no page templates (*.html)")
	}
	for _, n := range names {
		t, err := template.Must(layout.Clone()).ParseFS(pages, n)
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", n, err)
		}
		s.pages[strings.TrimSuffix(n, ".html")] = t
	}
	return s, nil
}

// Bundle loads the translations of every language.
func Bundle() (*i18n.Bundle, error) {
	b := i18n.NewBundle(Languages[0])
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, tag := range Languages {
		if _, err := b.LoadMessageFileFS(localeFS, "locales/"+tag.String()+".json"); err != nil {
			return nil, fmt.Errorf("load the %s translations: %w", tag, err)
		}
	}
	return b, nil
}

// MessageFiles returns each language's messages, id to text, for tests.
func MessageFiles() (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, tag := range Languages {
		b, err := localeFS.ReadFile("locales/" + tag.String() + ".json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", tag, err)
		}
		out[tag.String()] = m
	}
	return out, nil
}

// Lang chooses the request's language: ?lang= (which the language switch
// sets, and RememberLang keeps in a cookie), the cookie, then
// Accept-Language, then Finnish.
func (s *Site) Lang(r *http.Request) string {
	if l, ok := queryLang(r); ok {
		return l // RememberLang keeps it in the cookie
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		if l, ok := known(c.Value); ok {
			return l
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, conf := s.matcher.Match(tags...)
	if conf == language.No {
		return Languages[0].String()
	}
	return Languages[i].String()
}

func queryLang(r *http.Request) (string, bool) {
	if q := r.URL.Query().Get("lang"); q != "" {
		return known(q)
	}
	return "", false
}

func setLangCookie(w http.ResponseWriter, l string) {
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// RememberLang remembers a ?lang= choice in the cookie on every response,
// also a redirect that renders no page.
func RememberLang(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l, ok := queryLang(r); ok {
			setLangCookie(w, l)
		}
		h.ServeHTTP(w, r)
	})
}

func known(l string) (string, bool) {
	for _, t := range Languages {
		if t.String() == l {
			return l, true
		}
	}
	return "", false
}

// Page is what the layout and a page's template see.
type Page struct {
	Lang   string
	Static string // URL path of the stylesheet's directory
	Path   string // the request's path, for the language switch
	// Who is shown in the header (the logged-in person), if anyone.
	Who string
	// Logout is the URL a sign-out form posts to, if the site has one.
	Logout string
	Nav    []Link
	// Footer is a message id for the footer, replacing the access-log
	// notice on a page that is no part of the archive.
	Footer string
	Data   any

	query url.Values // the request's query without lang, kept by the switch
	loc   *i18n.Localizer
	log   *slog.Logger
}

// LangHref is the language switch's link to this page in the language:
// the same path and query (a comparison keeps its ?with=), with lang.
func (p *Page) LangHref(code string) string {
	q := url.Values{}
	for k, v := range p.query {
		q[k] = v
	}
	q.Set("lang", code)
	return p.Path + "?" + q.Encode()
}

// Link is a navigation link.
type Link struct {
	Href, Label string // Label is a message id
	Current     bool
}

// LangLink is one language of the switch.
type LangLink struct {
	Code, Name string
	Current    bool
}

// Langs are the language switch's links, each language named in itself.
func (p *Page) Langs() []LangLink {
	names := map[string]string{"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}
	var out []LangLink
	for _, t := range Languages {
		out = append(out, LangLink{Code: t.String(), Name: names[t.String()], Current: t.String() == p.Lang})
	}
	return out
}

// T translates a message id; args are name, value pairs for its
// template ({{.Name}}). A missing message shows its id (and a test fails).
func (p *Page) T(id string, args ...any) string {
	var data map[string]any
	if len(args) > 0 {
		data = map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			data[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	s, err := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		p.log.Warn("missing translation", "id", id, "lang", p.Lang)
		return id
	}
	return s
}

// Date formats a time as a date and time in Finnish time.
func (p *Page) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(helsinki).Format("2006-01-02 15:04")
}

var helsinki = func() *time.Location {
	l, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		return time.UTC
	}
	return l
}()

// NewPage makes a page in the request's language.
func (s *Site) NewPage(w http.ResponseWriter, r *http.Request) *Page {
	lang := s.Lang(r)
	q := r.URL.Query()
	q.Del("lang")
	if r.Method != http.MethodGet {
		q = nil // a form's result: the switch shows the page the form is on
	}
	return &Page{Lang: lang, Static: s.static, Path: r.URL.Path, query: q, loc: i18n.NewLocalizer(s.bundle, lang), log: s.log}
}

// Render writes a page with the status. Pages carry personal data: they
// are never cached.
func (s *Site) Render(w http.ResponseWriter, status int, name string, p *Page) {
	t, ok := s.pages[name]
	if !ok {
		s.log.Error("no such page template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		s.log.Error("render a page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// Static serves the stylesheet; mount it at the site's static path.
func Static() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded directory exists
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if path.Ext(r.URL.Path) != ".css" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// CSP is the pages' Content-Security-Policy: nothing but the site's own
// stylesheet and images, no scripts, no inline styles, forms only to the
// site itself, never framed.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Secure adds the security headers to every response and refuses
// cross-origin state-changing requests (CSRF) with Go's
// http.CrossOriginProtection, which checks Sec-Fetch-Site and Origin.
func Secure(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	protected := cop.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", CSP)
		hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		protected.ServeHTTP(w, r)
	})
}
