package oid

import "testing"

func TestCheck(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"1.2.246.21", true},
		{"1.2.246.10.32213561.95777.2026.688883.2809773", true},
		{"2.16.840.1.113883.1.3", true},
		{"0.1", true},
		{"", false},
		{"1", false},
		{"3.1", false},
		{"1..2", false},
		{"1.2.", false},
		{".1.2", false},
		{"1.02", false},
		{"1.2a", false},
		{"1.2.246.21 ", false},
		{"1." + string(make([]byte, 200)), false},
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.ok {
			t.Errorf("Valid(%q) = %v, want %v (err %v)", tt.in, got, tt.ok, Check(tt.in))
		}
	}
}

func TestUnderAndOrganisation(t *testing.T) {
	if !Under("1.2.246.10.1.10.0", "1.2.246.10.1") || Under("1.2.246.10.12", "1.2.246.10.1") || Under("1.2", "1.2") {
		t.Error("Under is wrong")
	}
	for in, want := range map[string]string{
		"1.2.246.10.2012566.10.40006775": "1.2.246.10.2012566",
		"1.2.246.10.2012566":             "1.2.246.10.2012566",
		"1.2.246.537.26":                 "",
		"1.2.246.10.":                    "",
	} {
		if got := Organisation(in); got != want {
			t.Errorf("Organisation(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBusinessID(t *testing.T) {
	// 3221356-1 is in the public sample's custodian OID 1.2.246.10.32213561.
	for _, ok := range []string{"3221356-1", "0201256-6"} {
		if err := CheckBusinessID(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "3221356-2", "32213561", "322135-61", "abcdefg-1", "3221356-x"} {
		if CheckBusinessID(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
