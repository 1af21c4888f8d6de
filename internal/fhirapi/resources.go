// Package fhirapi is the FHIR R4 door: IHE MHD document provide (ITI-65),
// find (ITI-67) and retrieve (ITI-68), reads, version history,
// nullification, and the access log as IHE BALP AuditEvents. It translates
// HTTP to calls of the archive's domain service and decides nothing about
// access itself.
package fhirapi

import "encoding/json"

// The FHIR resources the door speaks, as plain types with only the
// elements it uses.

type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

type Identifier struct {
	Use    string `json:"use,omitempty"`
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

type Reference struct {
	Reference  string      `json:"reference,omitempty"`
	Type       string      `json:"type,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

type Meta struct {
	VersionID   string   `json:"versionId,omitempty"`
	LastUpdated string   `json:"lastUpdated,omitempty"`
	Profile     []string `json:"profile,omitempty"`
}

type Extension struct {
	URL             string      `json:"url"`
	Extension       []Extension `json:"extension,omitempty"` // a complex extension's parts
	ValueString     string      `json:"valueString,omitempty"`
	ValueCode       string      `json:"valueCode,omitempty"`
	ValueReference  *Reference  `json:"valueReference,omitempty"`
	ValueCoding     *Coding     `json:"valueCoding,omitempty"`
	ValueIdentifier *Identifier `json:"valueIdentifier,omitempty"`
	ValueInteger    *int        `json:"valueInteger,omitempty"`
	ValueDateTime   string      `json:"valueDateTime,omitempty"`
	// ValueCodeableConcept: MHD's ihe-designationType.
	ValueCodeableConcept *CodeableConcept `json:"valueCodeableConcept,omitempty"`
}

type Attachment struct {
	ContentType string `json:"contentType,omitempty"`
	Language    string `json:"language,omitempty"`
	Data        string `json:"data,omitempty"`
	URL         string `json:"url,omitempty"`
	Size        *int64 `json:"size,omitempty"` // a pointer: a size given as 0 is given
	Hash        string `json:"hash,omitempty"` // base64 of the SHA-1 of the data (FHIR R4)
	Title       string `json:"title,omitempty"`
	Creation    string `json:"creation,omitempty"`
}

type DocumentReferenceContent struct {
	Attachment Attachment `json:"attachment"`
	Format     *Coding    `json:"format,omitempty"`
}

type DocumentReferenceRelatesTo struct {
	Code   string    `json:"code"`
	Target Reference `json:"target"`
}

type DocumentReferenceContext struct {
	Event           []CodeableConcept `json:"event,omitempty"`
	Period          *Period           `json:"period,omitempty"`
	FacilityType    *CodeableConcept  `json:"facilityType,omitempty"`
	PracticeSetting *CodeableConcept  `json:"practiceSetting,omitempty"`
	Related         []Reference       `json:"related,omitempty"`
}

type DocumentReference struct {
	ResourceType     string            `json:"resourceType"`
	ID               string            `json:"id,omitempty"`
	Meta             *Meta             `json:"meta,omitempty"`
	Extension        []Extension       `json:"extension,omitempty"`
	MasterIdentifier *Identifier       `json:"masterIdentifier,omitempty"`
	Identifier       []Identifier      `json:"identifier,omitempty"`
	Status           string            `json:"status,omitempty"`
	DocStatus        string            `json:"docStatus,omitempty"`
	Type             *CodeableConcept  `json:"type,omitempty"`
	Category         []CodeableConcept `json:"category,omitempty"`
	Subject          *Reference        `json:"subject,omitempty"`
	Date             string            `json:"date,omitempty"`
	// Contained resources of a submitted DocumentReference: a Patient the
	// subject references as #id. The archive serves none.
	Contained     []json.RawMessage            `json:"contained,omitempty"`
	Author        []Reference                  `json:"author,omitempty"`
	Custodian     *Reference                   `json:"custodian,omitempty"`
	RelatesTo     []DocumentReferenceRelatesTo `json:"relatesTo,omitempty"`
	Description   string                       `json:"description,omitempty"`
	SecurityLabel []CodeableConcept            `json:"securityLabel,omitempty"`
	Content       []DocumentReferenceContent   `json:"content,omitempty"`
	Context       *DocumentReferenceContext    `json:"context,omitempty"`
}

type BundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type BundleRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type BundleResponse struct {
	Status       string          `json:"status"`
	Location     string          `json:"location,omitempty"`
	Etag         string          `json:"etag,omitempty"`
	LastModified string          `json:"lastModified,omitempty"`
	Outcome      json.RawMessage `json:"outcome,omitempty"`
}

type BundleSearch struct {
	Mode string `json:"mode,omitempty"`
}

type BundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Search   *BundleSearch   `json:"search,omitempty"`
	Request  *BundleRequest  `json:"request,omitempty"`
	Response *BundleResponse `json:"response,omitempty"`
}

type Bundle struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id,omitempty"`
	Meta         *Meta         `json:"meta,omitempty"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp,omitempty"`
	Total        *int          `json:"total,omitempty"`
	Link         []BundleLink  `json:"link,omitempty"`
	Entry        []BundleEntry `json:"entry,omitempty"`
}

type OperationOutcomeIssue struct {
	Severity    string           `json:"severity"`
	Code        string           `json:"code"`
	Details     *CodeableConcept `json:"details,omitempty"`
	Diagnostics string           `json:"diagnostics,omitempty"`
	Expression  []string         `json:"expression,omitempty"`
}

type OperationOutcome struct {
	ResourceType string                  `json:"resourceType"`
	Issue        []OperationOutcomeIssue `json:"issue"`
}

type ParametersParameter struct {
	Name                 string           `json:"name"`
	ValueCodeableConcept *CodeableConcept `json:"valueCodeableConcept,omitempty"`
	ValueCoding          *Coding          `json:"valueCoding,omitempty"`
	ValueString          *string          `json:"valueString,omitempty"`
	ValueCode            *string          `json:"valueCode,omitempty"`
}

type Parameters struct {
	ResourceType string                `json:"resourceType"`
	Parameter    []ParametersParameter `json:"parameter,omitempty"`
}

type Binary struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id,omitempty"`
	Meta         *Meta  `json:"meta,omitempty"`
	ContentType  string `json:"contentType"`
	Data         string `json:"data,omitempty"`
}

type ListEntry struct {
	Item Reference `json:"item"`
}

type List struct {
	ResourceType string           `json:"resourceType"`
	ID           string           `json:"id,omitempty"`
	Meta         *Meta            `json:"meta,omitempty"`
	Extension    []Extension      `json:"extension,omitempty"`
	Identifier   []Identifier     `json:"identifier,omitempty"`
	Status       string           `json:"status"`
	Mode         string           `json:"mode"`
	Title        string           `json:"title,omitempty"`
	Code         *CodeableConcept `json:"code,omitempty"`
	Subject      *Reference       `json:"subject,omitempty"`
	Date         string           `json:"date,omitempty"`
	Source       *Reference       `json:"source,omitempty"`
	Entry        []ListEntry      `json:"entry,omitempty"`
}

type AuditEventAgent struct {
	Type      *CodeableConcept   `json:"type,omitempty"`
	Role      []CodeableConcept  `json:"role,omitempty"`
	Who       *Reference         `json:"who,omitempty"`
	Name      string             `json:"name,omitempty"`
	Requestor bool               `json:"requestor"`
	Location  *Reference         `json:"location,omitempty"`
	Network   *AuditEventNetwork `json:"network,omitempty"`
	PurposeOf []CodeableConcept  `json:"purposeOfUse,omitempty"`
}

// AuditEventNetwork is an agent's network access point: its address and
// the address's type (1 machine name, 2 IP address).
type AuditEventNetwork struct {
	Address string `json:"address,omitempty"`
	Type    string `json:"type,omitempty"`
}

// Device is the archive itself as a contained resource of its
// AuditEvents: their source.observer and server agent.
type Device struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id,omitempty"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	DeviceName   []DeviceName `json:"deviceName,omitempty"`
}

type DeviceName struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type AuditEventSource struct {
	Site     string    `json:"site,omitempty"`
	Observer Reference `json:"observer"`
	Type     []Coding  `json:"type,omitempty"`
}

type AuditEventEntityDetail struct {
	Type        string `json:"type"`
	ValueString string `json:"valueString,omitempty"`
}

type AuditEventEntity struct {
	What        *Reference               `json:"what,omitempty"`
	Type        *Coding                  `json:"type,omitempty"`
	Role        *Coding                  `json:"role,omitempty"`
	Description string                   `json:"description,omitempty"`
	Query       string                   `json:"query,omitempty"`
	Detail      []AuditEventEntityDetail `json:"detail,omitempty"`
}

type AuditEvent struct {
	ResourceType   string             `json:"resourceType"`
	ID             string             `json:"id,omitempty"`
	Meta           *Meta              `json:"meta,omitempty"`
	Contained      []json.RawMessage  `json:"contained,omitempty"`
	Extension      []Extension        `json:"extension,omitempty"`
	Type           Coding             `json:"type"`
	Subtype        []Coding           `json:"subtype,omitempty"`
	Action         string             `json:"action,omitempty"`
	Period         *Period            `json:"period,omitempty"`
	Recorded       string             `json:"recorded"`
	Outcome        string             `json:"outcome,omitempty"`
	OutcomeDesc    string             `json:"outcomeDesc,omitempty"`
	PurposeOfEvent []CodeableConcept  `json:"purposeOfEvent,omitempty"`
	Agent          []AuditEventAgent  `json:"agent"`
	Source         AuditEventSource   `json:"source"`
	Entity         []AuditEventEntity `json:"entity,omitempty"`
}
