package demo

import (
	"context"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
)

func TestOpenCreatesThenReuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if Exists(dir) {
		t.Fatal("an empty directory holds a demo")
	}
	d, err := Open(ctx, dir, Options{Documents: 12, Clients: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Created || len(d.Clients) != 3 {
		t.Fatalf("first open: created %v, %d clients", d.Created, len(d.Clients))
	}
	// Every demo document is readable by its organisation's system.
	total := 0
	for _, o := range d.World.Organisations {
		page, err := d.Service.Search(ctx, Caller(o), archive.Query{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		total += len(page.Records)
	}
	if total < 12 {
		t.Fatalf("%d documents findable, want at least 12 (replacements keep their versions)", total)
	}
	var systems int
	d.Store.View(ctx, func(tx archive.Tx) error {
		s, err := tx.Systems(ctx)
		systems = len(s)
		return err
	})
	if systems != len(d.World.Organisations) {
		t.Errorf("%d systems registered for %d organisations", systems, len(d.World.Organisations))
	}
	d.Close()
	if !Exists(dir) {
		t.Fatal("the demo just made does not exist")
	}

	again, err := Open(ctx, dir, Options{Documents: 12, Clients: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Created || len(again.Clients) != 3 || again.Clients[0] != d.Clients[0] {
		t.Fatalf("second open did not reuse the demo: created %v, clients %v", again.Created, again.Clients)
	}
	if again.World.CA.Cert.SerialNumber.Cmp(d.World.CA.Cert.SerialNumber) != 0 {
		t.Error("second open made a new CA")
	}
}

// TestDemoGuardian: the demo's guardian acts for the demo child and sees
// the child's plan that may be disclosed to guardians and not the one the
// child forbids; the child sees both. A reused demo keeps the family.
func TestDemoGuardian(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := Open(ctx, dir, Options{Documents: 6, Clients: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Guardian == "" || d.Child == "" {
		t.Fatal("the demo has no guardian and child")
	}
	kids, err := d.Service.GuardianChildren(ctx, archive.CitizenCaller(d.Guardian, GuardianName))
	if err != nil || len(kids) != 1 || kids[0].Child != d.Child {
		t.Fatalf("the guardian's children: %+v, %v", kids, err)
	}
	codes := func(c archive.Caller) map[string]int {
		recs, err := d.Service.CitizenDocuments(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, r := range recs {
			if r.Header.DocumentGroup.Code == "5" {
				out[r.Header.GuardianDisclosure.Code]++
			}
		}
		return out
	}
	if got := codes(archive.GuardianCaller(d.Guardian, GuardianName, d.Child)); got["1"] != 1 || len(got) != 1 {
		t.Errorf("the guardian sees plans with guardian codes %v, want one with 1", got)
	}
	if got := codes(archive.CitizenCaller(d.Child, "")); got["1"] != 1 || got["2"] != 1 {
		t.Errorf("the child sees plans with guardian codes %v, want one with 1 and one with 2", got)
	}
	d.Close()
	again, err := Open(ctx, dir, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Guardian != d.Guardian || again.Child != d.Child {
		t.Errorf("the reused demo's family: %s, %s", again.Guardian, again.Child)
	}
}
