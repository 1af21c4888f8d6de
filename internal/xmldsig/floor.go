package xmldsig

import (
	"crypto"
	"errors"
	"fmt"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/problem"
)

// FloorInput is what checking one signature cannot do without: the
// signer's public key, the canonical SignedInfo and the signature value.
// The benchmark's crypto floor verifies these, and hashes the document's
// bytes, with nothing else: the cost verification approaches when XML
// parsing, canonicalisation and checks cost nothing.
type FloorInput struct {
	Public     crypto.PublicKey
	Method     string
	SignedInfo []byte
	Value      []byte
}

// Verify checks the signature value over the SignedInfo.
func (f *FloorInput) Verify() error { return verifyValue(f.Public, f.Method, f.SignedInfo, f.Value) }

// FloorInputs extracts the floor inputs of every signature of a document,
// over the form it verified in. It is for measuring, not for checking: it
// refuses a signature that does not verify.
func FloorInputs(d *cda.Document) ([]FloorInput, error) {
	rep := (&Verifier{}).Verify(d)
	if len(rep.Signatures) == 0 {
		return nil, errors.New("the document has no signatures")
	}
	var out []FloorInput
	for i, r := range rep.Signatures {
		if !r.Valid {
			return nil, fmt.Errorf("signature %d does not verify", i+1)
		}
		ds, _ := child(d.Signatures[i].Element(), cda.NSDSig, "Signature")
		var p problem.List
		si := (&Verifier{}).signedInfo(ds, "", &p)
		if si == nil || len(p) > 0 {
			return nil, fmt.Errorf("signature %d: %v", i+1, p)
		}
		canon, err := canonicalize(si.el, si.prefixList, r.Form == FormWhitespaceStripped)
		if err != nil {
			return nil, fmt.Errorf("signature %d: %w", i+1, err)
		}
		out = append(out, FloorInput{Public: r.Certificate.PublicKey, Method: si.method, SignedInfo: canon, Value: si.value})
	}
	return out, nil
}
