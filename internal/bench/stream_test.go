package bench

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStreamRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.stream")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := &streamWriter{f: f, w: bufio.NewWriter(f)}
	metas := []*Meta{
		{Org: 1, ID: "1.2.3.1", Client: "010101-999A", Case: "1.2.3.9", Task: "03", Date: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
		{Org: 0, ID: "1.2.3.2", Client: "020202-999B", Date: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)},
	}
	docs := [][]byte{[]byte("<a/>"), bytes.Repeat([]byte("x"), 100000)}
	for i := range metas {
		if err := w.write(metas[i], docs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ := os.Stat(path); fi.Size() != w.n {
		t.Fatalf("counted %d bytes, wrote %d", w.n, fi.Size())
	}
	r, err := openStream(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := range metas {
		m, doc, err := r.next()
		if err != nil {
			t.Fatal(err)
		}
		if *m != *metas[i] || !bytes.Equal(doc, docs[i]) {
			t.Errorf("record %d: %+v, %d bytes", i, m, len(doc))
		}
	}
	if _, _, err := r.next(); err != io.EOF {
		t.Fatalf("after the last record: %v, want EOF", err)
	}
}

// FuzzStreamReader: a damaged stream file fails with an error, never a
// panic or an allocation beyond the record limit.
//
// Run: go test -run='^$' -fuzz=FuzzStreamReader -fuzztime=30s ./internal/bench
func FuzzStreamReader(f *testing.F) {
	var buf bytes.Buffer
	w := &streamWriter{w: bufio.NewWriter(&buf)}
	w.write(&Meta{ID: "1.2.3", Client: "010101-999A"}, []byte("<a/>"))
	w.w.Flush()
	f.Add(buf.Bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 2, '{', '}', 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &streamReader{r: bufio.NewReader(bytes.NewReader(data))}
		for range 100 {
			m, doc, err := r.next()
			if err != nil {
				if m != nil || doc != nil {
					t.Fatal("a record and an error")
				}
				return
			}
			if len(doc) > maxRecord {
				t.Fatal("a record beyond the limit")
			}
		}
	})
}
