package xmldsig_test

// Test helpers: the public samples, a generated test world (PKI, documents
// and certificates for the negative cases), a hand signer that builds
// ds:Signature elements of any shape, and assertions on rule codes.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// Algorithms the verifier must refuse.
const (
	algRSASHA1     = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	algRSASHA384   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
	algHMACSHA1    = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
	algSHA1        = "http://www.w3.org/2000/09/xmldsig#sha1"
	algSHA384      = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	algMD5         = "http://www.w3.org/2001/04/xmldsig-more#md5"
	algC14N        = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	algC14NComment = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
	algC14N11      = "http://www.w3.org/2006/12/xml-c14n11"
	algExcComment  = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
	algXPath       = "http://www.w3.org/TR/1999/REC-xpath-19991116"
	algXPath2      = "http://www.w3.org/2002/06/xmldsig-filter2"
	algXSLT        = "http://www.w3.org/TR/1999/REC-xslt-19991116"
	algBase64      = "http://www.w3.org/2000/09/xmldsig#base64"
)

// ---------------------------------------------------------------------------
// Public samples

const samplesDir = "../../testdata/kanta"

type sample struct {
	file       string
	typ        string
	typeCode   string
	signerID   string
	signerName string
	sigIDs     []string
	timestamps []string
}

var samples = []sample{
	{
		file: "asiakkuusasiakirja_S.xml", typ: xmldsig.TypeSystem, typeCode: codes.SignatureSystem,
		signerID: "1.2.246.10.32213561.10.0", signerName: "Potilastietojärjestelmä",
		sigIDs:     []string{"Epic.HL7Finland.Signature.1"},
		timestamps: []string{"2026-07-17T10:06:56.4257383Z"},
	},
	{
		file: "asia_ja_rajoitukset_S.xml", typ: xmldsig.TypeProfessional, typeCode: codes.SignatureProfessional,
		signerID: "25104559650", signerName: "Johansson Angelica 25104559650",
		sigIDs:     []string{"sig_5bada148-2695-11f1-849f-005056805429", "sig_e513809e-2695-11f1-849f-005056805429"},
		timestamps: []string{"2026-03-23T08:50:35.5590148Z", "2026-03-23T08:54:26.076175Z"},
	},
}

// sampleNow lies after both samples were signed and after the system
// sample's certificate expired (2026-10-09).
var sampleNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var x509CertRE = regexp.MustCompile(`<X509Certificate>([^<]*)</X509Certificate>`)

// sampleCert returns the first signer certificate of a document, read from
// the XML text independently of the code under test.
func sampleCert(t testing.TB, xml []byte) *x509.Certificate {
	t.Helper()
	m := x509CertRE.FindSubmatch(xml)
	if m == nil {
		t.Fatal("no X509Certificate in the document")
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(m[1])), ""))
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func poolOf(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

// sampleVerifier trusts the sample's own signer certificate: the DVV test
// CA is not public.
func sampleVerifier(t testing.TB, xml []byte) *xmldsig.Verifier {
	t.Helper()
	return &xmldsig.Verifier{Roots: poolOf(sampleCert(t, xml)), Now: fixedNow(sampleNow)}
}

// stripBlanks removes every whitespace-only text node, as
// `xmllint --noblanks` does for these documents, and serialises again.
func stripBlanks(t testing.TB, xml []byte) []byte {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xml); err != nil {
		t.Fatal(err)
	}
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		for i := len(el.Child) - 1; i >= 0; i-- {
			switch n := el.Child[i].(type) {
			case *etree.CharData:
				if strings.Trim(n.Data, " \t\r\n") == "" {
					el.RemoveChildAt(i)
				}
			case *etree.Element:
				walk(n)
			}
		}
	}
	walk(doc.Root())
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ---------------------------------------------------------------------------
// Reading and asserting

func readDoc(t testing.TB, xml []byte) *cda.Document {
	t.Helper()
	d, probs := cda.Read(xml, cda.Options{})
	if d == nil {
		t.Fatalf("document does not parse: %v", probs)
	}
	checkSignedForms(t, d.Tree())
	return d
}

func describe(rep *xmldsig.Report) string {
	var b strings.Builder
	for _, p := range rep.Problems() {
		fmt.Fprintf(&b, "\n  %s", p)
	}
	if b.Len() == 0 {
		return " (no problems)"
	}
	return b.String()
}

// wantRefused asserts that the report names code and does not accept the
// signatures.
func wantRefused(t testing.TB, rep *xmldsig.Report, code string) {
	t.Helper()
	t.Logf("report:%s", describe(rep))
	if !rep.Problems().Has(code) {
		t.Errorf("want %s; got:%s", code, describe(rep))
	}
	if rep.Accepted() {
		t.Errorf("signatures accepted despite %s", code)
	}
}

// wantInvalid is wantRefused for problems that must also make the
// signatures cryptographically invalid.
func wantInvalid(t testing.TB, rep *xmldsig.Report, code string) {
	t.Helper()
	wantRefused(t, rep, code)
	if rep.CryptoValid() {
		t.Errorf("report is CryptoValid despite %s", code)
	}
}

func wantAccepted(t testing.TB, rep *xmldsig.Report) {
	t.Helper()
	if !rep.Accepted() {
		t.Fatalf("signatures not accepted:%s", describe(rep))
	}
}

// sigHas reports whether signature i has a problem with code whose path
// contains pathPart.
func sigHas(rep *xmldsig.Report, i int, code, pathPart string) bool {
	if i >= len(rep.Signatures) {
		return false
	}
	for _, p := range rep.Signatures[i].Problems {
		if p.Code == code && strings.Contains(p.Path, pathPart) {
			return true
		}
	}
	return false
}

// referenceIndex returns the 1-based position of the Reference with the
// given URI in the ds:SignedInfo of the hl7fi:signature element.
func referenceIndex(t testing.TB, sig *etree.Element, uri string) int {
	t.Helper()
	refs := sig.FindElements("./Signature/SignedInfo/Reference")
	for i, r := range refs {
		if r.SelectAttrValue("URI", "") == uri {
			return i + 1
		}
	}
	t.Fatalf("no reference %q", uri)
	return 0
}

// ---------------------------------------------------------------------------
// The generated test world

type world struct {
	pki    *gen.PKI
	system *pki.Identity // the organisation's system certificate (OID serialNumber)
	prof   *pki.Identity // a professional's certificate (registration number)

	sysDoc, profDoc   *gen.Doc // signed by gen: a client relationship document and a client plan
	sysBody, profBody cda.Body

	// Certificates for the negative cases; issued by the world's CA unless
	// said otherwise. All but rsa1024, p224 and ed25519 share one RSA key.
	rsa1024      *pki.Identity
	p224         *pki.Identity
	ed25519      *pki.Identity
	encipherOnly *pki.Identity // keyUsage keyEncipherment only
	expired      *pki.Identity // expired a year ago
	notYetValid  *pki.Identity // valid from tomorrow
	textSerial   *pki.Identity // system subject whose serialNumber is not an OID
	noSerial     *pki.Identity // no subject serialNumber
	foreign      *pki.Identity // issued by another CA
	selfSigned   *pki.Identity
	otherCA      *pki.CA
}

var (
	worldOnce sync.Once
	theWorld  *world
	worldErr  error
)

func testWorld(t testing.TB) *world {
	t.Helper()
	worldOnce.Do(func() { theWorld, worldErr = newWorld() })
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return theWorld
}

func newWorld() (*world, error) {
	p, err := gen.NewPKI(gen.PKIOptions{Seed: 41, Organisations: 1, ProfessionalsPerOrg: 1})
	if err != nil {
		return nil, err
	}
	w := &world{pki: p, system: p.Organisations[0].System, prof: p.Professionals[0].Identity}
	g := gen.New(p, gen.Options{Seed: 42, Clients: 1})
	if w.sysDoc, err = g.Next(); err != nil {
		return nil, err
	}
	if w.profDoc, err = g.Next(); err != nil {
		return nil, err
	}
	for _, x := range []struct {
		doc  *gen.Doc
		body *cda.Body
	}{{w.sysDoc, &w.sysBody}, {w.profDoc, &w.profBody}} {
		d, probs := cda.Read(x.doc.XML, cda.Options{})
		if len(probs) > 0 {
			return nil, fmt.Errorf("generated document does not read: %v", probs)
		}
		*x.body = d.Body
	}

	org := p.Organisations[0]
	sysSubject := pki.SystemSubject(org.ControllerOID(), org.Name, "Testijärjestelmä")
	now := time.Now()
	shared, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	k1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		return nil, err
	}
	k224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		return nil, err
	}
	_, ked, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	sign := x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	from, to := now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0)
	ca := &p.CA.Identity
	if w.otherCA, err = pki.NewCA("Some other CA", pki.P256, now.AddDate(-2, 0, 0), 4*365*24*time.Hour); err != nil {
		return nil, err
	}
	textSubject := sysSubject
	textSubject.SerialNumber = "ORG-2026-17"
	noSerial := sysSubject
	noSerial.SerialNumber = ""
	for _, c := range []struct {
		dst      **pki.Identity
		issuer   *pki.Identity // nil: self-signed
		key      crypto.Signer
		subject  pkix.Name
		from, to time.Time
		usage    x509.KeyUsage
	}{
		{&w.rsa1024, ca, k1024, sysSubject, from, to, sign},
		{&w.p224, ca, k224, sysSubject, from, to, sign},
		{&w.ed25519, ca, ked, sysSubject, from, to, sign},
		{&w.encipherOnly, ca, shared, sysSubject, from, to, x509.KeyUsageKeyEncipherment},
		{&w.expired, ca, shared, sysSubject, now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0), sign},
		{&w.notYetValid, ca, shared, sysSubject, now.AddDate(0, 0, 1), now.AddDate(1, 0, 0), sign},
		{&w.textSerial, ca, shared, textSubject, from, to, sign},
		{&w.noSerial, ca, shared, noSerial, from, to, sign},
		{&w.foreign, &w.otherCA.Identity, shared, sysSubject, from, to, sign},
		{&w.selfSigned, nil, shared, sysSubject, from, to, sign},
	} {
		if *c.dst, err = issue(c.issuer, c.key, c.subject, c.from, c.to, c.usage); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// issue makes a certificate for key; a nil issuer makes it self-signed.
func issue(issuer *pki.Identity, key crypto.Signer, subject pkix.Name, from, to time.Time, usage x509.KeyUsage) (*pki.Identity, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 100))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)), Subject: subject,
		NotBefore: from, NotAfter: to, KeyUsage: usage, BasicConstraintsValid: true,
	}
	parent, signer := tmpl, key
	if issuer != nil {
		parent, signer = issuer.Cert, issuer.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("issue %s: %w", subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &pki.Identity{Cert: cert, Key: key}, nil
}

var (
	ecWorldOnce sync.Once
	ecWorld     *gen.PKI
	ecWorldErr  error
)

// testECWorld is a PKI with ECDSA P-256 keys.
func testECWorld(t testing.TB) *gen.PKI {
	t.Helper()
	ecWorldOnce.Do(func() {
		ecWorld, ecWorldErr = gen.NewPKI(gen.PKIOptions{Seed: 43, KeyType: pki.P256, Organisations: 1, ProfessionalsPerOrg: 1})
	})
	if ecWorldErr != nil {
		t.Fatal(ecWorldErr)
	}
	return ecWorld
}

func (w *world) verifier() *xmldsig.Verifier { return &xmldsig.Verifier{Roots: w.pki.Roots()} }

// fresh returns an unsigned, indented document tree with the generated
// system document's header and body, or the professional one's.
func (w *world) fresh(professional bool) *cda.Built {
	if professional {
		return cda.Build(w.profDoc.Header, w.profBody, true)
	}
	return cda.Build(w.sysDoc.Header, w.sysBody, true)
}

// verifyBuilt serialises the tree, reads it back as the archive would and
// verifies it.
func (w *world) verifyBuilt(t testing.TB, b *cda.Built) *xmldsig.Report {
	t.Helper()
	return w.verifier().Verify(readDoc(t, serialise(t, b)))
}

func serialise(t testing.TB, b *cda.Built) []byte {
	t.Helper()
	out, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ---------------------------------------------------------------------------
// The hand signer

// ref is one ds:Reference to write.
type ref struct {
	URI        string
	NoURI      bool           // leave the URI attribute out
	Target     *etree.Element // digested with exclusive C14N; nil: the digest of nothing
	Transforms []string       // nil: exclusive C14N only; empty non-nil: no Transforms element
	Digest     string         // DigestMethod; "": SHA-256
}

// spec is one hl7fi:signature to write.
type spec struct {
	ID          string // hl7fi:signature/@ID; "": sig-1
	TypeCode    string // "": system signature
	CodeSystem  string // "": the signature type code system
	At          time.Time
	NoTimestamp bool
	C14N        string                              // CanonicalizationMethod; "": exclusive C14N
	Method      string                              // SignatureMethod; "": by key
	Refs        func(body, ts *etree.Element) []ref // nil: the body and the own timestamp
	Signer      *pki.Identity                       // the key, and the certificate unless Certs is set
	Certs       []string                            // X509Certificate texts; nil: the signer's certificate and chain
	NoKeyInfo   bool
}

// signed is what handSign wrote.
type signed struct {
	Sig, TS, DS *etree.Element
}

func idRef(el *etree.Element) ref {
	return ref{URI: "#" + el.SelectAttrValue("ID", ""), Target: el}
}

// handSign appends an hl7fi:signature of the shape s describes to the
// collection, signing whatever the references say with s.Signer's key.
func handSign(t testing.TB, b *cda.Built, s spec) signed {
	t.Helper()
	if s.ID == "" {
		s.ID = "sig-1"
	}
	if s.TypeCode == "" {
		s.TypeCode = codes.SignatureSystem
	}
	if s.CodeSystem == "" {
		s.CodeSystem = codes.OIDSignatureType
	}
	if s.At.IsZero() {
		s.At = time.Now().Add(-time.Hour)
	}
	if s.C14N == "" {
		s.C14N = xmldsig.AlgExcC14N
	}
	if s.Method == "" {
		switch s.Signer.Key.(type) {
		case *ecdsa.PrivateKey:
			s.Method = xmldsig.AlgECDSASHA256
		default:
			s.Method = xmldsig.AlgRSASHA256
		}
	}
	out := signed{}
	out.Sig = b.Collection.CreateElement("signature")
	out.Sig.CreateAttr("ID", s.ID)
	desc := out.Sig.CreateElement("signatureDescription")
	desc.CreateAttr("code", s.TypeCode)
	desc.CreateAttr("codeSystem", s.CodeSystem)
	if !s.NoTimestamp {
		out.TS = out.Sig.CreateElement("signatureTimestamp")
		out.TS.CreateAttr("ID", "CDA-timestamp."+s.ID)
		out.TS.SetText(s.At.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	out.DS = out.Sig.CreateElement("Signature")
	out.DS.CreateAttr("xmlns", cda.NSDSig)
	si := out.DS.CreateElement("SignedInfo")
	si.CreateElement("CanonicalizationMethod").CreateAttr("Algorithm", s.C14N)
	si.CreateElement("SignatureMethod").CreateAttr("Algorithm", s.Method)
	var refs []ref
	if s.Refs != nil {
		refs = s.Refs(b.Body, out.TS)
	} else {
		refs = []ref{idRef(b.Body), idRef(out.TS)}
	}
	for _, r := range refs {
		re := si.CreateElement("Reference")
		if !r.NoURI {
			re.CreateAttr("URI", r.URI)
		}
		if r.Transforms == nil {
			r.Transforms = []string{xmldsig.AlgExcC14N}
		}
		if len(r.Transforms) > 0 {
			tr := re.CreateElement("Transforms")
			for _, a := range r.Transforms {
				tr.CreateElement("Transform").CreateAttr("Algorithm", a)
			}
		}
		if r.Digest == "" {
			r.Digest = xmldsig.AlgSHA256
		}
		re.CreateElement("DigestMethod").CreateAttr("Algorithm", r.Digest)
		var data []byte
		if r.Target != nil {
			c, err := xmldsig.Canonicalize(r.Target, "", false)
			if err != nil {
				t.Fatal(err)
			}
			data = c
		}
		re.CreateElement("DigestValue").SetText(b64(digest(r.Digest, data)))
	}
	canon, err := xmldsig.Canonicalize(si, "", false)
	if err != nil {
		t.Fatal(err)
	}
	out.DS.CreateElement("SignatureValue").SetText(b64(signValue(t, s.Signer.Key, s.Method, canon)))
	if !s.NoKeyInfo {
		xd := out.DS.CreateElement("KeyInfo").CreateElement("X509Data")
		certs := s.Certs
		if certs == nil {
			for _, c := range append([]*x509.Certificate{s.Signer.Cert}, s.Signer.Chain...) {
				certs = append(certs, b64(c.Raw))
			}
		}
		for _, c := range certs {
			xd.CreateElement("X509Certificate").SetText(c)
		}
	}
	return out
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func digestHash(alg string) crypto.Hash {
	switch alg {
	case algSHA1:
		return crypto.SHA1
	case algSHA384:
		return crypto.SHA384
	case xmldsig.AlgSHA512:
		return crypto.SHA512
	case algMD5:
		return crypto.MD5
	}
	return crypto.SHA256
}

func digest(alg string, data []byte) []byte {
	h := digestHash(alg).New()
	h.Write(data)
	return h.Sum(nil)
}

func methodHash(method string) crypto.Hash {
	switch method {
	case algRSASHA1, algHMACSHA1:
		return crypto.SHA1
	case algRSASHA384:
		return crypto.SHA384
	case xmldsig.AlgRSASHA512:
		return crypto.SHA512
	}
	return crypto.SHA256
}

// signValue signs data as the method says: PKCS #1 v1.5 for RSA, r||s for
// ECDSA, plain Ed25519.
func signValue(t testing.TB, key crypto.Signer, method string, data []byte) []byte {
	t.Helper()
	h := methodHash(method)
	hh := h.New()
	hh.Write(data)
	sum := hh.Sum(nil)
	switch k := key.(type) {
	case *rsa.PrivateKey:
		v, err := rsa.SignPKCS1v15(rand.Reader, k, h, sum)
		if err != nil {
			t.Fatal(err)
		}
		return v
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, sum)
		if err != nil {
			t.Fatal(err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		v := make([]byte, 2*size)
		r.FillBytes(v[:size])
		s.FillBytes(v[size:])
		return v
	case ed25519.PrivateKey:
		return ed25519.Sign(k, data)
	}
	t.Fatalf("unsupported key %T", key)
	return nil
}

// ---------------------------------------------------------------------------
// Editing XML text

// elementContent returns the byte range [start, end) of the content of the
// n-th (0-based) element named tag at or after from.
func elementContent(t testing.TB, xml []byte, tag string, from, n int) (int, int) {
	t.Helper()
	pos := from
	for {
		i := bytes.Index(xml[pos:], []byte("<"+tag))
		if i < 0 {
			t.Fatalf("element %s not found", tag)
		}
		i += pos
		next := xml[i+1+len(tag)]
		if next != ' ' && next != '>' && next != '\t' && next != '\r' && next != '\n' {
			pos = i + 1
			continue
		}
		if n > 0 {
			n--
			pos = i + 1
			continue
		}
		start := i + bytes.IndexByte(xml[i:], '>') + 1
		end := start + bytes.Index(xml[start:], []byte("</"+tag+">"))
		if end < start {
			t.Fatalf("element %s not closed", tag)
		}
		return start, end
	}
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// base64Positions lists the offsets of base64 alphabet characters in
// xml[start:end], skipping comments.
func base64Positions(xml []byte, start, end int) []int {
	var out []int
	for i := start; i < end; i++ {
		if bytes.HasPrefix(xml[i:], []byte("<!--")) {
			i += bytes.Index(xml[i:], []byte("-->")) + 2
			continue
		}
		if strings.IndexByte(b64Alphabet, xml[i]) >= 0 {
			out = append(out, i)
		}
	}
	return out
}

// spread picks every step-th position plus the first and the last.
func spread(pos []int, step int) []int {
	var out []int
	for i := 0; i < len(pos); i += step {
		out = append(out, pos[i])
	}
	if len(pos) > 0 && out[len(out)-1] != pos[len(pos)-1] {
		out = append(out, pos[len(pos)-1])
	}
	return out
}

// otherB64 is a different base64 alphabet character.
func otherB64(c byte) byte {
	return b64Alphabet[(strings.IndexByte(b64Alphabet, c)+1)%64]
}

// withByte returns a copy of xml with the byte at i replaced.
func withByte(xml []byte, i int, c byte) []byte {
	out := bytes.Clone(xml)
	out[i] = c
	return out
}

// replaceOnce replaces the only occurrence of old; the test fails when old
// does not occur exactly once.
func replaceOnce(t testing.TB, xml []byte, old, new string) []byte {
	t.Helper()
	if n := bytes.Count(xml, []byte(old)); n != 1 {
		t.Fatalf("%q occurs %d times, want once", old, n)
	}
	return bytes.Replace(xml, []byte(old), []byte(new), 1)
}

// parseTree parses XML into an etree document for structural edits.
func parseTree(t testing.TB, xml []byte) *etree.Document {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xml); err != nil {
		t.Fatal(err)
	}
	return doc
}

func treeBytes(t testing.TB, doc *etree.Document) []byte {
	t.Helper()
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// must returns the only element at path.
func must(t testing.TB, el *etree.Element, path string) *etree.Element {
	t.Helper()
	found := el.FindElements(path)
	if len(found) != 1 {
		t.Fatalf("%s: %d elements, want 1", path, len(found))
	}
	return found[0]
}
