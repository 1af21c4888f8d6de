package citizenui

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/web"
)

// docRow is one document in a list.
type docRow struct {
	ID, Type, Organisation, Unit string
	Day                          string // the effective day, as Finns write it
}

// docGroup is the documents of one case and service task, or the client
// relationship documents.
type docGroup struct {
	Heading string // a message id
	Task    string // the service task's name
	Case    string // the case's service unit, when named
	Opened  string // the day the case was opened, as Finns write it
	Worker  string // the personal case worker the newest document naming one names
	Docs    []docRow
}

// day is a date as Finns (and Swedes in Finland) write it, in Finnish time.
func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(helsinki).Format("2.1.2006")
}

var helsinki = func() *time.Location {
	l, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		return time.UTC
	}
	return l
}()

// typeName is a document's most specific type name in the language.
func typeName(h *cda.Header, lang string) string {
	for _, c := range []cda.Code{h.SpecificType, h.GeneralType} {
		if c.Code == "" {
			continue
		}
		if d := codes.DocumentType.Display(c.Code, lang); d != "" && d != c.Code {
			return d
		}
		if c.Display != "" {
			return c.Display
		}
	}
	return codes.DocumentGroup.Display(h.DocumentGroup.Code, lang)
}

func taskName(code, lang string) string {
	if code == "" {
		return ""
	}
	return codes.ServiceTask.Display(code, lang)
}

// groupDocuments groups the records (newest first) by case and service
// task, the groups in the order of their newest document.
func groupDocuments(recs []*archive.Record, lang string) []*docGroup {
	var out []*docGroup
	byKey := map[string]*docGroup{}
	for _, r := range recs {
		h := &r.Header
		key, g := "rel", (*docGroup)(nil)
		if h.DocumentGroup.Code != codes.GroupClientRelationship {
			key = h.Case.ID + "|" + h.ServiceTask.Code
		}
		if g = byKey[key]; g == nil {
			g = &docGroup{Heading: "cit.docs.case", Task: taskName(h.ServiceTask.Code, lang), Case: h.Case.ServiceUnit.Name}
			if h.Case.Opened != nil {
				g.Opened = day(*h.Case.Opened)
			}
			byKey[key] = g
			if key == "rel" {
				// When the client relationships began comes first.
				g = &docGroup{Heading: "cit.docs.relationships"}
				byKey[key] = g
				out = append([]*docGroup{g}, out...)
			} else {
				out = append(out, g)
			}
		}
		if g.Worker == "" && len(r.CaseWorkers) > 0 {
			g.Worker = caseWorker(r.CaseWorkers[0])
		}
		g.Docs = append(g.Docs, docRow{ID: h.ID, Type: typeName(h, lang), Organisation: h.Custodian.Name, Unit: h.Case.ServiceUnit.Name, Day: day(h.EffectiveTime)})
	}
	return out
}

// caseWorker is a personal case worker as the client sees them: the name,
// the title and the unit.
func caseWorker(w archive.CaseWorker) string {
	out := w.Name
	if w.Title != "" {
		out += " (" + w.Title + ")"
	}
	if w.Unit != "" {
		out += ", " + w.Unit
	}
	return out
}

// relRow is a client relationship as the client sees it.
type relRow struct {
	Organiser  string
	Start, End string // days as Finns write them; End empty while it lasts
	Active     bool
	Tasks      []relTask
}

type relTask struct {
	Name      string
	Units     []string // the organiser's units
	Providers []string // the providers' units
}

func (u *UI) relationships(r *http.Request, s *session, lang string) ([]relRow, error) {
	rels, err := u.svc.CitizenRelationships(r.Context(), s.caller())
	if err != nil {
		return nil, err
	}
	var oids []string
	for _, rel := range rels {
		oids = append(oids, rel.Organiser)
	}
	names, err := u.svc.OrganisationNames(r.Context(), oids)
	if err != nil {
		return nil, err
	}
	var out []relRow
	for _, rel := range rels {
		row := relRow{Organiser: names[rel.Organiser], Start: day(rel.Start), End: day(rel.End), Active: rel.ActiveOn(u.now())}
		if row.Organiser == "" {
			row.Organiser = rel.Organiser
		}
		if rel.Stated != nil {
			for _, t := range rel.Stated.Tasks {
				rt := relTask{Name: taskName(t.Code, lang)}
				for _, un := range t.Units {
					rt.Units = append(rt.Units, un.Name)
				}
				for _, pr := range t.Providers {
					rt.Providers = append(rt.Providers, pr.Unit.Name)
				}
				row.Tasks = append(row.Tasks, rt)
			}
		}
		out = append(out, row)
	}
	return out, nil
}

func (u *UI) documents(w http.ResponseWriter, r *http.Request, s *session) {
	recs, err := u.svc.CitizenDocuments(r.Context(), s.caller())
	if err != nil {
		u.unavailable(w, r, s, "list documents", err)
		return
	}
	p := u.page(w, r, s, "documents")
	rels, err := u.relationships(r, s, p.Lang)
	if err != nil {
		u.unavailable(w, r, s, "list client relationships", err)
		return
	}
	acting, _ := s.state()
	p.Data = struct {
		Relationships []relRow
		Groups        []*docGroup
		Count         int
		Acting        bool
	}{rels, groupDocuments(recs, p.Lang), len(recs), acting != nil}
	u.site.Render(w, http.StatusOK, "documents", p)
}

type documentData struct {
	Type, Organisation, Task, Unit, Author string
	Effective                              time.Time
	ID                                     string
	HTML                                   template.HTML
	PDF                                    bool
	Acting                                 bool // a guardian reads a child's document
}

func (u *UI) document(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	rec, content, err := u.svc.Get(r.Context(), s.caller(), id)
	if errors.Is(err, archive.ErrNotFound) || errors.Is(err, archive.ErrForbidden) {
		u.refuse(w, r, s, http.StatusNotFound, "cit.docs.notfound")
		return
	}
	if err != nil {
		u.unavailable(w, r, s, "read a document", err)
		return
	}
	p := u.page(w, r, s, "documents")
	h := &rec.Header
	d := documentData{Type: typeName(h, p.Lang), Organisation: h.Custodian.Name, Task: taskName(h.ServiceTask.Code, p.Lang),
		Unit: h.Case.ServiceUnit.Name, Author: strings.TrimSpace(strings.Join(h.Author.Name.Given, " ") + " " + h.Author.Name.Family), Effective: h.EffectiveTime, ID: h.ID}
	if acting, _ := s.state(); acting != nil {
		d.Acting = true
	}
	doc, _ := cda.Read(content, cda.Options{})
	switch {
	case doc == nil:
		u.unavailable(w, r, s, "read an archived document", errors.New("the archived document does not parse"))
		return
	case doc.Body.DisplayMediaType == cda.MediaXHTML:
		d.HTML = web.SanitiseDisplay(doc.Body.Display).HTML
	case doc.Body.DisplayMediaType == cda.MediaPDF:
		d.PDF = true
	}
	p.Data = d
	u.site.Render(w, http.StatusOK, "document", p)
}

// display sends a PDF display form as a download: the pages' policy runs
// no viewer.
func (u *UI) display(w http.ResponseWriter, r *http.Request, s *session) {
	_, content, err := u.svc.Get(r.Context(), s.caller(), r.PathValue("id"))
	if err != nil {
		u.refuse(w, r, s, http.StatusNotFound, "cit.docs.notfound")
		return
	}
	doc, _ := cda.Read(content, cda.Options{})
	if doc == nil || doc.Body.DisplayMediaType != cda.MediaPDF {
		u.refuse(w, r, s, http.StatusNotFound, "cit.docs.notfound")
		return
	}
	w.Header().Set("Content-Type", cda.MediaPDF)
	w.Header().Set("Content-Disposition", `attachment; filename="document.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(doc.Body.Display)
}

type useRow struct {
	At                         time.Time
	Organisation, Person, What string
	Purpose                    string // a message id
	Documents                  int
}

type disclosureRow struct {
	At                 time.Time
	From, To, Ground   string
	GroundKind         string // a message id
	Documents          []string
	Reported, Consents bool
}

type logData struct {
	All         bool
	Uses        []useRow
	Guardians   []useRow // guardians' uses for the client in the citizen view
	Disclosures []disclosureRow
	Acting      bool // a guardian is viewing a child's log
}

// actionLabel is the message id of an access-log action.
func actionLabel(a archive.Action) string {
	switch a {
	case archive.ActionArchive, archive.ActionRead, archive.ActionSearch, archive.ActionHistory, archive.ActionNullify,
		archive.ActionWillRecord, archive.ActionWillRead, archive.ActionWillWithdraw, archive.ActionLogRead, archive.ActionDisclosureRead:
		return "cit.action." + string(a)
	}
	return "cit.action.other"
}

func purposeLabel(p string) string {
	switch p {
	case archive.PurposeOwnRegister:
		return "cit.purpose.own"
	case archive.PurposeDisclosure:
		return "cit.purpose.disclosure"
	case archive.PurposeBroadSearch:
		return "cit.purpose.broad"
	case archive.PurposeArchivist:
		return "cit.purpose.archivist"
	}
	return "cit.purpose.other"
}

func (u *UI) logPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	all := r.URL.Query().Get("period") == "all"
	from := u.now().AddDate(-2, 0, 0)
	if all {
		from = time.Time{}
	}
	uses, err := u.svc.CitizenAccessLog(ctx, s.caller(), from, time.Time{}, 500)
	if err != nil {
		u.unavailable(w, r, s, "read the access log", err)
		return
	}
	ds, err := u.svc.CitizenDisclosures(ctx, s.caller(), from, time.Time{}, 500)
	if err != nil {
		u.unavailable(w, r, s, "read the disclosure log", err)
		return
	}
	var oids []string
	for _, a := range uses {
		oids = append(oids, a.Caller.Organisation, a.Custodian)
	}
	for _, d := range ds {
		oids = append(oids, d.Discloser, d.Recipient)
	}
	names, err := u.svc.OrganisationNames(ctx, oids)
	if err != nil {
		u.unavailable(w, r, s, "name organisations", err)
		return
	}
	name := func(oid string) string {
		if n := names[oid]; n != "" {
			return n
		}
		return oid
	}
	p := u.page(w, r, s, "log")
	acting, _ := s.state()
	data := logData{All: all, Acting: acting != nil}
	for _, a := range uses {
		if a.Caller.Purpose == archive.PurposeGuardian {
			data.Guardians = append(data.Guardians, useRow{At: a.At, Person: a.Caller.PersonName, What: actionLabel(a.Action), Documents: len(a.Documents)})
			continue
		}
		org := a.Caller.Organisation
		if org == "" {
			org = a.Custodian
		}
		data.Uses = append(data.Uses, useRow{At: a.At, Organisation: name(org), Person: a.Caller.PersonName, What: actionLabel(a.Action),
			Purpose: purposeLabel(a.Caller.Purpose), Documents: len(a.Documents)})
	}
	for _, d := range ds {
		row := disclosureRow{At: d.DisclosedAt, From: name(d.Discloser), To: name(d.Recipient), Reported: d.Source == archive.SourceNotice}
		if d.RecipientName != "" {
			row.To = d.RecipientName
		}
		switch d.GroundKind {
		case archive.GroundConsent:
			row.GroundKind = "cit.ground.consent"
		case archive.GroundBroadSearch:
			row.GroundKind, row.Ground = "cit.ground.broad", d.Ground
		default:
			row.GroundKind, row.Ground = "cit.ground.notice", d.Ground
		}
		for _, doc := range d.Documents {
			t := codes.DocumentType.Display(doc.SpecificType, p.Lang)
			if doc.SpecificType == "" || t == doc.SpecificType {
				t = codes.DocumentType.Display(doc.GeneralType, p.Lang)
			}
			if t == "" {
				t = doc.Description
			}
			row.Documents = append(row.Documents, t)
		}
		data.Disclosures = append(data.Disclosures, row)
	}
	p.Data = data
	u.site.Render(w, http.StatusOK, "log", p)
}

// choice is one target a prohibition may name.
type choice struct {
	Value, Label string
}

type willRow struct {
	Kind, Target      string // message id, text
	RecordedAt        time.Time
	Recorder          string // message id
	Withdrawn         bool
	WithdrawnAt       time.Time
	WithdrawnBy       string
	From, Until       time.Time
	InForce           bool
	ID                string
	CanWithdraw       bool
	Prohibition, Cons bool
	Notice            bool // an acknowledgement, never withdrawn
}

type consentsData struct {
	Guardian     bool // a guardian acts for a child: no prohibitions
	Informed     bool
	Consent      *willRow
	Prohibitions []willRow
	History      []willRow
	Targets      struct{ Documents, Tasks, Controllers []choice }
	Done, Error  string // message ids
}

func recorderLabel(r consent.Recorder) string {
	switch r.Role {
	case consent.RoleClient:
		return "cit.recorder.client"
	case consent.RoleRepresentative:
		return "cit.recorder.representative"
	}
	return "cit.recorder.professional"
}

func (u *UI) consents(w http.ResponseWriter, r *http.Request, s *session) {
	done := r.URL.Query().Get("done")
	switch done {
	case "notice", "consent", "withdraw", "prohibit":
		done = "cit.consents.done." + done
	default:
		done = ""
	}
	u.renderConsents(w, r, s, http.StatusOK, done, "")
}

func (u *UI) renderConsents(w http.ResponseWriter, r *http.Request, s *session, status int, done, errID string) {
	ctx := r.Context()
	c := s.caller()
	key := archive.CitizenKey(c)
	hist, err := u.svc.Wills(ctx, c, key)
	if err != nil {
		u.unavailable(w, r, s, "read will expressions", err)
		return
	}
	recs, err := u.svc.CitizenDocuments(ctx, c)
	if err != nil {
		u.unavailable(w, r, s, "list documents", err)
		return
	}
	p := u.page(w, r, s, "consents")
	names := map[string]string{}
	var data consentsData
	seen := map[string]bool{}
	for _, rec := range recs {
		h := &rec.Header
		names["document:"+h.SetID] = typeName(h, p.Lang) + ", " + day(h.EffectiveTime) + ", " + h.Custodian.Name
		if !seen["d"+h.SetID] {
			seen["d"+h.SetID] = true
			data.Targets.Documents = append(data.Targets.Documents, choice{"document:" + h.SetID, names["document:"+h.SetID]})
		}
		if t := h.ServiceTask.Code; t != "" && !seen["t"+t] {
			seen["t"+t] = true
			names["service-task:"+t] = taskName(t, p.Lang)
			data.Targets.Tasks = append(data.Targets.Tasks, choice{"service-task:" + t, names["service-task:"+t]})
		}
		if o := rec.ControllerOID(); !seen["c"+o] {
			seen["c"+o] = true
			names["controller:"+o] = h.Custodian.Name
			data.Targets.Controllers = append(data.Targets.Controllers, choice{"controller:" + o, h.Custodian.Name})
		}
	}
	now := u.now()
	st := consent.Fold(hist, now)
	data.Informed = st.Informed
	inForce := map[string]bool{}
	if st.Consent != nil {
		inForce[st.Consent.ID] = true
	}
	for _, e := range st.Prohibitions {
		inForce[e.ID] = true
	}
	for i := len(hist) - 1; i >= 0; i-- {
		e := hist[i]
		row := willRow{Kind: "cit.kind." + string(e.Kind), RecordedAt: e.RecordedAt, Recorder: recorderLabel(e.Recorder),
			From: e.From, Until: e.Until, InForce: inForce[e.ID], ID: e.ID, Prohibition: e.Kind == consent.KindProhibition, Cons: e.Kind == consent.KindConsent}
		if e.Target != nil {
			k := string(e.Target.Kind) + ":" + e.Target.Value
			row.Target = names[k]
			if row.Target == "" {
				row.Target = e.Target.Value
			}
		}
		if e.Withdrawn != nil {
			row.Withdrawn, row.WithdrawnAt, row.WithdrawnBy = true, e.Withdrawn.At, recorderLabel(e.Withdrawn.By)
		}
		row.Notice = e.Kind == consent.KindNotice
		row.CanWithdraw = row.InForce && !row.Notice
		data.History = append(data.History, row)
		if row.InForce && row.Cons {
			rc := row
			data.Consent = &rc
		}
		if row.InForce && row.Prohibition {
			data.Prohibitions = append(data.Prohibitions, row)
		}
	}
	data.Done, data.Error = done, errID
	data.Guardian = c.Purpose == archive.PurposeGuardian
	p.Data = data
	u.site.Render(w, status, "consents", p)
}

// changeConsents records what the client chose: the notice, a consent, a
// prohibition, or a withdrawal. The client is always the recorder.
func (u *UI) changeConsents(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	c := s.caller()
	key := archive.CitizenKey(c)
	action := r.PostFormValue("action")
	var err error
	switch action {
	case "notice":
		_, err = u.svc.RecordWill(ctx, c, &consent.Expression{ClientKey: key, Kind: consent.KindNotice})
	case "consent":
		y, m, d := u.now().Date()
		_, err = u.svc.RecordWill(ctx, c, &consent.Expression{ClientKey: key, Kind: consent.KindConsent, From: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)})
	case "prohibit":
		kind, value, ok := strings.Cut(r.PostFormValue("target"), ":")
		if !ok || value == "" {
			u.renderConsents(w, r, s, http.StatusBadRequest, "", "cit.consents.error.target")
			return
		}
		_, err = u.svc.RecordWill(ctx, c, &consent.Expression{ClientKey: key, Kind: consent.KindProhibition, Target: &consent.Target{Kind: consent.TargetKind(kind), Value: value}})
	case "withdraw":
		_, err = u.svc.WithdrawWill(ctx, c, r.PostFormValue("id"), consent.Recorder{})
	default:
		u.renderConsents(w, r, s, http.StatusBadRequest, "", "cit.consents.error.action")
		return
	}
	var ae *archive.Error
	switch {
	case err == nil:
		http.Redirect(w, r, Prefix+"consents?done="+action, http.StatusSeeOther)
	case errors.As(err, &ae) && ae.Kind == archive.ErrInvalid:
		id := "cit.consents.error.invalid"
		for _, pr := range ae.Problems {
			switch pr.Code {
			case consent.RuleNotInformed:
				id = "cit.consents.error.notinformed"
			case consent.RuleGuardian:
				id = "cit.consents.error.guardian"
			}
		}
		u.renderConsents(w, r, s, http.StatusBadRequest, "", id)
	case errors.As(err, &ae):
		u.renderConsents(w, r, s, http.StatusBadRequest, "", "cit.consents.error.invalid")
	default:
		u.unavailable(w, r, s, "record a will expression", err)
	}
}
