// Package xmlsafe parses untrusted XML into an etree document with the
// archive's limits: a size bound, no DTD (so no entity definitions and no
// external entities), no undefined entity references, UTF-8 only, one root
// element and bounded nesting depth.
package xmlsafe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"

	"github.com/arkisto/arkisto/internal/problem"
	"github.com/arkisto/arkisto/internal/progress"
)

// Rule codes.
const (
	RuleTooLarge  = "XML_TOO_LARGE"
	RuleMalformed = "XML_MALFORMED"
	RuleDTD       = "XML_DTD"
	RuleEntity    = "XML_ENTITY"
	RuleTooDeep   = "XML_TOO_DEEP"
	RuleEncoding  = "XML_ENCODING"
)

// Defaults.
const (
	DefaultMaxBytes  = 20 << 20
	DefaultMaxDepth  = 64
	DefaultMaxMarkup = 100_000
)

// Limits bound what Parse accepts; zero values mean the defaults.
type Limits struct {
	MaxBytes int64
	MaxDepth int
	// AllowDoctype permits a DOCTYPE declaration without an internal subset
	// (it is inert: nothing is fetched or expanded). XHTML display forms may
	// carry one; CDA documents may not.
	AllowDoctype bool
	// MaxMarkup bounds the number of tags, comments and other markup ('<'
	// characters), which bounds the parsed tree's memory: a 20 MiB document
	// of tiny elements would otherwise take about a gigabyte. Default
	// 100,000; real documents have a few hundred (their bulk is base64).
	MaxMarkup int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxMarkup <= 0 {
		l.MaxMarkup = DefaultMaxMarkup
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// notXML refuses content that cannot be XML at all, saying so, rather
// than by the first rule the parser happens to trip on: XML starts with
// '<' (after white space).
func notXML(data []byte) error {
	t := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(t) == 0:
		return fail(RuleMalformed, "the document is empty")
	case t[0] != '<':
		return fail(RuleMalformed, "not XML: the content does not begin with '<'")
	}
	return nil
}

// Parse parses data. Any failure is a problem.List with one problem.
func Parse(data []byte, lim Limits) (*etree.Document, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, fail(RuleTooLarge, "document is %s (%d bytes); the limit is %s", progress.Size(int64(len(data))), len(data), progress.Size(lim.MaxBytes))
	}
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		return nil, fail(RuleEncoding, "document must be UTF-8, it is UTF-16")
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if err := notXML(data); err != nil {
		return nil, err
	}
	if n := bytes.Count(data, []byte("<")); n > lim.MaxMarkup {
		return nil, fail(RuleTooLarge, "document has %d tags and other markup; the limit is %d", n, lim.MaxMarkup)
	}
	doc, ok := parseFast(data, lim)
	if !ok {
		var err error
		if doc, err = parseReference(data, lim); err != nil {
			return nil, err
		}
	}
	if err := check(doc, lim); err != nil {
		return nil, err
	}
	return doc, nil
}

// readSettings are etree's settings for both parsers.
func readSettings(lim Limits) etree.ReadSettings {
	return etree.ReadSettings{
		// Refuse any declared encoding but UTF-8 instead of converting.
		CharsetReader: func(label string, _ io.Reader) (io.Reader, error) {
			return nil, fmt.Errorf("unsupported encoding %q", label)
		},
		// Keep duplicates so that check can refuse them: silently keeping
		// one of two ID attributes would hide a wrapping attempt.
		PreserveDuplicateAttrs: true,
		MaxDepth:               lim.MaxDepth,
	}
}

// parseReference builds the tree with encoding/xml and etree: the parser
// that decides every document the fast path leaves to it, and the
// reference the fast path is tested against.
func parseReference(data []byte, lim Limits) (*etree.Document, error) {
	doc := etree.NewDocument()
	doc.ReadSettings = readSettings(lim)
	if err := doc.ReadFromBytes(data); err != nil {
		if errors.Is(err, etree.ErrMaxDepth) {
			return nil, fail(RuleTooDeep, "elements are nested deeper than %d levels", lim.MaxDepth)
		}
		return nil, classify(err)
	}
	return doc, nil
}

func classify(err error) error {
	msg := err.Error()
	line := 0
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line = se.Line
	}
	// The decoder quotes an undefined entity reference or a bad name as
	// written, and that can be document text: an unescaped & before a
	// name or an identity code. Problem messages must not carry it.
	switch {
	case strings.Contains(msg, "unsupported encoding"):
		return fail(RuleEncoding, "document must be UTF-8: %s", msg)
	case strings.Contains(msg, "entity"):
		return fail(RuleEntity, "entity references other than the five predefined ones and character references are not allowed (line %d)", line)
	case se != nil && strings.HasPrefix(se.Msg, "invalid XML name"):
		return fail(RuleMalformed, "not well-formed XML: invalid XML name on line %d", line)
	}
	return fail(RuleMalformed, "not well-formed XML: %s", msg)
}

func fail(code, format string, args ...any) error {
	var l problem.List
	l.Add(code, "/", format, args...)
	return l
}

// check walks the tree without recursion: a hostile document must not be
// able to exhaust the stack before its depth is known.
func check(doc *etree.Document, lim Limits) error {
	roots, doctypes := 0, 0
	for _, t := range doc.Child {
		switch n := t.(type) {
		case *etree.Element:
			roots++
		case *etree.Directive:
			// One DOCTYPE, before the root, as XML allows.
			doctypes++
			if !lim.AllowDoctype || roots > 0 || doctypes > 1 || !strings.HasPrefix(n.Data, "DOCTYPE") || strings.Contains(n.Data, "[") {
				return fail(RuleDTD, "DTDs and other <!...> declarations are not allowed")
			}
		case *etree.CharData:
			if strings.TrimSpace(n.Data) != "" {
				return fail(RuleMalformed, "text outside the root element")
			}
		}
	}
	if roots != 1 {
		return fail(RuleMalformed, "document must have exactly one root element, has %d", roots)
	}
	// Namespace declarations are tracked in scopes as the walk goes down,
	// and duplicate attributes are found with a set on large elements:
	// etree's NamespaceURI and a pairwise comparison both cost time in
	// proportion to the number of attributes, which a hostile document can
	// make quadratic.
	type frame struct {
		el    *etree.Element
		depth int
		scope *nsScope
	}
	stack := []frame{{doc.Root(), 1, nil}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if f.depth > lim.MaxDepth {
			return fail(RuleTooDeep, "elements are nested deeper than %d levels", lim.MaxDepth)
		}
		scope := f.scope.enter(f.el)
		if f.el.Space != "" && scope.lookup(f.el.Space) == "" {
			return fail(RuleMalformed, "element %s uses an undeclared namespace prefix", f.el.FullTag())
		}
		var seen map[[2]string]bool
		if len(f.el.Attr) > 8 {
			seen = make(map[[2]string]bool, len(f.el.Attr))
		}
		for i, a := range f.el.Attr {
			if a.Space != "" && a.Space != "xmlns" && a.Space != "xml" && scope.lookup(a.Space) == "" {
				return fail(RuleMalformed, "attribute %s uses an undeclared namespace prefix", a.FullKey())
			}
			dup := false
			if seen != nil {
				k := [2]string{a.Space, a.Key}
				dup = seen[k]
				seen[k] = true
			} else {
				for _, b := range f.el.Attr[:i] {
					if a.Space == b.Space && a.Key == b.Key {
						dup = true
					}
				}
			}
			if dup {
				return fail(RuleMalformed, "element %s has the attribute %s twice", f.el.FullTag(), a.FullKey())
			}
		}
		if err := clash(len(f.el.Attr), func(i int) (string, string) { return f.el.Attr[i].Space, f.el.Attr[i].Key }, scope.lookup); err != nil {
			return err
		}
		for _, t := range f.el.Child {
			switch n := t.(type) {
			case *etree.Element:
				stack = append(stack, frame{n, f.depth + 1, scope})
			case *etree.Directive:
				return fail(RuleDTD, "DTDs and other <!...> declarations are not allowed")
			}
		}
	}
	return nil
}

// nsScope holds the prefixed namespace declarations of one element that
// declares any, linked to the enclosing scope.
type nsScope struct {
	parent *nsScope
	decl   map[string]string
}

// enter returns the scope inside el: s itself when el declares no prefix.
func (s *nsScope) enter(el *etree.Element) *nsScope {
	var decl map[string]string
	for _, a := range el.Attr {
		if a.Space == "xmlns" {
			if decl == nil {
				decl = make(map[string]string)
			}
			if _, ok := decl[a.Key]; !ok {
				decl[a.Key] = a.Value
			}
		}
	}
	if decl == nil {
		return s
	}
	return &nsScope{parent: s, decl: decl}
}

// lookup returns the namespace URI bound to prefix, or "".
func (s *nsScope) lookup(prefix string) string {
	for ; s != nil; s = s.parent {
		if v, ok := s.decl[prefix]; ok {
			return v
		}
	}
	return ""
}

// Problems returns err as a problem list: err itself when it is one.
func Problems(err error) problem.List {
	var l problem.List
	if errors.As(err, &l) {
		return l
	}
	l.Add(RuleMalformed, "/", "%v", err)
	return l
}

// Wellformed checks data as Parse does, refusing the same documents with
// the same rule codes, without building a tree, and returns the namespace
// of the root element. It is for content the archive only needs to know is
// well-formed, such as a display form, at a fraction of Parse's cost.
func Wellformed(data []byte, lim Limits) (string, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return "", fail(RuleTooLarge, "document is %s (%d bytes); the limit is %s", progress.Size(int64(len(data))), len(data), progress.Size(lim.MaxBytes))
	}
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		return "", fail(RuleEncoding, "document must be UTF-8, it is UTF-16")
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if err := notXML(data); err != nil {
		return "", err
	}
	if n := bytes.Count(data, []byte("<")); n > lim.MaxMarkup {
		return "", fail(RuleTooLarge, "document has %d tags and other markup; the limit is %d", n, lim.MaxMarkup)
	}
	// What the fast path takes, Parse would take with the same tree, so
	// check decides as Parse does; a refusal is left to the walk below,
	// which words it as Wellformed always has.
	if doc, ok := parseFast(data, lim); ok && check(doc, lim) == nil {
		root := doc.Root()
		return root.NamespaceURI(), nil
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	// RawToken leaves prefixes as written, so that undeclared ones can be
	// refused as Parse refuses them; end tags are matched here.
	type open struct {
		name  xml.Name
		scope *nsScope
	}
	var stack []open
	var scope *nsScope
	// Parse reads the whole document before it checks the tree, so a
	// syntax error anywhere wins over a refusal found earlier; a refusal
	// is kept here until the end to refuse under the same rule.
	var refused error
	refuse := func(err error) {
		if refused == nil {
			refused = err
		}
	}
	roots, doctypes := 0, 0
	rootNS := ""
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", classify(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				roots++

			}
			if len(stack)+1 > lim.MaxDepth {
				return "", fail(RuleTooDeep, "elements are nested deeper than %d levels", lim.MaxDepth)
			}
			inner, err := enterRaw(scope, t)
			if err != nil {
				refuse(err)
			}
			if len(stack) == 0 {
				rootNS = inner.lookup(t.Name.Space)
				if t.Name.Space == "" {
					rootNS = inner.lookup(defaultNS)
				}
			}
			stack = append(stack, open{t.Name, scope})
			scope = inner
		case xml.EndElement:
			if len(stack) == 0 {
				return "", fail(RuleMalformed, "not well-formed XML: unexpected end element </%s>", t.Name.Local)
			}
			top := stack[len(stack)-1]
			if top.name != t.Name {
				return "", fail(RuleMalformed, "not well-formed XML: element <%s> closed by </%s>", top.name.Local, t.Name.Local)
			}
			stack = stack[:len(stack)-1]
			scope = top.scope
		case xml.Directive:
			d := string(t)
			if len(stack) > 0 || !lim.AllowDoctype || !strings.HasPrefix(d, "DOCTYPE") || strings.Contains(d, "[") || roots > 0 || doctypes > 0 {
				refuse(fail(RuleDTD, "DTDs and other <!...> declarations are not allowed"))
			}
			doctypes++
		case xml.CharData:
			if len(stack) == 0 && strings.TrimSpace(string(t)) != "" {
				refuse(fail(RuleMalformed, "text outside the root element"))
			}
		}
	}
	if len(stack) > 0 {
		return "", fail(RuleMalformed, "not well-formed XML: unexpected EOF")
	}
	if refused != nil {
		return "", refused
	}
	if roots != 1 {
		return "", fail(RuleMalformed, "document must have exactly one root element, has %d", roots)
	}
	return rootNS, nil
}

// defaultNS is the key under which nsScope keeps a default namespace
// declaration; no prefix can be empty.
const defaultNS = ""

// enterRaw is enter for a raw start element: it checks the element's and
// its attributes' prefixes and refuses duplicate attributes. The scope
// inside the element is returned with any refusal, so that the walk can
// go on looking for syntax errors.
func enterRaw(s *nsScope, t xml.StartElement) (*nsScope, error) {
	var decl map[string]string
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "xmlns":
			if decl == nil {
				decl = make(map[string]string)
			}
			if _, ok := decl[a.Name.Local]; !ok {
				decl[a.Name.Local] = a.Value
			}
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			if decl == nil {
				decl = make(map[string]string)
			}
			if _, ok := decl[defaultNS]; !ok {
				decl[defaultNS] = a.Value
			}
		}
	}
	inner := s
	if decl != nil {
		inner = &nsScope{parent: s, decl: decl}
	}
	if t.Name.Space != "" && inner.lookup(t.Name.Space) == "" {
		return inner, fail(RuleMalformed, "element %s:%s uses an undeclared namespace prefix", t.Name.Space, t.Name.Local)
	}
	var seen map[xml.Name]bool
	if len(t.Attr) > 8 {
		seen = make(map[xml.Name]bool, len(t.Attr))
	}
	for i, a := range t.Attr {
		if a.Name.Space != "" && a.Name.Space != "xmlns" && a.Name.Space != "xml" && inner.lookup(a.Name.Space) == "" {
			return inner, fail(RuleMalformed, "attribute %s:%s uses an undeclared namespace prefix", a.Name.Space, a.Name.Local)
		}
		dup := false
		if seen != nil {
			dup = seen[a.Name]
			seen[a.Name] = true
		} else {
			for _, b := range t.Attr[:i] {
				dup = dup || a.Name == b.Name
			}
		}
		if dup {
			return inner, fail(RuleMalformed, "an element has the attribute %s twice", a.Name.Local)
		}
	}
	if err := clash(len(t.Attr), func(i int) (string, string) { return t.Attr[i].Name.Space, t.Attr[i].Name.Local }, inner.lookup); err != nil {
		return inner, err
	}
	return inner, nil
}

// clash refuses two prefixed attributes with one namespace and local name
// (a:x and b:x, a and b bound to one URI), which Namespaces in XML forbids
// as it forbids one attribute twice: canonicalisation could not order them.
// attr gives the i-th attribute's prefix and local name; the prefixes are
// declared (the callers have checked).
func clash(n int, attr func(i int) (prefix, local string), lookup func(string) string) error {
	type name struct{ prefix, uri, local string }
	var few [4]name // elements have one or two prefixed attributes
	seen := few[:0]
	var many map[[2]string]string // past len(few): a hostile element's thousands
	for i := range n {
		prefix, local := attr(i)
		if prefix == "" || prefix == "xmlns" {
			continue
		}
		uri := nsXML
		if prefix != "xml" {
			uri = lookup(prefix)
		}
		other := ""
		if many != nil {
			other = many[[2]string{uri, local}]
		} else {
			for _, o := range seen {
				if o.uri == uri && o.local == local {
					other = o.prefix
				}
			}
		}
		if other != "" && other != prefix {
			return fail(RuleMalformed, "an element has the attributes %s:%s and %s:%s, one name in one namespace", other, local, prefix, local)
		}
		switch {
		case many != nil:
			many[[2]string{uri, local}] = prefix
		case len(seen) < cap(seen):
			seen = append(seen, name{prefix, uri, local})
		default:
			many = make(map[[2]string]string, n)
			for _, o := range seen {
				many[[2]string{o.uri, o.local}] = o.prefix
			}
			many[[2]string{uri, local}] = prefix
		}
	}
	return nil
}

const nsXML = "http://www.w3.org/XML/1998/namespace"
