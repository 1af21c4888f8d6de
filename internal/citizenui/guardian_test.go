package citizenui_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/hetu"
)

// family is a guardian and a minor with documents of both kinds: one that
// may be disclosed to guardians (guardian disclosure code 1) and one the
// minor forbids (code 2).
type family struct {
	guardian, child, childName string
	allowed, forbidden         *archive.Record
}

// addFamily archives the minor's documents in the organiser's register and
// records the guardianship.
func (e *env) addFamily(t *testing.T) *family {
	t.Helper()
	ctx := context.Background()
	g := gen.New(e.world, gen.Options{Seed: 23})
	c, rel, err := g.Minor(e.organiser, 11)
	if err != nil {
		t.Fatal(err)
	}
	f := &family{child: c.ID, childName: c.Given + " " + c.Family}
	if _, err := e.svc.Archive(ctx, caller(e.organiser), rel.XML); err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"1", "2"} {
		d, err := g.PlanWithGuardianCode(c, code)
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.svc.Archive(ctx, caller(e.organiser), d.XML)
		if err != nil {
			t.Fatal(err)
		}
		if code == "1" {
			f.allowed = r
		} else {
			f.forbidden = r
		}
	}
	if f.guardian, err = hetu.Make(time.Date(1984, 7, 7, 0, 0, 0, 0, time.UTC), 958, '-'); err != nil {
		t.Fatal(err)
	}
	if err := archive.NewAdmin(e.store, slog.New(slog.DiscardHandler)).AddGuardian(ctx, &archive.Guardianship{Guardian: f.guardian, Child: f.child, ChildName: f.childName}); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestGuardian: a guardian signs in, is asked whom to act for, acts for
// the child: the header says so; the documents are the child's that allow
// disclosure to guardians, the other answers as missing; the consents page
// offers no prohibition and says why, and a crafted prohibition is
// refused by the domain; the child's log shows the guardian's use apart.
// A person without children goes straight to their own documents.
func TestGuardian(t *testing.T) {
	e := newEnv(t)
	f := e.addFamily(t)
	b := e.browser()
	r := b.login(e, "/citizen/documents", f.guardian)
	if r.StatusCode != http.StatusOK || r.Request.URL.Path != "/citizen/act-for" || !strings.Contains(r.Body, f.childName) {
		t.Fatalf("a guardian after login: %s (%d), want the choice naming the child", r.Request.URL, r.StatusCode)
	}
	if strings.Contains(r.Body, f.child) {
		t.Error("the choice page carries the child's identity code")
	}
	if r := b.post(e.root+"/citizen/act-for", url.Values{"for": {"child-7"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a choice that is not offered: %d, want 400", r.StatusCode)
	}
	r = b.follow(b.post(e.root+"/citizen/act-for", url.Values{"for": {"child-0"}}))
	if r.StatusCode != http.StatusOK || r.Request.URL.Path != "/citizen/documents" {
		t.Fatalf("after choosing the child: %s (%d)", r.Request.URL, r.StatusCode)
	}
	header := regexp.MustCompile(`(?s)<header.*</header>`).FindString(r.Body)
	if !strings.Contains(header, f.childName) || !strings.Contains(header, "/citizen/act-for") {
		t.Errorf("the header does not say whom the guardian acts for:\n%s", header)
	}
	if !strings.Contains(r.Body, "/citizen/documents/"+f.allowed.Header.ID) || strings.Contains(r.Body, f.forbidden.Header.ID) {
		t.Errorf("the child's documents: want %s and not %s", f.allowed.Header.ID, f.forbidden.Header.ID)
	}
	if d := b.get(e.root + "/citizen/documents/" + f.allowed.Header.ID); d.StatusCode != http.StatusOK {
		t.Errorf("the allowed document: %d", d.StatusCode)
	}
	if d := b.get(e.root + "/citizen/documents/" + f.forbidden.Header.ID); d.StatusCode != http.StatusNotFound {
		t.Errorf("the document the child forbids: %d, want 404", d.StatusCode)
	}
	c := b.get(e.root + "/citizen/consents")
	if c.StatusCode != http.StatusOK || strings.Contains(c.Body, `value="prohibit"`) || !strings.Contains(c.Body, `id="guardian-no-prohibitions"`) {
		t.Errorf("consents for the child: %d; want no prohibition form and the reason", c.StatusCode)
	}
	for _, a := range []string{"notice", "consent"} {
		if r := b.post(e.root+"/citizen/consents", url.Values{"action": {a}}); r.StatusCode != http.StatusSeeOther {
			t.Errorf("%s for the child: %d", a, r.StatusCode)
		}
	}
	crafted := b.post(e.root+"/citizen/consents", url.Values{"action": {"prohibit"}, "target": {"service-task:24"}})
	if crafted.StatusCode != http.StatusBadRequest || !strings.Contains(crafted.Body, "Huoltaja ei voi asettaa eikä peruuttaa alaikäisen luovutuskieltoa") {
		t.Errorf("a crafted prohibition: %d", crafted.StatusCode)
	}
	wills, err := e.svc.Wills(context.Background(), archive.GuardianCaller(f.guardian, "", f.child), "1.2.246.21|"+f.child)
	if err != nil || len(wills) != 2 || wills[1].Recorder.Person != f.guardian || string(wills[1].Recorder.Role) != "legal-representative" {
		t.Errorf("the child's will: %d expressions, %v", len(wills), err)
	}
	// The child signs in: the guardian's use is shown apart.
	kid := e.browser()
	l := kid.login(e, "/citizen/log", f.child)
	if l.StatusCode != http.StatusOK || !strings.Contains(l.Body, `id="guardians-h"`) {
		t.Fatalf("the child's log: %d, no guardians' section", l.StatusCode)
	}
	section := l.Body[strings.Index(l.Body, `id="guardians-h"`):]
	section = section[:strings.Index(section, "</section>")]
	if !strings.Contains(section, "<td>") {
		t.Error("the guardian's use is not in the child's log")
	}
	// Switching back to oneself.
	r = b.follow(b.post(e.root+"/citizen/act-for", url.Values{"for": {"self"}}))
	if header := regexp.MustCompile(`(?s)<header.*</header>`).FindString(r.Body); strings.Contains(header, f.childName) {
		t.Error("after switching back the header still names the child")
	}
	// The guardianship ends: the next request for the child is refused.
	b.post(e.root+"/citizen/act-for", url.Values{"for": {"child-0"}})
	if ok, err := archive.NewAdmin(e.store, slog.New(slog.DiscardHandler)).RemoveGuardian(context.Background(), f.guardian, f.child); err != nil || !ok {
		t.Fatal(err)
	}
	if r := b.get(e.root + "/citizen/documents"); r.StatusCode != http.StatusForbidden {
		t.Errorf("after the guardianship ended: %d, want 403", r.StatusCode)
	}
	if r := b.get(e.root + "/citizen/documents"); r.StatusCode != http.StatusOK || strings.Contains(r.Body, f.allowed.Header.ID) {
		t.Errorf("then the guardian's own documents: %d", r.StatusCode)
	}
	// A person with no children goes straight to their own documents.
	if r := e.browser().login(e, "/citizen/documents", e.client); r.Request.URL.Path != "/citizen/documents" || strings.Contains(r.Body, "/citizen/act-for") {
		t.Errorf("a person without children lands on %s", r.Request.URL)
	}
	for _, code := range []string{f.guardian, f.child} {
		if strings.Contains(e.oplog.String(), code) {
			t.Error("the operator's log names an identity code")
		}
	}
}
