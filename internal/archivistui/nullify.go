package archivistui

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/web"
)

// reasons are the nullification reason codes the archivist chooses from,
// with their message ids. The code is stored as the FHIR $nullify stores
// its reason code.
var reasons = [][2]string{
	{"wrong-client", "reason.wrongClient"},
	{"wrong-content", "reason.wrongContent"},
	{"duplicate", "reason.duplicate"},
	{"test-document", "reason.testDocument"},
	{"other", "reason.other"},
}

// maxReasonText is the service's limit on a reason's text, in bytes.
const maxReasonText = 2000

func reasonLabel(p *web.Page, code string) string {
	for _, r := range reasons {
		if r[0] == code {
			return p.T(r[1])
		}
	}
	return code
}

// nullifyData is the data of the nullification form and its confirmation.
type nullifyData struct {
	ID                   string
	Fields               []fieldRow // what identifies the version
	Reasons              []option
	Code, Text           string
	CodeError, TextError string
	Confirm              bool
	ReasonLabel          string
	Conflict             bool // already nullified
}

// nullifyPage reads the version's metadata as the archivist (logged) and
// fills what identifies it.
func (u *UI) nullifyPage(w http.ResponseWriter, r *http.Request, s *session) (*web.Page, *nullifyData, bool) {
	id := r.PathValue("id")
	rec, err := u.svc.Metadata(r.Context(), s.caller(), id)
	if !u.found(w, r, err) {
		return nil, nil, false
	}
	p := u.page(w, r, s, "")
	all := fields(p, rec)
	d := &nullifyData{ID: id, Conflict: rec.Status == archive.StatusNullified}
	for _, f := range all {
		switch f.Label {
		case "field.id", "field.version", "field.status", "field.specificType", "field.client", "field.clientName", "field.effectiveTime", "field.submitter":
			d.Fields = append(d.Fields, f)
		}
	}
	p.Data = d
	return p, d, true
}

func (d *nullifyData) options(selected string) {
	d.Reasons = []option{{Value: "", Label: "nullify.choose"}}
	for _, r := range reasons {
		d.Reasons = append(d.Reasons, option{Value: r[0], Label: r[1], Selected: r[0] == selected})
	}
}

// nullifyForm asks for the reason.
func (u *UI) nullifyForm(w http.ResponseWriter, r *http.Request, s *session) {
	p, d, ok := u.nullifyPage(w, r, s)
	if !ok {
		return
	}
	d.options("")
	u.site.Render(w, http.StatusOK, "nullify", p)
}

// nullify takes the form in two steps: "confirm" checks the reason and
// asks for confirmation, "do" nullifies through the service (the same
// operation and rules as the FHIR $nullify) and shows the version.
// Cross-origin posts never get here (web.Secure).
func (u *UI) nullify(w http.ResponseWriter, r *http.Request, s *session) {
	code, text := r.PostFormValue("reason"), strings.TrimSpace(r.PostFormValue("text"))
	step := r.PostFormValue("step")
	p, d, ok := u.nullifyPage(w, r, s)
	if !ok {
		return
	}
	d.Code, d.Text = code, text
	d.options(code)
	if d.Conflict {
		u.site.Render(w, http.StatusConflict, "nullify", p)
		return
	}
	if reasonLabel(p, code) == code || code == "" {
		d.CodeError = "error.reasonCode"
	}
	switch {
	case text == "":
		d.TextError = "error.reasonText"
	case len(text) > maxReasonText || !utf8.ValidString(text):
		d.TextError = "error.reasonLength"
	}
	if d.CodeError != "" || d.TextError != "" || (step != "confirm" && step != "do") {
		u.site.Render(w, http.StatusBadRequest, "nullify", p)
		return
	}
	if step == "confirm" {
		d.Confirm, d.ReasonLabel = true, reasonLabel(p, code)
		u.site.Render(w, http.StatusOK, "nullify", p)
		return
	}
	_, err := u.svc.Nullify(r.Context(), s.caller(), d.ID, code, text)
	var ae *archive.Error
	switch {
	case errors.Is(err, archive.ErrConflict):
		d.Conflict = true
		u.site.Render(w, http.StatusConflict, "nullify", p)
		return
	case errors.As(err, &ae) && errors.Is(err, archive.ErrInvalid):
		d.TextError = "error.reasonText"
		u.site.Render(w, http.StatusBadRequest, "nullify", p)
		return
	case !u.found(w, r, err):
		return
	}
	http.Redirect(w, r, docPath(d.ID)+"?done=nullified", http.StatusSeeOther)
}
