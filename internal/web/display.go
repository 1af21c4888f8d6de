package web

import (
	"bytes"
	"html/template"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The display form is what a client information system wrote: outside
// input. The archivist UI and the citizen view show it inline, sanitised to text structure only: no
// element that runs, loads or links (script, style, img, object, iframe,
// form, a, link, meta, base…) and no attribute but a table cell's spans,
// so no event handler, style, class, id or URL. What is not allowed is
// dropped; the text of a dropped element stays, except that of script,
// style and the like, which is dropped with it. The page's
// Content-Security-Policy (no script, no inline style, images and forms
// only from the archive itself, no frames) is the second wall: were
// something to slip through the sanitiser, the browser would neither run
// nor load it. (A sandboxed iframe would be a third, but it needs frames
// allowed on the page and hides the form from the reader's assistive
// technology as a separate document; docs/security.md.)
var displayPolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(
		"p", "br", "hr", "div", "span", "section", "article", "header", "footer", "blockquote", "pre", "code",
		"h1", "h2", "h3", "h4", "h5", "h6",
		"ul", "ol", "li", "dl", "dt", "dd",
		"table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "colgroup", "col",
		"strong", "em", "b", "i", "u", "s", "sub", "sup", "small", "abbr", "mark", "q", "cite",
	)
	p.AllowAttrs("colspan", "rowspan").Matching(regexp.MustCompile(`^[1-9][0-9]?$`)).OnElements("td", "th")
	return p
}()

// Display is a sanitised display form: the markup to show and its text,
// line by line, for comparing versions.
type Display struct {
	HTML template.HTML
	Text string
}

// SanitiseDisplay sanitises an XHTML display form. Headings are moved
// two levels down (h1 to h3), below the page's own h1 and h2, so that the
// page's outline stays the archive's.
func SanitiseDisplay(xhtml []byte) Display {
	clean := displayPolicy.SanitizeBytes(xhtml)
	body := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(bytes.NewReader(clean), body)
	if err != nil {
		// The sanitiser's output always parses; show nothing rather than guess.
		return Display{}
	}
	var out bytes.Buffer
	var text strings.Builder
	for _, n := range nodes {
		demoteHeadings(n)
		if err := html.Render(&out, n); err != nil {
			return Display{}
		}
		textOf(n, &text)
	}
	return Display{HTML: template.HTML(out.String()), Text: tidyLines(text.String())}
}

var headings = map[atom.Atom]int{atom.H1: 1, atom.H2: 2, atom.H3: 3, atom.H4: 4, atom.H5: 5, atom.H6: 6}
var headingAtoms = []atom.Atom{atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6}

func demoteHeadings(n *html.Node) {
	if n.Type == html.ElementNode {
		if lvl, ok := headings[n.DataAtom]; ok {
			lvl = min(lvl+2, 6)
			n.DataAtom = headingAtoms[lvl-1]
			n.Data = n.DataAtom.String()
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		demoteHeadings(c)
	}
}

// blocks are the elements that begin a line of the text.
var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Br: true, atom.Hr: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true,
	atom.Blockquote: true, atom.Pre: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Ul: true, atom.Ol: true, atom.Li: true, atom.Dl: true, atom.Dt: true, atom.Dd: true,
	atom.Table: true, atom.Caption: true, atom.Tr: true,
}

// textOf writes the node's text, a line for each block and a tab between
// table cells.
func textOf(n *html.Node, b *strings.Builder) {
	switch n.Type {
	case html.TextNode:
		b.WriteString(n.Data)
		return
	case html.ElementNode:
		if blocks[n.DataAtom] {
			b.WriteByte('\n')
		}
		if n.DataAtom == atom.Td || n.DataAtom == atom.Th {
			b.WriteByte('\t')
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		textOf(c, b)
	}
	if n.Type == html.ElementNode && blocks[n.DataAtom] {
		b.WriteByte('\n')
	}
}

// tidyLines collapses the white space of each line and drops empty lines.
func tidyLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
