package archivistui_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"html"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/pki"
)

// evilDisplay is a display form that tries to run script, to run an event
// handler, and to load and link to a remote host.
func evilDisplay(remote string) string {
	return `<div xmlns="http://www.w3.org/1999/xhtml" class="soc-document"><h1>Vaarallinen asiakirja</h1>` +
		`<script>document.body.setAttribute('data-pwned', '1')</script>` +
		`<p>Ensimmäinen kappale.<img src="` + remote + `/pixel.png" onerror="document.body.setAttribute('data-pwned', '2')" alt="kuva"/></p>` +
		`<p style="background:url(` + remote + `/bg.png)">Toinen <a href="` + remote + `/leave">kappale</a>.</p>` +
		`<iframe src="` + remote + `/frame"></iframe></div>`
}

// versioned returns an own version 2 or later and the version it replaced.
func versioned(t *testing.T, e *env) (v2, v1 *archive.Record) {
	t.Helper()
	own := e.docs[e.world.Organisations[0].ControllerOID()]
	byID := map[string]*archive.Record{}
	for _, r := range own {
		byID[r.Header.ID] = r
	}
	for _, r := range own {
		if p := r.Header.Replaces; p != nil && byID[p.ID] != nil {
			return r, byID[p.ID]
		}
	}
	t.Fatal("the generator made no correction in the first organisation's register")
	return nil, nil
}

// entriesOf are the access-log entries of the archivist of the action
// that name the document.
func entriesOf(e *env, r *archive.Record, person string, action archive.Action) int {
	n := 0
	for _, a := range e.accessLog(r.ClientKey()) {
		if a.Action == action && a.Caller.Person == person && a.Caller.Purpose == archive.PurposeArchivist && slices.Contains(a.Documents, r.Header.ID) {
			n++
		}
	}
	return n
}

func TestDocument(t *testing.T) {
	e := newEnvWith(t, 24, 3)
	c := e.client(e.certs[archivistOne])
	v2, v1 := versioned(t, e)
	u := e.root + "/archivist/documents/" + v2.Header.ID

	reads := entriesOf(e, v2, archivistOne, archive.ActionRead)
	p := get(t, c, u+"?lang=en")
	if p.status != http.StatusOK {
		t.Fatalf("status %d\n%s", p.status, p.body)
	}
	h := v2.Header
	for _, want := range []string{
		h.ID, h.SetID, h.Client.ID.Extension, h.Custodian.Name,
		html.EscapeString(codes.DocumentType.Display(h.SpecificType.Code, "en")) + " (" + h.SpecificType.Code + ")",
		html.EscapeString(codes.ServiceTask.Display(h.ServiceTask.Code, "en")),
		html.EscapeString(codes.RetentionClass.Display(h.RetentionClass.Code, "en")),
		"pass the archive&#39;s inspection today",
		"Valid today",
		`href="/archivist/documents/` + v1.Header.ID + `"`,
		`href="/archivist/documents/` + v2.Header.ID + `/compare?with=` + v1.Header.ID + `"`,
		`href="/archivist/documents/` + v2.Header.ID + `/download"`,
		`href="/archivist/documents/` + v2.Header.ID + `/nullify"`,
		v2.SHA256,
		`<pre class="json"`, "\n  &#34;",
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	meta := sectionOf(p.body, "metadata")
	if strings.Contains(meta, h.SpecificType.Display) && h.SpecificType.Display != codes.DocumentType.Display(h.SpecificType.Code, "en") {
		t.Errorf("the English page shows the document's Finnish display name %q", h.SpecificType.Display)
	}
	// The signature's certificate as verified now.
	sig := signerOf(t, e, v2)
	for _, want := range []string{html.EscapeString(sig.Subject.String()), html.EscapeString(sig.Issuer.String())} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the signature details lack %q", want)
		}
	}
	if fi := get(t, c, u+"?lang=fi"); !strings.Contains(fi.body, html.EscapeString(codes.DocumentType.Display(h.SpecificType.Code, "fi"))) || !strings.Contains(fi.body, "Metatiedot") {
		t.Error("the Finnish page lacks the Finnish display name or headings")
	}

	t.Run("every read is the archivist's and logged, and shown on the page", func(t *testing.T) {
		if n := entriesOf(e, v2, archivistOne, archive.ActionRead); n < reads+2 {
			t.Errorf("%d reads logged, want at least %d", n, reads+2)
		}
		if entriesOf(e, v2, archivistOne, archive.ActionHistory) == 0 {
			t.Error("the version history read is not logged")
		}
		if !slices.ContainsFunc(e.accessLog(v2.ClientKey()), func(a *archive.AccessEntry) bool {
			return a.Action == archive.ActionLogRead && a.Caller.Person == archivistOne && a.Caller.Purpose == archive.PurposeArchivist
		}) {
			t.Error("the access-log read is not logged")
		}
		// The page's own log section names the archivist's reads.
		again := get(t, c, u+"?lang=en")
		if !regexp.MustCompile(`<td>Read</td>\s*<td>Aino Arkistolainen, ` + archivistOne).MatchString(again.body) {
			t.Errorf("the page's access log lacks the archivist's read")
		}
	})

	t.Run("download: the exact stored bytes as an attachment", func(t *testing.T) {
		p := get(t, c, u+"/download")
		if p.status != http.StatusOK || p.body != string(e.gdocs[v2.Header.ID].XML) {
			t.Fatalf("status %d, %d bytes, want the archived %d", p.status, len(p.body), len(e.gdocs[v2.Header.ID].XML))
		}
		if ct := p.header.Get("Content-Type"); ct != "application/hl7-v3+xml" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := p.header.Get("Content-Disposition"); cd != `attachment; filename=`+v2.Header.ID+`.xml` && cd != `attachment; filename="`+v2.Header.ID+`.xml"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		if entriesOf(e, v2, archivistOne, archive.ActionRead) < reads+3 {
			t.Error("the download is not logged as a read")
		}
	})

	t.Run("another controller's document is not found", func(t *testing.T) {
		theirs := e.docs[e.world.Organisations[1].ControllerOID()][0]
		for _, path := range []string{"?lang=en", "/download?lang=en", "/compare?lang=en&with=" + v2.Header.ID, "/nullify?lang=en"} {
			p := get(t, c, e.root+"/archivist/documents/"+theirs.Header.ID+path)
			if p.status != http.StatusNotFound || !strings.Contains(p.body, "Not found") || !strings.Contains(p.body, "no such document in your registers") || strings.Contains(p.body, theirs.Header.Client.ID.Extension) {
				t.Errorf("%s: status %d", path, p.status)
			}
		}
	})

	t.Run("no identity code in the operator's log", func(t *testing.T) {
		if strings.Contains(e.oplog.String(), h.Client.ID.Extension) {
			t.Errorf("the operator's log holds the identity code:\n%s", e.oplog.String())
		}
	})

	t.Run("a revocation since archiving shows at once", func(t *testing.T) {
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(24 * time.Hour),
			RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: sig.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)}},
		}, e.world.CA.Cert, e.world.CA.Key)
		if err != nil {
			t.Fatal(err)
		}
		crl, err := pki.ParseCRL(der)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := archive.NewAdmin(e.store, nil).ImportCRL(context.Background(), crl); err != nil {
			t.Fatal(err)
		}
		p := get(t, c, u+"?lang=en")
		if !strings.Contains(p.body, "SIG_REVOKED") || !strings.Contains(p.body, "NOT valid") || strings.Contains(p.body, "Valid today") {
			t.Errorf("the page does not show the revocation:\n%s", sectionOf(p.body, "signatures"))
		}
	})
}

// signerOf is the certificate that signed the version.
func signerOf(t *testing.T, e *env, r *archive.Record) *x509.Certificate {
	t.Helper()
	for _, p := range e.world.Professionals {
		if pki.Fingerprint(p.Identity.Cert) == r.Signatures[0].CertSHA256 {
			return p.Identity.Cert
		}
	}
	for _, o := range e.world.Organisations {
		if pki.Fingerprint(o.System.Cert) == r.Signatures[0].CertSHA256 {
			return o.System.Cert
		}
	}
	t.Fatal("no certificate of the world signed the version")
	return nil
}

func sectionOf(body, id string) string {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return body
	}
	body = body[i:]
	if j := strings.Index(body, "</section>"); j >= 0 {
		return body[:j]
	}
	return body
}

// TestDelayEnd: a document delayed from the citizen view shows the
// reason and when the delay ends, in Finnish time.
func TestDelayEnd(t *testing.T) {
	e := newEnv(t, 8)
	hki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	release := time.Date(2026, 6, 1, 0, 0, 0, 0, hki)
	d := e.archiveWith(`<div xmlns="http://www.w3.org/1999/xhtml"><p>Viivästetty.</p></div>`, func(h *cda.Header) {
		h.HideReason, h.HideReasonText, h.CitizenRelease = cda.Code{Code: "1", System: codes.OIDHideReason}, "Viivästys", &release
	})
	p := get(t, e.client(e.certs[archivistOne]), e.root+"/archivist/documents/"+d.Header.ID)
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	i := strings.Index(p.body, "Viivästys päättyy")
	if i < 0 || !strings.Contains(p.body[i:], "2026-06-01 00:00") {
		t.Errorf("the end of the delay is not shown")
	}
}

// TestHostileDisplay: a display form's script, event handler, style, link
// and remote image reach the page as none of them.
func TestHostileDisplay(t *testing.T) {
	e := newEnv(t, 8)
	evil := e.archiveDisplay(evilDisplay("https://remote.example"))
	c := e.client(e.certs[archivistOne])
	p := get(t, c, e.root+"/archivist/documents/"+evil.Header.ID)
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	display := sectionOf(p.body, "display")
	if !strings.Contains(display, "Ensimmäinen kappale.") || !strings.Contains(display, "<h3>Vaarallinen asiakirja</h3>") || !strings.Contains(display, "Toinen kappale.") {
		t.Errorf("the text of the display form is not shown:\n%s", display)
	}
	for _, bad := range []string{"<script", "onerror", "<img", "<iframe", "style=", "remote.example", "pwned"} {
		if strings.Contains(p.body, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	if strings.Contains(display, "<a ") || strings.Contains(display, "href") {
		t.Error("the display form links out")
	}
}

// TestCompare: two versions of a set side by side with differences
// marked in text, the display forms' text diff; versions of different
// sets are refused.
func TestCompare(t *testing.T) {
	e := newEnvWith(t, 24, 3)
	c := e.client(e.certs[archivistOne])
	v2, v1 := versioned(t, e)
	base := e.root + "/archivist/documents/" + v2.Header.ID + "/compare"
	p := get(t, c, base+"?with="+url.QueryEscape(v1.Header.ID)+"&lang=en")
	if p.status != http.StatusOK {
		t.Fatalf("status %d\n%s", p.status, p.body)
	}
	// The ids, versions and times differ; the client and set do not.
	rowRE := func(label string) *regexp.Regexp {
		return regexp.MustCompile(`<tr( class="differs")?>\s*<th scope="row">` + regexp.QuoteMeta(label) + `</th>(?s:.*?)</tr>`)
	}
	for label, differs := range map[string]bool{"Document id": true, "Version": true, "Document set (setId)": false, "Client": false, "Register": false} {
		m := rowRE(label).FindStringSubmatch(p.body)
		if m == nil {
			t.Errorf("no row %q", label)
			continue
		}
		if got := m[1] != ""; got != differs {
			t.Errorf("row %q marked differing %v, want %v", label, got, differs)
		}
		if differs != strings.Contains(m[0], "≠ Differs") {
			t.Errorf("row %q: the difference is not marked in text: %s", label, m[0])
		}
	}
	// The generator writes "Korjattu versio 2." into a correction.
	// The older version is on the left: the correction's line was added.
	if !regexp.MustCompile(`<li class="added"><ins>.*Only in version ` + strconv.Itoa(v2.Header.Version) + `: </span>Korjattu versio ` + strconv.Itoa(v2.Header.Version) + `\.</ins></li>`).MatchString(p.body) {
		t.Errorf("the text diff does not show the correction's line:\n%s", sectionOf(p.body, "text"))
	}
	if !strings.Contains(p.body, `href="/archivist/documents/`+v2.Header.ID+`/compare?lang=fi&amp;with=`+v1.Header.ID+`"`) {
		t.Error("the language switch loses the compared version")
	}

	t.Run("without another version, the others to choose from", func(t *testing.T) {
		p := get(t, c, base+"?lang=en")
		if p.status != http.StatusOK || !strings.Contains(p.body, `compare?with=`+v1.Header.ID) {
			t.Errorf("status %d, no link to compare with %s", p.status, v1.Header.ID)
		}
	})
	t.Run("versions of different sets are refused", func(t *testing.T) {
		var other *archive.Record
		for _, r := range e.docs[e.world.Organisations[0].ControllerOID()] {
			if r.Header.SetID != v2.Header.SetID {
				other = r
				break
			}
		}
		p := get(t, c, base+"?with="+other.Header.ID+"&lang=en")
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "belong to different document sets") || strings.Contains(p.body, `class="compare"`) {
			t.Errorf("status %d\n%s", p.status, p.body)
		}
	})
	t.Run("another controller's version is not found", func(t *testing.T) {
		theirs := e.docs[e.world.Organisations[1].ControllerOID()][0]
		p := get(t, c, base+"?with="+theirs.Header.ID+"&lang=en")
		if p.status != http.StatusNotFound || strings.Contains(p.body, theirs.Header.Client.ID.Extension) {
			t.Errorf("status %d", p.status)
		}
	})
	t.Run("both reads are logged", func(t *testing.T) {
		if entriesOf(e, v1, archivistOne, archive.ActionRead) == 0 || entriesOf(e, v2, archivistOne, archive.ActionRead) == 0 {
			t.Error("the compared versions' reads are not in the access log")
		}
	})
}

// TestNullify: a reason, a confirmation, then the service's nullification
// with the archivist recorded; bad input changes nothing; a cross-origin
// post is refused.
func TestNullify(t *testing.T) {
	e := newEnv(t, 12)
	c := e.client(e.certs[archivistOne])
	target := e.docs[e.world.Organisations[0].ControllerOID()][1]
	u := e.root + "/archivist/documents/" + target.Header.ID + "/nullify"
	status := func() archive.Status {
		r, err := e.svc.Metadata(context.Background(), archive.Caller{System: e.world.Organisations[0].SystemName, Organisation: target.Controller, Purpose: "1"}, target.Header.ID)
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}

	p := get(t, c, u+"?lang=en")
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="reason"`) || !strings.Contains(p.body, `name="text"`) || !strings.Contains(p.body, target.Header.ID) {
		t.Fatalf("form: %d\n%s", p.status, p.body)
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		has    []string
	}{
		{"no reason", url.Values{"step": {"confirm"}, "text": {"x"}}, http.StatusBadRequest, []string{`id="e-reason"`, `href="#f-reason"`}},
		{"unknown reason", url.Values{"step": {"confirm"}, "reason": {"whim"}, "text": {"x"}}, http.StatusBadRequest, []string{`id="e-reason"`}},
		{"no text", url.Values{"step": {"confirm"}, "reason": {"duplicate"}, "text": {"  "}}, http.StatusBadRequest, []string{`id="e-text"`, `aria-invalid="true"`}},
		{"too long", url.Values{"step": {"confirm"}, "reason": {"duplicate"}, "text": {strings.Repeat("x", 2001)}}, http.StatusBadRequest, []string{"at most 2000"}},
		{"no text, straight to do", url.Values{"step": {"do"}, "reason": {"duplicate"}}, http.StatusBadRequest, []string{`id="e-text"`}},
		{"the confirmation nullifies nothing yet", url.Values{"step": {"confirm"}, "reason": {"duplicate"}, "text": {"Arkistoitu kahdesti <b>"}}, http.StatusOK,
			[]string{"Confirm the nullification", `name="step" value="do"`, "The same document archived twice", "Arkistoitu kahdesti &lt;b&gt;"}},
	}
	for _, tt := range tests {
		p := post(t, c, u+"?lang=en", tt.form)
		if p.status != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, p.status, tt.status)
		}
		for _, s := range tt.has {
			if !strings.Contains(p.body, s) {
				t.Errorf("%s: the page lacks %q", tt.name, s)
			}
		}
		if st := status(); st != archive.StatusCurrent {
			t.Fatalf("%s: the version is %s", tt.name, st)
		}
	}
	if p := post(t, c, u, url.Values{"step": {"do"}, "reason": {"duplicate"}, "text": {"x"}}, "Sec-Fetch-Site", "cross-site"); p.status != http.StatusForbidden || status() != archive.StatusCurrent {
		t.Fatalf("a cross-origin nullification: status %d, version %s", p.status, status())
	}

	p = post(t, c, u, url.Values{"step": {"do"}, "reason": {"duplicate"}, "text": {"Arkistoitu kahdesti"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/archivist/documents/"+target.Header.ID+"?done=nullified" {
		t.Fatalf("nullify: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	r, err := e.svc.Metadata(context.Background(), archive.Caller{System: e.world.Organisations[0].SystemName, Organisation: target.Controller, Purpose: "1"}, target.Header.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := r.Nullification; r.Status != archive.StatusNullified || n == nil || n.By.Person != archivistOne || n.By.Purpose != archive.PurposeArchivist || n.ReasonCode != "duplicate" || n.ReasonText != "Arkistoitu kahdesti" {
		t.Fatalf("after: %s %+v", r.Status, r.Nullification)
	}
	if entriesOf(e, target, archivistOne, archive.ActionNullify) != 1 {
		t.Error("the nullification is not in the access log once as the archivist's")
	}
	p = get(t, c, e.root+"/archivist/documents/"+target.Header.ID+"?done=nullified&lang=en")
	if !strings.Contains(p.body, "The version has been nullified") || strings.Contains(p.body, `/nullify"`) || !strings.Contains(p.body, "Aino Arkistolainen (") {
		t.Errorf("the page after nullifying:\n%s", p.body)
	}
	p = post(t, c, u+"?lang=en", url.Values{"step": {"do"}, "reason": {"duplicate"}, "text": {"again"}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "already nullified") {
		t.Errorf("a second nullification: %d", p.status)
	}
}

// TestEveryPageLogged: every page and action of the UI is in the access
// log as the archivist's use: the person, the controller, the purpose.
func TestEveryPageLogged(t *testing.T) {
	e := newEnvWith(t, 12, 3)
	c := e.client(e.certs[archivistOne])
	v2, v1 := versioned(t, e)
	own := e.world.Organisations[0].ControllerOID()
	count := func() int {
		n := 0
		for _, key := range []string{"", v2.ClientKey()} {
			for _, a := range e.accessLog(key) {
				if a.Caller.Person == archivistOne && a.Caller.Purpose == archive.PurposeArchivist && a.Caller.Organisation == own && a.Outcome == archive.OutcomeAllowed {
					n++
				}
			}
		}
		return n
	}
	doc := e.root + "/archivist/documents/" + v2.Header.ID
	tests := []struct {
		name string
		do   func() page
	}{
		{"search form", func() page { return get(t, c, e.root+"/archivist/documents") }},
		{"search", func() page { return post(t, c, e.root+"/archivist/documents", url.Values{"setId": {v2.Header.SetID}}) }},
		{"document", func() page { return get(t, c, doc) }},
		{"download", func() page { return get(t, c, doc+"/download") }},
		{"compare, choosing", func() page { return get(t, c, doc+"/compare") }},
		{"compare", func() page { return get(t, c, doc+"/compare?with="+v1.Header.ID) }},
		{"nullify form", func() page { return get(t, c, doc+"/nullify") }},
		{"nullify, invalid", func() page { return post(t, c, doc+"/nullify", url.Values{"step": {"confirm"}}) }},
		{"nullify, confirmation", func() page {
			return post(t, c, doc+"/nullify", url.Values{"step": {"confirm"}, "reason": {"other"}, "text": {"Testi"}})
		}},
		{"nullify", func() page {
			return post(t, c, doc+"/nullify", url.Values{"step": {"do"}, "reason": {"other"}, "text": {"Testi"}})
		}},
	}
	for _, tt := range tests {
		before := count()
		p := tt.do()
		if p.status >= 500 || p.status == http.StatusForbidden || p.status == http.StatusNotFound {
			t.Errorf("%s: status %d", tt.name, p.status)
		}
		if after := count(); after <= before {
			t.Errorf("%s: not in the access log (%d entries before, %d after)", tt.name, before, after)
		}
	}
}
