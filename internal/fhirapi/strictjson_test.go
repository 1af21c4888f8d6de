package fhirapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

var testShape = shapeLimits{root: "Bundle", entries: 5, depth: 8, members: 6}

// TestScanJSON: the shape check refuses repeated keys (also those only
// case tells apart, which the decoding takes for one field), deep
// nesting, long arrays and objects, too many entries and anything after
// the value, naming the place and the rule; it passes the body through
// unchanged.
func TestScanJSON(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		rule, expr string // "" when accepted
	}{
		{"bundle", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"a":1}},{}]}`, "", ""},
		{"scalars", ` {"a":[1,2.5e3,true,false,null,{}],"b":{"c":[]}} `, "", ""},
		{"a top-level scalar", `null`, "", ""},
		{"duplicate top-level key", `{"type":"transaction","type":"batch"}`, RuleDuplicateKey, "Bundle.type"},
		{"duplicate nested key", `{"entry":[{},{"resource":{"content":[{"attachment":{"data":"QQ==","url":"u","data":"Qg=="}}]}}]}`, RuleDuplicateKey, "Bundle.entry[1].resource.content[0].attachment.data"},
		{"keys differing in case", `{"entry":[{"resource":{"data":"QQ==","Data":"Qg=="}}]}`, RuleDuplicateKey, "Bundle.entry[0].resource.Data"},
		{"keys differing in escaping", `{"resourceType":"Bundle","resource\u0054ype":"List"}`, RuleDuplicateKey, "Bundle.resourceType"},
		{"kelvin sign folds to k", `{"kind":1,"` + "\u212a" + `ind":2}`, RuleDuplicateKey, "Bundle[\"\u212aind\"]"},
		{"same key in sibling objects", `{"entry":[{"fullUrl":"a"},{"fullUrl":"b"}]}`, "", ""},
		{"same key at two levels", `{"a":{"a":{"a":1}}}`, "", ""},
		{"too deep", `{"a":[[[[[[[[1]]]]]]]]}`, RuleTooDeep, "Bundle.a[0][0][0][0][0][0][0]"},
		{"just deep enough", `{"a":[[[[[[1]]]]]]}`, "", ""},
		{"too many keys", `{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7}`, RuleTooManyMembers, "Bundle"},
		{"too many elements", `{"x":[1,2,3,4,5,6,7]}`, RuleTooManyMembers, "Bundle.x[6]"},
		{"too many entries", `{"entry":[{},{},{},{},{},{}]}`, RuleTooManyDocuments, "Bundle.entry"},
		{"as many entries as allowed", `{"entry":[{},{},{},{},{}]}`, "", ""},
		{"Entry counts as entry", `{"Entry":[{},{},{},{},{},{}]}`, RuleTooManyDocuments, "Bundle.entry"},
		{"a nested entry array is not Bundle.entry", `{"a":{"entry":[1,2,3,4,5,6]}}`, "", ""},
		{"trailing value", `{} {}`, RuleNotJSON, "Bundle"},
		{"trailing garbage", `{}x`, RuleNotJSON, "Bundle"},
		{"truncated", `{"entry":[{"a":`, RuleNotJSON, "Bundle"},
		{"empty", ``, RuleNotJSON, "Bundle"},
		{"not JSON", `<Bundle/>`, RuleNotJSON, "Bundle"},
	} {
		got, err := scanJSON(strings.NewReader(tt.body), testShape)
		if tt.rule == "" {
			if err != nil || string(got) != tt.body {
				t.Errorf("%s: %v; body passed as %q", tt.name, err, got)
			}
			continue
		}
		var b *badRequest
		if !errors.As(err, &b) || b.rule != tt.rule || b.expr != tt.expr || b.msg == "" {
			t.Errorf("%s: got %#v, want %s at %s", tt.name, err, tt.rule, tt.expr)
		}
	}
}

// TestScanJSONStopsEarly: a body of very many entries is refused after
// reading about as many as the limit allows, not the whole body.
func TestScanJSONStopsEarly(t *testing.T) {
	var body bytes.Buffer
	body.WriteString(`{"resourceType":"Bundle","type":"transaction","entry":[`)
	for i := 0; i < 100000; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`{"fullUrl":"urn:uuid:x","resource":{"resourceType":"Binary"}}`)
	}
	body.WriteString(`]}`)
	r := &countingReader{r: bytes.NewReader(body.Bytes())}
	_, err := scanJSON(r, shapeLimits{root: "Bundle", entries: 401, depth: 64, members: 1000})
	var b *badRequest
	if !errors.As(err, &b) || b.rule != RuleTooManyDocuments {
		t.Fatalf("got %v", err)
	}
	if r.n > 64<<10 {
		t.Errorf("read %d bytes of %d before refusing", r.n, body.Len())
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// FuzzScanJSON: the shape check never panics; what it accepts is one
// valid JSON value, passed on byte for byte, in which no object repeats a
// key; what it refuses it refuses with a rule and a place.
func FuzzScanJSON(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"a":1}}]}`,
		`{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"a":{"b":[{"c":1,"c":2}]}}`, `[[[[[[[[[[]]]]]]]]]]`,
		`{"entry":[1,2,3,4,5,6,7]}`, `{"\u0061":1,"a":2}`, `"x"`, `1e999`, `{} 1`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := scanJSON(bytes.NewReader(body), testShape)
		if err != nil {
			var b *badRequest
			if !errors.As(err, &b) || b.rule == "" || b.expr == "" || b.msg == "" {
				t.Fatalf("refused without a rule and a place: %v", err)
			}
			if json.Valid(body) && b.rule == RuleNotJSON {
				t.Fatalf("valid JSON refused as not JSON: %v", err)
			}
			return
		}
		if !bytes.Equal(got, body) {
			t.Fatal("the body was not passed on as read")
		}
		if !json.Valid(body) {
			t.Fatal("accepted a body that is not one JSON value")
		}
		// No exact repeats: every key read becomes a map entry.
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if keys, members := countKeys(t, body), countMembers(v); keys != members {
			t.Fatalf("accepted %d keys that decode to %d members: a repeated key", keys, members)
		}
	})
}

// countKeys counts the keys in a JSON text with a plain token walk.
func countKeys(t *testing.T, body []byte) int {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type level struct{ object, key bool }
	var stack []level
	n := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:top]
			} else {
				n++
				stack[top].key = false
				continue
			}
		} else if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			stack = append(stack, level{object: d == '{', key: d == '{'})
			continue
		} else if ok && d == ']' {
			stack = stack[:top]
		}
		if top := len(stack) - 1; top >= 0 && stack[top].object {
			stack[top].key = true
		}
	}
}

func countMembers(v any) int {
	switch v := v.(type) {
	case map[string]any:
		n := len(v)
		for _, e := range v {
			n += countMembers(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range v {
			n += countMembers(e)
		}
		return n
	}
	return 0
}
