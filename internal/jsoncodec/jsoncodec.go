//go:build !arkisto_stdjson

// Package jsoncodec encodes and decodes the archive's own JSON on its hot
// paths: records as stored, access-log entries and FHIR responses. Input
// from outside the archive (request bodies) is parsed with encoding/json
// (a submission Bundle's envelope and Binaries by hand where encoding/json
// would read them alike: internal/fhirapi/submission_json.go).
//
// Why not encoding/json: a read decodes every record it returns, and
// encoding/json spends most of a client's document list doing so. With
// github.com/goccy/go-json the end-to-end benchmark's server spends about
// half the CPU on a list of a client's documents and a quarter less on a
// fetch (docs/benchmarks.md, "JSON"); archiving is bound by signature
// verification and does not change. go-json follows the same rules
// (struct tags, omitempty, time.Time, HTML escaping), which the tests here
// hold it to on every kind of record and on damaged ones.
//
// Why the fallback: go-json relies on runtime internals (unsafe) and has
// open reports of panics on unusual input. A panic in it, or an error
// where encoding/json might succeed, falls back to encoding/json, so that
// its failure costs time, never a request. Build with -tags arkisto_stdjson
// to use encoding/json alone (to measure the difference again).
package jsoncodec

import (
	"encoding/json"
	"reflect"
	"sync/atomic"

	gojson "github.com/goccy/go-json"
)

// The fast codec, a variable so that a test can make it fail.
var (
	fastMarshal   = gojson.Marshal
	fastUnmarshal = gojson.Unmarshal
)

var fallbacks atomic.Int64

// Fallbacks is how many calls encoding/json has answered because go-json
// panicked or failed.
func Fallbacks() int64 { return fallbacks.Load() }

// Marshal encodes v as encoding/json.Marshal does.
func Marshal(v any) (b []byte, err error) {
	defer func() {
		if recover() != nil {
			fallbacks.Add(1)
			b, err = json.Marshal(v)
		}
	}()
	b, err = fastMarshal(v)
	if err != nil {
		fallbacks.Add(1)
		return json.Marshal(v)
	}
	return b, nil
}

// Unmarshal decodes data into v as encoding/json.Unmarshal does.
func Unmarshal(data []byte, v any) (err error) {
	defer func() {
		if recover() != nil {
			fallbacks.Add(1)
			err = again(data, v)
		}
	}()
	if err = fastUnmarshal(data, v); err != nil {
		fallbacks.Add(1)
		return again(data, v)
	}
	return nil
}

// again decodes with encoding/json into a v cleared of what a failed
// decoding may have left in it.
func again(data []byte, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv.Elem().SetZero()
	}
	return json.Unmarshal(data, v)
}
