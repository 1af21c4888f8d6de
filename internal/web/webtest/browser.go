package webtest

// Browser tests of the web doors: headless Chromium with its own NSS
// database, axe-core on every page, screenshots on request. .ci/run
// installs Chromium, the NSS tools and axe-core; without them the tests
// skip, and with CI=true they fail. Only tests import this package, so
// chromedp never reaches the server binary.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ScreenshotsEnv names a directory to save the pages' screenshots in
// (docs/img when updating the README's).
const ScreenshotsEnv = "ARKISTO_SCREENSHOTS"

// Need skips the test for a missing tool, or fails it in CI.
func Need(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: %v (CI=true: the browser tests must run; .ci/run installs it)", what, err)
	}
	t.Skipf("%s: %v", what, err)
}

// BrowserTools finds Chromium, the NSS tools (certutil and the extra ones
// named) and axe-core ($ARKISTO_AXE, or where .ci/run installs it), or
// skips the test (fails it in CI).
func BrowserTools(t testing.TB, nssTools ...string) (chromium, axe string) {
	t.Helper()
	var err error
	for _, name := range []string{"chromium", "chromium-browser"} {
		if chromium, err = exec.LookPath(name); err == nil {
			break
		}
	}
	Need(t, "Chromium", err)
	for _, tool := range append([]string{"certutil"}, nssTools...) {
		_, err := exec.LookPath(tool)
		Need(t, "the NSS tools (libnss3-tools)", err)
	}
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
	Need(t, "axe-core (npm install axe-core; ARKISTO_AXE names axe.min.js)", err)
	return chromium, axe
}

// BrowserHome makes a home directory for Chromium whose NSS database
// trusts the CA (PEM) for websites; it returns the home and the database
// ("sql:..."), for importing more into it before Chromium starts.
func BrowserHome(t testing.TB, caPEM []byte) (home, nss string) {
	t.Helper()
	home = t.TempDir()
	nss = "sql:" + filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(filepath.Join(home, ".pki", "nssdb"), 0o700); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(home, "ca.crt")
	if err := os.WriteFile(ca, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	RunTool(t, "certutil", "-N", "-d", nss, "--empty-password")
	RunTool(t, "certutil", "-A", "-d", nss, "-n", "arkisto test CA", "-t", "C,,", "-i", ca)
	return home, nss
}

// RunTool runs a command, failing the test with its output if it fails.
func RunTool(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// StartChromium starts a headless Chromium with home as its home (and so
// its NSS database), as a Finnish user's browser: the first page follows
// Accept-Language. The whole browser lives at most three minutes, so that
// a hung step ends.
func StartChromium(t testing.TB, chromium, home string) context.Context {
	t.Helper()
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

// axeViolation is what a test reports of an axe-core violation.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// CheckPage runs axe-core (axeJS, the text of axe.min.js) on the page
// and fails on a serious or critical violation, logging the others; it
// saves a screenshot named name when $ARKISTO_SCREENSHOTS is set.
func CheckPage(t testing.TB, ctx context.Context, axeJS, name string) {
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
	if dir := os.Getenv(ScreenshotsEnv); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Text is the trimmed text of the first element sel matches.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// Attr is an attribute of the first element sel matches.
func Attr(t testing.TB, ctx context.Context, sel, name string) string {
	t.Helper()
	a, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		t.Fatalf("attribute %s of %s: %v", name, sel, err)
	}
	return a.Value
}

// Nav opens url and waits for its h1.
func Nav(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
}

// Click clicks sel and, when then is set, waits for the next page to load
// and show then (a mark on the old page tells them apart).
func Click(t testing.TB, ctx context.Context, sel, then string) {
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
