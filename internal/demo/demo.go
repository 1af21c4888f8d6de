// Package demo sets up a demonstration archive: a test PKI, onboarded
// organisations with their systems, and a few hundred generated documents
// for synthetic clients archived through the domain service.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/store/sqlite"
)

// Layout names the files of a demo directory.
type Layout struct{ Dir string }

func (l Layout) PKI() string  { return filepath.Join(l.Dir, "pki") }
func (l Layout) Data() string { return filepath.Join(l.Dir, "data") }
func (l Layout) done() string { return filepath.Join(l.Dir, "data", "demo.json") }

// Options shape a new demo.
type Options struct {
	Documents int // default 300
	Clients   int // default 40
}

// Demo is a ready demo archive.
type Demo struct {
	Layout
	World   *gen.PKI
	Store   *sqlite.Store
	Service *archive.Service
	Created bool     // made now rather than reused
	Clients []string // identity codes of demo clients, first first
	log     *slog.Logger
}

// Exists reports whether dir holds a complete demo, which Open reuses.
func Exists(dir string) bool {
	_, err := os.Stat(Layout{dir}.done())
	return err == nil
}

// Open reuses the demo in dir or creates it.
func Open(ctx context.Context, dir string, opt Options, logger *slog.Logger) (*Demo, error) {
	if opt.Documents <= 0 {
		opt.Documents = 300
	}
	if opt.Clients <= 0 {
		opt.Clients = 40
	}
	l := Layout{dir}
	world, err := gen.LoadOrCreatePKI(l.PKI(), gen.PKIOptions{KeyType: pki.RSA2048})
	if err != nil {
		return nil, fmt.Errorf("demo PKI: %w", err)
	}
	st, err := sqlite.Open(ctx, l.Data())
	if err != nil {
		return nil, err
	}
	d := &Demo{Layout: l, World: world, Store: st, Service: archive.NewService(st, archive.Rules{}, archive.Config{}, logger), log: logger}
	if b, err := os.ReadFile(l.done()); err == nil {
		var m manifest
		if err := json.Unmarshal(b, &m); err != nil {
			st.Close()
			return nil, fmt.Errorf("%s: %w", l.done(), err)
		}
		d.Clients = m.Clients
		return d, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		st.Close()
		return nil, err
	}
	if err := d.fill(ctx, opt); err != nil {
		st.Close()
		return nil, fmt.Errorf("fill the demo archive: %w", err)
	}
	d.Created = true
	b, err := json.MarshalIndent(manifest{Clients: d.Clients}, "", "  ")
	if err != nil {
		st.Close()
		return nil, err
	}
	// Written last: a demo interrupted while filling is filled again.
	if err := os.WriteFile(l.done(), b, 0o600); err != nil {
		st.Close()
		return nil, err
	}
	return d, nil
}

// manifest marks a complete demo and lists its synthetic clients.
type manifest struct {
	Clients []string `json:"clients"`
}

// Close closes the store.
func (d *Demo) Close() error { return d.Store.Close() }

func (d *Demo) fill(ctx context.Context, opt Options) error {
	if err := archive.NewAdmin(d.Store, d.log).Apply(ctx, d.World.Setup(true)); err != nil {
		return err
	}
	g := gen.New(d.World, gen.Options{Clients: opt.Clients, ReplaceEvery: 7, StrippedEvery: 11})
	for i := 0; i < opt.Documents; i++ {
		doc, err := g.Next()
		if err != nil {
			return err
		}
		c := Caller(doc.Org)
		if _, err := d.Service.Archive(ctx, c, doc.XML); err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
	}
	for _, c := range g.Clients() {
		d.Clients = append(d.Clients, c.ID)
	}
	return nil
}

// Caller is the demo caller of an organisation's system.
func Caller(o *gen.Organisation) archive.Caller {
	return archive.Caller{System: o.SystemName, Organisation: o.ControllerOID(), Person: "10000000001", PersonName: "Demo Käyttäjä", Unit: o.Units[1].OID, Purpose: codes.UsageOwnRegister}
}
