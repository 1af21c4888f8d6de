//go:build arkisto_stdjson

package jsoncodec

import "encoding/json"

// Marshal is encoding/json.Marshal (built with -tags arkisto_stdjson).
func Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal is encoding/json.Unmarshal (built with -tags arkisto_stdjson).
func Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// Fallbacks is always 0: there is nothing to fall back from.
func Fallbacks() int64 { return 0 }
