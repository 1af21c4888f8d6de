package bench

import (
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/gen"
)

func world(kinds ...string) *gen.PKI {
	w := &gen.PKI{}
	for i, k := range kinds {
		w.Organisations = append(w.Organisations, &gen.Organisation{OID: "1.2.246.10.100000" + string(rune('0'+i)), Kind: k})
	}
	return w
}

// TestChooseConsenting: distinct clients of the sample, at most n, each
// with a recipient that is another public organisation than the
// controller of its documents; none in a world of one organiser.
func TestChooseConsenting(t *testing.T) {
	sample := []*Meta{{Org: 0, Client: "a"}, {Org: 0, Client: "a"}, {Org: 1, Client: "b"}, {Org: 0, Client: "c"}, {Org: 1, Client: "d"}}
	for _, tt := range []struct {
		name  string
		world *gen.PKI
		n     int
		want  []consenting
	}{
		{"two organisers and a provider", world("public", "public", "private"), 3,
			[]consenting{{"a", 0, 1}, {"b", 1, 0}, {"c", 0, 1}}},
		{"the provider is skipped", world("public", "private", "public"), 2,
			[]consenting{{"a", 0, 2}, {"b", 1, 2}}},
		{"more asked than there are clients", world("public", "public"), 10,
			[]consenting{{"a", 0, 1}, {"b", 1, 0}, {"c", 0, 1}, {"d", 1, 0}}},
		// Organisation 0's clients have no other organiser to disclose to.
		{"one organiser and a provider", world("public", "private"), 3,
			[]consenting{{"b", 1, 0}, {"d", 1, 0}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := chooseConsenting(tt.world, sample, tt.n)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := chooseConsenting(world("public"), sample, 3); len(got) != 0 {
		t.Errorf("one organisation: %+v, want nobody", got)
	}
}

// TestDisclosuresAreSearchesByTheRecipient: the disclosure workload is the
// search workload's mix for the consenting clients' documents, each sent by
// the client's recipient with purpose disclosure.
func TestDisclosuresAreSearchesByTheRecipient(t *testing.T) {
	callers := []*caller{{sub: "0"}, {sub: "1"}, {sub: "2"}}
	b := &run{cfg: &Config{Reads: 30}, callers: callers,
		consenting: []consenting{{Client: "010101-999A", Org: 0, Recipient: 1}, {Client: "020202-998B", Org: 1, Recipient: 2}}}
	day := time.Date(2025, 5, 20, 0, 0, 0, 0, time.UTC)
	b.disclosureDocs = []*Meta{
		{Org: 0, ID: "1.2.3", Client: "010101-999A", Date: day},
		{Org: 0, ID: "1.2.4", Client: "010101-999A", Case: "1.2.3.9", Task: "24", Date: day},
		{Org: 1, ID: "1.2.5", Client: "020202-998B", Case: "1.2.3.8", Task: "24", Date: day},
	}
	recipient := map[string]*caller{"010101-999A": callers[1], "020202-998B": callers[2]}
	kinds := map[string]int{}
	reqs := b.disclosures("https://x/fhir", rand.New(rand.NewPCG(1, 2)))()
	if len(reqs) != 30 {
		t.Fatalf("%d requests, want 30", len(reqs))
	}
	for _, r := range reqs {
		u, err := url.Parse(r.url)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		client := q.Get("patient.identifier")[len("urn:oid:1.2.246.21|"):]
		if r.caller != recipient[client] || r.purpose != archive.PurposeDisclosure {
			t.Errorf("%s sent by %s with purpose %q, want the client's recipient %s with %q", r.url, r.caller.sub, r.purpose, recipient[client].sub, archive.PurposeDisclosure)
		}
		for _, k := range []string{"related", "event", "creation"} {
			if q.Has(k) {
				kinds[k]++
			}
		}
	}
	if kinds["related"] != 10 || kinds["event"] != 10 || kinds["creation"] != 10 {
		t.Errorf("search kinds %v, want 10 of each", kinds)
	}
	b.disclosureDocs = nil
	if reqs := b.disclosures("https://x/fhir", rand.New(rand.NewPCG(1, 2)))(); len(reqs) != 0 {
		t.Errorf("%d requests without documents to search", len(reqs))
	}
}

// TestWillBodiesAreTheDocumentedOnes: the notice and the consent the
// benchmark records are docs/examples' requests for its client (without
// the optional organisation), the consent in force from today in Finnish
// time.
func TestWillBodiesAreTheDocumentedOnes(t *testing.T) {
	// 23:30 UTC is already the next day in Finland.
	now := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	for kind, file := range map[string]string{"notice": "consent-notice.json", "consent": "consent-disclosure.json"} {
		raw, err := os.ReadFile("../../docs/examples/" + file)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		delete(want, "organization")
		client := map[string]any{"system": "urn:oid:1.2.246.21", "value": "010101-999A"}
		want["patient"] = map[string]any{"identifier": client}
		want["performer"] = []any{map[string]any{"type": "Patient", "identifier": client}}
		if p, ok := want["provision"].(map[string]any); ok {
			p["period"] = map[string]any{"start": "2026-03-02"}
		}
		js, err := willBody("010101-999A", kind, now)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(js, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s\nwant the shape of %s", kind, js, file)
		}
	}
}
