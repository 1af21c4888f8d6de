package xmldsig

import (
	"fmt"
	"sort"
	"strings"

	"github.com/beevik/etree"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// canonicalizeReference is the canonicaliser canonicalize replaced, kept
// unchanged as the reference of the differential tests (c14n_test.go): it
// copies the subtree with goxmldsig's etreeutils, transforms the copy and
// serialises it with etree's writer. canonicalize must produce the same
// bytes for every input this accepts, but for an attribute clash, which it
// refuses (see canonicalize), and refuse what this refuses.
//
// It returns the exclusive canonical form (without comments) of el
// as a subtree of its document: namespace declarations in scope from its
// ancestors are taken into account, el itself is not changed. With strip,
// whitespace-only text nodes in the subtree are left out first.
func canonicalizeReference(el *etree.Element, prefixList string, strip bool) ([]byte, error) {
	ctx := etreeutils.NewDefaultNSContext()
	var ancestors []*etree.Element
	for p := el.Parent(); p != nil; p = p.Parent() {
		ancestors = append(ancestors, p)
	}
	for i := len(ancestors) - 1; i >= 0; i-- {
		var err error
		if ctx, err = ctx.SubContext(ancestors[i]); err != nil {
			return nil, fmt.Errorf("namespace context: %w", err)
		}
	}
	detached, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, fmt.Errorf("detach element: %w", err)
	}
	if strip {
		stripWhitespace(detached)
	}
	// As dsig's exclusive canonicalizer does, but with the attribute order
	// of the C14N specification (see sortAttributes).
	if err := etreeutils.TransformExcC14n(detached, prefixList, false); err != nil {
		return nil, fmt.Errorf("canonicalize: %w", err)
	}
	sortAttributes(detached)
	doc := etree.NewDocument()
	doc.SetRoot(detached)
	doc.WriteSettings = etree.WriteSettings{CanonicalAttrVal: true, CanonicalEndTags: true, CanonicalText: true}
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("canonicalize: %w", err)
	}
	return out, nil
}

// sortAttributes puts the attributes of every element of the subtree in
// canonical order: namespace declarations first (the default one, then by
// prefix), then the other attributes by namespace URI and then local name,
// unqualified ones (empty URI) first. etreeutils orders qualified
// attributes with different prefixes by local name alone, so a signed
// element with, say, xml:lang and hl7fi:x, or with two prefixes whose order
// differs from their URIs', canonicalised differently from every other
// implementation and its signatures could not be verified (or made) here.
func sortAttributes(root *etree.Element) {
	type key struct {
		rank       int // 0 default namespace, 1 prefixed declaration, 2 attribute
		uri, local string
	}
	stack := []*etree.Element{root}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		keys := make(map[etree.Attr]key, len(el.Attr))
		for _, a := range el.Attr {
			switch {
			case a.Space == "" && a.Key == "xmlns":
				keys[a] = key{rank: 0}
			case a.Space == "xmlns":
				keys[a] = key{rank: 1, local: a.Key}
			default:
				keys[a] = key{rank: 2, uri: prefixURI(el, a.Space), local: a.Key}
			}
		}
		sort.SliceStable(el.Attr, func(i, j int) bool {
			ki, kj := keys[el.Attr[i]], keys[el.Attr[j]]
			if ki.rank != kj.rank {
				return ki.rank < kj.rank
			}
			if ki.uri != kj.uri {
				return ki.uri < kj.uri
			}
			return ki.local < kj.local
		})
		stack = append(stack, el.ChildElements()...)
	}
}

// prefixURI resolves an attribute prefix in scope at el; "" for none.
func prefixURI(el *etree.Element, prefix string) string {
	switch prefix {
	case "":
		return ""
	case "xml":
		return nsXML
	}
	for e := el; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if a.Space == "xmlns" && a.Key == prefix {
				return a.Value
			}
		}
	}
	return ""
}

// stripWhitespace removes whitespace-only text nodes from the subtree.
func stripWhitespace(root *etree.Element) {
	stack := []*etree.Element{root}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for i := len(el.Child) - 1; i >= 0; i-- {
			switch n := el.Child[i].(type) {
			case *etree.CharData:
				if strings.Trim(n.Data, " \t\r\n") == "" {
					el.RemoveChildAt(i)
				}
			case *etree.Element:
				stack = append(stack, n)
			}
		}
	}
}
