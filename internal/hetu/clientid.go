package hetu

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/arkisto/arkisto/internal/oid"
)

// Rule codes of client identifier errors.
const (
	RuleClientRoot = "CLIENT_ID_ROOT"
	RuleTempID     = "CLIENT_TEMP_ID"
)

// tempRoot matches an organisation-issued temporary identifier root
// "<organisation OID>.22.<year>".
var tempRoot = regexp.MustCompile(`^(.+)\.22\.([0-9]{4})$`)

// ClientID identifies a client: an identity code under 1.2.246.21, or a
// temporary identifier issued by an organisation under "<org OID>.22.<year>".
type ClientID struct {
	Root      string
	Extension string
}

// Key is the client's stable key in storage and in access logs.
func (c ClientID) Key() string { return c.Root + "|" + c.Extension }

// Temporary reports whether the identifier is organisation-issued.
func (c ClientID) Temporary() bool { return c.Root != OIDRoot }

// IssuingOrganisation returns the OID of the organisation that issued a
// temporary identifier, or "" for an identity code.
func (c ClientID) IssuingOrganisation() string {
	if m := tempRoot.FindStringSubmatch(c.Root); m != nil {
		return m[1]
	}
	return ""
}

// ParseClientID validates a client identifier. Identity codes must pass
// Parse; temporary identifiers carry no checksum, so only their root (a
// well-formed organisation OID, arc 22, a plausible year) and the extension's
// shape are checked.
func ParseClientID(root, extension string) (ClientID, error) {
	id := ClientID{Root: root, Extension: extension}
	if root == OIDRoot {
		if _, err := Parse(extension); err != nil {
			return id, err
		}
		return id, nil
	}
	m := tempRoot.FindStringSubmatch(root)
	if m == nil || oid.Check(root) != nil || oid.Check(m[1]) != nil {
		return id, &Error{RuleClientRoot, fmt.Sprintf("client id root must be %s (identity code) or <organisation OID>.22.<year> (temporary identifier)", OIDRoot)}
	}
	if y, _ := strconv.Atoi(m[2]); y < 1900 || y > 2199 {
		return id, &Error{RuleTempID, "temporary identifier root year must be 1900–2199"}
	}
	if extension == "" || len(extension) > 64 {
		return id, &Error{RuleTempID, "temporary identifier extension must be 1–64 characters"}
	}
	for i := 0; i < len(extension); i++ {
		if c := extension[i]; c <= ' ' || c > '~' {
			return id, &Error{RuleTempID, "temporary identifier extension must be printable ASCII without spaces"}
		}
	}
	return id, nil
}
