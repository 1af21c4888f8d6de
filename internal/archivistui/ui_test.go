package archivistui_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/archivistui"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/web"
)

type page struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, req *http.Request) page {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{res.StatusCode, res.Header, string(b)}
}

func get(t *testing.T, c *http.Client, u string, hdr ...string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, c, req)
}

// post sends a form as a same-origin browser form submission does.
func post(t *testing.T, c *http.Client, u string, form url.Values, hdr ...string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, c, req)
}

var (
	countRE  = regexp.MustCompile(`<p class="count" role="status">(\d+) `)
	idRE     = regexp.MustCompile(`<td class="mono"><a href="/archivist/documents/([0-9.]+)">`)
	cursorRE = regexp.MustCompile(`name="cursor" value="([^"]+)"`)
)

func TestSearch(t *testing.T) {
	e := newEnv(t, 24)
	c := e.client(e.certs[archivistOne])
	own := e.world.Organisations[0].ControllerOID()
	mine := e.docs[own]
	if len(mine) < 3 || len(e.docs[e.world.Organisations[1].ControllerOID()]) == 0 {
		t.Fatalf("the generator made too few documents of each controller: %d", len(mine))
	}

	p := get(t, c, e.root+"/archivist/documents")
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="client"`) || !strings.Contains(p.body, `method="post"`) {
		t.Fatalf("search form: %d\n%s", p.status, p.body)
	}

	first := mine[0]
	hetuCode := first.Header.Client.ID.Extension
	ownOfClient, ownOfDay := 0, 0
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	day := func(r *archive.Record) string { return r.Header.EffectiveTime.In(helsinki).Format("2.1.2006") }
	for _, r := range mine {
		if r.Header.Client.ID.Extension == hetuCode {
			ownOfClient++
		}
		if day(r) == day(first) {
			ownOfDay++
		}
	}
	tests := []struct {
		name  string
		form  url.Values
		count int
		has   []string
		not   []string
	}{
		{"everything in the own registers", url.Values{}, len(mine), []string{mine[0].Header.ID}, idsOf(e.docs[e.world.Organisations[1].ControllerOID()])},
		{"by client", url.Values{"client": {strings.ToLower(hetuCode)}}, ownOfClient, []string{first.Header.ID}, nil},
		{"by document id", url.Values{"id": {first.Header.ID}}, 1, []string{first.Header.ID}, nil},
		{"by date range, as Finns write dates", url.Values{"from": {day(first)}, "to": {day(first)}}, ownOfDay, []string{first.Header.ID}, nil},
		{"by date range, ISO 8601", url.Values{"from": {first.Header.EffectiveTime.In(helsinki).Format("2006-01-02")}, "to": {first.Header.EffectiveTime.In(helsinki).Format("2006-01-02")}}, ownOfDay, []string{first.Header.ID}, nil},
		{"by set id", url.Values{"setId": {first.Header.SetID}}, 1, []string{first.Header.ID}, nil},
		{"another controller's document is not found", url.Values{"id": {e.docs[e.world.Organisations[1].ControllerOID()][0].Header.ID}}, 0, nil, nil},
		{"nullified only", url.Values{"status": {"nullified"}}, 0, nil, []string{first.Header.ID}},
		{"by archiving system", url.Values{"submitter": {e.world.Organisations[0].SystemName}}, len(mine), []string{first.Header.ID}, nil},
		{"by the archiving organisation", url.Values{"submitter": {own}}, len(mine), []string{first.Header.ID}, nil},
		{"by another organisation", url.Values{"submitter": {e.world.Organisations[1].ControllerOID()}}, 0, nil, nil},
		{"by another system", url.Values{"submitter": {e.world.Organisations[1].SystemName}}, 0, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := post(t, c, e.root+"/archivist/documents", tt.form)
			if p.status != http.StatusOK {
				t.Fatalf("status %d\n%s", p.status, p.body)
			}
			m := countRE.FindStringSubmatch(p.body)
			if m == nil {
				t.Fatalf("no count on the page:\n%s", p.body)
			}
			if n, _ := strconv.Atoi(m[1]); n != tt.count {
				t.Errorf("count %d, want %d", n, tt.count)
			}
			for _, s := range tt.has {
				if !strings.Contains(p.body, s) {
					t.Errorf("the results lack %s", s)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(p.body, s) {
					t.Errorf("the results show %s", s)
				}
			}
		})
	}

	t.Run("bad input names the field and searches nothing", func(t *testing.T) {
		p := post(t, c, e.root+"/archivist/documents", url.Values{"client": {"010101-1234"}, "from": {"2024-13-01"}, "generalType": {"x1"}})
		if p.status != http.StatusBadRequest {
			t.Fatalf("status %d", p.status)
		}
		for _, f := range []string{"client", "from", "generalType"} {
			if !strings.Contains(p.body, `id="e-`+f+`"`) || !strings.Contains(p.body, `id="f-`+f+`"`) || !strings.Contains(p.body, `href="#f-`+f+`"`) {
				t.Errorf("no error shown at field %s, or none in the summary", f)
			}
		}
		if strings.Contains(p.body, `class="count"`) {
			t.Error("searched despite bad input")
		}
	})

	t.Run("paging", func(t *testing.T) {
		defer archivistui.SetPageSize(3)()
		var seen []string
		form := url.Values{}
		for pages := 0; ; pages++ {
			if pages > len(mine) {
				t.Fatal("paging does not end")
			}
			p := post(t, c, e.root+"/archivist/documents", form)
			if m := countRE.FindStringSubmatch(p.body); m == nil || m[1] != strconv.Itoa(len(mine)) {
				t.Fatalf("page %d: count %v, want %d", pages, m, len(mine))
			}
			for _, m := range idRE.FindAllStringSubmatch(p.body, -1) {
				seen = append(seen, m[1])
			}
			m := cursorRE.FindStringSubmatch(p.body)
			if m == nil {
				break
			}
			form = url.Values{"cursor": {html.UnescapeString(m[1])}}
		}
		want := idsOf(mine)
		slices.Sort(seen)
		slices.Sort(want)
		if !slices.Equal(seen, want) {
			t.Errorf("pages showed %v, want %v", seen, want)
		}
	})

	t.Run("the identity code is in no operator log, and searches are in the access log", func(t *testing.T) {
		if strings.Contains(e.oplog.String(), hetuCode) {
			t.Errorf("the operator's log holds the identity code:\n%s", e.oplog.String())
		}
		log := e.accessLog(first.ClientKey())
		if !slices.ContainsFunc(log, func(a *archive.AccessEntry) bool {
			return a.Action == archive.ActionSearch && a.Caller.Person == archivistOne && a.Caller.Purpose == archive.PurposeArchivist && a.Caller.Organisation == own
		}) {
			t.Error("the archivist's search by client is not in the client's access log")
		}
		if !slices.ContainsFunc(e.accessLog(""), func(a *archive.AccessEntry) bool {
			return a.Action == archive.ActionView && a.Caller.Person == archivistOne && a.Outcome == archive.OutcomeAllowed
		}) {
			t.Error("the page view is not in the access log")
		}
	})
}

func idsOf(rs []*archive.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Header.ID)
	}
	return out
}

// TestRefusals: whoever is not an archivist gets a clear page in the
// chosen language, and an attempt with a certificate is in the access log;
// one without names nobody and is not (a durable write per anonymous
// request would let anyone fill the log).
func TestRefusals(t *testing.T) {
	e := newEnv(t, 0)
	tests := []struct {
		name   string
		client *http.Client
		status int
		text   string // in English
		person string // in the logged attempt
		logged bool
	}{
		{"no certificate", e.client(nil), http.StatusUnauthorized, "presented no certificate", "", false},
		{"a system's certificate", e.client(e.world.Organisations[0].System), http.StatusForbidden, "is not a professional", "", true},
		{"a professional who is no archivist", e.client(e.certs[stranger]), http.StatusForbidden, "not an archivist of any controller", stranger, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.accessLog(""))
			p := get(t, tt.client, e.root+"/archivist/documents", "Accept-Language", "en-GB,en;q=0.9")
			if p.status != tt.status || !strings.Contains(p.body, tt.text) || !strings.Contains(p.body, `<html lang="en">`) {
				t.Fatalf("status %d, want %d with %q:\n%s", p.status, tt.status, tt.text, p.body)
			}
			log := e.accessLog("")
			if !tt.logged {
				if len(log) != before {
					t.Errorf("an anonymous attempt wrote %d access-log entries", len(log)-before)
				}
				return
			}
			if len(log) != before+1 || log[0].Action != archive.ActionArchivistLogin || log[0].Outcome != archive.OutcomeRefused || log[0].Caller.Person != tt.person {
				t.Errorf("access log after the attempt: %d entries (before %d), newest %+v", len(log), before, log[0])
			}
		})
	}
	t.Run("an untrusted certificate fails the handshake", func(t *testing.T) {
		ca, err := pki.NewCA("untrusted CA", pki.P256, time.Now().Add(-time.Hour), 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		other, err := ca.Issue(pki.Template{Subject: pki.ProfessionalSubject(archivistOne, "Outi", "Ulkopuolinen"), KeyType: pki.P256, TLSClient: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.client(other).Get(e.root + "/archivist/documents")
		if err == nil {
			t.Fatal("served with a certificate the CA did not sign")
		}
	})
}

// TestSeveralControllers: a person who archives for two controllers picks
// one; the session cookie is Secure, HttpOnly, SameSite=Lax; the choice
// decides the registers searched.
func TestSeveralControllers(t *testing.T) {
	e := newEnv(t, 12)
	c := e.client(e.certs[archivistBoth])
	p := get(t, c, e.root+"/archivist/documents")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/archivist/controller" {
		t.Fatalf("without a choice: %d to %q", p.status, p.header.Get("Location"))
	}
	p = get(t, c, e.root+"/archivist/controller")
	second := e.world.Organisations[1].ControllerOID()
	if p.status != http.StatusOK || !strings.Contains(p.body, `value="`+second+`"`) || !strings.Contains(p.body, `value="`+e.world.Organisations[0].ControllerOID()+`"`) {
		t.Fatalf("choice page: %d\n%s", p.status, p.body)
	}
	if p := post(t, c, e.root+"/archivist/controller", url.Values{"controller": {e.world.Organisations[2].ControllerOID()}}); p.status != http.StatusBadRequest {
		t.Errorf("a controller the person does not archive for: %d", p.status)
	}
	p = post(t, c, e.root+"/archivist/controller", url.Values{"controller": {second}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("choose: %d\n%s", p.status, p.body)
	}
	cookie := p.header.Get("Set-Cookie")
	for _, want := range []string{archivistui.SessionCookie + "=", "Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=900"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	p = post(t, c, e.root+"/archivist/documents", url.Values{"status": {"all"}})
	want := len(e.docs[second])
	if m := countRE.FindStringSubmatch(p.body); m == nil || m[1] != strconv.Itoa(want) {
		t.Errorf("search after choosing %s: count %v, want %d", second, m, want)
	}
	// The session is bound to the certificate: another person's does not use it.
	other := e.client(e.certs[archivistOne])
	other.Jar = c.Jar
	p = post(t, other, e.root+"/archivist/documents", url.Values{"status": {"all"}})
	if m := countRE.FindStringSubmatch(p.body); m == nil || m[1] != strconv.Itoa(len(e.docs[e.world.Organisations[0].ControllerOID()])) {
		t.Errorf("another certificate with the session cookie: count %v", m)
	}
}

// TestWebFoundation: security headers on every response, cross-origin
// form posts refused, the language by ?lang= (remembered), cookie and
// Accept-Language, and the stylesheet served.
func TestWebFoundation(t *testing.T) {
	e := newEnv(t, 0)
	c := e.client(e.certs[archivistOne])
	for _, path := range []string{"/archivist/documents", "/archivist/static/site.css", "/archivist/nothing"} {
		p := get(t, c, e.root+path)
		for h, want := range map[string]string{
			"Content-Security-Policy":   web.CSP,
			"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
			"Referrer-Policy":           "no-referrer",
			"X-Content-Type-Options":    "nosniff",
		} {
			if got := p.header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", path, h, got, want)
			}
		}
		if strings.Contains(p.header.Get("Content-Security-Policy"), "unsafe-inline") {
			t.Errorf("%s: the CSP allows inline code", path)
		}
	}
	if p := get(t, c, e.root+"/archivist/static/site.css"); p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", p.status, p.header.Get("Content-Type"))
	}

	t.Run("cross-origin form posts are refused", func(t *testing.T) {
		before := len(e.accessLog(""))
		for _, hdr := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "", "Origin", "https://evil.example"}} {
			p := post(t, c, e.root+"/archivist/documents", url.Values{}, hdr...)
			if p.status != http.StatusForbidden {
				t.Errorf("%v: status %d", hdr, p.status)
			}
		}
		if after := len(e.accessLog("")); after != before {
			t.Errorf("a refused cross-origin post reached the service: %d log entries, before %d", after, before)
		}
	})

	langOf := regexp.MustCompile(`<html lang="(\w+)">`)
	lang := func(p page) string {
		if m := langOf.FindStringSubmatch(p.body); m != nil {
			return m[1]
		}
		return ""
	}
	t.Run("language", func(t *testing.T) {
		fresh := e.client(e.certs[archivistOne])
		tests := []struct {
			name, query, accept, want, text string
		}{
			{"default Finnish", "", "", "fi", "Asiakirjahaku"},
			{"Accept-Language", "", "sv-FI,sv;q=0.9", "sv", "Dokumentsökning"},
			{"Accept-Language, unknown", "", "de-DE", "fi", "Asiakirjahaku"},
			{"?lang= wins", "?lang=en", "sv", "en", "Document search"},
			{"the switch is remembered", "", "sv", "en", "Document search"},
			{"?lang= unknown is ignored", "?lang=de", "", "en", "Document search"},
			{"switch back", "?lang=fi", "en", "fi", "Asiakirjahaku"},
		}
		for _, tt := range tests {
			p := get(t, fresh, e.root+"/archivist/documents"+tt.query, "Accept-Language", tt.accept)
			if got := lang(p); got != tt.want || !strings.Contains(p.body, tt.text) {
				t.Errorf("%s: lang %q, want %q with %q", tt.name, got, tt.want, tt.text)
			}
			for _, l := range []string{"fi", "sv", "en"} {
				if !strings.Contains(p.body, `href="/archivist/documents?lang=`+l+`"`) {
					t.Errorf("%s: no switch to %s", tt.name, l)
				}
			}
		}
	})
}
