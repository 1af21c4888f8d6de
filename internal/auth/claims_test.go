package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/pki"
)

// TestClaimText: sub, name and purpose are checked by Verify before
// anything can log them: sub is digits of a sane length, name printable
// text of at most 200 bytes, purpose a code.
func TestClaimText(t *testing.T) {
	ca := mustCA(t)
	sys := client(t, ca, pki.Template{})
	v := NewTokenVerifier(time.Now().Add(-time.Minute))
	for _, tt := range []struct {
		name, sub, pname string
		field            string // "" when accepted
		purpose          string // default 1
	}{
		{"registration number", "10000000001", "Testi Käyttäjä", "", ""},
		{"name with apostrophe and hyphen", "25104559650", "Anna-Liisa O'Brien", "", ""},
		{"sub with letters", "1000000000A", "N", "sub", ""},
		{"sub with a line break", "1000\n0001", "N", "sub", ""},
		{"sub with a space", "10000 00001", "N", "sub", ""},
		{"sub too long", strings.Repeat("1", MaxSubDigits+1), "N", "sub", ""},
		{"name with a line break", "10000000001", "Testi\nINFO forged=1", "name", ""},
		{"name with a carriage return", "10000000001", "Testi\rKäyttäjä", "name", ""},
		{"name with an escape", "10000000001", "Testi\x1b[2JKäyttäjä", "name", ""},
		{"name with a bidi override", "10000000001", "Testi \u202eäjättyäK", "name", ""},
		{"name with a zero-width space", "10000000001", "Testi\u200bKäyttäjä", "name", ""},
		{"name with a tab", "10000000001", "Testi\tKäyttäjä", "name", ""},
		{"name too long", "10000000001", strings.Repeat("a", MaxNameBytes+1), "claims", ""}, // the general length check
		{"purpose with a line break", "10000000001", "N", "purpose", "1\nx"},
		{"purpose with a quote", "10000000001", "N", "purpose", `1"`},
		{"purpose a dotted code", "10000000001", "N", "", "1.2-3_a"},
	} {
		purpose := tt.purpose
		if purpose == "" {
			purpose = "1"
		}
		c := NewClaims(tt.sub, tt.pname, "1.2.246.10.1.10.1", purpose, 5*time.Minute)
		raw, err := Sign(sys.Key, c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Verify(context.Background(), raw, "sys", sys.Cert.PublicKey)
		if tt.field == "" {
			if err != nil || got.Sub != tt.sub || got.Name != tt.pname {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var te *TokenError
		if !errors.As(err, &te) || te.Field != tt.field {
			t.Errorf("%s: got %v, want an error about %s", tt.name, err, tt.field)
		}
	}
}

// TestCheckUnit: a token's service unit must belong to the calling
// system's organisation.
func TestCheckUnit(t *testing.T) {
	const org = "1.2.246.10.12345671.10.0" // a controller OID, as systems are registered
	for _, tt := range []struct {
		unit, org string
		ok        bool
	}{
		{"1.2.246.10.12345671.10.40006775", org, true},
		{"1.2.246.10.12345671", org, true},
		{"1.2.246.10.12345671.10.0", org, true},
		{"1.2.246.10.76543210.10.1", org, false},
		{"1.2.246.10.123456719.10.1", org, false}, // a longer business id is another organisation
		{"1.2.246.10", org, false},
		{"1.2.3.4", org, false},
		{"1.2.3.4.5", "1.2.3.4", true}, // an organisation outside 1.2.246.10: its own subtree
		{"1.2.3.45", "1.2.3.4", false},
	} {
		err := CheckUnit(tt.unit, tt.org)
		if ok := err == nil; ok != tt.ok {
			t.Errorf("CheckUnit(%s, %s) = %v, want ok %v", tt.unit, tt.org, err, tt.ok)
		}
		var te *TokenError
		if err != nil && (!errors.As(err, &te) || te.Field != "unit") {
			t.Errorf("CheckUnit(%s, %s): %v is not about the unit", tt.unit, tt.org, err)
		}
	}
}

// TestJustificationClaims: a broad search's justification claims are
// checked before anything logs them: the code is a code, the text
// printable and bounded.
func TestJustificationClaims(t *testing.T) {
	ca := mustCA(t)
	sys := client(t, ca, pki.Template{})
	v := NewTokenVerifier(time.Now().Add(-time.Minute))
	for _, tt := range []struct {
		name, code, text, field string
	}{
		{"a code and words", "need-assessment", "Palvelutarpeen arviointi", ""},
		{"a code with a space", "need assessment", "x", "justification"},
		{"words with a line break", "need-assessment", "rivi\nINFO forged=1", "justification_text"},
		{"words with a bidi override", "need-assessment", "a\u202eb", "justification_text"},
		{"words too long", "need-assessment", strings.Repeat("a", 2001), "claims"},
	} {
		c := NewClaims("10000000001", "N", "1.2.246.10.1.10.1", "broad-search", 5*time.Minute)
		c.Justification, c.JustificationText = tt.code, tt.text
		raw, err := Sign(sys.Key, c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Verify(context.Background(), raw, "sys", sys.Cert.PublicKey)
		if tt.field == "" {
			if err != nil || got.Justification != tt.code || got.JustificationText != tt.text {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var te *TokenError
		if !errors.As(err, &te) || te.Field != tt.field {
			t.Errorf("%s: got %v, want an error about %s", tt.name, err, tt.field)
		}
	}
}
