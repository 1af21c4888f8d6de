package citizenui_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserGuardian: in Chromium, a guardian signs in through the
// development provider, picks the child, sees the child's document that
// may be disclosed to guardians and not the one the child forbids, gives
// consent for the child and is offered no prohibition; the header names
// the child throughout. Every new page passes axe-core.
func TestBrowserGuardian(t *testing.T) {
	chromium, axeFile := browserTools(t)
	b, err := os.ReadFile(axeFile)
	if err != nil {
		t.Fatal(err)
	}
	axeJS := string(b)
	e := newEnv(t)
	f := e.addFamily(t)
	ctx := e.chrome(t, chromium)

	nav(t, ctx, e.root+"/citizen/documents")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("input#hetu"), f.guardian)); err != nil {
		t.Fatal(err)
	}
	click(t, ctx, `form:has(input#hetu) button[type=submit]`, "main h1")
	if h := text(t, ctx, "h1"); h != "Kenen tietoja haluat katsoa?" {
		t.Fatalf("a guardian after signing in: h1 %q, want the choice", h)
	}
	checkPage(t, ctx, axeJS, "citizen-guardian-choose-fi")
	click(t, ctx, `input[name=for][value=child-0]`, "")
	click(t, ctx, `form[action="/citizen/act-for"] .actions button`, "main h1")
	if who := text(t, ctx, "header .who"); !strings.Contains(who, f.childName) {
		t.Errorf("the header %q does not name the child %s", who, f.childName)
	}
	got := links(t, ctx)
	if !slices.Contains(got, "/citizen/documents/"+f.allowed.Header.ID) || slices.Contains(got, "/citizen/documents/"+f.forbidden.Header.ID) {
		t.Errorf("the child's documents %v: want %s and not %s", got, f.allowed.Header.ID, f.forbidden.Header.ID)
	}
	checkPage(t, ctx, axeJS, "citizen-guardian-documents-fi")
	click(t, ctx, `a[href="/citizen/documents/`+f.allowed.Header.ID+`"]`, ".display-form")
	checkPage(t, ctx, axeJS, "citizen-guardian-document-fi")

	nav(t, ctx, e.root+"/citizen/consents?lang=en")
	click(t, ctx, `section[aria-labelledby=notice-h] button`, `.notice.success`)
	click(t, ctx, `section[aria-labelledby=consent-h] button`, `.notice.success`)
	if got := text(t, ctx, ".notice.success"); got != "The consent is recorded." {
		t.Errorf("after giving consent for the child: %q", got)
	}
	if why := text(t, ctx, "#guardian-no-prohibitions"); !strings.Contains(why, "prohibitions are the child's own decision") {
		t.Errorf("the consents page does not say why there is no prohibition: %q", why)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[value=prohibit], input[name=target]').length`))
	if err != nil || n != 0 {
		t.Errorf("a prohibition form is offered to the guardian (%d inputs, %v)", n, err)
	}
	if who := text(t, ctx, "header .who"); !strings.Contains(who, "acting for "+f.childName) {
		t.Errorf("the header in English: %q", who)
	}
	checkPage(t, ctx, axeJS, "citizen-guardian-consents-en")

	nav(t, ctx, e.root+"/citizen/log")
	if g := text(t, ctx, "section[aria-labelledby=guardians-h]"); !strings.Contains(g, "Guardian") {
		t.Errorf("the child's log as the guardian sees it: %q", g)
	}
	checkPage(t, ctx, axeJS, "citizen-guardian-log-en")

	// The same in Swedish: the header, and why there is no prohibition.
	nav(t, ctx, e.root+"/citizen/consents?lang=sv")
	if who := text(t, ctx, "header .who"); !strings.Contains(who, "som vårdnadshavare för "+f.childName) {
		t.Errorf("the header in Swedish: %q", who)
	}
	if why := text(t, ctx, "#guardian-no-prohibitions"); why == "" || strings.Contains(why, "prohibitions are the child's own decision") {
		t.Errorf("the consents page in Swedish does not say why there is no prohibition in Swedish: %q", why)
	}
	checkPage(t, ctx, axeJS, "citizen-guardian-consents-sv")

	// Back to oneself: the header no longer names the child.
	nav(t, ctx, e.root+"/citizen/act-for")
	click(t, ctx, `input[name=for][value=self]`, "")
	click(t, ctx, `form[action="/citizen/act-for"] .actions button`, "main h1")
	if who := text(t, ctx, "header .who"); strings.Contains(who, f.childName) {
		t.Errorf("after switching back the header is %q", who)
	}
}
