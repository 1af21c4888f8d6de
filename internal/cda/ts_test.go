package cda

import (
	"testing"
	"time"
)

func TestParseTS(t *testing.T) {
	tests := []struct {
		in      string
		want    string // RFC 3339 in UTC, "" for an error
		hasTime bool
	}{
		{"20260323105424+0200", "2026-03-23T08:54:24Z", true},
		{"20260717130652+0300", "2026-07-17T10:06:52Z", true},
		{"202607171306+0300", "2026-07-17T10:06:00Z", true},
		{"20260717130652.123-0130", "2026-07-17T14:36:52.123Z", true},
		{"20180418", "2018-04-18T00:00:00Z", false},
		{"2018", "2018-01-01T00:00:00Z", false},
		{"20180418+0200", "2018-04-17T22:00:00Z", false},
		{"20260323105424", "", true}, // no zone
		{"2026032310+0200", "2026-03-23T08:00:00Z", true},
		{"202603231054245+0200", "", false}, // odd length
		{"20260230", "", false},             // not a date
		{"20261301", "", false},
		{"20260323245424+0200", "", true},
		{"20260323105424+02", "", true},
		{"20260323105424Z", "", true},
		{"20260323105424+2400", "", true},
		{"20260323105424+-1-1", "", true}, // strconv.Atoi would take the signs
		{"20260323105424++1+1", "", true},
		{"20260323105424+ 1 1", "", true},
		{"20260323105424-0130", "2026-03-23T12:24:24Z", true},
		{"2026.5", "", false},
		{"", "", false},
		{"abc", "", false},
	}
	for _, tt := range tests {
		got, hasTime, err := ParseTS(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseTS(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTS(%q): %v", tt.in, err)
			continue
		}
		if s := got.UTC().Format(time.RFC3339Nano); s != tt.want || hasTime != tt.hasTime {
			t.Errorf("ParseTS(%q) = %s %v, want %s %v", tt.in, s, hasTime, tt.want, tt.hasTime)
		}
	}
}

func TestFormatTSRoundTrip(t *testing.T) {
	in := time.Date(2026, 3, 23, 10, 54, 24, 0, time.FixedZone("", 2*3600))
	got, _, err := ParseTS(FormatTS(in))
	if err != nil || !got.Equal(in) {
		t.Fatalf("round trip: %v %v", got, err)
	}
}

func FuzzParseTS(f *testing.F) {
	for _, s := range []string{"20260323105424+0200", "20180418", "20260717130652.123-0130", "2026", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, hasTime, err := ParseTS(s)
		if err != nil {
			return
		}
		if hasTime && len(s) < 15 {
			t.Fatalf("%q: a time of day without a zone was accepted", s)
		}
		// What is accepted writes back to the same instant.
		again, _, err := ParseTS(FormatTS(got))
		if hasTime && (err != nil || !again.Equal(got.Truncate(time.Second))) {
			t.Fatalf("%q: round trip %v vs %v (%v)", s, again, got, err)
		}
	})
}
