package xmlsafe

import (
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/arkisto/arkisto/internal/problem"
)

// FuzzParse parses arbitrary input under small limits. Parse must not panic;
// a refusal is one problem with one of the package's rule codes; an accepted
// document has one root, respects the depth limit, uses only declared
// prefixes, has no duplicate attributes, and carries a DOCTYPE only when
// allowed and never an internal subset.
//
// Run: go test -run='^$' -fuzz=FuzzParse -fuzztime=30s ./internal/xmlsafe
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`<a/>`,
		`<?xml version="1.0" encoding="UTF-8"?><p:a xmlns:p="urn:p" xmlns="urn:d"><b p:x="1" xml:lang="fi">t&amp;&#65;<![CDATA[x]]></b></p:a>`,
		`<!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>`,
		`<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`,
		`<a x="1" x="2"/>`,
		`<a><b><c><d><e><f><g><h><i/></h></g></f></e></d></c></b></a>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`,
		"\xEF\xBB\xBF<a>\xff</a>",
		`<a/><b/>`,
		`<p:a/>`,
		`<div class="soc-document" xmlns="http://www.w3.org/1999/xhtml"><!-- c --><h1>Otsikko</h1><table><tr><td>a</td></tr></table><img src="data:image/png;base64,iVBORw0KGgo="/></div>`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	codes := map[string]bool{RuleTooLarge: true, RuleMalformed: true, RuleDTD: true, RuleEntity: true, RuleTooDeep: true, RuleEncoding: true}
	const maxDepth = 8
	f.Fuzz(func(t *testing.T, data []byte, allowDoctype bool) {
		lim := Limits{MaxBytes: 1 << 16, MaxDepth: maxDepth, AllowDoctype: allowDoctype}
		doc, err := Parse(data, lim)
		// Wellformed must agree with Parse on every input: the cda reader
		// relies on it to refuse what Parse refuses.
		ns, werr := Wellformed(data, lim)
		if (err == nil) != (werr == nil) {
			t.Fatalf("Parse: %v; Wellformed: %v", err, werr)
		}
		if werr != nil {
			var l problem.List
			if !errors.As(werr, &l) || len(l) != 1 || !codes[l[0].Code] || l[0].Path != "/" {
				t.Fatalf("Wellformed error is not one known problem: %v", werr)
			}
		} else if ns != doc.Root().NamespaceURI() {
			t.Fatalf("root namespace: Wellformed %q, Parse %q", ns, doc.Root().NamespaceURI())
		}
		if err != nil {
			if doc != nil {
				t.Fatal("document and error")
			}
			var l problem.List
			if !errors.As(err, &l) || len(l) != 1 || !codes[l[0].Code] || l[0].Path != "/" {
				t.Fatalf("error is not one known problem: %v", err)
			}
			return
		}
		roots := 0
		for _, tok := range doc.Child {
			switch n := tok.(type) {
			case *etree.Element:
				roots++
			case *etree.Directive:
				if !allowDoctype || !strings.HasPrefix(n.Data, "DOCTYPE") || strings.Contains(n.Data, "[") {
					t.Fatalf("accepted declaration %q", n.Data)
				}
			}
		}
		if roots != 1 {
			t.Fatalf("accepted %d roots", roots)
		}
		type frame struct {
			el    *etree.Element
			depth int
		}
		stack := []frame{{doc.Root(), 1}}
		for len(stack) > 0 {
			fr := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if fr.depth > maxDepth {
				t.Fatalf("accepted depth %d", fr.depth)
			}
			if fr.el.Space != "" && fr.el.NamespaceURI() == "" {
				t.Fatalf("accepted undeclared prefix %s", fr.el.FullTag())
			}
			seen := map[string]bool{}
			for _, a := range fr.el.Attr {
				if seen[a.FullKey()] {
					t.Fatalf("accepted duplicate attribute %s", a.FullKey())
				}
				seen[a.FullKey()] = true
				if a.Space != "" && a.Space != "xmlns" && a.Space != "xml" && a.NamespaceURI() == "" {
					t.Fatalf("accepted undeclared prefix %s", a.FullKey())
				}
			}
			for _, c := range fr.el.Child {
				switch n := c.(type) {
				case *etree.Element:
					stack = append(stack, frame{n, fr.depth + 1})
				case *etree.Directive:
					t.Fatalf("accepted declaration %q inside the root", n.Data)
				}
			}
		}
	})
}
