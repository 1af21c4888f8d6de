package xmlsafe

import (
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// parseFast builds the tree of the XML that real senders write in one pass
// over the bytes, without encoding/xml's byte-at-a-time reader and its
// copies (in a profile of checking a generated document, encoding/xml was
// 44 % of the check and the crypto a tenth).
//
// It is not a second XML parser with its own idea of XML: it accepts a
// document only when it can build exactly the tree that encoding/xml and
// etree build (parseReference), and gives up (ok false) on anything else —
// any syntax error, non-ASCII names, DOCTYPEs and other declarations,
// character references outside XML's characters, entities other than the
// five predefined ones, duplicate attributes, a declaration other than
// version 1.0 in UTF-8, nesting beyond the limit. Parse then lets the
// reference parser decide, so every refusal and its message stay the
// reference's. FuzzParseFast checks that whatever this accepts, the
// reference accepts with an identical tree.
func parseFast(data []byte, lim Limits) (doc *etree.Document, ok bool) {
	p := fastParser{s: string(data)}
	doc = etree.NewDocument()
	doc.ReadSettings = readSettings(lim)
	stack := make([]*etree.Element, 1, 32)
	stack[0] = &doc.Element
	for p.i < len(p.s) {
		top := stack[len(stack)-1]
		if p.s[p.i] != '<' {
			text, ok := p.text(-1)
			if !ok {
				return nil, false
			}
			addText(top, text)
			continue
		}
		if p.i+1 >= len(p.s) {
			return nil, false
		}
		switch p.s[p.i+1] {
		case '/':
			p.i += 2
			space, local, ok := p.nsname()
			if !ok {
				return nil, false
			}
			p.space()
			if !p.consume('>') || len(stack) == 1 || top.Tag != local || top.Space != space {
				return nil, false
			}
			stack = stack[:len(stack)-1]
		case '?':
			p.i += 2
			target, ok := p.name()
			if !ok {
				return nil, false
			}
			p.space()
			end := strings.Index(p.s[p.i:], "?>")
			if end < 0 {
				return nil, false
			}
			inst := p.s[p.i : p.i+end]
			p.i += end + 2
			if target == "xml" && !plainDeclaration(inst) {
				return nil, false
			}
			top.CreateProcInst(target, inst)
		case '!':
			switch {
			case strings.HasPrefix(p.s[p.i:], "<!--"):
				// The comment ends at the first "--", which must be "-->".
				p.i += 4
				end := strings.Index(p.s[p.i:], "--")
				if end < 0 || p.i+end+2 >= len(p.s) || p.s[p.i+end+2] != '>' {
					return nil, false
				}
				top.CreateComment(p.s[p.i : p.i+end])
				p.i += end + 3
			case strings.HasPrefix(p.s[p.i:], "<![CDATA["):
				p.i += 9
				end := strings.Index(p.s[p.i:], "]]>")
				if end < 0 {
					return nil, false
				}
				text, ok := cdata(p.s[p.i : p.i+end])
				if !ok {
					return nil, false
				}
				p.i += end + 3
				addText(top, text)
			default:
				return nil, false // DOCTYPE and other declarations
			}
		default:
			p.i++
			space, local, ok := p.nsname()
			if !ok || len(stack) > lim.MaxDepth {
				return nil, false
			}
			el := &etree.Element{Space: space, Tag: local}
			top.AddChild(el)
			empty := false
		attrs:
			for {
				p.space()
				if p.i >= len(p.s) {
					return nil, false
				}
				switch p.s[p.i] {
				case '/':
					if p.i+1 >= len(p.s) || p.s[p.i+1] != '>' {
						return nil, false
					}
					p.i += 2
					empty = true
					break attrs
				case '>':
					p.i++
					break attrs
				}
				aspace, alocal, ok := p.nsname()
				if !ok {
					return nil, false
				}
				p.space()
				if !p.consume('=') {
					return nil, false
				}
				p.space()
				if p.i >= len(p.s) || (p.s[p.i] != '"' && p.s[p.i] != '\'') {
					return nil, false
				}
				quote := int(p.s[p.i])
				p.i++
				value, ok := p.text(quote)
				if !ok || len(el.Attr) >= maxFastAttrs {
					return nil, false
				}
				key := alocal
				if aspace != "" {
					key = aspace + ":" + alocal
				}
				n := len(el.Attr)
				// CreateAttr replaces an attribute of the same name: a
				// duplicate is for the reference parser to keep and for
				// check to refuse.
				if el.CreateAttr(key, value); len(el.Attr) == n {
					return nil, false
				}
			}
			if !empty {
				stack = append(stack, el)
			}
		}
	}
	if len(stack) != 1 {
		return nil, false
	}
	return doc, true
}

// maxFastAttrs bounds the attributes of one element on the fast path:
// etree's CreateAttr looks for a duplicate among those already there, so
// thousands would cost time in their square. Real elements have a few.
const maxFastAttrs = 64

type fastParser struct {
	s string
	i int
}

// addText adds character data as etree's reader does: whitespace-only
// data carries etree's whitespace flag, which SetData sets.
func addText(parent *etree.Element, text string) {
	cd := parent.CreateText(text)
	if isSpace(text) {
		cd.SetData(text)
	}
}

func isSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

func (p *fastParser) consume(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *fastParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// name reads an ASCII XML name. encoding/xml reads a name up to the first
// ASCII byte that cannot be in one; a non-ASCII byte within it is left to
// the reference.
func (p *fastParser) name() (string, bool) {
	start := p.i
	for p.i < len(p.s) && isNameByte(p.s[p.i]) {
		p.i++
	}
	if p.i == start || p.i < len(p.s) && p.s[p.i] >= utf8.RuneSelf {
		return "", false
	}
	switch c := p.s[start]; {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', c == '_', c == ':':
	default:
		return "", false
	}
	return p.s[start:p.i], true
}

// nsname reads a name with at most one colon, inside it.
func (p *fastParser) nsname() (space, local string, ok bool) {
	s, ok := p.name()
	if !ok {
		return "", "", false
	}
	i := strings.IndexByte(s, ':')
	switch {
	case i < 0:
		return "", s, true
	case i == 0 || i == len(s)-1 || strings.IndexByte(s[i+1:], ':') >= 0:
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

// textByte marks the bytes text and attribute values cannot pass over
// without a look: markup, references, carriage returns, the quotes, ']'
// (for "]]>"), control characters and the start of multi-byte characters.
var textByte = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = c != '\t' && c != '\n'
	}
	for _, c := range "<&\r\"']" {
		t[c] = true
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	return t
}()

// text reads character data up to '<' or the end (quote < 0), or up to
// the closing quote of an attribute value, which it consumes.
func (p *fastParser) text(quote int) (string, bool) {
	start := p.i
	plain := true
scan:
	for p.i < len(p.s) {
		c := p.s[p.i]
		if !textByte[c] {
			p.i++
			continue
		}
		switch {
		case c == '<':
			if quote >= 0 {
				return "", false
			}
			break scan
		case int(c) == quote:
			break scan
		case c == '"' || c == '\'':
			p.i++
		case c == '&' || c == '\r':
			plain = false
			p.i++
		case c == ']':
			if quote < 0 && strings.HasPrefix(p.s[p.i:], "]]>") {
				return "", false
			}
			p.i++
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && n == 1 || !isChar(r) {
				return "", false
			}
			p.i += n
		default:
			return "", false // a control character
		}
	}
	raw := p.s[start:p.i]
	if quote >= 0 {
		if p.i >= len(p.s) {
			return "", false
		}
		p.i++
	}
	if plain {
		return raw, true
	}
	return unescape(raw)
}

// unescape replaces references and turns CR LF and a lone CR into LF, as
// encoding/xml does. raw has been scanned by text: its characters are
// allowed ones.
func unescape(raw string) (string, bool) {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); {
		switch c := raw[i]; c {
		case '\r':
			b.WriteByte('\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
		case '&':
			end := strings.IndexByte(raw[i:], ';')
			if end < 0 {
				return "", false
			}
			r, ok := reference(raw[i+1 : i+end])
			if !ok {
				return "", false
			}
			b.WriteRune(r)
			i += end + 1
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), true
}

// reference resolves the name or number between '&' and ';': one of the
// five predefined entities or a character reference to an XML character.
func reference(ref string) (rune, bool) {
	switch ref {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "apos":
		return '\'', true
	case "quot":
		return '"', true
	}
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	digits, base := ref[1:], rune(10)
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 || len(digits) > 8 {
		return 0, false
	}
	var r rune
	for i := 0; i < len(digits); i++ {
		var d rune
		switch c := rune(digits[i]); {
		case '0' <= c && c <= '9':
			d = c - '0'
		case base == 16 && 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case base == 16 && 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*base + d
	}
	return r, isChar(r)
}

// cdata is a CDATA section's content: no references, line ends
// normalised, characters checked.
func cdata(s string) (string, bool) {
	plain := true
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\r':
			plain = false
			i++
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 || !isChar(r) {
				return "", false
			}
			i += n
		case c < 0x20 && c != '\t' && c != '\n':
			return "", false
		default:
			i++
		}
	}
	if plain {
		return s, true
	}
	return strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s), true
}

// isChar is XML 1.0's Char production.
func isChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// plainDeclaration accepts the XML declarations senders write: version
// 1.0, encoding UTF-8 if any, standalone yes or no if any, in that order,
// each at most once. Anything else goes to the reference parser, which
// refuses other versions and encodings in its own words.
func plainDeclaration(s string) bool {
	names := []string{"version", "encoding", "standalone"}
	seen := 0
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return seen > 0
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return false
		}
		name := s[:eq]
		k := 0
		for k < len(names) && names[k] != name {
			k++
		}
		if k == len(names) || k < seen || len(s) < eq+2 || s[eq+1] != '"' && s[eq+1] != '\'' {
			return false
		}
		end := strings.IndexByte(s[eq+2:], s[eq+1])
		if end < 0 {
			return false
		}
		value := s[eq+2 : eq+2+end]
		switch name {
		case "version":
			if value != "1.0" {
				return false
			}
		case "encoding":
			if !strings.EqualFold(value, "utf-8") {
				return false
			}
		case "standalone":
			if value != "yes" && value != "no" {
				return false
			}
		}
		seen = k + 1
		s = s[eq+2+end+1:]
		if s != "" && !strings.ContainsRune(" \t\r\n", rune(s[0])) {
			return false
		}
	}
}
