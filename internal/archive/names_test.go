package archive

import (
	"testing"

	"github.com/arkisto/arkisto/internal/cda"
)

func TestFoldName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Mäki-Äijälä", "maki-aijala"},
		{"  Åsa \t Öberg ", "asa oberg"},
		{"JOHANSSON", "johansson"},
		{"", ""},
	} {
		if got := FoldName(tt.in); got != tt.want {
			t.Errorf("FoldName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAuthorTerms(t *testing.T) {
	r := &Record{Header: cda.Header{Author: cda.Author{Name: cda.Name{Given: []string{"Anna", "Liisa"}, CallName: "Lissu", Family: "Järvinen"}}}}
	f, g := AuthorTerms(r)
	if f != "jarvinen" || g != " anna liisa lissu" {
		t.Errorf("AuthorTerms = %q, %q", f, g)
	}
}
