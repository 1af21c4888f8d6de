package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/arkisto/arkisto/internal/oid"
)

// Bounds of the professional's claims.
const (
	MaxSubDigits = 20  // a registration number (Valvira/Terhikki) has 11
	MaxNameBytes = 200 // the professional's name
)

// checkClaimText checks the claims that go into the access log before
// anything logs them or shows them to a client: sub is a registration
// number, digits only; name is printable text without control or
// formatting characters (no line breaks that forge log lines, no
// bidirectional overrides that reorder what a reader sees); purpose is a
// code.
func checkClaimText(sub, name, purpose string) error {
	for i := 0; i < len(purpose); i++ {
		if c := purpose[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '-' || c == '_') {
			return tokErr("purpose", "must be a code of the usage situation code set: letters, digits, '.', '-' and '_'")
		}
	}
	if len(sub) > MaxSubDigits {
		return tokErr("sub", "must be the professional's registration number: at most %d digits", MaxSubDigits)
	}
	for i := 0; i < len(sub); i++ {
		if sub[i] < '0' || sub[i] > '9' {
			return tokErr("sub", "must be the professional's registration number: digits only")
		}
	}
	if len(name) > MaxNameBytes {
		return tokErr("name", "must be at most %d bytes", MaxNameBytes)
	}
	if !utf8.ValidString(name) {
		return tokErr("name", "must be UTF-8 text")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return tokErr("name", "must be printable text: no control, formatting or separator characters other than the space")
		}
	}
	return nil
}

// CheckUnit checks that the token's service unit belongs to the calling
// system's organisation: the unit is the organisation's own OID or lies
// under its root (1.2.246.10.<business id>). A system acts only in its own
// organisation's units; the unit is recorded in the access log as where
// the professional acted.
func CheckUnit(unit, organisation string) error {
	root := oid.Organisation(organisation)
	if root == "" {
		root = organisation
	}
	if unit == root || oid.Under(unit, root) {
		return nil
	}
	return tokErr("unit", "the service unit %s is not one of the calling system's organisation (%s)", unit, root)
}

// checkJustification checks a broad search's justification claims before
// they are logged: the code is a code, the text printable. Whether they
// justify a broad search is the access policy's decision.
func checkJustification(code, text string) error {
	for i := 0; i < len(code); i++ {
		if c := code[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '-' || c == '_') {
			return tokErr("justification", "must be a code of urn:arkisto:broad-search-ground: letters, digits, '.', '-' and '_'")
		}
	}
	if !utf8.ValidString(text) || strings.IndexFunc(text, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return tokErr("justification_text", "must be printable text, without control or formatting characters")
	}
	return nil
}
