package archive

import (
	"testing"

	"github.com/arkisto/arkisto/internal/cda"
)

// TestCheckClientID: a temporary client identifier is accepted only under
// the root of the submitting organisation or of the custodian.
func TestCheckClientID(t *testing.T) {
	const (
		a = "1.2.246.10.12345671" // organisation A
		b = "1.2.246.10.76543210" // organisation B
	)
	for _, tt := range []struct {
		name                  string
		caller, custodian, id string
		ok                    bool
	}{
		{"identity code", a + ".10.0", a + ".10.0", "1.2.246.21", true},
		{"own root", a + ".10.0", a + ".10.0", a + ".22.2026", true},
		{"own controller OID as root", a + ".10.0", a + ".10.0", a + ".10.0.22.2026", true},
		{"another organisation's root in the own register", a + ".10.0", a + ".10.0", b + ".22.2026", false},
		{"another organisation's root in its register", a + ".10.0", b + ".10.0", b + ".22.2026", true},
		{"a third organisation's root", a + ".10.0", b + ".10.0", "1.2.246.10.11111110.22.2026", false},
		{"a prefix is not the organisation", a + ".10.0", a + ".10.0", a + "9.22.2026", false},
		{"a root outside 1.2.246.10", a + ".10.0", a + ".10.0", "1.2.3.22.2026", false},
		{"no organisation arc", a + ".10.0", a + ".10.0", "1.2.246.21.22.2026", false},
	} {
		h := &cda.Header{}
		h.Client.ID = cda.ID{Root: tt.id, Extension: "T1"}
		h.Custodian.OID = tt.custodian
		err := checkClientID(Caller{System: "s", Organisation: tt.caller}, h)
		if ok := err == nil; ok != tt.ok {
			t.Errorf("%s: error %v, want ok %v", tt.name, err, tt.ok)
			continue
		}
		if err != nil {
			ae, isErr := err.(*Error)
			if !isErr || ae.Kind != ErrInvalid || !ae.Problems.Has(RuleTempIDOrganisation) {
				t.Errorf("%s: %v is not an invalid document with %s", tt.name, err, RuleTempIDOrganisation)
			}
		}
	}
}
