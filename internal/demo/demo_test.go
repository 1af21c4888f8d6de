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
