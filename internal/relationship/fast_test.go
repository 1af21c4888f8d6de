package relationship

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/formjson"
)

// checkFast holds decodeFast to json.Unmarshal wherever it answers, and
// ReadForm to Read.
func checkFast(t *testing.T, h *cda.Header, js []byte) {
	tape, ok := formjson.Parse(js)
	if !ok {
		return
	}
	var got structured
	r := decodeFast(tape, &got)
	if r != formjson.Unsure {
		var want structured
		err := json.Unmarshal(js, &want)
		if (r == formjson.OK) != (err == nil) {
			t.Fatalf("%q: fast %d, json.Unmarshal %v", js, r, err)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nfast %+v\njson %+v", js, got, want)
		}
	}
	rel, probs := ReadForm(h, js, tape)
	wantRel, wantProbs := Read(h, js)
	if !reflect.DeepEqual(rel, wantRel) || !reflect.DeepEqual(probs, wantProbs) {
		t.Fatalf("%q:\nReadForm %+v %v\nRead     %+v %v", js, rel, probs, wantRel, wantProbs)
	}
}

func fastSeeds(js []byte) [][]byte {
	return [][]byte{
		js,
		[]byte(`{"asiakkuusasiakirja":{}}`),
		[]byte(`{"asiakkuusasiakirja":null}`),
		[]byte(`{"Asiakkuusasiakirja":{"sosiaalihuollon_palvelutehtava":[null,{"palvelutehtava":{"code":"24"},"palveluntuottaja":[{"palveluyksikon_nimi":{"code":"1.2.246.10.1.10.1"},"asiakkuuden_paattymispvm":"2020-01-01","sosiaalipalvelu":[{"code":"15"},null]}]}]}}`),
		[]byte(`{"asiakkuusasiakirja":{"sosiaalihuollon_palvelutehtava":[{"palvelutehtava":{"code":24}}]}}`),
		[]byte(`{"asiakkuusasiakirja":{"sosiaalihuollon_palvelutehtava":[],"sosiaalihuollon_asiakkuus":{"asiakkuuden_alkamispvm":"2026-01-01","ASIAKKUUDEN_PAATTYMISPVM":null}}}`),
		[]byte(`{"asiakkuusasiakirja":{"asiakkuuden_yksilointitunnus":{"value":"1.2.\u0033"},"sosiaalihuollon_palvelutehtava":[{"palvelutehtava":{"code":"24"},"palvelunjarjestajan_palveluyksikko":[{"palveluyksikon_nimi":{"code":"1.2.246.10.1.10.1","display":"x"},"sosiaalipalvelu":7}]}]}}`),
		[]byte(`{"asiakkuusasiakirja":{"sosiaalihuollon_palvelutehtava":{}}}`),
		[]byte(`{"asiakkuusasiakirja":[]}`),
		[]byte(`[]`), []byte(`null`), []byte(`{"a":1,"a":2}`),
	}
}

func TestReadFormSamples(t *testing.T) {
	d, js := sample(t)
	tape, ok := formjson.Parse(js)
	if !ok || decodeFast(tape, &structured{}) != formjson.OK {
		t.Fatal("the sample's form is left to encoding/json")
	}
	for _, s := range fastSeeds(js) {
		checkFast(t, &d.Header, s)
	}
	// The mutations of TestReadProblems.
	s := string(js)
	for _, m := range [][2]string{
		{`"asiakkuuden_alkamispvm": "2026-07-17" }, "palvelunjarjestajan_toimintayksikko"`, `"asiakkuuden_alkamispvm": "17.7.2026" }, "palvelunjarjestajan_toimintayksikko"`},
		{`"value": "1.2.246.10.32213561.95777.2026.698084.281"`, `"value": "1.2.246.10.32213561.95777.2026.698084.999"`},
		{`"code": "1.2.246.10.1246109.10.2001213"`, `"code": "yksikko"`},
		{`"code": "1.2.246.10.1246109.10.2001213"`, `"code": ["yksikko"]`},
	} {
		checkFast(t, &d.Header, []byte(strings.Replace(s, m[0], m[1], 1)))
	}
}

func FuzzReadForm(f *testing.F) {
	d, js := sample(f)
	for _, s := range fastSeeds(js) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFast(t, &d.Header, data)
	})
}
