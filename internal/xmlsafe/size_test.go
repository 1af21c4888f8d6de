package xmlsafe

import (
	"strings"
	"testing"
)

// TestTooLargeSaysSizesReadably: the limit reads as set (64 MiB), not as
// a raw byte count (issue 17).
func TestTooLargeSaysSizesReadably(t *testing.T) {
	data := []byte("<a>" + strings.Repeat("x", 3<<10) + "</a>")
	for name, check := range map[string]func() error{
		"Parse":      func() error { _, err := Parse(data, Limits{MaxBytes: 2 << 10}); return err },
		"Wellformed": func() error { _, err := Wellformed(data, Limits{MaxBytes: 2 << 10}); return err },
	} {
		err := check()
		if err == nil || !strings.Contains(err.Error(), "document is 3 KiB (3079 bytes); the limit is 2 KiB") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
