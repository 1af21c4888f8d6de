package archive

import (
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/problem"
)

// RuleTempIDOrganisation is the rule code of a temporary client
// identifier that another organisation issued.
const RuleTempIDOrganisation = "CLIENT_TEMP_ID_ORG"

// checkClientID refuses a document whose client has a temporary identifier
// (root <organisation OID>.22.<year>) that neither the submitting
// organisation nor the document's custodian issued. Such identifiers are
// an organisation's own numbering of clients it cannot yet identify; a
// document filed under another organisation's numbering would join that
// organisation's client's documents without either knowing who the
// client is. The custodian's own numbering is what a service provider
// uses when it archives into the organiser's register; whether it may
// write there at all is the access decision's, which follows.
func checkClientID(c Caller, h *cda.Header) error {
	id := hetu.ClientID{Root: h.Client.ID.Root, Extension: h.Client.ID.Extension}
	if !id.Temporary() {
		return nil
	}
	issuer := id.IssuingOrganisation()
	if issuer != "" && (oid.SameOrganisation(issuer, c.Organisation) || oid.SameOrganisation(issuer, h.Custodian.OID)) {
		return nil
	}
	var p problem.List
	p.Add(RuleTempIDOrganisation, "/ClinicalDocument/recordTarget/patientRole/id/@root",
		"a temporary client identifier must be issued under the root of the submitting organisation or of the custodian (%s.22.<year>), not under %s", orgRoot(c.Organisation), id.Root)
	return &Error{Kind: ErrInvalid, Message: "the client's temporary identifier is not the submitting organisation's", Problems: p}
}

// orgRoot is the organisation an OID belongs to: 1.2.246.10.<business id>
// for OIDs under it, else the OID itself.
func orgRoot(s string) string {
	if o := oid.Organisation(s); o != "" {
		return o
	}
	return s
}
