// Package oid checks ISO object identifiers as HL7 uses them (dotted decimal).
package oid

import (
	"fmt"
	"strings"
)

// MaxLen bounds an OID's length; HL7 II.root is at most 64 characters in
// practice, and the archive allows some room beyond that.
const MaxLen = 128

// Check reports why s is not a well-formed OID, or nil: dotted decimal,
// at least two arcs, the first 0, 1 or 2, no leading zeros, no empty arcs.
func Check(s string) error {
	if s == "" {
		return fmt.Errorf("OID is empty")
	}
	if len(s) > MaxLen {
		return fmt.Errorf("OID is longer than %d characters", MaxLen)
	}
	arcs := strings.Split(s, ".")
	if len(arcs) < 2 {
		return fmt.Errorf("OID must have at least two arcs separated by dots")
	}
	for i, a := range arcs {
		if a == "" {
			return fmt.Errorf("OID arc %d is empty", i+1)
		}
		for j := 0; j < len(a); j++ {
			if a[j] < '0' || a[j] > '9' {
				return fmt.Errorf("OID arc %d must contain only digits", i+1)
			}
		}
		if len(a) > 1 && a[0] == '0' {
			return fmt.Errorf("OID arc %d has a leading zero", i+1)
		}
	}
	if arcs[0] != "0" && arcs[0] != "1" && arcs[0] != "2" {
		return fmt.Errorf("OID first arc must be 0, 1 or 2")
	}
	return nil
}

// Valid reports whether s is a well-formed OID.
func Valid(s string) bool { return Check(s) == nil }

// Under reports whether s lies strictly beneath parent in the OID tree.
func Under(s, parent string) bool {
	return len(s) > len(parent)+1 && strings.HasPrefix(s, parent) && s[len(parent)] == '.'
}

// SameOrganisation reports whether two OIDs name the same organisation:
// equal, or under the same 1.2.246.10.<business id>. A system certificate's
// serialNumber may name the organisation's top unit (<organisation>.10.0)
// while a document's custodian is another of its units.
func SameOrganisation(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	oa := Organisation(a)
	return oa != "" && oa == Organisation(b)
}

// Organisation returns the organisation OID (1.2.246.10.<business id>) that
// a unit or document OID under it belongs to, or "" when s is not under
// 1.2.246.10.
func Organisation(s string) string {
	const base = "1.2.246.10."
	if !strings.HasPrefix(s, base) {
		return ""
	}
	rest := s[len(base):]
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		rest = rest[:i]
	}
	if rest == "" {
		return ""
	}
	return base + rest
}
