package xmldsig_test

import (
	"crypto/sha256"
	"testing"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// BenchmarkVerifySample verifies the two professional signatures of the
// public client plan sample (RSA 3072, signed over the whitespace-stripped
// form, so each signature is checked over both forms).
func BenchmarkVerifySample(b *testing.B) {
	xml := readSample(b, samples[1].file)
	v := sampleVerifier(b, xml)
	d := readDoc(b, xml)
	if !v.Verify(d).Accepted() {
		b.Fatal("sample not accepted")
	}
	b.SetBytes(int64(len(xml)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if !v.Verify(d).Accepted() {
			b.Fatal("not accepted")
		}
	}
}

// BenchmarkVerifySampleWithRead includes parsing and reading the document.
func BenchmarkVerifySampleWithRead(b *testing.B) {
	xml := readSample(b, samples[1].file)
	v := sampleVerifier(b, xml)
	b.SetBytes(int64(len(xml)))
	b.ReportAllocs()
	for b.Loop() {
		d, _ := cda.Read(xml, cda.Options{})
		if !v.Verify(d).Accepted() {
			b.Fatal("not accepted")
		}
	}
}

// BenchmarkVerifyGenerated verifies a generated document with one system
// signature (RSA 2048), as received.
func BenchmarkVerifyGenerated(b *testing.B) {
	w := testWorld(b)
	v := w.verifier()
	d := readDoc(b, w.sysDoc.XML)
	if !v.Verify(d).Accepted() {
		b.Fatal("generated document not accepted")
	}
	b.SetBytes(int64(len(w.sysDoc.XML)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if !v.Verify(d).Accepted() {
			b.Fatal("not accepted")
		}
	}
}

// BenchmarkVerifyFloor is what BenchmarkVerifyGenerated cannot go below:
// the RSA-2048 verification of the same signature over its canonical
// SignedInfo, and SHA-256 of the document's bytes (arkisto-bench reports
// the same floor as crypto_floor_docs_per_s).
func BenchmarkVerifyFloor(b *testing.B) {
	w := testWorld(b)
	in, err := xmldsig.FloorInputs(readDoc(b, w.sysDoc.XML))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(w.sysDoc.XML)))
	b.ReportAllocs()
	for b.Loop() {
		for i := range in {
			if err := in[i].Verify(); err != nil {
				b.Fatal(err)
			}
		}
		sha256.Sum256(w.sysDoc.XML)
	}
}
