package archive

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/arkisto/arkisto/internal/formjson"
)

// statedSeeds are structured forms of every shape statedStd reads: the
// public samples' and the generator's, and the odd ones.
func statedSeeds(tb testing.TB) [][]byte {
	out := [][]byte{
		[]byte(`{"lapsiperheiden_palvelujen_asiakassuunnitelma":{"asiakas":[{"sukunimi":"X","henkilotunnus":{"system":"urn:oid:1.2.246.21","value":"010190-999W"}}],"paivamaara":"2026-03-23"}}`),
		[]byte(`{"asiakkuusasiakirja":{"asiakas":{"tilapainen_yksilointitunnus":{"system":"1.2.246.10.1.22.2026","value":"T-1"}},"palvelunjarjestajan_toimintayksikko":{"code":"1.2.246.10.1.10.0"}}}`),
		[]byte(`{"asiakas":[null,{"henkilotunnus":null}],"b":{"asiakas":"x"},"c":{"palvelunjarjestajan_toimintayksikko":1,"asiakas":{"henkilotunnus":{"value":"1"}}}}`),
		[]byte(`{"a":{"Asiakas":[{"HENKILOTUNNUS":{"Value":"1"}}],"palvelunjarjestajan_toimintayksikko":{"CODE":"1.2"}},"a":{}}`),
		[]byte(`{"a":{"asiakas":[{"henkilotunnus":{"value":1}}]},"b":{"asiakas":[{"henkilotunnus":{"value":"2"}}, 3]}}`),
		[]byte(`{"a":{"asiakas":{"henkilotunnus":{"value":"\u0031"}},"palvelunjarjestajan_toimintayksikko":null}}`),
		[]byte(`null`), []byte(`[]`), []byte(`"x"`), []byte(`{}`), []byte(`{"a":[1],"b":"c","d":null}`),
	}
	files, _ := filepath.Glob("../../testdata/kanta/*.structured.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// checkStated holds statedFast to statedStd wherever it answers.
func checkStated(t *testing.T, js []byte) {
	tape, ok := formjson.Parse(js)
	if !ok {
		return
	}
	persons, organisers, r := statedFast(tape)
	if r == formjson.Unsure {
		return
	}
	wantP, wantO, wantOK := statedStd(js)
	if (r == formjson.OK) != wantOK {
		t.Fatalf("%q: fast %d, encoding/json ok %v", js, r, wantOK)
	}
	if !wantOK {
		return
	}
	if len(persons) != len(wantP) || len(organisers) != len(wantO) || (len(persons) > 0 && !reflect.DeepEqual(persons, wantP)) || (len(organisers) > 0 && !reflect.DeepEqual(organisers, wantO)) {
		t.Fatalf("%q:\nfast persons %v organisers %q\nstd  persons %v organisers %q", js, persons, organisers, wantP, wantO)
	}
}

func TestStatedFast(t *testing.T) {
	for _, js := range statedSeeds(t) {
		checkStated(t, js)
	}
	// The public samples' forms are read from the tape, not left to
	// encoding/json.
	files, _ := filepath.Glob("../../testdata/kanta/*.structured.json")
	if len(files) == 0 {
		t.Fatal("no samples")
	}
	for _, f := range files {
		js, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tape, ok := formjson.Parse(js)
		if !ok {
			t.Fatalf("%s: not parsed", f)
		}
		if _, _, r := statedFast(tape); r != formjson.OK {
			t.Errorf("%s: statedFast %d", f, r)
		}
	}
}

func FuzzStated(f *testing.F) {
	for _, js := range statedSeeds(f) {
		f.Add(js)
	}
	f.Fuzz(checkStated)
}
