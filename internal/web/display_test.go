package web

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// hostile is a display form that tries everything the sanitiser must stop.
const hostile = `<div xmlns="http://www.w3.org/1999/xhtml" class="soc-document" id="main" style="background:url(https://remote.example/bg.png)">
<h1 onclick="steal()">Asiakassuunnitelma</h1>
<script>document.title = 'pwned'</script>
<style>body { background: url(https://remote.example/style.png) }</style>
<p>Ensimmäinen <b>kappale</b>.<img src="https://remote.example/pixel.png" onerror="steal()" alt="kuva"/></p>
<p><a href="https://remote.example/leave">Linkki</a> ja <a href="javascript:steal()">toinen</a></p>
<iframe src="https://remote.example/frame"></iframe>
<object data="https://remote.example/o"></object>
<form action="https://remote.example/f"><input name="x"/></form>
<svg><image href="https://remote.example/svg.png"/></svg>
<link rel="stylesheet" href="https://remote.example/s.css"/>
<table><tr><th scope="col" colspan="2" onmouseover="x()">Otsikko</th></tr><tr><td rowspan="javascript:x">A</td><td>B</td></tr></table>
</div>`

func TestSanitiseDisplay(t *testing.T) {
	d := SanitiseDisplay([]byte(hostile))
	out := string(d.HTML)
	for _, bad := range []string{"<script", "<style", "<img", "<iframe", "<object", "<form", "<input", "<svg", "<image", "<link", "<a ",
		"onclick", "onerror", "onmouseover", "style=", "href", "src=", "remote.example", "javascript:", "pwned", "class=", "id=", "xmlns"} {
		if strings.Contains(out, bad) {
			t.Errorf("the sanitised form holds %q:\n%s", bad, out)
		}
	}
	for _, good := range []string{"<h3>Asiakassuunnitelma</h3>", "<b>kappale</b>", "Linkki", `colspan="2"`, "<td>A</td>"} {
		if !strings.Contains(out, good) {
			t.Errorf("the sanitised form lacks %q:\n%s", good, out)
		}
	}
	want := "Asiakassuunnitelma\nEnsimmäinen kappale.\nLinkki ja toinen\nOtsikko\nA B"
	if d.Text != want {
		t.Errorf("text\n%q\nwant\n%q", d.Text, want)
	}
}

func TestSanitiseDisplayHeadings(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<h1>a</h1>", "<h3>a</h3>"},
		{"<h2>a</h2>", "<h4>a</h4>"},
		{"<h4>a</h4>", "<h6>a</h6>"},
		{"<h6>a</h6>", "<h6>a</h6>"},
		{"<p>a<br/>b</p>", "<p>a<br/>b</p>"},
	}
	for _, tt := range tests {
		if got := string(SanitiseDisplay([]byte(tt.in)).HTML); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.in, got, tt.want)
		}
	}
}

// FuzzSanitiseDisplay: whatever a display form holds, what is shown has
// no element but the allowed ones and no attribute but cell spans.
func FuzzSanitiseDisplay(f *testing.F) {
	f.Add([]byte(hostile))
	f.Add([]byte(`<p>plain</p>`))
	f.Add([]byte(`<scr<script>ipt>x</script>`))
	f.Add([]byte(`<table><td colspan=3 onclick=x>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out := SanitiseDisplay(in)
		nodes, err := html.ParseFragment(strings.NewReader(string(out.HTML)), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
		if err != nil {
			t.Fatal(err)
		}
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				if !allowedElement(n.Data) {
					t.Fatalf("element %q in %q", n.Data, out.HTML)
				}
				for _, a := range n.Attr {
					if a.Key != "colspan" && a.Key != "rowspan" {
						t.Fatalf("attribute %q in %q", a.Key, out.HTML)
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		for _, n := range nodes {
			walk(n)
		}
	})
}

func allowedElement(name string) bool {
	for _, e := range strings.Fields(`p br hr div span section article header footer blockquote pre code h1 h2 h3 h4 h5 h6
		ul ol li dl dt dd table caption thead tbody tfoot tr th td colgroup col strong em b i u s sub sup small abbr mark q cite`) {
		if e == name {
			return true
		}
	}
	return false
}
