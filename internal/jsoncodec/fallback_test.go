//go:build !arkisto_stdjson

package jsoncodec

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

type rec struct {
	ID    string            `json:"id"`
	At    time.Time         `json:"at"`
	Tags  []string          `json:"tags,omitempty"`
	Extra map[string]string `json:"extra,omitempty"`
}

// TestFallsBackToEncodingJSON: a panic or an error in go-json costs
// nothing but time: encoding/json answers, into a value cleared of what
// the failed attempt left.
func TestFallsBackToEncodingJSON(t *testing.T) {
	defer func(m func(any) ([]byte, error), u func([]byte, any) error) { fastMarshal, fastUnmarshal = m, u }(fastMarshal, fastUnmarshal)
	want := rec{ID: "1.2.3", At: time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC), Tags: []string{"<a>"}}
	wantJSON, _ := json.Marshal(want)
	for name, broken := range map[string]struct {
		m func(any) ([]byte, error)
		u func([]byte, any) error
	}{
		"panic": {
			func(any) ([]byte, error) { panic("go-json bug") },
			func(_ []byte, v any) error { v.(*rec).Extra = map[string]string{"junk": "x"}; panic("go-json bug") },
		},
		"error": {
			func(any) ([]byte, error) { return nil, errors.New("go-json bug") },
			func(_ []byte, v any) error {
				v.(*rec).Tags = []string{"junk", "more"}
				return errors.New("go-json bug")
			},
		},
	} {
		fastMarshal, fastUnmarshal = broken.m, broken.u
		before := Fallbacks()
		got, err := Marshal(want)
		if err != nil || string(got) != string(wantJSON) {
			t.Errorf("%s: Marshal = %s, %v; want %s", name, got, err, wantJSON)
		}
		var back rec
		if err := Unmarshal(wantJSON, &back); err != nil {
			t.Errorf("%s: Unmarshal: %v", name, err)
		}
		if gotJSON, _ := json.Marshal(back); string(gotJSON) != string(wantJSON) {
			t.Errorf("%s: Unmarshal left %s, want %s", name, gotJSON, wantJSON)
		}
		if n := Fallbacks() - before; n != 2 {
			t.Errorf("%s: %d fallbacks counted, want 2", name, n)
		}
		// Bad input is still refused, with encoding/json's error.
		if err := Unmarshal([]byte(`{"id":`), &back); err == nil {
			t.Errorf("%s: a truncated record was accepted", name)
		}
	}
}
