package archivistui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/web"
)

// compareRow is one field of two versions side by side.
type compareRow struct {
	Label, A, B string
	Mono        bool
	Differs     bool
}

// diffLine is a line of the display forms' text: in both ("same"), only
// in the other version ("added") or only in this one ("removed").
type diffLine struct {
	Op, Text string
}

type versionHead struct {
	ID, Status string
	Version    int
}

type compareData struct {
	From              versionHead // the version whose page the comparison was opened from
	A, B              versionHead // the older version and the newer
	Rows              []compareRow
	Differing         int
	Diff              []diffLine
	Added, Removed    int
	NoText            bool
	Choices           []versionRow // when no other version is named
	OtherSet, Missing bool
}

// compare shows two versions of a set side by side: the metadata with
// differences marked, and a line diff of the sanitised display forms.
// Both versions are read through the service as the archivist (logged).
func (u *UI) compare(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id, with := r.PathValue("id"), strings.TrimSpace(r.URL.Query().Get("with"))
	c := s.caller()
	a, rawA, err := u.svc.Get(ctx, c, id)
	if !u.found(w, r, err) {
		return
	}
	p := u.page(w, r, s, "")
	d := &compareData{From: head(a), A: head(a)}
	p.Data = d
	if with == "" || with == id {
		// No other version named: offer the set's other versions.
		versions, err := u.svc.Versions(ctx, c, id)
		if !u.found(w, r, err) {
			return
		}
		for _, v := range versions {
			if v.Header.ID != id {
				d.Choices = append(d.Choices, versionRow{ID: v.Header.ID, Status: statusMessage(v.Status), Version: v.Header.Version, Effective: v.Header.EffectiveTime, Received: v.ReceivedAt})
			}
		}
		u.site.Render(w, http.StatusOK, "compare", p)
		return
	}
	b, rawB, err := u.svc.Get(ctx, c, with)
	switch {
	case err == nil:
	case errors.Is(err, archive.ErrNotFound):
		d.Missing = true
		u.site.Render(w, http.StatusNotFound, "compare", p)
		return
	default:
		u.allowed(w, r, err)
		return
	}
	if b.Header.Version < a.Header.Version {
		// The older on the left: the newer's lines are what was added.
		a, b, rawA, rawB = b, a, rawB, rawA
	}
	d.A, d.B = head(a), head(b)
	if a.Header.SetID != b.Header.SetID {
		d.OtherSet = true
		u.site.Render(w, http.StatusBadRequest, "compare", p)
		return
	}
	fa, fb := fields(p, a), fields(p, b)
	for i := range fa {
		row := compareRow{Label: fa[i].Label, A: fa[i].Value, B: fb[i].Value, Mono: fa[i].Mono}
		row.Differs = row.A != row.B
		if row.Differs {
			d.Differing++
		}
		d.Rows = append(d.Rows, row)
	}
	ta, tb := displayText(u, rawA), displayText(u, rawB)
	d.NoText = ta == "" && tb == ""
	d.Diff = diffLines(ta, tb)
	for _, l := range d.Diff {
		switch l.Op {
		case "added":
			d.Added++
		case "removed":
			d.Removed++
		}
	}
	u.site.Render(w, http.StatusOK, "compare", p)
}

func head(r *archive.Record) versionHead {
	return versionHead{ID: r.Header.ID, Status: statusMessage(r.Status), Version: r.Header.Version}
}

// displayText is the text of a document's sanitised display form, read
// with the archive's own document reader; a PDF display form has none.
func displayText(u *UI, raw []byte) string {
	doc, _ := cda.Read(raw, cda.Options{MaxBytes: u.svc.MaxDocumentBytes()})
	if doc == nil || !strings.HasPrefix(doc.Body.DisplayMediaType, cda.MediaXHTML) {
		return ""
	}
	return web.SanitiseDisplay(doc.Body.Display).Text
}

// diffLines is a line diff of two texts, by go-diff (diff-match-patch).
func diffLines(a, b string) []diffLine {
	dmp := diffmatchpatch.New()
	ca, cb, lines := dmp.DiffLinesToChars(a+"\n", b+"\n")
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(ca, cb, false), lines)
	var out []diffLine
	for _, df := range diffs {
		op := "same"
		switch df.Type {
		case diffmatchpatch.DiffInsert:
			op = "added"
		case diffmatchpatch.DiffDelete:
			op = "removed"
		}
		for _, l := range strings.Split(strings.TrimSuffix(df.Text, "\n"), "\n") {
			out = append(out, diffLine{Op: op, Text: l})
		}
	}
	return out
}
