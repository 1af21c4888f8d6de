package citizenui_test

import (
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/citizenui"
)

// TestSanitise: the display form keeps its structure and text; nothing
// that could run, load, link or style survives.
func TestSanitise(t *testing.T) {
	for _, tt := range []struct {
		in         string
		keep, drop []string
	}{
		{`<div xmlns="http://www.w3.org/1999/xhtml"><h1>Päätös</h1><p>Teksti</p></div>`, []string{"<h1>Päätös</h1>", "<p>Teksti</p>"}, []string{"xmlns"}},
		{`<p onclick="x()">a<script>alert(1)</script></p>`, []string{"<p>a</p>"}, []string{"script", "onclick", "alert"}},
		{`<p style="color:red"><a href="javascript:x">link</a><img src="http://evil/x.png"></p>`, []string{"link"}, []string{"style", "href", "<a", "<img", "evil"}},
		{`<table><tr><td>1</td></tr></table><iframe src="x"></iframe><form><input></form>`, []string{"<td>1</td>"}, []string{"iframe", "form", "input"}},
		{`<svg><use href="#x"/></svg><math></math><p>ok</p>`, []string{"<p>ok</p>"}, []string{"svg", "use", "math"}},
	} {
		got := string(citizenui.Sanitise([]byte(tt.in)))
		for _, k := range tt.keep {
			if !strings.Contains(got, k) {
				t.Errorf("%s → %s: lost %q", tt.in, got, k)
			}
		}
		for _, d := range tt.drop {
			if strings.Contains(got, d) {
				t.Errorf("%s → %s: kept %q", tt.in, got, d)
			}
		}
	}
}

// FuzzSanitise: whatever a display form holds, nothing that could run,
// load, link or style survives sanitising.
func FuzzSanitise(f *testing.F) {
	for _, s := range []string{`<p onclick="x">a</p>`, `<script>alert(1)</script>`, `<a href="javascript:x">l</a>`, `<img src=x onerror=y>`, `<div style="x"><svg onload=1>`, `<<script>script>`, `<p>ok</p>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := strings.ToLower(string(citizenui.Sanitise(in)))
		for _, bad := range []string{"<script", "<img", "<a ", "<svg", "<iframe", "<style", "<form", "<input", "<object", "<embed", "<link", "<meta", "<base"} {
			if strings.Contains(out, bad) {
				t.Fatalf("%q → %q keeps %s", in, out, bad)
			}
		}
		// No element keeps an attribute: every tag is a bare name.
		for _, tag := range strings.Split(out, "<")[1:] {
			name, _, _ := strings.Cut(tag, ">")
			if strings.ContainsAny(strings.TrimPrefix(name, "/"), " \t\n\r\f=\"'") {
				t.Fatalf("%q → %q keeps attributes in <%s>", in, out, name)
			}
		}
	})
}
