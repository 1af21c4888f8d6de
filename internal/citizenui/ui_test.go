package citizenui_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/citizenui"
)

// TestLogin: a client signs in through the OpenID Connect provider and
// lands on the page they asked for, with a session cookie that is Secure,
// HttpOnly and SameSite=Lax; the identity code is never in the operator's
// log.
func TestLogin(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	form := b.startLogin(e, "/citizen/log")
	auth := form.Request.URL.Query().Get("authRequestID")
	// The provider redirects to its callback, which redirects to ours.
	r := b.post(e.idp+"/login", url.Values{"id": {auth}, "hetu": {e.client}})
	for r.StatusCode/100 == 3 && !strings.Contains(r.Header.Get("Location"), "/citizen/callback") {
		loc, _ := r.Request.URL.Parse(r.Header.Get("Location"))
		r = b.get(loc.String())
	}
	loc, _ := r.Request.URL.Parse(r.Header.Get("Location"))
	if q := loc.Query(); q.Get("code") == "" || q.Get("state") == "" {
		t.Fatalf("the provider redirects to %s, want the callback with a code and state", loc.Redacted())
	}
	cb := b.get(loc.String())
	if cb.StatusCode != http.StatusSeeOther || cb.Header.Get("Location") != "/citizen/log" {
		t.Fatalf("callback: %d to %q, want 303 to /citizen/log", cb.StatusCode, cb.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range cb.Cookies() {
		if c.Name == citizenui.SessionCookie {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.MaxAge <= 0 || session.MaxAge > 15*60 {
		t.Fatalf("session cookie %+v: want Secure, HttpOnly, SameSite=Lax, Path=/, short", session)
	}
	page := b.follow(cb)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "Testi Asiakas") {
		t.Fatalf("after login: %d %s", page.StatusCode, page.Request.URL)
	}
	t.Run("the callback is used once", func(t *testing.T) {
		again := b.get(loc.String())
		if again.StatusCode != http.StatusBadRequest {
			t.Errorf("replayed callback: %d, want 400", again.StatusCode)
		}
	})
	t.Run("logout ends the session", func(t *testing.T) {
		out := b.post(e.root+"/citizen/logout", nil)
		if out.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", out.StatusCode)
		}
		r := b.get(e.root + "/citizen/documents")
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/citizen/login") {
			t.Errorf("after logout: %d to %q, want to sign in again", r.StatusCode, r.Header.Get("Location"))
		}
	})
	if strings.Contains(e.oplog.String(), e.client) {
		t.Error("the operator's log names the client's identity code")
	}
}

// TestLoginRefusals: the provider accepts test identity codes only; a
// callback with another state, or without the login cookie, signs nobody
// in; a forged session cookie is no session.
func TestLoginRefusals(t *testing.T) {
	e := newEnv(t)
	t.Run("the development provider refuses a code outside 900-999", func(t *testing.T) {
		b := e.browser()
		form := b.startLogin(e, "/citizen/documents")
		r := b.post(e.idp+"/login", url.Values{"id": {form.Request.URL.Query().Get("authRequestID")}, "hetu": {"131052-308T"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `role="alert"`) || !strings.Contains(r.Body, "900–999") {
			t.Errorf("a real-range code: %d, want 400 and the reason", r.StatusCode)
		}
	})
	t.Run("another state", func(t *testing.T) {
		b := e.browser()
		form := b.startLogin(e, "/citizen/documents")
		r := b.post(e.idp+"/login", url.Values{"id": {form.Request.URL.Query().Get("authRequestID")}, "hetu": {e.client}})
		for r.StatusCode/100 == 3 && !strings.Contains(r.Header.Get("Location"), "/citizen/callback") {
			loc, _ := r.Request.URL.Parse(r.Header.Get("Location"))
			r = b.get(loc.String())
		}
		loc, _ := r.Request.URL.Parse(r.Header.Get("Location"))
		q := loc.Query()
		q.Set("state", "forged")
		loc.RawQuery = q.Encode()
		if cb := b.get(loc.String()); cb.StatusCode != http.StatusBadRequest {
			t.Errorf("callback with another state: %d, want 400", cb.StatusCode)
		}
		if r := b.get(e.root + "/citizen/documents"); r.StatusCode != http.StatusSeeOther {
			t.Errorf("signed in after a forged state: %d", r.StatusCode)
		}
	})
	t.Run("a callback in another browser", func(t *testing.T) {
		b := e.browser()
		form := b.startLogin(e, "/citizen/documents")
		r := b.post(e.idp+"/login", url.Values{"id": {form.Request.URL.Query().Get("authRequestID")}, "hetu": {e.client}})
		for r.StatusCode/100 == 3 && !strings.Contains(r.Header.Get("Location"), "/citizen/callback") {
			loc, _ := r.Request.URL.Parse(r.Header.Get("Location"))
			r = b.get(loc.String())
		}
		loc, _ := r.Request.URL.Parse(r.Header.Get("Location"))
		if cb := e.browser().get(loc.String()); cb.StatusCode != http.StatusBadRequest {
			t.Errorf("the callback without the login cookie: %d, want 400", cb.StatusCode)
		}
	})
	t.Run("after signing in, only a page of the view", func(t *testing.T) {
		for _, next := range []string{"//evil.example/x", "https://evil.example/", "/citizen//evil.example", "/fhir/Patient"} {
			r := e.browser().login(e, "/citizen/login?next="+url.QueryEscape(next), e.client)
			if r.StatusCode != http.StatusOK || r.Request.URL.Host != strings.TrimPrefix(e.root, "https://") || r.Request.URL.Path != "/citizen/documents" {
				t.Errorf("next=%s: landed on %s (%d), want /citizen/documents", next, r.Request.URL, r.StatusCode)
			}
		}
	})
	t.Run("sign-ins in progress are bounded", func(t *testing.T) {
		old := citizenui.SetMaxPendingLogins(3)
		defer citizenui.SetMaxPendingLogins(old)
		var codes []int
		for range 5 {
			codes = append(codes, e.browser().get(e.root+"/citizen/login").StatusCode)
		}
		if !slices.Contains(codes, http.StatusServiceUnavailable) {
			t.Errorf("statuses %v: no sign-in refused beyond the bound", codes)
		}
	})
	t.Run("a forged session cookie", func(t *testing.T) {
		b := e.browser()
		req, _ := http.NewRequest(http.MethodGet, e.root+"/citizen/documents", nil)
		req.AddCookie(&http.Cookie{Name: citizenui.SessionCookie, Value: "forged"})
		if r := b.do(req); r.StatusCode != http.StatusSeeOther {
			t.Errorf("forged session: %d, want a redirect to sign in", r.StatusCode)
		}
	})
}

// TestDocuments: the client sees exactly their shown documents, opens
// each, and gets "no such document" for the others and another client's;
// every view is in the access log as the client's own use.
func TestDocuments(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	page := b.login(e, "/citizen/documents", e.client)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("documents: %d", page.StatusCode)
	}
	for _, r := range e.shown {
		if !strings.Contains(page.Body, `href="/citizen/documents/`+r.Header.ID+`"`) {
			t.Errorf("shown document %s (group %s) is not listed", r.Header.ID, r.Header.DocumentGroup.Code)
		}
	}
	for _, r := range append(slices.Clone(e.hidden), e.theirs...) {
		if strings.Contains(page.Body, `/citizen/documents/`+r.Header.ID+`"`) {
			t.Errorf("document %s (group %s, %s) is listed", r.Header.ID, r.Header.DocumentGroup.Code, r.Status)
		}
	}
	// The personal case worker of each case, as its newest document
	// naming one names them (the generator's plans do).
	var workers int
	named := map[string]bool{}
	for _, r := range e.shown { // newest first
		key := r.Header.Case.ID + "|" + r.Header.ServiceTask.Code
		if r.Header.DocumentGroup.Code == "1" {
			key = "rel"
		}
		if len(r.CaseWorkers) == 0 || named[key] {
			continue
		}
		named[key] = true
		workers++
		if w := r.CaseWorkers[0]; !strings.Contains(page.Body, "Omatyöntekijä: "+w.Name+" ("+w.Title+"), ") {
			t.Errorf("the case worker %s of %s is not shown", w.Name, r.Header.ID)
		}
	}
	if workers == 0 {
		t.Error("no shown document names a personal case worker")
	}
	rels := page.Body[strings.Index(page.Body, `id="rel-h"`)+1:]
	rels = rels[:strings.Index(rels, "</section>")]
	for _, o := range []string{e.organiser.Name, e.recipient.Name} {
		if !strings.Contains(rels, o) {
			t.Errorf("the client's relationship with %s is not shown", o)
		}
	}
	if r := b.get(e.root + "/citizen/documents/" + e.shown[0].Header.ID); r.StatusCode != http.StatusOK || strings.Contains(r.Body, "<script") {
		t.Errorf("a shown document: %d", r.StatusCode)
	}
	for _, r := range []*archive.Record{e.hidden[0], e.theirs[0]} {
		if got := b.get(e.root + "/citizen/documents/" + r.Header.ID); got.StatusCode != http.StatusNotFound {
			t.Errorf("document %s: %d, want 404", r.Header.ID, got.StatusCode)
		}
	}
	var own int
	for _, a := range accessLog(t, e, "1.2.246.21|"+e.client) {
		if a.Caller.Purpose == archive.PurposeCitizen {
			own++
		}
	}
	if own < 3 {
		t.Errorf("%d of the client's own uses in the access log, want every view", own)
	}
}

func accessLog(t *testing.T, e *env, key string) []*archive.AccessEntry {
	var out []*archive.AccessEntry
	err := e.store.View(t.Context(), func(tx archive.Tx) error {
		var err error
		out, err = tx.AccessLog(t.Context(), archive.AccessLogQuery{ClientKey: key, Limit: 10000})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestConsents: the client acknowledges the notice, gives consent, sets
// and withdraws a prohibition, all recorded with the client as recorder;
// a cross-origin form post is refused.
func TestConsents(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login(e, "/citizen/consents?lang=en", e.client)
	post := func(form url.Values) response {
		t.Helper()
		r := b.post(e.root+"/citizen/consents", form)
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%v: %d %s", form, r.StatusCode, r.Body)
		}
		return b.follow(r)
	}
	r := b.post(e.root+"/citizen/consents", url.Values{"action": {"consent"}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "Acknowledge the information notice first") {
		t.Errorf("consent before the notice: %d", r.StatusCode)
	}
	post(url.Values{"action": {"notice"}})
	post(url.Values{"action": {"consent"}})
	target := "controller:" + e.shown[0].ControllerOID()
	page := post(url.Values{"action": {"prohibit"}, "target": {target}})
	if !strings.Contains(page.Body, "The prohibition is recorded.") {
		t.Error("no confirmation of the prohibition")
	}
	key := "1.2.246.21|" + e.client
	hist, err := e.svc.Wills(t.Context(), archive.CitizenCaller(e.client, ""), key)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[2].Target == nil || hist[2].Target.Value != e.shown[0].ControllerOID() {
		t.Fatalf("history %+v", hist)
	}
	for _, h := range hist {
		if h.Recorder.Role != "client" || h.Recorder.Person != e.client {
			t.Errorf("%s recorded by %+v, want the client", h.Kind, h.Recorder)
		}
	}
	post(url.Values{"action": {"withdraw"}, "id": {hist[2].ID}})
	t.Run("cross-origin posts are refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.root+"/citizen/consents", strings.NewReader("action=notice"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if r := b.do(req); r.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site post: %d, want 403", r.StatusCode)
		}
	})
}
