package xmldsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/problem"
)

// Rule codes of signature verification. They are stable.
const (
	RuleMissing          = "SIG_MISSING"
	RuleStructure        = "SIG_STRUCTURE"
	RuleDuplicateID      = "SIG_DUPLICATE_ID"
	RuleReferenceURI     = "SIG_REFERENCE_URI"
	RuleReferenceUnknown = "SIG_REFERENCE_UNRESOLVED"
	RuleReferenceTarget  = "SIG_REFERENCE_TARGET"
	RuleReferenceMissing = "SIG_REFERENCE_MISSING"
	RuleReferenceExtra   = "SIG_REFERENCE_EXTRA"
	RuleTransform        = "SIG_TRANSFORM"
	RuleC14NMethod       = "SIG_C14N_METHOD"
	RuleMethod           = "SIG_METHOD"
	RuleDigestMethod     = "SIG_DIGEST_METHOD"
	RuleDigest           = "SIG_DIGEST_MISMATCH"
	RuleValue            = "SIG_VALUE"
	RuleCert             = "SIG_CERT"
	RuleKey              = "SIG_KEY"
	RuleCertUsage        = "SIG_CERT_USAGE"
	RuleCertValidity     = "SIG_CERT_VALIDITY"
	RuleChain            = "SIG_CHAIN"
	RuleTimestamp        = "SIG_TIMESTAMP"
	RuleType             = "SIG_TYPE"
	RuleSigner           = "SIG_SIGNER"
	RuleRevoked          = "SIG_REVOKED"
)

// Signature types.
const (
	TypeProfessional = "professional"
	TypeSystem       = "system"
)

// Result is the verdict on one signature of the collection.
type Result struct {
	Index     int       `json:"index"` // 1-based position in the collection
	ID        string    `json:"id,omitempty"`
	Type      string    `json:"type,omitempty"` // professional or system
	TypeCode  string    `json:"typeCode,omitempty"`
	Timestamp time.Time `json:"timestamp"`
	Algorithm string    `json:"algorithm,omitempty"`

	// Valid: the references, digests and signature value all check out.
	Valid bool `json:"valid"`
	// Form over which it verified.
	Form Form `json:"form,omitempty"`
	// Trusted: the certificate chains to a trust anchor and was valid at
	// the signature timestamp. False when no trust anchors were given.
	Trusted bool `json:"trusted"`

	SignerID     string            `json:"signerId,omitempty"`   // subject serialNumber: organisation OID or registration number
	SignerName   string            `json:"signerName,omitempty"` // subject CN
	CertSHA256   string            `json:"certSha256,omitempty"`
	CertNotAfter time.Time         `json:"certNotAfter"`
	Certificate  *x509.Certificate `json:"-"`

	Problems problem.List `json:"problems,omitempty"`
}

// Report is the verdict on a document's signatures.
type Report struct {
	Signatures []Result     `json:"signatures"`
	Document   problem.List `json:"problems,omitempty"` // problems of the collection as a whole
}

// Problems returns every problem: the collection's and each signature's.
func (r *Report) Problems() problem.List {
	out := append(problem.List(nil), r.Document...)
	for _, s := range r.Signatures {
		out = append(out, s.Problems...)
	}
	return out
}

// CryptoValid reports whether there is at least one signature and every
// signature is cryptographically valid (trust not considered).
func (r *Report) CryptoValid() bool {
	if len(r.Document) > 0 || len(r.Signatures) == 0 {
		return false
	}
	for _, s := range r.Signatures {
		if !s.Valid {
			return false
		}
	}
	return true
}

// Accepted reports whether the archive accepts the signatures: at least one,
// every one valid, trusted and free of problems.
func (r *Report) Accepted() bool {
	if !r.CryptoValid() {
		return false
	}
	for _, s := range r.Signatures {
		if !s.Trusted || len(s.Problems) > 0 {
			return false
		}
	}
	return true
}

// Verifier checks signatures against a set of trust anchors.
type Verifier struct {
	// Roots are the trust anchors; nil means chains are not checked and no
	// signature is Trusted.
	Roots *x509.CertPool
	// Now returns the current time, to refuse timestamps in the future.
	Now func() time.Time
	// MaxSkew is how far in the future a signature timestamp may lie;
	// default 5 minutes.
	MaxSkew time.Duration
	// Chains, if set, caches verified chains for these Roots.
	Chains *ChainCache
	// Revoked, if set, says whether an imported CRL revoked a certificate
	// and when. A signature whose certificate, or a CA certificate given
	// with it, is revoked is refused whatever its signature time: that time
	// is the signer's own claim, and a key thief can write any time.
	Revoked func(c *x509.Certificate) (at time.Time, revoked bool)
}

const collectionPath = "/ClinicalDocument/hl7fi:localSocialHeader/hl7fi:signatureCollection"

// Verify checks every signature of the document's signatureCollection.
func (v *Verifier) Verify(d *cda.Document) *Report {
	rep := &Report{}
	if d == nil || d.Tree() == nil {
		rep.Document.Add(RuleMissing, collectionPath, "document could not be read")
		return rep
	}
	if len(d.Signatures) == 0 {
		rep.Document.Add(RuleMissing, collectionPath+"/hl7fi:signature", "a document must carry at least one signature")
		return rep
	}
	ids := indexIDs(d.Tree())
	for value, els := range ids {
		if len(els) > 1 {
			rep.Document.Add(RuleDuplicateID, "//*[@ID='"+value+"']", "the ID %q is used by %d elements; IDs must be unique", value, len(els))
		}
	}
	digests := digestCache{}
	for i := range d.Signatures {
		rep.Signatures = append(rep.Signatures, v.verifyOne(d, ids, i, digests))
	}
	return rep
}

// indexIDs maps every ID-like attribute value (ID, Id, id, xml:id) to its
// elements. References resolve only through this index, and duplicates are
// refused, so a reference can never be steered to a decoy element.
func indexIDs(doc *etree.Document) map[string][]*etree.Element {
	ids := map[string][]*etree.Element{}
	stack := []*etree.Element{doc.Root()}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, a := range el.Attr {
			if (a.Space == "" && (a.Key == "ID" || a.Key == "Id" || a.Key == "id")) || (a.Space == "xml" && a.Key == "id") {
				ids[a.Value] = append(ids[a.Value], el)
			}
		}
		// The child elements, as ChildElements gives them, without its slice.
		for _, t := range el.Child {
			if c, ok := t.(*etree.Element); ok {
				stack = append(stack, c)
			}
		}
	}
	return ids
}

// child returns the only child element in ns named local; more than one is
// an error, none is nil.
func child(el *etree.Element, ns, local string) (*etree.Element, int) {
	var found *etree.Element
	n := 0
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == local && c.NamespaceURI() == ns {
			if found == nil {
				found = c
			}
			n++
		}
	}
	return found, n
}

func attr(el *etree.Element, key string) string {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value
		}
	}
	return ""
}

func textOf(el *etree.Element) string {
	// Most elements hold one piece of text: no copy then.
	var one string
	pieces := 0
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok {
			one = cd.Data
			pieces++
		}
	}
	if pieces <= 1 {
		return one
	}
	var b strings.Builder
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return b.String()
}

// ref is a checked reference.
type ref struct {
	target     *etree.Element
	prefixList string
	digestAlg  string
	digest     []byte
	path       string
}

// signedInfo is a checked SignedInfo.
type signedInfo struct {
	el         *etree.Element
	prefixList string
	method     string
	refs       []ref
	value      []byte
}

func (v *Verifier) verifyOne(d *cda.Document, ids map[string][]*etree.Element, i int, digests digestCache) Result {
	entry := &d.Signatures[i]
	sigEl := entry.Element()
	path := fmt.Sprintf("%s/hl7fi:signature[%d]", collectionPath, i+1)
	res := Result{Index: i + 1, ID: entry.ID}
	p := &res.Problems

	// The hl7fi:signature wrapper: description, timestamp, ds:Signature.
	desc, nd := child(sigEl, cda.NSHL7FI, "signatureDescription")
	tsEl, nts := child(sigEl, cda.NSHL7FI, "signatureTimestamp")
	ds, nds := child(sigEl, cda.NSDSig, "Signature")
	for _, c := range []struct {
		name string
		n    int
	}{{"hl7fi:signatureDescription", nd}, {"hl7fi:signatureTimestamp", nts}, {"ds:Signature", nds}} {
		if c.n != 1 {
			p.Add(RuleStructure, path+"/"+c.name, "a signature needs exactly one %s, has %d", c.name, c.n)
		}
	}
	if desc != nil {
		res.TypeCode = attr(desc, "code")
		switch {
		case attr(desc, "codeSystem") != codes.OIDSignatureType:
			p.Add(RuleType, path+"/hl7fi:signatureDescription/@codeSystem", "signature type code system must be %s", codes.OIDSignatureType)
		case res.TypeCode == codes.SignatureProfessional:
			res.Type = TypeProfessional
		case res.TypeCode == codes.SignatureSystem:
			res.Type = TypeSystem
		default:
			p.Add(RuleType, path+"/hl7fi:signatureDescription/@code", "signature type must be %s (professional) or %s (system), is %q", codes.SignatureProfessional, codes.SignatureSystem, res.TypeCode)
		}
	}
	if tsEl != nil {
		if attr(tsEl, "ID") == "" {
			p.Add(RuleStructure, path+"/hl7fi:signatureTimestamp/@ID", "signature timestamp needs an ID for the signature to reference")
		}
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(textOf(tsEl)))
		switch {
		case err != nil:
			p.Add(RuleTimestamp, path+"/hl7fi:signatureTimestamp", "signature timestamp must be an xs:dateTime with zone, as 2026-03-23T08:50:35Z")
		case v.now().Add(v.skew()).Before(t):
			p.Add(RuleTimestamp, path+"/hl7fi:signatureTimestamp", "signature timestamp lies in the future")
		default:
			res.Timestamp = t
			// A document is signed after it is made: a signature claiming an
			// earlier time than the header's is refused (clock skew allowed).
			if made := createdAt(d); !made.IsZero() && t.Before(made.Add(-v.skew())) {
				p.Add(RuleTimestamp, path+"/hl7fi:signatureTimestamp", "signature timestamp %s lies before the document was made (%s, the later of effectiveTime and hl7fi:creationTime) by more than the allowed clock skew of %s",
					t.UTC().Format(time.RFC3339), made.UTC().Format(time.RFC3339), v.skew())
			}
		}
	}
	if ds == nil {
		return res
	}
	dsPath := path + "/ds:Signature"

	si := v.signedInfo(ds, dsPath, p)
	cert, intermediates, interList := v.certificates(ds, dsPath, p, &res)
	if si == nil {
		return res
	}
	res.Algorithm = si.method
	si.refs = v.references(si.el, dsPath+"/ds:SignedInfo", d, ids, tsEl, sigEl, p)

	if cert == nil || len(*p) > 0 && hasStructural(*p) {
		return res
	}
	// Verify as received; if that fails, over the whitespace-stripped form.
	// When both fail, report the form that got further: the one with fewer
	// digest mismatches, the form as received on a tie. A document signed
	// over the stripped form but stored indented always mismatches as
	// received; that must not hide what is really wrong with it.
	var report problem.List
	var reportForm Form
	for _, form := range []Form{FormAsReceived, FormWhitespaceStripped} {
		errs := v.check(si, cert, form == FormWhitespaceStripped, dsPath, digests)
		if len(errs) == 0 {
			res.Valid, res.Form = true, form
			break
		}
		if report == nil || countCode(errs, RuleDigest) < countCode(report, RuleDigest) {
			report, reportForm = errs, form
		}
	}
	if !res.Valid {
		suffix := " (also over the form without whitespace-only text nodes)"
		if reportForm == FormWhitespaceStripped {
			suffix = " (over the form without whitespace-only text nodes; the document as received does not verify either)"
		}
		for _, e := range report {
			e.Message += suffix
			*p = append(*p, e)
		}
	}
	if !res.Timestamp.IsZero() {
		v.trust(&res, cert, intermediates, interList, dsPath)
	}
	v.revoked(&res, append([]*x509.Certificate{cert}, interList...), dsPath)
	return res
}

// createdAt is when the header says the document was made: the later of
// effectiveTime and hl7fi:creationTime (zero if neither was read).
func createdAt(d *cda.Document) time.Time {
	t := d.EffectiveTime
	if d.CreationTime.After(t) {
		t = d.CreationTime
	}
	return t
}

// revoked refuses a signature whose certificate or a CA certificate given
// with it is on an imported CRL.
func (v *Verifier) revoked(res *Result, certs []*x509.Certificate, dsPath string) {
	if v.Revoked == nil {
		return
	}
	for i, c := range certs {
		at, ok := v.Revoked(c)
		if !ok {
			continue
		}
		res.Trusted = false
		// Names only the CA: a professional's subject holds a name and a
		// registration number, which do not belong in messages.
		what := "the signer's certificate"
		if i > 0 {
			what = fmt.Sprintf("the CA certificate %q given with the signer's", c.Subject.CommonName)
		}
		res.Problems.Add(RuleRevoked, dsPath+"/ds:KeyInfo", "%s (serial %s, issued by %q) was revoked on %s; a revoked certificate's signature is refused whatever its signature time, which is the signer's own claim",
			what, c.SerialNumber.Text(16), c.Issuer.CommonName, at.UTC().Format(time.RFC3339))
		return
	}
}

func countCode(l problem.List, code string) int {
	n := 0
	for _, p := range l {
		if p.Code == code {
			n++
		}
	}
	return n
}

// hasStructural reports problems that make digest checks meaningless.
func hasStructural(l problem.List) bool {
	for _, p := range l {
		switch p.Code {
		case RuleType, RuleTimestamp, RuleSigner, RuleCertUsage:
			continue
		}
		return true
	}
	return false
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) skew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return 5 * time.Minute
}

func inclusivePrefixes(method *etree.Element) string {
	for _, c := range method.ChildElements() {
		if c.Tag == "InclusiveNamespaces" && c.NamespaceURI() == AlgExcC14N {
			return attr(c, "PrefixList")
		}
	}
	return ""
}

func decodeB64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(s)
}

func (v *Verifier) signedInfo(ds *etree.Element, dsPath string, p *problem.List) *signedInfo {
	siEl, n := child(ds, cda.NSDSig, "SignedInfo")
	if n != 1 {
		p.Add(RuleStructure, dsPath+"/ds:SignedInfo", "ds:Signature needs exactly one SignedInfo, has %d", n)
		return nil
	}
	siPath := dsPath + "/ds:SignedInfo"
	si := &signedInfo{el: siEl}
	cm, n := child(siEl, cda.NSDSig, "CanonicalizationMethod")
	switch {
	case n != 1:
		p.Add(RuleStructure, siPath+"/ds:CanonicalizationMethod", "SignedInfo needs exactly one CanonicalizationMethod")
	case attr(cm, "Algorithm") != AlgExcC14N:
		p.Add(RuleC14NMethod, siPath+"/ds:CanonicalizationMethod/@Algorithm", "canonicalization must be exclusive C14N (%s), is %q", AlgExcC14N, attr(cm, "Algorithm"))
	default:
		si.prefixList = inclusivePrefixes(cm)
	}
	sm, n := child(siEl, cda.NSDSig, "SignatureMethod")
	if n != 1 {
		p.Add(RuleStructure, siPath+"/ds:SignatureMethod", "SignedInfo needs exactly one SignatureMethod")
	} else {
		si.method = attr(sm, "Algorithm")
		switch si.method {
		case AlgRSASHA256, AlgRSASHA512, AlgECDSASHA256:
		default:
			p.Add(RuleMethod, siPath+"/ds:SignatureMethod/@Algorithm", "signature method must be RSA-SHA256, RSA-SHA512 or ECDSA-SHA256, is %q", si.method)
		}
	}
	sv, n := child(ds, cda.NSDSig, "SignatureValue")
	if n != 1 {
		p.Add(RuleStructure, dsPath+"/ds:SignatureValue", "ds:Signature needs exactly one SignatureValue")
	} else if val, err := decodeB64(textOf(sv)); err != nil || len(val) == 0 {
		p.Add(RuleValue, dsPath+"/ds:SignatureValue", "signature value is not base64")
	} else {
		si.value = val
	}
	return si
}

// references checks the SignedInfo's references: exactly one to the body the
// archive reads and one to this signature's own timestamp, nothing else.
func (v *Verifier) references(siEl *etree.Element, siPath string, d *cda.Document, ids map[string][]*etree.Element, tsEl, sigEl *etree.Element, p *problem.List) []ref {
	var refs []ref
	var haveBody, haveTS bool
	var all []*etree.Element
	for _, c := range siEl.ChildElements() {
		if c.Tag == "Reference" && c.NamespaceURI() == cda.NSDSig {
			all = append(all, c)
		}
	}
	for k, rEl := range all {
		rp := fmt.Sprintf("%s/ds:Reference[%d]", siPath, k+1)
		uri := attr(rEl, "URI")
		if !strings.HasPrefix(uri, "#") || len(uri) < 2 || strings.ContainsAny(uri, "()/ \t") {
			p.Add(RuleReferenceURI, rp+"/@URI", "reference must be a same-document #ID, is %q", uri)
			continue
		}
		targets := ids[uri[1:]]
		if len(targets) == 0 {
			p.Add(RuleReferenceUnknown, rp+"/@URI", "no element has the ID %q", uri[1:])
			continue
		}
		if len(targets) > 1 {
			// Already a document problem; never pick one of the candidates.
			p.Add(RuleDuplicateID, rp+"/@URI", "the referenced ID %q is not unique", uri[1:])
			continue
		}
		target := targets[0]
		switch {
		case target == d.BodyElement() && target != nil:
			if haveBody {
				p.Add(RuleReferenceExtra, rp, "the body is referenced twice")
				continue
			}
			haveBody = true
		case target == tsEl && target != nil:
			if haveTS {
				p.Add(RuleReferenceExtra, rp, "the timestamp is referenced twice")
				continue
			}
			haveTS = true
		default:
			p.Add(RuleReferenceTarget, rp+"/@URI", "reference %q resolves to an element that is neither the document body (/ClinicalDocument/component/nonXMLBody) nor this signature's own signatureTimestamp", uri)
			continue
		}
		r := ref{target: target, path: rp}
		if !v.transforms(rEl, rp, target, sigEl, &r, p) {
			continue
		}
		dm, n := child(rEl, cda.NSDSig, "DigestMethod")
		if n != 1 {
			p.Add(RuleStructure, rp+"/ds:DigestMethod", "reference needs exactly one DigestMethod")
			continue
		}
		r.digestAlg = attr(dm, "Algorithm")
		if r.digestAlg != AlgSHA256 && r.digestAlg != AlgSHA512 {
			p.Add(RuleDigestMethod, rp+"/ds:DigestMethod/@Algorithm", "digest must be SHA-256 (or SHA-512), is %q", r.digestAlg)
			continue
		}
		dv, n := child(rEl, cda.NSDSig, "DigestValue")
		if n != 1 {
			p.Add(RuleStructure, rp+"/ds:DigestValue", "reference needs exactly one DigestValue")
			continue
		}
		dig, err := decodeB64(textOf(dv))
		if err != nil {
			p.Add(RuleDigest, rp+"/ds:DigestValue", "digest value is not base64")
			continue
		}
		r.digest = dig
		refs = append(refs, r)
	}
	if len(all) > 2 {
		p.Add(RuleReferenceExtra, siPath, "a signature must have exactly two references (body and timestamp), has %d", len(all))
	}
	if !haveBody {
		p.Add(RuleReferenceMissing, siPath, "no reference to the document body #OID%s", d.ID)
	}
	if !haveTS {
		p.Add(RuleReferenceMissing, siPath, "no reference to this signature's own signatureTimestamp")
	}
	return refs
}

// transforms accepts exclusive C14N, optionally after enveloped-signature.
func (v *Verifier) transforms(rEl *etree.Element, rp string, target, sigEl *etree.Element, r *ref, p *problem.List) bool {
	ts, n := child(rEl, cda.NSDSig, "Transforms")
	if n > 1 {
		p.Add(RuleStructure, rp+"/ds:Transforms", "reference has more than one Transforms")
		return false
	}
	var algs []string
	var last *etree.Element
	if ts != nil {
		for _, t := range ts.ChildElements() {
			if t.Tag != "Transform" || t.NamespaceURI() != cda.NSDSig {
				p.Add(RuleStructure, rp+"/ds:Transforms", "unexpected element %s in Transforms", t.FullTag())
				return false
			}
			algs = append(algs, attr(t, "Algorithm"))
			last = t
		}
	}
	ok := false
	switch len(algs) {
	case 1:
		ok = algs[0] == AlgExcC14N
	case 2:
		ok = algs[0] == AlgEnveloped && algs[1] == AlgExcC14N
	}
	if !ok {
		p.Add(RuleTransform, rp+"/ds:Transforms", "transforms must be exclusive C14N, optionally after enveloped-signature; got %s", strings.Join(algs, ", "))
		return false
	}
	// enveloped-signature removes the signature from the referenced
	// subtree; for the body and the timestamp that is a no-op unless the
	// signature sits inside them, which is refused.
	for e := sigEl; e != nil; e = e.Parent() {
		if e == target {
			p.Add(RuleTransform, rp, "the referenced element contains the signature itself")
			return false
		}
	}
	r.prefixList = inclusivePrefixes(last)
	return true
}

// certificates reads KeyInfo/X509Data: the first certificate is the signer,
// the rest are intermediates.
func (v *Verifier) certificates(ds *etree.Element, dsPath string, p *problem.List, res *Result) (*x509.Certificate, *x509.CertPool, []*x509.Certificate) {
	ki, n := child(ds, cda.NSDSig, "KeyInfo")
	if n != 1 {
		p.Add(RuleCert, dsPath+"/ds:KeyInfo", "ds:Signature needs exactly one KeyInfo with the signer's certificate")
		return nil, nil, nil
	}
	xd, n := child(ki, cda.NSDSig, "X509Data")
	if n != 1 {
		p.Add(RuleCert, dsPath+"/ds:KeyInfo/ds:X509Data", "KeyInfo needs exactly one X509Data")
		return nil, nil, nil
	}
	var certs []*x509.Certificate
	for k, c := range xd.ChildElements() {
		if c.Tag != "X509Certificate" || c.NamespaceURI() != cda.NSDSig {
			continue
		}
		cert, b64ok, err := certificateText(textOf(c))
		if !b64ok {
			p.Add(RuleCert, fmt.Sprintf("%s/ds:KeyInfo/ds:X509Data/ds:X509Certificate[%d]", dsPath, k+1), "certificate is not base64")
			return nil, nil, nil
		}
		if err != nil {
			p.Add(RuleCert, fmt.Sprintf("%s/ds:KeyInfo/ds:X509Data/ds:X509Certificate[%d]", dsPath, k+1), "certificate does not parse: %v", err)
			return nil, nil, nil
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		p.Add(RuleCert, dsPath+"/ds:KeyInfo/ds:X509Data", "no X509Certificate given")
		return nil, nil, nil
	}
	leaf := certs[0]
	res.Certificate, res.CertSHA256, res.CertNotAfter = leaf, pki.Fingerprint(leaf), leaf.NotAfter
	res.SignerID, res.SignerName = SubjectSerialNumber(leaf.Subject), leaf.Subject.CommonName
	switch k := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			p.Add(RuleKey, dsPath+"/ds:KeyInfo", "RSA keys must be at least 2048 bits, this one is %d", k.N.BitLen())
			return nil, nil, nil
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() && k.Curve != elliptic.P521() {
			p.Add(RuleKey, dsPath+"/ds:KeyInfo", "ECDSA keys must be on P-256, P-384 or P-521")
			return nil, nil, nil
		}
	default:
		p.Add(RuleKey, dsPath+"/ds:KeyInfo", "the certificate's key must be RSA or ECDSA")
		return nil, nil, nil
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		p.Add(RuleCertUsage, dsPath+"/ds:KeyInfo", "the certificate's key usage allows neither digital signatures nor non-repudiation")
	}
	switch res.Type {
	case TypeSystem:
		if !oid.Valid(res.SignerID) {
			p.Add(RuleSigner, dsPath+"/ds:KeyInfo", "a system signature's certificate must carry the organisation OID as subject serialNumber")
		}
	case TypeProfessional:
		if res.SignerID == "" || oid.Valid(res.SignerID) {
			p.Add(RuleSigner, dsPath+"/ds:KeyInfo", "a professional's signature certificate must carry the registration number as subject serialNumber")
		}
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	return leaf, inter, certs[1:]
}

var oidSerialNumber = asn1.ObjectIdentifier{2, 5, 4, 5}

// SubjectSerialNumber is a certificate subject's serialNumber: an
// organisation OID for a system, the registration number for a professional.
func SubjectSerialNumber(n pkix.Name) string {
	if n.SerialNumber != "" {
		return n.SerialNumber
	}
	for _, a := range n.Names {
		if a.Type.Equal(oidSerialNumber) {
			if s, ok := a.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// digestCache holds the digests computed during one Verify call, so that a
// document with many signatures over one large body canonicalises the body
// once per form, not once per signature: otherwise a few hundred cheap
// signatures over a body of some megabytes cost minutes of CPU.
type digestCache map[digestKey]digestEntry

type digestKey struct {
	el         *etree.Element
	prefixList string
	strip      bool
	alg        string
}

type digestEntry struct {
	sum []byte
	err error
}

func (c digestCache) digest(r ref, strip bool) ([]byte, error) {
	k := digestKey{r.target, r.prefixList, strip, r.digestAlg}
	if e, ok := c[k]; ok {
		return e.sum, e.err
	}
	var e digestEntry
	var h hash.Hash
	if r.digestAlg == AlgSHA512 {
		h = crypto.SHA512.New()
	} else {
		h = sha256.New()
	}
	if err := canonicalizeTo(h, r.target, r.prefixList, strip); err != nil {
		e.err = err
	} else {
		e.sum = h.Sum(nil)
	}
	c[k] = e
	return e.sum, e.err
}

// check computes the digests and verifies the signature value over one form.
func (v *Verifier) check(si *signedInfo, cert *x509.Certificate, strip bool, dsPath string, digests digestCache) problem.List {
	var p problem.List
	for _, r := range si.refs {
		sum, err := digests.digest(r, strip)
		if err != nil {
			p.Add(RuleDigest, r.path, "the referenced element cannot be canonicalized: %v", err)
			continue
		}
		if !bytes.Equal(sum, r.digest) {
			p.Add(RuleDigest, r.path+"/ds:DigestValue", "digest of the referenced element does not match: it has been changed after signing")
		}
	}
	if len(p) > 0 {
		return p
	}
	canon, err := canonicalize(si.el, si.prefixList, strip)
	if err != nil {
		p.Add(RuleValue, dsPath+"/ds:SignedInfo", "SignedInfo cannot be canonicalized: %v", err)
		return p
	}
	if err := verifyValue(cert.PublicKey, si.method, canon, si.value); err != nil {
		p.Add(RuleValue, dsPath+"/ds:SignatureValue", "%v", err)
	}
	return p
}

func verifyValue(pub crypto.PublicKey, method string, signed, value []byte) error {
	var h crypto.Hash
	switch method {
	case AlgRSASHA256, AlgECDSASHA256:
		h = crypto.SHA256
	case AlgRSASHA512:
		h = crypto.SHA512
	default:
		return fmt.Errorf("unsupported signature method")
	}
	hh := h.New()
	hh.Write(signed)
	sum := hh.Sum(nil)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if method == AlgECDSASHA256 {
			return fmt.Errorf("ECDSA signature method with an RSA certificate")
		}
		if err := rsa.VerifyPKCS1v15(k, h, sum, value); err != nil {
			return fmt.Errorf("signature value does not verify with the certificate's key")
		}
		return nil
	case *ecdsa.PublicKey:
		if method != AlgECDSASHA256 {
			return fmt.Errorf("RSA signature method with an ECDSA certificate")
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(value) != 2*size {
			return fmt.Errorf("ECDSA signature value must be %d bytes (r||s)", 2*size)
		}
		r, s := new(big.Int).SetBytes(value[:size]), new(big.Int).SetBytes(value[size:])
		if !ecdsa.Verify(k, sum, r, s) {
			return fmt.Errorf("signature value does not verify with the certificate's key")
		}
		return nil
	}
	return fmt.Errorf("unsupported key type")
}

// trust checks the chain to the trust anchors as of the signature time.
func (v *Verifier) trust(res *Result, cert *x509.Certificate, intermediates *x509.CertPool, interList []*x509.Certificate, dsPath string) {
	if v.Roots == nil {
		return
	}
	key := chainKey(cert, interList)
	if chain := v.Chains.get(key); chain != nil && validAt(chain, res.Timestamp) {
		res.Trusted = true
		return
	}
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots:         v.Roots,
		Intermediates: intermediates,
		CurrentTime:   res.Timestamp,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err == nil {
		res.Trusted = true
		v.Chains.put(key, chains[0])
		return
	}
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		res.Problems.Add(RuleCertValidity, dsPath+"/ds:KeyInfo", "a certificate in the chain was not valid at the signature time %s", res.Timestamp.UTC().Format(time.RFC3339))
		return
	}
	res.Problems.Add(RuleChain, dsPath+"/ds:KeyInfo", "the signer's certificate does not chain to a trusted CA: %v", err)
}

// Describe is a one-line summary of a result for people.
func (r Result) Describe() string {
	var b strings.Builder
	b.WriteString("signature " + strconv.Itoa(r.Index))
	if r.Type != "" {
		b.WriteString(" (" + r.Type + ")")
	}
	if r.Valid {
		b.WriteString(": cryptographically valid over the " + string(r.Form) + " form")
	} else {
		b.WriteString(": NOT valid")
	}
	if r.Trusted {
		b.WriteString("; signer chains to a trusted CA")
	} else {
		b.WriteString("; signer not trusted")
	}
	return b.String()
}
