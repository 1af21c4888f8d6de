package web_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"

	"github.com/arkisto/arkisto/internal/web"
)

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// TestTranslationsComplete: every message is in every language, not
// empty, with the same placeholders.
func TestTranslationsComplete(t *testing.T) {
	files, err := web.MessageFiles()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(web.Languages) {
		t.Fatalf("%d message files for %d languages", len(files), len(web.Languages))
	}
	all := map[string]bool{}
	for _, m := range files {
		for id := range m {
			all[id] = true
		}
	}
	ids := slices.Sorted(maps.Keys(all))
	for lang, m := range files {
		for _, id := range ids {
			text, ok := m[id]
			switch {
			case !ok:
				t.Errorf("%s: message %q is missing", lang, id)
			case text == "":
				t.Errorf("%s: message %q is empty", lang, id)
			}
		}
	}
	for _, id := range ids {
		var want []string
		for i, tag := range web.Languages {
			var got []string
			for _, m := range placeholder.FindAllStringSubmatch(files[tag.String()][id], -1) {
				got = append(got, m[1])
			}
			slices.Sort(got)
			if i == 0 {
				want = got
			} else if !slices.Equal(got, want) {
				t.Errorf("%s: message %q has placeholders %v, %s has %v", tag, id, got, web.Languages[0], want)
			}
		}
	}
	if _, err := web.Bundle(); err != nil {
		t.Fatal(err)
	}
}

// TestLang: ?lang= (remembered in a cookie), the cookie, Accept-Language,
// then Finnish.
func TestLang(t *testing.T) {
	site, err := web.NewSite(testPages, "/static/", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, query, cookie, accept, want string
		sets                              bool
	}{
		{"nothing", "", "", "", "fi", false},
		{"Accept-Language sv", "", "", "sv-SE,en;q=0.5", "sv", false},
		{"Accept-Language en-US", "", "", "en-US", "en", false},
		{"Accept-Language unknown", "", "", "de, fr;q=0.8", "fi", false},
		{"cookie wins over Accept-Language", "", "en", "sv", "en", false},
		{"bad cookie ignored", "", "xx", "sv", "sv", false},
		{"query wins and is remembered", "?lang=sv", "en", "en", "sv", true},
		{"unknown query ignored", "?lang=de", "", "en", "en", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "https://x/p"+tt.query, nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: web.LangCookie, Value: tt.cookie})
			}
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			w := httptest.NewRecorder()
			var got string
			web.RememberLang(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = site.Lang(r) })).ServeHTTP(w, r)
			if got != tt.want {
				t.Errorf("lang %q, want %q", got, tt.want)
			}
			cookies := w.Result().Cookies()
			if tt.sets != (len(cookies) == 1) {
				t.Fatalf("cookies set: %v", cookies)
			}
			if tt.sets {
				c := cookies[0]
				if c.Name != web.LangCookie || c.Value != tt.want || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
					t.Errorf("cookie %+v", c)
				}
			}
		})
	}
}

// TestSecureHeaders: every response, also a refusal, has the headers.
func TestSecureHeaders(t *testing.T) {
	h := web.Secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	for _, tt := range []struct {
		method, site string
		status       int
	}{
		{http.MethodGet, "cross-site", http.StatusOK},
		{http.MethodPost, "same-origin", http.StatusOK},
		{http.MethodPost, "cross-site", http.StatusForbidden},
		{http.MethodPost, "same-site", http.StatusForbidden},
	} {
		r := httptest.NewRequest(tt.method, "https://x/p", nil)
		r.Header.Set("Sec-Fetch-Site", tt.site)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.status {
			t.Errorf("%s from %s: %d, want %d", tt.method, tt.site, w.Code, tt.status)
		}
		if w.Header().Get("Content-Security-Policy") != web.CSP || w.Header().Get("Referrer-Policy") != "no-referrer" ||
			w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("Strict-Transport-Security") == "" {
			t.Errorf("%s from %s: headers %v", tt.method, tt.site, w.Header())
		}
	}
}

// TestLangHref: the switch keeps the page's query (a comparison's ?with=)
// but not the old lang, and a form's result links to the form's page.
func TestLangHref(t *testing.T) {
	site, err := web.NewSite(testPages, "/static/", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ method, target, want string }{
		{http.MethodGet, "/p", "/p?lang=sv"},
		{http.MethodGet, "/p?lang=en", "/p?lang=sv"},
		{http.MethodGet, "/d/1/compare?with=2&lang=fi", "/d/1/compare?lang=sv&with=2"},
		{http.MethodPost, "/p?x=1", "/p?lang=sv"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "https://x"+tt.target, nil)
		p := site.NewPage(httptest.NewRecorder(), r)
		if got := p.LangHref("sv"); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.method, tt.target, got, tt.want)
		}
	}
}
