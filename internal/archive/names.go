package archive

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// FoldName folds a name for FHIR string search, which matches "case- and
// accent-insensitive" (FHIR R4 3.1.1.4.5 string): the name decomposed
// (NFD), its combining marks dropped, lower-cased, its runs of white space
// made one space. "Mäki-Äijälä" folds to "maki-aijala".
func FoldName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// AuthorTerms are the folded author names a store keeps for
// Query.AuthorFamily and Query.AuthorGiven: the family name, and every
// given name (the call name too) each preceded by a space, so that a
// given-name prefix p matches "% p%".
func AuthorTerms(r *Record) (family, given string) {
	n := r.Header.Author.Name
	var b strings.Builder
	for _, g := range append(append([]string(nil), n.Given...), n.CallName) {
		if f := FoldName(g); f != "" {
			b.WriteByte(' ')
			b.WriteString(f)
		}
	}
	return FoldName(n.Family), b.String()
}
