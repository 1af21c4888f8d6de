package jsoncodec_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/jsoncodec"
	"github.com/arkisto/arkisto/internal/pki"
)

// corpus is what the archive encodes on its hot paths: records of every
// kind of generated document (client relationship documents, plans,
// replacements, documents signed over their stripped form), with and
// without a nullification, access-log callers, and FHIR resources.
func corpus(t testing.TB) []any {
	t.Helper()
	w, err := gen.NewPKI(gen.PKIOptions{Seed: 3, KeyType: pki.P256})
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(w, gen.Options{Seed: 3, Clients: 3, ReplaceEvery: 2, StrippedEvery: 3})
	var out []any
	for i := range 12 {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		doc, probs := cda.Read(d.XML, cda.Options{})
		if doc == nil {
			t.Fatalf("generated document does not read: %v", probs)
		}
		c := archive.Caller{System: d.Org.SystemName, Organisation: d.Org.ControllerOID(), Person: "10000000001", PersonName: "Äijä <&> \"Ö\"", Unit: d.Org.Units[1].OID, Purpose: "1"}
		rec := &archive.Record{Header: doc.Header, Controller: d.Org.ControllerOID(), Status: archive.StatusCurrent, SHA256: strings.Repeat("ab", 32),
			Size: int64(len(d.XML)), ReceivedAt: time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC), Submitter: c,
			Signatures:  []archive.SignatureSummary{{Index: 1, ID: "sig-1", Type: "1", Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", 2*3600)), Algorithm: "rsa-sha256", SignerName: "Testi Tiina"}},
			DisplayType: doc.Body.DisplayMediaType, HasStructured: doc.Body.Structured != nil}
		if i%3 == 1 {
			// Metadata a sender sent with the document (MHD), kept in the record.
			at := time.Date(2026, 3, 1, 8, 0, 0, 5000, time.FixedZone("", 2*3600))
			rec.Source = &archive.SourceMetadata{Date: &at,
				Identifiers:    []archive.SourceIdentifier{{Use: "official", System: "urn:ietf:rfc:3986", Value: "urn:uuid:0b7f4c7e-1f9e-4d35-9a40-8c1d0a3f5e21"}},
				SecurityLabels: []archive.SourceConcept{{Coding: []archive.SourceCoding{{System: "urn:oid:1.2.246.777.5.99902.2006", Code: "6", Display: "Ö <&>"}}, Text: "salassa"}},
				Format:         &archive.SourceCoding{System: "urn:ihe:iti:xds:2017:mimeTypeSufficient", Code: "urn:ihe:iti:xds:2017:mimeTypeSufficient"},
				Hash:           "2jmj7l5rSw0yVb/vlWAYkK/YBwk="}
		}
		if i%4 == 3 {
			rec.Status = archive.StatusNullified
			rec.Nullification = &archive.Nullification{ReasonCode: "1", ReasonText: "väärä asiakas </script>", By: c, At: rec.ReceivedAt}
		}
		out = append(out, rec, c)
		bundle, err := fhirapi.SubmissionBundle(d.XML)
		if err != nil {
			t.Fatal(err)
		}
		var b fhirapi.Bundle
		if err := json.Unmarshal(bundle, &b); err != nil {
			t.Fatal(err)
		}
		out = append(out, &b)
		for _, e := range b.Entry {
			var head struct{ ResourceType string }
			json.Unmarshal(e.Resource, &head)
			switch head.ResourceType {
			case "DocumentReference":
				var r fhirapi.DocumentReference
				if err := json.Unmarshal(e.Resource, &r); err != nil {
					t.Fatal(err)
				}
				out = append(out, &r)
			case "List":
				var r fhirapi.List
				if err := json.Unmarshal(e.Resource, &r); err != nil {
					t.Fatal(err)
				}
				out = append(out, &r)
			}
		}
	}
	out = append(out, []string{}, []string(nil), map[string]string{"b": "1", "a": "<2>"}, &archive.AccessEntry{Documents: []string{"1.2.3"}})
	return out
}

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	for i, v := range corpus(t) {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := jsoncodec.Marshal(v)
		if err != nil {
			t.Fatalf("value %d (%T): %v", i, v, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("value %d (%T) encodes differently:\n got %s\nwant %s", i, v, got, want)
		}
	}
}

func TestUnmarshalMatchesEncodingJSON(t *testing.T) {
	for i, v := range corpus(t) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		typ := reflect.TypeOf(v)
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		want, got := reflect.New(typ), reflect.New(typ)
		if err := json.Unmarshal(data, want.Interface()); err != nil {
			t.Fatal(err)
		}
		if err := jsoncodec.Unmarshal(data, got.Interface()); err != nil {
			t.Fatalf("value %d (%T): %v", i, v, err)
		}
		if !sameJSON(t, got.Interface(), want.Interface()) {
			t.Errorf("value %d (%T) decodes differently", i, v)
		}
	}
}

// sameJSON compares decoded values by their encoding/json encoding: time
// values decoded twice hold different *Location pointers.
func sameJSON(t testing.TB, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

// TestMutatedRecordsDecodeAlike: whatever a stored record holds,
// jsoncodec accepts what encoding/json accepts and decodes it to the same
// record. A record is the archive's own data, but a damaged or altered
// database must not be read differently than encoding/json would read it.
// The records are mutated here with a seeded generator rather than by Go's
// fuzzer, whose instrumented workers stall inside go-json's decoder.
func TestMutatedRecordsDecodeAlike(t *testing.T) {
	var seeds [][]byte
	for _, v := range corpus(t) {
		if r, ok := v.(*archive.Record); ok {
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			seeds = append(seeds, b)
		}
	}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const syntax = "{}[]\",:0e-+.tnfu\\"
	for range n {
		b := append([]byte{}, seeds[rng.IntN(len(seeds))]...)
		for range 1 + rng.IntN(4) {
			i := rng.IntN(len(b))
			switch rng.IntN(4) {
			case 0: // drop a byte
				b = append(b[:i], b[i+1:]...)
			case 1: // any byte
				b[i] = byte(rng.IntN(256))
			case 2: // drop a run
				j := rng.IntN(len(b))
				if j < i {
					i, j = j, i
				}
				b = append(b[:i], b[j:]...)
			case 3: // a JSON syntax byte
				b[i] = syntax[rng.IntN(len(syntax))]
			}
		}
		var want, got archive.Record
		if json.Unmarshal(b, &want) != nil {
			continue
		}
		if err := jsoncodec.Unmarshal(b, &got); err != nil {
			t.Fatalf("encoding/json accepts, jsoncodec refuses (%v): %q", err, b)
		}
		if !sameJSON(t, &got, &want) {
			t.Fatalf("decoded differently: %q", b)
		}
	}
}
