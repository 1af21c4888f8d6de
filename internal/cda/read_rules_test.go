package cda

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/problem"
	"github.com/arkisto/arkisto/internal/xmlsafe"
)

// Ids of the samples, as written in them.
const (
	relID  = "1.2.246.10.32213561.95777.2026.688883.2809773" // asiakkuusasiakirja_S
	planID = "1.2.246.10.2012566.95.2026.688883.2655274"     // asia_ja_rajoitukset_S
	// newID is the id of a replacement of the plan made by the tests.
	newID = "1.2.246.10.2012566.95.2026.688883.2655275"
)

// Paths the reader reports.
const (
	pRoot   = "/ClinicalDocument"
	pLocal  = pRoot + "/hl7fi:localSocialHeader"
	pBody   = pRoot + "/component/nonXMLBody"
	pText   = pBody + "/text"
	pJSON   = pBody + "/hl7fi:json"
	pParent = pRoot + "/relatedDocument/parentDocument"
	pClient = pRoot + "/recordTarget/patientRole/id"
)

// A mutation turns a sample's XML text into a broken one. It fails the test
// when the text it expects is not there, so a mutation cannot silently do
// nothing.
type mutation func(t testing.TB, s string) string

// rep replaces old, which must occur exactly once.
func rep(old, new string) mutation {
	return repN(old, new, 1)
}

// repN replaces old, which must occur exactly n times.
func repN(old, new string, n int) mutation {
	return func(t testing.TB, s string) string {
		t.Helper()
		if c := strings.Count(s, old); c != n {
			t.Fatalf("mutation: %q occurs %d times, want %d", old, c, n)
		}
		return strings.ReplaceAll(s, old, new)
	}
}

// cut removes the text from start up to and including end (the first end
// after start); start must occur exactly once.
func cut(start, end string) mutation {
	return cutTo(start, end, "")
}

// cutTo is cut with a replacement.
func cutTo(start, end, with string) mutation {
	return func(t testing.TB, s string) string {
		t.Helper()
		if c := strings.Count(s, start); c != 1 {
			t.Fatalf("mutation: %q occurs %d times, want 1", start, c)
		}
		i := strings.Index(s, start)
		j := strings.Index(s[i:], end)
		if j < 0 {
			t.Fatalf("mutation: no %q after %q", end, start)
		}
		return s[:i] + with + s[i+j+len(end):]
	}
}

// before inserts text before anchor, which must occur exactly once.
func before(anchor, text string) mutation {
	return rep(anchor, text+anchor)
}

func chain(ms ...mutation) mutation {
	return func(t testing.TB, s string) string {
		t.Helper()
		for _, m := range ms {
			s = m(t, s)
		}
		return s
	}
}

var (
	textRE = regexp.MustCompile(`(?s)(<text [^>]*>).*?(</text>)`)
	jsonRE = regexp.MustCompile(`(?s)(<ep2:json[^>]*>).*?(</ep2:json>)`)
)

// setPart replaces the content of a body part with raw text.
func setPart(re *regexp.Regexp, content string) mutation {
	return func(t testing.TB, s string) string {
		t.Helper()
		if n := len(re.FindAllStringIndex(s, -1)); n != 1 {
			t.Fatalf("mutation: body part %s found %d times", re, n)
		}
		return re.ReplaceAllLiteralString(s, re.FindStringSubmatch(s)[1]+content+re.FindStringSubmatch(s)[2])
	}
}

// display and structured put data into the body part, base64 encoded.
func display(data string) mutation {
	return setPart(textRE, "\r\n\t\t\t"+base64.StdEncoding.EncodeToString([]byte(data))+"\r\n\t\t")
}

func structured(data string) mutation {
	return setPart(jsonRE, "\r\n\t\t\t"+base64.StdEncoding.EncodeToString([]byte(data))+"\r\n\t\t")
}

const (
	planRootTag  = `<ClinicalDocument xmlns="urn:hl7-org:v3" xsi:schemaLocation`
	planVersion  = `<versionNumber value="1"/>`
	relatedAncor = "\t<authorization>"
	validXHTML   = `<div xmlns="http://www.w3.org/1999/xhtml"><p>Asiakassuunnitelma</p></div>`
)

// rplc is a relatedDocument typeCode=RPLC naming a parent version.
// noFileFormat removes the header's display form format (XHTML in both samples).
var noFileFormat = rep(`<ep2:fileFormat code="2" codeSystem="1.2.246.537.6.1502.201601" codeSystemName="Sosiaalihuolto - Asiakirjan näyttömuodon formaatti" displayName="XHTML_1.1"/>`, ``)

func rplc(id, setID, version string) string {
	return `<relatedDocument typeCode="RPLC"><parentDocument><id root="` + id + `"/><setId root="` + setID +
		`"/><versionNumber value="` + version + `"/></parentDocument></relatedDocument>` + "\r\n"
}

// replacement turns the plan into version `version` with its own id newID,
// the same setId, and the body ID that goes with newID; parent is the
// relatedDocument to add ("" for none).
func replacement(version, parent string) mutation {
	ms := []mutation{
		rep(`<id root="`+planID+`"/>`, `<id root="`+newID+`"/>`),
		rep(planVersion, `<versionNumber value="`+version+`"/>`),
		rep(`ID="OID`+planID+`"`, `ID="OID`+newID+`"`),
	}
	if parent != "" {
		ms = append(ms, before(relatedAncor, parent))
	}
	return chain(ms...)
}

// ruleCase breaks one rule of a valid sample.
type ruleCase struct {
	name   string
	sample string
	mut    mutation
	opt    Options
	code   string   // the rule that must be reported
	path   string   // where it must be reported ("" when not checked)
	also   []string // other codes that may be reported with it
	noDoc  bool     // Read returns no document (the XML did not parse)
}

func ruleCases() []ruleCase {
	const R, P = sampleRelationship, samplePlan
	return []ruleCase{
		// CDA_ROOT
		{name: "root element renamed", sample: P, mut: chain(rep(planRootTag, `<Document xmlns="urn:hl7-org:v3" xsi:schemaLocation`), rep("</ClinicalDocument>", "</Document>")), code: RuleRoot, path: "/Document"},
		{name: "root in another namespace", sample: P, mut: rep(`<ClinicalDocument xmlns="urn:hl7-org:v3"`, `<ClinicalDocument xmlns="urn:hl7-org:v2"`), code: RuleRoot, path: "/ClinicalDocument"},

		// CDA_REQUIRED
		{name: "missing id", sample: P, mut: rep(`<id root="`+planID+`"/>`, ""), code: RuleRequired, path: pRoot + "/id"},
		{name: "id without root", sample: P, mut: rep(`<id root="`+planID+`"/>`, `<id extension="1"/>`), code: RuleRequired, path: pRoot + "/id/@root"},
		{name: "missing setId", sample: P, mut: rep(`<setId root="`+planID+`"/>`, ""), code: RuleRequired, path: pRoot + "/setId"},
		{name: "missing versionNumber value", sample: R, mut: rep(planVersion, `<versionNumber/>`), code: RuleRequired, path: pRoot + "/versionNumber/@value"},
		{name: "missing realmCode", sample: R, mut: rep(`<realmCode code="FI"/>`, ""), code: RuleRequired, path: pRoot + "/realmCode"},
		{name: "missing effectiveTime", sample: R, mut: rep(`<effectiveTime value="20260717130652+0300"/>`, ""), code: RuleRequired, path: pRoot + "/effectiveTime"},
		{name: "effectiveTime nullFlavor", sample: R, mut: rep(`<effectiveTime value="20260717130652+0300"/>`, `<effectiveTime nullFlavor="NA"/>`), code: RuleRequired, path: pRoot + "/effectiveTime/@value"},
		{name: "confidentialityCode nullFlavor", sample: R, mut: cutTo(`<confidentialityCode `, `/>`, `<confidentialityCode nullFlavor="NA"/>`), code: RuleRequired, path: pRoot + "/confidentialityCode/@code"},
		{name: "missing languageCode code", sample: R, mut: rep(`<languageCode code="fi"/>`, `<languageCode/>`), code: RuleRequired, path: pRoot + "/languageCode/@code"},
		{name: "missing recordTarget", sample: R, mut: cut("<recordTarget>", "</recordTarget>"), code: RuleRequired, path: pRoot + "/recordTarget"},
		{name: "client id without extension", sample: R, mut: rep(`<id root="1.2.246.21" extension="200111A904P"/>`, `<id root="1.2.246.21"/>`), code: RuleRequired, path: pClient},
		{name: "missing author", sample: P, mut: cut("<author>", "</author>"), code: RuleRequired, path: pRoot + "/author"},
		{name: "missing custodian", sample: P, mut: cut("<custodian>", "</custodian>"), code: RuleRequired, path: pRoot + "/custodian"},
		{name: "empty custodian name", sample: R, mut: rep(`<name>Vantaan ja Keravan hyvinvointialue</name>`, `<name> </name>`), code: RuleRequired, path: pRoot + "/custodian/assignedCustodian/representedCustodianOrganization/name"},
		{name: "missing localSocialHeader", sample: R, mut: cut("<ep2:localSocialHeader", "</ep2:localSocialHeader>"), code: RuleRequired, path: pLocal},
		{name: "missing creationTime", sample: R, mut: rep(`<ep2:creationTime value="20260717130652+0300"/>`, ""), code: RuleRequired, path: pLocal + "/hl7fi:creationTime"},
		{name: "missing documentGroup", sample: R, mut: cut("<ep2:documentGroup ", "/>"), code: RuleRequired, path: pLocal + "/hl7fi:documentGroup"},
		{name: "documentGroup nullFlavor", sample: R, mut: cutTo("<ep2:documentGroup ", "/>", `<ep2:documentGroup nullFlavor="NA"/>`), code: RuleRequired, path: pLocal + "/hl7fi:documentGroup/@code"},
		{name: "missing registryType", sample: R, mut: cut("<ep2:registryType ", "/>"), code: RuleRequired, path: pLocal + "/hl7fi:registryType"},
		{name: "missing totalRetentionPeriodClass", sample: R, mut: cut("<ep2:totalRetentionPeriodClass ", "/>"), code: RuleRequired, path: pLocal + "/hl7fi:totalRetentionPeriodClass"},
		{name: "outsourcingServiceCustomer without root", sample: P, mut: rep(`<ep2:outsourcingServiceCustomer root="1.2.246.10.2012566.10.40"/>`, `<ep2:outsourcingServiceCustomer/>`), code: RuleRequired, path: pLocal + "/hl7fi:outsourcingServiceCustomer/@root"},
		{name: "missing signatureCollection", sample: P, mut: cut(`<signatureCollection xmlns="urn:hl7finland">`, "</signatureCollection>"), code: RuleRequired, path: pLocal + "/hl7fi:signatureCollection"},
		{name: "group 1 without client relationship", sample: R, mut: cut("<ep2:encompassingClientRelationship ", "/>"), code: RuleRequired, path: pLocal + "/hl7fi:encompassingClientRelationship"},
		{name: "group 5 with nullFlavor general type", sample: P, mut: cutTo(`<code code="15" `, "/>", `<code nullFlavor="NA"/>`), code: RuleRequired, path: pRoot + "/code/@code"},
		{name: "group 5 without specific type", sample: P, mut: cut("<ep2:specificDocumentType ", "/>"), code: RuleRequired, path: pLocal + "/hl7fi:specificDocumentType"},
		{name: "specific type nullFlavor", sample: P, mut: cutTo("<ep2:specificDocumentType ", "/>", `<ep2:specificDocumentType nullFlavor="NA"/>`), code: RuleRequired, path: pLocal + "/hl7fi:specificDocumentType/@code"},
		{name: "group 5 without functionCode", sample: P, mut: cut("<ep2:functionCode ", "/>"), code: RuleRequired, path: pLocal + "/hl7fi:functionCode"},
		{name: "functionCode without code", sample: P, mut: rep(`<ep2:functionCode code="24" `, `<ep2:functionCode `), code: RuleRequired, path: pLocal + "/hl7fi:functionCode/@code"},
		{name: "missing body", sample: P, mut: cut("<component>", "</component>"), code: RuleRequired, path: pRoot + "/component"},
		{name: "missing nonXMLBody", sample: P, mut: cut("<nonXMLBody ", "</nonXMLBody>"), code: RuleRequired, path: pBody},
		{name: "structuredBody instead of nonXMLBody", sample: P, mut: cutTo("<nonXMLBody ", "</nonXMLBody>", "<structuredBody/>"), code: RuleRequired, path: pBody},
		{name: "nonXMLBody without ID", sample: R, mut: rep(`<nonXMLBody ID="OID`+relID+`">`, `<nonXMLBody>`), code: RuleRequired, path: pBody + "/@ID"},
		{name: "missing display form", sample: R, mut: cut("<text ", "</text>"), code: RuleRequired, path: pText},
		{name: "display form without media type", sample: R, mut: rep(`<text mediaType="application/xhtml+xml" `, `<text `), code: RuleRequired, path: pText + "/@mediaType"},
		{name: "empty display form", sample: R, mut: setPart(textRE, "\r\n\t\t"), code: RuleRequired, path: pText},
		{name: "declared structured form missing", sample: R, mut: cut("<ep2:json ", "</ep2:json>"), code: RuleRequired, path: pJSON},
		{name: "RPLC without parentDocument", sample: P, mut: replacement("2", `<relatedDocument typeCode="RPLC"/>`), code: RuleRequired, path: pRoot + "/relatedDocument/parentDocument", also: []string{RuleRPLCMissing}},

		// CDA_REPEATED
		{name: "setId twice", sample: R, mut: before(planVersion, `<setId root="`+relID+`"/>`), code: RuleRepeated, path: pRoot + "/setId"},
		{name: "creationTime twice", sample: R, mut: before(`<ep2:documentGroup `, `<ep2:creationTime value="20260717130652+0300"/>`), code: RuleRepeated, path: pLocal + "/hl7fi:creationTime"},
		{name: "two RPLC relations", sample: P, mut: replacement("2", rplc(planID, planID, "1")+rplc(planID, planID, "1")), code: RuleRepeated, path: pRoot + "/relatedDocument"},

		// CDA_FIXED
		{name: "realmCode not FI", sample: R, mut: rep(`<realmCode code="FI"/>`, `<realmCode code="SE"/>`), code: RuleFixed, path: pRoot + "/realmCode/@code"},
		{name: "typeId extension", sample: R, mut: rep(`extension="POCD_HD000040"`, `extension="POCD_HD000041"`), code: RuleFixed, path: pRoot + "/typeId"},
		{name: "typeId root", sample: R, mut: rep(`root="2.16.840.1.113883.1.3"`, `root="2.16.840.1.113883.1.4"`), code: RuleFixed, path: pRoot + "/typeId"},

		// CDA_OID
		{name: "custodian OID with leading zero", sample: R, mut: rep(`<id root="1.2.246.10.32213561.10.0"/>`, `<id root="1.2.246.10.32213561.10.00"/>`), code: RuleOID, path: pRoot + "/custodian/assignedCustodian/representedCustodianOrganization/id/@root"},
		{name: "client relationship id not an OID", sample: R, mut: rep(`root="1.2.246.10.32213561.95777.2026.698084.281"`, `root="urn:oid:1.2.246.10.32213561.95777.2026.698084.281"`), code: RuleOID, path: pLocal + "/hl7fi:encompassingClientRelationship/@root"},
		{name: "content specification not an OID", sample: P, mut: rep(`1.2.246.537.6.1506.15007.2024.11.28<`, `v1.0<`), code: RuleOID, path: pLocal + "/hl7fi:contentSpecificationId"},
		{name: "case id not an OID", sample: P, mut: rep(`root="1.2.246.10.2012566.95.2026.778465.646"`, `root="1..2"`), code: RuleOID, path: pRoot + "/componentOf/encompassingEncounter/id/@root"},
		{name: "service unit OID with letters", sample: P, mut: rep(`root="1.2.246.10.2012566.10.40006775"`, `root="1.2.246.10.2012566.10.4000677x"`), code: RuleOID, path: pRoot + "/componentOf/encompassingEncounter/encounterParticipant/assignedEntity/representedOrganization/id/@root"},

		// CDA_CODE_SYSTEM
		{name: "confidentiality in another code system", sample: R, mut: rep(`codeSystem="1.2.246.777.5.99902.2006"`, `codeSystem="1.2.246.777.5.99902.2007"`), code: RuleCodeSystem, path: pRoot + "/confidentialityCode/@codeSystem"},
		{name: "service task in the social service code system", sample: P, mut: rep(`codeSystem="1.2.246.537.6.1221.201601"`, `codeSystem="1.2.246.537.6.1222.201601"`), code: RuleCodeSystem, path: pLocal + "/hl7fi:functionCode/@codeSystem"},
		{name: "document group without code system", sample: R, mut: rep(`codeSystem="1.2.246.537.6.1505.201601" `, ``), code: RuleCodeSystem, path: pLocal + "/hl7fi:documentGroup/@codeSystem"},

		// CDA_CODE_UNKNOWN (closed code sets)
		{name: "unknown confidentiality", sample: R, mut: rep(`<confidentialityCode code="6"`, `<confidentialityCode code="7"`), code: RuleCodeUnknown, path: pRoot + "/confidentialityCode/@code"},
		{name: "unknown register", sample: R, mut: rep(`<ep2:registryType code="1"`, `<ep2:registryType code="2"`), code: RuleCodeUnknown, path: pLocal + "/hl7fi:registryType/@code"},
		{name: "unknown guardian disclosure", sample: P, mut: rep(`<code code="1" codeSystem="1.2.246.537.6.1286.201901"`, `<code code="9" codeSystem="1.2.246.537.6.1286.201901"`), code: RuleCodeUnknown, path: pRoot + "/authorization/consent/code/@code"},

		// CDA_TIME
		{name: "effectiveTime without zone", sample: R, mut: rep(`<effectiveTime value="20260717130652+0300"/>`, `<effectiveTime value="20260717130652"/>`), code: RuleTime, path: pRoot + "/effectiveTime/@value"},
		{name: "effectiveTime not a date", sample: R, mut: rep(`<effectiveTime value="20260717130652+0300"/>`, `<effectiveTime value="20260230130652+0300"/>`), code: RuleTime, path: pRoot + "/effectiveTime/@value"},
		{name: "end of a delay without zone", sample: P, mut: before("\t\t<!-- Asiakirjan korvauksen syy. Tämä on tilapäinen ratkaisu. -->", `<ep2:releaseDateForPatientViewing value="202606011200"/>`), code: RuleTime, path: pLocal + "/hl7fi:releaseDateForPatientViewing/@value"},
		{name: "effectiveTime zone with signs", sample: R, mut: rep(`<effectiveTime value="20260717130652+0300"/>`, `<effectiveTime value="20260717130652+-1-1"/>`), code: RuleTime, path: pRoot + "/effectiveTime/@value"},
		{name: "creationTime date only", sample: R, mut: rep(`<ep2:creationTime value="20260717130652+0300"/>`, `<ep2:creationTime value="20260717"/>`), code: RuleTime, path: pLocal + "/hl7fi:creationTime/@value"},
		{name: "birthTime not a date", sample: R, mut: rep(`<birthTime value="20110120"/>`, `<birthTime value="20110230"/>`), code: RuleTime, path: pRoot + "/recordTarget/patientRole/patient/birthTime/@value"},
		{name: "author time without zone", sample: P, mut: rep(`<time nullFlavor="NA"/>`, `<time value="20260323105424"/>`), code: RuleTime, path: pRoot + "/author/time/@value"},
		{name: "signer time without zone", sample: P, mut: rep(`<ep2:time value="20260323105425+0200"/>`, `<ep2:time value="20260323105425"/>`), code: RuleTime, path: pLocal + "/hl7fi:signature/hl7fi:time/@value"},
		{name: "case closed on no date", sample: P, mut: rep(`<effectiveTime nullFlavor="NA"/>`, `<effectiveTime><low value="20260101"/><high value="20261301"/></effectiveTime>`), code: RuleTime, path: pRoot + "/componentOf/encompassingEncounter/effectiveTime/high/@value"},

		// CDA_VERSION
		{name: "version 0", sample: R, mut: rep(planVersion, `<versionNumber value="0"/>`), code: RuleVersion, path: pRoot + "/versionNumber/@value"},
		{name: "version with leading zero", sample: R, mut: rep(planVersion, `<versionNumber value="01"/>`), code: RuleVersion, path: pRoot + "/versionNumber/@value"},
		{name: "version with plus sign", sample: R, mut: rep(planVersion, `<versionNumber value="+1"/>`), code: RuleVersion, path: pRoot + "/versionNumber/@value"},
		{name: "version not an integer", sample: R, mut: rep(planVersion, `<versionNumber value="1.0"/>`), code: RuleVersion, path: pRoot + "/versionNumber/@value"},
		{name: "version too large", sample: R, mut: rep(planVersion, `<versionNumber value="1000001"/>`), code: RuleVersion, path: pRoot + "/versionNumber/@value"},
		{name: "parent version 0", sample: P, mut: replacement("2", rplc(planID, planID, "0")), code: RuleVersion, path: pParent + "/versionNumber/@value"},

		// CDA_SET_ID
		{name: "version 1 with another setId", sample: R, mut: rep(`<setId root="`+relID+`"/>`, `<setId root="`+relID+`.1"/>`), code: RuleSetID, path: pRoot + "/setId/@root"},
		{name: "version 3 with setId equal to id", sample: P, mut: chain(replacement("3", rplc(planID, newID, "2")), rep(`<setId root="`+planID+`"/>`, `<setId root="`+newID+`"/>`)), code: RuleSetID, path: pRoot + "/setId/@root"},
		{name: "replaced version 1 whose id is not the setId", sample: P, mut: replacement("2", rplc(newID+"9", planID, "1")), code: RuleRPLCSetID, path: pRoot + "/relatedDocument/parentDocument/id/@root"},
		{name: "replaced version written as +1", sample: P, mut: replacement("2", rplc(planID, planID, "+1")), code: RuleVersion, path: pRoot + "/relatedDocument/parentDocument/versionNumber/@value"},
		{name: "document id longer than 64 characters", sample: R, mut: repN(relID, relID+".1234567890.1234567890", 4), code: RuleValue, path: pRoot + "/id/@root"},
		{name: "XHTML file format with a PDF body", sample: R, mut: chain(rep(`<text mediaType="application/xhtml+xml"`, `<text mediaType="application/pdf"`), display("%PDF-1.7\n")), code: RuleMediaType, path: pText + "/@mediaType"},

		// replacement rules
		{name: "version 2 without RPLC", sample: P, mut: replacement("2", ""), code: RuleRPLCMissing, path: pRoot + "/relatedDocument"},
		{name: "version 2 with another kind of relation only", sample: P, mut: replacement("2", `<relatedDocument typeCode="APND"><parentDocument><id root="`+planID+`"/></parentDocument></relatedDocument>`), code: RuleRPLCMissing, path: pRoot + "/relatedDocument"},
		{name: "version 1 with RPLC", sample: R, mut: before(relatedAncor, rplc(relID+".9", relID+".9", "1")), code: RuleRPLCUnexpected, path: pRoot + "/relatedDocument"},
		{name: "parent in another set", sample: P, mut: replacement("2", rplc(planID+".9", planID+".9", "1")), code: RuleRPLCSetID, path: pParent + "/setId/@root"},
		{name: "document replaces itself", sample: P, mut: replacement("2", rplc(newID, planID, "1")), code: RuleRPLCSetID, path: pParent + "/id/@root"},
		{name: "version 3 replaces version 1", sample: P, mut: replacement("3", rplc(planID, planID, "1")), code: RuleRPLCVersion, path: pParent + "/versionNumber/@value"},

		// CDA_BODY_ID
		{name: "body ID of another document", sample: R, mut: rep(`<nonXMLBody ID="OID`+relID+`">`, `<nonXMLBody ID="OID1.2.3">`), code: RuleBodyID, path: pBody + "/@ID"},
		{name: "body ID without OID prefix", sample: P, mut: rep(`<nonXMLBody ID="OID`+planID+`">`, `<nonXMLBody ID="`+planID+`">`), code: RuleBodyID, path: pBody + "/@ID"},

		// CDA_BASE64
		{name: "display form not base64", sample: R, mut: setPart(textRE, "@@@ not base64 @@@"), code: RuleBase64, path: pText},
		{name: "display form with elements", sample: R, mut: setPart(textRE, "<b>PGRpdi8+</b>"), code: RuleBase64, path: pText},
		{name: "structured form bad padding", sample: R, mut: setPart(jsonRE, "eyJhIjoxfQ"), code: RuleBase64, path: pJSON},

		// CDA_MEDIA_TYPE
		{name: "display form as HTML", sample: R, mut: rep(`<text mediaType="application/xhtml+xml"`, `<text mediaType="text/html"`), code: RuleMediaType, path: pText + "/@mediaType"},
		{name: "display form not B64", sample: R, mut: rep(`representation="B64"`, `representation="TXT"`), code: RuleMediaType, path: pText + "/@representation"},
		{name: "display form without representation", sample: R, mut: rep(` representation="B64"`, ``), code: RuleMediaType, path: pText + "/@representation"},
		{name: "structured form as text", sample: R, mut: rep(`<ep2:json xmlns:ep2="urn:hl7finland">`, `<ep2:json xmlns:ep2="urn:hl7finland" mediaType="text/plain">`), code: RuleMediaType, path: pJSON + "/@mediaType"},

		// CDA_XHTML
		{name: "display form not well-formed", sample: R, mut: display(`<div xmlns="http://www.w3.org/1999/xhtml"><p>x</div>`), code: RuleXHTML, path: pText},
		{name: "display form outside XHTML namespace", sample: R, mut: display(`<div><p>x</p></div>`), code: RuleXHTML, path: pText},
		{name: "display form with a DTD", sample: P, mut: display(`<!DOCTYPE div [<!ELEMENT div ANY>]>` + validXHTML), code: RuleXHTML, path: pText},
		{name: "display form with an HTML entity", sample: P, mut: display(`<div xmlns="http://www.w3.org/1999/xhtml">a&nbsp;b</div>`), code: RuleXHTML, path: pText},
		{name: "display form not text", sample: P, mut: display("\x89PNG\r\n\x1a\n"), code: RuleXHTML, path: pText},

		// CDA_PDF
		{name: "PDF display form that is XHTML", sample: R, mut: chain(noFileFormat, rep(`<text mediaType="application/xhtml+xml"`, `<text mediaType="application/pdf"`)), code: RulePDF, path: pText},

		// CDA_JSON
		{name: "structured form truncated", sample: R, mut: structured(`{"asiakkuusasiakirja": {`), code: RuleJSON, path: pJSON},
		{name: "structured form not UTF-8", sample: P, mut: structured("{\"a\": \"\xff\"}"), code: RuleJSON, path: pJSON},

		// CDA_LANGUAGE
		{name: "language one letter", sample: R, mut: rep(`<languageCode code="fi"/>`, `<languageCode code="f"/>`), code: RuleLanguage, path: pRoot + "/languageCode/@code"},
		{name: "language with underscore", sample: P, mut: rep(`<languageCode code="FI"/>`, `<languageCode code="fi_FI"/>`), code: RuleLanguage, path: pRoot + "/languageCode/@code"},

		// CDA_AUTHOR_ID
		{name: "author id under another root", sample: P, mut: rep(`<id root="1.2.246.537.26" extension="25104559650"/>`, `<id root="1.2.246.537.25" extension="25104559650"/>`), code: RuleAuthorID, path: pRoot + "/author/assignedAuthor/id"},
		{name: "author id without number", sample: P, mut: rep(`<id root="1.2.246.537.26" extension="25104559650"/>`, `<id root="1.2.246.537.26"/>`), code: RuleAuthorID, path: pRoot + "/author/assignedAuthor/id"},
		{name: "null author id on group 5", sample: P, mut: rep(`<id root="1.2.246.537.26" extension="25104559650"/>`, `<id nullFlavor="NA"/>`), code: RuleAuthorID, path: pRoot + "/author/assignedAuthor/id"},

		// CDA_VALUE
		{name: "code with a space", sample: P, mut: rep(`<ep2:functionCode code="24"`, `<ep2:functionCode code="2 4"`), code: RuleValue, path: pLocal + "/hl7fi:functionCode/@code"},
		{name: "code longer than 64", sample: P, mut: rep(`<ep2:functionCode code="24"`, `<ep2:functionCode code="`+strings.Repeat("2", 65)+`"`), code: RuleValue, path: pLocal + "/hl7fi:functionCode/@code"},

		// Client identifier rules of package hetu, reported by Read.
		{name: "identity code too short", sample: R, mut: rep(`extension="200111A904P"`, `extension="200111A904"`), code: hetu.RuleFormat, path: pClient + "/@extension"},
		{name: "identity code unknown century", sample: R, mut: rep(`extension="200111A904P"`, `extension="200111G904P"`), code: hetu.RuleCentury, path: pClient + "/@extension"},
		{name: "identity code not a date", sample: R, mut: rep(`extension="200111A904P"`, `extension="300211A904P"`), code: hetu.RuleDate, path: pClient + "/@extension"},
		{name: "identity code individual 001", sample: R, mut: rep(`extension="200111A904P"`, `extension="200111A001P"`), code: hetu.RuleIndividual, path: pClient + "/@extension"},
		{name: "identity code check character", sample: R, mut: rep(`extension="200111A904P"`, `extension="200111A904X"`), code: hetu.RuleChecksum, path: pClient + "/@extension"},
		{name: "client id under an unknown root", sample: P, mut: rep(`<id root="1.2.246.21" extension="180418A903L"/>`, `<id root="1.2.246.22" extension="180418A903L"/>`), code: hetu.RuleClientRoot, path: pClient + "/@root"},
		{name: "temporary id root year", sample: P, mut: rep(`<id root="1.2.246.21" extension="180418A903L"/>`, `<id root="1.2.246.10.2012566.22.1800" extension="T-1"/>`), code: hetu.RuleTempID, path: pClient + "/@extension"},
		{name: "temporary id extension with a space", sample: P, mut: rep(`<id root="1.2.246.21" extension="180418A903L"/>`, `<id root="1.2.246.10.2012566.22.2026" extension="T 1"/>`), code: hetu.RuleTempID, path: pClient + "/@extension"},

		// XML rules of package xmlsafe, reported by Read.
		{name: "DOCTYPE", sample: R, mut: func(t testing.TB, s string) string { return "<!DOCTYPE ClinicalDocument>\r\n" + s }, code: xmlsafe.RuleDTD, path: "/", noDoc: true},
		{name: "undefined entity", sample: R, mut: rep(`<family>Tietosuojatestaus</family>`, `<family>&foo;</family>`), code: xmlsafe.RuleEntity, path: "/", noDoc: true},
		{name: "nesting deeper than the default limit", sample: R, mut: before(`<birthTime `, strings.Repeat("<x>", 70)+strings.Repeat("</x>", 70)), code: xmlsafe.RuleTooDeep, path: "/", noDoc: true},
		{name: "nesting deeper than MaxDepth", sample: R, opt: Options{MaxDepth: 5}, code: xmlsafe.RuleTooDeep, path: "/", noDoc: true},
		{name: "larger than MaxBytes", sample: R, opt: Options{MaxBytes: 25818}, code: xmlsafe.RuleTooLarge, path: "/", noDoc: true},
		{name: "ISO-8859-1", sample: R, mut: func(t testing.TB, s string) string {
			return "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\r\n" + s
		}, code: xmlsafe.RuleEncoding, path: "/", noDoc: true},
		{name: "duplicate attribute", sample: R, mut: rep(`<realmCode code="FI"/>`, `<realmCode code="FI" code="FI"/>`), code: xmlsafe.RuleMalformed, path: "/", noDoc: true},
		{name: "duplicate body ID", sample: P, mut: rep(`<nonXMLBody ID="OID`+planID+`">`, `<nonXMLBody ID="OID`+planID+`" ID="OID1.2.3">`), code: xmlsafe.RuleMalformed, path: "/", noDoc: true},
		{name: "undeclared prefix", sample: R, mut: before(`<birthTime `, `<foo:bar/>`), code: xmlsafe.RuleMalformed, path: "/", noDoc: true},
		{name: "truncated", sample: P, mut: func(t testing.TB, s string) string { return s[:len(s)/2] }, code: xmlsafe.RuleMalformed, path: "/", noDoc: true},
	}
}

// TestRules breaks one rule at a time in a valid sample and checks that the
// rule is reported, where, and that nothing else is.
func TestRules(t *testing.T) {
	for _, tc := range ruleCases() {
		t.Run(tc.name, func(t *testing.T) {
			data := sampleXML(t, tc.sample)
			if tc.mut != nil {
				data = []byte(tc.mut(t, string(data)))
			}
			d, p := Read(data, tc.opt)
			if !p.Has(tc.code) {
				t.Fatalf("problems %v, want %s", p, tc.code)
			}
			if tc.path != "" && !hasAt(p, tc.code, tc.path) {
				t.Errorf("%s not reported at %s: %v", tc.code, tc.path, p)
			}
			allowed := append([]string{tc.code}, tc.also...)
			for _, q := range p {
				if !contains(allowed, q.Code) {
					t.Errorf("unexpected problem %s (the mutation should break only %s)", q, tc.code)
				}
				if q.Message == "" || q.Path == "" {
					t.Errorf("problem without message or path: %#v", q)
				}
			}
			if tc.noDoc != (d == nil) {
				t.Errorf("document returned = %v, want %v", d != nil, !tc.noDoc)
			}
		})
	}
}

func hasAt(p problem.List, code, path string) bool {
	for _, q := range p {
		if q.Code == code && q.Path == path {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRulesAllCovered checks that TestRules breaks every rule the reader
// declares (every Rule* constant in read.go, read from the source so that a
// new rule cannot be added without a case), every client identifier rule of
// package hetu and every rule of package xmlsafe.
func TestRulesAllCovered(t *testing.T) {
	want := map[string]bool{}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "read.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Rule") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", n.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				want[v] = true
			}
		}
	}
	if len(want) < 23 {
		t.Fatalf("found only %d rule constants in read.go", len(want))
	}
	for _, c := range []string{
		hetu.RuleFormat, hetu.RuleCentury, hetu.RuleDate, hetu.RuleIndividual, hetu.RuleChecksum, hetu.RuleClientRoot, hetu.RuleTempID,
		xmlsafe.RuleTooLarge, xmlsafe.RuleMalformed, xmlsafe.RuleDTD, xmlsafe.RuleEntity, xmlsafe.RuleTooDeep, xmlsafe.RuleEncoding,
	} {
		want[c] = true
	}
	for _, tc := range ruleCases() {
		delete(want, tc.code)
	}
	var missing []string
	for c := range want {
		missing = append(missing, c)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no TestRules case breaks %v", missing)
	}
}

// TestValidVariants reads valid variations of the samples cleanly.
func TestValidVariants(t *testing.T) {
	tests := []struct {
		name   string
		sample string
		mut    mutation
		check  func(t *testing.T, d *Document)
	}{
		{name: "temporary client id", sample: samplePlan, mut: rep(`<id root="1.2.246.21" extension="180418A903L"/>`, `<id root="1.2.246.10.2012566.22.2026" extension="T-1"/>`), check: func(t *testing.T, d *Document) {
			if d.Client.ID != (ID{Root: "1.2.246.10.2012566.22.2026", Extension: "T-1"}) {
				t.Errorf("client id %+v", d.Client.ID)
			}
		}},
		{name: "2023 century sign", sample: sampleRelationship, mut: rep(`extension="200111A904P"`, `extension="200111B904P"`), check: func(t *testing.T, d *Document) {
			if d.Client.ID.Extension != "200111B904P" {
				t.Errorf("client id %+v", d.Client.ID)
			}
		}},
		{name: "PDF display form", sample: sampleRelationship, mut: chain(noFileFormat, rep(`<text mediaType="application/xhtml+xml"`, `<text mediaType="application/pdf"`), display("%PDF-1.7\n%âãÏÓ\n")), check: func(t *testing.T, d *Document) {
			if d.Body.DisplayMediaType != MediaPDF || string(d.Body.Display) != "%PDF-1.7\n%âãÏÓ\n" {
				t.Errorf("body %q %q", d.Body.DisplayMediaType, d.Body.Display)
			}
		}},
		{name: "XHTML with an inert DOCTYPE", sample: samplePlan, mut: display(`<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">` + validXHTML), check: func(t *testing.T, d *Document) {
			if !bytes.HasPrefix(d.Body.Display, []byte("<!DOCTYPE html")) {
				t.Errorf("display %q", d.Body.Display)
			}
		}},
		{name: "no structured form", sample: samplePlan, mut: chain(cut("<ep2:json ", "</ep2:json>"), cut("<ep2:structuredFileFormat ", "/>")), check: func(t *testing.T, d *Document) {
			if d.Body.Structured != nil || d.Body.StructuredMediaType != "" || d.StructuredFormat.Present() {
				t.Errorf("structured form %q %q", d.Body.StructuredMediaType, d.Body.Structured)
			}
		}},
		{name: "case with opening and closing dates", sample: samplePlan, mut: rep(`<effectiveTime nullFlavor="NA"/>`, `<effectiveTime><low value="20260101"/><high value="20261231"/></effectiveTime>`), check: func(t *testing.T, d *Document) {
			if d.Case.Opened == nil || !d.Case.Opened.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) ||
				d.Case.Closed == nil || !d.Case.Closed.Equal(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("case %+v", d.Case)
			}
		}},
		{name: "second encounter participant", sample: samplePlan, mut: before("\t\t</encompassingEncounter>",
			`<encounterParticipant typeCode="ADM"><assignedEntity><representedOrganization><id root="1.2.246.10.2012566.10.9"/><name>Toinen yksikkö</name></representedOrganization></assignedEntity></encounterParticipant>`),
			check: func(t *testing.T, d *Document) {
				// the first unit with an OID is the service unit
				if d.Case.ServiceUnit.OID != "1.2.246.10.2012566.10.40006775" {
					t.Errorf("service unit %+v", d.Case.ServiceUnit)
				}
			}},
		{name: "first encounter participant without a unit OID", sample: samplePlan, mut: chain(
			rep(`<id root="1.2.246.10.2012566.10.40006775"/>`, `<id nullFlavor="NA"/>`),
			before("\t\t</encompassingEncounter>", `<encounterParticipant typeCode="ADM"><assignedEntity><representedOrganization><id root="1.2.246.10.2012566.10.9"/><name>Toinen yksikkö</name></representedOrganization></assignedEntity></encounterParticipant>`)),
			check: func(t *testing.T, d *Document) {
				if d.Case.ServiceUnit != (Organisation{OID: "1.2.246.10.2012566.10.9", Name: "Toinen yksikkö"}) {
					t.Errorf("service unit %+v", d.Case.ServiceUnit)
				}
			}},
		{name: "delay ends on a date", sample: samplePlan, mut: before("\t\t<!-- Asiakirjan korvauksen syy. Tämä on tilapäinen ratkaisu. -->", `<ep2:releaseDateForPatientViewing value="20260601"/>`),
			check: func(t *testing.T, d *Document) {
				// The day begins in Finland: 31 May 21:00 UTC in summer time.
				if want := time.Date(2026, 5, 31, 21, 0, 0, 0, time.UTC); d.CitizenRelease == nil || !d.CitizenRelease.Equal(want) {
					t.Errorf("release %v, want %v", d.CitizenRelease, want)
				}
				if d.HideReason.Code != "1" {
					t.Errorf("hide reason %+v", d.HideReason)
				}
			}},
		{name: "delay ends at a time", sample: samplePlan, mut: before("\t\t<!-- Asiakirjan korvauksen syy. Tämä on tilapäinen ratkaisu. -->", `<ep2:releaseDateForPatientViewing value="20260601120000+0300"/>`),
			check: func(t *testing.T, d *Document) {
				if want := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC); d.CitizenRelease == nil || !d.CitizenRelease.Equal(want) {
					t.Errorf("release %v, want %v", d.CitizenRelease, want)
				}
			}},
		{name: "UTF-8 declaration and BOM", sample: sampleRelationship, mut: func(t testing.TB, s string) string {
			return "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n" + s
		}, check: func(t *testing.T, d *Document) {}},
		{name: "another prefix for the Finnish namespace", sample: sampleRelationship, mut: chain(
			repN("<ep2:", "<fi:", 15), repN("</ep2:", "</fi:", 4), repN(`xmlns:ep2="urn:hl7finland"`, `xmlns:fi="urn:hl7finland"`, 2)),
			check: func(t *testing.T, d *Document) {
				if d.ClientRelationshipID == "" || len(d.Signatures) != 1 || len(d.Body.Structured) == 0 {
					t.Errorf("header not read under another prefix: %+v", d.Header)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, p := Read([]byte(tt.mut(t, string(sampleXML(t, tt.sample)))), Options{})
			if len(p) != 0 {
				t.Fatalf("problems: %v", p)
			}
			tt.check(t, d)
		})
	}
}

// TestReplacement reads a valid version 2: its own id, setId the original
// id, RPLC naming version 1, and the reason of correction.
func TestReplacement(t *testing.T) {
	const reason = `<ep2:reasonOfCorrection code="1" codeSystem="1.2.246.537.6.1290.201901" codeSystemName="Korjauksen syy" displayName="Virheellinen tieto"/>` + "\r\n\t\t"
	mut := chain(replacement("2", rplc(planID, planID, "1")), before("<ep2:signature>", reason))
	d, p := Read([]byte(mut(t, string(sampleXML(t, samplePlan)))), Options{})
	if len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	if d.ID != newID || d.SetID != planID || d.Version != 2 {
		t.Errorf("id %s set %s version %d, want %s %s 2", d.ID, d.SetID, d.Version, newID, planID)
	}
	if d.Replaces == nil || *d.Replaces != (Parent{ID: planID, SetID: planID, Version: 1}) {
		t.Errorf("Replaces = %+v", d.Replaces)
	}
	want := Code{Code: "1", System: "1.2.246.537.6.1290.201901", SystemName: "Korjauksen syy", Display: "Virheellinen tieto"}
	if d.ReplacementReason != want {
		t.Errorf("ReplacementReason = %+v, want %+v", d.ReplacementReason, want)
	}
	if got := d.BodyElement().SelectAttrValue("ID", ""); got != "OID"+newID {
		t.Errorf("body ID %s", got)
	}
}

// TestReadFrameIsNotADocument: the transfer frames of the samples are HL7 V3
// messages, not CDA documents.
func TestReadFrameIsNotADocument(t *testing.T) {
	for _, name := range []string{"asiakkuusasiakirja_K", "asia_ja_rajoitukset_K"} {
		_, p := Read(sampleXML(t, name), Options{})
		if !hasAt(p, RuleRoot, "/RCMR_IN200002FI01") || len(p) != 1 {
			t.Errorf("%s: %v, want only %s at /RCMR_IN200002FI01", name, p, RuleRoot)
		}
	}
}

// Personal data of the samples' clients: no problem may carry it.
var personal = []string{
	"200111A904P", "Kanta-Jade", "Tietosuojatestaus", "20110120",
	"180418A903L", "Kanta-Hakuat", "Sosh-Aik", "20180418",
	// identity codes and temporary ids the cases write
	"200111A904", "200111G904P", "300211A904P", "200111A001P", "200111A904X", "T 1",
}

// TestNoPersonalDataInProblems runs every rule case, and cases made to tempt
// a message into quoting the client's identity code or name, and checks that
// no problem carries them.
func TestNoPersonalDataInProblems(t *testing.T) {
	const R, P = sampleRelationship, samplePlan
	cases := ruleCases()
	cases = append(cases,
		ruleCase{name: "unescaped & before the identity code", sample: R, mut: rep(`extension="200111A904P"`, `extension="&200111A904P"`)},
		ruleCase{name: "unescaped & in the name", sample: R, mut: rep(`<family>Tietosuojatestaus</family>`, `<family>Kanta-Jade&Tietosuojatestaus</family>`)},
		ruleCase{name: "name as an entity", sample: P, mut: rep(`<family>Sosh-Aik</family>`, `<family>&Sosh-Aik;</family>`)},
		ruleCase{name: "identity code as an element name", sample: P, mut: rep(`<family>Sosh-Aik</family>`, `<family><180418A903L/></family>`)},
		ruleCase{name: "unescaped & in the display form", sample: R, mut: display(`<div xmlns="http://www.w3.org/1999/xhtml">Kanta-Jade&Tietosuojatestaus 200111A904P</div>`)},
		ruleCase{name: "display form entity", sample: R, mut: display(`<div xmlns="http://www.w3.org/1999/xhtml">&Tietosuojatestaus;</div>`)},
		ruleCase{name: "identity code in an element name of the display form", sample: R, mut: display(`<div xmlns="http://www.w3.org/1999/xhtml"><200111A904P/></div>`)},
		ruleCase{name: "wrong identity code as the client", sample: P, mut: rep(`extension="180418A903L"`, `extension="180418A903M"`)},
	)
	for _, tc := range cases {
		data := sampleXML(t, tc.sample)
		if tc.mut != nil {
			data = []byte(tc.mut(t, string(data)))
		}
		_, p := Read(data, tc.opt)
		if tc.code == "" && len(p) == 0 {
			t.Errorf("%s: no problem reported", tc.name)
		}
		for _, q := range p {
			for _, s := range personal {
				if strings.Contains(q.Message, s) || strings.Contains(q.Path, s) {
					t.Errorf("%s: problem %s carries %q", tc.name, q, s)
				}
			}
		}
	}
}

// TestLargeInputsLinear guards against work quadratic in the size of a
// hostile document: an element with very many attributes and very many
// children that each need the namespace resolved. Reading such a document
// of about 2 MB took minutes before namespace lookups were made linear.
func TestLargeInputsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	const n = 90_000 // under the markup limit, far over what a quadratic reader survives
	var b bytes.Buffer
	b.WriteString("<ClinicalDocument")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " a%d=''", i)
	}
	b.WriteString(` xmlns="urn:hl7-org:v3">`)
	b.WriteString(strings.Repeat("<id/>", n))
	b.WriteString("</ClinicalDocument>")
	start := time.Now()
	_, p := Read(b.Bytes(), Options{})
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("reading %d bytes took %v", b.Len(), el)
	}
	if !hasAt(p, RuleRepeated, pRoot+"/id") {
		t.Errorf("problems %v, want %s at %s/id", p, RuleRepeated, pRoot)
	}
}

// A required header element that is missing is one problem, not one from
// looking for it and another from reading it.
func TestMissingRequiredHeaderElementOnce(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/kanta/asia_ja_rajoitukset_S.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ element, path string }{
		{`<effectiveTime value="20260323105424+0200"/>`, "/ClinicalDocument/effectiveTime"},
		{`<confidentialityCode code="6"`, "/ClinicalDocument/confidentialityCode"},
		{`<ep2:creationTime value="20260323105424+0200"/>`, "hl7fi:creationTime"},
		{`<ep2:documentGroup code="5"`, "hl7fi:documentGroup"},
		{`<ep2:registryType code="1"`, "hl7fi:registryType"},
		{`<ep2:totalRetentionPeriodClass code="1"`, "hl7fi:totalRetentionPeriodClass"},
	} {
		i := bytes.Index(raw, []byte(tc.element))
		if i < 0 {
			t.Fatalf("fixture: %s not in the sample", tc.element)
		}
		j := i + bytes.Index(raw[i:], []byte("/>")) + 2
		doc := append(append([]byte{}, raw[:i]...), raw[j:]...)
		_, probs := Read(doc, Options{})
		n := 0
		for _, p := range probs {
			if p.Code == RuleRequired && strings.HasSuffix(p.Path, tc.path) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("without %s: %d %s problems at %s, want 1: %v", tc.element, n, RuleRequired, tc.path, probs)
		}
	}
}
