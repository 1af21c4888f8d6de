package archivistui

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/web"
)

// pageSize is the number of documents on a page of results.
var pageSize = 25

// searchFields are the search form's text fields in order: name, label and
// hint message ids, input type. The identity-code field is "client"; the
// form goes by POST, so that no identity code is ever in a URL.
var searchFields = []struct{ name, label, hint, typ string }{
	{"client", "search.client", "search.client.hint", "text"},
	{"id", "search.id", "", "text"},
	{"setId", "search.setId", "", "text"},
	{"from", "search.from", "search.date.hint", "text"},
	{"to", "search.to", "search.date.hint", "text"},
	{"generalType", "search.generalType", "search.code.hint", "text"},
	{"specificType", "search.specificType", "search.specificType.hint", "text"},
	{"serviceTask", "search.serviceTask", "search.serviceTask.hint", "text"},
	{"documentGroup", "search.documentGroup", "search.documentGroup.hint", "text"},
	{"submitter", "search.submitter", "search.submitter.hint", "text"},
}

// statusChoices are the status filter's options: value, message id.
var statusChoices = [][2]string{
	{"", "status.any"}, {"current", "status.current"}, {"superseded", "status.superseded"}, {"nullified", "status.nullified"}, {"all", "status.all"},
}

type field struct {
	Page                           *web.Page
	Name, Label, Hint, Type, Value string
	Error                          string // message id
}

type option struct {
	Value, Label string
	Selected     bool
}

type hidden struct{ Name, Value string }

type row struct {
	ID, Client, Type, Group, Task, Status, Submitter string
	Version                                          int
	Effective, Received                              time.Time
}

type searchData struct {
	ControllerName string
	Fields         []field
	Errors         []field // the fields in error, for the summary
	Statuses       []option
	Invalid        bool
	Searched       bool
	Rows           []row
	Total          int
	Next           string
	Hidden         []hidden // the search, for the next page's form
}

// form is the search as entered.
type form map[string]string

func readForm(r *http.Request) form {
	f := form{}
	for _, sf := range searchFields {
		f[sf.name] = strings.TrimSpace(r.PostFormValue(sf.name))
	}
	f["status"] = r.PostFormValue("status")
	return f
}

// query turns the form into a search; errs maps a field to the message id
// of what is wrong with it.
func (f form) query() (archive.Query, map[string]string) {
	q := archive.Query{Limit: pageSize}
	errs := map[string]string{}
	if v := f["client"]; v != "" {
		v = strings.ToUpper(v)
		if !hetu.Valid(v) {
			errs["client"] = "error.client"
		} else {
			q.ClientKey = archive.ClientKey(cda.ID{Root: hetu.OIDRoot, Extension: v})
		}
	}
	if v := f["id"]; v != "" {
		q.DocumentIDs = []string{v}
	}
	if v := f["setId"]; v != "" {
		q.SetIDs = []string{v}
	}
	day := func(name string) time.Time {
		v := f[name]
		if v == "" {
			return time.Time{}
		}
		// As Finns write dates (31.1.2025), or as ISO 8601 (2025-01-31).
		for _, layout := range []string{"2.1.2006", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, v, helsinki); err == nil {
				return t
			}
		}
		errs[name] = "error.date"
		return time.Time{}
	}
	q.From = day("from")
	if to := day("to"); !to.IsZero() {
		q.To = to.AddDate(0, 0, 1) // the whole last day
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		errs["to"] = "error.range"
	}
	code := func(name string, dst *[]string) {
		v := f[name]
		if v == "" {
			return
		}
		for _, c := range v {
			if c < '0' || c > '9' {
				errs[name] = "error.code"
				return
			}
		}
		*dst = []string{v}
	}
	code("generalType", &q.GeneralTypes)
	code("specificType", &q.SpecificTypes)
	code("serviceTask", &q.ServiceTasks)
	code("documentGroup", &q.DocumentGroups)
	if v := f["submitter"]; v != "" {
		// An OID names the organisation a system is registered to (as
		// arkisto admin system list shows it), a name the system itself.
		if oid.Valid(v) {
			q.SubmitterOrganisations = []string{v}
		} else {
			q.SubmitterSystems = []string{v}
		}
	}
	switch f["status"] {
	case "":
	case "all":
		q.Statuses = []archive.Status{archive.StatusCurrent, archive.StatusSuperseded, archive.StatusNullified}
	default:
		st := archive.Status(f["status"])
		if !st.Valid() {
			errs["status"] = "error.status"
		}
		q.Statuses = []archive.Status{st}
	}
	return q, errs
}

var helsinki = func() *time.Location {
	l, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		return time.UTC
	}
	return l
}()

func (u *UI) searchPage(w http.ResponseWriter, r *http.Request, s *session, f form, errs map[string]string) (*web.Page, *searchData) {
	p := u.page(w, r, s, "documents")
	d := &searchData{ControllerName: s.controllerName, Invalid: len(errs) > 0}
	for _, sf := range searchFields {
		fd := field{Page: p, Name: sf.name, Label: sf.label, Hint: sf.hint, Type: sf.typ, Value: f[sf.name], Error: errs[sf.name]}
		d.Fields = append(d.Fields, fd)
		if fd.Error != "" {
			d.Errors = append(d.Errors, fd)
		}
	}
	if errs["status"] != "" {
		d.Errors = append(d.Errors, field{Name: "status", Label: "search.status", Error: errs["status"]})
	}
	for _, c := range statusChoices {
		d.Statuses = append(d.Statuses, option{Value: c[0], Label: c[1], Selected: f["status"] == c[0]})
	}
	p.Data = d
	return p, d
}

func (u *UI) searchForm(w http.ResponseWriter, r *http.Request, s *session) {
	if !u.allowed(w, r, u.svc.View(r.Context(), s.caller(), "documents")) {
		return
	}
	p, _ := u.searchPage(w, r, s, form{}, nil)
	u.site.Render(w, http.StatusOK, "documents", p)
}

func (u *UI) search(w http.ResponseWriter, r *http.Request, s *session) {
	f := readForm(r)
	q, errs := f.query()
	if len(errs) > 0 {
		// Nothing is searched, but the page is shown: logged as a view.
		if !u.allowed(w, r, u.svc.View(r.Context(), s.caller(), "documents")) {
			return
		}
		p, _ := u.searchPage(w, r, s, f, errs)
		u.site.Render(w, http.StatusBadRequest, "documents", p)
		return
	}
	q.Cursor = r.PostFormValue("cursor")
	page, err := u.svc.Search(r.Context(), s.caller(), q)
	var ae *archive.Error
	if errors.As(err, &ae) && errors.Is(err, archive.ErrInvalid) {
		// Only the cursor is not checked above: a stale or forged one.
		p, _ := u.searchPage(w, r, s, f, map[string]string{})
		p.Data.(*searchData).Invalid = true
		u.site.Render(w, http.StatusBadRequest, "documents", p)
		return
	}
	if !u.allowed(w, r, err) {
		return
	}
	p, d := u.searchPage(w, r, s, f, nil)
	d.Searched, d.Total, d.Next = true, page.Total, page.Next
	for _, rec := range page.Records {
		h := &rec.Header
		typ, group := codeText(p.Lang, h.SpecificType, h.GeneralType), codeText(p.Lang, h.DocumentGroup)
		if typ == "" {
			typ, group = group, ""
		}
		d.Rows = append(d.Rows, row{
			ID: h.ID, Client: h.Client.ID.Extension, Type: typ, Group: group,
			Task: codeText(p.Lang, h.ServiceTask), Status: string(rec.Status), Version: h.Version, Submitter: rec.Submitter.System,
			Effective: h.EffectiveTime, Received: rec.ReceivedAt,
		})
	}
	for _, sf := range searchFields {
		if f[sf.name] != "" {
			d.Hidden = append(d.Hidden, hidden{sf.name, f[sf.name]})
		}
	}
	if f["status"] != "" {
		d.Hidden = append(d.Hidden, hidden{"status", f["status"]})
	}
	u.site.Render(w, http.StatusOK, "documents", p)
}

// codeText is the first present code's display name in the page's
// language with its code.
func codeText(lang string, cs ...cda.Code) string {
	for _, c := range cs {
		if c.Code != "" {
			return codeValue(c, lang)
		}
	}
	return ""
}

// allowed shows the refusal for a service error and reports whether
// there was none. A refusal after login (the person is no longer an
// archivist of the controller) ends the session.
func (u *UI) allowed(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, archive.ErrForbidden):
		u.dropSession(r)
		u.refuse(w, r, http.StatusForbidden, "refused.notarchivist")
	default:
		u.refuse(w, r, http.StatusServiceUnavailable, "refused.unavailable")
	}
	return false
}

func (u *UI) dropSession(r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		u.mu.Lock()
		delete(u.sessions, c.Value)
		u.mu.Unlock()
	}
}
