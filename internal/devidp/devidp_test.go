package devidp

import (
	"net"
	"testing"
)

// TestTestCode: only valid identity codes with an individual number of
// 900–999 sign in.
func TestTestCode(t *testing.T) {
	for _, tt := range []struct {
		code string
		ok   bool
	}{
		{"131175-956E", true},
		{"010101A900U", false}, // a wrong check character
		{"131052-308T", false}, // a real-range code
		{"", false},
		{"131175-956e", false},
	} {
		if err := TestCode(tt.code); (err == nil) != tt.ok {
			t.Errorf("TestCode(%q) = %v, want ok %v", tt.code, err, tt.ok)
		}
	}
}

// TestServeRefusesRealPeople: the login page cannot even list a person
// outside the test range.
func TestServeRefusesRealPeople(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := Serve(ln, Options{People: []Person{{Hetu: "131052-308T", Name: "Real"}}}); err == nil {
		t.Error("served a real-range identity code")
	}
}
