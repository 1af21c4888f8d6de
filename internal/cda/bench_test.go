package cda

import "testing"

// BenchmarkRead reads and validates each public sample: the parse, the
// header, the body and every rule of docs/document-format.md.
func BenchmarkRead(b *testing.B) {
	for _, name := range samples {
		b.Run(name, func(b *testing.B) {
			xml := sampleXML(b, name)
			if d, probs := Read(xml, Options{}); d == nil || len(probs) > 0 {
				b.Fatalf("sample does not read cleanly: %v", probs)
			}
			b.SetBytes(int64(len(xml)))
			b.ReportAllocs()
			for b.Loop() {
				if d, _ := Read(xml, Options{}); d == nil {
					b.Fatal("not read")
				}
			}
		})
	}
}
