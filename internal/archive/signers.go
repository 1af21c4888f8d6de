package archive

// What binds a document's signatures to the document they vouch for, and
// the revocations the archive holds. Only the body (nonXMLBody, with its
// ID OID<document id>) and each signature's timestamp are signed; the header
// the archive indexes is not. So the header is held to what is signed
// wherever the signed part states the same thing, and the signers to the
// organisations and the author the header names. docs/document-format.md
// states these rules.

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/formjson"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/problem"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// Rule codes of the binding of signatures and signed content to the header.
const (
	// RuleSignerOrganisation: a system signature by another organisation
	// than the custodian's or the submitter's.
	RuleSignerOrganisation = "SIG_SIGNER_ORG"
	// RuleSignerAuthor: a professional's signature by another professional
	// than the author.
	RuleSignerAuthor = "SIG_SIGNER_AUTHOR"
	// RuleBodyClient: the signed structured form names another client than
	// the header's recordTarget.
	RuleBodyClient = "CDA_BODY_CLIENT"
	// RuleBodyOrganiser: a client relationship document whose signed
	// structured form names an organiser's unit of another organisation
	// than the custodian.
	RuleBodyOrganiser = "RELATIONSHIP_ORGANISER"
)

const signaturePath = "/ClinicalDocument/hl7fi:localSocialHeader/hl7fi:signatureCollection/hl7fi:signature[%d]/ds:Signature/ds:KeyInfo"

// Binding checks what a document says in its signed part against its
// header, and its professionals' signatures against its author. It needs
// nothing but the document, so `arkisto validate` runs it too. The system
// signatures are bound to the custodian or the submitter on archiving
// (SignerProblems), where the submitter is known.
func Binding(d *cda.Document, rep *xmldsig.Report) problem.List {
	if d == nil {
		return nil
	}
	return binding(d, rep, readForm(d))
}

// binding is Binding with the structured form's tape (nil: none).
func binding(d *cda.Document, rep *xmldsig.Report, form *formjson.Tape) problem.List {
	var p problem.List
	if rep != nil {
		bindProfessionals(d, rep, &p)
	}
	bindStructured(d, form, &p)
	return p
}

// readForm reads a document's structured form once for the steps that
// decode it; nil when there is none, or it is left to encoding/json.
func readForm(d *cda.Document) *formjson.Tape {
	if len(d.Body.Structured) == 0 {
		return nil
	}
	if t := d.StructuredForm(); t != nil {
		return t // read by cda as it checked the form
	}
	t, _ := formjson.Parse(d.Body.Structured)
	return t
}

// bindProfessionals: a professional signs as the author — the header's own
// account of a professional's signature is hl7fi:assignedAuthorSigner. A
// document without
// an author id (a client relationship document, author nullFlavor NA) has
// no one a professional's signature could be bound to: the organisation's
// system signs it.
func bindProfessionals(d *cda.Document, rep *xmldsig.Report, p *problem.List) {
	author := d.Author.ID
	for _, s := range rep.Signatures {
		if s.Type != xmldsig.TypeProfessional || s.SignerID == "" {
			continue
		}
		path := fmt.Sprintf(signaturePath, s.Index)
		switch {
		case author.Root != codes.OIDProfessional || author.Extension == "":
			p.Add(RuleSignerAuthor, path, "a professional's signature must be the author's, and this document names no author by registration number (/ClinicalDocument/author/assignedAuthor/id); a document without an author is signed by the organisation's system (signature type %s)", codes.SignatureSystem)
		case s.SignerID != author.Extension:
			// The numbers are not repeated: they identify people.
			p.Add(RuleSignerAuthor, path, "a professional's signature must be the author's: the certificate's registration number (subject serialNumber) is not the author id /ClinicalDocument/author/assignedAuthor/id/@extension")
		}
	}
}

// SignerProblems binds the system signatures of a checked document to the
// organisations that answer for it: a system signature must be made with a
// certificate of the custodian's organisation or of the submitting
// organisation (a service provider archiving into the organiser's register
// signs with its own system), named by the certificate's serialNumber.
func (ch *Checked) SignerProblems(c Caller) problem.List {
	if ch == nil || ch.Doc == nil || ch.Report == nil {
		return nil
	}
	var p problem.List
	for _, s := range ch.Report.Signatures {
		if s.Type != xmldsig.TypeSystem || s.SignerID == "" {
			continue
		}
		if !oid.SameOrganisation(s.SignerID, ch.Doc.Custodian.OID) && !oid.SameOrganisation(s.SignerID, c.Organisation) {
			p.Add(RuleSignerOrganisation, fmt.Sprintf(signaturePath, s.Index), "a system signature must be made with a certificate of the custodian (%s) or of the submitting organisation (%s); this certificate's serialNumber names %s",
				ch.Doc.Custodian.OID, c.Organisation, s.SignerID)
		}
	}
	return p
}

// A person as the national structured forms state one: identity code and
// temporary identifier, each {system, value}.
type statedPerson struct {
	Hetu      *statedID `json:"henkilotunnus"`
	Temporary *statedID `json:"tilapainen_yksilointitunnus"`
}

type statedID struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

type unitRef struct {
	Code string `json:"code"`
}

// bindStructured holds the header to what the signed structured form
// (hl7fi:json) states: the client (asiakas) of any document type, and the
// organiser of a client relationship document. The forms differ by
// document type; every national form names its client as asiakas, an object
// or a list, in the form's top object. A form that states no client is not
// checked: the header's client cannot be bound to it (docs/document-format.md).
func bindStructured(d *cda.Document, form *formjson.Tape, p *problem.List) {
	js := d.Body.Structured
	if len(bytes.TrimSpace(js)) == 0 {
		return
	}
	var persons []statedPerson
	var organisers []string
	r := formjson.Unsure
	if form != nil {
		persons, organisers, r = statedFast(form)
	}
	if r == formjson.Unsure {
		var ok bool
		if persons, organisers, ok = statedStd(js); !ok {
			return
		}
	} else if r == formjson.Failed {
		return
	}

	var stated []cda.ID
	for _, pr := range persons {
		if pr.Hetu != nil && pr.Hetu.Value != "" {
			sys := stripURN(pr.Hetu.System)
			if sys == "" {
				sys = hetu.OIDRoot
			}
			stated = append(stated, cda.ID{Root: sys, Extension: pr.Hetu.Value})
		}
		if pr.Temporary != nil && pr.Temporary.Value != "" {
			stated = append(stated, cda.ID{Root: stripURN(pr.Temporary.System), Extension: pr.Temporary.Value})
		}
	}
	if len(stated) > 0 {
		client, found := d.Client.ID, false
		for _, id := range stated {
			found = found || (id.Root == client.Root && id.Extension == client.Extension)
		}
		if !found {
			// Neither identity is named: both are identity codes.
			p.Add(RuleBodyClient, "/ClinicalDocument/recordTarget/patientRole/id", "the signed structured form (hl7fi:json, asiakas) names another client than the header's recordTarget: a document is filed under the client its signed content names")
		}
	}
	if d.DocumentGroup.Code == codes.GroupClientRelationship {
		for _, o := range organisers {
			if !oid.SameOrganisation(o, d.Custodian.OID) {
				p.Add(RuleBodyOrganiser, "/ClinicalDocument/custodian/assignedCustodian/representedCustodianOrganization/id/@root", "the signed structured form names the organiser's unit %s (palvelunjarjestajan_toimintayksikko), which is not of the custodian %s: a client relationship belongs in its organiser's register", o, d.Custodian.OID)
			}
		}
	}
}

// statedStd reads the persons (asiakas) and organisers' units a structured
// form states with encoding/json; false when the form is not a JSON
// object (CDA_JSON already says so, or the form is not an object).
func statedStd(js []byte) (persons []statedPerson, organisers []string, ok bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(js, &top) != nil {
		return nil, nil, false
	}
	collect := func(raw json.RawMessage) {
		if len(raw) == 0 {
			return
		}
		var one statedPerson
		var many []statedPerson
		switch {
		case json.Unmarshal(raw, &many) == nil:
			persons = append(persons, many...)
		case json.Unmarshal(raw, &one) == nil:
			persons = append(persons, one)
		}
	}
	collect(top["asiakas"])
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys) // problems in a stable order
	for _, k := range keys {
		v := top[k]
		var form struct {
			Asiakas   json.RawMessage `json:"asiakas"`
			Organiser *unitRef        `json:"palvelunjarjestajan_toimintayksikko"`
		}
		if json.Unmarshal(v, &form) != nil {
			continue
		}
		collect(form.Asiakas)
		if form.Organiser != nil && form.Organiser.Code != "" {
			organisers = append(organisers, form.Organiser.Code)
		}
	}
	return persons, organisers, true
}

// The fields of the types statedStd decodes into, as encoding/json
// matches keys to them.
var (
	formFields   = []string{"asiakas", "palvelunjarjestajan_toimintayksikko"}
	personFields = []string{"henkilotunnus", "tilapainen_yksilointitunnus"}
	idFields     = []string{"system", "value"}
	unitFields   = []string{"code"}
)

// statedFast is statedStd from the form's tape, read once for the whole
// check: Failed where statedStd returns false, Unsure where encoding/json
// would merge or replace values (a key given twice), which leaves the
// form to statedStd.
func statedFast(t *formjson.Tape) (persons []statedPerson, organisers []string, r formjson.Result) {
	switch t.Kind(0) {
	case formjson.Null:
		return nil, nil, formjson.OK // a nil map: nothing stated
	case formjson.Object:
	default:
		return nil, nil, formjson.Failed
	}
	type member struct {
		key []byte
		v   int
	}
	var buf [8]member
	top := buf[:0]
	asiakas := -1
	if r := t.Members(0, func(key []byte, v int) formjson.Result {
		top = append(top, member{key, v})
		if string(key) == "asiakas" {
			asiakas = v
		}
		return formjson.OK
	}); r != formjson.OK {
		return nil, nil, r
	}
	slices.SortFunc(top, func(a, b member) int { return bytes.Compare(a.key, b.key) })
	for i := 1; i < len(top); i++ {
		if bytes.Equal(top[i-1].key, top[i].key) {
			return nil, nil, formjson.Unsure // a map keeps the last
		}
	}
	if persons, r = collectFast(t, asiakas, persons); r == formjson.Unsure {
		return nil, nil, r
	}
	for _, m := range top {
		present, r := t.IsObject(m.v)
		if r != formjson.OK || !present {
			continue // not a form (statedStd's continue), or null: nothing stated
		}
		var f [2]int
		if r := t.Fields(m.v, formFields, f[:]); r != formjson.OK {
			return nil, nil, r
		}
		var org unitRef
		hasOrg, r := t.IsObject(f[1])
		if r == formjson.OK && hasOrg {
			var c [1]int
			if r = t.Fields(f[1], unitFields, c[:]); r == formjson.OK {
				r = t.String(c[0], &org.Code)
			}
		}
		if r == formjson.Unsure {
			return nil, nil, r
		}
		if r == formjson.Failed {
			continue
		}
		// Only now: a type error anywhere in the form leaves its client
		// uncollected too.
		if persons, r = collectFast(t, f[0], persons); r == formjson.Unsure {
			return nil, nil, r
		}
		if hasOrg && org.Code != "" {
			organisers = append(organisers, org.Code)
		}
	}
	return persons, organisers, formjson.OK
}

// collectFast is statedStd's collect: a list of persons, or one.
func collectFast(t *formjson.Tape, v int, persons []statedPerson) ([]statedPerson, formjson.Result) {
	if v < 0 {
		return persons, formjson.OK
	}
	switch t.Kind(v) {
	case formjson.Array:
		n := len(persons)
		r := t.Elements(v, func(e int) formjson.Result {
			var pr statedPerson
			present, r := t.IsObject(e)
			if r == formjson.OK && present {
				r = personFast(t, e, &pr)
			}
			persons = append(persons, pr)
			return r
		})
		if r != formjson.OK {
			// Unsure, or a type error: neither a list nor one person.
			return persons[:n], r
		}
	case formjson.Object:
		var pr statedPerson
		r := personFast(t, v, &pr)
		if r == formjson.OK {
			persons = append(persons, pr)
		} else if r == formjson.Unsure {
			return persons, r
		}
	}
	return persons, formjson.OK
}

func personFast(t *formjson.Tape, v int, pr *statedPerson) formjson.Result {
	var f [2]int
	if r := t.Fields(v, personFields, f[:]); r != formjson.OK {
		return r
	}
	r := formjson.OK
	for i, dst := range []**statedID{&pr.Hetu, &pr.Temporary} {
		present, ri := t.IsObject(f[i])
		if ri == formjson.OK && present {
			id := new(statedID)
			var g [2]int
			if ri = t.Fields(f[i], idFields, g[:]); ri == formjson.OK {
				ri = t.String(g[0], &id.System).And(t.String(g[1], &id.Value))
			}
			*dst = id
		}
		r = r.And(ri)
	}
	return r
}

func stripURN(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 8 && strings.EqualFold(s[:8], "urn:oid:") {
		return s[8:]
	}
	return s
}

// RevocationIndex indexes revocations by issuer and serial.
func RevocationIndex(list []RevokedCert) map[string]time.Time {
	m := make(map[string]time.Time, len(list))
	for _, rc := range list {
		m[rc.Issuer+"|"+rc.Serial] = rc.RevokedAt
	}
	return m
}

// RevocationLookup turns an index into the verifier's lookup.
func RevocationLookup(m map[string]time.Time) func(*x509.Certificate) (time.Time, bool) {
	return func(c *x509.Certificate) (time.Time, bool) {
		issuer, serial := RevocationKey(c)
		at, ok := m[issuer+"|"+serial]
		return at, ok
	}
}
