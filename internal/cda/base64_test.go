package cda

import (
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// textStd is text as it was.
func textStd(el *etree.Element) string {
	var b strings.Builder
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

// FuzzBase64 holds reader.base64's fast path to base64Std, the decoding
// as it was and still is for text that is not all ASCII: the same bytes,
// or the same problem in the same words.
func FuzzBase64(f *testing.F) {
	for _, s := range []string{"", " \n", "SGVsbG8=", " SGVs\r\nbG8=\t", "SGVsbG8", "SGV=bG8=", "SGVsbG9=", "SGVs\u00a0bG8=", "\xffSGVsbG8=", "SGVsbG8==="} {
		f.Add(s, uint8(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, s string, split uint8) {
		// The text in one piece, or two with a comment between.
		el := etree.NewElement("text")
		if k := int(split); k > 0 && k < len(s) {
			el.CreateText(s[:k])
			el.CreateComment("c")
			el.CreateText(s[k:])
		} else {
			el.CreateText(s)
		}
		var r reader
		got, ok := r.base64(node{el, "/x"})
		want, wantErr, nonEmpty := base64Std(textStd(el))
		if text(el) != textStd(el) {
			t.Fatalf("%q: text %q, was %q", s, text(el), textStd(el))
		}
		switch {
		case !nonEmpty:
			if ok || len(r.p) != 1 || r.p[0].Code != RuleRequired || r.p[0].Message != "base64 content is empty" {
				t.Fatalf("%q: %v %v", s, ok, r.p)
			}
		case wantErr != nil:
			if ok || len(r.p) != 1 || r.p[0].Code != RuleBase64 || r.p[0].Message != "content is not valid base64: "+wantErr.Error() {
				t.Fatalf("%q: %v %v, want %v", s, ok, r.p, wantErr)
			}
		default:
			if !ok || string(got) != string(want) || len(r.p) != 0 {
				t.Fatalf("%q: %q %v %v, want %q", s, got, ok, r.p, want)
			}
		}
	})
}
