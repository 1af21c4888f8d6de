package archivistui_test

// The archivist UI in a real browser: headless Chromium presents a
// professional's client certificate from its own NSS database, chosen by
// the AutoSelectCertificateForUrls policy (no proxy in between), and
// axe-core checks every page. .ci/run installs Chromium, the NSS tools,
// the policy and axe-core; without them these tests skip, and with
// CI=true they fail.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/web/webtest"
)

// PolicyDir is where Chromium on Linux reads managed policies.
const policyDir = "/etc/chromium/policies/managed"

// need skips the test for a missing tool, or fails it in CI.
func need(t *testing.T, what string, err error) {
	t.Helper()
	webtest.Need(t, what, err)
}

// browserTools finds Chromium, the NSS tools, the certificate policy
// and axe-core.
func browserTools(t *testing.T) (chromium, axe string) {
	t.Helper()
	chromium, axe = webtest.BrowserTools(t, "pk12util")
	policies, _ := filepath.Glob(filepath.Join(policyDir, "*.json"))
	found := false
	for _, p := range policies {
		b, _ := os.ReadFile(p)
		found = found || strings.Contains(string(b), "AutoSelectCertificateForUrls")
	}
	if !found {
		need(t, "Chromium's AutoSelectCertificateForUrls policy", fmt.Errorf("no policy in %s (see .ci/run)", policyDir))
	}
	return chromium, axe
}

// browser starts a headless Chromium whose NSS database trusts the test
// CA and holds the identity's certificate and key.
func (e *env) browser(t *testing.T, chromium string, id *pki.Identity) context.Context {
	t.Helper()
	home, nss := webtest.BrowserHome(t, pki.EncodeCert(e.world.CA.Cert))
	p12, err := pkcs12.Modern.Encode(id.Key, id.Cert, id.Chain, "test")
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(home, "person.p12")
	if err := os.WriteFile(bundle, p12, 0o600); err != nil {
		t.Fatal(err)
	}
	webtest.RunTool(t, "pk12util", "-i", bundle, "-d", nss, "-W", "test")
	return webtest.StartChromium(t, chromium, home)
}

// checkPage runs axe-core on the page and fails on a serious or critical
// violation; it saves a screenshot when $ARKISTO_SCREENSHOTS is set.
func checkPage(t *testing.T, ctx context.Context, axeJS, name string) {
	t.Helper()
	webtest.CheckPage(t, ctx, axeJS, name)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return webtest.Text(t, ctx, sel)
}

func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	return webtest.Attr(t, ctx, sel, name)
}

// TestBrowser: an archivist logs in with a client certificate, searches,
// switches language, opens a document, compares two versions and
// nullifies one; a document whose display form carries script, an event
// handler and a remote image shows none of them active; another archivist
// picks a controller; a person who is no archivist is refused. Every page
// passes axe-core.
func TestBrowser(t *testing.T) {
	chromium, axeFile := browserTools(t)
	b, err := os.ReadFile(axeFile)
	if err != nil {
		t.Fatal(err)
	}
	axeJS := string(b)
	e := newEnvWith(t, 30, 3)
	// The "remote" host a hostile display form loads from: every request
	// that reaches it is counted.
	var remoteHits atomic.Int64
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		remoteHits.Add(1)
		w.Header().Set("Content-Type", "image/png")
	}))
	t.Cleanup(remote.Close)
	evil := e.archiveDisplay(evilDisplay(remote.URL))
	own := e.docs[e.world.Organisations[0].ControllerOID()]
	client := own[0].Header.Client.ID.Extension

	t.Run("archivist searches and switches language", func(t *testing.T) {
		ctx := e.browser(t, chromium, e.certs[archivistOne])
		if err := chromedp.Do(ctx, chromedp.Navigate(e.root+"/archivist/documents"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
			t.Fatal(err)
		}
		if h := text(t, ctx, "h1"); h != "Asiakirjahaku" {
			t.Fatalf("h1 %q: the certificate was not presented or not accepted", h)
		}
		checkPage(t, ctx, axeJS, "archivist-search-fi")

		err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS(`#f-client`), client),
			chromedp.Click(chromedp.CSS(`form.search button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`p.count`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, r := range own {
			if r.Header.Client.ID.Extension == client {
				want++
			}
		}
		if got := text(t, ctx, "p.count"); got != fmt.Sprintf("%d asiakirjaa", want) {
			t.Errorf("count %q, want %d", got, want)
		}
		url, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(url, client) {
			t.Errorf("the identity code is in the URL %s", url)
		}
		checkPage(t, ctx, axeJS, "archivist-results-fi")

		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`nav.langs a[lang=en]`)),
			chromedp.WaitVisible(chromedp.CSS(`html[lang=en] h1`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		if h := text(t, ctx, "h1"); h != "Document search" {
			t.Errorf("after switching to English: h1 %q", h)
		}
		// The choice is remembered on the next page.
		if err := chromedp.Do(ctx, chromedp.Navigate(e.root+"/archivist/documents"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
			t.Fatal(err)
		}
		if l := attr(t, ctx, "html", "lang"); l != "en" {
			t.Errorf("the language switch is not remembered: lang %q", l)
		}
		err = chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS(`#f-client`), "010101-1234"),
			chromedp.SendKeys(chromedp.CSS(`#f-generalType`), "x"),
			chromedp.Click(chromedp.CSS(`form.search button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#e-client`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		if got := attr(t, ctx, "#f-client", "aria-invalid"); got != "true" {
			t.Errorf("the invalid field is not marked: aria-invalid %q", got)
		}
		checkPage(t, ctx, axeJS, "archivist-invalid-en")

		if err := chromedp.Do(ctx, chromedp.Navigate(e.root+"/archivist/documents?lang=sv"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
			t.Fatal(err)
		}
		if h := text(t, ctx, "h1"); h != "Dokumentsökning" {
			t.Errorf("in Swedish: h1 %q", h)
		}
		checkPage(t, ctx, axeJS, "archivist-search-sv")
	})

	t.Run("archivist opens a document, compares two versions and nullifies one", func(t *testing.T) {
		v2, v1 := versioned(t, e)
		ctx := e.browser(t, chromium, e.certs[archivistOne])
		doc := "/archivist/documents/" + v2.Header.ID
		err := chromedp.Do(ctx,
			chromedp.Navigate(e.root+"/archivist/documents?lang=en"),
			chromedp.WaitVisible(chromedp.CSS(`#f-setId`)),
			chromedp.SendKeys(chromedp.CSS(`#f-setId`), v2.Header.SetID),
			chromedp.Click(chromedp.CSS(`form.search button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`p.count`)),
			chromedp.Click(chromedp.CSS(`a[href="`+doc+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#metadata`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		if got := text(t, ctx, "#signatures + .notice"); !strings.Contains(got, "pass the archive's inspection today") {
			t.Errorf("inspection: %q", got)
		}
		checkPage(t, ctx, axeJS, "archivist-document-en")

		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`a[href="`+doc+`/compare?with=`+v1.Header.ID+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`table.compare`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		marked, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('table.compare tr.differs th')].map(th => th.textContent + ': ' + th.parentElement.lastElementChild.textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(marked, "Document id: ≠ Differs") || !slices.Contains(marked, "Version: ≠ Differs") {
			t.Errorf("differences marked: %q", marked)
		}
		lines, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('ol.diff li.added, ol.diff li.removed').length`))
		if err != nil || lines == 0 {
			t.Errorf("the text diff shows no changed line (%v)", err)
		}
		checkPage(t, ctx, axeJS, "archivist-compare-en")

		err = chromedp.Do(ctx,
			chromedp.Navigate(e.root+doc+"?lang=fi"),
			chromedp.WaitVisible(chromedp.CSS(`#metadata`)),
			chromedp.Click(chromedp.CSS(`a[href="`+doc+`/nullify"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#f-reason`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		checkPage(t, ctx, axeJS, "archivist-nullify-fi")
		err = chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS(`#f-reason`), "duplicate"),
			chromedp.SendKeys(chromedp.CSS(`#f-text`), "Sama asiakirja arkistoitiin kahdesti."),
			chromedp.Click(chromedp.CSS(`form.search button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#confirm`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		if h := text(t, ctx, "h1"); h != "Vahvista mitätöinti" {
			t.Errorf("confirmation h1 %q", h)
		}
		checkPage(t, ctx, axeJS, "archivist-nullify-confirm-fi")
		if r, err := e.svc.Metadata(context.Background(), archive.Caller{System: e.world.Organisations[0].SystemName, Organisation: v2.Controller, Purpose: "1"}, v2.Header.ID); err != nil || r.Status == archive.StatusNullified {
			t.Fatalf("nullified before the confirmation (%v)", err)
		}
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`#confirm`)),
			chromedp.WaitVisible(chromedp.CSS(`.notice.success[role=status]`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		checkPage(t, ctx, axeJS, "archivist-nullified-fi")
		r, err := e.svc.Metadata(context.Background(), archive.Caller{System: e.world.Organisations[0].SystemName, Organisation: v2.Controller, Purpose: "1"}, v2.Header.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := r.Nullification; r.Status != archive.StatusNullified || n == nil || n.By.Person != archivistOne || n.ReasonCode != "duplicate" {
			t.Errorf("after confirming: %s %+v", r.Status, n)
		}
	})

	t.Run("a hostile display form shows nothing active", func(t *testing.T) {
		ctx := e.browser(t, chromium, e.certs[archivistOne])
		err := chromedp.Do(ctx,
			chromedp.Navigate(e.root+"/archivist/documents/"+evil.Header.ID+"?lang=en"),
			chromedp.WaitVisible(chromedp.CSS(`.display-form`)),
			chromedp.Sleep(500*time.Millisecond), // time for anything that would load
		)
		if err != nil {
			t.Fatal(err)
		}
		type rendered struct {
			Scripts, OnError, Handlers, Images, Frames, Styled, Links int
			Pwned                                                     string
			Text                                                      string
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[rendered](`(() => {
			const all = [...document.querySelectorAll('*')];
			return {
				scripts: document.querySelectorAll('script').length,
				onError: document.querySelectorAll('[onerror]').length,
				handlers: all.filter(el => [...el.attributes].some(a => a.name.startsWith('on'))).length,
				images: [...document.images].filter(i => !i.src.startsWith(location.origin)).length,
				frames: document.querySelectorAll('iframe, object, embed').length,
				styled: document.querySelectorAll('.display-form [style]').length,
				links: document.querySelectorAll('.display-form a').length,
				pwned: document.body.getAttribute('data-pwned') || '',
				text: document.querySelector('.display-form').textContent,
			};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if got.Scripts+got.OnError+got.Handlers+got.Images+got.Frames+got.Styled+got.Links != 0 || got.Pwned != "" {
			t.Errorf("what the browser rendered: %+v", got)
		}
		if !strings.Contains(got.Text, "Ensimmäinen kappale.") || !strings.Contains(got.Text, "Toinen kappale.") {
			t.Errorf("the display form's text is not shown: %q", got.Text)
		}
		if n := remoteHits.Load(); n != 0 {
			t.Errorf("%d requests reached the remote host", n)
		}
		checkPage(t, ctx, axeJS, "archivist-hostile-en")
	})

	t.Run("archivist of two controllers picks one", func(t *testing.T) {
		ctx := e.browser(t, chromium, e.certs[archivistBoth])
		if err := chromedp.Do(ctx, chromedp.Navigate(e.root+"/archivist/documents?lang=en"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
			t.Fatal(err)
		}
		if h := text(t, ctx, "h1"); h != "Choose the controller" {
			t.Fatalf("h1 %q", h)
		}
		checkPage(t, ctx, axeJS, "archivist-choose-en")
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`#controller-1`)),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`form.search`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		if who := text(t, ctx, ".who"); !strings.Contains(who, e.world.Organisations[1].Name) {
			t.Errorf("header %q does not name the chosen controller %s", who, e.world.Organisations[1].Name)
		}
	})

	t.Run("a person who is no archivist sees why", func(t *testing.T) {
		ctx := e.browser(t, chromium, e.certs[stranger])
		if err := chromedp.Do(ctx, chromedp.Navigate(e.root+"/archivist/documents?lang=en"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
			t.Fatal(err)
		}
		if h := text(t, ctx, "h1"); h != "Access denied" {
			t.Fatalf("h1 %q", h)
		}
		if msg := text(t, ctx, "[role=alert]"); !strings.Contains(msg, "not an archivist") {
			t.Errorf("refusal %q", msg)
		}
		checkPage(t, ctx, axeJS, "archivist-refused-en")
	})
}
