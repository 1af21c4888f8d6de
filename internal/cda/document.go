// Package cda reads Kanta social welfare CDA R2 documents: the HL7 header
// with the Finnish social welfare extension (hl7fi:localSocialHeader) and the
// nonXMLBody holding the display form and the structured form.
//
// Read extracts every header field into one typed record and checks the
// archive's structural rules, reporting each violation as a problem with a
// stable rule code and the element path. Signatures are checked by package
// xmldsig over the same parsed tree, so that what is verified is exactly
// what is read.
package cda

import (
	"time"

	"github.com/beevik/etree"

	"github.com/arkisto/arkisto/internal/formjson"
)

// Namespaces.
const (
	NSHL7   = "urn:hl7-org:v3"
	NSHL7FI = "urn:hl7finland"
	NSDSig  = "http://www.w3.org/2000/09/xmldsig#"
	NSXHTML = "http://www.w3.org/1999/xhtml"
)

// Media types of the body parts.
const (
	MediaXHTML = "application/xhtml+xml"
	MediaPDF   = "application/pdf"
	MediaJSON  = "application/json"
)

// Code is a coded value (HL7 CV/CE). NullFlavor is set when the element
// carries nullFlavor instead of a code.
type Code struct {
	Code       string `json:"code,omitempty"`
	System     string `json:"system,omitempty"`
	SystemName string `json:"systemName,omitempty"`
	Display    string `json:"display,omitempty"`
	NullFlavor string `json:"nullFlavor,omitempty"`
}

// Present reports whether a code value is given.
func (c Code) Present() bool { return c.Code != "" }

// ID is an instance identifier (HL7 II).
type ID struct {
	Root       string `json:"root,omitempty"`
	Extension  string `json:"extension,omitempty"`
	NullFlavor string `json:"nullFlavor,omitempty"`
}

// Organisation is an organisation or unit: an OID and a name.
type Organisation struct {
	OID  string `json:"oid,omitempty"`
	Name string `json:"name,omitempty"`
}

// Name is a person's name.
type Name struct {
	Given    []string `json:"given,omitempty"`
	CallName string   `json:"callName,omitempty"` // given with qualifier CL
	Family   string   `json:"family,omitempty"`
}

// Client is the record target.
type Client struct {
	ID        ID     `json:"id"`
	Name      Name   `json:"name"`
	Gender    Code   `json:"gender,omitempty"`
	BirthTime string `json:"birthTime,omitempty"` // HL7 TS as written (a date)
}

// Author is the professional who wrote the document.
type Author struct {
	ID   ID     `json:"id"` // root 1.2.246.537.26: registration number
	Name Name   `json:"name,omitempty"`
	Time string `json:"time,omitempty"`
}

// Parent identifies the version a replacement (RPLC) supersedes.
type Parent struct {
	ID      string `json:"id"`
	SetID   string `json:"setId"`
	Version int    `json:"version"`
}

// Case is the matter the document belongs to (componentOf/encompassingEncounter).
type Case struct {
	ID          string       `json:"id,omitempty"`
	Opened      *time.Time   `json:"opened,omitempty"`
	Closed      *time.Time   `json:"closed,omitempty"`
	ServiceUnit Organisation `json:"serviceUnit,omitempty"`
	Responsible Organisation `json:"responsible,omitempty"`
}

// Software names the producing client information system.
type Software struct {
	Moderator string `json:"moderator,omitempty"`
	Product   string `json:"product,omitempty"`
	Version   string `json:"version,omitempty"`
}

// ServiceProcess is the phase of the social welfare service process.
type ServiceProcess struct {
	Type string `json:"type,omitempty"`
	Code Code   `json:"code,omitempty"`
}

// SignerInfo is the header's own account of a professional's signature
// (hl7fi:signature), separate from the cryptographic signatureCollection.
type SignerInfo struct {
	RegistrationNumber string `json:"registrationNumber,omitempty"`
	Name               Name   `json:"name,omitempty"`
	AuthMethod         Code   `json:"authMethod,omitempty"`
	Time               string `json:"time,omitempty"`
}

// SignatureEntry is one hl7fi:signature of the signatureCollection as
// written; package xmldsig says whether it is valid.
type SignatureEntry struct {
	ID          string    `json:"id,omitempty"`
	Type        Code      `json:"type"`
	TimestampID string    `json:"timestampId,omitempty"`
	Timestamp   time.Time `json:"timestamp"`

	element *etree.Element // the hl7fi:signature element
}

// Element returns the hl7fi:signature element.
func (s *SignatureEntry) Element() *etree.Element { return s.element }

// Header is the archive's metadata record of a document: every header field
// the archive reads, typed.
type Header struct {
	ID              string    `json:"id"`
	SetID           string    `json:"setId"`
	Version         int       `json:"version"`
	GeneralType     Code      `json:"generalType"`
	EffectiveTime   time.Time `json:"effectiveTime"`
	CreationTime    time.Time `json:"creationTime"`
	Confidentiality Code      `json:"confidentiality"`
	Language        string    `json:"language"`

	Client             Client       `json:"client"`
	Author             Author       `json:"author"`
	Custodian          Organisation `json:"custodian"`
	GuardianDisclosure Code         `json:"guardianDisclosure,omitempty"`
	Replaces           *Parent      `json:"replaces,omitempty"`
	Case               Case         `json:"case,omitempty"`

	DocumentGroup        Code             `json:"documentGroup"`
	SpecificType         Code             `json:"specificType,omitempty"`
	DisplayFormat        Code             `json:"displayFormat,omitempty"`
	StructuredFormat     Code             `json:"structuredFormat,omitempty"`
	Software             Software         `json:"software,omitempty"`
	RecordStatus         Code             `json:"recordStatus,omitempty"`
	ServiceTask          Code             `json:"serviceTask,omitempty"`
	Register             Code             `json:"register"`
	Organiser            Organisation     `json:"organiser,omitempty"` // outsourcingServiceCustomer
	RetentionClass       Code             `json:"retentionClass"`
	SpecialContent       Code             `json:"specialContent,omitempty"`
	ContentSpecification string           `json:"contentSpecification,omitempty"`
	ClientRelationshipID string           `json:"clientRelationshipId,omitempty"`
	ServiceProcess       *ServiceProcess  `json:"serviceProcess,omitempty"`
	HideReason           Code             `json:"hideReason,omitempty"`     // inaccessibleArgument
	HideReasonText       string           `json:"hideReasonText,omitempty"` // authorizationRestrictionArgument
	CitizenRelease       *time.Time       `json:"citizenRelease,omitempty"` // releaseDateForPatientViewing: when a delay ends (a date alone: its start in Finland)
	ReplacementReason    Code             `json:"replacementReason,omitempty"`
	Signers              []SignerInfo     `json:"signers,omitempty"`
	Signatures           []SignatureEntry `json:"signatures"`
}

// Body holds the decoded body parts.
type Body struct {
	DisplayMediaType    string `json:"displayMediaType"`
	Display             []byte `json:"-"`
	StructuredMediaType string `json:"structuredMediaType,omitempty"`
	Structured          []byte `json:"-"`
}

// Document is a read document: the metadata record, the decoded body and the
// parsed tree it came from.
type Document struct {
	Header
	Body Body

	tree        *etree.Document
	bodyElement *etree.Element
	form        *formjson.Tape
}

// Tree returns the parsed XML tree.
func (d *Document) Tree() *etree.Document { return d.tree }

// BodyElement returns the nonXMLBody element the body was read from; a
// signature must reference this very element.
func (d *Document) BodyElement() *etree.Element { return d.bodyElement }

// StructuredForm returns the structured form as read for its check, for
// the steps that decode it; nil when it was left to encoding/json or the
// body's Structured is no longer the bytes read.
func (d *Document) StructuredForm() *formjson.Tape {
	if d.form == nil || !d.form.Of(d.Body.Structured) {
		return nil
	}
	return d.form
}
