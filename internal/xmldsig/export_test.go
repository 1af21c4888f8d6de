package xmldsig

// Canonicalize exposes canonicalize to the external test package, whose
// helpers build signatures of arbitrary (also hostile) shape by hand. The
// tests live in package xmldsig_test because they use package gen, which
// imports this package.
var Canonicalize = canonicalize
