package fhirapi

import (
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
)

// encodeCorpus is n records of generated documents, some with a sender's
// metadata, some nullified, with characters that JSON escapes.
func encodeCorpus(t testing.TB, n int) []*archive.Record {
	t.Helper()
	w, err := gen.NewPKI(gen.PKIOptions{Seed: 3, KeyType: pki.P256})
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(w, gen.Options{Seed: 3, Clients: 3, ReplaceEvery: 2, StrippedEvery: 3})
	var out []*archive.Record
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
		rec := &archive.Record{Header: doc.Header, Controller: d.Org.ControllerOID(), Status: archive.StatusCurrent, SHA256: strings.Repeat("ab", 32),
			Size: int64(len(d.XML)), ReceivedAt: time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC).Add(time.Duration(i) * time.Minute), Submitter: c,
			DisplayType: doc.Body.DisplayMediaType, HasStructured: doc.Body.Structured != nil}
		if i%3 == 1 {
			at := time.Date(2026, 3, 1, 8, 0, 0, 5000, time.FixedZone("", 2*3600))
			rec.Source = &archive.SourceMetadata{Date: &at,
				Identifiers:    []archive.SourceIdentifier{{Use: "official", System: "urn:ietf:rfc:3986", Value: "urn:uuid:0b7f4c7e-1f9e-4d35-9a40-8c1d0a3f5e21"}},
				SecurityLabels: []archive.SourceConcept{{Coding: []archive.SourceCoding{{System: "urn:oid:1.2.246.777.5.99902.2006", Code: "6", Display: "Ö <&> \"versionId\":\"0\""}}, Text: "salassa"}},
				Hash:           "2jmj7l5rSw0yVb/vlWAYkK/YBwk="}
		}
		if i%4 == 3 {
			rec.Status = archive.StatusNullified
			rec.Updated = rec.ReceivedAt.Add(time.Hour)
			rec.Nullification = &archive.Nullification{ReasonCode: "1", ReasonText: "väärä asiakas </script>", By: c, At: rec.Updated}
		}
		out = append(out, rec)
	}
	return out
}

// BenchmarkReadResponse is what a read of a DocumentReference adds to the
// archive's Metadata: the resource made, versioned and written.
func BenchmarkReadResponse(b *testing.B) {
	recs := encodeCorpus(b, 20)
	s := &Server{cfg: Config{BaseURL: "https://arkisto.example/fhir"}}
	req := httptest.NewRequest("GET", "/fhir/DocumentReference/x", nil)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		s.writeDocRef(httptest.NewRecorder(), req, recs[i%len(recs)])
	}
	reportCPU(b, cpu)
}

// BenchmarkSearchResponse is what a search adds to the archive's Search: a
// searchset of 20 DocumentReferences made, versioned and written.
func BenchmarkSearchResponse(b *testing.B) {
	recs := encodeCorpus(b, 20)
	s := &Server{cfg: Config{BaseURL: "https://arkisto.example/fhir"}}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		bn := s.searchBundle(recs)
		total := len(recs)
		bn.Total = &total
		writeJSON(httptest.NewRecorder(), 200, bn)
	}
	reportCPU(b, cpu)
}

// cpuTime is the CPU time this process has used: on a shared machine it
// varies far less between runs than the time per operation.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start
// (garbage collection included) as cpu-ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	if now := cpuTime(); start >= 0 && now >= 0 {
		b.ReportMetric(float64(now-start)/float64(b.N), "cpu-ns/op")
	}
}
