// Package xmldsig verifies (and, for generated test documents, creates) the
// W3C XML Signatures of a Kanta CDA document's signatureCollection.
//
// Verification is deliberately narrow: each signature must reference exactly
// the nonXMLBody element the archive reads and its own signatureTimestamp,
// by same-document ID, with exclusive canonicalisation; any other shape is
// refused. This is what makes signature wrapping attacks fail.
package xmldsig

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// Algorithm identifiers.
const (
	AlgExcC14N     = "http://www.w3.org/2001/10/xml-exc-c14n#"
	AlgEnveloped   = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	AlgSHA256      = "http://www.w3.org/2001/04/xmlenc#sha256"
	AlgSHA512      = "http://www.w3.org/2001/04/xmlenc#sha512"
	AlgRSASHA256   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	AlgRSASHA512   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
	AlgECDSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
)

// Form says over which form of the document a signature verified.
type Form string

const (
	// FormAsReceived: the document exactly as received.
	FormAsReceived Form = "as-received"
	// FormWhitespaceStripped: the same document without whitespace-only
	// text nodes, as a .NET XmlDocument signer with PreserveWhitespace=false
	// sees it before the document is stored indented.
	FormWhitespaceStripped Form = "whitespace-stripped"
)

// canonicalize returns the exclusive canonical form (without comments) of el
// as a subtree of its document: namespace declarations in scope from its
// ancestors are taken into account, el itself is not changed. With strip,
// whitespace-only text nodes in the subtree are left out first.
func canonicalize(el *etree.Element, prefixList string, strip bool) ([]byte, error) {
	ctx := etreeutils.NewDefaultNSContext()
	var ancestors []*etree.Element
	for p := el.Parent(); p != nil; p = p.Parent() {
		ancestors = append(ancestors, p)
	}
	for i := len(ancestors) - 1; i >= 0; i-- {
		var err error
		if ctx, err = ctx.SubContext(ancestors[i]); err != nil {
			return nil, fmt.Errorf("namespace context: %w", err)
		}
	}
	detached, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, fmt.Errorf("detach element: %w", err)
	}
	if strip {
		stripWhitespace(detached)
	}
	out, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(prefixList).Canonicalize(detached)
	if err != nil {
		return nil, fmt.Errorf("canonicalize: %w", err)
	}
	return out, nil
}

// stripWhitespace removes whitespace-only text nodes from the subtree.
func stripWhitespace(root *etree.Element) {
	stack := []*etree.Element{root}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for i := len(el.Child) - 1; i >= 0; i-- {
			switch n := el.Child[i].(type) {
			case *etree.CharData:
				if strings.Trim(n.Data, " \t\r\n") == "" {
					el.RemoveChildAt(i)
				}
			case *etree.Element:
				stack = append(stack, n)
			}
		}
	}
}
