package archive

import (
	"context"
	"crypto/rand"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/problem"
)

// Rule codes of will expressions the domain checks against what the
// archive holds (the rest are consent.Check's).
const (
	RuleWillTargetUnknown = "CONSENT_TARGET_UNKNOWN"
	RuleNoticeField       = "NOTICE_FIELD"
)

// newWillID names a will expression: 26 characters of base32, a valid
// FHIR id that says nothing of the client.
func newWillID() string { return strings.ToLower(rand.Text()) }

// fillRecorder makes a professional recorder the caller, and a client in
// the citizen view the recorder: a door cannot record in another
// professional's, unit's, system's or person's name.
func fillRecorder(r *consent.Recorder, c Caller) {
	if c.Purpose == PurposeCitizen {
		// In the citizen view the client records their own will.
		*r = consent.Recorder{Role: consent.RoleClient, Person: c.Person, Name: c.PersonName}
		return
	}
	if c.Purpose == PurposeGuardian {
		// A guardian records as the child's legal representative.
		*r = consent.Recorder{Role: consent.RoleRepresentative, Person: c.Person, Name: c.PersonName}
		return
	}
	if r.Role != consent.RoleProfessional {
		return
	}
	r.Person, r.Unit, r.System, r.Organisation = c.Person, c.Unit, c.System, c.Organisation
	if r.Name == "" {
		r.Name = c.PersonName
	}
}

// willEntry is the access-log entry of an action on a client's will.
func willEntry(c Caller, a Action, clientKey string, ids ...string) *AccessEntry {
	return &AccessEntry{Caller: c, Action: a, ClientKey: clientKey, Custodian: c.Organisation, Documents: ids}
}

// invalid is a refusal for problems found in what the caller sent.
func invalid(msg string, p problem.List) *Error {
	return &Error{Kind: ErrInvalid, Message: msg, Problems: p}
}

// RecordWill records a new will expression of a client: the information
// notice, a disclosure consent or a prohibition. The archive gives it its
// id and time; a professional recorder is the caller. The caller's
// organisation must have an active client relationship with the client.
// Recording and refusals are logged.
func (s *Service) RecordWill(ctx context.Context, c Caller, e *consent.Expression) (*consent.Expression, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	e.ID = newWillID()
	e.RecordedAt = s.now().UTC().Truncate(time.Microsecond)
	e.Withdrawn = nil
	fillRecorder(&e.Recorder, c)
	entry := willEntry(c, ActionWillRecord, e.ClientKey, e.ID)
	entry.Details = string(e.Kind)
	if e.Target != nil {
		entry.Details += " " + string(e.Target.Kind)
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		if d := s.policy.Will(ctx, tx, c, e.ClientKey); !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		hist, err := tx.Wills(ctx, e.ClientKey)
		if err != nil {
			return err
		}
		p := consent.Check(e, hist)
		if len(p) == 0 {
			if p, err = s.checkTarget(ctx, tx, e); err != nil {
				return err
			}
		}
		if len(p) > 0 {
			return invalid("the will expression is not acceptable", p)
		}
		if err := tx.PutWill(ctx, e); err != nil {
			return err
		}
		entry.Reason = "recorded the client's " + string(e.Kind)
		return s.appendAllowed(ctx, tx, entry)
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return e, nil
}

// checkTarget refuses a prohibition of something the archive does not
// know: a document set of another client or none, a service task outside
// its code set, a controller that is not onboarded.
func (s *Service) checkTarget(ctx context.Context, tx Tx, e *consent.Expression) (problem.List, error) {
	var p problem.List
	if e.Target == nil {
		return nil, nil
	}
	switch e.Target.Kind {
	case consent.TargetDocument:
		recs, err := tx.Versions(ctx, e.Target.Value)
		if err != nil {
			return nil, err
		}
		// Another client's set answers as a missing one.
		if len(recs) == 0 || recs[0].ClientKey() != e.ClientKey {
			p.Add(RuleWillTargetUnknown, "target.value", "the client has no archived document set %s", e.Target.Value)
		}
	case consent.TargetServiceTask:
		// The archive's table of service tasks is partial (the codes it has
		// met): a code is known if it is listed or if any of the client's
		// documents has it.
		if codes.ServiceTask.Known(e.Target.Value) {
			break
		}
		clients := Scope{Disclosure: &DisclosureScope{ClientKey: e.ClientKey}}
		recs, err := tx.Search(ctx, Query{ClientKey: e.ClientKey, ServiceTasks: []string{e.Target.Value}, Limit: 1}, clients)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			p.Add(RuleWillTargetUnknown, "target.value", "%s is not a service task of %s that the archive knows or the client's documents name", e.Target.Value, codes.OIDServiceTask)
		}
	case consent.TargetController:
		if _, err := tx.Organisation(ctx, e.Target.Value); errors.Is(err, ErrNotFound) {
			p.Add(RuleWillTargetUnknown, "target.value", "%s is not a controller the archive knows", e.Target.Value)
		} else if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// WithdrawWill withdraws a consent or a prohibition: a new state recorded
// beside it, with who withdrew it. An expression the caller may not see
// answers as a missing one.
func (s *Service) WithdrawWill(ctx context.Context, c Caller, id string, by consent.Recorder) (*consent.Expression, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	fillRecorder(&by, c)
	entry := willEntry(c, ActionWillWithdraw, "", id)
	var out *consent.Expression
	err := s.store.Update(ctx, func(tx Tx) error {
		e, err := s.visibleWill(ctx, tx, c, id, entry)
		if err != nil {
			return err
		}
		w := consent.Withdrawal{At: s.now().UTC().Truncate(time.Microsecond), By: by}
		if p := consent.CheckWithdrawal(e, w); len(p) > 0 {
			return invalid("the withdrawal is not acceptable", p)
		}
		ok, err := tx.WithdrawWill(ctx, id, w)
		if err != nil {
			return err
		}
		if !ok {
			var p problem.List
			p.Add(consent.RuleWithdrawn, "status", "the %s was withdrawn already", e.Kind)
			return invalid("the withdrawal is not acceptable", p)
		}
		e.Withdrawn = &w
		out = e
		entry.Reason = "withdrew the client's " + string(e.Kind)
		return s.appendAllowed(ctx, tx, entry)
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return out, nil
}

// visibleWill returns the will expression if the caller may see its
// client's will; otherwise the answer for a missing one.
func (s *Service) visibleWill(ctx context.Context, tx Tx, c Caller, id string, entry *AccessEntry) (*consent.Expression, error) {
	if d := s.policy.Caller(ctx, tx, c); !d.Allowed {
		return nil, &Error{Kind: ErrForbidden, Message: d.Reason}
	}
	missing := errf(ErrNotFound, "no will expression %s", id)
	e, err := tx.Will(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, missing
	}
	if err != nil {
		return nil, err
	}
	entry.ClientKey = e.ClientKey
	if d := s.policy.Will(ctx, tx, c, e.ClientKey); !d.Allowed {
		entry.Reason = d.Reason
		return nil, missing
	}
	return e, nil
}

// Will returns one will expression, logged as a read.
func (s *Service) Will(ctx context.Context, c Caller, id string) (*consent.Expression, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	entry := willEntry(c, ActionWillRead, "", id)
	var out *consent.Expression
	err := s.readLogged(ctx, entry, func(tx Tx) error {
		e, err := s.visibleWill(ctx, tx, c, id, entry)
		if err != nil {
			return err
		}
		out = e
		entry.Reason = "the client's will expression"
		return nil
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return out, nil
}

// Wills returns a client's whole history of will expressions, oldest
// first, logged as a read.
func (s *Service) Wills(ctx context.Context, c Caller, clientKey string) ([]*consent.Expression, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	entry := willEntry(c, ActionWillRead, clientKey)
	var out []*consent.Expression
	err := s.readLogged(ctx, entry, func(tx Tx) error {
		if d := s.policy.Will(ctx, tx, c, clientKey); !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		var err error
		if out, err = tx.Wills(ctx, clientKey); err != nil {
			return err
		}
		entry.Documents = nil
		for _, e := range out {
			entry.Documents = append(entry.Documents, e.ID)
		}
		entry.Reason = "the client's will expressions"
		return nil
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return out, nil
}

// Disclosures returns the disclosure-log entries the caller's organisation
// disclosed or received, newest first; with a client, that client's only
// (and then the caller needs a client relationship with the client).
// Reading is logged.
func (s *Service) Disclosures(ctx context.Context, c Caller, q DisclosureQuery) ([]*Disclosure, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if q.Limit > 501 {
		q.Limit = 501
	}
	q.Organisation = c.Organisation
	entry := &AccessEntry{Caller: c, Action: ActionDisclosureRead, ClientKey: q.ClientKey, Custodian: c.Organisation}
	var out []*Disclosure
	err := s.readLogged(ctx, entry, func(tx Tx) error {
		if d := s.policy.Caller(ctx, tx, c); !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		if c.InCitizenView() {
			// A client has no organisation: their log is CitizenDisclosures.
			return &Error{Kind: ErrForbidden, Message: "a client reads their disclosure log in the citizen view"}
		}
		var err error
		if out, err = tx.Disclosures(ctx, q); err != nil {
			return err
		}
		entry.Reason = "the controller's own disclosure log"
		return nil
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return out, nil
}

var (
	typeCode = regexp.MustCompile(`^[0-9]{1,8}$`)
	taskCode = regexp.MustCompile(`^[0-9]{1,4}$`)
)

// maxNoticeDocuments bounds the data sets of one disclosure notice.
const maxNoticeDocuments = 200

// ReportDisclosure records a disclosure the caller's organisation made
// outside the archive (luovutusilmoitus): to the client on request, to a
// court, to another authority. It goes into the disclosure log with the
// archive's own disclosures.
func (s *Service) ReportDisclosure(ctx context.Context, c Caller, d *Disclosure) (*Disclosure, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	d.ID, d.Source, d.Caller = 0, SourceNotice, c
	d.At = s.now().UTC().Truncate(time.Microsecond)
	if d.GroundKind == "" {
		d.GroundKind = GroundNotice
	}
	entry := &AccessEntry{Caller: c, Action: ActionDisclosureNotice, ClientKey: d.ClientKey, Custodian: c.Organisation, Details: "notice " + d.NoticeID}
	if p := checkNotice(d, c, d.At); len(p) > 0 {
		return nil, s.refuse(ctx, invalid("the disclosure notice is not acceptable", p), entry)
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		if dec := s.policy.Caller(ctx, tx, c); !dec.Allowed {
			return &Error{Kind: ErrForbidden, Message: dec.Reason}
		}
		if c.InCitizenView() {
			return &Error{Kind: ErrForbidden, Message: "only a controller reports its disclosures"}
		}
		if err := tx.AppendDisclosure(ctx, d); err != nil {
			return err
		}
		entry.Reason = "a disclosure made outside the archive, reported by its controller"
		return s.appendAllowed(ctx, tx, entry)
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return d, nil
}

// printable reports whether s is printable text of at most max runes.
func printable(s string, max int) bool {
	return utf8.RuneCountInString(s) <= max && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

// checkNotice checks a reported disclosure: its controller is the
// caller's, it names the client, the recipient, when, and what was
// disclosed by type and service task.
func checkNotice(d *Disclosure, c Caller, now time.Time) problem.List {
	var p problem.List
	if d.Discloser != c.Organisation {
		p.Add(RuleNoticeField, "discloser", "a controller reports its own disclosures: the discloser must be the caller's organisation %s", c.Organisation)
	}
	root, ext, ok := strings.Cut(d.ClientKey, "|")
	switch {
	case !ok || root == "" || ext == "":
		p.Add(RuleNoticeField, "client", "the client must be named by its identifier")
	case root == hetu.OIDRoot && !hetu.Valid(ext):
		p.Add(RuleNoticeField, "client", "the client's personal identity code is not valid")
	case root != hetu.OIDRoot && oid.Check(root) != nil:
		p.Add(RuleNoticeField, "client", "a temporary client identifier's root must be an OID")
	}
	if strings.TrimSpace(d.Recipient) == "" || !printable(d.Recipient, 200) || !printable(d.RecipientName, 200) {
		p.Add(RuleNoticeField, "recipient", "the recipient is named by an identifier (printable, at most 200 characters)")
	}
	switch {
	case d.DisclosedAt.IsZero():
		p.Add(RuleNoticeField, "disclosedAt", "the notice must say when the data was disclosed")
	case d.DisclosedAt.After(now.Add(5 * time.Minute)):
		p.Add(RuleNoticeField, "disclosedAt", "the disclosure time is in the future")
	}
	if len(d.Documents) == 0 || len(d.Documents) > maxNoticeDocuments {
		p.Add(RuleNoticeField, "documents", "a notice names 1 to %d disclosed data sets", maxNoticeDocuments)
	}
	for i, dd := range d.Documents {
		path := "documents[" + strconv.Itoa(i) + "]"
		if dd.GeneralType == "" && strings.TrimSpace(dd.Description) == "" {
			p.Add(RuleNoticeField, path, "a data set is named by its general document type or a description")
		}
		// The national code sets are open here (the archive lists the codes
		// it has met), so a code is checked for its shape.
		if dd.GeneralType != "" && !typeCode.MatchString(dd.GeneralType) {
			p.Add(RuleNoticeField, path+".generalType", "%q is not a code of %s", dd.GeneralType, codes.OIDDocumentType)
		}
		if dd.SpecificType != "" && !typeCode.MatchString(dd.SpecificType) {
			p.Add(RuleNoticeField, path+".specificType", "%q is not a code of %s", dd.SpecificType, codes.OIDDocumentType)
		}
		if len(dd.ServiceTasks) == 0 {
			p.Add(RuleNoticeField, path+".serviceTasks", "a data set names every service task it concerns")
		}
		for _, t := range dd.ServiceTasks {
			if !taskCode.MatchString(t) {
				p.Add(RuleNoticeField, path+".serviceTasks", "%q is not a code of %s", t, codes.OIDServiceTask)
			}
		}
		if !printable(dd.Description, 500) {
			p.Add(RuleNoticeField, path+".description", "a description is printable text of at most 500 characters")
		}
	}
	if !printable(d.Ground, 500) || !printable(d.NoticeID, 128) {
		p.Add(RuleNoticeField, "ground", "the ground and the notice id are printable text (500 and 128 characters at most)")
	}
	return p
}
