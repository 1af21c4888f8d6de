package xmlsafe

// For the external tests that need generated documents (internal/gen
// imports this package through internal/cda).
var (
	ParseFast      = parseFast
	ParseReference = parseReference
	SameTree       = sameTree
)

// WithDefaults is withDefaults for the external tests.
func (l Limits) WithDefaults() Limits { return l.withDefaults() }
