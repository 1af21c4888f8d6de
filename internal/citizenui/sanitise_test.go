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
