package citizenui_test

// The citizen view in a real browser: headless Chromium signs in through
// the development OpenID Connect provider, and axe-core checks every page.
// .ci/run installs Chromium, the NSS tools and axe-core; without them
// these tests skip, and with CI=true they fail.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/pki"
)

// screenshotsEnv names a directory to save the pages' screenshots in
// (docs/img when updating the README's).
const screenshotsEnv = "ARKISTO_SCREENSHOTS"

func need(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: %v (CI=true: the browser tests must run; .ci/run installs it)", what, err)
	}
	t.Skipf("%s: %v", what, err)
}

func browserTools(t *testing.T) (chromium, axe string) {
	t.Helper()
	var err error
	for _, name := range []string{"chromium", "chromium-browser"} {
		if chromium, err = exec.LookPath(name); err == nil {
			break
		}
	}
	need(t, "Chromium", err)
	_, err = exec.LookPath("certutil")
	need(t, "the NSS tools (libnss3-tools)", err)
	axe = os.Getenv("ARKISTO_AXE")
	if axe == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache")
		}
		axe = filepath.Join(cache, "arkisto-ci", "node", "node_modules", "axe-core", "axe.min.js")
	}
	_, err = os.Stat(axe)
	need(t, "axe-core (npm install axe-core; ARKISTO_AXE names axe.min.js)", err)
	return chromium, axe
}

// chrome starts a headless Chromium whose NSS database trusts the test CA
// and holds no client certificate.
func (e *env) chrome(t *testing.T, chromium string) context.Context {
	t.Helper()
	home := t.TempDir()
	nss := "sql:" + filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(filepath.Join(home, ".pki", "nssdb"), 0o700); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(home, "ca.crt")
	if err := os.WriteFile(ca, pki.EncodeCert(e.world.CA.Cert), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-N", "-d", nss, "--empty-password"}, {"-A", "-d", nss, "-n", "arkisto test CA", "-t", "C,,", "-i", ca}} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(filepath.Join(home, "profile")),
		chromedp.Env("HOME="+home),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("accept-lang", "fi-FI,fi"),
		chromedp.Flag("lang", "fi-FI"),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	life, cancelLife := context.WithTimeout(context.Background(), 3*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc(); cancelLife() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkPage runs axe-core on the page and fails on a serious or critical
// violation; it saves a screenshot when $ARKISTO_SCREENSHOTS is set.
func checkPage(t *testing.T, ctx context.Context, axeJS, name string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](axeJS)); err != nil {
		t.Fatalf("%s: load axe-core: %v", name, err)
	}
	run := `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({target: n.target}))})))`
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe-core: %v", name, err)
	}
	for _, v := range violations {
		b, _ := json.Marshal(v.Nodes)
		msg := fmt.Sprintf("%s: axe %s (%s): %s at %s", name, v.ID, v.Impact, v.Help, b)
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
	if dir := os.Getenv(screenshotsEnv); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
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
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
}

// click clicks sel and, when then is set, waits for the next page to
// load and show then (a mark on the old page tells them apart).
func click(t *testing.T, ctx context.Context, sel, then string) {
	t.Helper()
	if then == "" {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
		return
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.oldPage = true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	// Evaluating fails while the page navigates: ask again until the new
	// page has loaded.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!window.oldPage && document.readyState === 'complete'`))
		if err == nil && loaded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after clicking %s: no new page (%v)", sel, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(then))); err != nil {
		t.Fatalf("after clicking %s: %v", sel, err)
	}
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
