package gen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

func TestGeneratedDocumentsReadAndVerify(t *testing.T) {
	world, err := NewPKI(PKIOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	g := New(world, Options{Seed: 2, Clients: 4, ReplaceEvery: 3, StrippedEvery: 4})
	v := &xmldsig.Verifier{Roots: world.Roots()}
	seen := map[string]int{}
	var stripped, replacements int
	for i := 0; i < 40; i++ {
		doc, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		d, probs := cda.Read(doc.XML, cda.Options{})
		if len(probs) > 0 {
			t.Fatalf("document %d does not read cleanly: %v", i, probs)
		}
		if d.ID != doc.Header.ID || d.Version != doc.Header.Version || d.Client.ID.Extension != doc.Client.ID {
			t.Fatalf("read back %s v%d, generated %s v%d", d.ID, d.Version, doc.Header.ID, doc.Header.Version)
		}
		if c, err := hetu.Parse(d.Client.ID.Extension); err != nil || !c.Temporary() {
			t.Fatalf("client id is not a test-range identity code: %v", err)
		}
		rep := v.Verify(d)
		if !rep.Accepted() {
			t.Fatalf("document %d signatures not accepted: %v", i, rep.Problems())
		}
		want := xmldsig.FormAsReceived
		if doc.Stripped {
			want = xmldsig.FormWhitespaceStripped
			stripped++
		}
		if got := rep.Signatures[0].Form; got != want {
			t.Errorf("document %d verified over %s, want %s", i, got, want)
		}
		if d.Replaces != nil {
			replacements++
			if seen[d.Replaces.ID] != d.Version-1 {
				t.Errorf("replacement %s names version %d of %s, which was generated as %d", d.ID, d.Replaces.Version, d.Replaces.ID, seen[d.Replaces.ID])
			}
		}
		seen[d.ID] = d.Version
		if i < 4 && d.DocumentGroup.Code != codes.GroupClientRelationship {
			t.Errorf("client %d does not start with a client relationship document", i)
		}
	}
	if stripped == 0 || replacements == 0 {
		t.Errorf("stream lacks variety: %d stripped, %d replacements", stripped, replacements)
	}
}

// TestRelationshipWith: a second organisation's client relationship
// document for an existing client reads, verifies with that
// organisation's system signature and names the same client under a
// relationship id of its own.
func TestRelationshipWith(t *testing.T) {
	world, err := NewPKI(PKIOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	g := New(world, Options{Seed: 2, Clients: 1, Organisers: 1})
	first, err := g.Next()
	if err != nil {
		t.Fatal(err)
	}
	c, o1, o2 := first.Client, world.Organisations[0], world.Organisations[1]
	if c.Org != o1 {
		t.Fatalf("the client is %s's, want %s's", c.Org.Name, o1.Name)
	}
	if _, err := g.RelationshipWith(c, o1); err == nil {
		t.Error("a second relationship with the client's own organisation is made")
	}
	doc, err := g.RelationshipWith(c, o2)
	if err != nil {
		t.Fatal(err)
	}
	d, probs := cda.Read(doc.XML, cda.Options{})
	if len(probs) > 0 {
		t.Fatalf("does not read cleanly: %v", probs)
	}
	rep := (&xmldsig.Verifier{Roots: world.Roots()}).Verify(d)
	if !rep.Accepted() {
		t.Fatalf("signature not accepted: %v", rep.Problems())
	}
	if doc.Org != o2 || doc.Client != c || c.Org != o1 {
		t.Errorf("doc of %s for %p, client now %s's; want %s, %p, %s", doc.Org.Name, doc.Client, c.Org.Name, o2.Name, c, o1.Name)
	}
	if d.Custodian.OID != o2.ControllerOID() || d.Organiser.OID != o2.ControllerOID() || d.DocumentGroup.Code != codes.GroupClientRelationship {
		t.Errorf("custodian %s, organiser %s, group %s", d.Custodian.OID, d.Organiser.OID, d.DocumentGroup.Code)
	}
	if d.Client.ID.Extension != c.ID || !strings.HasPrefix(d.ClientRelationshipID, o2.OID+".") || d.ClientRelationshipID == c.Relationship {
		t.Errorf("client %s, relationship %s (the first: %s)", d.Client.ID.Extension, d.ClientRelationshipID, c.Relationship)
	}
	if rep.Signatures[0].CertSHA256 != pki.Fingerprint(o2.System.Cert) {
		t.Errorf("not signed by %s's system", o2.Name)
	}
}

func TestPKISaveLoad(t *testing.T) {
	dir := t.TempDir()
	p, err := LoadOrCreatePKI(dir, PKIOptions{Seed: 3, KeyType: pki.P256})
	if err != nil {
		t.Fatal(err)
	}
	q, err := LoadOrCreatePKI(dir, PKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !q.CA.Cert.Equal(p.CA.Cert) || len(q.Organisations) != len(p.Organisations) || q.Organisations[0].OID != p.Organisations[0].OID {
		t.Fatal("loaded PKI differs from the saved one")
	}
	doc, err := New(q, Options{Clients: 1, Now: time.Now()}).Next()
	if err != nil {
		t.Fatal(err)
	}
	d, probs := cda.Read(doc.XML, cda.Options{})
	if probs != nil {
		t.Fatal(probs)
	}
	if rep := (&xmldsig.Verifier{Roots: p.Roots()}).Verify(d); !rep.Accepted() {
		t.Fatalf("ECDSA-signed document from a reloaded PKI not accepted: %v", rep.Problems())
	}
}

func TestBusinessIDCheck(t *testing.T) {
	// 3221356-1 is the business id in the public sample's OID 1.2.246.10.32213561.
	if got := businessIDCheck(3221356); got != 1 {
		t.Errorf("check digit of 3221356 = %d, want 1", got)
	}
}

// TestWorldSaysWhichOIDToOnboard: world.json names, for every organisation,
// the controller OID that is onboarded and is its documents' custodian.
func TestWorldSaysWhichOIDToOnboard(t *testing.T) {
	w, err := NewPKI(PKIOptions{Seed: 7, Organisations: 2, ProfessionalsPerOrg: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := w.Save(dir); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "world.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		About         string `json:"about"`
		Organisations []struct {
			OID           string `json:"oid"`
			ControllerOID string `json:"controllerOid"`
		} `json:"organisations"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.About, "controllerOid is the OID to onboard") || len(f.Organisations) != 2 {
		t.Fatalf("world.json: about %q, %d organisations", f.About, len(f.Organisations))
	}
	for i, o := range f.Organisations {
		if o.ControllerOID != w.Organisations[i].ControllerOID() || o.ControllerOID == o.OID {
			t.Errorf("organisation %d: controllerOid %q, oid %q", i, o.ControllerOID, o.OID)
		}
	}
	back, err := LoadPKI(dir)
	if err != nil || back.Organisations[0].OID != w.Organisations[0].OID {
		t.Fatalf("read back: %v", err)
	}
}

// TestCANamesDiffer: two generated test CAs, even from one seed, have
// different names, so that a server trusting both tells them apart in its
// log (issue 17).
func TestCANamesDiffer(t *testing.T) {
	a, err := NewPKI(PKIOptions{Seed: 1, KeyType: pki.P256, Organisations: 1, ProfessionalsPerOrg: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewPKI(PKIOptions{Seed: 1, KeyType: pki.P256, Organisations: 1, ProfessionalsPerOrg: 1})
	if err != nil {
		t.Fatal(err)
	}
	na, nb := a.CA.Cert.Subject.CommonName, b.CA.Cert.Subject.CommonName
	if na == nb || !strings.HasPrefix(na, "arkisto TEST Social Welfare CA ") {
		t.Errorf("CA names %q and %q, want distinct names that say what they are", na, nb)
	}
}

// TestRelationshipFor: another organisation's relationship document with a
// client of the stream names that client and that organisation, and reads
// and verifies like the stream's own.
func TestRelationshipFor(t *testing.T) {
	world, err := NewPKI(PKIOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	g := New(world, Options{Seed: 2, Clients: 1})
	first, err := g.Next()
	if err != nil {
		t.Fatal(err)
	}
	other := world.Organisations[1]
	if first.Org == other {
		other = world.Organisations[0]
	}
	doc, err := g.RelationshipFor(other, first.Client.ID)
	if err != nil {
		t.Fatal(err)
	}
	d, probs := cda.Read(doc.XML, cda.Options{})
	if len(probs) > 0 {
		t.Fatalf("the document does not read cleanly: %v", probs)
	}
	if rep := (&xmldsig.Verifier{Roots: world.Roots()}).Verify(d); !rep.Accepted() {
		t.Fatalf("signatures not accepted: %v", rep.Problems())
	}
	if d.Client.ID.Extension != first.Client.ID || d.Custodian.OID != other.ControllerOID() || d.DocumentGroup.Code != codes.GroupClientRelationship {
		t.Errorf("client %s, custodian %s, group %s; want %s, %s, %s", d.Client.ID.Extension, d.Custodian.OID, d.DocumentGroup.Code,
			first.Client.ID, other.ControllerOID(), codes.GroupClientRelationship)
	}
	if d.ClientRelationshipID == first.Header.ClientRelationshipID || !strings.HasPrefix(d.ClientRelationshipID, other.OID+".") {
		t.Errorf("relationship id %s: not the other organisation's own (the first is %s)", d.ClientRelationshipID, first.Header.ClientRelationshipID)
	}
	if _, err := g.RelationshipFor(other, "not-a-code"); err == nil {
		t.Error("a relationship document for a malformed identity code")
	}
}

// TestPerClient: with PerClient, every client gets exactly that many
// documents, its relationship document first, and at most Active clients
// are in progress at any point of the stream, so that any prefix holds
// few clients with only part of their documents.
func TestPerClient(t *testing.T) {
	world, err := NewPKI(PKIOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	const clients, per, active = 12, 5, 3
	g := New(world, Options{Seed: 2, Clients: clients, PerClient: per, Active: active, ReplaceEvery: 4})
	count := map[string]int{}
	done := map[string]bool{}
	for i := range clients * per {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		id := d.Client.ID
		if done[id] {
			t.Fatalf("document %d is for client %s, who had all %d documents", i, id, per)
		}
		if count[id] == 0 && d.Header.DocumentGroup.Code != codes.GroupClientRelationship {
			t.Fatalf("client %s starts with a document of group %s", id, d.Header.DocumentGroup.Code)
		}
		count[id]++
		if count[id] == per {
			done[id] = true
		}
		if open := len(count) - len(done); open > active {
			t.Fatalf("after document %d, %d clients are in progress, want at most %d", i, open, active)
		}
	}
	if len(count) != clients || len(done) != clients {
		t.Fatalf("%d clients started and %d finished, want %d and %d", len(count), len(done), clients, clients)
	}
	// Beyond clients × per documents the stream goes on over every client.
	extra := map[string]bool{}
	for range clients {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		extra[d.Client.ID] = true
	}
	if len(extra) != clients {
		t.Errorf("the %d documents after the last client finished went to %d clients, want %d", clients, len(extra), clients)
	}
}
