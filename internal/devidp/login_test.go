package devidp

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/web/webtest"
)

// TestLoginPage: the login page is the project's own look (the layout and
// stylesheet of internal/web, which the provider serves), in the relying
// party's ui_locales, under a policy without inline scripts or styles; a
// refused code is said in that language too, and a test code signs in.
func TestLoginPage(t *testing.T) {
	const callback = "https://rp.example/callback"
	p, err := Start(Options{Listen: "127.0.0.1:0", Clients: []Client{{ID: "rp", Secret: "s", Redirects: []string{callback}}},
		People: []Person{{Hetu: "131175-956E", Name: "Demoasiakas 1"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(t.Context()) })
	c := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != strings.TrimPrefix(p.Issuer, "http://") {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	q := url.Values{"client_id": {"rp"}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"st"}, "nonce": {"n"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}, "ui_locales": {"sv"}}
	res, err := c.Get(p.Issuer + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body := read(t, res)
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != loginPath {
		t.Fatalf("authorize: %d at %s: %s", res.StatusCode, res.Request.URL, body)
	}
	for _, want := range []string{`<html lang="sv">`, `<link rel="stylesheet" href="/static/site.css">`, "<h1>Logga in (utvecklingsmiljö)</h1>",
		`name="hetu" value="131175-956E"`, "aldrig i produktion", `hreflang="fi"`} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %q:\n%s", want, body)
		}
	}
	policy := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(policy, "style-src 'self'") || strings.Contains(policy, "unsafe-inline") || !strings.Contains(policy, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", policy)
	}
	id := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(body)
	if id == nil {
		t.Fatal("no login request id on the page")
	}
	// The language switch keeps the login request.
	if !strings.Contains(body, "authRequestID="+url.QueryEscape(id[1])+"&amp;lang=en") {
		t.Errorf("the language switch loses the login request:\n%s", body)
	}

	css, err := c.Get(p.Issuer + "/static/site.css")
	if err != nil {
		t.Fatal(err)
	}
	if b := read(t, css); css.StatusCode != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") || !strings.Contains(b, ".notice") {
		t.Errorf("stylesheet: %d %s", css.StatusCode, css.Header.Get("Content-Type"))
	}

	res, err = c.PostForm(p.Issuer+loginPath, url.Values{"id": {id[1]}, "hetu": {"131052-308T"}})
	if err != nil {
		t.Fatal(err)
	}
	body = read(t, res)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "Inte godkänd") || !strings.Contains(body, `aria-invalid="true"`) {
		t.Errorf("a real-range code: %d\n%s", res.StatusCode, body)
	}

	res, err = c.PostForm(p.Issuer+loginPath, url.Values{"id": {id[1]}, "hetu": {"131175-956E"}})
	if err != nil {
		t.Fatal(err)
	}
	read(t, res)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, callback+"?code=") {
		t.Errorf("a test code: %d to %q, want the callback with a code", res.StatusCode, loc)
	}
}

func read(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEveryMessageTranslated: every message the login page names is in
// every language.
func TestEveryMessageTranslated(t *testing.T) {
	webtest.EveryMessageTranslated(t, regexp.MustCompile(`"((?:idp|layout|app)\.[a-z.]+)"`), 8)
}
