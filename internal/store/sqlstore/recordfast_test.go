package sqlstore

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/jsoncodec"
	"github.com/arkisto/arkisto/internal/pki"
)

// storedRecords are records as EncodeDocument writes them, of generated
// documents with what a record may carry beyond the header.
func storedRecords(t testing.TB, n int) [][]byte {
	t.Helper()
	w, err := gen.NewPKI(gen.PKIOptions{Seed: 5, KeyType: pki.P256})
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(w, gen.Options{Seed: 5, Clients: 3, ReplaceEvery: 2, StrippedEvery: 3})
	var out [][]byte
	for i := range n {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		doc, probs := cda.Read(d.XML, cda.Options{})
		if doc == nil {
			t.Fatalf("generated document does not read: %v", probs)
		}
		c := archive.Caller{System: d.Org.SystemName, Organisation: d.Org.ControllerOID(), Person: "10000000001", PersonName: "Äijä <&> \"Ö\"", Unit: d.Org.Units[1].OID, Purpose: "1"}
		rec := &archive.Record{Header: doc.Header, Status: archive.StatusCurrent, SHA256: strings.Repeat("ab", 32),
			Size: int64(len(d.XML)), ReceivedAt: time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC).Add(time.Duration(i) * time.Minute), Submitter: c,
			Signatures:  []archive.SignatureSummary{{Index: 1, ID: "sig-1", Type: "1", Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", 2*3600)), Algorithm: "rsa-sha256", SignerName: "Testi Tiina"}},
			DisplayType: doc.Body.DisplayMediaType, HasStructured: doc.Body.Structured != nil,
			SocialServices: archive.SocialServices(doc.Body.Structured), CaseWorkers: archive.CaseWorkers(doc.Body.Structured)}
		switch i % 4 {
		case 1:
			at := time.Date(2026, 3, 1, 8, 0, 0, 5000, time.FixedZone("", 2*3600))
			rec.Source = &archive.SourceMetadata{Date: &at,
				Identifiers:    []archive.SourceIdentifier{{Use: "official", System: "urn:ietf:rfc:3986", Value: "urn:uuid:0b7f4c7e-1f9e-4d35-9a40-8c1d0a3f5e21"}},
				SecurityLabels: []archive.SourceConcept{{Coding: []archive.SourceCoding{{System: "urn:oid:1.2.246.777.5.99902.2006", Code: "6", Display: "Ö <&>"}}, Text: "salassa"}},
				Format:         &archive.SourceCoding{System: "urn:ihe:iti:xds:2017:mimeTypeSufficient", Code: "urn:ihe:iti:xds:2017:mimeTypeSufficient"},
				Hash:           "2jmj7l5rSw0yVb/vlWAYkK/YBwk="}
		case 2:
			rel := time.Date(2027, 1, 1, 0, 0, 0, 0, time.FixedZone("", 2*3600))
			rec.Header.CitizenRelease = &rel
			rec.Header.Signers = []cda.SignerInfo{{RegistrationNumber: "123", Name: cda.Name{Given: []string{"Tiina", "Maria"}, Family: "Testi"}, AuthMethod: cda.Code{Code: "1", System: "1.2.3"}, Time: "20260101"}}
			rec.Header.ServiceProcess = &cda.ServiceProcess{Type: "x", Code: cda.Code{Code: "2", Display: "tab\tand \u2028 line"}}
			rec.Header.Signatures = nil // written as null
			rec.Signatures = nil
		case 3:
			rec.Header.HideReasonText = "<b>salassa</b> \"lainaus\" \\ kenoviiva"
			rec.CaseWorkers = append(rec.CaseWorkers, archive.CaseWorker{Name: "Ville Työntekijä", Title: "sosiaalityöntekijä"})
		}
		js, err := EncodeDocument(rec)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, js.JSON)
	}
	return out
}

// decodeRef is the decoding the fast one stands beside.
func decodeRef(b []byte) (*archive.Record, error) {
	r := &archive.Record{}
	err := jsoncodec.Unmarshal(b, r)
	return r, err
}

// checkFast holds decodeFast to jsoncodec on b: whatever the fast
// decoding accepts, jsoncodec accepts with the same record.
func checkFast(t *testing.T, b []byte) bool {
	t.Helper()
	var fast archive.Record
	if decodeFast(b, &fast) != nil {
		return false
	}
	ref, err := decodeRef(b)
	if err != nil {
		t.Fatalf("fast decoding accepted what jsoncodec refuses (%v): %q", err, b)
	}
	if !reflect.DeepEqual(&fast, ref) {
		t.Fatalf("fast decoding differs:\n fast %+v\n ref  %+v\n of %q", fast, *ref, b)
	}
	return true
}

func TestDecodeFastStoredRecords(t *testing.T) {
	for i, b := range storedRecords(t, 24) {
		if !checkFast(t, b) {
			t.Errorf("record %d: the fast decoding gave up on a record as the archive writes it: %s", i, b)
		}
		// Indented, as another writer might have stored it.
		var ind bytes.Buffer
		if err := json.Indent(&ind, b, "", "  "); err != nil {
			t.Fatal(err)
		}
		if !checkFast(t, ind.Bytes()) {
			t.Errorf("record %d: indented record not decoded fast", i)
		}
		// In another order, with spaces, as PostgreSQL's jsonb wrote the
		// records it held before the column became json (migration 4).
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		other, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		other = bytes.ReplaceAll(bytes.ReplaceAll(other, []byte(`":`), []byte(`": `)), []byte(`,"`), []byte(`, "`))
		if !checkFast(t, other) {
			t.Errorf("record %d: reordered record not decoded fast: %s", i, other)
		}
	}
}

// TestDecodeFastGivesUp: records the fast decoding leaves to jsoncodec,
// and DecodeRecord's answer for them.
func TestDecodeFastGivesUp(t *testing.T) {
	base := string(storedRecords(t, 1)[0])
	edit := func(old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("no %q in the record", old)
		}
		return strings.Replace(base, old, new, 1)
	}
	for _, tc := range []struct {
		name, rec string
		refused   bool
	}{
		{"unknown key", edit(`"controller":`, `"later":[1,{"x":null}],"controller":`), false},
		{"key in other case", edit(`"controller":`, `"Controller":`), false},
		{"repeated key", edit(`"controller":`, `"status":"superseded","controller":`), false},
		{"nullification", edit(`"controller":`, `"nullification":{"reasonCode":"1","reasonText":"x","by":{"system":"s","organisation":"o","purpose":"1"},"at":"2026-01-01T00:00:00Z"},"controller":`), false},
		{"float size", edit(`"size":`, `"size":1.0e3,"x":`), true},
		{"trailing bytes", base + "x", true},
		{"truncated", base[:len(base)-3], true},
		{"size as string", edit(`"size":`, `"size":"12","y":`), true},
		{"bad time", edit(`"receivedAt":"`, `"receivedAt":"x`), true},
		{"control character", edit(`"sha256":"`, "\"sha256\":\"\x01"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r archive.Record
			if decodeFast([]byte(tc.rec), &r) == nil {
				t.Fatalf("the fast decoding was sure of %s", tc.rec)
			}
			got, err := DecodeRecord("current", "c", []byte(tc.rec), nil)
			ref, refErr := decodeRef([]byte(tc.rec))
			if (err != nil) != tc.refused || (refErr != nil) != tc.refused {
				t.Fatalf("refused: %v, %v; want %v", err, refErr, tc.refused)
			}
			if err == nil {
				ref.Status, ref.Controller, ref.Nullification = "current", "c", nil
				if !reflect.DeepEqual(got, ref) {
					t.Fatalf("DecodeRecord differs from jsoncodec")
				}
			}
		})
	}
}

func FuzzDecodeFast(f *testing.F) {
	for _, b := range storedRecords(f, 8) {
		f.Add(b)
	}
	f.Add([]byte(`{"header":{"id":"a\u00e4\"b","version":-0,"replaces":null,"signatures":[]},"size":-12,"signatures":null,"source":null,"hasStructured":false}`))
	f.Add([]byte(`{"header":{"client":{"name":{"given":["a","\ud800"]}}},"source":{"date":"2026-01-01T00:00:00Z","hash":"x"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFast(t, b)
	})
}

// BenchmarkDecodeStoredRecord is DecodeRecord of a stored record, as a
// list makes of each record it returns, and (jsoncodec) the decoding it
// made before the fast one, on the same records.
func BenchmarkDecodeStoredRecord(b *testing.B) {
	recs := storedRecords(b, 20)
	for _, bc := range []struct {
		name   string
		decode func([]byte) (*archive.Record, error)
	}{
		{"DecodeRecord", func(js []byte) (*archive.Record, error) { return DecodeRecord("current", "c", js, nil) }},
		{"jsoncodec", decodeRef},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for i := range b.N {
				if _, err := bc.decode(recs[i%len(recs)]); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// cpuTime is the CPU time this process has used, garbage collection
// included: on a shared machine it varies far less than elapsed time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	if now := cpuTime(); start >= 0 && now >= 0 {
		b.ReportMetric(float64(now-start)/float64(b.N), "cpu-ns/op")
	}
}
