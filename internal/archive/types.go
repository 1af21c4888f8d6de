// Package archive is the domain core: archiving (new documents and
// replacements), reading, searching, version history and nullification,
// each decided by one access policy and logged: a change in the same
// transaction as the change, a disclosure durably before anything is
// disclosed. Every door (FHIR API, message
// endpoint, user interfaces, CLI) calls this package and decides nothing
// itself.
package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/problem"
)

// Status of an archived version.
type Status string

const (
	StatusCurrent    Status = "current"
	StatusSuperseded Status = "superseded"
	StatusNullified  Status = "nullified"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusCurrent || s == StatusSuperseded || s == StatusNullified
}

// Caller is who acts: the calling client information system, its
// organisation, and the professional using it, with the purpose of use.
type Caller struct {
	System       string `json:"system"`               // registered system name
	Organisation string `json:"organisation"`         // organisation OID
	Person       string `json:"person,omitempty"`     // professional registration number
	PersonName   string `json:"personName,omitempty"` // for the client's view of the log
	Unit         string `json:"unit,omitempty"`       // service unit OID
	Purpose      string `json:"purpose"`              // usage situation code (1.2.246.537.6.1289.201901), disclosure or broad-search
	// ActingFor is the child's personal identity code when a guardian acts
	// for a minor in the citizen view (PurposeGuardian); Person is then
	// the guardian.
	ActingFor string `json:"actingFor,omitempty"`
	// A broad search's justification: a code of consent.Justifications
	// and the professional's words.
	Justification     string `json:"justification,omitempty"`
	JustificationText string `json:"justificationText,omitempty"`
	// Request is what the door saw of the request the caller made: the
	// stores log it as the request of every entry made for the caller that
	// names none of its own (AccessEntry.Request). Nil for a caller with no
	// network request (the command line). Never part of a stored caller.
	Request *Request `json:"-"`
}

// Request is the network side of an access-log entry (IHE BALP): the
// addresses of both ends, the IHE transaction and the raw query. The query
// may name a client by identity code: it belongs in the access log, which
// only those allowed to see the client's log read, and never in an
// operator's log.
type Request struct {
	ClientAddress string `json:"clientAddress,omitempty"` // the caller's address as the connection showed it (host:port)
	ServerAddress string `json:"serverAddress,omitempty"` // the archive's address that took the connection
	Transaction   string `json:"transaction,omitempty"`   // the IHE transaction, e.g. ITI-67, when the request was one
	Query         string `json:"query,omitempty"`         // the raw search request (the URL query or the form body)
}

func (c Caller) check() error {
	if c.InCitizenView() {
		return c.checkCitizen()
	}
	if c.System == "" || c.Organisation == "" {
		return &Error{Kind: ErrForbidden, Message: "the caller must name its system and organisation"}
	}
	return nil
}

// Nullification records why and by whom a version was nullified.
type Nullification struct {
	ReasonCode string    `json:"reasonCode"`
	ReasonText string    `json:"reasonText"`
	By         Caller    `json:"by"`
	At         time.Time `json:"at"`
}

// SignatureSummary is what the archive keeps of each verified signature.
type SignatureSummary struct {
	Index      int       `json:"index"`
	ID         string    `json:"id,omitempty"`
	Type       string    `json:"type"` // professional or system
	Timestamp  time.Time `json:"timestamp"`
	Algorithm  string    `json:"algorithm"`
	Form       string    `json:"form"` // as-received or whitespace-stripped
	SignerID   string    `json:"signerId"`
	SignerName string    `json:"signerName"`
	CertSHA256 string    `json:"certSha256"`
}

// Record is an archived version: the metadata read from its header and the
// archive's own facts about it.
type Record struct {
	Header cda.Header `json:"header"`
	// Controller is the controller whose register holds the version now:
	// the custodian, unless the register has been transferred since.
	Controller    string             `json:"controller"`
	Status        Status             `json:"status"`
	SHA256        string             `json:"sha256"` // of the bytes exactly as received
	Size          int64              `json:"size"`
	ReceivedAt    time.Time          `json:"receivedAt"`
	Submitter     Caller             `json:"submitter"`
	Signatures    []SignatureSummary `json:"signatures"`
	DisplayType   string             `json:"displayMediaType"`
	HasStructured bool               `json:"hasStructured"`
	Nullification *Nullification     `json:"nullification,omitempty"`
	// SocialServices are the social service codes the structured form
	// names (SocialServices), kept for the citizen view's hidden
	// categories. Versions archived before it was kept have none.
	SocialServices []string `json:"socialServices,omitempty"`
	// CaseWorkers are the personal case workers the structured form names
	// (CaseWorkers), for the citizen view.
	CaseWorkers []CaseWorker `json:"caseWorkers,omitempty"`
	// Updated is when the version's metadata last changed: archived,
	// superseded, nullified or moved by a register transfer. The store
	// keeps it beside the record; zero means ReceivedAt.
	Updated time.Time `json:"-"`
	// PatientID is the client's FHIR Patient id (archive.PatientID), kept
	// beside the record so that the archive can find the client of an id.
	PatientID string `json:"-"`
	// Source is the metadata the submitting system sent with the version
	// beyond what the document says, kept as sent and returned (nil: none).
	Source *SourceMetadata `json:"source,omitempty"`
}

// SourceMetadata is what a door's protocol carried with a document and
// the archive keeps as the sender gave it: IHE MHD's DocumentReference
// metadata of the Document Source. The door checks what of it can be
// checked against the document before it is kept; the rest is the
// sender's statement, returned as such. It is part of the stored record.
type SourceMetadata struct {
	// Date is when the sender made its reference to the document (FHIR
	// DocumentReference.date); nil when not given.
	Date *time.Time `json:"date,omitempty"`
	// Identifiers are the sender's identifiers of its entry (MHD: the
	// entryUUID), in the order sent.
	Identifiers []SourceIdentifier `json:"identifiers,omitempty"`
	// SecurityLabels are the security labels sent, each a concept.
	SecurityLabels []SourceConcept `json:"securityLabels,omitempty"`
	// Format is the format code sent (MHD formatCode).
	Format *SourceCoding `json:"format,omitempty"`
	// Hash is the attachment hash sent: base64 of the SHA-1 of the
	// document's bytes, checked against them.
	Hash string `json:"hash,omitempty"`
}

// SourceIdentifier is an identifier as sent.
type SourceIdentifier struct {
	Use    string `json:"use,omitempty"`
	System string `json:"system,omitempty"`
	Value  string `json:"value"`
}

// SourceCoding is a code as sent.
type SourceCoding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// SourceConcept is a coded concept as sent.
type SourceConcept struct {
	Coding []SourceCoding `json:"coding,omitempty"`
	Text   string         `json:"text,omitempty"`
}

// LastUpdated is when the version's metadata last changed.
func (r *Record) LastUpdated() time.Time {
	if r.Updated.After(r.ReceivedAt) {
		return r.Updated
	}
	return r.ReceivedAt
}

// ReferenceDate is when the reference to the version was made (FHIR
// DocumentReference.date): when the sender says it made it, or else when
// the archive received the version.
func (r *Record) ReferenceDate() time.Time {
	if r.Source != nil && r.Source.Date != nil {
		return *r.Source.Date
	}
	return r.ReceivedAt
}

// ControllerOID is the controller whose register holds the version now.
func (r *Record) ControllerOID() string {
	if r.Controller != "" {
		return r.Controller
	}
	return r.Header.Custodian.OID
}

// ClientKey is the storage key of the record's client.
func (r *Record) ClientKey() string { return ClientKey(r.Header.Client.ID) }

// ClientKey is "root|extension" of a client id.
func ClientKey(id cda.ID) string { return hetu.ClientID{Root: id.Root, Extension: id.Extension}.Key() }

// Action is what an access-log entry records.
type Action string

const (
	ActionArchive  Action = "archive"
	ActionRead     Action = "read"
	ActionSearch   Action = "search"
	ActionHistory  Action = "history"
	ActionNullify  Action = "nullify"
	ActionLogRead  Action = "log-read"
	ActionTransfer Action = "register-transfer"
	// Will expressions: recorded, read, withdrawn.
	ActionWillRecord   Action = "will-record"
	ActionWillRead     Action = "will-read"
	ActionWillWithdraw Action = "will-withdraw"
	// ActionDisclosureNotice: a disclosure made outside the archive reported.
	ActionDisclosureNotice Action = "disclosure-notice"
	// ActionDisclosureRead: the disclosure log read.
	ActionDisclosureRead Action = "disclosure-read"
)

// Outcome of a logged action.
type Outcome string

const (
	OutcomeAllowed Outcome = "allowed"
	OutcomeRefused Outcome = "refused"
)

// AccessEntry is one access-log entry: who, when, which client, which
// documents, what action, allowed or refused and on what grounds.
type AccessEntry struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Caller    Caller    `json:"caller"`
	Action    Action    `json:"action"`
	ClientKey string    `json:"clientKey,omitempty"`
	Documents []string  `json:"documents,omitempty"`
	// Custodian is the controller whose register the documents belong to.
	Custodian string  `json:"custodian,omitempty"`
	Outcome   Outcome `json:"outcome"`
	Reason    string  `json:"reason"`            // grounds of an allowed action, or why it was refused
	Details   string  `json:"details,omitempty"` // e.g. the search parameters
	// Request is the request the entry is about: when nil on writing, the
	// caller's (Caller.Request).
	Request *Request `json:"request,omitempty"`
}

// Query selects documents. Empty fields do not restrict; a field with
// several values matches any of them. Results are newest first by
// effective time.
type Query struct {
	ClientKey string `json:"client,omitempty"`
	// PatientID names the client by its FHIR Patient id (PatientID) instead
	// of ClientKey; the search resolves it, and finds nothing for an id the
	// archive did not give.
	PatientID          string   `json:"patient,omitempty"`
	Registers          []string `json:"register,omitempty"`
	Custodians         []string `json:"custodian,omitempty"`
	ServiceTasks       []string `json:"serviceTask,omitempty"`
	GeneralTypes       []string `json:"generalType,omitempty"`
	SpecificTypes      []string `json:"specificType,omitempty"`
	DocumentGroups     []string `json:"documentGroup,omitempty"`
	Cases              []string `json:"case,omitempty"`
	ClientRelationship []string `json:"clientRelationship,omitempty"`
	ServiceUnits       []string `json:"serviceUnit,omitempty"`
	SetIDs             []string `json:"setId,omitempty"`
	ServiceProcesses   []string `json:"serviceProcess,omitempty"`
	DocumentIDs        []string `json:"id,omitempty"`
	// SubmitterSystems and SubmitterOrganisations select by who archived
	// the version: the system, or its organisation (a provider's OID).
	SubmitterSystems       []string `json:"submitterSystem,omitempty"`
	SubmitterOrganisations []string `json:"submitterOrganisation,omitempty"`
	// PeriodFrom and PeriodTo select documents whose case period overlaps
	// [PeriodFrom, PeriodTo).
	PeriodFrom time.Time `json:"periodFrom,omitempty"`
	PeriodTo   time.Time `json:"periodTo,omitempty"`
	From       time.Time `json:"from,omitempty"` // effective time >= From
	To         time.Time `json:"to,omitempty"`   // effective time < To
	// UpdatedFrom and UpdatedTo select by when the version's metadata last
	// changed (Record.LastUpdated): [UpdatedFrom, UpdatedTo).
	UpdatedFrom time.Time `json:"updatedFrom,omitempty"`
	UpdatedTo   time.Time `json:"updatedTo,omitempty"`
	// ReferencedFrom and ReferencedTo select by when the reference to the
	// version was made (Record.ReferenceDate): [ReferencedFrom, ReferencedTo).
	ReferencedFrom time.Time `json:"referencedFrom,omitempty"`
	ReferencedTo   time.Time `json:"referencedTo,omitempty"`
	// AuthorFamily and AuthorGiven select by the author's name: the family
	// name, or any given name, starts with one of the values, compared as
	// FoldName folds them (FHIR string search).
	AuthorFamily []string `json:"authorFamily,omitempty"`
	AuthorGiven  []string `json:"authorGiven,omitempty"`
	// Confidentialities and DisplayFormats select by the confidentiality
	// code and the display form format code.
	Confidentialities []string `json:"confidentiality,omitempty"`
	DisplayFormats    []string `json:"displayFormat,omitempty"`
	// CountOnly asks for Page.Total alone: no records are read, and none
	// is disclosed.
	CountOnly bool `json:"countOnly,omitempty"`
	// Statuses; empty means current and superseded (nullified documents
	// are found only when asked for).
	Statuses []Status `json:"status,omitempty"`
	Limit    int      `json:"limit,omitempty"` // default 50, at most 500
	Cursor   string   `json:"cursor,omitempty"`
}

// describe renders the query's set fields as JSON for the access log.
func (q Query) describe() string {
	m := map[string]any{}
	add := func(k string, v []string) {
		if len(v) > 0 {
			m[k] = v
		}
	}
	if q.ClientKey != "" {
		m["client"] = q.ClientKey
	}
	if q.PatientID != "" {
		m["patient"] = q.PatientID
	}
	add("register", q.Registers)
	add("custodian", q.Custodians)
	add("serviceTask", q.ServiceTasks)
	add("generalType", q.GeneralTypes)
	add("specificType", q.SpecificTypes)
	add("documentGroup", q.DocumentGroups)
	add("case", q.Cases)
	add("clientRelationship", q.ClientRelationship)
	add("serviceUnit", q.ServiceUnits)
	add("setId", q.SetIDs)
	add("serviceProcess", q.ServiceProcesses)
	add("id", q.DocumentIDs)
	add("submitterSystem", q.SubmitterSystems)
	add("submitterOrganisation", q.SubmitterOrganisations)
	add("authorFamily", q.AuthorFamily)
	add("authorGiven", q.AuthorGiven)
	add("confidentiality", q.Confidentialities)
	add("displayFormat", q.DisplayFormats)
	if q.CountOnly {
		m["countOnly"] = true
	}
	for k, t := range map[string]time.Time{"from": q.From, "to": q.To, "periodFrom": q.PeriodFrom, "periodTo": q.PeriodTo, "updatedFrom": q.UpdatedFrom, "updatedTo": q.UpdatedTo, "referencedFrom": q.ReferencedFrom, "referencedTo": q.ReferencedTo} {
		if !t.IsZero() {
			m[k] = t.UTC().Format(time.RFC3339Nano)
		}
	}
	if len(q.Statuses) > 0 {
		m["status"] = q.Statuses
	}
	if q.Cursor != "" {
		m["cursor"] = q.Cursor
	}
	m["limit"] = q.Limit
	b, _ := json.Marshal(m)
	return string(b)
}

// Page is a page of search results; Next is the cursor of the next page,
// empty on the last.
type Page struct {
	Records []*Record
	Next    string
	// Total is the exact number of documents the search finds for the
	// caller, over all pages.
	Total int
}

// Scope restricts a search to what a caller may see. It is made by the
// Policy and applied by the store, so that paging never leaks counts of
// documents the caller may not see.
type Scope struct {
	Controllers []string // documents in these controllers' registers
	// Grants add documents of one client in another controller's
	// register: those of the granted service tasks, and the client
	// relationship document that made the grant. Never nullified ones.
	Grants []Grant
	// Disclosure adds the documents of one client in other controllers'
	// registers that may be disclosed to the caller; nil: none.
	Disclosure *DisclosureScope
}

// Allows reports whether a record lies within the scope.
func (s Scope) Allows(r *Record) bool {
	return s.Own(r) || s.Disclosed(r)
}

// Own reports whether the record is the caller's own use: in its
// registers, or under a register access right.
func (s Scope) Own(r *Record) bool {
	controller := r.ControllerOID()
	for _, c := range s.Controllers {
		if c == controller {
			return true
		}
	}
	if r.Status == StatusNullified {
		return false
	}
	for _, g := range s.Grants {
		if g.ClientKey == r.ClientKey() && g.Organiser == controller &&
			(g.ServiceTask == r.Header.ServiceTask.Code || (r.Header.DocumentGroup.Code == "1" && r.Header.ClientRelationshipID == g.RelationshipID)) {
			return true
		}
	}
	return false
}

// Disclosed reports whether the record is not the caller's own and may be
// disclosed to it.
func (s Scope) Disclosed(r *Record) bool {
	return s.Disclosure != nil && !s.Own(r) && s.Disclosure.Decide(r).Allowed
}

// Predecessor is a controller whose register passed to another, and when
// the transfer ended (zero while it runs).
type Predecessor struct {
	Controller string
	Until      time.Time
}

// AccessLogQuery selects access-log entries of one client, or with an
// Organisation, of every client (a log export).
type AccessLogQuery struct {
	ClientKey string
	// Organisation restricts to the entries an organisation may see: those
	// about its registers (whoever acted, allowed or refused), and the
	// allowed actions of its own systems in other registers. A refused
	// attempt on another controller's register belongs to that controller
	// alone, so that it tells the caller nothing of what it probed.
	Organisation string
	// Predecessors are controllers whose registers were transferred to
	// Organisation: their entries up to the end of the transfer are about
	// registers that are now Organisation's.
	Predecessors []Predecessor
	// From and To select entries with At in [From, To); zero: open.
	From, To time.Time
	Limit    int
	Before   int64 // entry id cursor: entries with a smaller id
	// Filters of an audit search (FHIR AuditEvent): empty ones do not
	// restrict. ID selects one entry.
	ID           int64
	Actions      []Action
	Transactions []string // Request.Transaction
	Outcome      Outcome
	Person       string // Caller.Person: the professional
	System       string // Caller.System: the acting system
	Document     string // entries naming this document version
}

// Errors. Match with errors.Is; *Error carries the details.
var (
	ErrInvalid   = errors.New("invalid")
	ErrForbidden = errors.New("forbidden")
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")
)

// Error is a refusal with a message fit for the caller and, for invalid
// input, the field-level problems.
type Error struct {
	Kind     error
	Message  string
	Problems problem.List
	// Index is the document at fault in a multi-document submission.
	Index int
	// Retry marks a conflict with a concurrent transaction, which a new
	// attempt may not meet (a store's unique-key or serialization failure).
	Retry bool
	// Inspection marks problems Inspect found: they are in the document's
	// content, and a door names the element that carried it.
	Inspection bool
	// cause is a door's own error that refused the submission (an
	// Agreement's), for errors.As.
	cause error
	// probed are archived versions the refused request touched without a
	// right to know of them: the caller is told nothing of them, and the
	// refusal is logged for their controllers.
	probed []probe
}

// probe is a refused touch of a version the caller may not know of.
type probe struct {
	clientKey, controller, doc, reason string
}

// hidden refuses a request about a version the caller may not read with
// err, which must read exactly as the answer for a version that does not
// exist, and keeps the real grounds for the controller's log.
func hidden(err *Error, r *Record, reason string) *Error {
	err.probed = append(err.probed, probe{clientKey: r.ClientKey(), controller: r.ControllerOID(), doc: r.Header.ID, reason: reason})
	return err
}

func (e *Error) Error() string {
	if len(e.Problems) > 0 {
		return fmt.Sprintf("%v: %s: %v", e.Kind, e.Message, e.Problems)
	}
	return fmt.Sprintf("%v: %s", e.Kind, e.Message)
}

func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Kind, e.cause}
	}
	return []error{e.Kind}
}

func errf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}
