// Package xmldsig verifies (and, for generated test documents, creates) the
// W3C XML Signatures of a Kanta CDA document's signatureCollection.
//
// Verification is deliberately narrow: each signature must reference exactly
// the nonXMLBody element the archive reads and its own signatureTimestamp,
// by same-document ID, with exclusive canonicalisation; any other shape is
// refused. This is what makes signature wrapping attacks fail.
package xmldsig

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// Algorithm identifiers.
const (
	AlgExcC14N     = "http://www.w3.org/2001/10/xml-exc-c14n#"
	AlgEnveloped   = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	AlgSHA256      = "http://www.w3.org/2001/04/xmlenc#sha256"
	AlgSHA512      = "http://www.w3.org/2001/04/xmlenc#sha512"
	AlgRSASHA256   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	AlgRSASHA512   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
	AlgECDSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
)

// Form says over which form of the document a signature verified.
type Form string

const (
	// FormAsReceived: the document exactly as received.
	FormAsReceived Form = "as-received"
	// FormWhitespaceStripped: the same document without whitespace-only
	// text nodes, as a .NET XmlDocument signer with PreserveWhitespace=false
	// sees it before the document is stored indented.
	FormWhitespaceStripped Form = "whitespace-stripped"
)

const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
)

// maxC14NElements bounds the elements of a canonicalised subtree, as the
// etreeutils canonicaliser this one replaced did; it also bounds the
// recursion. A signed body or SignedInfo has a handful.
const maxC14NElements = 1000

var (
	errReservedNamespace       = errors.New("disallowed declaration of reserved namespace")
	errInvalidDefaultNamespace = errors.New("invalid default namespace declaration")
	errTooManyElements         = fmt.Errorf("more than %d elements", maxC14NElements)
	errAttributeClash          = errors.New("two attributes with the same namespace and local name")
)

// canonicalize returns the exclusive canonical form (without comments) of el
// as a subtree of its document: namespace declarations in scope from its
// ancestors are taken into account, el itself is not changed. With strip,
// whitespace-only text nodes in the subtree are left out.
//
// The output is byte for byte that of the canonicaliser it replaced
// (goxmldsig's etreeutils and etree's writer; canonicalizeReference in the
// tests), quirks included, so that no signature verifies differently:
//
//   - An element renders a declaration for each prefix it visibly uses
//     (its own, the default namespace when it has none, its attributes')
//     and for each prefix of the InclusiveNamespaces PrefixList that it
//     declares (on el itself: that is in scope), unless the nearest output
//     ancestor rendered the same binding. "#default" means nothing there.
//   - The default namespace counts as bound to the XML namespace until
//     declared (etreeutils' "none"), so an unprefixed el renders xmlns=""
//     when an ancestor declared xmlns="".
//   - Attributes: the default declaration, the other declarations by
//     prefix, then the attributes by namespace URI and local name. Two
//     attributes with the same URI and local name are refused: Namespaces
//     in XML forbids them (libxml2 reports a namespace error), and the
//     replaced code ordered them by accident of its sort, on an element
//     with many attributes differently from one run to the next.
//   - Text escapes & < > and CR, attribute values & < " TAB LF CR;
//     characters XML does not allow become U+FFFD. Comments are left out;
//     processing instructions, and CDATA sections or directives of a tree
//     built in code, are written as etree writes them.
func canonicalize(el *etree.Element, prefixList string, strip bool) ([]byte, error) {
	c := getCanonicalizer(prefixList, strip)
	defer c.release()
	c.out.buf = make([]byte, 0, 2048)
	if err := c.run(el); err != nil {
		return nil, err
	}
	return c.out.buf, nil
}

// canonicalizeTo writes what canonicalize returns to w, in chunks: a
// digest needs no copy of a body of some megabytes. On error, what was
// written is not a canonical form.
func canonicalizeTo(w io.Writer, el *etree.Element, prefixList string, strip bool) error {
	return canonicalizeChunked(w, el, prefixList, strip, 16<<10)
}

func canonicalizeChunked(w io.Writer, el *etree.Element, prefixList string, strip bool, chunk int) error {
	c := getCanonicalizer(prefixList, strip)
	defer c.release()
	if cap(c.chunkBuf) != chunk {
		c.chunkBuf = make([]byte, 0, chunk)
	}
	c.out.w, c.out.chunk, c.out.buf = w, chunk, c.chunkBuf
	if err := c.run(el); err != nil {
		return err
	}
	c.out.flush()
	if c.out.err != nil {
		return fmt.Errorf("canonicalize: %w", c.out.err)
	}
	return nil
}

type canonicalizer struct {
	out       c14nWriter
	inclusive []string // the InclusiveNamespaces PrefixList, sorted
	strip     bool
	scope     nsBindings // namespaces in scope in the document
	rendered  nsBindings // namespaces declared in the output
	elements  int

	// Reused from one start tag to the next, and with the canonicalizer
	// from one call to the next.
	ancestors []*etree.Element
	prefixes  []string
	attrs     []outAttr
	chunkBuf  []byte
}

type outAttr struct {
	a   *etree.Attr
	uri string
}

// canonicalizers keeps canonicalizers with their maps and buffers: a
// verification canonicalises a few times per form and signature, and
// allocating them took about as long as canonicalising a SignedInfo.
var canonicalizers = sync.Pool{New: func() any { return new(canonicalizer) }}

func getCanonicalizer(prefixList string, strip bool) *canonicalizer {
	c := canonicalizers.Get().(*canonicalizer)
	for p := range strings.FieldsSeq(prefixList) {
		c.inclusive = append(c.inclusive, p)
	}
	// Sorted for binary search: the PrefixList and the declarations of an
	// element both come from the document and can be long.
	slices.Sort(c.inclusive)
	c.inclusive = slices.Compact(c.inclusive)
	c.strip = strip
	c.scope.init()
	c.rendered.init()
	return c
}

// release returns c to the pool, without references into the document or
// to the output, unless a hostile document made it large.
func (c *canonicalizer) release() {
	const keep = 64
	if len(c.scope.m) > keep || len(c.rendered.m) > keep || cap(c.scope.undo) > keep || cap(c.rendered.undo) > keep ||
		cap(c.ancestors) > keep || cap(c.prefixes) > keep || cap(c.attrs) > keep || cap(c.inclusive) > keep {
		return
	}
	clear(c.inclusive)
	clear(c.ancestors[:cap(c.ancestors)])
	clear(c.prefixes[:cap(c.prefixes)])
	clear(c.attrs[:cap(c.attrs)])
	c.scope.clear()
	c.rendered.clear()
	if c.out.w != nil {
		c.chunkBuf = c.out.buf[:0]
	}
	*c = canonicalizer{
		inclusive: c.inclusive[:0], scope: c.scope, rendered: c.rendered,
		ancestors: c.ancestors[:0], prefixes: c.prefixes[:0], attrs: c.attrs[:0], chunkBuf: c.chunkBuf,
	}
	canonicalizers.Put(c)
}

func (c *canonicalizer) run(el *etree.Element) error {
	for p := el.Parent(); p != nil; p = p.Parent() {
		c.ancestors = append(c.ancestors, p)
	}
	for i := len(c.ancestors) - 1; i >= 0; i-- {
		for _, a := range c.ancestors[i].Attr {
			if err := c.declare(a); err != nil {
				return fmt.Errorf("namespace context: %w", err)
			}
		}
	}
	if err := c.element(el, true); err != nil {
		return fmt.Errorf("canonicalize: %w", err)
	}
	return nil
}

// declare puts a namespace declaration in scope; other attributes are
// ignored. The checks are etreeutils'.
func (c *canonicalizer) declare(a etree.Attr) error {
	switch {
	case a.Space == "xmlns":
		if a.Key == "xml" && a.Value != nsXML || a.Key == "xmlns" {
			return errReservedNamespace
		}
		c.scope.set(a.Key, a.Value)
	case a.Space == "" && a.Key == "xmlns":
		if a.Value == nsXMLNS {
			return errInvalidDefaultNamespace
		}
		c.scope.set("", a.Value)
	}
	return nil
}

func (c *canonicalizer) element(el *etree.Element, apex bool) error {
	if c.elements++; c.elements > maxC14NElements {
		return errTooManyElements
	}
	scopeMark, renderedMark := c.scope.mark(), c.rendered.mark()
	for _, a := range el.Attr {
		if err := c.declare(a); err != nil {
			return err
		}
	}
	if err := c.startTag(el, apex); err != nil {
		return err
	}
	for _, t := range el.Child {
		switch n := t.(type) {
		case *etree.Element:
			if err := c.element(n, false); err != nil {
				return err
			}
		case *etree.CharData:
			switch {
			case c.strip && strings.Trim(n.Data, " \t\r\n") == "":
			case n.IsCData():
				n.WriteTo(&c.out, &etreeSettings)
			default:
				c.out.escape(n.Data, textEscapes)
			}
		case *etree.Comment:
		default:
			t.WriteTo(&c.out, &etreeSettings)
		}
	}
	c.out.WriteString("</")
	c.writeName(el.Space, el.Tag)
	c.out.WriteByte('>')
	c.scope.reset(scopeMark)
	c.rendered.reset(renderedMark)
	return nil
}

// etreeSettings are those the replaced canonicaliser wrote with.
var etreeSettings = etree.WriteSettings{CanonicalAttrVal: true, CanonicalEndTags: true, CanonicalText: true}

// startTag writes el's start tag with the namespace declarations it
// renders (see canonicalize) and its attributes in canonical order.
func (c *canonicalizer) startTag(el *etree.Element, apex bool) error {
	ps := append(c.prefixes[:0], el.Space)
	for _, a := range el.Attr {
		switch {
		case a.Space == "xmlns":
			if _, found := slices.BinarySearch(c.inclusive, a.Key); found && !apex {
				ps = append(ps, a.Key)
			}
		case a.Space == "" && a.Key == "xmlns":
			// strings.Fields never yields the empty prefix.
		case a.Space != "":
			ps = append(ps, a.Space)
		}
	}
	if apex {
		for _, p := range c.inclusive {
			if _, ok := c.scope.lookup(p); ok && p != "xml" && p != "xmlns" {
				ps = append(ps, p)
			}
		}
	}
	// Sorted, the default namespace comes first and the prefixes in the
	// order of their declarations.
	slices.Sort(ps)
	ps = slices.Compact(ps)
	c.prefixes = ps

	c.out.WriteByte('<')
	c.writeName(el.Space, el.Tag)
	for _, p := range ps {
		uri, ok := c.scope.lookup(p)
		if !ok {
			return fmt.Errorf("undeclared namespace prefix %q", p)
		}
		if r, ok := c.rendered.lookup(p); ok && r == uri {
			continue
		}
		c.rendered.set(p, uri)
		if p == "" {
			c.out.WriteString(` xmlns="`)
		} else {
			c.out.WriteString(` xmlns:`)
			c.out.WriteString(p)
			c.out.WriteString(`="`)
		}
		c.out.escape(uri, attrEscapes)
		c.out.WriteByte('"')
	}

	as := c.attrs[:0]
	for i := range el.Attr {
		a := &el.Attr[i]
		if a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns" {
			continue
		}
		uri := ""
		if a.Space != "" {
			uri, _ = c.scope.lookup(a.Space) // declared: checked above
		}
		as = append(as, outAttr{a, uri})
	}
	c.attrs = as
	if len(as) > 1 {
		slices.SortFunc(as, func(x, y outAttr) int {
			if n := strings.Compare(x.uri, y.uri); n != 0 {
				return n
			}
			if n := strings.Compare(x.a.Key, y.a.Key); n != 0 {
				return n
			}
			// An unprefixed attribute and one whose prefix is bound to
			// "": the unprefixed first, as the replaced code did.
			return strings.Compare(x.a.Space, y.a.Space)
		})
		for i := 1; i < len(as); i++ {
			x, y := as[i-1], as[i]
			if x.uri == y.uri && x.a.Key == y.a.Key && !(x.a.Space == "" && y.a.Space != "") {
				return errAttributeClash
			}
		}
	}
	for _, o := range as {
		c.out.WriteByte(' ')
		c.writeName(o.a.Space, o.a.Key)
		c.out.WriteString(`="`)
		c.out.escape(o.a.Value, attrEscapes)
		c.out.WriteByte('"')
	}
	c.out.WriteByte('>')
	return nil
}

func (c *canonicalizer) writeName(space, local string) {
	if space != "" {
		c.out.WriteString(space)
		c.out.WriteByte(':')
	}
	c.out.WriteString(local)
}

// nsBindings maps prefixes to namespace URIs; reset undoes what was set
// since mark, as the walk leaves an element. A map, not a list searched
// from the end: a hostile element can declare and use thousands of
// prefixes.
type nsBindings struct {
	m    map[string]string
	undo []nsUndo
}

type nsUndo struct {
	prefix, uri string
	had         bool
}

// init binds "xml" and "xmlns", which are never rendered, and the default
// namespace to the XML namespace, which is how etreeutils says "none" (see
// canonicalize).
func (b *nsBindings) init() {
	if b.m == nil {
		b.m = make(map[string]string, 8)
	}
	b.m[""], b.m["xml"], b.m["xmlns"] = nsXML, nsXML, nsXMLNS
}

func (b *nsBindings) clear() {
	clear(b.m)
	clear(b.undo[:cap(b.undo)])
	b.undo = b.undo[:0]
}

func (b *nsBindings) lookup(prefix string) (string, bool) {
	uri, ok := b.m[prefix]
	return uri, ok
}

func (b *nsBindings) set(prefix, uri string) {
	old, had := b.m[prefix]
	b.undo = append(b.undo, nsUndo{prefix, old, had})
	b.m[prefix] = uri
}

func (b *nsBindings) mark() int { return len(b.undo) }

func (b *nsBindings) reset(mark int) {
	for i := len(b.undo) - 1; i >= mark; i-- {
		u := b.undo[i]
		if u.had {
			b.m[u.prefix] = u.uri
		} else {
			delete(b.m, u.prefix)
		}
	}
	b.undo = b.undo[:mark]
}

// c14nWriter collects the output in buf, or, with w set, passes it on to w
// whenever chunk bytes have collected. It is an etree.Writer, for the rare
// tokens that etree writes for it.
type c14nWriter struct {
	buf   []byte
	w     io.Writer
	chunk int
	err   error
}

func (cw *c14nWriter) flush() {
	if len(cw.buf) > 0 && cw.err == nil {
		_, cw.err = cw.w.Write(cw.buf)
	}
	cw.buf = cw.buf[:0]
}

func (cw *c14nWriter) WriteString(s string) (int, error) {
	n := len(s)
	for cw.w != nil && len(cw.buf)+len(s) > cw.chunk {
		k := cw.chunk - len(cw.buf)
		cw.buf = append(cw.buf, s[:k]...)
		s = s[k:]
		cw.flush()
	}
	cw.buf = append(cw.buf, s...)
	return n, nil
}

func (cw *c14nWriter) Write(p []byte) (int, error) {
	n := len(p)
	for cw.w != nil && len(cw.buf)+len(p) > cw.chunk {
		k := cw.chunk - len(cw.buf)
		cw.buf = append(cw.buf, p[:k]...)
		p = p[k:]
		cw.flush()
	}
	cw.buf = append(cw.buf, p...)
	return n, nil
}

func (cw *c14nWriter) WriteByte(b byte) error {
	if cw.w != nil && len(cw.buf) >= cw.chunk {
		cw.flush()
	}
	cw.buf = append(cw.buf, b)
	return nil
}

// escapeTable says which bytes escape must stop at, and what it writes for
// them: a reference, or U+FFFD for control characters XML does not allow.
// It stops at every byte of a multi-byte UTF-8 sequence too, which may be
// invalid or not allowed in XML.
type escapeTable struct {
	stop [256]bool
	ref  [256]string
	// The printable ASCII characters it stops at, each repeated in all
	// eight bytes, for clean.
	special [3]uint64
}

const replacement = "\uFFFD"

var textEscapes, attrEscapes = escapeTables()

func escapeTables() (text, attr *escapeTable) {
	text, attr = new(escapeTable), new(escapeTable)
	for b := 0; b < 256; b++ {
		if b < 0x20 || b >= utf8.RuneSelf {
			text.ref[b], attr.ref[b] = replacement, replacement
		}
	}
	text.ref['\t'], text.ref['\n'] = "", ""
	text.ref['&'], text.ref['<'], text.ref['>'], text.ref['\r'] = "&amp;", "&lt;", "&gt;", "&#xD;"
	attr.ref['&'], attr.ref['<'], attr.ref['"'] = "&amp;", "&lt;", "&quot;"
	attr.ref['\t'], attr.ref['\n'], attr.ref['\r'] = "&#x9;", "&#xA;", "&#xD;"
	for b := 0; b < 256; b++ {
		text.stop[b], attr.stop[b] = text.ref[b] != "", attr.ref[b] != ""
	}
	text.special = [3]uint64{'&' * ones, '<' * ones, '>' * ones}
	attr.special = [3]uint64{'&' * ones, '<' * ones, '"' * ones}
	return text, attr
}

const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// clean reports whether escape can pass over all eight bytes of x: none is
// a control character, a special one or not ASCII. (v-ones)&^v has the high
// bit set in some byte exactly when v has a zero byte; (x-0x20*ones)&^x,
// when x has one below 0x20.
func (t *escapeTable) clean(x uint64) bool {
	a, b, c := x^t.special[0], x^t.special[1], x^t.special[2]
	return (x|(x-0x20*ones)&^x|(a-ones)&^a|(b-ones)&^b|(c-ones)&^c)&high == 0
}

// escape writes s with the references of tbl, and U+FFFD for what is not
// an XML character (invalid UTF-8 byte by byte), as etree's writer does.
// Text of a body is megabytes of base64, which it passes over eight
// bytes at a time.
func (cw *c14nWriter) escape(s string, tbl *escapeTable) {
	last, i := 0, 0
	for i < len(s) {
		if i+8 <= len(s) {
			w := s[i : i+8]
			x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
			if tbl.clean(x) {
				i += 8
				continue
			}
		}
		b, width := s[i], 1
		if !tbl.stop[b] {
			i++
			continue
		}
		if b >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if isXMLChar(r) && !(r == utf8.RuneError && n == 1) {
				i += n
				continue
			}
			width = n
		}
		cw.WriteString(s[last:i])
		cw.WriteString(tbl.ref[b])
		i += width
		last = i
	}
	cw.WriteString(s[last:])
}

// isXMLChar is XML 1.0's Char production.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
