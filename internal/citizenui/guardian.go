package citizenui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/arkisto/arkisto/internal/hetu"
)

// loadChildren asks the domain for the minors the signed-in person is a
// guardian of now and keeps them in the session; whom the session acts
// for goes back to the person themself if that child is no longer among
// them. It returns how many there are.
func (u *UI) loadChildren(r *http.Request, s *session) (int, error) {
	gs, err := u.svc.GuardianChildren(r.Context(), s.self())
	if err != nil {
		return 0, err
	}
	var kids []child
	for _, g := range gs {
		c := child{id: g.Child, name: g.ChildName}
		if code, err := hetu.Parse(g.Child); err == nil {
			c.birth = day(code.Birth)
		}
		kids = append(kids, c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.children = kids
	if s.acting != nil {
		still := false
		for i := range kids {
			if kids[i].id == s.acting.id {
				still = true
			}
		}
		if !still {
			s.acting = nil
		}
	}
	return len(kids), nil
}

// actForChoice is one person to act for; Value names it in the form
// without an identity code.
type actForChoice struct {
	Value, Label string
	Self, Chosen bool
}

type actForData struct {
	Choices []actForChoice
	Error   string // a message id
}

// actFor is the page where a guardian picks themself or a child.
func (u *UI) actFor(w http.ResponseWriter, r *http.Request, s *session) {
	u.renderActFor(w, r, s, http.StatusOK, "")
}

func (u *UI) renderActFor(w http.ResponseWriter, r *http.Request, s *session, status int, errID string) {
	n, err := u.loadChildren(r, s)
	if err != nil {
		u.unavailable(w, r, s, "read guardianships", err)
		return
	}
	acting, children := s.state()
	if n == 0 && acting == nil {
		http.Redirect(w, r, Prefix+"documents", http.StatusSeeOther)
		return
	}
	p := u.page(w, r, s, "act-for")
	d := actForData{Error: errID, Choices: []actForChoice{{Value: "self", Label: s.name, Self: true, Chosen: acting == nil}}}
	for i := range children {
		c := &children[i]
		d.Choices = append(d.Choices, actForChoice{Value: "child-" + strconv.Itoa(i), Label: c.label(), Chosen: acting != nil && acting.id == c.id})
	}
	p.Data = d
	u.site.Render(w, status, "actfor", p)
}

// chooseActFor sets whom the session acts for: the person themself, or
// one of the children the domain listed (by its place in the list, so
// that no identity code goes through the form).
func (u *UI) chooseActFor(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := u.loadChildren(r, s); err != nil {
		u.unavailable(w, r, s, "read guardianships", err)
		return
	}
	v := r.PostFormValue("for")
	s.mu.Lock()
	ok := true
	if n, isChild := strings.CutPrefix(v, "child-"); isChild {
		i, err := strconv.Atoi(n)
		if ok = err == nil && i >= 0 && i < len(s.children); ok {
			c := s.children[i]
			s.acting = &c
		}
	} else if ok = v == "self"; ok {
		s.acting = nil
	}
	s.mu.Unlock()
	if !ok {
		u.renderActFor(w, r, s, http.StatusBadRequest, "cit.actfor.error")
		return
	}
	http.Redirect(w, r, Prefix+"documents", http.StatusSeeOther)
}
