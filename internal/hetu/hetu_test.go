package hetu

import (
	"errors"
	"testing"
	"time"
)

// checksum computes the check character independently of the package, from
// the rule as written in docs/domain.md, so the tests do not trust CheckChar.
func checksum(nineDigits string) byte {
	n := 0
	for _, c := range nineDigits {
		n = n*10 + int(c-'0')
	}
	return "0123456789ABCDEFHJKLMNPRSTUVWXY"[n%31]
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		code       string
		birth      string
		individual int
		temporary  bool
	}{
		{"200111A904P", "2011-01-20", 904, true}, // sample client (Kanta test person)
		{"180418A903L", "2018-04-18", 903, true}, // sample client
		{"080779-998C", "1979-07-08", 998, true}, // sample professional in the message frame
		{"010190-999W", "1990-01-01", 999, true}, // the domain background once wrote 010190-999K; its check character is W
		{"010190Y999W", "1990-01-01", 999, true}, // 2023 century sign: a different person
		{"010190X999W", "1990-01-01", 999, true},
		{"010190W999W", "1990-01-01", 999, true},
		{"010190V999W", "1990-01-01", 999, true},
		{"010190U999W", "1990-01-01", 999, true},
		{"010105B999" + string(checksum("010105999")), "2005-01-01", 999, true},
		{"010105C999" + string(checksum("010105999")), "2005-01-01", 999, true},
		{"010105D999" + string(checksum("010105999")), "2005-01-01", 999, true},
		{"010105E999" + string(checksum("010105999")), "2005-01-01", 999, true},
		{"010105F999" + string(checksum("010105999")), "2005-01-01", 999, true},
		{"311299+002" + string(checksum("311299002")), "1899-12-31", 2, false},
		{"290200A899" + string(checksum("290200899")), "2000-02-29", 899, false}, // leap day 2000
		{"131052-308T", "1952-10-13", 308, false},
	}
	for _, tt := range tests {
		c, err := Parse(tt.code)
		if err != nil {
			t.Errorf("Parse(%s): %v", tt.code, err)
			continue
		}
		if got := c.Birth.Format("2006-01-02"); got != tt.birth {
			t.Errorf("Parse(%s).Birth = %s, want %s", tt.code, got, tt.birth)
		}
		if c.Individual != tt.individual || c.Temporary() != tt.temporary {
			t.Errorf("Parse(%s) = individual %d temporary %v", tt.code, c.Individual, c.Temporary())
		}
		if c.String() != tt.code {
			t.Errorf("String() = %s", c.String())
		}
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		code string
		want error
	}{
		{"", ErrFormat},
		{"200111A904", ErrFormat},
		{"200111A904PP", ErrFormat},
		{"2001x1A904P", ErrFormat},
		{"200111A9O4P", ErrFormat},
		{"200111G904P", ErrCentury},
		{"200111a904P", ErrCentury},
		{"200111Z904P", ErrCentury},
		{"320111A904" + string(checksum("320111904")), ErrDate},
		{"001311A904" + string(checksum("001311904")), ErrDate},
		{"290201A904" + string(checksum("290201904")), ErrDate}, // 2001 is no leap year
		{"290200-904" + string(checksum("290200904")), ErrDate}, // 1900 is no leap year
		{"000000-904" + string(checksum("000000904")), ErrDate},
		{"010190-000" + string(checksum("010190000")), ErrIndividual},
		{"010190-001" + string(checksum("010190001")), ErrIndividual},
		{"200111A904A", ErrChecksum},
		{"200111A904p", ErrChecksum}, // check character is upper case
		{"010190-999K", ErrChecksum},
	}
	for _, tt := range tests {
		_, err := Parse(tt.code)
		if !errors.Is(err, tt.want) {
			t.Errorf("Parse(%q) = %v, want %v", tt.code, err, tt.want)
		}
	}
}

func TestErrorsDoNotLeakTheCode(t *testing.T) {
	for _, code := range []string{"200111A904A", "320111A904X", "200111G904P", "010190-001X"} {
		_, err := Parse(code)
		if err == nil {
			t.Fatalf("Parse(%q) succeeded", code)
		}
		for _, part := range []string{code, code[:6], code[7:10]} {
			if contains(err.Error(), part) {
				t.Errorf("error %q contains %q from the code", err, part)
			}
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestMakeRoundTrip(t *testing.T) {
	signs := map[int][]byte{1800: []byte("+"), 1900: []byte("-YXWVU"), 2000: []byte("ABCDEF")}
	for century, ss := range signs {
		for _, sign := range ss {
			for _, ind := range []int{2, 899, 900, 999} {
				birth := time.Date(century+37, 3, 14, 0, 0, 0, 0, time.UTC)
				s, err := Make(birth, ind, sign)
				if err != nil {
					t.Fatal(err)
				}
				c, err := Parse(s)
				if err != nil {
					t.Fatalf("Make produced %s which does not parse: %v", s, err)
				}
				if !c.Birth.Equal(birth) || c.Individual != ind || s[6] != sign {
					t.Errorf("round trip of %s lost data", s)
				}
				if s[10] != checksum(s[0:6]+s[7:10]) {
					t.Errorf("Make(%s) check character wrong", s)
				}
			}
		}
	}
	if _, err := Make(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), 900, 'A'); !errors.Is(err, ErrCentury) {
		t.Errorf("century mismatch not refused: %v", err)
	}
	if _, err := Make(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), 1, '-'); !errors.Is(err, ErrIndividual) {
		t.Errorf("individual 001 not refused: %v", err)
	}
}

func TestParseClientID(t *testing.T) {
	tests := []struct {
		root, ext string
		want      error
		temporary bool
		issuer    string
	}{
		{"1.2.246.21", "200111A904P", nil, false, ""},
		{"1.2.246.21", "200111A904A", ErrChecksum, false, ""},
		{"1.2.246.10.2012566.22.2026", "010111A998W", nil, true, "1.2.246.10.2012566"},
		{"1.2.246.10.2012566.22.2026", "anything-1", nil, true, "1.2.246.10.2012566"},
		{"1.2.246.10.2012566.22.2026", "", &Error{Rule: RuleTempID}, true, ""},
		{"1.2.246.10.2012566.22.2026", "has space", &Error{Rule: RuleTempID}, true, ""},
		{"1.2.246.10.2012566.22.1800", "x", &Error{Rule: RuleTempID}, true, ""},
		{"1.2.246.10.2012566.23.2026", "x", &Error{Rule: RuleClientRoot}, true, ""},
		{"1.2.246.537.26", "25104559650", &Error{Rule: RuleClientRoot}, true, ""},
		{".22.2026", "x", &Error{Rule: RuleClientRoot}, true, ""},
		{"1..2.22.2026", "x", &Error{Rule: RuleClientRoot}, true, ""},
	}
	for _, tt := range tests {
		id, err := ParseClientID(tt.root, tt.ext)
		if tt.want == nil {
			if err != nil {
				t.Errorf("ParseClientID(%s, %s): %v", tt.root, tt.ext, err)
				continue
			}
			if id.Temporary() != tt.temporary || id.IssuingOrganisation() != tt.issuer {
				t.Errorf("ParseClientID(%s): temporary %v issuer %q", tt.root, id.Temporary(), id.IssuingOrganisation())
			}
			if id.Key() != tt.root+"|"+tt.ext {
				t.Errorf("Key() = %s", id.Key())
			}
			continue
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseClientID(%s, %q) = %v, want %v", tt.root, tt.ext, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"200111A904P", "010190-999K", "010190Y999K", "311299+0021", "", "xxxxxxxxxxx", "290200A8990"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Rule == "" {
				t.Fatalf("error without a rule: %v", err)
			}
			return
		}
		// Anything accepted must round-trip through Make with the same sign.
		again, err := Make(c.Birth, c.Individual, s[6])
		if err != nil || again != s {
			t.Fatalf("accepted %q but Make gives %q, %v", s, again, err)
		}
		if s[10] != checksum(s[0:6]+s[7:10]) {
			t.Fatalf("accepted %q with a wrong check character", s)
		}
	})
}

func FuzzParseClientID(f *testing.F) {
	f.Add("1.2.246.21", "200111A904P")
	f.Add("1.2.246.10.2012566.22.2026", "010111A998W")
	f.Fuzz(func(t *testing.T, root, ext string) {
		id, err := ParseClientID(root, ext)
		if err == nil && id.Root == OIDRoot && !Valid(ext) {
			t.Fatalf("accepted invalid identity code")
		}
	})
}
