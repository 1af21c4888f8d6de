package xmldsig_test

import (
	"testing"

	"github.com/arkisto/arkisto/internal/cda"
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
