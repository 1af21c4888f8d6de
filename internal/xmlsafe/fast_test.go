package xmlsafe

import (
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// sameTree says how two parsed documents differ, or "" when they do not:
// every token's type, place (parent and index) and content, every
// element's name and attributes in order, each attribute's element, and
// etree's character-data flags (CDATA, whitespace).
func sameTree(a, b *etree.Document) string {
	type pair struct {
		a, b       *etree.Element
		pa, pb     *etree.Element // expected parents
		path       string
		isDocument bool
	}
	stack := []pair{{a: &a.Element, b: &b.Element, path: "/", isDocument: true}}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := p.a, p.b
		if !p.isDocument {
			if x.Space != y.Space || x.Tag != y.Tag {
				return fmt.Sprintf("%s: element %s:%s, reference %s:%s", p.path, x.Space, x.Tag, y.Space, y.Tag)
			}
			if x.Parent() != p.pa || y.Parent() != p.pb {
				return p.path + ": parent"
			}
		}
		if len(x.Attr) != len(y.Attr) {
			return fmt.Sprintf("%s: %d attributes, reference %d", p.path, len(x.Attr), len(y.Attr))
		}
		for i := range x.Attr {
			ax, ay := x.Attr[i], y.Attr[i]
			if ax.Space != ay.Space || ax.Key != ay.Key || ax.Value != ay.Value {
				return fmt.Sprintf("%s: attribute %d %s:%s=%q, reference %s:%s=%q", p.path, i, ax.Space, ax.Key, ax.Value, ay.Space, ay.Key, ay.Value)
			}
			if ax.Element() != x || ay.Element() != y {
				return fmt.Sprintf("%s: attribute %d element", p.path, i)
			}
		}
		if len(x.Child) != len(y.Child) {
			return fmt.Sprintf("%s: %d children, reference %d", p.path, len(x.Child), len(y.Child))
		}
		for i := range x.Child {
			cx, cy := x.Child[i], y.Child[i]
			at := fmt.Sprintf("%s[%d]", p.path, i)
			if cx.Index() != i || cy.Index() != i || cx.Parent() != x || cy.Parent() != y {
				return at + ": index or parent"
			}
			switch nx := cx.(type) {
			case *etree.Element:
				ny, ok := cy.(*etree.Element)
				if !ok {
					return fmt.Sprintf("%s: element, reference %T", at, cy)
				}
				stack = append(stack, pair{a: nx, b: ny, pa: x, pb: y, path: at + "/" + nx.Tag})
			case *etree.CharData:
				ny, ok := cy.(*etree.CharData)
				if !ok {
					return fmt.Sprintf("%s: text, reference %T", at, cy)
				}
				if nx.Data != ny.Data || nx.IsCData() != ny.IsCData() || nx.IsWhitespace() != ny.IsWhitespace() {
					return fmt.Sprintf("%s: text %q (cdata %v, whitespace %v), reference %q (%v, %v)", at, nx.Data, nx.IsCData(), nx.IsWhitespace(), ny.Data, ny.IsCData(), ny.IsWhitespace())
				}
			case *etree.Comment:
				ny, ok := cy.(*etree.Comment)
				if !ok || nx.Data != ny.Data {
					return fmt.Sprintf("%s: comment %q, reference %#v", at, nx.Data, cy)
				}
			case *etree.ProcInst:
				ny, ok := cy.(*etree.ProcInst)
				if !ok || nx.Target != ny.Target || nx.Inst != ny.Inst {
					return fmt.Sprintf("%s: processing instruction %q %q, reference %#v", at, nx.Target, nx.Inst, cy)
				}
			case *etree.Directive:
				ny, ok := cy.(*etree.Directive)
				if !ok || nx.Data != ny.Data {
					return fmt.Sprintf("%s: directive %q, reference %#v", at, nx.Data, cy)
				}
			default:
				return fmt.Sprintf("%s: unexpected token %T", at, cx)
			}
		}
	}
	return ""
}

// TestParseFastAgrees: documents the fast path must take (real senders
// write them), each parsed to the reference's tree.
func TestParseFastAgrees(t *testing.T) {
	lim := Limits{}.withDefaults()
	for _, s := range []string{
		`<a/>`,
		`<a></a>`,
		`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<a/>` + "\n",
		`<?xml version='1.0' encoding='utf-8' standalone='yes'?><a/>`,
		`<?xml version="1.0"?><a/>`,
		`<?xml-stylesheet type="text/xsl" href="x.xsl"?><a/>`,
		`<p:a xmlns:p="urn:p" xmlns="urn:d"><b p:x="1" xml:lang="fi">t&amp;&#65;&#x42;&lt;&gt;&apos;&quot;<![CDATA[x<&]]></b></p:a>`,
		"<a x=\"1\ty\n\r\nz\r\">l1\r\nl2\rl3\n</a>",
		"<a>&#13;\n&#xD;&#10;</a>",
		`<a><![CDATA[]]></a>`,
		"<a><![CDATA[a\r\nb]]]></a>",
		`<a>]]&gt; ] ]] &#93;]></a>`,
		`<a x='"' y="'" z=">]]>"/>`,
		`<a><!-- a comment - with a dash --><!----><b/></a>`,
		"<a>\u00e4\u00f6 \u20ac \U0001F600 \ufffd</a>",
		"<a x=\"\u00e4\"/>",
		`<a  x = "1"   y="2"	/>`,
		`<a x="1"y="2"/>`,
		`<a><?pi some data ? > ?><?pi?></a>`,
		`<a>   </a>`,
		" \r\n<a/>\t",
		`<A_b.c-d:e-1 xmlns:A_b.c-d="urn:x"/>`,
		`<a xmlns=""/>`,
		`<_a/>`,
	} {
		doc, ok := parseFast([]byte(s), lim)
		if !ok {
			t.Errorf("%q: the fast path gave up", s)
			continue
		}
		ref, err := parseReference([]byte(s), lim)
		if err != nil {
			t.Errorf("%q: the fast path accepted what the reference refuses: %v", s, err)
			continue
		}
		if d := sameTree(doc, ref); d != "" {
			t.Errorf("%q: %s", s, d)
		}
	}
}

// TestParseFastGivesUp: what the fast path leaves to the reference, which
// Parse must then refuse or accept exactly as before.
func TestParseFastGivesUp(t *testing.T) {
	lim := Limits{MaxDepth: 3}.withDefaults()
	for _, s := range []string{
		`<`, `<a`, `<:a/>`, `<a>`, `<a></b>`, `<a></a:a>`, `</a>`, `<a/></a>`,
		`<a x="1" x="2"/>`, `<a x="1" p:x="2" p:x="3" xmlns:p="u"/>`,
		`<a x=1/>`, `<a x/>`, `<a x="</a>`, `<a x="<"/>`, `<a x="1`,
		`<a>&nbsp;</a>`, `<a>&amp</a>`, `<a>&#0;</a>`, `<a>&#xD800;</a>`, `<a>&#xFFFE;</a>`, `<a>&#;</a>`, `<a>&#x;</a>`, `<a>&#123456789;</a>`, `<a>& b;</a>`,
		"<a>\x01</a>", "<a x=\"\x0b\"/>", "<a>\xff</a>", "<a>\xef\xbf\xbe</a>",
		`<a>]]></a>`, `<a><![CDATA[x</a>`, "<a><![CDATA[\x00]]></a>",
		`<a><!-- a -- b --></a>`, `<a><!-- x</a>`, `<a><!-></a>`,
		`<!DOCTYPE a><a/>`, `<a><!ELEMENT a ANY></a>`, `<a><![IGNORE[x]]></a>`,
		`<?xml version="1.1"?><a/>`, `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, `<?xml encoding="UTF-8" version="1.0"?><a/>`, `<?xml?><a/>`, `<?xml version="1.0" standalone="maybe"?><a/>`,
		`<?pi x><a/>`,
		"<\u00e4/>", "<a\u00e4/>", "<a \u00e4=\"1\"/>", `<1a/>`, `<-a/>`, `<.a/>`, `<a:/>`, `<a:b:c/>`, `<a b:="1"/>`,
		`<a><b><c><d/></c></b></a>`,
	} {
		if _, ok := parseFast([]byte(s), lim); ok {
			t.Errorf("%q: the fast path accepted it", s)
		}
	}
}

// TestParseFastManyAttributes: an element with more attributes than the
// fast path takes goes to the reference, which keeps them all.
func TestParseFastManyAttributes(t *testing.T) {
	var b strings.Builder
	b.WriteString("<a")
	for i := range maxFastAttrs + 1 {
		fmt.Fprintf(&b, ` x%d="%d"`, i, i)
	}
	b.WriteString("/>")
	if _, ok := parseFast([]byte(b.String()), Limits{}.withDefaults()); ok {
		t.Fatal("the fast path took an element with more attributes than its bound")
	}
	doc, err := Parse([]byte(b.String()), Limits{})
	if err != nil || len(doc.Root().Attr) != maxFastAttrs+1 {
		t.Fatalf("Parse: %v", err)
	}
}

// FuzzParseFast: whatever the fast path accepts, the reference accepts
// with the same tree. (What it gives up on, Parse leaves to the
// reference; FuzzParse checks what Parse accepts.)
//
// Run: go test -run='^$' -fuzz=FuzzParseFast -fuzztime=60s ./internal/xmlsafe
func FuzzParseFast(f *testing.F) {
	for _, s := range []string{
		`<a/>`,
		`<?xml version="1.0" encoding="UTF-8"?><p:a xmlns:p="urn:p" xmlns="urn:d"><b p:x="1" xml:lang="fi">t&amp;&#65;<![CDATA[x]]></b></p:a>`,
		"<a x=\"1\ty\n\r\nz\r\">l1\r\nl2\rl3\n&#13;\n</a>",
		`<a><!-- c --><?pi d?><![CDATA[]]>]]&gt;</a>`,
		"<a>\u00e4 \U0001F600</a>",
		`<a x='"' y="'"/>`,
		`<?xml version='1.0' encoding='utf-8' standalone='no'?><a/>`,
		`<a><b><c><d><e><f><g><h><i/></h></g></f></e></d></c></b></a>`,
	} {
		f.Add([]byte(s))
	}
	lim := Limits{MaxBytes: 1 << 16, MaxDepth: 8}.withDefaults()
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, ok := parseFast(data, lim)
		if !ok {
			return
		}
		ref, err := parseReference(data, lim)
		if err != nil {
			t.Fatalf("the fast path accepted what the reference refuses: %v", err)
		}
		if d := sameTree(doc, ref); d != "" {
			t.Fatal(d)
		}
	})
}
