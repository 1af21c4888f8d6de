package xmldsig

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
)

// Signer adds signatures to a signatureCollection in the shape the Kanta
// services use. The archive itself never signs documents; the generator,
// the demo and the tests do.
type Signer struct {
	Key   crypto.Signer
	Cert  *x509.Certificate
	Chain []*x509.Certificate // intermediates to include after the leaf
	// TypeCode is the signature type: codes.SignatureProfessional or codes.SignatureSystem.
	TypeCode string
	// Enveloped adds the enveloped-signature transform before exc-c14n,
	// as some producers do.
	Enveloped bool
}

// Sign appends one hl7fi:signature with the given ID to the collection,
// signing the body element and the new signature's timestamp. The document
// must not change afterwards, except by removing whitespace-only text nodes
// when strip is true (for producers that sign a whitespace-free form).
func (s *Signer) Sign(collection, body *etree.Element, id string, at time.Time, strip bool) error {
	bodyID := attr(body, "ID")
	if bodyID == "" {
		return fmt.Errorf("body element has no ID")
	}
	method, h, err := methodFor(s.Key)
	if err != nil {
		return err
	}
	sig := collection.CreateElement("signature")
	sig.CreateAttr("ID", id)
	desc := sig.CreateElement("signatureDescription")
	desc.CreateAttr("code", s.TypeCode)
	desc.CreateAttr("codeSystem", codes.OIDSignatureType)
	desc.CreateAttr("displayName", codes.SignatureType.Display(s.TypeCode, "fi"))
	tsID := "CDA-timestamp." + id
	ts := sig.CreateElement("signatureTimestamp")
	ts.CreateAttr("ID", tsID)
	ts.SetText(at.UTC().Format("2006-01-02T15:04:05.000Z"))

	ds := sig.CreateElement("Signature")
	ds.CreateAttr("xmlns", cda.NSDSig)
	si := ds.CreateElement("SignedInfo")
	si.CreateElement("CanonicalizationMethod").CreateAttr("Algorithm", AlgExcC14N)
	si.CreateElement("SignatureMethod").CreateAttr("Algorithm", method)
	for _, target := range []*etree.Element{body, ts} {
		h := sha256.New()
		if err := canonicalizeTo(h, target, "", strip); err != nil {
			return err
		}
		sum := h.Sum(nil)
		r := si.CreateElement("Reference")
		r.CreateAttr("URI", "#"+attr(target, "ID"))
		tr := r.CreateElement("Transforms")
		if s.Enveloped {
			tr.CreateElement("Transform").CreateAttr("Algorithm", AlgEnveloped)
		}
		tr.CreateElement("Transform").CreateAttr("Algorithm", AlgExcC14N)
		r.CreateElement("DigestMethod").CreateAttr("Algorithm", AlgSHA256)
		r.CreateElement("DigestValue").SetText(base64.StdEncoding.EncodeToString(sum))
	}
	canon, err := canonicalize(si, "", strip)
	if err != nil {
		return err
	}
	hh := h.New()
	hh.Write(canon)
	value, err := signDigest(s.Key, h, hh.Sum(nil))
	if err != nil {
		return err
	}
	ds.CreateElement("SignatureValue").SetText(base64.StdEncoding.EncodeToString(value))
	xd := ds.CreateElement("KeyInfo").CreateElement("X509Data")
	for _, c := range append([]*x509.Certificate{s.Cert}, s.Chain...) {
		xd.CreateElement("X509Certificate").SetText(base64.StdEncoding.EncodeToString(c.Raw))
	}
	return nil
}

func methodFor(k crypto.Signer) (string, crypto.Hash, error) {
	switch k.(type) {
	case *rsa.PrivateKey:
		return AlgRSASHA256, crypto.SHA256, nil
	case *ecdsa.PrivateKey:
		return AlgECDSASHA256, crypto.SHA256, nil
	}
	return "", 0, fmt.Errorf("unsupported key type %T", k)
}

func signDigest(k crypto.Signer, h crypto.Hash, sum []byte) ([]byte, error) {
	switch key := k.(type) {
	case *rsa.PrivateKey:
		return rsa.SignPKCS1v15(rand.Reader, key, h, sum)
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, key, sum)
		if err != nil {
			return nil, err
		}
		size := (key.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", k)
}
