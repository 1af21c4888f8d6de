//go:build !arkisto_stdjson

// Package fastjson encodes and decodes the archive's own JSON on its hot
// paths: records as stored, and FHIR responses. encoding/json spends most
// of a client's document list decoding stored records and validating
// time values; github.com/goccy/go-json does the same work several times
// faster with the same rules (struct tags, omitempty, time.Time, HTML
// escaping), which the tests here hold it to. Input from outside the
// archive (request bodies) is still parsed with encoding/json.
package fastjson

import gojson "github.com/goccy/go-json"

// Marshal encodes v as encoding/json.Marshal does.
func Marshal(v any) ([]byte, error) { return gojson.Marshal(v) }

// Unmarshal decodes data into v as encoding/json.Unmarshal does.
func Unmarshal(data []byte, v any) error { return gojson.Unmarshal(data, v) }
