package fhirapi

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/fitime"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/problem"
)

// Code systems and fixed values of the Consent resource.
const (
	// SystemWillExpression is the archive's own code system of will
	// expression kinds (Consent.category): Kanta's codes are not public.
	SystemWillExpression = "urn:arkisto:will-expression"
	sysConsentScope      = "http://terminology.hl7.org/CodeSystem/consentscope"
	scopePrivacy         = "patient-privacy"
	sysParticipationType = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	// ClientDataAct is the policy every will expression is given under:
	// the Act on the Processing of Client Data in Healthcare and Social
	// Welfare (703/2023). FHIR R4 (ppc-1) needs a policy or a policyRule.
	ClientDataAct = "https://www.finlex.fi/fi/laki/ajantasa/2023/20230703"
)

// Extensions of Consent: who recorded the will expression, and its
// withdrawal (when and by whom).
const (
	ExtConsentRecorder   = extBase + "consent-recorder"
	ExtConsentWithdrawal = extBase + "consent-withdrawal"
)

// Rule codes of the Consent resource and its $withdraw, beside the
// domain's CONSENT_ codes.
const (
	RuleConsentElement      = "CONSENT_ELEMENT"      // an element the archive does not take, or of the wrong JSON type
	RuleConsentStatus       = "CONSENT_STATUS"       // a new Consent is active
	RuleConsentScope        = "CONSENT_SCOPE"        // scope patient-privacy
	RuleConsentPolicy       = "CONSENT_POLICY"       // policy[0].uri the Client Data Act
	RuleConsentOrganization = "CONSENT_ORGANIZATION" // organization[0] the caller's
	RuleConsentProvision    = "CONSENT_PROVISION"    // provision.type agrees with the kind
)

// Consent is the FHIR R4 Consent resource, with the elements the archive
// uses.
type Consent struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id,omitempty"`
	Meta         *Meta             `json:"meta,omitempty"`
	Extension    []Extension       `json:"extension,omitempty"`
	Status       string            `json:"status"`
	Scope        CodeableConcept   `json:"scope"`
	Category     []CodeableConcept `json:"category"`
	Patient      *Reference        `json:"patient,omitempty"`
	DateTime     string            `json:"dateTime,omitempty"`
	Performer    []Reference       `json:"performer,omitempty"`
	Organization []Reference       `json:"organization,omitempty"`
	Policy       []ConsentPolicy   `json:"policy,omitempty"`
	Provision    *ConsentProvision `json:"provision,omitempty"`
}

type ConsentPolicy struct {
	URI string `json:"uri,omitempty"`
}

type ConsentProvision struct {
	Type   string                  `json:"type,omitempty"`
	Period *Period                 `json:"period,omitempty"`
	Actor  []ConsentProvisionActor `json:"actor,omitempty"`
	Code   []CodeableConcept       `json:"code,omitempty"`
	Data   []ConsentProvisionData  `json:"data,omitempty"`
}

type ConsentProvisionActor struct {
	Role      CodeableConcept `json:"role"`
	Reference Reference       `json:"reference"`
}

type ConsentProvisionData struct {
	Meaning   string    `json:"meaning"`
	Reference Reference `json:"reference"`
}

// provisionType is the provision.type of each kind: a notice permits and
// denies nothing.
func provisionType(k consent.Kind) string {
	switch k {
	case consent.KindConsent:
		return "permit"
	case consent.KindProhibition:
		return "deny"
	}
	return ""
}

// consentStatus is active for an expression in force or yet to come into
// force, inactive once withdrawn or ended.
func consentStatus(e *consent.Expression, now time.Time) string {
	if e.Withdrawn != nil || (e.Kind == consent.KindConsent && !e.Until.IsZero() && !e.Until.After(now)) {
		return "inactive"
	}
	return "active"
}

// fhirDate is a day as a FHIR date, in Finnish time.
func fhirDate(t time.Time) string { return t.In(fitime.Location).Format(time.DateOnly) }

func clientIdentifier(clientKey string) *Identifier {
	root, ext, _ := strings.Cut(clientKey, "|")
	return &Identifier{System: oidURN(root), Value: ext}
}

func orgReference(o string) Reference {
	return Reference{Type: "Organization", Identifier: &Identifier{System: SystemURI, Value: oidURN(o)}}
}

// statementOf is the performer: whose will the expression is.
func statementOf(r consent.Recorder, clientKey string) Reference {
	switch {
	case r.Role == consent.RoleClient, r.Role == consent.RoleProfessional && r.OnStatementOf == consent.RoleClient:
		return Reference{Type: "Patient", Identifier: clientIdentifier(clientKey)}
	case r.Role == consent.RoleRepresentative:
		return Reference{Type: "RelatedPerson", Identifier: &Identifier{System: SystemIdentityCode, Value: r.Person}, Display: "legal representative"}
	}
	ref := Reference{Type: "RelatedPerson", Display: "legal representative"}
	if r.Representative != "" {
		ref.Identifier = &Identifier{System: SystemIdentityCode, Value: r.Representative}
	}
	return ref
}

// recorderParts are the sub-extensions naming who recorded (or withdrew)
// a will expression.
func recorderParts(r consent.Recorder, clientKey string) []Extension {
	out := []Extension{{URL: "role", ValueCode: string(r.Role)}}
	who := Reference{Display: r.Name}
	switch r.Role {
	case consent.RoleProfessional:
		who.Type, who.Identifier = "Practitioner", &Identifier{System: SystemProfessional, Value: r.Person}
	default:
		who = statementOf(r, clientKey)
	}
	out = append(out, Extension{URL: "who", ValueReference: &who})
	if r.Role == consent.RoleProfessional {
		if r.Unit != "" {
			out = append(out, Extension{URL: "unit", ValueIdentifier: &Identifier{System: SystemURI, Value: oidURN(r.Unit)}})
		}
		if r.System != "" {
			out = append(out, Extension{URL: "system", ValueIdentifier: &Identifier{System: SystemClientSystem, Value: r.System}})
		}
		if r.Organisation != "" {
			out = append(out, Extension{URL: "organisation", ValueIdentifier: &Identifier{System: SystemURI, Value: oidURN(r.Organisation)}})
		}
		st := statementOf(r, clientKey)
		out = append(out, Extension{URL: "onStatementOf", ValueReference: &st})
	}
	return out
}

// consentResource renders a will expression as a FHIR Consent, its status
// as of now.
// consentResource is a will expression as a Consent, with meta.versionId.
func consentResource(e *consent.Expression, now time.Time) *Consent {
	return stamp(consentOf(e, now))
}

func consentOf(e *consent.Expression, now time.Time) *Consent {
	c := &Consent{
		ResourceType: "Consent",
		ID:           e.ID,
		Status:       consentStatus(e, now),
		Scope:        CodeableConcept{Coding: []Coding{{System: sysConsentScope, Code: scopePrivacy, Display: "Privacy Consent"}}},
		Category:     []CodeableConcept{{Coding: []Coding{{System: SystemWillExpression, Code: string(e.Kind), Display: kindDisplay[e.Kind]}}}},
		Patient:      &Reference{Identifier: clientIdentifier(e.ClientKey)},
		DateTime:     instant(e.RecordedAt),
		Performer:    []Reference{statementOf(e.Recorder, e.ClientKey)},
		Policy:       []ConsentPolicy{{URI: ClientDataAct}},
	}
	c.Extension = append(c.Extension, Extension{URL: ExtConsentRecorder, Extension: recorderParts(e.Recorder, e.ClientKey)})
	if w := e.Withdrawn; w != nil {
		parts := append([]Extension{{URL: "at", ValueDateTime: instant(w.At)}}, recorderParts(w.By, e.ClientKey)...)
		c.Extension = append(c.Extension, Extension{URL: ExtConsentWithdrawal, Extension: parts})
	}
	if o := e.Recorder.Organisation; o != "" {
		c.Organization = []Reference{orgReference(o)}
	}
	last := e.RecordedAt
	if e.Withdrawn != nil {
		last = e.Withdrawn.At
	}
	c.Meta = &Meta{LastUpdated: instant(last)}
	if e.Kind == consent.KindNotice {
		return c
	}
	p := &ConsentProvision{Type: provisionType(e.Kind)}
	if !e.From.IsZero() || !e.Until.IsZero() {
		p.Period = &Period{}
		if !e.From.IsZero() {
			p.Period.Start = fhirDate(e.From)
		}
		if !e.Until.IsZero() {
			// Until is the first day no longer covered; FHIR's end date
			// is the last day covered.
			p.Period.End = fhirDate(e.Until.In(fitime.Location).AddDate(0, 0, -1))
		}
	}
	if t := e.Target; t != nil {
		switch t.Kind {
		case consent.TargetDocument:
			p.Data = []ConsentProvisionData{{Meaning: "related", Reference: Reference{Type: "DocumentReference", Identifier: &Identifier{System: SystemURI, Value: oidURN(t.Value)}}}}
		case consent.TargetServiceTask:
			p.Code = []CodeableConcept{{Coding: []Coding{{System: oidURN(codes.OIDServiceTask), Code: t.Value, Display: codes.ServiceTask.Display(t.Value, "fi")}}}}
		case consent.TargetController:
			p.Actor = []ConsentProvisionActor{{
				Role:      CodeableConcept{Coding: []Coding{{System: sysParticipationType, Code: "CST", Display: "custodian"}}},
				Reference: orgReference(t.Value),
			}}
		}
	}
	c.Provision = p
	return c
}

var kindDisplay = map[consent.Kind]string{
	consent.KindNotice:      "information notice (Kanta-informointi)",
	consent.KindConsent:     "disclosure consent (luovutuslupa)",
	consent.KindProhibition: "disclosure prohibition (luovutuskielto)",
}

// consentBody is a parsed POST /fhir/Consent: the will expression, its
// recorder the professional the token names, on the statement the
// performer gives.
func parseConsent(body []byte, c archive.Caller) (*consent.Expression, error) {
	o, err := readObject(body, "Consent", RuleConsentElement)
	if err != nil {
		return nil, err
	}
	rt, err := o.str("resourceType", true)
	if err != nil {
		return nil, err
	}
	if rt != "Consent" {
		return nil, valueErr(RuleConsentElement, "Consent.resourceType", "POST /fhir/Consent takes a Consent, not %q", rt)
	}
	for _, kw := range [][2]string{
		{"id", "the archive assigns the id"},
		{"dateTime", "the archive records when the will expression was recorded"},
		{"extension", "the archive records who recorded the will expression (the token's professional) and when; withdraw with $withdraw"},
		{"policyRule", "the policy is given as policy[0].uri, the Client Data Act"},
	} {
		if err := o.refuse(kw[0], RuleConsentElement, "%s", kw[1]); err != nil {
			return nil, err
		}
	}
	e := &consent.Expression{}
	// status
	st, err := o.str("status", true)
	if err != nil {
		return nil, err
	}
	if st != "active" {
		return nil, valueErr(RuleConsentStatus, "Consent.status", "a will expression is recorded active, not %q; a withdrawal is POST Consent/<id>/$withdraw", st)
	}
	// scope
	sc, err := o.obj("scope", true)
	if err != nil {
		return nil, err
	}
	if sys, code, err := sc.concept(RuleConsentScope, "coding"); err != nil {
		return nil, err
	} else if sys != sysConsentScope || code != scopePrivacy {
		return nil, valueErr(RuleConsentScope, "Consent.scope", "a will expression is a privacy consent: %s|%s", sysConsentScope, scopePrivacy)
	}
	// category: what kind of will expression
	cat, err := o.one("category", true, consent.RuleKind, "category")
	if err != nil {
		return nil, err
	}
	sys, code, err := cat.concept(consent.RuleKind, "coding")
	if err != nil {
		return nil, err
	}
	e.Kind = consent.Kind(code)
	if _, known := kindDisplay[e.Kind]; sys != SystemWillExpression || !known {
		return nil, valueErr(consent.RuleKind, "Consent.category[0].coding[0]", "the kind of will expression is a code of %s: notice, consent or prohibition", SystemWillExpression)
	}
	// patient: the client
	pat, err := o.obj("patient", true)
	if err != nil {
		return nil, err
	}
	client, err := pat.reference()
	if err != nil {
		return nil, err
	}
	if client.typ != "" && client.typ != "Patient" {
		return nil, valueErr(consent.RuleClientIdentity, "Consent.patient.type", "the client is a Patient")
	}
	id, err := parseClientIdentifier(client.system, client.value)
	if err != nil {
		return nil, valueErr(consent.RuleClientIdentity, client.path, "%v", err)
	}
	e.ClientKey = id.Key()
	// performer: whose will
	e.Recorder = consent.Recorder{Role: consent.RoleProfessional, Person: c.Person, Name: c.PersonName, Unit: c.Unit, System: c.System, Organisation: c.Organisation}
	perf, err := o.one("performer", true, consent.RuleRecorder, "performer: whose will it is")
	if err != nil {
		return nil, err
	}
	if e.Recorder.OnStatementOf, e.Recorder.Representative, err = parseStatementOf(perf, id); err != nil {
		return nil, err
	}
	// organization: the recording organisation, the caller's
	if org, err := o.one("organization", false, RuleConsentOrganization, "organization"); err != nil {
		return nil, err
	} else if org != nil {
		r, err := org.reference()
		if err != nil {
			return nil, err
		}
		if (r.typ != "" && r.typ != "Organization") || r.system != SystemURI || r.value != oidURN(c.Organisation) {
			return nil, valueErr(RuleConsentOrganization, "Consent.organization[0]", "the organisation is the calling system's, an Organization by identifier %s|urn:oid:%s", SystemURI, c.Organisation)
		}
	}
	// policy
	pol, err := o.one("policy", true, RuleConsentPolicy, "policy")
	if err != nil {
		return nil, err
	}
	if err := pol.refuse("authority", RuleConsentPolicy, "the policy is named by its uri only"); err != nil {
		return nil, err
	}
	uri, err := pol.str("uri", true)
	if err != nil {
		return nil, err
	}
	if err := pol.done(); err != nil {
		return nil, err
	}
	if uri != ClientDataAct {
		return nil, valueErr(RuleConsentPolicy, "Consent.policy[0].uri", "will expressions are given under the Client Data Act (703/2023): %s", ClientDataAct)
	}
	// provision
	if err := parseProvision(o, e); err != nil {
		return nil, err
	}
	if err := o.done(); err != nil {
		return nil, err
	}
	return e, nil
}

// parseClientIdentifier reads a client given by identifier as the
// DocumentReference door takes one: an identity code under
// urn:oid:1.2.246.21, or a temporary identifier under its root.
func parseClientIdentifier(system, value string) (hetu.ClientID, error) {
	root, ok := strings.CutPrefix(system, "urn:oid:")
	if !ok {
		return hetu.ClientID{}, fmt.Errorf("the identifier system is urn:oid:<root>: %s for an identity code or a temporary identifier's root", SystemIdentityCode)
	}
	return hetu.ParseClientID(root, value)
}

// parseStatementOf reads a performer: the client (a Patient with the
// client's identifier) or a legal representative (a RelatedPerson with
// their identity code).
func parseStatementOf(perf *object, client hetu.ClientID) (consent.Role, string, error) {
	r, err := perf.reference()
	if err != nil {
		return "", "", err
	}
	return statementRole(r, perf.at("type"), client)
}

// statementRole is whose statement a performer reference names.
func statementRole(r ref, typePath string, client hetu.ClientID) (consent.Role, string, error) {
	switch r.typ {
	case "Patient":
		if r.system != oidURN(client.Root) || r.value != client.Extension {
			return "", "", valueErr(consent.RuleRecorder, r.path, "a Patient performer is the client: the same identifier as Consent.patient")
		}
		return consent.RoleClient, "", nil
	case "RelatedPerson":
		if r.system != SystemIdentityCode {
			return "", "", valueErr(consent.RuleRecorder, r.path+".system", "a legal representative is named by a personal identity code, system %s", SystemIdentityCode)
		}
		return consent.RoleRepresentative, r.value, nil
	}
	return "", "", valueErr(consent.RuleRecorder, typePath, "the performer is the client (Patient) or a legal representative (RelatedPerson), by identifier")
}

// parseProvision reads provision: the consent's period, a prohibition's
// target; a notice has none.
func parseProvision(o *object, e *consent.Expression) error {
	p, err := o.obj("provision", false)
	if err != nil {
		return err
	}
	if e.Kind == consent.KindNotice {
		if p != nil {
			return valueErr(RuleConsentProvision, "Consent.provision", "an information notice permits and denies nothing: it has no provision")
		}
		return nil
	}
	if p == nil {
		return valueErr(RuleConsentProvision, "Consent.provision", "a %s needs provision.type %s", e.Kind, provisionType(e.Kind))
	}
	typ, err := p.str("type", true)
	if err != nil {
		return err
	}
	if typ != provisionType(e.Kind) {
		return valueErr(RuleConsentProvision, "Consent.provision.type", "a %s has provision.type %s, not %q", e.Kind, provisionType(e.Kind), typ)
	}
	if per, err := p.obj("period", false); err != nil {
		return err
	} else if per != nil {
		if e.Kind != consent.KindConsent {
			return valueErr(consent.RulePeriod, per.path, "only a consent has a period; a prohibition is in force from when it is recorded until withdrawn")
		}
		if e.From, err = periodDay(per, "start"); err != nil {
			return err
		}
		if e.Until, err = periodDay(per, "end"); err != nil {
			return err
		}
		if !e.Until.IsZero() {
			// FHIR's end is the last day covered; Until is the first not.
			e.Until = e.Until.AddDate(0, 0, 1)
		}
		if err := per.done(); err != nil {
			return err
		}
		if e.From.IsZero() && e.Until.IsZero() {
			return valueErr(consent.RulePeriod, per.path, "a period needs a start or an end")
		}
	}
	targets := 0
	for _, k := range []string{"data", "code", "actor"} {
		if p.has(k) {
			targets++
		}
	}
	if e.Kind != consent.KindProhibition && targets > 0 {
		return valueErr(consent.RuleTarget, "Consent.provision", "only a prohibition has a target (provision.data, code or actor)")
	}
	if e.Kind == consent.KindProhibition && targets != 1 {
		return valueErr(consent.RuleTarget, "Consent.provision", "a prohibition covers exactly one document (provision.data), one service task (provision.code) or one controller (provision.actor)")
	}
	if e.Kind == consent.KindProhibition {
		if e.Target, err = parseTarget(p); err != nil {
			return err
		}
	}
	return p.done()
}

// periodDay reads a period's start or end: a FHIR date, a Finnish day.
func periodDay(per *object, key string) (time.Time, error) {
	v, err := per.str(key, false)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	t, err := time.ParseInLocation(time.DateOnly, v, fitime.Location)
	if err != nil {
		return time.Time{}, valueErr(consent.RulePeriod, per.at(key), "a consent is bounded by days: a FHIR date YYYY-MM-DD")
	}
	return t, nil
}

// parseTarget reads a prohibition's one target.
func parseTarget(p *object) (*consent.Target, error) {
	urnOID := func(r ref, what string) (string, error) {
		v, ok := strings.CutPrefix(r.value, "urn:oid:")
		if r.system != SystemURI || !ok || oid.Check(v) != nil {
			return "", valueErr(consent.RuleTarget, r.path, "%s is named by identifier %s|urn:oid:<OID>", what, SystemURI)
		}
		return v, nil
	}
	switch {
	case p.has("data"):
		d, err := p.one("data", true, consent.RuleTarget, "document")
		if err != nil {
			return nil, err
		}
		m, err := d.str("meaning", true)
		if err != nil {
			return nil, err
		}
		if m != "related" {
			return nil, valueErr(consent.RuleTarget, d.at("meaning"), "a prohibited document covers its whole set: meaning related, not %q", m)
		}
		rd, err := d.obj("reference", true)
		if err != nil {
			return nil, err
		}
		r, err := rd.reference()
		if err != nil {
			return nil, err
		}
		if r.typ != "" && r.typ != "DocumentReference" {
			return nil, valueErr(consent.RuleTarget, rd.at("type"), "a prohibited document is a DocumentReference")
		}
		v, err := urnOID(r, "a document set")
		if err != nil {
			return nil, err
		}
		return &consent.Target{Kind: consent.TargetDocument, Value: v}, d.done()
	case p.has("code"):
		cd, err := p.one("code", true, consent.RuleTarget, "service task")
		if err != nil {
			return nil, err
		}
		sys, code, err := cd.concept(consent.RuleTarget, "service task")
		if err != nil {
			return nil, err
		}
		if sys != oidURN(codes.OIDServiceTask) {
			return nil, valueErr(consent.RuleTarget, cd.path+".coding[0].system", "a service task is a code of %s", oidURN(codes.OIDServiceTask))
		}
		return &consent.Target{Kind: consent.TargetServiceTask, Value: code}, nil
	default:
		a, err := p.one("actor", true, consent.RuleTarget, "controller")
		if err != nil {
			return nil, err
		}
		role, err := a.obj("role", true)
		if err != nil {
			return nil, err
		}
		sys, code, err := role.concept(consent.RuleTarget, "role")
		if err != nil {
			return nil, err
		}
		if sys != sysParticipationType || code != "CST" {
			return nil, valueErr(consent.RuleTarget, role.path, "a prohibited controller has role %s|CST (custodian)", sysParticipationType)
		}
		rr, err := a.obj("reference", true)
		if err != nil {
			return nil, err
		}
		r, err := rr.reference()
		if err != nil {
			return nil, err
		}
		if r.typ != "" && r.typ != "Organization" {
			return nil, valueErr(consent.RuleTarget, rr.at("type"), "a prohibited controller is an Organization")
		}
		v, err := urnOID(r, "a controller")
		if err != nil {
			return nil, err
		}
		return &consent.Target{Kind: consent.TargetController, Value: v}, a.done()
	}
}

// withdrawal is a parsed $withdraw: whose statement it is, to be checked
// against the expression's client (withdrawer).
type withdrawal struct {
	performer ref
	typePath  string
}

// parseWithdrawal reads the Parameters of $withdraw: one parameter
// performer, whose statement the withdrawal is (valueReference, as
// Consent.performer).
func parseWithdrawal(body []byte) (*withdrawal, error) {
	o, err := readObject(body, "Parameters", RuleConsentElement)
	if err != nil {
		return nil, err
	}
	rt, err := o.str("resourceType", true)
	if err != nil {
		return nil, err
	}
	if rt != "Parameters" {
		return nil, valueErr(RuleConsentElement, "Parameters.resourceType", "$withdraw takes Parameters, not %q", rt)
	}
	prm, err := o.one("parameter", true, consent.RuleRecorder, "parameter, performer")
	if err != nil {
		return nil, err
	}
	if err := o.done(); err != nil {
		return nil, err
	}
	name, err := prm.str("name", true)
	if err != nil {
		return nil, err
	}
	if name != "performer" {
		return nil, valueErr(RuleConsentElement, prm.at("name"), "$withdraw takes one parameter, performer, not %q", name)
	}
	vr, err := prm.obj("valueReference", true)
	if err != nil {
		return nil, err
	}
	if err := prm.done(); err != nil {
		return nil, err
	}
	r, err := vr.reference()
	if err != nil {
		return nil, err
	}
	return &withdrawal{performer: r, typePath: vr.at("type")}, nil
}

// withdrawer is who withdraws: the professional of the token, on the
// statement of the performer, checked against the expression's client.
func (wd *withdrawal) withdrawer(clientKey string, c archive.Caller) (consent.Recorder, error) {
	by := consent.Recorder{Role: consent.RoleProfessional, Person: c.Person, Name: c.PersonName, Unit: c.Unit, System: c.System, Organisation: c.Organisation}
	root, ext, _ := strings.Cut(clientKey, "|")
	var err error
	by.OnStatementOf, by.Representative, err = statementRole(wd.performer, wd.typePath, hetu.ClientID{Root: root, Extension: ext})
	return by, err
}

// consentPaths name the FHIR element of each domain problem's path.
func consentPath(p problem.Problem, e *consent.Expression, withdrawal bool) string {
	perf := "Consent.performer[0]"
	if withdrawal {
		perf = "Parameters.parameter[0].valueReference"
	}
	path := strings.TrimPrefix(strings.TrimPrefix(p.Path, "recorder."), "withdrawn.by.")
	switch path {
	case "kind":
		if p.Code == consent.RuleNoticeIsFinal {
			return "Consent.category[0]"
		}
		if p.Code == consent.RuleNotInformed {
			return "Consent.category[0]"
		}
		return "Consent.category[0].coding[0].code"
	case "client":
		return "Consent.patient.identifier"
	case "target", "target.kind":
		return "Consent.provision"
	case "target.value":
		if e != nil && e.Target != nil {
			switch e.Target.Kind {
			case consent.TargetDocument:
				return "Consent.provision.data[0].reference.identifier.value"
			case consent.TargetServiceTask:
				return "Consent.provision.code[0].coding[0].code"
			case consent.TargetController:
				return "Consent.provision.actor[0].reference.identifier.value"
			}
		}
		return "Consent.provision"
	case "until":
		return "Consent.provision.period.end"
	case "period":
		return "Consent.provision.period"
	case "status", "withdrawn.at":
		return "Consent.status"
	case "person":
		return "token.sub"
	case "name":
		return "token.name"
	case "unit":
		return "token.unit"
	case "system":
		return "certificate"
	case "representative":
		return perf + ".identifier"
	}
	return perf
}

// consentIssues turns the domain's problems with a will expression into
// issues naming FHIR elements.
func consentIssues(ps problem.List, e *consent.Expression, withdrawal bool) []OperationOutcomeIssue {
	out := make([]OperationOutcomeIssue, 0, len(ps))
	for _, p := range ps {
		out = append(out, issue("business-rule", consentPath(p, e, withdrawal), p.Code, p.Code+": "+p.Message))
	}
	return out
}

// consentIDPattern is the shape of a FHIR id; the archive's will
// expression ids are of it.
var consentIDPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// consentID reads the {id} path value.
func (s *Server) consentID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !consentIDPattern.MatchString(id) {
		s.fail(w, http.StatusNotFound, issue("not-found", "id", "", "no Consent "+strconv.Quote(clip(id))+": ids are those the archive assigned"))
		return "", false
	}
	return id, true
}

// consentError answers a domain refusal of a will expression, naming the
// FHIR elements of the domain's problems.
func (s *Server) consentError(w http.ResponseWriter, r *http.Request, err error, e *consent.Expression, withdrawal bool) {
	var ae *archive.Error
	if errors.As(err, &ae) && errors.Is(err, archive.ErrInvalid) && len(ae.Problems) > 0 {
		s.fail(w, http.StatusUnprocessableEntity, consentIssues(ae.Problems, e, withdrawal)...)
		return
	}
	s.archiveError(w, r, err, "")
}

// createConsent is POST /fhir/Consent.
func (s *Server) createConsent(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	body, ok := s.readBody(w, r, "Consent")
	if !ok {
		return
	}
	e, err := parseConsent(body, c)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	got, err := s.svc.RecordWill(r.Context(), c, e)
	if err != nil {
		s.consentError(w, r, err, e, false)
		return
	}
	w.Header().Set("Location", s.cfg.BaseURL+"/Consent/"+got.ID)
	writeJSON(w, http.StatusCreated, consentResource(got, nowUTC()))
}

// readConsent is GET /fhir/Consent/{id}.
func (s *Server) readConsent(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	id, ok := s.consentID(w, r)
	if !ok {
		return
	}
	e, err := s.svc.Will(r.Context(), c, id)
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, consentResource(e, nowUTC()))
}

// withdrawConsent is POST /fhir/Consent/{id}/$withdraw.
func (s *Server) withdrawConsent(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	id, ok := s.consentID(w, r)
	if !ok {
		return
	}
	body, ok := s.readBody(w, r, "Parameters")
	if !ok {
		return
	}
	wd, err := parseWithdrawal(body)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	// A Patient performer must be the expression's client, so the
	// expression is read first (a logged read, decided as any).
	e, err := s.svc.Will(r.Context(), c, id)
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	by, err := wd.withdrawer(e.ClientKey, c)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	got, err := s.svc.WithdrawWill(r.Context(), c, id, by)
	if err != nil {
		s.consentError(w, r, err, e, true)
		return
	}
	writeJSON(w, http.StatusOK, consentResource(got, nowUTC()))
}

// searchConsents is GET /fhir/Consent?patient.identifier=...[&status=...]:
// the client's will expressions, oldest first, all in one page (a
// client's history is short) with the exact total.
func (s *Server) searchConsents(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	q := r.URL.Query()
	for p := range q {
		switch p {
		case "patient.identifier", "status", "_format":
		case "":
			s.badRequest(w, paramErr(RuleQueryParam, "query", "a parameter without a name (a stray = or &)"))
			return
		default:
			s.badRequest(w, paramErr(RuleQueryParam, p, "unknown search parameter; supported: patient.identifier, status"))
			return
		}
	}
	key, err := clientKey(q, "patient.identifier")
	if err != nil {
		s.badRequest(w, err)
		return
	}
	want := map[string]bool{"active": true}
	if len(q["status"]) > 0 {
		want = map[string]bool{}
		for _, t := range tokens(q["status"]) {
			if t[0] != "" || (t[1] != "active" && t[1] != "inactive") {
				s.badRequest(w, paramErr(RuleQueryStatus, "status", "active or inactive (a comma list), not %q", clip(t[0]+t[1])))
				return
			}
			want[t[1]] = true
		}
		if len(want) == 0 {
			s.badRequest(w, paramErr(RuleQueryStatus, "status", "active or inactive (a comma list)"))
			return
		}
	}
	all, err := s.svc.Wills(r.Context(), c, key)
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	now := nowUTC()
	b := &Bundle{ResourceType: "Bundle", Type: "searchset", Timestamp: instant(now)}
	b.Link = []BundleLink{{Relation: "self", URL: s.cfg.BaseURL + "/Consent?" + q.Encode()}}
	for _, e := range all {
		res := consentResource(e, now)
		if !want[res.Status] {
			continue
		}
		raw, err := jsonMarshal(res)
		if err != nil {
			s.archiveError(w, r, err, "")
			return
		}
		b.Entry = append(b.Entry, BundleEntry{FullURL: s.cfg.BaseURL + "/Consent/" + e.ID, Resource: raw, Search: &BundleSearch{Mode: "match"}})
	}
	total := len(b.Entry)
	b.Total = &total
	writeJSON(w, http.StatusOK, b)
}
