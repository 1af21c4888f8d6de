package fhirapi

import (
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
)

// Systems used in identifiers and codings.
const (
	SystemURI          = "urn:ietf:rfc:3986"
	SystemIdentityCode = "urn:oid:" + codes.OIDIdentityCode
	SystemProfessional = "urn:oid:" + codes.OIDProfessional
	SystemServiceUnit  = "urn:oid:1.2.246.537.6.202.2008" // SOTE organisation register
	extBase            = "https://arkisto.example/fhir/StructureDefinition/"
)

// Extensions carried on DocumentReference.
const (
	ExtSetID              = extBase + "set-id"
	ExtVersion            = extBase + "version"
	ExtRegister           = extBase + "register"
	ExtDocumentGroup      = extBase + "document-group"
	ExtRetentionClass     = extBase + "retention-class"
	ExtOrganiser          = extBase + "organiser"
	ExtNullification      = extBase + "nullification-reason"
	ExtReceived           = extBase + "received"
	ExtClientRelationship = extBase + "client-relationship"
	ExtOriginalCustodian  = extBase + "original-custodian"
)

// Status maps the archive's status to DocumentReference.status.
func Status(s archive.Status) string {
	switch s {
	case archive.StatusSuperseded:
		return "superseded"
	case archive.StatusNullified:
		return "entered-in-error"
	}
	return "current"
}

func oidURN(o string) string { return "urn:oid:" + o }

func coding(c cda.Code) Coding {
	return Coding{System: oidURN(c.System), Code: c.Code, Display: c.Display}
}

func concept(c cda.Code) *CodeableConcept {
	if c.Code == "" {
		return nil
	}
	return &CodeableConcept{Coding: []Coding{coding(c)}}
}

func instant(t time.Time) string { return t.Format(time.RFC3339Nano) }

func personName(n cda.Name) string {
	s := ""
	for _, g := range n.Given {
		s += g + " "
	}
	return s + n.Family
}

// docRef represents an archived version as a DocumentReference. It carries
// no client name: the identifier is enough for the caller, and names stay
// in the document.
func (s *Server) docRef(r *archive.Record) *DocumentReference {
	h := &r.Header
	version := h.Version
	d := &DocumentReference{
		ResourceType:     "DocumentReference",
		ID:               h.ID,
		Meta:             resourceMeta(r.LastUpdated()),
		MasterIdentifier: &Identifier{System: SystemURI, Value: oidURN(h.ID)},
		Status:           Status(r.Status),
		DocStatus:        "final",
		Subject:          &Reference{Identifier: &Identifier{System: oidURN(h.Client.ID.Root), Value: h.Client.ID.Extension}},
		Date:             instant(h.EffectiveTime),
		Custodian:        &Reference{Identifier: &Identifier{System: SystemURI, Value: oidURN(r.ControllerOID())}},
		SecurityLabel:    []CodeableConcept{*concept(h.Confidentiality)},
		Extension: []Extension{
			{URL: ExtSetID, ValueIdentifier: &Identifier{System: SystemURI, Value: oidURN(h.SetID)}},
			{URL: ExtVersion, ValueInteger: &version},
			{URL: ExtRegister, ValueCoding: &Coding{System: oidURN(codes.OIDRegister), Code: h.Register.Code, Display: h.Register.Display}},
			{URL: ExtRetentionClass, ValueCoding: &Coding{System: oidURN(codes.OIDRetentionClass), Code: h.RetentionClass.Code, Display: h.RetentionClass.Display}},
			{URL: ExtReceived, ValueDateTime: instant(r.ReceivedAt)},
		},
	}
	if h.Organiser.OID != "" {
		d.Extension = append(d.Extension, Extension{URL: ExtOrganiser, ValueIdentifier: &Identifier{System: SystemURI, Value: oidURN(h.Organiser.OID)}})
	}
	if r.ControllerOID() == h.Custodian.OID {
		d.Custodian.Display = h.Custodian.Name
	} else {
		// The register was transferred: the custodian is the new
		// controller, and the document's own custodian is kept.
		d.Extension = append(d.Extension, Extension{URL: ExtOriginalCustodian, ValueIdentifier: &Identifier{System: SystemURI, Value: oidURN(h.Custodian.OID)}})
	}
	if n := r.Nullification; n != nil {
		d.Extension = append(d.Extension, Extension{URL: ExtNullification, ValueString: n.ReasonCode + ": " + n.ReasonText})
	}
	// type: the specific document type; a client relationship document has
	// none and is typed by its document group.
	if h.SpecificType.Code != "" {
		d.Type = concept(h.SpecificType)
		d.Description = h.SpecificType.Display
	} else {
		d.Type = concept(h.DocumentGroup)
		d.Description = h.DocumentGroup.Display
	}
	if c := concept(h.GeneralType); c != nil {
		d.Category = append(d.Category, *c)
	}
	d.Category = append(d.Category, *concept(h.DocumentGroup))
	if h.Author.ID.Extension != "" {
		d.Author = []Reference{{Identifier: &Identifier{System: oidURN(h.Author.ID.Root), Value: h.Author.ID.Extension}, Display: personName(h.Author.Name)}}
	}
	if p := h.Replaces; p != nil {
		d.RelatesTo = []DocumentReferenceRelatesTo{{Code: "replaces", Target: Reference{Reference: "DocumentReference/" + p.ID}}}
	}
	d.Content = []DocumentReferenceContent{{
		Attachment: Attachment{
			ContentType: ContentCDA, Language: h.Language, URL: s.cfg.BaseURL + "/Binary/" + h.ID,
			Size: &r.Size, Creation: instant(h.EffectiveTime),
		},
		Format: &Coding{System: "urn:oid:" + codes.OIDDisplayFormat, Code: h.DisplayFormat.Code, Display: h.DisplayFormat.Display},
	}}
	if h.DisplayFormat.Code == "" {
		d.Content[0].Format = nil
	}
	ctx := &DocumentReferenceContext{}
	if c := concept(h.ServiceTask); c != nil {
		ctx.Event = []CodeableConcept{*c}
	}
	if h.Case.Opened != nil {
		ctx.Period = &Period{Start: instant(*h.Case.Opened)}
		if h.Case.Closed != nil {
			ctx.Period.End = instant(*h.Case.Closed)
		}
	}
	if u := h.Case.ServiceUnit; u.OID != "" {
		ctx.FacilityType = &CodeableConcept{Coding: []Coding{{System: SystemServiceUnit, Code: u.OID, Display: u.Name}}}
	}
	if h.ServiceProcess != nil && h.ServiceProcess.Code.Code != "" {
		ctx.PracticeSetting = concept(h.ServiceProcess.Code)
	}
	if h.Case.ID != "" {
		ctx.Related = append(ctx.Related, Reference{Type: "Encounter", Identifier: &Identifier{System: SystemURI, Value: oidURN(h.Case.ID)}, Display: "case"})
	}
	if h.ClientRelationshipID != "" {
		ctx.Related = append(ctx.Related, Reference{Type: "EpisodeOfCare", Identifier: &Identifier{System: SystemURI, Value: oidURN(h.ClientRelationshipID)}, Display: "client relationship"})
	}
	if ctx.Event != nil || ctx.Period != nil || ctx.FacilityType != nil || ctx.PracticeSetting != nil || ctx.Related != nil {
		d.Context = ctx
	}
	if r.PatientID != "" {
		// The client as a Patient reference (GET /fhir/Patient/<id>) and by
		// identifier: MHD 4.2 DocumentReference.subject is Reference(Patient).
		d.Subject.Reference = "Patient/" + r.PatientID
	}
	return stamp(d)
}
