package jsoncodec_test

import (
	"encoding/json"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/jsoncodec"
)

// records are the corpus's stored records, encoded.
func records(b *testing.B) [][]byte {
	var out [][]byte
	for _, v := range corpus(b) {
		if r, ok := v.(*archive.Record); ok {
			js, err := json.Marshal(r)
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, js)
		}
	}
	return out
}

// BenchmarkDecodeRecord decodes a stored record, as a read does for each
// record it returns.
func BenchmarkDecodeRecord(b *testing.B) {
	recs := records(b)
	b.ResetTimer()
	for i := range b.N {
		var r archive.Record
		if err := jsoncodec.Unmarshal(recs[i%len(recs)], &r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeRecord encodes a record, as archiving does.
func BenchmarkEncodeRecord(b *testing.B) {
	var recs []*archive.Record
	for _, v := range corpus(b) {
		if r, ok := v.(*archive.Record); ok {
			recs = append(recs, r)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := jsoncodec.Marshal(recs[i%len(recs)]); err != nil {
			b.Fatal(err)
		}
	}
}
