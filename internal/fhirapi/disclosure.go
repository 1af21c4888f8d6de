package fhirapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/problem"
)

// Codes of the disclosure log's AuditEvents.
const (
	// SystemAuditType is the archive's own code system of AuditEvent
	// subtypes: disclosure marks a disclosure-log entry.
	SystemAuditType = "urn:arkisto:audit-type"
	auditDisclosure = "disclosure"
	// SystemDisclosureSource tells the archive's own disclosures from
	// reported ones (notices).
	SystemDisclosureSource = "urn:arkisto:disclosure-source"
	// SystemDisclosureType is the archive's own code system of the kinds
	// of a disclosure made outside the archive (Kela's TypeOfDisclosure
	// codes are not public).
	SystemDisclosureType = "urn:arkisto:disclosure-type"
	// ExtDisclosureType carries a notice's kind of disclosure.
	ExtDisclosureType = extBase + "disclosure-type"

	dcmExport      = "110106"
	dcmSource      = "110153"
	dcmDestination = "110152"
	sysProvenance  = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
)

// DisclosureTypes are the kinds of a disclosure made outside the archive.
var DisclosureTypes = map[string]string{
	"client-request": "to the client, on request",
	"court":          "to a court",
	"authority":      "to another authority, under a law",
	"other":          "on another ground laid down by law",
}

// Details of a disclosed document or data set (AuditEvent.entity.detail.type).
const (
	detailGeneralType  = "general-type"
	detailSpecificType = "specific-type"
	detailServiceTask  = "service-task"
	detailSetID        = "set-id"
	detailGround       = "ground"
)

// Rule codes of disclosure notices.
const (
	RuleNoticeElement    = "NOTICE_ELEMENT"    // an element the archive does not take, or of the wrong JSON type
	RuleNoticeBundle     = "NOTICE_BUNDLE"     // one AuditEvent and one Provenance, each POSTed
	RuleNoticeID         = "NOTICE_ID"         // the reporter's id of the notice
	RuleNoticeType       = "NOTICE_TYPE"       // DCM 110106 and a disclosure-type extension
	RuleNoticeTime       = "NOTICE_TIME"       // period.start and recorded, instants
	RuleNoticeAgent      = "NOTICE_AGENT"      // the disclosing controller and the recipient
	RuleNoticeEntity     = "NOTICE_ENTITY"     // the client and each data set with its types and service tasks
	RuleNoticeProvenance = "NOTICE_PROVENANCE" // who reports: the token's professional
)

// disclosureID is the AuditEvent id of a disclosure-log entry, apart from
// the access log's ids.
func disclosureID(id int64) string { return "disclosure-" + strconv.FormatInt(id, 10) }

// recipientReference names the recipient: an organisation by OID, or the
// identifier a notice gave.
func recipientReference(d *archive.Disclosure) *Reference {
	r := &Reference{Display: d.RecipientName}
	if oid.Valid(d.Recipient) {
		r.Type, r.Identifier = "Organization", &Identifier{System: SystemURI, Value: oidURN(d.Recipient)}
	} else if sys, v, ok := strings.Cut(d.Recipient, "|"); ok {
		r.Identifier = &Identifier{System: sys, Value: v}
	} else {
		r.Identifier = &Identifier{Value: d.Recipient}
	}
	return r
}

// disclosureEvent renders a disclosure-log entry as an AuditEvent: DICOM
// Export with the archive's subtype disclosure; the disclosing controller
// (source) and the recipient (destination) with its system, professional
// and unit as agents; the client, each document or data set, and the
// ground (the consent, a broad search's justification, a notice's kind)
// as entities.
// disclosureEvent is a disclosure-log entry as an AuditEvent; entries
// never change, so meta.lastUpdated is when it was logged.
func disclosureEvent(d *archive.Disclosure) *AuditEvent {
	ev := disclosureEventOf(d)
	ev.Meta = resourceMeta(d.At)
	return stamp(ev)
}

func disclosureEventOf(d *archive.Disclosure) *AuditEvent {
	ev := &AuditEvent{
		ResourceType: "AuditEvent",
		ID:           disclosureID(d.ID),
		Type:         Coding{System: sysDICOM, Code: dcmExport, Display: "Export"},
		Subtype: []Coding{
			{System: SystemAuditType, Code: auditDisclosure, Display: "disclosure to another controller"},
			{System: SystemDisclosureSource, Code: string(d.Source)},
		},
		Action:   "R",
		Period:   &Period{Start: instant(d.DisclosedAt)},
		Recorded: instant(d.At),
		Outcome:  "0",
		Source: AuditEventSource{
			Site:     "arkisto",
			Observer: Reference{Display: "arkisto client data archive"},
			Type:     []Coding{{System: sysSourceType, Code: "4", Display: "Application Server"}},
		},
	}
	if d.Source == archive.SourceNotice && d.NoticeID != "" {
		ev.Extension = append(ev.Extension, Extension{URL: ExtDisclosureType, ValueCoding: &Coding{System: SystemDisclosureType, Code: d.Ground, Display: DisclosureTypes[d.Ground]}})
	}
	discloser := orgReference(d.Discloser)
	ev.Agent = append(ev.Agent,
		AuditEventAgent{Type: &CodeableConcept{Coding: []Coding{{System: sysDICOM, Code: dcmSource, Display: "Source Role ID"}}}, Who: &discloser},
		AuditEventAgent{Type: &CodeableConcept{Coding: []Coding{{System: sysDICOM, Code: dcmDestination, Display: "Destination Role ID"}}}, Who: recipientReference(d)},
	)
	// Through the archive the caller is the recipient's; a notice's
	// caller is the discloser's professional who reported it.
	role := "recipient"
	if d.Source == archive.SourceNotice {
		role = "reporter"
	}
	c := d.Caller
	if c.System != "" {
		ev.Agent = append(ev.Agent, AuditEventAgent{
			Type: &CodeableConcept{Coding: []Coding{{System: sysDICOM, Code: "110150", Display: "Application"}}},
			Role: []CodeableConcept{{Text: role + "'s system"}},
			Who:  &Reference{Identifier: &Identifier{System: SystemClientSystem, Value: c.System}, Display: c.System},
		})
	}
	if c.Person != "" {
		person := AuditEventAgent{
			Type:      &CodeableConcept{Coding: []Coding{{System: sysSecurityRole, Code: "humanuser", Display: "human user"}}},
			Role:      []CodeableConcept{{Text: role}},
			Who:       &Reference{Type: "Practitioner", Identifier: &Identifier{System: SystemProfessional, Value: c.Person}, Display: c.PersonName},
			Requestor: true,
		}
		if c.Unit != "" {
			person.Location = &Reference{Identifier: &Identifier{System: SystemURI, Value: oidURN(c.Unit)}, Display: "service unit"}
		}
		ev.Agent = append(ev.Agent, person)
	}
	if root, ext, ok := strings.Cut(d.ClientKey, "|"); ok {
		ev.Entity = append(ev.Entity, AuditEventEntity{
			What: &Reference{Identifier: &Identifier{System: oidURN(root), Value: ext}},
			Type: &Coding{System: sysEntityType, Code: "1", Display: "Person"},
			Role: &Coding{System: sysObjectRole, Code: "1", Display: "Patient"},
		})
	}
	for _, doc := range d.Documents {
		ent := AuditEventEntity{
			Type:        &Coding{System: sysEntityType, Code: "2", Display: "System Object"},
			Role:        &Coding{System: sysObjectRole, Code: "3", Display: "Report"},
			Description: doc.Description,
		}
		switch {
		case doc.ID != "":
			ent.What = &Reference{Reference: "DocumentReference/" + doc.ID}
			if doc.SetID != "" {
				ent.Detail = append(ent.Detail, AuditEventEntityDetail{Type: detailSetID, ValueString: doc.SetID})
			}
		case doc.SetID != "":
			ent.What = &Reference{Identifier: &Identifier{System: SystemURI, Value: oidURN(doc.SetID)}}
		}
		if doc.GeneralType != "" {
			ent.Detail = append(ent.Detail, AuditEventEntityDetail{Type: detailGeneralType, ValueString: doc.GeneralType})
		}
		if doc.SpecificType != "" {
			ent.Detail = append(ent.Detail, AuditEventEntityDetail{Type: detailSpecificType, ValueString: doc.SpecificType})
		}
		for _, st := range doc.ServiceTasks {
			ent.Detail = append(ent.Detail, AuditEventEntityDetail{Type: detailServiceTask, ValueString: st})
		}
		ev.Entity = append(ev.Entity, ent)
	}
	ground := AuditEventEntity{
		Type:   &Coding{System: sysEntityType, Code: "2", Display: "System Object"},
		Role:   &Coding{System: sysObjectRole, Code: "13", Display: "Security Resource"},
		Detail: []AuditEventEntityDetail{{Type: detailGround, ValueString: d.GroundKind}},
	}
	switch d.GroundKind {
	case archive.GroundConsent:
		ground.What = &Reference{Reference: "Consent/" + d.Ground}
	case archive.GroundBroadSearch:
		ground.Description = d.Ground
		if code, _, ok := strings.Cut(d.Ground, ":"); ok {
			if _, known := consent.Justifications[code]; known {
				ev.PurposeOfEvent = []CodeableConcept{{Coding: []Coding{{System: consent.SystemJustification, Code: code, Display: consent.Justifications[code].EN}}}}
			}
		}
	default:
		ground.Description = d.Ground
	}
	ev.Entity = append(ev.Entity, ground)
	return ev
}

// isDisclosureNotice reports whether a transaction Bundle is a disclosure
// notice rather than an ITI-65 submission: it holds AuditEvents and
// Provenances only. Anything else goes the ITI-65 way and is judged by
// its rules.
func isDisclosureNotice(entries []entry) bool {
	audit := false
	for _, e := range entries {
		switch e.typ {
		case "AuditEvent":
			audit = true
		case "Provenance":
		default:
			return false
		}
	}
	return audit
}

var (
	fhirID      = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
	typeCode    = regexp.MustCompile(`^[0-9]{1,10}$`)
	serviceTask = regexp.MustCompile(`^[0-9]{1,4}$`)
)

// parseDisclosureNotice reads a disclosure notice: a transaction Bundle
// of one AuditEvent (Kela's SocialWelfareAuditEvent shape) and one
// Provenance naming the professional who reports it.
func parseDisclosureNotice(entries []entry, c archive.Caller) (*archive.Disclosure, error) {
	if len(entries) != 2 {
		return nil, valueErr(RuleNoticeBundle, "Bundle.entry", "a disclosure notice is one AuditEvent and one Provenance, not %d entries", len(entries))
	}
	ai, pi := -1, -1
	for i, e := range entries {
		path := fmt.Sprintf("Bundle.entry[%d]", i)
		if e.request == nil || e.request.Method != http.MethodPost {
			return nil, valueErr(RuleNoticeBundle, path+".request.method", "every entry of a disclosure notice is a POST")
		}
		if e.typ == "AuditEvent" {
			if ai >= 0 {
				return nil, valueErr(RuleNoticeBundle, path, "a disclosure notice holds one AuditEvent")
			}
			ai = i
		} else {
			pi = i
		}
	}
	if pi < 0 {
		return nil, valueErr(RuleNoticeBundle, "Bundle.entry", "a disclosure notice needs a Provenance naming who reports it")
	}
	if entries[ai].fullURL == "" {
		return nil, valueErr(RuleNoticeBundle, fmt.Sprintf("Bundle.entry[%d].fullUrl", ai), "the AuditEvent needs a fullUrl for the Provenance to point at")
	}
	d, err := parseNoticeEvent(entries[ai].raw, fmt.Sprintf("Bundle.entry[%d].resource", ai), c)
	if err != nil {
		return nil, err
	}
	if err := parseNoticeProvenance(entries[pi].raw, fmt.Sprintf("Bundle.entry[%d].resource", pi), entries[ai].fullURL, c); err != nil {
		return nil, err
	}
	return d, nil
}

func parseInstant(o *object, key, rule string) (time.Time, error) {
	v, err := o.str(key, true)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil || !strings.Contains(v, "T") {
		return time.Time{}, valueErr(rule, o.at(key), "an instant with a zone, as 2026-03-23T10:54:24+02:00")
	}
	return t, nil
}

func printable(s string, max int) bool {
	return utf8.RuneCountInString(s) <= max && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

// parseNoticeEvent reads the AuditEvent of a disclosure notice.
func parseNoticeEvent(raw []byte, path string, c archive.Caller) (*archive.Disclosure, error) {
	o, err := readObject(raw, path, RuleNoticeElement)
	if err != nil {
		return nil, err
	}
	d := &archive.Disclosure{Source: archive.SourceNotice, GroundKind: archive.GroundNotice, Caller: c}
	if _, err := o.str("resourceType", true); err != nil {
		return nil, err
	}
	if d.NoticeID, err = o.str("id", true); err != nil {
		return nil, err
	}
	if !fhirID.MatchString(d.NoticeID) {
		return nil, valueErr(RuleNoticeID, o.at("id"), "the notice's own id is a FHIR id (an OID in the reporter's subtree, as Kela's example has): letters, digits, - and ., at most 64")
	}
	// extension: the kind of disclosure
	ext, err := o.one("extension", true, RuleNoticeType, "extension, "+ExtDisclosureType)
	if err != nil {
		return nil, err
	}
	url, err := ext.str("url", true)
	if err != nil {
		return nil, err
	}
	if url != ExtDisclosureType {
		return nil, valueErr(RuleNoticeType, ext.at("url"), "the one extension is %s", ExtDisclosureType)
	}
	vc, err := ext.obj("valueCoding", true)
	if err != nil {
		return nil, err
	}
	if err := ext.done(); err != nil {
		return nil, err
	}
	sys, code, err := vc.coding()
	if err != nil {
		return nil, err
	}
	if _, known := DisclosureTypes[code]; sys != SystemDisclosureType || !known {
		return nil, valueErr(RuleNoticeType, vc.path, "the kind of disclosure is a code of %s: client-request, court, authority or other", SystemDisclosureType)
	}
	d.Ground = code
	// type and subtype
	ty, err := o.obj("type", true)
	if err != nil {
		return nil, err
	}
	if sys, code, err := ty.coding(); err != nil {
		return nil, err
	} else if sys != sysDICOM || code != dcmExport {
		return nil, valueErr(RuleNoticeType, ty.path, "a disclosure is %s|%s (Export)", sysDICOM, dcmExport)
	}
	if subs, err := o.objs("subtype", false); err != nil {
		return nil, err
	} else {
		for _, s := range subs {
			sys, code, err := s.coding()
			if err != nil {
				return nil, err
			}
			if sys != SystemAuditType || code != auditDisclosure {
				return nil, valueErr(RuleNoticeType, s.path, "the only subtype is %s|%s", SystemAuditType, auditDisclosure)
			}
		}
	}
	for _, k := range []string{"action", "outcome", "outcomeDesc"} {
		if err := o.refuse(k, RuleNoticeElement, "not used in a disclosure notice (Kela's SocialWelfareAuditEvent)"); err != nil {
			return nil, err
		}
	}
	// period.start: when disclosed; recorded
	per, err := o.obj("period", true)
	if err != nil {
		return nil, err
	}
	if d.DisclosedAt, err = parseInstant(per, "start", RuleNoticeTime); err != nil {
		return nil, err
	}
	if err := per.done(); err != nil {
		return nil, err
	}
	recorded, err := parseInstant(o, "recorded", RuleNoticeTime)
	if err != nil {
		return nil, err
	}
	if recorded.Before(d.DisclosedAt) {
		return nil, valueErr(RuleNoticeTime, o.at("recorded"), "a disclosure is recorded when or after it was made (period.start)")
	}
	if err := parseNoticeAgents(o, d); err != nil {
		return nil, err
	}
	// source: the reporting system
	src, err := o.obj("source", true)
	if err != nil {
		return nil, err
	}
	obs, err := src.obj("observer", true)
	if err != nil {
		return nil, err
	}
	r, err := obs.reference()
	if err != nil {
		return nil, err
	}
	if r.system != SystemClientSystem || r.value != c.System {
		return nil, valueErr(RuleNoticeAgent, r.path, "the source is the reporting system: %s|<the calling system's name>", SystemClientSystem)
	}
	if _, err := src.str("site", false); err != nil {
		return nil, err
	}
	if err := src.done(); err != nil {
		return nil, err
	}
	if err := parseNoticeEntities(o, d); err != nil {
		return nil, err
	}
	return d, o.done()
}

// parseNoticeAgents reads the disclosing controller (DICOM 110153) and the
// recipient (110152).
func parseNoticeAgents(o *object, d *archive.Disclosure) error {
	agents, err := o.objs("agent", true)
	if err != nil {
		return err
	}
	var source, dest bool
	for _, a := range agents {
		ty, err := a.obj("type", true)
		if err != nil {
			return err
		}
		sys, code, err := ty.concept(RuleNoticeAgent, "agent type")
		if err != nil {
			return err
		}
		req, err := a.boolean("requestor")
		if err != nil {
			return err
		}
		if req == nil || *req {
			return valueErr(RuleNoticeAgent, a.at("requestor"), "the controllers of a disclosure notice are not its requestor: false")
		}
		who, err := a.obj("who", true)
		if err != nil {
			return err
		}
		r, err := who.reference()
		if err != nil {
			return err
		}
		if err := a.done(); err != nil {
			return err
		}
		switch {
		case sys == sysDICOM && code == dcmSource && !source:
			source = true
			v, ok := strings.CutPrefix(r.value, "urn:oid:")
			if r.system != SystemURI || !ok || oid.Organisation(v) == "" || oid.Check(v) != nil {
				return valueErr(RuleNoticeAgent, r.path, "the disclosing controller is an organisation by identifier %s|urn:oid:1.2.246.10.<business id>...", SystemURI)
			}
			d.Discloser = v
		case sys == sysDICOM && code == dcmDestination && !dest:
			dest = true
			switch v, ok := strings.CutPrefix(r.value, "urn:oid:"); {
			case r.system == SystemURI && ok && oid.Check(v) == nil:
				d.Recipient = v
			case !printable(r.system, 200) || !printable(r.value, 200) || strings.Contains(r.system, "|"):
				return valueErr(RuleNoticeAgent, r.path, "the recipient's identifier is printable text")
			default:
				d.Recipient = r.system + "|" + r.value
			}
			if !printable(r.display, 200) {
				return valueErr(RuleNoticeAgent, who.at("display"), "the recipient's name is printable text of at most 200 characters")
			}
			d.RecipientName = r.display
		default:
			return valueErr(RuleNoticeAgent, ty.path, "the agents are the disclosing controller (%s|%s) and the recipient (%s|%s), one each", sysDICOM, dcmSource, sysDICOM, dcmDestination)
		}
	}
	if !source || !dest {
		return valueErr(RuleNoticeAgent, o.at("agent"), "a disclosure notice names the disclosing controller (%s) and the recipient (%s)", dcmSource, dcmDestination)
	}
	return nil
}

// parseNoticeEntities reads the client (role Patient) and one entity per
// disclosed data set: its general or specific type or a description, and
// every service task it concerns.
func parseNoticeEntities(o *object, d *archive.Disclosure) error {
	ents, err := o.objs("entity", true)
	if err != nil {
		return err
	}
	for _, e := range ents {
		role, err := e.obj("role", true)
		if err != nil {
			return err
		}
		rsys, rcode, err := role.coding()
		if err != nil {
			return err
		}
		ty, err := e.obj("type", false)
		if err != nil {
			return err
		}
		if ty != nil {
			if _, _, err := ty.coding(); err != nil {
				return err
			}
		}
		switch {
		case rsys == sysObjectRole && rcode == "1":
			if d.ClientKey != "" {
				return valueErr(RuleNoticeEntity, e.path, "a disclosure notice is about one client")
			}
			w, err := e.obj("what", true)
			if err != nil {
				return err
			}
			r, err := w.reference()
			if err != nil {
				return err
			}
			id, err := parseClientIdentifier(r.system, r.value)
			if err != nil {
				return valueErr(RuleNoticeEntity, r.path, "the client: %v", err)
			}
			d.ClientKey = id.Key()
		case rsys == sysObjectRole && rcode == "3":
			doc, err := parseNoticeDataSet(e)
			if err != nil {
				return err
			}
			d.Documents = append(d.Documents, doc)
		default:
			return valueErr(RuleNoticeEntity, role.path, "an entity is the client (%s|1) or a disclosed data set (%s|3)", sysObjectRole, sysObjectRole)
		}
		if err := e.done(); err != nil {
			return err
		}
	}
	if d.ClientKey == "" {
		return valueErr(RuleNoticeEntity, o.at("entity"), "a disclosure notice names the client: an entity with role %s|1", sysObjectRole)
	}
	if len(d.Documents) == 0 {
		return valueErr(RuleNoticeEntity, o.at("entity"), "a disclosure notice names at least one disclosed data set: an entity with role %s|3", sysObjectRole)
	}
	return nil
}

func parseNoticeDataSet(e *object) (archive.DisclosedDocument, error) {
	var doc archive.DisclosedDocument
	if w, err := e.obj("what", false); err != nil {
		return doc, err
	} else if w != nil {
		r, err := w.reference()
		if err != nil {
			return doc, err
		}
		v, ok := strings.CutPrefix(r.value, "urn:oid:")
		if r.system != SystemURI || !ok || oid.Check(v) != nil {
			return doc, valueErr(RuleNoticeEntity, r.path, "a disclosed document set is named by identifier %s|urn:oid:<set id>", SystemURI)
		}
		doc.SetID = v
	}
	desc, err := e.str("description", false)
	if err != nil {
		return doc, err
	}
	if !printable(desc, 500) {
		return doc, valueErr(RuleNoticeEntity, e.at("description"), "a description is printable text of at most 500 characters")
	}
	doc.Description = desc
	details, err := e.objs("detail", false)
	if err != nil {
		return doc, err
	}
	for _, dt := range details {
		typ, err := dt.str("type", true)
		if err != nil {
			return doc, err
		}
		v, err := dt.str("valueString", true)
		if err != nil {
			return doc, err
		}
		if err := dt.done(); err != nil {
			return doc, err
		}
		bad := func(what string) error {
			return valueErr(RuleNoticeEntity, dt.at("valueString"), "%s", what)
		}
		switch typ {
		case detailGeneralType, detailSpecificType:
			if !typeCode.MatchString(v) {
				return doc, bad("a document type is a code of 1.2.246.537.6.1506.201701 (digits)")
			}
			if typ == detailGeneralType {
				if doc.GeneralType != "" {
					return doc, bad("one general type per data set")
				}
				doc.GeneralType = v
			} else {
				if doc.SpecificType != "" {
					return doc, bad("one specific type per data set")
				}
				doc.SpecificType = v
			}
		case detailServiceTask:
			if !serviceTask.MatchString(v) {
				return doc, bad("a service task is a code of 1.2.246.537.6.1221.201601 (digits)")
			}
			doc.ServiceTasks = append(doc.ServiceTasks, v)
		default:
			return doc, valueErr(RuleNoticeEntity, dt.at("type"), "a data set's details are %s, %s and %s, not %q", detailGeneralType, detailSpecificType, detailServiceTask, clip(typ))
		}
	}
	if doc.GeneralType == "" && doc.SpecificType == "" && doc.Description == "" {
		return doc, valueErr(RuleNoticeEntity, e.path, "a disclosed data set has its general type, its specific type or a description")
	}
	if len(doc.ServiceTasks) == 0 {
		return doc, valueErr(RuleNoticeEntity, e.at("detail"), "a disclosed data set names every service task it concerns (detail %s)", detailServiceTask)
	}
	return doc, nil
}

// parseNoticeProvenance reads the Provenance of a notice: it targets the
// AuditEvent and names the reporting professional, the token's.
func parseNoticeProvenance(raw []byte, path, target string, c archive.Caller) error {
	o, err := readObject(raw, path, RuleNoticeElement)
	if err != nil {
		return err
	}
	if _, err := o.str("resourceType", true); err != nil {
		return err
	}
	tg, err := o.one("target", true, RuleNoticeProvenance, "target")
	if err != nil {
		return err
	}
	ref, err := tg.str("reference", true)
	if err != nil {
		return err
	}
	if err := tg.done(); err != nil {
		return err
	}
	if ref != target {
		return valueErr(RuleNoticeProvenance, tg.at("reference"), "the Provenance targets the AuditEvent by its fullUrl")
	}
	if _, err := parseInstant(o, "recorded", RuleNoticeTime); err != nil {
		return err
	}
	ag, err := o.one("agent", true, RuleNoticeProvenance, "agent, the reporting professional")
	if err != nil {
		return err
	}
	if ty, err := ag.obj("type", false); err != nil {
		return err
	} else if ty != nil {
		sys, code, err := ty.concept(RuleNoticeProvenance, "agent type")
		if err != nil {
			return err
		}
		if sys != sysProvenance || code != "author" {
			return valueErr(RuleNoticeProvenance, ty.path, "the reporting professional is the author: %s|author", sysProvenance)
		}
	}
	who, err := ag.obj("who", true)
	if err != nil {
		return err
	}
	r, err := who.reference()
	if err != nil {
		return err
	}
	if (r.typ != "" && r.typ != "Practitioner") || r.system != SystemProfessional || r.value != c.Person {
		return valueErr(RuleNoticeProvenance, r.path, "the reporting professional is the token's, by registration number %s|<sub>", SystemProfessional)
	}
	if obo, err := ag.obj("onBehalfOf", false); err != nil {
		return err
	} else if obo != nil {
		r, err := obo.reference()
		if err != nil {
			return err
		}
		if r.system != SystemURI || r.value != oidURN(c.Organisation) {
			return valueErr(RuleNoticeProvenance, r.path, "the professional reports for the calling system's organisation, %s|urn:oid:%s", SystemURI, c.Organisation)
		}
	}
	if err := ag.done(); err != nil {
		return err
	}
	return o.done()
}

// disclosureNotice is POST /fhir with a disclosure notice: the reported
// disclosure goes into the disclosure log.
func (s *Server) disclosureNotice(w http.ResponseWriter, r *http.Request, c archive.Caller, entries []entry) {
	d, err := parseDisclosureNotice(entries, c)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	ai := 0
	for i, e := range entries {
		if e.typ == "AuditEvent" {
			ai = i
		}
	}
	got, err := s.svc.ReportDisclosure(r.Context(), c, d)
	if err != nil {
		var ae *archive.Error
		if errors.As(err, &ae) && errors.Is(err, archive.ErrInvalid) && len(ae.Problems) > 0 {
			s.fail(w, http.StatusUnprocessableEntity, noticeIssues(ae.Problems, fmt.Sprintf("Bundle.entry[%d].resource", ai))...)
			return
		}
		s.archiveError(w, r, err, fmt.Sprintf("Bundle.entry[%d].resource", ai))
		return
	}
	out := &Bundle{ResourceType: "Bundle", Type: "transaction-response", Timestamp: instant(nowUTC())}
	out.Entry = make([]BundleEntry, len(entries))
	provOutcome, _ := jsonMarshal(&OperationOutcome{ResourceType: "OperationOutcome", Issue: []OperationOutcomeIssue{{
		Severity: "information", Code: "informational", Diagnostics: "the Provenance is recorded with the disclosure-log entry, not stored as a resource",
	}}})
	for i := range entries {
		if i == ai {
			out.Entry[i] = BundleEntry{Response: &BundleResponse{Status: "201 Created", Location: "AuditEvent/" + disclosureID(got.ID), LastModified: instant(got.At)}}
		} else {
			out.Entry[i] = BundleEntry{Response: &BundleResponse{Status: "200 OK", Outcome: provOutcome}}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// noticeIssues names the AuditEvent's elements for the domain's problems
// with a notice.
func noticeIssues(ps problem.List, res string) []OperationOutcomeIssue {
	out := make([]OperationOutcomeIssue, 0, len(ps))
	for _, p := range ps {
		expr := res
		switch head, _, _ := strings.Cut(p.Path, "["); head {
		case "discloser", "recipient":
			expr += ".agent"
		case "client", "documents":
			expr += ".entity"
		case "disclosedAt":
			expr += ".period.start"
		case "ground":
			expr += ".extension"
		}
		out = append(out, issue("business-rule", expr, p.Code, p.Code+": "+p.Message))
	}
	return out
}

// auditTypeOf reads the AuditEvent search's type parameter: the access
// log (rest, the default) or the disclosure log (disclosure).
func auditTypeOf(q url.Values) (disclosure bool, err error) {
	ts := tokens(q["type"])
	if len(ts) > 1 {
		return false, paramErr(RuleQueryCode, "type", "one type: %s|%s (the disclosure log) or %s|rest (the access log)", SystemAuditType, auditDisclosure, sysAuditEventType)
	}
	if len(ts) == 0 {
		return false, nil
	}
	switch ts[0] {
	case [2]string{"", auditDisclosure}, [2]string{SystemAuditType, auditDisclosure}, [2]string{sysDICOM, dcmExport}:
		return true, nil
	case [2]string{"", "rest"}, [2]string{sysAuditEventType, "rest"}:
		return false, nil
	}
	return false, paramErr(RuleQueryCode, "type", "%s|%s (the disclosure log) or %s|rest (the access log)", SystemAuditType, auditDisclosure, sysAuditEventType)
}

// disclosureEvents is GET /fhir/AuditEvent?type=disclosure[&patient.identifier=...]:
// the disclosure-log entries that the caller's organisation disclosed,
// received or reported, newest first; with a client, that client's only
// (a client's log request), without, all of them (the controller's own
// log, for its data protection officer).
func (s *Server) disclosureEvents(w http.ResponseWriter, r *http.Request, c archive.Caller, q url.Values) {
	var key string
	var err error
	if q.Has("patient.identifier") {
		if key, err = clientKey(q, "patient.identifier"); err != nil {
			s.badRequest(w, err)
			return
		}
	}
	limit, err := pageSize(q)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	dq := archive.DisclosureQuery{ClientKey: key, Limit: limit + 1}
	if dq.From, dq.To, err = dateRange(q, "date"); err != nil {
		s.badRequest(w, err)
		return
	}
	if dq.Before, err = logCursor(q); err != nil {
		s.badRequest(w, err)
		return
	}
	entries, err := s.svc.Disclosures(r.Context(), c, dq)
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	b, err := s.logBundle(q, len(entries), limit, func(i int) (int64, string, any) {
		d := entries[i]
		return d.ID, disclosureID(d.ID), disclosureEvent(d)
	})
	if err != nil {
		s.archiveError(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, b)
}
