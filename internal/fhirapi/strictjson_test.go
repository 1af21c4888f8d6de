package fhirapi

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
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
// key; what it refuses it refuses with a rule and a place. And it gives
// what scanJSONStd alone gives (sameScan), whatever reads the body.
func FuzzScanJSON(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"a":1}}]}`,
		`{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"a":{"b":[{"c":1,"c":2}]}}`, `[[[[[[[[[[]]]]]]]]]]`,
		`{"entry":[1,2,3,4,5,6,7]}`, `{"\u0061":1,"a":2}`, `"x"`, `1e999`, `{} 1`, ``,
		`[-0.5e+10,-0,1E3,0.0,"\u00e4\"\\\/\b\f\n\r\t",true,false,null]`, `[01]`, `[1.]`, `[-]`, `[1e]`, `[tru]`, `[1-2]`, `[1e5e5]`, `[0-]`, `[1.5.]`, `[+1]`, `[.5]`, `-01`, `[1E+2,-0.0e-0]`, `[truefalse]`, `"\x"`, `"\u12G4"`,
		"\"\xff\"", "\"\t\"", "\"ä\"", `{"ä":1}`, `{"kind":1,"\u212aind":2}`,
		`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18,"s":19,"A":20}`,
	} {
		f.Add([]byte(s))
	}
	for _, body := range realBodies(f) {
		f.Add(body)
	}
	for _, body := range submissionVariants(f) {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sameScan(t, body, testShape)
		sameScan(t, body, bodyShape)
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

// bodyShape are the limits readJSON sets, for a hundred documents.
var bodyShape = shapeLimits{root: "Bundle", entries: 3*100 + 1, depth: defaultMaxDepth, members: defaultMaxMembers}

var errGone = errors.New("the client went away")

// sameScan fails unless scanJSON and scanJSONStd alone accept body alike,
// passing on the same bytes, or refuse it with the same error, however
// the reader hands it over and wherever it fails. And the one pass takes
// the body or leaves it alike, whichever reads it hands it over in.
func sameScan(t *testing.T, body []byte, lim shapeLimits) {
	t.Helper()
	readers := []struct {
		name string
		r    func() io.Reader
	}{
		{"whole", func() io.Reader { return bytes.NewReader(body) }},
		{"a byte a read", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(body)) }},
		{"7 bytes a read", func() io.Reader { return &chunkReader{b: body, n: 7} }},
		{"the end with the last bytes", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(body)) }},
		{"failing halfway", func() io.Reader {
			return io.MultiReader(bytes.NewReader(body[:len(body)/2]), errReader{errGone})
		}},
		{"over the size limit", func() io.Reader {
			return http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(bytes.NewReader(body)), int64(len(body)*2/3))
		}},
	}
	for _, rd := range readers {
		got, err := scanJSON(rd.r(), lim)
		want, wantErr := scanJSONStd(rd.r(), lim)
		if !reflect.DeepEqual(err, wantErr) {
			t.Fatalf("%s: scanJSON: %#v\nscanJSONStd: %#v", rd.name, err, wantErr)
		}
		if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("%s: scanJSON passes on %q\nscanJSONStd %q", rd.name, got, want)
		}
	}
	whole := scanFast(body, lim, len(body))
	for _, n := range []int{1, 7, 512} {
		if scanFast(body, lim, n) != whole {
			t.Fatalf("the one pass, given %d bytes at a time, takes the body: %v; given it whole: %v", n, !whole, whole)
		}
	}
}

// scanFast says whether the one pass takes body, given n bytes at a time.
func scanFast(body []byte, lim shapeLimits, n int) bool {
	s := shapeScan{lim: lim}
	for end := min(n, len(body)); ; end = min(end+n, len(body)) {
		eof := end == len(body)
		if !s.scan(body[:end], eof) {
			return false
		}
		if eof {
			return s.done()
		}
	}
}

// chunkReader reads n bytes at a time.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}

// realBodies are bodies as clients send them: submissions (as generated,
// compact, with a PATCH, a disclosure notice), Consents, Parameters.
func realBodies(t testing.TB) map[string][]byte {
	t.Helper()
	gen := submissionBody(t)
	var compact bytes.Buffer
	if err := json.Compact(&compact, gen); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{
		"submission":         gen,
		"compact submission": compact.Bytes(),
		"submission with a PATCH": []byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"List","status":"current","mode":"working","entry":[{"item":{"reference":"urn:uuid:2"}}]},"request":{"method":"POST","url":"List"}},` +
			`{"fullUrl":"urn:uuid:2","resource":{"resourceType":"DocumentReference","content":[{"attachment":{"data":"PGEvPg=="}}]},"request":{"method":"POST","url":"DocumentReference"}},{"fullUrl":"urn:uuid:4","resource":` + goodPatch + `,"request":{"method":"PATCH","url":"DocumentReference/1.2.3"}}]}`),
		"PATCH":         []byte(goodPatch),
		"withdrawal":    []byte(`{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"Asiakas perui suostumuksensa: ääkköset"}]}`),
		"nullification": []byte(`{"resourceType":"Parameters","parameter":[{"name":"reason","valueCodeableConcept":{"coding":[{"code":"test"}],"text":"nullified by the access table"}}]}`),
	}
	examples, err := filepath.Glob(filepath.Join("..", "..", "docs", "examples", "*.json"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, e := range examples {
		out[filepath.Base(e)] = readExample(t, filepath.Base(e))
	}
	return out
}

// TestScanJSONInOnePass: the bodies clients send take the one pass, not
// the fallback, also when they arrive a few bytes at a time, and pass as
// scanJSONStd passes them.
func TestScanJSONInOnePass(t *testing.T) {
	for name, body := range realBodies(t) {
		for _, n := range []int{len(body), 4096, 7, 1} {
			if !scanFast(body, bodyShape, n) {
				t.Errorf("%s, %d bytes at a time: left to the fallback", name, n)
			}
		}
		want, err := scanJSONStd(bytes.NewReader(body), bodyShape)
		if err != nil || !bytes.Equal(want, body) {
			t.Fatalf("%s: scanJSONStd refuses it: %v", name, err)
		}
		sameScan(t, body, bodyShape)
	}
}

// TestScanJSONAsBefore: the shape check and its faults as scanJSONStd
// words them, for the cases of TestScanJSON and bodies near a submission.
func TestScanJSONAsBefore(t *testing.T) {
	for _, body := range submissionVariants(t) {
		sameScan(t, body, testShape)
		sameScan(t, body, bodyShape)
	}
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

// TestPlain8: the eight-byte test agrees with the byte table, for every
// byte in every place, among plain bytes and among other special ones.
func TestPlain8(t *testing.T) {
	for _, fill := range []byte{'A', ' ', '~', 0x1f, '"', 0x80} {
		for c := range 256 {
			for k := range 8 {
				w := bytes.Repeat([]byte{fill}, 8)
				w[k] = byte(c)
				want := true
				for _, b := range w {
					want = want && strClass[b] == strPlain
				}
				if got := plain8(binary.LittleEndian.Uint64(w)); got != want {
					t.Fatalf("plain8(%q) = %v", w, got)
				}
			}
		}
	}
}

// TestScanJSONTrickle: a long number or string arriving a byte at a
// time is read once, not again with every byte (which would take some
// 10^10 steps here), and taken.
func TestScanJSONTrickle(t *testing.T) {
	long := strings.Repeat("7", 200000)
	for _, body := range []string{`[` + long + `]`, `[-` + long + `.` + long + `e+` + long + `]`, `["` + long + `"]`, `{"a":"` + long + `\u00e4"}`} {
		if !scanFast([]byte(body), bodyShape, 1) {
			t.Errorf("%.20s…: left to the fallback", body)
		}
	}
}
