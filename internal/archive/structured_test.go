package archive

import (
	"os"
	"slices"
	"testing"
)

// TestSocialServices: the social service codings anywhere in a structured
// form, those of the public samples included; nothing from other code
// sets or from what is not JSON.
func TestSocialServices(t *testing.T) {
	for _, tt := range []struct {
		name string
		json string
		want []string
	}{
		{"none", `{"a": {"system": "urn:oid:1.2.246.537.6.1221.201601", "code": "24"}}`, nil},
		{"nested and repeated", `{"a": [{"sosiaalipalvelu": {"system": "urn:oid:1.2.246.537.6.1222.201601", "code": "45"}},
			{"b": [[{"system": "1.2.246.537.6.1222.201601", "code": "15"}]]}, {"system": "urn:oid:1.2.246.537.6.1222.201601", "code": "45"}]}`, []string{"15", "45"}},
		{"a code that is no string", `{"system": "urn:oid:1.2.246.537.6.1222.201601", "code": 45}`, nil},
		{"not JSON", `{"system": `, nil},
		{"empty", ``, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := SocialServices([]byte(tt.json)); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	for file, want := range map[string][]string{
		"../../testdata/kanta/asiakkuusasiakirja_S.structured.json":  {"15"},
		"../../testdata/kanta/asia_ja_rajoitukset_S.structured.json": {"45"},
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := SocialServices(b); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", file, got, want)
		}
	}
}

// TestCaseWorkers: the personal case workers a structured form names
// under "omatyontekija", one or a list, each once; nothing from other
// keys, without a name, or in the public samples (which name none).
func TestCaseWorkers(t *testing.T) {
	for _, tt := range []struct {
		name string
		json string
		want []CaseWorker
	}{
		{"one, nested", `{"suunnitelma": {"omatyontekija": {"etunimet": "Sari", "sukunimi": "Sosiaalityöntekijä", "tehtavanimike": "sosiaalityöntekijä",
			"palveluyksikko": {"system": "urn:oid:1.2.246.537.6.202.2008", "code": "1.2.246.10.1.10.1", "display": "Perhesosiaalityö"}}}}`,
			[]CaseWorker{{Name: "Sari Sosiaalityöntekijä", Title: "sosiaalityöntekijä", Unit: "Perhesosiaalityö"}}},
		{"a list, repeated", `{"omatyontekija": [{"etunimet": "A", "sukunimi": "B"}, {"etunimet": "A", "sukunimi": "B"}, {"sukunimi": "C"}]}`,
			[]CaseWorker{{Name: "A B"}, {Name: "C"}}},
		{"the author is no case worker", `{"laatija": [{"etunimet": "Angelica", "sukunimi": "Johansson"}]}`, nil},
		{"no name", `{"omatyontekija": {"tehtavanimike": "sosiaaliohjaaja"}}`, nil},
		{"not an object", `{"omatyontekija": "Sari"}`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := CaseWorkers([]byte(tt.json)); !slices.Equal(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, file := range []string{"../../testdata/kanta/asiakkuusasiakirja_S.structured.json", "../../testdata/kanta/asia_ja_rajoitukset_S.structured.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := CaseWorkers(b); got != nil {
			t.Errorf("%s: %+v", file, got)
		}
	}
}

func FuzzStructuredFacts(f *testing.F) {
	f.Add([]byte(`{"a": [{"system": "urn:oid:1.2.246.537.6.1222.201601", "code": "45"}], "omatyontekija": {"etunimet": "A", "sukunimi": "B"}}`))
	f.Add([]byte(`[[[[{}]]]]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		services, workers := structuredFacts(b)
		if len(services) > maxSocialServices || !slices.IsSorted(services) {
			t.Fatalf("%d codes, sorted %v", len(services), slices.IsSorted(services))
		}
		if len(workers) > maxCaseWorkers {
			t.Fatalf("%d case workers", len(workers))
		}
		for _, w := range workers {
			if w.Name == "" || len(w.Name) > 2*maxCaseWorkerText+1 {
				t.Fatalf("case worker %+v", w)
			}
		}
	})
}
