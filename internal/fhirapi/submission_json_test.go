package fhirapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// decodedEntry is an entry as the tests compare it.
type decodedEntry struct {
	FullURL string
	Request *BundleRequest
	Typ     string
	List    *List
	Ref     *DocumentReference
	Bin     *Binary
	Data    string
	Raw     string
}

func decodedEntries(es []entry) []decodedEntry {
	var out []decodedEntry
	for _, e := range es {
		out = append(out, decodedEntry{FullURL: e.fullURL, Request: e.request, Typ: e.typ, List: e.list, Ref: e.ref, Bin: e.bin, Data: string(e.b64), Raw: string(e.raw)})
	}
	return out
}

// sameDecoding fails unless decodeSubmission and decodeSubmissionStd, the
// decoding as it was (and the fallback that words every refusal), accept
// body alike, with the same entries, or refuse it with the same words.
func sameDecoding(t *testing.T, body []byte) {
	t.Helper()
	got, err := decodeSubmission(body)
	want, wantErr := decodeSubmissionStd(body)
	if !reflect.DeepEqual(err, wantErr) {
		t.Fatalf("decodeSubmission: %#v\nthe reference: %#v", err, wantErr)
	}
	if g, w := decodedEntries(got), decodedEntries(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("decodeSubmission gives %s\nthe reference %s", js(g), js(w))
	}
	// The one pass, when it takes the body, decodes it alike.
	if fast, ok := decodeSubmissionFast(body); ok {
		if wantErr != nil {
			t.Fatalf("decodeSubmissionFast took a body the reference refuses: %v", wantErr)
		}
		if g, w := decodedEntries(fast), decodedEntries(want); !reflect.DeepEqual(g, w) {
			t.Fatalf("decodeSubmissionFast gives %s\nthe reference %s", js(g), js(w))
		}
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// submissionVariants are bodies near a submission: keys written
// otherwise, values escaped, given twice, null or of another type, JSON
// that is not, and what clients add.
func submissionVariants(t testing.TB) [][]byte {
	t.Helper()
	gen := submissionBody(t)
	var compact bytes.Buffer
	if err := json.Compact(&compact, gen); err != nil {
		t.Fatal(err)
	}
	const (
		list = `{"resourceType":"List","status":"current","mode":"working","entry":[{"item":{"reference":"urn:uuid:2"}}]}`
		ref  = `{"resourceType":"DocumentReference","content":[{"attachment":{"url":"urn:uuid:3","contentType":"application/hl7-v3+xml"}}]}`
		bin  = `{"resourceType":"Binary","contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`
		req  = `"request":{"method":"POST","url":"x"}`
	)
	bundle := func(head string, resources ...string) []byte {
		var es []string
		for i, r := range resources {
			es = append(es, `{"fullUrl":"urn:uuid:`+string(rune('1'+i))+`","resource":`+r+`,`+req+`}`)
		}
		return []byte(`{"resourceType":"Bundle",` + head + `"type":"transaction","entry":[` + strings.Join(es, ",") + `]}`)
	}
	withBin := func(b string) []byte { return bundle("", list, ref, b) }
	deep := strings.Repeat("[", 600) + strings.Repeat("]", 600)
	out := [][]byte{
		gen, compact.Bytes(),
		bundle("", list, ref, bin),
		bundle(`"id":"b1","meta":{"profile":["x"]},"timestamp":"2026-12-01T10:00:00Z",`, list, ref, bin),
		// Keys as encoding/json matches them: without regard to case, escaped.
		[]byte(`{"RESOURCETYPE":"Bundle","Type":"transaction","ENTRY":[{"FullUrl":"urn:uuid:1","Resource":` + list + `,"REQUEST":{"method":"POST","url":"x"}},{"fullUrl":"urn:uuid:2","resource":` + ref + `,` + req + `},{"fullUrl":"urn:uuid:3","resource":` + bin + `,` + req + `}]}`),
		withBin(`{"ResourceType":"Binary","CONTENTTYPE":"application/hl7-v3+xml","Data":"PGEvPg=="}`),
		withBin(`{"resourc\u0065Type":"Binary","contentType":"application/hl7-v3+xml","d\u0061ta":"PGEvPg=="}`),
		withBin(`{"re\u017fourceType":"Binary","contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`), // ſ folds to s
		withBin(`{"resourceType":"Bin\u0061ry","contentType":"application/hl7-v3+xml","data":"PGEv\u0050g=="}`),
		withBin(`{"resourceType":"Binary","contentType":"application/hl7-v3+xml","data":"PGEv\nPg=="}`),
		withBin(`{"resourceType":"Binary","contentType":"application/hl7-v3+xml","data":"PGEv\u00e4Pg=="}`),
		withBin(`{"resourceType":"Binary","contentType":"application/hl7-v3+xml","data":"PGEvÄPg=="}`),
		withBin("{\"resourceType\":\"Binary\",\"contentType\":\"application/hl7-v3+xml\",\"data\":\"PGEv\xffPg==\"}"),
		withBin("{\"resourceType\":\"Binary\",\"contentType\":\"application/hl7-v3+xml\",\"data\":\"PGEv\tPg==\"}"),
		withBin(`{"data":"PGEvPg==","contentType":"application/hl7-v3+xml","resourceType":"Binary"}`),
		withBin(`{"resourceType":"Binary","id":"b","meta":{"versionId":"1","profile":["p"]},"language":"fi","securityContext":{"reference":"x"},"contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`),
		withBin(`{"resourceType":"Binary","contentType":"application/hl7-v3+xml","data":""}`),
		withBin(`{"resourceType":"Binary","contentType":"application/hl7-v3+xml"}`),
		withBin(`{}`),
		// Given twice, null, of another type.
		withBin(`{"resourceType":"Binary","contentType":"application/hl7-v3+xml","data":"PGEvPg==","data":null}`),
		withBin(`{"resourceType":"Binary","contentType":"application/hl7-v3+xml","data":"AAAA","DATA":"PGEvPg=="}`),
		withBin(`{"resourceType":"Binary","meta":{"versionId":"1"},"meta":{"lastUpdated":"x"},"contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`),
		withBin(`{"resourceType":"Binary","resourceType":"Binary","contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`),
		withBin(`{"resourceType":"Binary","ResourceType":"List","contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`),
		withBin(`{"resourceType":"List","resourceType":"Binary","contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`),
		withBin(`{"resourceType":null,"contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`),
		withBin(`{"resourceType":"Binary","meta":null,"id":null,"contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`),
		withBin(`{"resourceType":"Binary","contentType":"application/hl7-v3+xml","data":5}`),
		withBin(`{"resourceType":"Binary","contentType":["x"],"data":"PGEvPg=="}`),
		withBin(`{"resourceType":"Binary","meta":{"profile":"x"},"contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`),
		withBin(`{"resourceType":1}`),
		withBin(`[1]`), withBin(`"Binary"`), withBin(`null`), withBin(`1`),
		bundle("", list, ref, bin, bin),
		bundle("", `{"resourceType":"List","status":1}`, ref, bin),
		bundle("", list, `{"resourceType":"DocumentReference","resourceType":"List"}`, bin),
		bundle("", list, `{"resourceType":"Patient","name":[{"family":"x"}]}`, bin),
		bundle("", list, `{"resourceType":""}`, bin),
		bundle("", list, ref, bin, goodPatch),
		bundle("", `{"resourceType":"AuditEvent","type":{"code":"x"}}`, `{"resourceType":"Provenance","target":[{"reference":"x"}]}`),
		bundle(`"entry":[],`, list, ref, bin),
		bundle(`"type":"batch",`, list, ref, bin),
		bundle(`"type":null,`, list, ref, bin),
		bundle(`"resourceType":"Bundle",`, list, ref, bin),
		[]byte(`{"resourceType":"Bundle","type":"transaction","entry":null}`),
		[]byte(`{"resourceType":"Bundle","type":"transaction","entry":[null]}`),
		[]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{}]}`),
		[]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":null}]}`),
		[]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":null,"resource":` + bin + `,"request":null}]}`),
		[]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"a","fullUrl":"b","resource":` + bin + `,"request":{"method":1}}]}`),
		[]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"a","resource":` + bin + `,"request":{"method":"POST"},"request":{"url":"x"}}]}`),
		[]byte(`{"resourceType":"Bundle","type":"tr\u0061nsaction","entry":[{"fullUrl":"urn:uuid:\u0033","resource":` + bin + `,"response":{"status":"x"},"search":{}}]}`),
		// Not JSON, or not only JSON.
		bundle(`"x":[1,],`, list, ref, bin),
		bundle(`"x":tru,`, list, ref, bin),
		bundle(`"x":01,`, list, ref, bin),
		bundle(`"x":-0.5e+10,"y":true,"z":[false,null,{"a":"\u00e4\"\\"}],`, list, ref, bin),
		bundle(`"x":"\x",`, list, ref, bin),
		bundle(`"x":`+deep+`,`, list, ref, bin),
		bundle(`"x":[`+deep[:600]+`,`, list, ref, bin),
		withBin(`{"resourceType":"Binary","x":` + deep + `,"contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`),
		withBin(`{"resourceType":"Binary","x":{"a":1,},"contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`),
		withBin(`{"resourceType":"Binary","contentType":"application/hl7-v3+xml","data":"PGEvPg==",}`),
		withBin(`{"resourceType":"Binary" "contentType":"application/hl7-v3+xml","data":"PGEvPg=="}`),
		append(bundle("", list, ref, bin), " x"...),
		append(bundle("", list, ref, bin), " \t\r\n"...),
		append([]byte("\xef\xbb\xbf"), bundle("", list, ref, bin)...),
		[]byte(" \n" + string(bundle("", list, ref, bin))),
		[]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Binary","data":"AA`),
		[]byte(`null`), []byte(``), []byte(`[]`), []byte(`"Bundle"`), []byte(`{}`),
	}
	return out
}

// TestDecodeSubmissionAsBefore: every variant is accepted or refused as
// decodeSubmissionStd does, with the same entries or the same words.
func TestDecodeSubmissionAsBefore(t *testing.T) {
	for i, body := range submissionVariants(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) { sameDecoding(t, body) })
	}
}

// TestDecodeSubmissionInOnePass: the bodies clients send take the one
// pass, not the fallback.
func TestDecodeSubmissionInOnePass(t *testing.T) {
	gen := submissionBody(t)
	var compact bytes.Buffer
	if err := json.Compact(&compact, gen); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{
		"indented":          gen,
		"compact":           compact.Bytes(),
		"disclosure notice": readExample(t, "disclosure-notice.json"),
		"with a PATCH": []byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"List","status":"current","mode":"working","entry":[{"item":{"reference":"urn:uuid:2"}}]},"request":{"method":"POST","url":"List"}},` +
			`{"fullUrl":"urn:uuid:2","resource":{"resourceType":"DocumentReference","content":[{"attachment":{"data":"PGEvPg=="}}]},"request":{"method":"POST","url":"DocumentReference"}},{"fullUrl":"urn:uuid:4","resource":` + goodPatch + `,"request":{"method":"PATCH","url":"DocumentReference/1.2.3"}}]}`),
	} {
		fast, ok := decodeSubmissionFast(body)
		if !ok {
			t.Errorf("%s: left to the fallback", name)
			continue
		}
		want, err := decodeSubmissionStd(body)
		if err != nil {
			t.Fatalf("%s: the reference refuses it: %v", name, err)
		}
		if g, w := decodedEntries(fast), decodedEntries(want); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: decodeSubmissionFast gives %s\nthe reference %s", name, js(g), js(w))
		}
	}
	// The Binary's data is left in the body, not copied.
	es, _ := decodeSubmissionFast(gen)
	for _, e := range es {
		if e.bin != nil && (len(e.b64) == 0 || &e.b64[0] != &gen[bytes.Index(gen, e.b64)]) {
			t.Error("the Binary's data is not the body's bytes")
		}
	}
}

// FuzzDecodeSubmission: decodeSubmission accepts and refuses what the
// decoding before it did, with the same words and the same entries.
func FuzzDecodeSubmission(f *testing.F) {
	for _, body := range submissionVariants(f) {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sameDecoding(t, body)
	})
}
