package hetu

import (
	"testing"
	"time"
)

// BenchmarkParse parses valid identity codes of each century sign and the
// client identifier form.
func BenchmarkParse(b *testing.B) {
	var codes []string
	for _, m := range []struct {
		birth time.Time
		sign  byte
	}{
		{time.Date(1952, 10, 13, 0, 0, 0, 0, time.UTC), '-'},
		{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), 'A'},
		{time.Date(1899, 2, 28, 0, 0, 0, 0, time.UTC), '+'},
		{time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), 'Y'},
	} {
		c, err := Make(m.birth, 999, m.sign)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Parse(c); err != nil {
			b.Fatalf("%s: %v", c, err)
		}
		codes = append(codes, c)
	}
	b.Run("identity code", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := Parse(codes[i%len(codes)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("client id", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseClientID(OIDRoot, codes[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
