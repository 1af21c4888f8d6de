package fhirapi

import (
	"strings"
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
	// ExtDisplayFormat carries the document's display format when the
	// source sent a format of another code system, which content.format
	// then holds as sent.
	ExtDisplayFormat = extBase + "display-format"
)

// ProfileMinimalDocumentReference is the MHD 4.2 Minimal DocumentReference
// profile, claimed by DocumentReferences that conform to it.
const ProfileMinimalDocumentReference = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.DocumentReference"

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
	return stamp(s.docRefOf(r))
}

// docRefOf is docRef without meta.versionId, for encodeStamped.
func (s *Server) docRefOf(r *archive.Record) *DocumentReference {
	h := &r.Header
	version := h.Version
	d := &DocumentReference{
		ResourceType:     "DocumentReference",
		ID:               h.ID,
		Meta:             resourceMeta(r.LastUpdated()),
		MasterIdentifier: &Identifier{Use: "usual", System: SystemURI, Value: oidURN(h.ID)},
		Status:           Status(r.Status),
		Subject:          &Reference{Identifier: &Identifier{System: oidURN(h.Client.ID.Root), Value: h.Client.ID.Extension}},
		// When the reference was made (FHIR R4): as the source said, or
		// when the archive made it, on receipt. The document's own time is
		// attachment.creation.
		Date:      instant(r.ReceivedAt),
		Custodian: &Reference{Identifier: &Identifier{System: SystemURI, Value: oidURN(r.ControllerOID())}},
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
	// category: one (MHD Minimal, the classCode): the general type, or
	// the document group for a document without one; the group is also
	// in its extension.
	if c := concept(h.GeneralType); c != nil {
		d.Category = []CodeableConcept{*c}
	} else {
		d.Category = []CodeableConcept{*concept(h.DocumentGroup)}
	}
	d.Extension = append(d.Extension, Extension{URL: ExtDocumentGroup, ValueCoding: &Coding{System: oidURN(codes.OIDDocumentGroup), Code: h.DocumentGroup.Code, Display: h.DocumentGroup.Display}})
	if h.Author.ID.Extension != "" {
		d.Author = []Reference{{Identifier: &Identifier{System: oidURN(h.Author.ID.Root), Value: h.Author.ID.Extension}, Display: personName(h.Author.Name)}}
	}
	if p := h.Replaces; p != nil {
		d.RelatesTo = []DocumentReferenceRelatesTo{{Code: "replaces", Target: Reference{Reference: "DocumentReference/" + p.ID}}}
	}
	d.SecurityLabel = []CodeableConcept{*concept(h.Confidentiality)}
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
	withSource(d, r)
	if conformsMinimal(d) {
		d.Meta.Profile = []string{ProfileMinimalDocumentReference}
	}
	return d
}

// withSource puts what the source sent, kept as sent, into d in place of
// what the archive derives: the date, entry identifiers, security labels,
// format and attachment hash (MHD 4.2 2:3.65.4.1.2; the Document Source's
// metadata). Labels and a format the document's code systems carry were
// checked against the document when received.
func withSource(d *DocumentReference, r *archive.Record) {
	src := r.Source
	if src == nil {
		return
	}
	if src.Date != nil {
		d.Date = instant(*src.Date)
	}
	for _, id := range src.Identifiers {
		d.Identifier = append(d.Identifier, Identifier{Use: id.Use, System: id.System, Value: id.Value})
	}
	if len(src.SecurityLabels) > 0 {
		own := d.SecurityLabel // the document's confidentiality
		d.SecurityLabel = nil
		mentioned := false
		for _, l := range src.SecurityLabels {
			c := CodeableConcept{Text: l.Text}
			for _, cd := range l.Coding {
				c.Coding = append(c.Coding, Coding(cd))
				mentioned = mentioned || cd.System == oidURN(codes.OIDConfidentiality)
			}
			d.SecurityLabel = append(d.SecurityLabel, c)
		}
		if !mentioned {
			d.SecurityLabel = append(d.SecurityLabel, own...)
		}
	}
	cnt := &d.Content[0]
	if f := src.Format; f != nil {
		if own := cnt.Format; own != nil && f.System != own.System {
			d.Extension = append(d.Extension, Extension{URL: ExtDisplayFormat, ValueCoding: own})
		}
		cnt.Format = &Coding{System: f.System, Code: f.Code, Display: f.Display}
	}
	if src.Hash != "" {
		cnt.Attachment.Hash = src.Hash
	}
}

// conformsMinimal reports whether d meets the constraints of the MHD 4.2
// Minimal DocumentReference profile (IHE.MHD.Minimal.DocumentReference)
// that the archive's DocumentReferences could break: status current or
// superseded (the profile's value set has no entered-in-error), no
// docStatus, at most one category, masterIdentifier a uniqueId (system,
// value, use usual), every official identifier an entryUUID, exactly one
// content with contentType and url and no inline data, the subject a
// Patient.
func conformsMinimal(d *DocumentReference) bool {
	if d.Status != "current" && d.Status != "superseded" {
		return false
	}
	if d.DocStatus != "" || len(d.Category) > 1 {
		return false
	}
	if m := d.MasterIdentifier; m == nil || m.System == "" || m.Value == "" || m.Use != "usual" {
		return false
	}
	for _, id := range d.Identifier {
		if id.Use == "official" && (id.System != SystemURI || !strings.HasPrefix(id.Value, "urn:uuid:")) {
			return false
		}
	}
	if len(d.Content) != 1 {
		return false
	}
	if a := d.Content[0].Attachment; a.ContentType == "" || a.URL == "" || a.Data != "" {
		return false
	}
	if s := d.Subject; s != nil && s.Reference != "" && !strings.HasPrefix(s.Reference, "Patient/") && !strings.HasPrefix(s.Reference, "#") {
		return false
	}
	return true
}
