package citizenui_test

// The citizen view in a real browser: headless Chromium signs in through
// the development OpenID Connect provider, and axe-core checks every page.
// .ci/run installs Chromium, the NSS tools and axe-core; without them
// these tests skip, and with CI=true they fail.

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/web/webtest"
)

// The scaffolding is internal/web/webtest's, shared with the archivist
// UI; these names are kept for this package's tests.

func browserTools(t *testing.T) (chromium, axe string) {
	t.Helper()
	return webtest.BrowserTools(t)
}

// chrome starts a headless Chromium whose NSS database trusts the test CA
// and holds no client certificate.
func (e *env) chrome(t *testing.T, chromium string) context.Context {
	t.Helper()
	home, _ := webtest.BrowserHome(t, pki.EncodeCert(e.world.CA.Cert))
	return webtest.StartChromium(t, chromium, home)
}

func checkPage(t *testing.T, ctx context.Context, axeJS, name string) {
	t.Helper()
	webtest.CheckPage(t, ctx, axeJS, name)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return webtest.Text(t, ctx, sel)
}

func links(t *testing.T, ctx context.Context) []string {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('main a[href^="/citizen/documents/"]')).map(a => a.getAttribute('href'))`))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func nav(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	webtest.Nav(t, ctx, url)
}

// click clicks sel and, when then is set, waits for the next page to
// load and show then.
func click(t *testing.T, ctx context.Context, sel, then string) {
	t.Helper()
	webtest.Click(t, ctx, sel, then)
}

// TestBrowser: a client signs in through the development provider, sees
// exactly their documents and opens one, gives consent and sets a
// prohibition, sees another controller's use and disclosure in the log
// and a disclosure refused after the prohibition, switches language and
// signs out. Every page passes axe-core.
func TestBrowser(t *testing.T) {
	chromium, axeFile := browserTools(t)
	b, err := os.ReadFile(axeFile)
	if err != nil {
		t.Fatal(err)
	}
	axeJS := string(b)
	e := newEnv(t)
	ctx := e.chrome(t, chromium)

	nav(t, ctx, e.root+"/citizen/documents")
	if h := text(t, ctx, "h1"); h != "Kirjaudu sisään (kehitysympäristö)" {
		t.Fatalf("without a session: h1 %q, want the provider's login page, in the view's language", h)
	}
	checkPage(t, ctx, axeJS, "citizen-idp-login")
	click(t, ctx, `button[name=hetu][value="`+e.client+`"]`, "main h1")
	if h := text(t, ctx, "h1"); h != "Omat asiakirjat" {
		t.Fatalf("after signing in: h1 %q", h)
	}
	var want, got []string
	for _, r := range e.shown {
		want = append(want, "/citizen/documents/"+r.Header.ID)
	}
	got = links(t, ctx)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	checkPage(t, ctx, axeJS, "citizen-documents-fi")

	var plan *archive.Record // one of the organiser's later-phase documents
	for _, r := range e.shown {
		if r.Header.DocumentGroup.Code == "5" && r.ControllerOID() == e.organiser.ControllerOID() && plan == nil {
			plan = r
		}
	}
	click(t, ctx, `a[href="/citizen/documents/`+plan.Header.ID+`"]`, ".display-form")
	checkPage(t, ctx, axeJS, "citizen-document-fi")

	// In English from here on: the switch is remembered.
	nav(t, ctx, e.root+"/citizen/consents?lang=en")
	if h := text(t, ctx, "h1"); h != "Consents and prohibitions" {
		t.Fatalf("consents in English: h1 %q", h)
	}
	checkPage(t, ctx, axeJS, "citizen-consents-empty-en")
	click(t, ctx, `section[aria-labelledby=notice-h] button`, `.notice.success`)
	click(t, ctx, `section[aria-labelledby=consent-h] button`, `.notice.success`)
	if got := text(t, ctx, ".notice.success"); got != "The consent is recorded." {
		t.Errorf("after giving consent: %q", got)
	}

	// The recipient reads the organiser's document with the consent: a
	// use and a disclosure.
	recipient := caller(e.recipient)
	recipient.Purpose = archive.PurposeDisclosure
	if _, _, err := e.svc.Get(context.Background(), recipient, plan.Header.ID); err != nil {
		t.Fatalf("disclosure with consent: %v", err)
	}
	nav(t, ctx, e.root+"/citizen/log")
	uses, disclosures := text(t, ctx, "section[aria-labelledby=uses-h]"), text(t, ctx, "section[aria-labelledby=disc-h]")
	if !strings.Contains(uses, e.recipient.Name) || !strings.Contains(uses, "Disclosure with your consent") {
		t.Errorf("who used my data does not show %s's read:\n%s", e.recipient.Name, uses)
	}
	if !strings.Contains(disclosures, e.organiser.Name) || !strings.Contains(disclosures, e.recipient.Name) || !strings.Contains(disclosures, "Your consent") {
		t.Errorf("the disclosure log does not show the disclosure from %s to %s:\n%s", e.organiser.Name, e.recipient.Name, disclosures)
	}
	if strings.Contains(uses, "Testi Asiakas") {
		t.Error("the client's own views are in who used my data")
	}
	checkPage(t, ctx, axeJS, "citizen-log-en")

	nav(t, ctx, e.root+"/citizen/consents")
	click(t, ctx, `input[name=target][value="controller:`+e.organiser.ControllerOID()+`"]`, "")
	click(t, ctx, `form:has(input[value=prohibit]) .actions button`, `.notice.success`)
	if got := text(t, ctx, ".prohibitions"); !strings.Contains(got, e.organiser.Name) {
		t.Errorf("prohibitions in force: %q, want %s", got, e.organiser.Name)
	}
	checkPage(t, ctx, axeJS, "citizen-consents-en")
	if _, _, err := e.svc.Get(context.Background(), recipient, plan.Header.ID); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("disclosure after the prohibition: err = %v, want refused (not found)", err)
	}

	nav(t, ctx, e.root+"/citizen/documents?lang=sv")
	if h := text(t, ctx, "h1"); h != "Mina dokument" {
		t.Errorf("in Swedish: h1 %q", h)
	}
	checkPage(t, ctx, axeJS, "citizen-documents-sv")

	nav(t, ctx, e.root+"/citizen/no-such-page")
	checkPage(t, ctx, axeJS, "citizen-notfound-sv")

	click(t, ctx, `form.logout button`, "h1")
	if h := text(t, ctx, "h1"); h != "Du har loggat ut" {
		t.Errorf("after signing out: h1 %q", h)
	}
	checkPage(t, ctx, axeJS, "citizen-signedout-sv")
	nav(t, ctx, e.root+"/citizen/documents")
	if h := text(t, ctx, "h1"); h != "Logga in (utvecklingsmiljö)" {
		t.Errorf("after signing out, the documents: h1 %q, want to sign in again, in Swedish", h)
	}
}
