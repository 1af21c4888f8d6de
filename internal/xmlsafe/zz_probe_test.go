package xmlsafe

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func TestZZAttrs(t *testing.T) {
	for _, n := range []int{10000, 40000, 160000} {
		var b bytes.Buffer
		b.WriteString("<r")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, " a%d=''", i)
		}
		b.WriteString("/>")
		st := time.Now()
		_, err := Parse(b.Bytes(), Limits{})
		t.Logf("n=%d bytes=%d err=%v %v", n, b.Len(), err, time.Since(st))
	}
	for _, n := range []int{10000, 40000, 160000} {
		var b bytes.Buffer
		b.WriteString("<r xmlns:p='u'")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, " a%d=''", i)
		}
		b.WriteString(">")
		for i := 0; i < n; i++ {
			b.WriteString("<p:x/>")
		}
		b.WriteString("</r>")
		st := time.Now()
		_, err := Parse(b.Bytes(), Limits{})
		t.Logf("ns n=%d bytes=%d err=%v %v", n, b.Len(), err, time.Since(st))
	}
}
