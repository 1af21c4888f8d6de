package xmlsafe_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/xmlsafe"
)

// TestParseFastTakesRealDocuments: the public Kanta samples, their display
// forms and generated documents (indented and whitespace-stripped) all
// take the fast path, to the reference's tree. A document falling back
// would still be parsed right, only slower, and nothing else would notice.
func TestParseFastTakesRealDocuments(t *testing.T) {
	files, err := filepath.Glob("../../testdata/kanta/*.xml")
	if err != nil || len(files) < 4 {
		t.Fatalf("samples: %v (%d)", err, len(files))
	}
	more, _ := filepath.Glob("../../testdata/kanta/*.xhtml")
	docs := map[string][]byte{}
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[filepath.Base(f)] = b
	}
	w, err := gen.NewPKI(gen.PKIOptions{Seed: 7, KeyType: pki.P256, Organisations: 2, ProfessionalsPerOrg: 1})
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(w, gen.Options{Seed: 7, Clients: 3, ReplaceEvery: 3, StrippedEvery: 2})
	for i := range 12 {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		docs["generated "+string(rune('a'+i))] = d.XML
	}
	lim := xmlsafe.Limits{AllowDoctype: true}
	for name, b := range docs {
		b = trimBOM(b)
		doc, ok := xmlsafe.ParseFast(b, lim.WithDefaults())
		if !ok {
			t.Errorf("%s: the fast path gave up", name)
			continue
		}
		ref, err := xmlsafe.ParseReference(b, lim.WithDefaults())
		if err != nil {
			t.Errorf("%s: reference: %v", name, err)
			continue
		}
		if d := xmlsafe.SameTree(doc, ref); d != "" {
			t.Errorf("%s: %s", name, d)
		}
	}
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}
