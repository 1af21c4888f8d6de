package fhirapi

import (
	"bytes"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
)

// submissionBody is the ITI-65 Bundle of one generated document, as a
// client sends it.
func submissionBody(t testing.TB) []byte {
	t.Helper()
	w, err := gen.NewPKI(gen.PKIOptions{Seed: 5, KeyType: pki.P256, Organisations: 1, ProfessionalsPerOrg: 1})
	if err != nil {
		t.Fatal(err)
	}
	d, err := gen.New(w, gen.Options{Seed: 5, Clients: 1, Now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}).Next()
	if err != nil {
		t.Fatal(err)
	}
	body, err := SubmissionBundle(d.XML)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// BenchmarkDecodeSubmission is what POST /fhir spends on a submission's
// JSON after reading it: the Bundle decoded, its resources by their types,
// and the document's bytes out of the Binary's base64 (parseSubmission).
func BenchmarkDecodeSubmission(b *testing.B) {
	body := submissionBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		sub, err := parseSubmission(body, "")
		if err != nil {
			b.Fatal(err)
		}
		if len(sub.docs) != 1 || len(sub.docs[0].data) == 0 {
			b.Fatalf("%d documents decoded, want 1", len(sub.docs))
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkScanJSON is what POST /fhir spends on the shape check of the
// same Bundle as it is read (readJSON), before it is decoded.
func BenchmarkScanJSON(b *testing.B) {
	body := submissionBody(b)
	lim := shapeLimits{root: "Bundle", size: int64(len(body)), entries: 3*100 + 1, depth: defaultMaxDepth, members: defaultMaxMembers}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		got, err := scanJSON(bytes.NewReader(body), lim)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != len(body) {
			b.Fatalf("%d bytes passed on of %d", len(got), len(body))
		}
	}
	reportCPU(b, cpu)
}
