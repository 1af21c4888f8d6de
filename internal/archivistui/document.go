package archivistui

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/problem"
	"github.com/arkisto/arkisto/internal/web"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// logShown is how many of a document's access-log entries its page shows,
// newest first; logScanned how many of the client's newest entries are
// looked through for them.
const (
	logShown   = 100
	logScanned = 501
)

// fieldRow is one metadata field of a version: a label (message id) and
// its value as shown, with a link for a field that names another version.
type fieldRow struct {
	Label, Value, Href string
	Mono               bool
}

// codeValue is a code's display name in the page's language (from the
// national code set the archive ships, else as the document wrote it),
// with the code.
func codeValue(c cda.Code, lang string) string {
	if c.Code == "" {
		if c.NullFlavor != "" {
			return "nullFlavor " + c.NullFlavor
		}
		return ""
	}
	name := c.Display
	if sys := codes.Lookup(c.System); sys != nil && sys.Known(c.Code) {
		name = sys.Display(c.Code, lang)
	}
	if name == "" || name == c.Code {
		return c.Code
	}
	return name + " (" + c.Code + ")"
}

func nameValue(n cda.Name) string {
	return strings.TrimSpace(strings.Join(n.Given, " ") + " " + n.Family)
}

func orgValue(o cda.Organisation) string {
	switch {
	case o.Name != "" && o.OID != "":
		return o.Name + " (" + o.OID + ")"
	default:
		return o.Name + o.OID
	}
}

func idValue(id cda.ID) string {
	switch {
	case id.Extension != "" && id.Root != "":
		return id.Extension + " (" + id.Root + ")"
	case id.NullFlavor != "":
		return "nullFlavor " + id.NullFlavor
	}
	return id.Root + id.Extension
}

func and(parts ...string) string {
	var out []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

func callerValue(c archive.Caller) string {
	who := c.PersonName
	switch {
	case who != "" && c.Person != "":
		who += " (" + c.Person + ")"
	case who == "":
		who = c.Person
	}
	return and(who, c.System, c.Organisation)
}

// fields are every header field of a version and the archive's facts
// about it, in the page's language; the same list, in the same order, for
// every version, so that two versions compare row by row.
func fields(p *web.Page, r *archive.Record) []fieldRow {
	h := &r.Header
	lang := p.Lang
	date := func(t time.Time) string { return p.Date(t) }
	datePtr := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return p.Date(*t)
	}
	rows := []fieldRow{
		{Label: "field.id", Value: h.ID, Mono: true},
		{Label: "field.setId", Value: h.SetID, Mono: true},
		{Label: "field.version", Value: strconv.Itoa(h.Version)},
		{Label: "field.status", Value: p.T(statusMessage(r.Status))},
		{Label: "field.generalType", Value: codeValue(h.GeneralType, lang)},
		{Label: "field.specificType", Value: codeValue(h.SpecificType, lang)},
		{Label: "field.documentGroup", Value: codeValue(h.DocumentGroup, lang)},
		{Label: "field.serviceTask", Value: codeValue(h.ServiceTask, lang)},
		{Label: "field.effectiveTime", Value: date(h.EffectiveTime)},
		{Label: "field.creationTime", Value: date(h.CreationTime)},
		{Label: "field.client", Value: idValue(h.Client.ID), Mono: true},
		{Label: "field.clientName", Value: nameValue(h.Client.Name)},
		{Label: "field.gender", Value: codeValue(h.Client.Gender, lang)},
		{Label: "field.birthTime", Value: h.Client.BirthTime},
		{Label: "field.author", Value: and(nameValue(h.Author.Name), idValue(h.Author.ID))},
		{Label: "field.authorTime", Value: h.Author.Time},
		{Label: "field.custodian", Value: orgValue(h.Custodian)},
		{Label: "field.controller", Value: r.ControllerOID(), Mono: true},
		{Label: "field.organiser", Value: orgValue(h.Organiser)},
		{Label: "field.register", Value: codeValue(h.Register, lang)},
		{Label: "field.confidentiality", Value: codeValue(h.Confidentiality, lang)},
		{Label: "field.language", Value: h.Language},
		{Label: "field.case", Value: h.Case.ID, Mono: true},
		{Label: "field.caseOpened", Value: datePtr(h.Case.Opened)},
		{Label: "field.caseClosed", Value: datePtr(h.Case.Closed)},
		{Label: "field.serviceUnit", Value: orgValue(h.Case.ServiceUnit)},
		{Label: "field.responsible", Value: orgValue(h.Case.Responsible)},
		{Label: "field.clientRelationshipId", Value: h.ClientRelationshipID, Mono: true},
		{Label: "field.serviceProcess", Value: serviceProcess(h.ServiceProcess, lang)},
		{Label: "field.retentionClass", Value: codeValue(h.RetentionClass, lang)},
		{Label: "field.specialContent", Value: codeValue(h.SpecialContent, lang)},
		{Label: "field.guardianDisclosure", Value: codeValue(h.GuardianDisclosure, lang)},
		{Label: "field.hideReason", Value: and(codeValue(h.HideReason, lang), h.HideReasonText)},
		{Label: "field.citizenRelease", Value: datePtr(h.CitizenRelease)},
		{Label: "field.recordStatus", Value: codeValue(h.RecordStatus, lang)},
		{Label: "field.contentSpecification", Value: h.ContentSpecification, Mono: true},
		{Label: "field.displayFormat", Value: and(codeValue(h.DisplayFormat, lang), r.DisplayType)},
		{Label: "field.structuredFormat", Value: codeValue(h.StructuredFormat, lang)},
		{Label: "field.software", Value: and(h.Software.Product, h.Software.Version, h.Software.Moderator)},
		{Label: "field.signers", Value: signers(h.Signers, lang)},
		replacesRow(h),
		{Label: "field.replacementReason", Value: codeValue(h.ReplacementReason, lang)},
		{Label: "field.received", Value: date(r.ReceivedAt)},
		{Label: "field.submitter", Value: callerValue(r.Submitter)},
		{Label: "field.size", Value: p.T("doc.bytes", "Count", r.Size)},
		{Label: "field.sha256", Value: r.SHA256, Mono: true},
		{Label: "field.nullification", Value: nullification(p, r.Nullification)},
	}
	return rows
}

func replacesRow(h *cda.Header) fieldRow {
	if h.Replaces == nil {
		return fieldRow{Label: "field.replaces"}
	}
	return fieldRow{Label: "field.replaces", Value: fmt.Sprintf("%s (%d)", h.Replaces.ID, h.Replaces.Version), Href: docPath(h.Replaces.ID), Mono: true}
}

func serviceProcess(sp *cda.ServiceProcess, lang string) string {
	if sp == nil {
		return ""
	}
	return and(codeValue(sp.Code, lang), sp.Type)
}

func signers(ss []cda.SignerInfo, lang string) string {
	var out []string
	for _, s := range ss {
		who := nameValue(s.Name)
		if s.RegistrationNumber != "" {
			who = strings.TrimSpace(who + " (" + s.RegistrationNumber + ")")
		}
		out = append(out, and(who, codeValue(s.AuthMethod, lang), s.Time))
	}
	return strings.Join(out, "; ")
}

func nullification(p *web.Page, n *archive.Nullification) string {
	if n == nil {
		return ""
	}
	return and(p.Date(n.At), reasonLabel(p, n.ReasonCode), n.ReasonText, callerValue(n.By))
}

// statusMessage is the message id of a status.
func statusMessage(s archive.Status) string {
	switch s {
	case archive.StatusCurrent:
		return "status.current"
	case archive.StatusSuperseded:
		return "status.superseded"
	case archive.StatusNullified:
		return "status.nullified"
	}
	return "status.all"
}

func docPath(id string) string { return Prefix + "documents/" + id }

// sigView is one signature as verified now.
type sigView struct {
	Index                             int
	Type, Signer, Time, Algorithm     string
	Subject, Serial, Issuer, Validity string
	CertSHA256                        string
	OK                                bool
	Problems                          problem.List
}

func signatureViews(p *web.Page, rep *xmldsig.Report) []sigView {
	if rep == nil {
		return nil
	}
	var out []sigView
	for _, s := range rep.Signatures {
		v := sigView{
			Index: s.Index, Type: codeValue(cda.Code{Code: s.TypeCode, System: codes.OIDSignatureType}, p.Lang),
			Signer: and(s.SignerName, s.SignerID), Time: p.Date(s.Timestamp), Algorithm: and(s.Algorithm, string(s.Form)),
			CertSHA256: s.CertSHA256, OK: s.Valid && s.Trusted && len(s.Problems) == 0, Problems: s.Problems,
		}
		if c := s.Certificate; c != nil {
			v.Subject, v.Issuer, v.Serial = c.Subject.String(), c.Issuer.String(), serialHex(c)
			v.Validity = p.Date(c.NotBefore) + " – " + p.Date(c.NotAfter)
		}
		out = append(out, v)
	}
	return out
}

func serialHex(c *x509.Certificate) string {
	if c.SerialNumber == nil {
		return ""
	}
	h := strings.ToUpper(c.SerialNumber.Text(16))
	if len(h)%2 == 1 {
		h = "0" + h
	}
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

type versionRow struct {
	ID, Status string
	Version    int
	Effective  time.Time
	Received   time.Time
	This       bool
}

type logRow struct {
	At                                     time.Time
	Action, Who, Organisation, Purpose     string
	Outcome, Reason, Details, OutcomeClass string
}

// actionMessages are the access log's actions' message ids.
var actionMessages = map[archive.Action]string{
	archive.ActionArchive:          "action.archive",
	archive.ActionRead:             "action.read",
	archive.ActionSearch:           "action.search",
	archive.ActionHistory:          "action.history",
	archive.ActionNullify:          "action.nullify",
	archive.ActionLogRead:          "action.logRead",
	archive.ActionTransfer:         "action.transfer",
	archive.ActionView:             "action.view",
	archive.ActionArchivistLogin:   "action.login",
	archive.ActionWillRecord:       "action.willRecord",
	archive.ActionWillRead:         "action.willRead",
	archive.ActionWillWithdraw:     "action.willWithdraw",
	archive.ActionDisclosureNotice: "action.disclosureNotice",
	archive.ActionDisclosureRead:   "action.disclosureRead",
}

func logRows(p *web.Page, entries []*archive.AccessEntry, docID string) []logRow {
	var out []logRow
	for _, e := range entries {
		if !slices.Contains(e.Documents, docID) {
			continue
		}
		action := string(e.Action)
		if id, ok := actionMessages[e.Action]; ok {
			action = p.T(id)
		}
		outcome, class := p.T("log.allowed"), "allowed"
		if e.Outcome == archive.OutcomeRefused {
			outcome, class = p.T("log.refused"), "refused"
		}
		out = append(out, logRow{At: e.At, Action: action, Who: and(e.Caller.PersonName, e.Caller.Person, e.Caller.System), Organisation: e.Caller.Organisation,
			Purpose: e.Caller.Purpose, Outcome: outcome, OutcomeClass: class, Reason: e.Reason, Details: e.Details})
		if len(out) == logShown {
			break
		}
	}
	return out
}

// rowsView is metadata rows with the page that translates their labels.
type rowsView struct {
	Page *web.Page
	Rows []fieldRow
}

// docData is the data of a document's page.
type docData struct {
	Meta                       rowsView
	Version                    int
	ID, Title                  string
	Status                     string
	Nullified, Done            bool
	Fields                     []fieldRow
	Inspected                  bool
	Problems                   problem.List
	Signatures                 []sigView
	Display                    web.Display
	DisplayLang, DisplayType   string
	DisplayShown               bool
	Structured, StructuredType string
	Versions                   []versionRow
	Log                        []logRow
	LogScanned                 int
}

// view shows a version: its metadata, signatures verified now, display
// and structured forms, versions and access-log entries. Each read goes
// through the service as the archivist and is logged.
func (u *UI) view(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id := r.PathValue("id")
	c := s.caller()
	rec, raw, err := u.svc.Get(ctx, c, id)
	if !u.found(w, r, err) {
		return
	}
	p := u.page(w, r, s, "")
	d := &docData{ID: id, Status: string(rec.Status), Nullified: rec.Status == archive.StatusNullified, Fields: fields(p, rec)}
	d.Meta, d.Version = rowsView{Page: p, Rows: d.Fields}, rec.Header.Version
	d.Done = d.Nullified && r.URL.Query().Get("done") == "nullified"
	d.Title = codeValue(rec.Header.SpecificType, p.Lang)
	if d.Title == "" {
		d.Title = codeValue(rec.Header.GeneralType, p.Lang)
	}
	// The signatures and the whole document are verified again now,
	// by the archive's own inspection against today's trust anchors and
	// revocations, not read from what was recorded on archiving.
	chs, err := u.svc.Inspect(ctx, raw)
	if err != nil {
		u.log.Error("inspect an archived document", "err", err)
	} else {
		ch := chs[0]
		d.Inspected = true
		d.Problems = append(append(problem.List{}, ch.Problem...), ch.SignerProblems(rec.Submitter)...)
		d.Signatures = signatureViews(p, ch.Report)
		if doc := ch.Doc; doc != nil {
			d.DisplayType, d.DisplayLang = doc.Body.DisplayMediaType, doc.Language
			if strings.HasPrefix(doc.Body.DisplayMediaType, cda.MediaXHTML) || strings.HasPrefix(doc.Body.DisplayMediaType, "text/html") {
				d.Display, d.DisplayShown = web.SanitiseDisplay(doc.Body.Display), true
			}
			d.StructuredType = doc.Body.StructuredMediaType
			d.Structured = indentJSON(doc.Body.Structured)
		}
	}
	versions, err := u.svc.Versions(ctx, c, id)
	if !u.found(w, r, err) {
		return
	}
	for _, v := range versions {
		d.Versions = append(d.Versions, versionRow{ID: v.Header.ID, Status: statusMessage(v.Status), Version: v.Header.Version,
			Effective: v.Header.EffectiveTime, Received: v.ReceivedAt, This: v.Header.ID == id})
	}
	entries, err := u.svc.AccessLog(ctx, c, rec.ClientKey(), logScanned, 0)
	if !u.allowed(w, r, err) {
		return
	}
	d.Log, d.LogScanned = logRows(p, entries, id), len(entries)
	p.Data = d
	u.site.Render(w, http.StatusOK, "document", p)
}

// indentJSON is the structured form as readable, indented JSON; a form
// that is not JSON is shown as it is.
func indentJSON(b []byte) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}

// CDAMediaType is the media type of a stored document's exact bytes, as
// the FHIR door's Binary serves them.
const CDAMediaType = "application/hl7-v3+xml"

// download sends the version's exact stored bytes as a file.
func (u *UI) download(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	_, raw, err := u.svc.Get(r.Context(), s.caller(), id)
	if !u.found(w, r, err) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", CDAMediaType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": id + ".xml"}))
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	h.Set("Cache-Control", "no-store")
	w.Write(raw)
}

// found shows the not-found page for a version the archivist may not
// read or that does not exist (the service answers both alike), or the
// refusal for another error, and reports whether there was none.
func (u *UI) found(w http.ResponseWriter, r *http.Request, err error) bool {
	if errors.Is(err, archive.ErrNotFound) {
		u.refuse(w, r, http.StatusNotFound, "doc.notfound")
		return false
	}
	return u.allowed(w, r, err)
}
