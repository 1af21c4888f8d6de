package xmldsig

import (
	"io"

	"github.com/beevik/etree"
)

// Canonicalize exposes canonicalize to the external test package, whose
// helpers build signatures of arbitrary (also hostile) shape by hand. The
// tests live in package xmldsig_test because they use package gen, which
// imports this package.
var Canonicalize = canonicalize

// CanonicalizeReference is the canonicaliser canonicalize replaced.
var CanonicalizeReference = canonicalizeReference

// CanonicalizeChunked is canonicalizeTo passing on chunks of the given size.
func CanonicalizeChunked(w io.Writer, el *etree.Element, prefixList string, strip bool, chunk int) error {
	return canonicalizeChunked(w, el, prefixList, strip, chunk)
}

// ErrAttributeClash is what canonicalize refuses and the reference accepts.
var ErrAttributeClash = errAttributeClash
