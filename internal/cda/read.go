package cda

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fitime"
	"github.com/arkisto/arkisto/internal/formjson"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/problem"
	"github.com/arkisto/arkisto/internal/xmlsafe"
)

// Rule codes of the CDA reader. They are stable: clients match on them.
const (
	RuleRoot           = "CDA_ROOT"
	RuleRequired       = "CDA_REQUIRED"
	RuleRepeated       = "CDA_REPEATED"
	RuleFixed          = "CDA_FIXED"
	RuleOID            = "CDA_OID"
	RuleCodeSystem     = "CDA_CODE_SYSTEM"
	RuleCodeUnknown    = "CDA_CODE_UNKNOWN"
	RuleTime           = "CDA_TIME"
	RuleVersion        = "CDA_VERSION"
	RuleSetID          = "CDA_SET_ID"
	RuleRPLCMissing    = "CDA_RPLC_MISSING"
	RuleRPLCUnexpected = "CDA_RPLC_UNEXPECTED"
	RuleRPLCSetID      = "CDA_RPLC_SET_ID"
	RuleRPLCVersion    = "CDA_RPLC_VERSION"
	RuleBodyID         = "CDA_BODY_ID"
	RuleBase64         = "CDA_BASE64"
	RuleMediaType      = "CDA_MEDIA_TYPE"
	RuleXHTML          = "CDA_XHTML"
	RulePDF            = "CDA_PDF"
	RuleJSON           = "CDA_JSON"
	RuleLanguage       = "CDA_LANGUAGE"
	RuleAuthorID       = "CDA_AUTHOR_ID"
	RuleValue          = "CDA_VALUE"
)

// MaxIDLength bounds a document id: ids are used as FHIR resource ids.
const MaxIDLength = 64

// Options configure Read. Zero values mean the defaults.
type Options struct {
	MaxBytes int64 // size limit of the whole document; default 20 MiB
	MaxDepth int   // nesting limit; default 64
}

// Read parses and checks a Kanta social welfare CDA document. It returns the
// document whenever the XML could be parsed, and every problem found; the
// document is acceptable only when the list is empty.
func Read(data []byte, opt Options) (*Document, problem.List) {
	tree, err := xmlsafe.Parse(data, xmlsafe.Limits{MaxBytes: opt.MaxBytes, MaxDepth: opt.MaxDepth})
	if err != nil {
		return nil, xmlsafe.Problems(err)
	}
	r := &reader{opt: opt}
	d := r.document(tree)
	r.validate(d)
	if len(r.p) == 0 {
		return d, nil
	}
	return d, r.p
}

type reader struct {
	opt Options
	p   problem.List
}

// node is an element with its path for problem reports.
type node struct {
	el   *etree.Element
	path string
}

func (n node) ok() bool { return n.el != nil }

// nsPrefix is the prefix paths give elements of a namespace.
func nsPrefix(ns string) string {
	switch ns {
	case NSHL7FI:
		return "hl7fi:"
	case NSDSig:
		return "ds:"
	}
	return ""
}

func (r *reader) add(code, path, format string, args ...any) {
	r.p.Add(code, path, format, args...)
}

// children returns the child elements of n named local in namespace ns.
func children(n node, ns, local string) []node {
	var out []node
	matching(n, ns, local, func(c *etree.Element) {
		out = append(out, node{c, ""})
	})
	name := nsPrefix(ns) + local
	for i := range out {
		out[i].path = n.path + "/" + name
		if len(out) > 1 {
			out[i].path += "[" + strconv.Itoa(i+1) + "]"
		}
	}
	return out
}

// matching calls fn with each child element of n named local in
// namespace ns, in order.
func matching(n node, ns, local string, fn func(*etree.Element)) {
	if n.el == nil {
		return
	}
	// Prefixes resolved at n, a few kept without a map: a call sees one
	// or two, and this runs for every element the reader looks for.
	var inherited [4]struct{ prefix, uri string }
	var more map[string]string
	known := 0
	for _, t := range n.el.Child {
		c, ok := t.(*etree.Element)
		if !ok || c.Tag != local {
			continue
		}
		// etree's NamespaceURI rescans the parent's attributes for every
		// child: quadratic on a hostile document. Resolve each prefix at the
		// parent once instead.
		uri, ok := declaredNS(c, c.Space)
		if !ok {
			for i := range known {
				if inherited[i].prefix == c.Space {
					uri, ok = inherited[i].uri, true
					break
				}
			}
			if !ok && more != nil {
				uri, ok = more[c.Space]
			}
			if !ok {
				uri = lookupNS(n.el, c.Space)
				if known < len(inherited) {
					inherited[known].prefix, inherited[known].uri = c.Space, uri
					known++
				} else {
					if more == nil {
						more = map[string]string{}
					}
					more[c.Space] = uri
				}
			}
		}
		if uri == ns {
			fn(c)
		}
	}
}

// declaredNS returns the namespace el itself binds prefix to ("" for the
// default namespace), as etree's NamespaceURI reads declarations.
func declaredNS(el *etree.Element, prefix string) (string, bool) {
	for _, a := range el.Attr {
		if prefix == "" && a.Space == "" && a.Key == "xmlns" || prefix != "" && a.Space == "xmlns" && a.Key == prefix {
			return a.Value, true
		}
	}
	return "", false
}

// lookupNS resolves prefix at el, walking up to the root.
func lookupNS(el *etree.Element, prefix string) string {
	for ; el != nil; el = el.Parent() {
		if uri, ok := declaredNS(el, prefix); ok {
			return uri
		}
	}
	return ""
}

// opt returns the only child named local, or a zero node; a repeated child
// is a problem. It is children's first, without collecting them.
func (r *reader) opt1(n node, ns, local string) node {
	var first *etree.Element
	count := 0
	matching(n, ns, local, func(c *etree.Element) {
		if count == 0 {
			first = c
		}
		count++
	})
	path := n.path + "/" + nsPrefix(ns) + local
	switch count {
	case 0:
		return node{path: path}
	case 1:
		return node{first, path}
	}
	r.add(RuleRepeated, path, "element may appear only once, appears %d times", count)
	return node{first, path + "[1]"}
}

// req is opt1 for a required child.
func (r *reader) req(n node, ns, local string) node {
	c := r.opt1(n, ns, local)
	if !c.ok() && n.ok() {
		r.add(RuleRequired, c.path, "required element is missing")
	}
	return c
}

// attr returns an unprefixed attribute's value.
func attr(el *etree.Element, key string) string {
	if el == nil {
		return ""
	}
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value
		}
	}
	return ""
}

// reqAttr returns a required attribute of a present element.
func (r *reader) reqAttr(n node, key string) string {
	if !n.ok() {
		return ""
	}
	v := attr(n.el, key)
	if v == "" {
		r.add(RuleRequired, n.path+"/@"+key, "required attribute is missing or empty")
	}
	return v
}

// oidAttr reads an OID attribute; required applies when the element is present.
func (r *reader) oidAttr(n node, key string, required bool) string {
	if !n.ok() {
		return ""
	}
	v := attr(n.el, key)
	if v == "" {
		if required {
			r.add(RuleRequired, n.path+"/@"+key, "required OID is missing")
		}
		return ""
	}
	if err := oid.Check(v); err != nil {
		r.add(RuleOID, n.path+"/@"+key, "not a well-formed OID: %v", err)
	}
	return v
}

// hasPlainAttrs reports attributes other than namespace declarations.
func hasPlainAttrs(el *etree.Element) bool {
	for _, a := range el.Attr {
		if a.Space != "xmlns" && !(a.Space == "" && a.Key == "xmlns") {
			return true
		}
	}
	return false
}

// text returns an element's character data, comments skipped, trimmed.
func text(el *etree.Element) string {
	if el == nil {
		return ""
	}
	// Most elements hold one piece of text: no copy then.
	var one string
	pieces := 0
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok {
			if pieces == 0 {
				one = cd.Data
			}
			pieces++
		}
	}
	if pieces <= 1 {
		return strings.TrimSpace(one)
	}
	var b strings.Builder
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

// code reads a coded element. allowNull lets a nullFlavor stand for the code.
func (r *reader) code(n node, sys *codes.System, required, allowNull bool) Code {
	if !n.ok() {
		if required {
			r.add(RuleRequired, n.path, "required element is missing")
		}
		return Code{}
	}
	c := Code{
		Code:       attr(n.el, "code"),
		System:     attr(n.el, "codeSystem"),
		SystemName: attr(n.el, "codeSystemName"),
		Display:    attr(n.el, "displayName"),
		NullFlavor: attr(n.el, "nullFlavor"),
	}
	if c.Code == "" {
		if c.NullFlavor != "" && !allowNull {
			r.add(RuleRequired, n.path+"/@code", "a code is required here; nullFlavor %q is not accepted", c.NullFlavor)
		} else if c.NullFlavor == "" && (required || hasPlainAttrs(n.el)) {
			r.add(RuleRequired, n.path+"/@code", "code is missing")
		}
		return c
	}
	if len(c.Code) > 64 || strings.ContainsAny(c.Code, " \t\r\n") {
		r.add(RuleValue, n.path+"/@code", "code must be 1–64 characters without spaces")
	}
	if c.System != sys.OID {
		r.add(RuleCodeSystem, n.path+"/@codeSystem", "code system must be %s (%s), is %q", sys.OID, sys.Name.EN, c.System)
		return c
	}
	if sys.Closed && !sys.Known(c.Code) {
		r.add(RuleCodeUnknown, n.path+"/@code", "code %q is not one the archive accepts from %s (%s)", c.Code, sys.OID, sys.Name.EN)
	}
	return c
}

// ts reads the value attribute of a time element. needTime demands a time of day.
func (r *reader) ts(n node, required, needTime bool) (time.Time, bool) {
	if !n.ok() {
		if required {
			r.add(RuleRequired, n.path, "required element is missing")
		}
		return time.Time{}, false
	}
	v := attr(n.el, "value")
	if v == "" {
		if required && attr(n.el, "nullFlavor") == "" {
			r.add(RuleRequired, n.path+"/@value", "required time is missing")
		} else if required {
			r.add(RuleRequired, n.path+"/@value", "a time is required here; nullFlavor is not accepted")
		}
		return time.Time{}, false
	}
	t, hasTime, err := ParseTS(v)
	if err != nil {
		r.add(RuleTime, n.path+"/@value", "%v", err)
		return time.Time{}, false
	}
	if needTime && !hasTime {
		r.add(RuleTime, n.path+"/@value", "a date and time of day with zone offset is required, as in 20260323105424+0200")
		return time.Time{}, false
	}
	return t, true
}

// ii reads an instance identifier without judging it.
func ii(n node) ID {
	if !n.ok() {
		return ID{}
	}
	return ID{Root: attr(n.el, "root"), Extension: attr(n.el, "extension"), NullFlavor: attr(n.el, "nullFlavor")}
}

func (r *reader) name(n node, ns string) Name {
	var nm Name
	if !n.ok() {
		return nm
	}
	for _, g := range children(n, ns, "given") {
		if attr(g.el, "qualifier") == "CL" {
			nm.CallName = text(g.el)
		} else {
			nm.Given = append(nm.Given, text(g.el))
		}
	}
	if f := children(n, ns, "family"); len(f) > 0 {
		nm.Family = text(f[0].el)
	}
	return nm
}

func (r *reader) org(n node) Organisation {
	if !n.ok() {
		return Organisation{}
	}
	o := Organisation{OID: r.oidAttr(r.opt1(n, NSHL7, "id"), "root", false)}
	if nm := r.opt1(n, NSHL7, "name"); nm.ok() {
		o.Name = text(nm.el)
	}
	return o
}

var languageRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

func (r *reader) document(tree *etree.Document) *Document {
	d := &Document{tree: tree}
	root := node{tree.Root(), "/ClinicalDocument"}
	if root.el.Tag != "ClinicalDocument" || root.el.NamespaceURI() != NSHL7 {
		r.add(RuleRoot, "/"+root.el.FullTag(), "root element must be ClinicalDocument in namespace %s", NSHL7)
		return d
	}
	h := &d.Header

	if rc := r.req(root, NSHL7, "realmCode"); rc.ok() && attr(rc.el, "code") != "FI" {
		r.add(RuleFixed, rc.path+"/@code", "realmCode must be FI")
	}
	if t := r.req(root, NSHL7, "typeId"); t.ok() && (attr(t.el, "root") != codes.OIDCDATypeID || attr(t.el, "extension") != "POCD_HD000040") {
		r.add(RuleFixed, t.path, "typeId must be root %s extension POCD_HD000040", codes.OIDCDATypeID)
	}
	h.ID = r.oidAttr(r.req(root, NSHL7, "id"), "root", true)
	h.GeneralType = r.code(r.req(root, NSHL7, "code"), codes.DocumentType, false, true)
	// opt1, not req: ts and code report a required element missing
	// themselves, once.
	h.EffectiveTime, _ = r.ts(r.opt1(root, NSHL7, "effectiveTime"), true, true)
	h.Confidentiality = r.code(r.opt1(root, NSHL7, "confidentialityCode"), codes.Confidentiality, true, false)
	if lc := r.req(root, NSHL7, "languageCode"); lc.ok() {
		h.Language = strings.ToLower(r.reqAttr(lc, "code"))
		if h.Language != "" && !languageRE.MatchString(h.Language) {
			r.add(RuleLanguage, lc.path+"/@code", "language must be a language tag such as fi, sv or en")
		}
	}
	h.SetID = r.oidAttr(r.req(root, NSHL7, "setId"), "root", true)
	h.Version = r.version(r.req(root, NSHL7, "versionNumber"))

	r.client(root, h)
	r.author(root, h)

	cust := r.req(r.req(r.req(root, NSHL7, "custodian"), NSHL7, "assignedCustodian"), NSHL7, "representedCustodianOrganization")
	if cust.ok() {
		h.Custodian.OID = r.oidAttr(r.req(cust, NSHL7, "id"), "root", true)
		if nm := r.req(cust, NSHL7, "name"); nm.ok() {
			h.Custodian.Name = text(nm.el)
			if h.Custodian.Name == "" {
				r.add(RuleRequired, nm.path, "custodian name is empty")
			}
		}
	}

	if c := r.opt1(r.opt1(r.opt1(root, NSHL7, "authorization"), NSHL7, "consent"), NSHL7, "code"); c.ok() {
		h.GuardianDisclosure = r.code(c, codes.GuardianDisclosure, false, true)
	}

	r.related(root, h)
	r.encounter(root, h)
	r.localHeader(root, h)
	r.body(root, d)
	return d
}

func (r *reader) client(root node, h *Header) {
	pr := r.req(r.req(root, NSHL7, "recordTarget"), NSHL7, "patientRole")
	if !pr.ok() {
		return
	}
	idn := r.req(pr, NSHL7, "id")
	h.Client.ID = ii(idn)
	if idn.ok() {
		if h.Client.ID.Root == "" || h.Client.ID.Extension == "" {
			r.add(RuleRequired, idn.path, "client id needs root and extension")
		} else if _, err := hetu.ParseClientID(h.Client.ID.Root, h.Client.ID.Extension); err != nil {
			var he *hetu.Error
			if errors.As(err, &he) {
				path := idn.path + "/@extension"
				if he.Rule == hetu.RuleClientRoot {
					path = idn.path + "/@root"
				}
				r.add(he.Rule, path, "%s", he.Message)
			}
		}
	}
	p := r.opt1(pr, NSHL7, "patient")
	h.Client.Name = r.name(r.opt1(p, NSHL7, "name"), NSHL7)
	if g := r.opt1(p, NSHL7, "administrativeGenderCode"); g.ok() {
		h.Client.Gender = r.code(g, codes.Gender, false, true)
	}
	if b := r.opt1(p, NSHL7, "birthTime"); b.ok() && attr(b.el, "value") != "" {
		if _, ok := r.ts(b, false, false); ok {
			h.Client.BirthTime = attr(b.el, "value")
		}
	}
}

func (r *reader) author(root node, h *Header) {
	authors := children(root, NSHL7, "author")
	if len(authors) == 0 {
		r.add(RuleRequired, root.path+"/author", "required element is missing")
		return
	}
	a := authors[0]
	if t := r.opt1(a, NSHL7, "time"); t.ok() {
		h.Author.Time = attr(t.el, "value")
		if h.Author.Time != "" {
			r.ts(t, false, true)
		}
	}
	aa := r.req(a, NSHL7, "assignedAuthor")
	idn := r.req(aa, NSHL7, "id")
	h.Author.ID = ii(idn)
	if idn.ok() && h.Author.ID.NullFlavor == "" {
		if h.Author.ID.Root != codes.OIDProfessional || h.Author.ID.Extension == "" {
			r.add(RuleAuthorID, idn.path, "author id must be a professional registration number: root %s with the number as extension", codes.OIDProfessional)
		}
	}
	h.Author.Name = r.name(r.opt1(r.opt1(aa, NSHL7, "assignedPerson"), NSHL7, "name"), NSHL7)
}

// version reads a versionNumber: a positive integer written plainly.
func (r *reader) version(v node) int {
	if !v.ok() {
		return 0
	}
	s := r.reqAttr(v, "value")
	n, err := strconv.Atoi(s)
	if s != "" && (err != nil || n < 1 || n > 1_000_000 || s[0] == '0' || s[0] == '+') {
		r.add(RuleVersion, v.path+"/@value", "version must be a positive integer")
		return 0
	}
	return n
}

func (r *reader) related(root node, h *Header) {
	var rplc []node
	for _, rd := range children(root, NSHL7, "relatedDocument") {
		if attr(rd.el, "typeCode") == "RPLC" {
			rplc = append(rplc, rd)
		}
	}
	if len(rplc) == 0 {
		return
	}
	if len(rplc) > 1 {
		r.add(RuleRepeated, root.path+"/relatedDocument", "a document replaces at most one version; %d RPLC relations given", len(rplc))
	}
	pd := r.req(rplc[0], NSHL7, "parentDocument")
	if !pd.ok() {
		return
	}
	p := &Parent{
		ID:    r.oidAttr(r.req(pd, NSHL7, "id"), "root", true),
		SetID: r.oidAttr(r.req(pd, NSHL7, "setId"), "root", true),
	}
	p.Version = r.version(r.req(pd, NSHL7, "versionNumber"))
	h.Replaces = p
}

func (r *reader) encounter(root node, h *Header) {
	ee := r.opt1(r.opt1(root, NSHL7, "componentOf"), NSHL7, "encompassingEncounter")
	if !ee.ok() {
		return
	}
	if idn := r.opt1(ee, NSHL7, "id"); idn.ok() {
		h.Case.ID = r.oidAttr(idn, "root", false)
	}
	if et := r.opt1(ee, NSHL7, "effectiveTime"); et.ok() {
		if attr(et.el, "value") != "" {
			if t, ok := r.ts(et, false, false); ok {
				h.Case.Opened = &t
			}
		}
		if lo := r.opt1(et, NSHL7, "low"); lo.ok() && attr(lo.el, "value") != "" {
			if t, ok := r.ts(lo, false, false); ok {
				h.Case.Opened = &t
			}
		}
		if hi := r.opt1(et, NSHL7, "high"); hi.ok() && attr(hi.el, "value") != "" {
			if t, ok := r.ts(hi, false, false); ok {
				h.Case.Closed = &t
			}
		}
	}
	h.Case.Responsible = r.org(r.opt1(r.opt1(r.opt1(ee, NSHL7, "responsibleParty"), NSHL7, "assignedEntity"), NSHL7, "representedOrganization"))
	for _, ep := range children(ee, NSHL7, "encounterParticipant") {
		u := r.org(r.opt1(r.opt1(ep, NSHL7, "assignedEntity"), NSHL7, "representedOrganization"))
		if u.OID != "" && h.Case.ServiceUnit.OID == "" {
			h.Case.ServiceUnit = u
		}
	}
}

func (r *reader) localHeader(root node, h *Header) {
	lh := r.req(root, NSHL7FI, "localSocialHeader")
	if !lh.ok() {
		return
	}
	fi := func(local string) node { return r.opt1(lh, NSHL7FI, local) }

	h.SpecificType = r.code(fi("specificDocumentType"), codes.DocumentType, false, false)
	h.CreationTime, _ = r.ts(r.opt1(lh, NSHL7FI, "creationTime"), true, true)
	h.DocumentGroup = r.code(r.opt1(lh, NSHL7FI, "documentGroup"), codes.DocumentGroup, true, false)
	h.DisplayFormat = r.code(fi("fileFormat"), codes.DisplayFormat, false, false)
	h.StructuredFormat = r.code(fi("structuredFileFormat"), codes.StructuredFormat, false, false)
	if s := fi("softwareSupport"); s.ok() {
		h.Software = Software{attr(s.el, "moderator"), attr(s.el, "product"), attr(s.el, "version")}
	}
	h.RecordStatus = r.code(fi("recordStatus"), codes.RecordStatus, false, false)
	h.ServiceTask = r.code(fi("functionCode"), codes.ServiceTask, false, false)
	h.Register = r.code(r.opt1(lh, NSHL7FI, "registryType"), codes.Register, true, false)
	h.Organiser.OID = r.oidAttr(fi("outsourcingServiceCustomer"), "root", true)
	if n := fi("outsourcingServiceCustomerName"); n.ok() {
		h.Organiser.Name = text(n.el)
	}
	h.RetentionClass = r.code(r.opt1(lh, NSHL7FI, "totalRetentionPeriodClass"), codes.RetentionClass, true, false)
	h.SpecialContent = r.code(fi("specialContent"), codes.YesNo, false, false)
	if cs := fi("contentSpecificationId"); cs.ok() {
		h.ContentSpecification = text(cs.el)
		if err := oid.Check(h.ContentSpecification); err != nil {
			r.add(RuleOID, cs.path, "content specification must be an OID: %v", err)
		}
	}
	h.ClientRelationshipID = r.oidAttr(fi("encompassingClientRelationship"), "root", true)
	if sp := fi("serviceProcess"); sp.ok() {
		p := &ServiceProcess{}
		if t := r.opt1(sp, NSHL7FI, "type"); t.ok() {
			p.Type = text(t.el)
		}
		p.Code = r.code(r.opt1(sp, NSHL7FI, "code"), codes.ServiceProcess, false, false)
		h.ServiceProcess = p
	}
	h.HideReason = r.code(fi("inaccessibleArgument"), codes.HideReason, false, false)
	if a := fi("authorizationRestrictionArgument"); a.ok() {
		h.HideReasonText = text(a.el)
	}
	if rd := fi("releaseDateForPatientViewing"); rd.ok() {
		if t, ok := r.ts(rd, false, false); ok {
			if v := attr(rd.el, "value"); len(v) <= 8 {
				// A date alone: that day begins in Finland.
				t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, fitime.Location)
			}
			h.CitizenRelease = &t
		}
	}
	if rc := fi("reasonOfCorrection"); rc.ok() {
		h.ReplacementReason = Code{Code: attr(rc.el, "code"), System: attr(rc.el, "codeSystem"), SystemName: attr(rc.el, "codeSystemName"), Display: attr(rc.el, "displayName")}
	}
	for _, s := range children(lh, NSHL7FI, "signature") {
		si := SignerInfo{}
		if a := r.opt1(s, NSHL7FI, "assignedAuthorSigner"); a.ok() {
			si.RegistrationNumber = text(a.el)
		}
		si.Name = r.name(r.opt1(r.opt1(s, NSHL7FI, "signer"), NSHL7FI, "name"), NSHL7FI)
		si.AuthMethod = r.code(r.opt1(s, NSHL7FI, "authenticationMethod"), codes.AuthMethod, false, false)
		if t := r.opt1(s, NSHL7FI, "time"); t.ok() {
			if _, ok := r.ts(t, false, true); ok {
				si.Time = attr(t.el, "value")
			}
		}
		h.Signers = append(h.Signers, si)
	}
	// The signatureCollection is read leniently here; package xmldsig
	// judges each signature and reports its problems.
	sc := r.req(lh, NSHL7FI, "signatureCollection")
	for _, s := range children(sc, NSHL7FI, "signature") {
		e := SignatureEntry{ID: attr(s.el, "ID"), element: s.el}
		if sd := children(s, NSHL7FI, "signatureDescription"); len(sd) == 1 {
			e.Type = Code{Code: attr(sd[0].el, "code"), System: attr(sd[0].el, "codeSystem"), SystemName: attr(sd[0].el, "codeSystemName"), Display: attr(sd[0].el, "displayName")}
		}
		if ts := children(s, NSHL7FI, "signatureTimestamp"); len(ts) == 1 {
			e.TimestampID = attr(ts[0].el, "ID")
			e.Timestamp, _ = time.Parse(time.RFC3339Nano, text(ts[0].el))
		}
		h.Signatures = append(h.Signatures, e)
	}
}

func (r *reader) body(root node, d *Document) {
	comp := r.req(root, NSHL7, "component")
	if !comp.ok() {
		return
	}
	if sb := r.opt1(comp, NSHL7, "structuredBody"); sb.ok() {
		r.add(RuleRequired, comp.path+"/nonXMLBody", "the archive accepts a nonXMLBody (display form and structured form), not a structuredBody")
		return
	}
	nb := r.req(comp, NSHL7, "nonXMLBody")
	if !nb.ok() {
		return
	}
	d.bodyElement = nb.el
	r.reqAttr(nb, "ID")

	t := r.req(nb, NSHL7, "text")
	if t.ok() {
		mt := attr(t.el, "mediaType")
		switch mt {
		case MediaXHTML, MediaPDF:
			d.Body.DisplayMediaType = mt
		case "":
			r.add(RuleRequired, t.path+"/@mediaType", "display form media type is missing; it must be %s or %s", MediaXHTML, MediaPDF)
		default:
			r.add(RuleMediaType, t.path+"/@mediaType", "display form media type must be %s or %s, is %q", MediaXHTML, MediaPDF, mt)
		}
		if rep := attr(t.el, "representation"); rep != "B64" {
			r.add(RuleMediaType, t.path+"/@representation", "display form must be base64 (representation B64), is %q", rep)
		}
		if data, ok := r.base64(t); ok {
			d.Body.Display = data
			switch d.Body.DisplayMediaType {
			case MediaXHTML:
				r.xhtml(t.path, data)
			case MediaPDF:
				if !bytes.HasPrefix(data, []byte("%PDF-")) {
					r.add(RulePDF, t.path, "display form declared as PDF does not start with %%PDF-")
				}
			}
		}
	}
	if j := r.opt1(nb, NSHL7FI, "json"); j.ok() {
		d.Body.StructuredMediaType = MediaJSON
		if mt := attr(j.el, "mediaType"); mt != "" && mt != MediaJSON {
			r.add(RuleMediaType, j.path+"/@mediaType", "structured form media type must be %s, is %q", MediaJSON, mt)
		}
		if data, ok := r.base64(j); ok {
			d.Body.Structured = data
			// A form Parse takes is valid UTF-8 JSON; it is kept for the
			// steps that decode it. Anything else is for json.Valid to judge.
			if t, ok := formjson.Parse(data); ok {
				d.form = t
			} else if !utf8.Valid(data) || !json.Valid(data) {
				r.add(RuleJSON, j.path, "structured form is not valid UTF-8 JSON")
			}
		}
	} else if d.Header.StructuredFormat.Code != "" {
		r.add(RuleRequired, nb.path+"/hl7fi:json", "the header declares a structured form; the body must carry it")
	}
}

// base64 decodes an element's text; whitespace inside is allowed, child
// elements are not.
func (r *reader) base64(n node) ([]byte, bool) {
	for _, t := range n.el.Child {
		if _, ok := t.(*etree.Element); ok {
			r.add(RuleBase64, n.path, "base64 content must be text, not elements")
			return nil, false
		}
	}
	t := text(n.el)
	var data []byte
	var err error
	if b, ok := stripASCIISpace(t); ok {
		if len(b) == 0 {
			r.add(RuleRequired, n.path, "base64 content is empty")
			return nil, false
		}
		// As DecodeString does, without its copy of the string.
		data = make([]byte, base64.StdEncoding.DecodedLen(len(b)))
		var k int
		k, err = base64.StdEncoding.Strict().Decode(data, b)
		data = data[:k]
	} else {
		var nonEmpty bool
		if data, err, nonEmpty = base64Std(t); !nonEmpty {
			r.add(RuleRequired, n.path, "base64 content is empty")
			return nil, false
		}
	}
	if err != nil {
		r.add(RuleBase64, n.path, "content is not valid base64: %v", err)
		return nil, false
	}
	return data, true
}

// base64Std is the decoding base64 falls back to for text that is not all
// ASCII: whitespace dropped rune by rune, then DecodeString. False when
// nothing is left. FuzzBase64 holds the fast path to it.
func base64Std(t string) ([]byte, error, bool) {
	s := strings.Map(func(c rune) rune {
		switch c {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return c
	}, t)
	if s == "" {
		return nil, nil, false
	}
	data, err := base64.StdEncoding.Strict().DecodeString(s)
	return data, err, true
}

// stripASCIISpace is s without spaces, tabs, CRs and LFs, as the
// strings.Map in base64 makes it, for ASCII s; false for other s, which
// strings.Map reads rune by rune.
func stripASCIISpace(s string) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			return nil, false
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		default:
			b = append(b, c)
		}
	}
	return b, true
}

func (r *reader) xhtml(path string, data []byte) {
	ns, err := xmlsafe.Wellformed(data, xmlsafe.Limits{MaxBytes: r.opt.MaxBytes, MaxDepth: 256, AllowDoctype: true})
	if err != nil {
		for _, p := range xmlsafe.Problems(err) {
			r.add(RuleXHTML, path, "display form is not well-formed XHTML: %s", p.Message)
		}
		return
	}
	if ns != NSXHTML {
		r.add(RuleXHTML, path, "display form root element must be in the XHTML namespace %s", NSXHTML)
	}
}

// validate checks the rules that span fields.
func (r *reader) validate(d *Document) {
	h := &d.Header
	group := h.DocumentGroup.Code
	relationshipDoc := group == codes.GroupClientRelationship
	if group != "" && !relationshipDoc {
		if !h.GeneralType.Present() {
			r.add(RuleRequired, "/ClinicalDocument/code/@code", "general document type is required for documents of group %s; only client relationship documents may leave it null", group)
		}
		if !h.SpecificType.Present() {
			r.add(RuleRequired, "/ClinicalDocument/hl7fi:localSocialHeader/hl7fi:specificDocumentType", "specific document type is required for documents of group %s", group)
		}
		if !h.ServiceTask.Present() {
			r.add(RuleRequired, "/ClinicalDocument/hl7fi:localSocialHeader/hl7fi:functionCode", "service task is required for documents of group %s", group)
		}
		if h.Author.ID.NullFlavor != "" {
			r.add(RuleAuthorID, "/ClinicalDocument/author/assignedAuthor/id", "author id may be null only on client relationship documents")
		}
	}
	if relationshipDoc && h.ClientRelationshipID == "" {
		r.add(RuleRequired, "/ClinicalDocument/hl7fi:localSocialHeader/hl7fi:encompassingClientRelationship", "a client relationship document must name its client relationship")
	}
	if h.Version == 1 {
		if h.SetID != "" && h.ID != "" && h.SetID != h.ID {
			r.add(RuleSetID, "/ClinicalDocument/setId/@root", "version 1 must have setId equal to its id")
		}
		if h.Replaces != nil {
			r.add(RuleRPLCUnexpected, "/ClinicalDocument/relatedDocument", "version 1 cannot replace another document")
		}
	}
	if h.Version > 1 {
		switch {
		case h.Replaces == nil:
			r.add(RuleRPLCMissing, "/ClinicalDocument/relatedDocument", "version %d must carry relatedDocument typeCode=RPLC naming version %d", h.Version, h.Version-1)
		default:
			if h.Replaces.SetID != "" && h.Replaces.SetID != h.SetID {
				r.add(RuleRPLCSetID, "/ClinicalDocument/relatedDocument/parentDocument/setId/@root", "the replaced document must have the same setId")
			}
			if h.Replaces.Version != 0 && h.Replaces.Version != h.Version-1 {
				r.add(RuleRPLCVersion, "/ClinicalDocument/relatedDocument/parentDocument/versionNumber/@value", "the replaced version must be %d, is %d", h.Version-1, h.Replaces.Version)
			}
			if h.Replaces.ID != "" && h.Replaces.ID == h.ID {
				r.add(RuleRPLCSetID, "/ClinicalDocument/relatedDocument/parentDocument/id/@root", "a document cannot replace itself")
			}
			if h.Replaces.Version == 1 && h.Replaces.ID != "" && h.Replaces.SetID != "" && h.Replaces.ID != h.Replaces.SetID {
				r.add(RuleRPLCSetID, "/ClinicalDocument/relatedDocument/parentDocument/id/@root", "the replaced version 1 is the first of its set: its id must equal the setId")
			}
		}
		if h.SetID != "" && h.SetID == h.ID {
			r.add(RuleSetID, "/ClinicalDocument/setId/@root", "a replacement (version > 1) needs its own id, different from the setId")
		}
	}
	// Document ids are also FHIR resource ids, which are at most 64 characters.
	if len(h.ID) > MaxIDLength {
		r.add(RuleValue, "/ClinicalDocument/id/@root", "the document id may be at most %d characters, is %d", MaxIDLength, len(h.ID))
	}
	if h.DisplayFormat.Code == "2" && d.Body.DisplayMediaType != "" && d.Body.DisplayMediaType != MediaXHTML {
		r.add(RuleMediaType, "/ClinicalDocument/component/nonXMLBody/text/@mediaType", "the header's display form format is XHTML (fileFormat 2); the body must be %s", MediaXHTML)
	}
	if d.bodyElement != nil && h.ID != "" {
		if got := attr(d.bodyElement, "ID"); got != "" && got != "OID"+h.ID {
			r.add(RuleBodyID, "/ClinicalDocument/component/nonXMLBody/@ID", "body ID must be %q (OID followed by the document id)", "OID"+h.ID)
		}
	}
}

// String summarises a problem-free document without personal data.
func (h *Header) String() string {
	return fmt.Sprintf("document %s version %d (set %s), custodian %s, group %s", h.ID, h.Version, h.SetID, h.Custodian.OID, h.DocumentGroup.Code)
}
