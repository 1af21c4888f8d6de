package archive

import (
	"time"

	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/oid"
)

// Purposes of use a caller names (the token's purpose claim): the
// controller's own use of its register (usage situation 1, which covers a
// provider's register access right), and the two ways another controller
// receives documents.
const (
	PurposeOwnRegister = codes.UsageOwnRegister
	PurposeDisclosure  = string(consent.PurposeDisclosure)
	PurposeBroadSearch = string(consent.PurposeBroadSearch)
)

// DisclosureSource is where a disclosure-log entry comes from.
type DisclosureSource string

const (
	// SourceArchive: the archive disclosed documents to another controller.
	SourceArchive DisclosureSource = "archive"
	// SourceNotice: a controller reported a disclosure it made outside the
	// archive (luovutusilmoitus).
	SourceNotice DisclosureSource = "notice"
)

// Grounds of a disclosure.
const (
	GroundConsent     = "consent"
	GroundBroadSearch = "broad-search"
	GroundNotice      = "notice" // the reporting controller's stated ground
)

// Disclosure is one disclosure-log entry: one disclosing controller, one
// recipient, one client, the documents (or data sets) disclosed, and the
// ground.
type Disclosure struct {
	ID int64 `json:"id"`
	// At is when the entry was logged; DisclosedAt when the disclosure
	// happened (the same for the archive's own disclosures, the reported
	// time for notices).
	At          time.Time        `json:"at"`
	DisclosedAt time.Time        `json:"disclosedAt"`
	Source      DisclosureSource `json:"source"`
	ClientKey   string           `json:"clientKey"`
	// Discloser is the disclosing controller (OID).
	Discloser string `json:"discloser"`
	// Recipient is the receiving controller (OID); for a notice, the
	// recipient as reported (an OID or another identifier).
	Recipient     string `json:"recipient"`
	RecipientName string `json:"recipientName,omitempty"`
	// Caller is who received the documents through the archive (system,
	// professional, unit), or who reported the notice.
	Caller    Caller              `json:"caller"`
	Documents []DisclosedDocument `json:"documents"`
	// GroundKind is consent, broad-search or notice; Ground is the
	// consent's id, the broad search's justification (code: text), or the
	// ground a notice states.
	GroundKind string `json:"groundKind"`
	Ground     string `json:"ground"`
	// NoticeID is the reporter's own id of a notice (its AuditEvent id).
	NoticeID string `json:"noticeId,omitempty"`
}

// DisclosedDocument is one disclosed document, or for a notice one data
// set, with the types and service tasks the client's log shows.
type DisclosedDocument struct {
	ID           string   `json:"id,omitempty"`
	SetID        string   `json:"setId,omitempty"`
	GeneralType  string   `json:"generalType,omitempty"`
	SpecificType string   `json:"specificType,omitempty"`
	ServiceTasks []string `json:"serviceTasks,omitempty"`
	Description  string   `json:"description,omitempty"`
}

// DisclosureQuery selects disclosure-log entries. Empty fields do not
// restrict.
type DisclosureQuery struct {
	ClientKey string
	// Organisation restricts to entries it disclosed or received.
	Organisation string
	From, To     time.Time // At in [From, To)
	Limit        int       // default 100
	Before       int64     // entry id cursor: entries with a smaller id
}

// DisclosureScope adds to a search the documents of one client in other
// controllers' registers that may be disclosed to the caller. The store
// applies the exported lists; Allows re-decides each record with the
// consent rules.
type DisclosureScope struct {
	ClientKey string
	// Groups the documents must be in; empty: any (a broad search).
	Groups []string
	// Documents of these sets, these service tasks, and in registers of
	// these organisations (1.2.246.10.<business id>, or any controller
	// under one) are withheld. The recipient's own organisation is always
	// among the last.
	ExcludeSetIDs        []string
	ExcludeServiceTasks  []string
	ExcludeOrganisations []string

	State   consent.State
	Request consent.Request
}

// NewDisclosureScope is the disclosure scope of a request under the
// client's will in force, or nil when nothing may be disclosed.
func NewDisclosureScope(clientKey string, s consent.State, r consent.Request) *DisclosureScope {
	if clientKey == "" || !r.RecipientRelationship || oid.Organisation(r.Recipient) == "" {
		return nil
	}
	ds := &DisclosureScope{ClientKey: clientKey, State: s, Request: r, ExcludeOrganisations: []string{oid.Organisation(r.Recipient)}}
	switch r.Purpose {
	case consent.PurposeBroadSearch:
		if consent.CheckJustification(r.Justification) != "" {
			return nil
		}
		return ds
	case consent.PurposeDisclosure:
	default:
		return nil
	}
	if !s.Informed || s.Consent == nil {
		return nil
	}
	ds.Groups = []string{codes.GroupClientRelationship, codes.GroupLaterPhase}
	for _, p := range s.Prohibitions {
		switch p.Target.Kind {
		case consent.TargetDocument:
			ds.ExcludeSetIDs = append(ds.ExcludeSetIDs, p.Target.Value)
		case consent.TargetServiceTask:
			ds.ExcludeServiceTasks = append(ds.ExcludeServiceTasks, p.Target.Value)
		case consent.TargetController:
			if o := oid.Organisation(p.Target.Value); o != "" {
				ds.ExcludeOrganisations = append(ds.ExcludeOrganisations, o)
			}
		}
	}
	return ds
}

// Decide is the consent rules' decision on one record.
func (ds *DisclosureScope) Decide(r *Record) consent.Decision {
	if r.ClientKey() != ds.ClientKey {
		return consent.Decision{Reason: "another client's document"}
	}
	return consent.Decide(ds.State, ds.Request, ConsentDocument(r))
}

// ConsentDocument is what the consent rules know of a record.
func ConsentDocument(r *Record) consent.Document {
	return consent.Document{
		SetID:       r.Header.SetID,
		Controller:  r.ControllerOID(),
		ServiceTask: r.Header.ServiceTask.Code,
		Group:       r.Header.DocumentGroup.Code,
		Nullified:   r.Status == StatusNullified,
	}
}
