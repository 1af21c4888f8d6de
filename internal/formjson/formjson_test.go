package formjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// value is the tape's node i as encoding/json decodes into any.
func (t *Tape) value(tb testing.TB, i int) any {
	switch n := t.Nodes[i]; n.Kind {
	case Null:
		return nil
	case False:
		return false
	case True:
		return true
	case Number:
		return json.Number(t.Data[n.Start:n.End])
	case String:
		s, ok := t.str(i)
		if !ok {
			tb.Fatalf("string %q", t.Data[n.Start:n.End])
		}
		return s
	case Array:
		out := []any{}
		t.Elements(i, func(v int) Result {
			out = append(out, t.value(tb, v))
			return OK
		})
		return out
	case Object:
		out := map[string]any{}
		t.Members(i, func(key []byte, v int) Result {
			out[string(key)] = t.value(tb, v)
			return OK
		})
		return out
	}
	tb.Fatalf("node %d of kind %d", i, t.Nodes[i].Kind)
	return nil
}

// check holds Parse to encoding/json: it takes only what json.Valid does
// (and valid UTF-8), whatever is valid and not too deep, and its tape
// holds the values encoding/json reads.
func check(t *testing.T, data []byte) {
	tape, ok := Parse(data)
	valid := json.Valid(data) && utf8.Valid(data)
	if ok && !valid {
		t.Fatalf("Parse took %q, which is not valid UTF-8 JSON", data)
	}
	if !ok {
		if valid && strings.Count(string(data), "[")+strings.Count(string(data), "{") < maxDepth {
			t.Fatalf("Parse left valid JSON %q", data)
		}
		return
	}
	if got := tape.Next(0); got != len(tape.Nodes) {
		t.Fatalf("%q: the top value ends at node %d of %d", data, got, len(tape.Nodes))
	}
	var want any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&want); err != nil {
		t.Fatal(err)
	}
	if got := tape.value(t, 0); !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: tape %#v, encoding/json %#v", data, got, want)
	}
}

var seeds = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0.5e+3`, `1E9`, `"a\u00e4\n\"\\\/"`,
	` {"a": [1, 2, {"b": null}], "c": "ä", "a": {}} `,
	`{"asiakkuusasiakirja":{"asiakas":{"henkilotunnus":{"system":"urn:oid:1.2.246.21","value":"010190-999W"}}}}`,
	`[01]`, `[1.]`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `"\x"`, `"\u12"`, "\"\x01\"", "\"\xff\"", `-`, `1e`, `tru`, `{"a":1}x`,
	`"\ud800"`, `1e700`, `{"\u0041":1}`, `[[[[]]]]`,
}

func TestParse(t *testing.T) {
	for _, s := range seeds {
		check(t, []byte(s))
	}
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	if _, ok := Parse([]byte(deep)); ok {
		t.Error("Parse took a text deeper than maxDepth")
	}
}

func TestFields(t *testing.T) {
	tape, ok := Parse([]byte(`{"A":1,"b":"x","c":null,"Ab":2}`))
	if !ok {
		t.Fatal("not parsed")
	}
	var v [3]int
	if r := tape.Fields(0, []string{"a", "B", "d"}, v[:]); r != OK || v[0] != 2 || v[1] != 4 || v[2] != -1 {
		t.Fatalf("Fields: %d %v", r, v)
	}
	var s string
	if r := tape.String(v[1], &s); r != OK || s != "x" {
		t.Fatalf("String: %d %q", r, s)
	}
	if r := tape.String(v[0], &s); r != Failed {
		t.Fatalf("a number into a string: %d", r)
	}
	tape, _ = Parse([]byte(`{"a":1,"A":2}`))
	if r := tape.Fields(0, []string{"a"}, v[:1]); r != Unsure {
		t.Fatalf("a field given twice: %d", r)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(check)
}
