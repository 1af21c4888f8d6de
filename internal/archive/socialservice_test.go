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

func FuzzSocialServices(f *testing.F) {
	f.Add([]byte(`{"a": [{"system": "urn:oid:1.2.246.537.6.1222.201601", "code": "45"}]}`))
	f.Add([]byte(`[[[[{}]]]]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := SocialServices(b)
		if len(got) > maxSocialServices || !slices.IsSorted(got) {
			t.Fatalf("%d codes, sorted %v", len(got), slices.IsSorted(got))
		}
	})
}
