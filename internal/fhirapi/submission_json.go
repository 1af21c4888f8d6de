package fhirapi

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// decodeSubmissionFast decodes a submission Bundle in one pass over the
// body, giving what decodeSubmissionStd gives, or false to leave the body
// to it. decodeSubmissionStd has encoding/json check the whole body, copy
// each resource out of it, and check and decode each resource again: the
// Binary's data, the whole document, was scanned five times. Here the
// Bundle, its entries and the Binaries are read by hand, the Binary's
// data once, and left in the body for the base64 decoding; only the List
// and the DocumentReferences, a few hundred bytes each, are decoded by
// encoding/json, from the body's bytes.
//
// It takes a body only when it can give the same result: it reads the
// JSON grammar exactly, checks with encoding/json every value it does not
// read itself, and matches keys to fields as encoding/json does (without
// regard to case; unknown keys ignored). Anything else, which is never
// what a client's Bundle holds, goes to decodeSubmissionStd: an error
// of any kind, a field given twice, a null, a resource with other than
// one resourceType, an entry or resource that is not an object. So every
// refusal keeps its wording, and FuzzDecodeSubmission holds both to the
// decoding as it was.
func decodeSubmissionFast(body []byte) ([]entry, bool) {
	d := fastJSON{data: body}
	d.space()
	var rt, typ string
	var seen uint
	ok := d.object(func(key []byte) bool {
		f := fieldIndex(key, bundleFields)
		if f >= 0 {
			if seen&(1<<f) != 0 {
				return false
			}
			seen |= 1 << f
		}
		switch f {
		case 0:
			return d.str(&rt)
		case 1:
			return d.str(&typ)
		case 2:
			return d.array(d.entry)
		}
		return d.skip()
	})
	if d.space(); !ok || d.i != len(body) || seen&(1<<2) == 0 || checkBundle(rt, typ, len(d.entries)) != nil {
		return nil, false
	}
	out := make([]entry, len(d.entries))
	for i, e := range d.entries {
		out[i] = entry{fullURL: e.fullURL, request: e.request}
		if !d.resource(&out[i], e) {
			return nil, false
		}
	}
	return out, true
}

// The fields as encoding/json matches keys to them: the Bundle's
// (rawBundle), an entry's (rawEntry) and a Binary's. No two of a list
// fold to the same key.
var (
	bundleFields = []string{"resourceType", "type", "entry"}
	entryFields  = []string{"fullUrl", "resource", "request"}
	binaryFields = []string{"resourceType", "id", "meta", "contentType", "data"} // the first is every resource's
)

// fieldIndex is the field of fields a key decodes into, -1 for none:
// encoding/json takes the field of the same name, or else the one whose
// name equals the key without regard to case (bytes.EqualFold).
func fieldIndex(key []byte, fields []string) int {
	for i, f := range fields {
		if bytes.EqualFold(key, []byte(f)) {
			return i
		}
	}
	return -1
}

// maxSkipDepth bounds the nesting of a value the scan skips: deeper ones
// go to encoding/json, whose own bound counts from the body's top.
const maxSkipDepth = 512

// fastJSON is the state of decodeSubmissionFast.
type fastJSON struct {
	data    []byte
	i       int
	entries []fastEntry
	members []member // the top-level members of the entries' resources
}

// fastEntry is a Bundle entry as read: its resource as the range of the
// body it spans and its top-level members, data[start:end] and
// members[first:last].
type fastEntry struct {
	fullURL     string
	request     *BundleRequest
	start, end  int
	first, last int
	resource    bool
}

// member is a member of a resource: the field of binaryFields its key
// matches (-1 for none) and its value, data[start:end]; simple when the
// value is a string whose bytes between the quotes are its value.
type member struct {
	field      int
	start, end int
	simple     bool
}

// space skips white space as JSON defines it.
func (d *fastJSON) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// Classes of bytes in a JSON string.
const (
	strPlain = iota
	strQuote
	strEscape
	strControl // not allowed unescaped
	strHigh    // part of a multi-byte UTF-8 sequence, or not UTF-8
)

var strClass = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = strControl
	}
	t['"'], t['\\'] = strQuote, strEscape
	for c := 0x80; c < 0x100; c++ {
		t[c] = strHigh
	}
	return t
}()

// scanString reads the string at d.i and returns where it ends. simple
// says the bytes between its quotes are its value as encoding/json reads
// it: no escapes, and valid UTF-8 (encoding/json replaces bytes that are
// not). A string with escapes is left for encoding/json to read and
// check; one with a control byte is not JSON.
func (d *fastJSON) scanString() (end int, simple, ok bool) {
	start := d.i
	simple, ascii := true, true
	for i := start + 1; i < len(d.data); i++ {
		switch strClass[d.data[i]] {
		case strPlain:
		case strQuote:
			d.i = i + 1
			if !ascii && simple {
				simple = utf8.Valid(d.data[start+1 : i])
			}
			return d.i, simple, true
		case strEscape:
			simple = false
			i++ // the escaped byte, which cannot end the string
		case strControl:
			return 0, false, false
		case strHigh:
			ascii = false
		}
	}
	return 0, false, false
}

// value finds the end of the value at d.i, without checking it: the
// caller checks it, or decodes it, with encoding/json.
func (d *fastJSON) value() (start, end int, simple, ok bool) {
	start = d.i
	if d.i >= len(d.data) {
		return start, 0, false, false
	}
	switch d.data[d.i] {
	case '"':
		end, simple, ok = d.scanString()
		return start, end, simple, ok
	case '{', '[':
		depth := 0
		for d.i < len(d.data) {
			switch d.data[d.i] {
			case '"':
				if _, _, ok := d.scanString(); !ok {
					return start, 0, false, false
				}
				continue
			case '{', '[':
				if depth++; depth > maxSkipDepth {
					return start, 0, false, false
				}
			case '}', ']':
				if depth--; depth == 0 {
					d.i++
					return start, d.i, false, true
				}
			}
			d.i++
		}
		return start, 0, false, false
	}
	// A number, true, false or null.
	for d.i < len(d.data) {
		switch c := d.data[d.i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '+', c == '.', c == 'E':
			d.i++
			continue
		}
		break
	}
	return start, d.i, false, d.i > start
}

// skip skips a value no field takes, which encoding/json checks.
func (d *fastJSON) skip() bool {
	start, end, _, ok := d.value()
	return ok && json.Valid(d.data[start:end])
}

// str decodes a string into s. Only a string is taken: a null, which
// encoding/json would let pass, leaves the body to it.
func (d *fastJSON) str(s *string) bool {
	start, end, simple, ok := d.value()
	if !ok || d.data[start] != '"' {
		return false
	}
	if simple {
		*s = string(d.data[start+1 : end-1])
		return true
	}
	return json.Unmarshal(d.data[start:end], s) == nil
}

// key reads an object's key.
func (d *fastJSON) key() ([]byte, bool) {
	if d.i >= len(d.data) || d.data[d.i] != '"' {
		return nil, false
	}
	start := d.i
	end, simple, ok := d.scanString()
	if !ok {
		return nil, false
	}
	if simple {
		return d.data[start+1 : end-1], true
	}
	var k string
	if json.Unmarshal(d.data[start:end], &k) != nil {
		return nil, false
	}
	return []byte(k), true
}

// object reads the object at d.i, calling member for each key with d.i
// at its value, which member reads.
func (d *fastJSON) object(member func(key []byte) bool) bool {
	if d.i >= len(d.data) || d.data[d.i] != '{' {
		return false
	}
	d.i++
	d.space()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return true
	}
	for {
		key, ok := d.key()
		if !ok {
			return false
		}
		if d.space(); d.i >= len(d.data) || d.data[d.i] != ':' {
			return false
		}
		d.i++
		d.space()
		if !member(key) {
			return false
		}
		if d.space(); d.i >= len(d.data) {
			return false
		}
		switch d.data[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// array reads the array at d.i, calling elem for each element with d.i
// at it.
func (d *fastJSON) array(elem func() bool) bool {
	if d.i >= len(d.data) || d.data[d.i] != '[' {
		return false
	}
	d.i++
	d.space()
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.space(); d.i >= len(d.data) {
			return false
		}
		switch d.data[d.i] {
		case ',':
			d.i++
			d.space()
		case ']':
			d.i++
			return true
		default:
			return false
		}
	}
}

// entry reads an element of Bundle.entry.
func (d *fastJSON) entry() bool {
	var e fastEntry
	var seen uint
	ok := d.object(func(key []byte) bool {
		f := fieldIndex(key, entryFields)
		if f >= 0 {
			if seen&(1<<f) != 0 {
				return false
			}
			seen |= 1 << f
		}
		switch f {
		case 0:
			return d.str(&e.fullURL)
		case 1:
			e.resource = true
			return d.resourceMembers(&e)
		case 2:
			start, end, _, ok := d.value()
			return ok && d.data[start] == '{' && json.Unmarshal(d.data[start:end], &e.request) == nil
		}
		return d.skip()
	})
	d.entries = append(d.entries, e)
	return ok && e.resource
}

// resourceMembers reads the range of a resource and its top-level members,
// which are decoded once its type is known.
func (d *fastJSON) resourceMembers(e *fastEntry) bool {
	e.start, e.first = d.i, len(d.members)
	ok := d.object(func(key []byte) bool {
		start, end, simple, ok := d.value()
		d.members = append(d.members, member{field: fieldIndex(key, binaryFields), start: start, end: end, simple: simple})
		return ok
	})
	e.end, e.last = d.i, len(d.members)
	return ok
}

// resource decodes the resource of an entry by its type into out.
func (d *fastJSON) resource(out *entry, e fastEntry) bool {
	raw := d.data[e.start:e.end]
	ms := d.members[e.first:e.last]
	// The type: one resourceType, a string. (Two would be refused, and
	// are left to decodeSubmissionStd to word it.)
	var typ *member
	for k := range ms {
		if ms[k].field == 0 {
			if typ != nil {
				return false
			}
			typ = &ms[k]
		}
	}
	if typ == nil || !d.memberStr(*typ, &out.typ) {
		return false
	}
	switch out.typ {
	case "List":
		out.list = &List{}
		return json.Unmarshal(raw, out.list) == nil && out.list.ResourceType == out.typ
	case "DocumentReference":
		out.ref = &DocumentReference{}
		return json.Unmarshal(raw, out.ref) == nil && out.ref.ResourceType == out.typ
	case "Binary":
		return d.binary(out, ms)
	case "AuditEvent", "Provenance", "Parameters":
		out.raw = raw // read strictly later, as decodeSubmissionStd leaves them
	}
	return json.Valid(raw)
}

// memberStr decodes a member that is a string into s.
func (d *fastJSON) memberStr(m member, s *string) bool {
	if d.data[m.start] != '"' {
		return false
	}
	if m.simple {
		*s = string(d.data[m.start+1 : m.end-1])
		return true
	}
	return json.Unmarshal(d.data[m.start:m.end], s) == nil
}

// binary decodes a Binary from its members. Its data stays in the body,
// for checkSubmission to decode the base64 from.
func (d *fastJSON) binary(out *entry, ms []member) bool {
	b := &Binary{ResourceType: out.typ}
	var seen uint
	for _, m := range ms {
		if m.field >= 0 {
			if seen&(1<<m.field) != 0 {
				return false
			}
			seen |= 1 << m.field
		}
		var ok bool
		switch m.field {
		case 0:
			ok = true // the type, read already
		case 1:
			ok = d.memberStr(m, &b.ID)
		case 2:
			ok = d.data[m.start] == '{' && json.Unmarshal(d.data[m.start:m.end], &b.Meta) == nil
		case 3:
			ok = d.memberStr(m, &b.ContentType)
		case 4:
			if m.simple {
				out.b64 = d.data[m.start+1 : m.end-1]
				ok = true
			} else {
				var s string
				ok = d.memberStr(m, &s)
				out.b64 = []byte(s)
			}
		default:
			ok = json.Valid(d.data[m.start:m.end])
		}
		if !ok {
			return false
		}
	}
	out.bin = b
	return true
}
