package fhirapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rule codes of the shape of a request body.
const (
	RuleTooManyDocuments = "BODY_TOO_MANY_DOCUMENTS"
	RuleDuplicateKey     = "BODY_DUPLICATE_KEY"
	RuleTooDeep          = "BODY_TOO_DEEP"
	RuleTooManyMembers   = "BODY_TOO_MANY_MEMBERS"
	RuleNotJSON          = "BODY_NOT_JSON"
)

// shapeLimits bound the shape of a submission, so that what decoding it
// allocates is bounded by them and not by the body's size.
type shapeLimits struct {
	root    string // the resource the body is, for the places in messages
	size    int64  // the body's declared length, when known: a hint only
	entries int    // elements of Bundle.entry
	depth   int    // nesting of objects and arrays
	members int    // keys of any object, elements of any other array
}

// Defaults of the shape limits. No FHIR resource of a submission nests
// deeper than a dozen levels or has more than a few dozen elements; the
// bounds leave room for extensions.
const (
	defaultMaxDepth   = 64
	defaultMaxMembers = 1000
)

// frame is an open object or array of the scan.
type frame struct {
	array     bool
	entries   bool                // array: it is Bundle.entry
	key       string              // object: the member being read
	expectKey bool                // object: the next token is a key or '}'
	index     int                 // array: elements begun
	keys      map[string]struct{} // object: the keys seen, folded
}

// scanJSON reads one JSON value from r, checks its shape and returns the
// bytes read. It refuses, as soon as it sees it, a key that appears twice
// in one object (compared as encoding/json matches keys to fields:
// without regard to case, so neither "data" twice nor "data" and "Data"
// pass: a decoder would keep one of them silently), nesting deeper than
// the limit, an object or array with more members than the limit, and a
// Bundle.entry array longer than its limit. It stops reading at the first
// fault, so a body of a million tiny entries costs what its first few
// hundred do. Errors are *badRequest naming the place in the body, or the
// reader's error (such as *http.MaxBytesError).
//
// It reads the body in one pass over its bytes (shapeScan) and takes it
// when that pass is sure the body passes; anything else, a fault of any
// kind above all, is left to scanJSONStd, which words the refusal.
func scanJSON(r io.Reader, lim shapeLimits) ([]byte, error) {
	// Room for the declared length up to 1 MiB, and for the read that
	// finds the end: a larger declaration is believed only as the bytes
	// arrive.
	buf := make([]byte, 0, min(max(lim.size, 0), 1<<20)+512)
	// Room for the nesting and the open objects' keys of a FHIR
	// resource, so that they are allocated once.
	s := shapeScan{lim: lim, stack: make([]shapeFrame, 0, 16), keys: make([]span, 0, 64)}
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		// Anything but a body that passes goes to scanJSONStd, given the
		// bytes read and what the reader gives after them: its failure
		// (a body over the limit, a client gone), the end, or the rest.
		switch {
		case err != nil && err != io.EOF:
			return scanJSONStd(io.MultiReader(bytes.NewReader(buf), errReader{err}), lim)
		case err == io.EOF:
			if s.scan(buf, true) && s.done() {
				return buf, nil
			}
			return scanJSONStd(bytes.NewReader(buf), lim)
		case !s.scan(buf, false):
			return scanJSONStd(io.MultiReader(bytes.NewReader(buf), r), lim)
		}
	}
}

// scanJSONStd is scanJSON as encoding/json's tokens read the body: slow
// (every string becomes a Go string, the Binary's data too) but the one
// that words every refusal, so it stays the fallback of scanJSON.
func scanJSONStd(r io.Reader, lim shapeLimits) ([]byte, error) {
	var buf bytes.Buffer
	// Room for the declared length up to 1 MiB: a larger declaration is
	// believed only as the bytes arrive.
	buf.Grow(int(min(max(lim.size, 0), 1<<20)))
	dec := json.NewDecoder(io.TeeReader(r, &buf))
	dec.UseNumber() // only the shape matters here; numbers are checked by the decoding
	var stack []frame
	begun := false
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) && !begun {
				return nil, shapeError(RuleNotJSON, lim.root, "the body is empty")
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, readError(err, lim.root)
		}
		begun = true
		// A key of an object.
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].expectKey {
			top := &stack[n-1]
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:n-1]
				endValue(stack)
			} else {
				key, _ := tok.(string) // the decoder gives only strings here
				fk := foldKey(key)
				if _, dup := top.keys[fk]; dup {
					top.key = key
					return nil, shapeError(RuleDuplicateKey, path(lim.root, stack), "the key %s appears twice in one object (keys are compared without regard to case); the decoding would silently keep one of them", strconv.Quote(clip(key)))
				}
				if len(top.keys) >= lim.members {
					top.key = ""
					return nil, shapeError(RuleTooManyMembers, path(lim.root, stack), "an object has at most %d keys", lim.members)
				}
				top.keys[fk] = struct{}{}
				top.key, top.expectKey = key, false
			}
		} else if d, ok := tok.(json.Delim); ok && d == ']' {
			stack = stack[:n-1]
			endValue(stack)
		} else {
			// A value begins.
			if n > 0 && stack[n-1].array {
				top := &stack[n-1]
				top.index++
				if top.entries && top.index > lim.entries {
					return nil, shapeError(RuleTooManyDocuments, "Bundle.entry", "a submission has at most %d entries: the List and a DocumentReference, a Binary and a PATCH of the version it replaces for each of at most %d documents", lim.entries, (lim.entries-1)/3)
				} else if !top.entries && top.index > lim.members {
					return nil, shapeError(RuleTooManyMembers, path(lim.root, stack), "an array has at most %d elements", lim.members)
				}
			}
			switch d {
			case '{', '[':
				if n >= lim.depth {
					return nil, shapeError(RuleTooDeep, path(lim.root, stack), "the body nests more than %d levels deep", lim.depth)
				}
				f := frame{array: d == '['}
				// Bundle.entry is the array that is the top object's entry
				// (which the decoding also takes "Entry" for).
				f.entries = f.array && lim.root == "Bundle" && n == 1 && !stack[0].array && foldKey(stack[0].key) == "ENTRY"
				if !f.array {
					f.expectKey, f.keys = true, map[string]struct{}{}
				}
				stack = append(stack, f)
			default:
				endValue(stack)
			}
		}
		if len(stack) == 0 {
			break
		}
	}
	// Nothing but white space may follow the value.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			return nil, shapeError(RuleNotJSON, lim.root, "the body holds more than one JSON value")
		}
		return nil, readError(err, lim.root)
	}
	return buf.Bytes(), nil
}

// endValue marks the end of a member's value in the enclosing object.
func endValue(stack []frame) {
	if n := len(stack); n > 0 && !stack[n-1].array {
		stack[n-1].expectKey = true
	}
}

// readError names a syntax error; the reader's own failures (a body over
// the limit, a client gone) are passed on.
func readError(err error, root string) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return shapeError(RuleNotJSON, root, "the body is not JSON: %v (at byte %d)", syn, syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return shapeError(RuleNotJSON, root, "the body is not JSON: it ends in the middle of a value")
	}
	return err
}

func shapeError(rule, expr, format string, args ...any) *badRequest {
	status := http.StatusBadRequest
	code := "structure"
	if rule == RuleTooManyDocuments || rule == RuleTooManyMembers || rule == RuleTooDeep {
		status, code = http.StatusRequestEntityTooLarge, "too-long"
	}
	return &badRequest{status: status, code: code, rule: rule, expr: expr, msg: fmt.Sprintf(format, args...)}
}

// path is the FHIRPath-like place of the member being read, for messages.
func path(root string, stack []frame) string {
	var b strings.Builder
	b.WriteString(root)
	for _, f := range stack {
		if f.array {
			fmt.Fprintf(&b, "[%d]", f.index-1)
			continue
		}
		if f.key == "" && f.expectKey {
			continue
		}
		if isName(f.key) {
			b.WriteString("." + f.key)
		} else {
			b.WriteString("[" + strconv.Quote(clip(f.key)) + "]")
		}
	}
	return b.String()
}

func isName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// clip shortens a key for a message.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	i := 64
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// foldKey folds a key as encoding/json does when it matches keys to
// struct fields: ASCII upper case, other runes upper(lower(r)), so that
// keys that one decoding would take for the same field fold the same.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
		default:
			r = unicode.ToUpper(unicode.ToLower(r))
		}
		b.WriteRune(r)
	}
	return b.String()
}
