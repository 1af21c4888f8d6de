// Package consent holds a client's will expressions — the information
// notice, the disclosure consent and disclosure prohibitions — and decides
// whether a document of one controller may be disclosed to another.
//
// It is pure: no storage, no doors. The domain service (internal/archive)
// keeps the history and asks Decide for every document another controller
// asks for; docs/access-rules.md states the rules and their tests.
//
// A client's will is a history: nothing is overwritten, and a withdrawal
// is a new state of an expression, recorded with who withdrew it and when.
package consent

import (
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/problem"
)

// Kind is what a will expression says.
type Kind string

const (
	// KindNotice: the client has been told about the national services
	// (Kanta-informointi). A precondition for consent; its absence never
	// blocks archiving.
	KindNotice Kind = "notice"
	// KindConsent: the client consents to disclosure of social welfare
	// data to other controllers (luovutuslupa), from a day, until
	// withdrawn or until an optional day.
	KindConsent Kind = "consent"
	// KindProhibition: the client forbids disclosure of one document set,
	// one service task or one controller's documents (luovutuskielto),
	// until withdrawn.
	KindProhibition Kind = "prohibition"
)

// TargetKind is what a prohibition covers.
type TargetKind string

const (
	TargetDocument    TargetKind = "document"     // a document set, by its set id
	TargetServiceTask TargetKind = "service-task" // a service task (1.2.246.537.6.1221.201601)
	TargetController  TargetKind = "controller"   // every document in one controller's registers
)

// Target is what a prohibition covers.
type Target struct {
	Kind  TargetKind `json:"kind"`
	Value string     `json:"value"`
}

// Role is who records a will expression. Kela's TahdonilmaisuProvenance
// profile codes them 12 (client), 5 (legal representative) and
// 2 (professional).
type Role string

const (
	RoleClient         Role = "client"
	RoleRepresentative Role = "legal-representative"
	RoleProfessional   Role = "professional"
)

// Recorder is the one person who recorded (or withdrew) a will
// expression. A professional records it on the statement of the client or
// of a legal representative, in a service unit, through a system.
type Recorder struct {
	Role Role `json:"role"`
	// Person is the client's or representative's identity code, or the
	// professional's registration number.
	Person       string `json:"person"`
	Name         string `json:"name,omitempty"`
	Unit         string `json:"unit,omitempty"`         // a professional's service unit
	System       string `json:"system,omitempty"`       // the system a professional used
	Organisation string `json:"organisation,omitempty"` // that system's organisation
	// OnStatementOf is whose statement a professional recorded: the client
	// or a legal representative.
	OnStatementOf Role `json:"onStatementOf,omitempty"`
	// Representative is the legal representative's identity code when a
	// professional recorded a representative's statement.
	Representative string `json:"representative,omitempty"`
}

// actsAs is the role whose will the expression is: the recorder's own, or
// for a professional, the one whose statement was recorded.
func (r Recorder) actsAs() Role {
	if r.Role == RoleProfessional {
		return r.OnStatementOf
	}
	return r.Role
}

// Expression is one will expression of a client.
type Expression struct {
	ID        string  `json:"id"`
	ClientKey string  `json:"clientKey"` // root|extension of the client id
	Kind      Kind    `json:"kind"`
	Target    *Target `json:"target,omitempty"` // prohibitions only
	// From and Until bound a consent by day (Until excluded; zero: open).
	From       time.Time   `json:"from,omitzero"`
	Until      time.Time   `json:"until,omitzero"`
	RecordedAt time.Time   `json:"recordedAt"`
	Recorder   Recorder    `json:"recorder"`
	Withdrawn  *Withdrawal `json:"withdrawn,omitempty"`
}

// Withdrawal ends a consent or a prohibition.
type Withdrawal struct {
	At time.Time `json:"at"`
	By Recorder  `json:"by"`
}

// Rule codes of will expressions.
const (
	RuleKind           = "CONSENT_KIND"
	RuleTarget         = "CONSENT_TARGET"
	RuleRecorder       = "CONSENT_RECORDER"
	RulePeriod         = "CONSENT_PERIOD"
	RuleNotInformed    = "CONSENT_NOT_INFORMED"
	RuleGuardian       = "CONSENT_GUARDIAN_PROHIBITION"
	RuleWithdrawn      = "CONSENT_ALREADY_WITHDRAWN"
	RuleNoticeIsFinal  = "CONSENT_NOTICE_FINAL"
	RuleClientIdentity = "CONSENT_CLIENT"
)

// AdultAge is the age from which a client decides alone.
const AdultAge = 18

// Minor reports whether the client is a minor on the day t, by the birth
// date in the identity code. A temporary identifier carries no birth date:
// such a client is not treated as a minor (a guardian's authority over a
// client the archive cannot identify cannot be established either).
func Minor(clientKey string, t time.Time) bool {
	root, ext, _ := strings.Cut(clientKey, "|")
	if root != hetu.OIDRoot {
		return false
	}
	c, err := hetu.Parse(ext)
	if err != nil {
		return false
	}
	adult := c.Birth.AddDate(AdultAge, 0, 0)
	return t.Before(adult)
}

var (
	registrationNumber = regexp.MustCompile(`^[0-9]{1,20}$`)
	serviceTaskCode    = regexp.MustCompile(`^[0-9]{1,4}$`)
)

// Check validates a new will expression against the client's history:
// everything it needs must be there, its target must be one the archive
// can name, its recorder one person who may record it. It changes nothing.
func Check(e *Expression, history []*Expression) problem.List {
	var p problem.List
	switch e.Kind {
	case KindNotice, KindConsent, KindProhibition:
	default:
		p.Add(RuleKind, "kind", "a will expression is a notice, a consent or a prohibition, not %q", e.Kind)
		return p
	}
	if _, _, ok := strings.Cut(e.ClientKey, "|"); !ok || e.ClientKey == "|" {
		p.Add(RuleClientIdentity, "client", "the client must be named by its identifier")
	}
	checkTarget(e, &p)
	checkRecorder(e.Recorder, e.ClientKey, "recorder", &p)
	if e.Kind == KindConsent && !e.Until.IsZero() && !e.Until.After(e.From) {
		p.Add(RulePeriod, "until", "a consent's end day must be after its first day")
	}
	if e.Kind != KindConsent && (!e.From.IsZero() || !e.Until.IsZero()) {
		p.Add(RulePeriod, "period", "only a consent has a period; a %s is in force from when it is recorded until withdrawn", e.Kind)
	}
	if e.Kind == KindProhibition && Minor(e.ClientKey, e.RecordedAt) && e.Recorder.actsAs() == RoleRepresentative {
		p.Add(RuleGuardian, "recorder", "a guardian may acknowledge the notice and consent for a minor, but may not set a prohibition; the minor decides on prohibitions")
	}
	if e.Kind == KindConsent && !Fold(history, e.RecordedAt).Informed {
		p.Add(RuleNotInformed, "kind", "a consent needs the information notice first: record the notice, then the consent")
	}
	return p
}

func checkTarget(e *Expression, p *problem.List) {
	t := e.Target
	if e.Kind != KindProhibition {
		if t != nil {
			p.Add(RuleTarget, "target", "only a prohibition has a target")
		}
		return
	}
	if t == nil {
		p.Add(RuleTarget, "target", "a prohibition covers one document, one service task or one controller")
		return
	}
	switch t.Kind {
	case TargetDocument:
		if err := oid.Check(t.Value); err != nil {
			p.Add(RuleTarget, "target.value", "a document is named by its set id, an OID: %v", err)
		}
	case TargetServiceTask:
		if !serviceTaskCode.MatchString(t.Value) {
			p.Add(RuleTarget, "target.value", "a service task is a code of 1.2.246.537.6.1221.201601, is %q", t.Value)
		}
	case TargetController:
		if oid.Organisation(t.Value) == "" || oid.Check(t.Value) != nil {
			p.Add(RuleTarget, "target.value", "a controller is named by its organisation OID (1.2.246.10.<business id>...), is %q", t.Value)
		}
	default:
		p.Add(RuleTarget, "target.kind", "a prohibition covers a document, a service-task or a controller, not %q", t.Kind)
	}
}

func checkRecorder(r Recorder, clientKey, path string, p *problem.List) {
	switch r.Role {
	case RoleClient, RoleRepresentative:
		if r.Unit != "" || r.OnStatementOf != "" || r.Representative != "" {
			p.Add(RuleRecorder, path+".unit", "only a professional records in a service unit and on someone's statement")
		}
		if r.Person == "" || !hetu.Valid(r.Person) {
			p.Add(RuleRecorder, path+".person", "the %s is named by a valid personal identity code", r.Role)
			return
		}
		_, ext, _ := strings.Cut(clientKey, "|")
		if r.Role == RoleClient && r.Person != ext {
			p.Add(RuleRecorder, path+".person", "the client records their own will: the recorder is not the client")
		}
		if r.Role == RoleRepresentative && r.Person == ext {
			p.Add(RuleRecorder, path+".person", "a legal representative is another person than the client")
		}
	case RoleProfessional:
		if !registrationNumber.MatchString(r.Person) {
			p.Add(RuleRecorder, path+".person", "a professional is named by a registration number (digits)")
		}
		if oid.Check(r.Unit) != nil {
			p.Add(RuleRecorder, path+".unit", "a professional records in a service unit, named by its OID")
		}
		if r.System == "" || r.Organisation == "" {
			p.Add(RuleRecorder, path+".system", "a professional records through a registered system of an organisation")
		}
		if r.OnStatementOf != RoleClient && r.OnStatementOf != RoleRepresentative {
			p.Add(RuleRecorder, path+".onStatementOf", "a professional records the statement of the client or of a legal representative")
		}
		_, ext, _ := strings.Cut(clientKey, "|")
		switch {
		case r.OnStatementOf == RoleRepresentative && !hetu.Valid(r.Representative):
			p.Add(RuleRecorder, path+".representative", "a legal representative is named by a valid personal identity code")
		case r.OnStatementOf == RoleRepresentative && r.Representative == ext:
			p.Add(RuleRecorder, path+".representative", "a legal representative is another person than the client")
		case r.OnStatementOf != RoleRepresentative && r.Representative != "":
			p.Add(RuleRecorder, path+".representative", "only a representative's statement names a representative")
		}
	default:
		p.Add(RuleRecorder, path+".role", "a will expression is recorded by the client, a legal representative or a professional, not %q", r.Role)
	}
	if utf8.RuneCountInString(r.Name) > 200 || strings.IndexFunc(r.Name, func(c rune) bool { return !unicode.IsPrint(c) }) >= 0 {
		p.Add(RuleRecorder, path+".name", "a name is printable text of at most 200 characters")
	}
}

// CheckWithdrawal validates the withdrawal of e by w. A notice is a fact
// and is not withdrawn; what is withdrawn stays withdrawn; a guardian may
// not lift a prohibition a minor set, as they may not set one.
func CheckWithdrawal(e *Expression, w Withdrawal) problem.List {
	var p problem.List
	if e.Kind == KindNotice {
		p.Add(RuleNoticeIsFinal, "kind", "the information notice records that the client was told; it is not withdrawn")
	}
	if e.Withdrawn != nil {
		p.Add(RuleWithdrawn, "status", "the %s was withdrawn on %s", e.Kind, e.Withdrawn.At.Format("2006-01-02"))
	}
	if w.At.Before(e.RecordedAt) {
		p.Add(RulePeriod, "withdrawn.at", "a withdrawal comes after what it withdraws")
	}
	checkRecorder(w.By, e.ClientKey, "withdrawn.by", &p)
	if e.Kind == KindProhibition && Minor(e.ClientKey, w.At) && w.By.actsAs() == RoleRepresentative {
		p.Add(RuleGuardian, "withdrawn.by", "a guardian may not lift a minor's prohibition; the minor decides on prohibitions")
	}
	return p
}

// State is a client's will in force at one time.
type State struct {
	Informed     bool
	Consent      *Expression // the consent in force, if any
	Prohibitions []*Expression
}

// inForce reports whether e is in force at t.
func inForce(e *Expression, t time.Time) bool {
	if e.RecordedAt.After(t) || (e.Withdrawn != nil && !e.Withdrawn.At.After(t)) {
		return false
	}
	if e.Kind == KindConsent {
		return (e.From.IsZero() || !t.Before(e.From)) && (e.Until.IsZero() || t.Before(e.Until))
	}
	return true
}

// Fold is the will in force at t, from the client's whole history.
func Fold(history []*Expression, t time.Time) State {
	var s State
	for _, e := range history {
		if !inForce(e, t) {
			continue
		}
		switch e.Kind {
		case KindNotice:
			s.Informed = true
		case KindConsent:
			if s.Consent == nil || e.RecordedAt.After(s.Consent.RecordedAt) {
				s.Consent = e
			}
		case KindProhibition:
			s.Prohibitions = append(s.Prohibitions, e)
		}
	}
	return s
}

// Covers reports whether a prohibition covers the document.
func (e *Expression) Covers(d Document) bool {
	if e.Kind != KindProhibition || e.Target == nil {
		return false
	}
	switch e.Target.Kind {
	case TargetDocument:
		return e.Target.Value == d.SetID
	case TargetServiceTask:
		return e.Target.Value == d.ServiceTask
	case TargetController:
		return oid.SameOrganisation(e.Target.Value, d.Controller)
	}
	return false
}
