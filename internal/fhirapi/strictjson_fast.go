package fhirapi

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// shapeScan is scanJSON's one pass over the bytes: it checks the JSON
// grammar exactly as encoding/json reads it and the shape rules of
// scanJSONStd, without making a string of anything. It runs on the body
// as it arrives, a read at a time, so that a fault stops the reading as
// early as scanJSONStd stops it.
//
// It only says whether it is sure the body passes. It gives up, leaving
// the body to scanJSONStd, on any fault, and on what it does not read
// itself: a key with an escape or a byte beyond ASCII (which fold as
// encoding/json folds them, K and the Kelvin sign alike), a string that
// is not UTF-8. FuzzScanJSON holds the two to the same results.
type shapeScan struct {
	lim   shapeLimits
	i     int // the next byte to read: the start of a token not yet read whole
	state uint8
	stack []shapeFrame
	keys  []span // the keys of the open objects, each object's from its frame's keys
	str   int    // within a string not yet read whole: where to go on; else 0
	num   int    // so within a number
	esc   bool   // the string being read has an escape
	high  bool   // or a byte beyond ASCII
}

// What the scan expects next.
const (
	expectValue        = iota // a value: at the top, after ':', after ',' in an array
	expectValueOrClose        // after '['
	expectKeyOrClose          // after '{'
	expectKey                 // after ',' in an object
	expectColon               // after a key
	expectNext                // after a member's value: ',' or the close
	expectEnd                 // after the top value: white space only
)

// shapeFrame is an open object or array.
type shapeFrame struct {
	array   bool
	entries bool                // array: it is Bundle.entry
	n       int                 // keys, or elements begun
	keys    int                 // object: where its keys begin in shapeScan.keys
	key     span                // object: the last key
	folded  map[string]struct{} // object: its keys folded, once it has many
}

type span struct{ start, end int }

// foldedKeysAfter is how many keys an object has before its keys are
// looked up in a map, not compared one by one.
const foldedKeysAfter = 16

// done says the body read so far is one whole value and white space.
func (s *shapeScan) done() bool { return s.state == expectEnd && s.str == 0 }

// scan reads b, the body so far, from where the last call stopped. eof
// says b is all of it. It returns false on a fault or on what it leaves
// to scanJSONStd; true when it has read all of b but a token b may end
// in the middle of.
func (s *shapeScan) scan(b []byte, eof bool) bool {
	for {
		if s.str == 0 {
			for s.i < len(b) && isSpace(b[s.i]) {
				s.i++
			}
		}
		if s.i >= len(b) {
			return true
		}
		c := b[s.i]
		switch s.state {
		case expectEnd:
			return false
		case expectColon:
			if c != ':' {
				return false
			}
			s.i++
			s.state = expectValue
		case expectNext:
			top := &s.stack[len(s.stack)-1]
			switch {
			case c == ',':
				s.i++
				s.state = expectKey
				if top.array {
					s.state = expectValue
				}
			case c == ']' && top.array, c == '}' && !top.array:
				s.i++
				s.pop()
			default:
				return false
			}
		case expectKeyOrClose, expectKey:
			if c == '}' && s.state == expectKeyOrClose {
				s.i++
				s.pop()
				continue
			}
			if c != '"' {
				return false
			}
			end, ok, more := s.string(b, eof)
			if !ok || more {
				return ok
			}
			if s.esc || s.high || !s.key(b, span{s.i + 1, end - 1}) {
				return false
			}
			s.i = end
			s.state = expectColon
		case expectValue, expectValueOrClose:
			if c == ']' && s.state == expectValueOrClose {
				s.i++
				s.pop()
				continue
			}
			var end int
			cut := false // b ends before the value is known whole
			switch c {
			case '{', '[':
				if !s.element() || len(s.stack) >= s.lim.depth {
					return false
				}
				f := shapeFrame{array: c == '[', keys: len(s.keys)}
				// Bundle.entry is the array that is the top object's
				// entry (or Entry: the keys here are ASCII).
				if n := len(s.stack); f.array && s.lim.root == "Bundle" && n == 1 && !s.stack[0].array {
					k := s.stack[0].key
					f.entries = bytes.EqualFold(b[k.start:k.end], []byte("entry"))
				}
				s.stack = append(s.stack, f)
				s.i++
				s.state = expectKeyOrClose
				if f.array {
					s.state = expectValueOrClose
				}
				continue
			case '"':
				var ok, more bool
				end, ok, more = s.string(b, eof)
				if !ok || more {
					return ok
				}
				if s.high && !utf8.Valid(b[s.i+1:end-1]) {
					return false // encoding/json would replace bytes; not read here
				}
			case 't':
				end, cut = s.literal(b, "true")
			case 'f':
				end, cut = s.literal(b, "false")
			case 'n':
				end, cut = s.literal(b, "null")
			default:
				// A number: the run of the bytes numbers are made of,
				// which must be one number. (Where one ends sooner, the
				// byte after it is refused anyway: none may follow a
				// value.) Where b ends in it, the next call goes on
				// from there, so a long one trickling in is read once.
				j := max(s.i, s.num)
				for j < len(b) && numClass[b[j]] {
					j++
				}
				if j == len(b) && !eof {
					s.num = j
					return true
				}
				s.num = 0
				if end, _ = number(b[:j], s.i); end != j {
					return false
				}
			}
			if cut && !eof {
				return true // the literal may go on: read it whole again
			}
			if cut || end < 0 || !s.element() {
				return false
			}
			s.i = end
			s.endValue()
		}
	}
}

// numClass are the bytes of numbers.
var numClass = func() (t [256]bool) {
	for _, c := range []byte("0123456789+-.eE") {
		t[c] = true
	}
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// element counts a value begun in an array against the limits.
func (s *shapeScan) element() bool {
	n := len(s.stack)
	if n == 0 || !s.stack[n-1].array {
		return true
	}
	top := &s.stack[n-1]
	top.n++
	if top.entries {
		return top.n <= s.lim.entries
	}
	return top.n <= s.lim.members
}

// endValue moves on after a value.
func (s *shapeScan) endValue() {
	s.state = expectNext
	if len(s.stack) == 0 {
		s.state = expectEnd
	}
}

// pop closes the innermost object or array.
func (s *shapeScan) pop() {
	f := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	if !f.array {
		s.keys = s.keys[:f.keys]
	}
	s.endValue()
}

// key takes k, an ASCII key without escapes, as the next key of the
// innermost object: false if the object has it already (folded as
// foldKey folds ASCII) or has as many keys as allowed.
func (s *shapeScan) key(b []byte, k span) bool {
	top := &s.stack[len(s.stack)-1]
	if top.n >= s.lim.members {
		return false
	}
	kb := b[k.start:k.end]
	if top.folded != nil {
		fk := upperASCII(kb)
		if _, dup := top.folded[fk]; dup {
			return false
		}
		top.folded[fk] = struct{}{}
	} else {
		for _, o := range s.keys[top.keys:] {
			if bytes.EqualFold(b[o.start:o.end], kb) {
				return false
			}
		}
		if top.n+1 >= foldedKeysAfter {
			// Compared one by one, an object of a thousand keys would
			// cost half a million comparisons.
			top.folded = make(map[string]struct{}, 2*foldedKeysAfter)
			for _, o := range s.keys[top.keys:] {
				top.folded[upperASCII(b[o.start:o.end])] = struct{}{}
			}
			top.folded[upperASCII(kb)] = struct{}{}
			s.keys = s.keys[:top.keys]
		}
	}
	if top.folded == nil {
		s.keys = append(s.keys, k)
	}
	top.n++
	top.key = k
	return true
}

// upperASCII is foldKey of an ASCII key.
func upperASCII(k []byte) string {
	u := make([]byte, len(k))
	for i, c := range k {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		u[i] = c
	}
	return string(u)
}

// string reads the string at s.i, going on from s.str if an earlier call
// left it unfinished, and returns where it ends. more says b ends within
// it (s.str then says where to go on); ok false, that it is not JSON.
// s.esc and s.high say what it holds.
func (s *shapeScan) string(b []byte, eof bool) (end int, ok, more bool) {
	j := s.str
	if j == 0 {
		j = s.i + 1
		s.esc, s.high = false, false
	}
	for {
		// Eight bytes at a time while none of them is a quote, a
		// backslash, a control byte or beyond ASCII: the Binary's data,
		// most of a submission, is one such run.
		for j+8 <= len(b) && plain8(binary.LittleEndian.Uint64(b[j:])) {
			j += 8
		}
		for j < len(b) && strClass[b[j]] == strPlain {
			j++
		}
		if j >= len(b) {
			break
		}
		switch strClass[b[j]] {
		case strQuote:
			s.str = 0
			return j + 1, true, false
		case strHigh:
			s.high = true
			j++
			continue
		case strControl:
			return 0, false, false
		}
		// An escape, read whole or not at all.
		s.esc = true
		if j+1 >= len(b) {
			break
		}
		switch b[j+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			j += 2
			continue
		case 'u':
			if j+6 > len(b) {
				break
			}
			for _, h := range b[j+2 : j+6] {
				if !isHex(h) {
					return 0, false, false
				}
			}
			j += 6
			continue
		default:
			return 0, false, false
		}
		break
	}
	if eof {
		return 0, false, false
	}
	s.str = j
	return 0, true, true
}

// plain8 says that none of the eight bytes of x is special in a string:
// a quote, a backslash, below 0x20 or above 0x7f. (The tests of a zero
// byte and of one below n are exact when no byte is above 0x7f.)
func plain8(x uint64) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	below := func(v uint64, n uint64) uint64 { return (v - n*ones) & highs }
	special := x&highs | below(x, 0x20) | below(x^('"'*ones), 1) | below(x^('\\'*ones), 1)
	return special == 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// literal returns the end of lit at s.i, -1 if it is not there; cut if b
// ends within it.
func (s *shapeScan) literal(b []byte, lit string) (end int, cut bool) {
	rest := b[s.i:]
	if len(rest) < len(lit) {
		return -1, string(rest) == lit[:len(rest)]
	}
	if string(rest[:len(lit)]) != lit {
		return -1, false
	}
	return s.i + len(lit), false
}

// number returns the end of the JSON number at i, -1 if there is none;
// cut if b ends where a digit must follow. A number that ends at the end
// of b may also be the beginning of a longer one.
func number(b []byte, i int) (end int, cut bool) {
	digits := func() int {
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1, true
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		digits()
	default:
		return -1, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return -1, i >= len(b)
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return -1, i >= len(b)
		}
	}
	return i, false
}

// errReader gives its error, as a failed reader goes on doing.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
