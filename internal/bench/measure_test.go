package bench

import (
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
)

// TestSearchesUseWhatTheDataHas: every search is a valid query for the
// documents sampled: no case search where no document has a case (early
// on, when every document archived is a client relationship document).
func TestSearchesUseWhatTheDataHas(t *testing.T) {
	b := &run{cfg: &Config{Reads: 30}, callers: []*caller{{}, {}}}
	day := time.Date(2025, 5, 20, 0, 0, 0, 0, time.UTC)
	only := []*Meta{{Org: 1, ID: "1.2.3", Client: "010101-999A", Date: day}}
	full := append(only, &Meta{Org: 0, ID: "1.2.4", Client: "020202-999B", Case: "1.2.3.9", Task: "03", Date: day})
	for _, tt := range []struct {
		name   string
		sample []*Meta
		kinds  []string
	}{
		{"relationship documents only", only, []string{"creation"}},
		{"documents with cases and tasks", full, []string{"related", "event", "creation"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]int{}
			for _, r := range b.searches("https://x/fhir", tt.sample, rand.New(rand.NewPCG(1, 2)))() {
				u, err := url.Parse(r.url)
				if err != nil {
					t.Fatal(err)
				}
				q := u.Query()
				if !strings.HasPrefix(q.Get("patient.identifier"), "urn:oid:1.2.246.21|") {
					t.Errorf("%s: no client", r.url)
				}
				for _, k := range []string{"related", "event", "creation"} {
					if vs, ok := q[k]; ok {
						seen[k]++
						for _, v := range vs {
							if v == "" || strings.HasSuffix(v, ":") || strings.HasSuffix(v, "|") {
								t.Errorf("%s: empty %s", r.url, k)
							}
						}
					}
				}
			}
			if len(seen) != len(tt.kinds) {
				t.Errorf("search kinds %v, want %v", seen, tt.kinds)
			}
			for _, k := range tt.kinds {
				if seen[k] != 30/len(tt.kinds) {
					t.Errorf("%d %s searches of 30, want %d", seen[k], k, 30/len(tt.kinds))
				}
			}
		})
	}
}

// TestReplacedIn: the benchmark finds the original a correction's Bundle
// replaces, so that the correction never overtakes it.
func TestReplacedIn(t *testing.T) {
	w, err := gen.NewPKI(gen.PKIOptions{KeyType: pki.P256, Organisations: 1, ProfessionalsPerOrg: 1})
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(w, gen.Options{Clients: 1, ReplaceEvery: 1})
	var orig, corr *gen.Doc
	for range 30 {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if d.Header.Replaces != nil {
			corr = d
			break
		}
		orig = d
	}
	if corr == nil || orig == nil {
		t.Fatal("no correction generated")
	}
	for _, tt := range []struct {
		doc  *gen.Doc
		want string
	}{{orig, ""}, {corr, corr.Header.Replaces.ID}} {
		b, err := fhirapi.SubmissionBundle(tt.doc.XML)
		if err != nil {
			t.Fatal(err)
		}
		if got := replacedIn(b); got != tt.want {
			t.Errorf("replacedIn(%s) = %q, want %q", tt.doc.Header.ID, got, tt.want)
		}
	}
}
