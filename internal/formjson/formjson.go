// Package formjson reads a document's structured form (hl7fi:json) once,
// into a tape of its values, for the steps of a check that each decoded
// it again with encoding/json: binding the stated client and organiser to
// the header (package archive) and reading a client relationship (package
// relationship). Each of them decodes from the tape as encoding/json would
// into its own types, and leaves to encoding/json, as before, whatever it
// is not sure of: Parse takes only valid UTF-8 JSON, and a step gives up
// on a field given twice, so that every result and refusal stays as it was.
package formjson

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Kind is the kind of a JSON value.
type Kind uint8

// The kinds of values.
const (
	Null Kind = iota + 1
	False
	True
	Number
	String
	Array
	Object
)

// Node is one value of a tape. Its children follow it: an array's
// elements, an object's keys (String nodes) each followed by its value.
type Node struct {
	Kind Kind
	// Simple: a String whose bytes between the quotes are its value (no
	// escapes).
	Simple bool
	// Start and End: a String's bytes between its quotes, a Number's bytes.
	Start, End int32
	// Next is the index of the node after this one and its children.
	Next int32
}

// Tape is a JSON text read into nodes in document order; Nodes[0] is its
// value.
type Tape struct {
	Data  []byte
	Nodes []Node
}

// maxDepth bounds the nesting Parse reads; a deeper text is left to
// encoding/json, whose own bound (10,000) is higher.
const maxDepth = 512

// Parse reads data, or returns false for anything that is not JSON or
// not valid UTF-8, or is nested deeper than maxDepth: a caller leaves
// such a text to encoding/json. What Parse accepts is a valid JSON text
// (json.Valid), so a tape's strings and numbers need no further checks.
func Parse(data []byte) (*Tape, bool) {
	if len(data) >= 1<<30 || !utf8.Valid(data) {
		return nil, false
	}
	p := parser{data: data, nodes: make([]Node, 0, 16+len(data)/16)}
	p.space()
	if !p.value(0) {
		return nil, false
	}
	if p.space(); p.i != len(data) {
		return nil, false
	}
	return &Tape{Data: data, Nodes: p.nodes}, true
}

type parser struct {
	data  []byte
	i     int
	nodes []Node
}

func (p *parser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value reads the value at p.i, which is not white space.
func (p *parser) value(depth int) bool {
	if p.i >= len(p.data) {
		return false
	}
	switch c := p.data[p.i]; c {
	case '{', '[':
		if depth >= maxDepth {
			return false
		}
		n := len(p.nodes)
		kind := Array
		if c == '{' {
			kind = Object
		}
		p.nodes = append(p.nodes, Node{Kind: kind})
		p.i++
		p.space()
		closing := byte(']')
		if kind == Object {
			closing = '}'
		}
		if p.i < len(p.data) && p.data[p.i] == closing {
			p.i++
			p.nodes[n].Next = int32(len(p.nodes))
			return true
		}
		for {
			if kind == Object {
				if p.i >= len(p.data) || p.data[p.i] != '"' || !p.str() {
					return false
				}
				if p.space(); p.i >= len(p.data) || p.data[p.i] != ':' {
					return false
				}
				p.i++
				p.space()
			}
			if !p.value(depth + 1) {
				return false
			}
			if p.space(); p.i >= len(p.data) {
				return false
			}
			switch p.data[p.i] {
			case ',':
				p.i++
				p.space()
				continue
			case closing:
				p.i++
				p.nodes[n].Next = int32(len(p.nodes))
				return true
			}
			return false
		}
	case '"':
		return p.str()
	case 't':
		return p.literal("true", True)
	case 'f':
		return p.literal("false", False)
	case 'n':
		return p.literal("null", Null)
	}
	return p.number()
}

func (p *parser) literal(word string, k Kind) bool {
	if !bytes.HasPrefix(p.data[p.i:], []byte(word)) {
		return false
	}
	p.nodes = append(p.nodes, Node{Kind: k, Start: int32(p.i), End: int32(p.i + len(word)), Next: int32(len(p.nodes) + 1)})
	p.i += len(word)
	return true
}

// str reads the string at p.i (a quote), checking its escapes.
func (p *parser) str() bool {
	start := p.i + 1
	simple := true
	for i := start; i < len(p.data); i++ {
		c := p.data[i]
		switch {
		case c == '"':
			p.nodes = append(p.nodes, Node{Kind: String, Simple: simple, Start: int32(start), End: int32(i), Next: int32(len(p.nodes) + 1)})
			p.i = i + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			simple = false
			if i+1 >= len(p.data) {
				return false
			}
			i++
			switch p.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(p.data) {
					return false
				}
				for _, h := range p.data[i+1 : i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				i += 4
			default:
				return false
			}
		}
	}
	return false
}

// number reads a number as JSON writes one:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() bool {
	d, i := p.data, p.i
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	p.nodes = append(p.nodes, Node{Kind: Number, Start: int32(p.i), End: int32(i), Next: int32(len(p.nodes) + 1)})
	p.i = i
	return true
}

// Result is what decoding a value into a Go type would come to.
type Result uint8

// The results, in the order And keeps the worst of.
const (
	OK     Result = iota
	Failed        // encoding/json would return an error
	Unsure        // leave it to encoding/json
)

// And is the result of two decodings in one value.
func (r Result) And(o Result) Result { return max(r, o) }

// Kind returns the kind of node i.
func (t *Tape) Kind(i int) Kind { return t.Nodes[i].Kind }

// Next returns the index after node i and its children.
func (t *Tape) Next(i int) int { return int(t.Nodes[i].Next) }

// str returns the value of String node i.
func (t *Tape) str(i int) (string, bool) {
	n := t.Nodes[i]
	if n.Simple {
		return string(t.Data[n.Start:n.End]), true
	}
	var s string
	if json.Unmarshal(t.Data[n.Start-1:n.End+1], &s) != nil {
		return "", false
	}
	return s, true
}

// keyBytes is key without a copy for a simple key.
func (t *Tape) keyBytes(i int) ([]byte, bool) {
	n := t.Nodes[i]
	if n.Simple {
		return t.Data[n.Start:n.End], true
	}
	s, ok := t.str(i)
	return []byte(s), ok
}

// Fields matches the members of object node i to the fields of a Go
// struct as encoding/json does (the field of the key's name, else the one
// whose name equals it without regard to case, bytes.EqualFold; unknown
// keys ignored), setting vals[f] to the value node of field f and to -1
// for a field not given. A field given twice is Unsure: encoding/json
// would merge or replace the values. No two names may fold alike.
func (t *Tape) Fields(i int, names []string, vals []int) Result {
	for f := range vals {
		vals[f] = -1
	}
	for k := i + 1; k < t.Next(i); {
		v := k + 1
		key, ok := t.keyBytes(k)
		if !ok {
			return Unsure
		}
		for f, name := range names {
			if bytes.EqualFold(key, []byte(name)) {
				if vals[f] >= 0 {
					return Unsure
				}
				vals[f] = v
				break
			}
		}
		k = t.Next(v)
	}
	return OK
}

// Members calls fn with the key and the value node of each member of
// object node i, in order; it stops at the first result other than OK.
// The key is a copy only when it has escapes.
func (t *Tape) Members(i int, fn func(key []byte, v int) Result) Result {
	for k := i + 1; k < t.Next(i); {
		v := k + 1
		key, ok := t.keyBytes(k)
		if !ok {
			return Unsure
		}
		if r := fn(key, v); r != OK {
			return r
		}
		k = t.Next(v)
	}
	return OK
}

// Elements calls fn with each element of array node i, in order; it
// stops at the first result other than OK.
func (t *Tape) Elements(i int, fn func(v int) Result) Result {
	for k := i + 1; k < t.Next(i); k = t.Next(k) {
		if r := fn(k); r != OK {
			return r
		}
	}
	return OK
}

// String decodes node i (-1: not given) into a string field: a string is
// its value; null or nothing leaves s as it is; anything else is Failed.
func (t *Tape) String(i int, s *string) Result {
	if i < 0 {
		return OK
	}
	switch t.Nodes[i].Kind {
	case Null:
		return OK
	case String:
		v, ok := t.str(i)
		if !ok {
			return Unsure
		}
		*s = v
		return OK
	}
	return Failed
}

// IsObject says how node i (-1: not given) decodes into a struct or a
// pointer to one: present reports an object to decode; null or nothing
// is OK with nothing to decode (a pointer stays nil); anything else is
// Failed.
func (t *Tape) IsObject(i int) (present bool, r Result) {
	if i < 0 {
		return false, OK
	}
	switch t.Nodes[i].Kind {
	case Null:
		return false, OK
	case Object:
		return true, OK
	}
	return false, Failed
}

// IsArray is IsObject for a slice.
func (t *Tape) IsArray(i int) (present bool, r Result) {
	if i < 0 {
		return false, OK
	}
	switch t.Nodes[i].Kind {
	case Null:
		return false, OK
	case Array:
		return true, OK
	}
	return false, Failed
}

// Of reports whether t is the tape of data itself (not of a copy or of
// other bytes).
func (t *Tape) Of(data []byte) bool {
	return len(t.Data) == len(data) && (len(data) == 0 || &t.Data[0] == &data[0])
}
