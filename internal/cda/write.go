package cda

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/arkisto/arkisto/internal/codes"
)

// Built is a document written by Build, ready to be signed: the tree, the
// nonXMLBody element to sign and the signatureCollection to sign into.
type Built struct {
	Tree       *etree.Document
	Body       *etree.Element
	Collection *etree.Element
}

// Bytes serialises the tree. Sign first: the signatures cover the body as
// serialised here.
func (b *Built) Bytes() ([]byte, error) {
	// Canonical escaping keeps \r in text and tabs and newlines in
	// attributes through a write and a re-read, so signatures still hold.
	b.Tree.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	return b.Tree.WriteToBytes()
}

// Build writes a CDA document with the Finnish social welfare header from a
// header record and the body parts, laid out as the national samples are.
// It is for generated test and demo documents; the archive stores what it
// receives and never rewrites a document. Signatures are not written: sign
// into Built.Collection.
func Build(h *Header, body Body, indent bool) *Built {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement("ClinicalDocument")
	root.CreateAttr("xmlns", NSHL7)
	root.CreateAttr("xmlns:hl7fi", NSHL7FI)

	root.CreateElement("realmCode").CreateAttr("code", "FI")
	t := root.CreateElement("typeId")
	t.CreateAttr("extension", "POCD_HD000040")
	t.CreateAttr("root", codes.OIDCDATypeID)
	root.CreateElement("id").CreateAttr("root", h.ID)
	writeCode(root.CreateElement("code"), h.GeneralType)
	root.CreateElement("effectiveTime").CreateAttr("value", FormatTS(h.EffectiveTime))
	writeCode(root.CreateElement("confidentialityCode"), h.Confidentiality)
	root.CreateElement("languageCode").CreateAttr("code", h.Language)
	root.CreateElement("setId").CreateAttr("root", h.SetID)
	root.CreateElement("versionNumber").CreateAttr("value", strconv.Itoa(h.Version))

	pr := root.CreateElement("recordTarget").CreateElement("patientRole")
	writeID(pr.CreateElement("id"), h.Client.ID)
	pat := pr.CreateElement("patient")
	writeName(pat.CreateElement("name"), h.Client.Name)
	if h.Client.Gender.Code != "" {
		writeCode(pat.CreateElement("administrativeGenderCode"), h.Client.Gender)
	}
	if h.Client.BirthTime != "" {
		pat.CreateElement("birthTime").CreateAttr("value", h.Client.BirthTime)
	}

	au := root.CreateElement("author")
	if h.Author.Time != "" {
		au.CreateElement("time").CreateAttr("value", h.Author.Time)
	} else {
		au.CreateElement("time").CreateAttr("nullFlavor", "NA")
	}
	aa := au.CreateElement("assignedAuthor")
	writeID(aa.CreateElement("id"), h.Author.ID)
	if len(h.Author.Name.Given) > 0 || h.Author.Name.Family != "" {
		writeName(aa.CreateElement("assignedPerson").CreateElement("name"), h.Author.Name)
	}

	co := root.CreateElement("custodian").CreateElement("assignedCustodian").CreateElement("representedCustodianOrganization")
	co.CreateElement("id").CreateAttr("root", h.Custodian.OID)
	co.CreateElement("name").SetText(h.Custodian.Name)

	if h.Replaces != nil {
		rd := root.CreateElement("relatedDocument")
		rd.CreateAttr("typeCode", "RPLC")
		pd := rd.CreateElement("parentDocument")
		pd.CreateElement("id").CreateAttr("root", h.Replaces.ID)
		pd.CreateElement("setId").CreateAttr("root", h.Replaces.SetID)
		pd.CreateElement("versionNumber").CreateAttr("value", strconv.Itoa(h.Replaces.Version))
	}
	if h.GuardianDisclosure.Code != "" {
		c := root.CreateElement("authorization").CreateElement("consent")
		writeCode(c.CreateElement("code"), h.GuardianDisclosure)
		c.CreateElement("statusCode").CreateAttr("code", "completed")
	}

	ee := root.CreateElement("componentOf").CreateElement("encompassingEncounter")
	if h.Case.ID != "" {
		ee.CreateElement("id").CreateAttr("root", h.Case.ID)
	} else {
		ee.CreateElement("id").CreateAttr("nullFlavor", "NA")
	}
	et := ee.CreateElement("effectiveTime")
	switch {
	case h.Case.Opened != nil:
		et.CreateElement("low").CreateAttr("value", FormatTS(*h.Case.Opened))
		if h.Case.Closed != nil {
			et.CreateElement("high").CreateAttr("value", FormatTS(*h.Case.Closed))
		}
	default:
		et.CreateAttr("nullFlavor", "NA")
	}
	if h.Case.Responsible.OID != "" {
		writeOrg(ee.CreateElement("responsibleParty").CreateElement("assignedEntity"), h.Case.Responsible)
	}
	if h.Case.ServiceUnit.OID != "" {
		ep := ee.CreateElement("encounterParticipant")
		ep.CreateAttr("typeCode", "ADM")
		writeOrg(ep.CreateElement("assignedEntity"), h.Case.ServiceUnit)
	}

	lh := root.CreateElement("hl7fi:localSocialHeader")
	fi := func(local string) *etree.Element { return lh.CreateElement("hl7fi:" + local) }
	if h.SpecificType.Code != "" {
		writeCode(fi("specificDocumentType"), h.SpecificType)
	}
	fi("creationTime").CreateAttr("value", FormatTS(h.CreationTime))
	writeCode(fi("documentGroup"), h.DocumentGroup)
	if h.DisplayFormat.Code != "" {
		writeCode(fi("fileFormat"), h.DisplayFormat)
	}
	if h.StructuredFormat.Code != "" {
		writeCode(fi("structuredFileFormat"), h.StructuredFormat)
	}
	if h.Software.Product != "" {
		s := fi("softwareSupport")
		s.CreateAttr("moderator", h.Software.Moderator)
		s.CreateAttr("product", h.Software.Product)
		s.CreateAttr("version", h.Software.Version)
	}
	if h.ServiceTask.Code != "" {
		writeCode(fi("functionCode"), h.ServiceTask)
	}
	if h.RecordStatus.Code != "" {
		writeCode(fi("recordStatus"), h.RecordStatus)
	}
	writeCode(fi("registryType"), h.Register)
	if h.Organiser.OID != "" {
		fi("outsourcingServiceCustomer").CreateAttr("root", h.Organiser.OID)
		fi("outsourcingServiceCustomerName").SetText(h.Organiser.Name)
	}
	writeCode(fi("totalRetentionPeriodClass"), h.RetentionClass)
	if h.SpecialContent.Code != "" {
		writeCode(fi("specialContent"), h.SpecialContent)
	}
	if h.ContentSpecification != "" {
		fi("contentSpecificationId").SetText(h.ContentSpecification)
	}
	if h.ClientRelationshipID != "" {
		fi("encompassingClientRelationship").CreateAttr("root", h.ClientRelationshipID)
	}
	if h.ServiceProcess != nil {
		sp := fi("serviceProcess")
		sp.CreateElement("hl7fi:type").SetText(h.ServiceProcess.Type)
		writeCode(sp.CreateElement("hl7fi:code"), h.ServiceProcess.Code)
	}
	if h.HideReasonText != "" {
		fi("authorizationRestrictionArgument").SetText(h.HideReasonText)
	}
	if h.HideReason.Code != "" {
		writeCode(fi("inaccessibleArgument"), h.HideReason)
	}
	if h.CitizenRelease != nil {
		fi("releaseDateForPatientViewing").CreateAttr("value", FormatTS(*h.CitizenRelease))
	}
	if h.ReplacementReason.Code != "" {
		writeCode(fi("reasonOfCorrection"), h.ReplacementReason)
	}
	for _, s := range h.Signers {
		se := fi("signature")
		se.CreateElement("hl7fi:assignedAuthorSigner").SetText(s.RegistrationNumber)
		writeNameIn(se.CreateElement("hl7fi:signer").CreateElement("hl7fi:name"), s.Name, "hl7fi:")
		if s.AuthMethod.Code != "" {
			writeCode(se.CreateElement("hl7fi:authenticationMethod"), s.AuthMethod)
		}
		if s.Time != "" {
			se.CreateElement("hl7fi:time").CreateAttr("value", s.Time)
		}
	}
	coll := lh.CreateElement("signatureCollection")
	coll.CreateAttr("xmlns", NSHL7FI)

	nb := root.CreateElement("component").CreateElement("nonXMLBody")
	nb.CreateAttr("ID", "OID"+h.ID)
	txt := nb.CreateElement("text")
	txt.CreateAttr("mediaType", body.DisplayMediaType)
	txt.CreateAttr("representation", "B64")
	txt.SetText(wrap64(body.Display))
	if body.Structured != nil {
		nb.CreateElement("hl7fi:json").SetText(wrap64(body.Structured))
	}
	if indent {
		doc.IndentTabs()
	}
	return &Built{Tree: doc, Body: nb, Collection: coll}
}

// wrap64 encodes data as base64 in lines of 76 characters.
func wrap64(data []byte) string {
	s := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	b.Grow(len(s) + len(s)/76 + 2)
	for len(s) > 76 {
		b.WriteString(s[:76])
		b.WriteByte('\n')
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

func writeCode(el *etree.Element, c Code) {
	if c.Code == "" {
		nf := c.NullFlavor
		if nf == "" {
			nf = "NA"
		}
		el.CreateAttr("nullFlavor", nf)
		return
	}
	el.CreateAttr("code", c.Code)
	el.CreateAttr("codeSystem", c.System)
	if c.SystemName != "" {
		el.CreateAttr("codeSystemName", c.SystemName)
	}
	if c.Display != "" {
		el.CreateAttr("displayName", c.Display)
	}
}

func writeID(el *etree.Element, id ID) {
	if id.Root == "" {
		el.CreateAttr("nullFlavor", "NA")
		return
	}
	el.CreateAttr("root", id.Root)
	if id.Extension != "" {
		el.CreateAttr("extension", id.Extension)
	}
}

func writeName(el *etree.Element, n Name) { writeNameIn(el, n, "") }

func writeNameIn(el *etree.Element, n Name, prefix string) {
	for _, g := range n.Given {
		el.CreateElement(prefix + "given").SetText(g)
	}
	if n.CallName != "" {
		g := el.CreateElement(prefix + "given")
		g.CreateAttr("qualifier", "CL")
		g.SetText(n.CallName)
	}
	if n.Family != "" {
		el.CreateElement(prefix + "family").SetText(n.Family)
	}
}

func writeOrg(ae *etree.Element, o Organisation) {
	ae.CreateElement("id").CreateAttr("nullFlavor", "NA")
	ro := ae.CreateElement("representedOrganization")
	ro.CreateElement("id").CreateAttr("root", o.OID)
	if o.Name != "" {
		ro.CreateElement("name").SetText(o.Name)
	}
}
