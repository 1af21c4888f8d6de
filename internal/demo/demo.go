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
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/store/sqlite"
)

// Layout names the files of a demo directory.
type Layout struct{ Dir string }

func (l Layout) PKI() string  { return filepath.Join(l.Dir, "pki") }
func (l Layout) Data() string { return filepath.Join(l.Dir, "data") }
func (l Layout) done() string { return filepath.Join(l.Dir, "data", "demo.json") }

// Archivist is the base of the demo archivist's files in the PKI
// directory: .crt and .key (PEM), and .p12 for a browser.
func (l Layout) Archivist() string { return filepath.Join(l.PKI(), "archivist") }

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
	// Guardian is the identity code of the demo guardian of Child, a minor
	// with a document that may be disclosed to guardians and one that may
	// not.
	Guardian, Child string
	log             *slog.Logger
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
		d.Clients, d.Guardian, d.Child = m.Clients, m.Guardian, m.Child
		// A demo made before the archivist UI gets its archivist now, and
		// one made before guardians its guardian.
		if err := d.addArchivist(ctx); err != nil {
			st.Close()
			return nil, err
		}
		if d.Guardian == "" {
			if err := d.addFamily(ctx); err != nil {
				st.Close()
				return nil, err
			}
			if err := d.writeManifest(); err != nil {
				st.Close()
				return nil, err
			}
		}
		return d, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		st.Close()
		return nil, err
	}
	if err := d.fill(ctx, opt); err != nil {
		st.Close()
		return nil, fmt.Errorf("fill the demo archive: %w", err)
	}
	if err := d.addArchivist(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := d.addFamily(ctx); err != nil {
		st.Close()
		return nil, err
	}
	d.Created = true
	// Written last: a demo interrupted while filling is filled again.
	if err := d.writeManifest(); err != nil {
		st.Close()
		return nil, err
	}
	return d, nil
}

// manifest marks a complete demo and lists its synthetic clients.
type manifest struct {
	Clients  []string `json:"clients"`
	Guardian string   `json:"guardian,omitempty"`
	Child    string   `json:"child,omitempty"`
}

func (d *Demo) writeManifest() error {
	b, err := json.MarshalIndent(manifest{Clients: d.Clients, Guardian: d.Guardian, Child: d.Child}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(d.done(), b, 0o600)
}

// GuardianName and ChildAge describe the demo's guardian and child.
const (
	GuardianName = "Demohuoltaja"
	ChildAge     = 9
)

// addFamily makes the demo's guardian and child: a minor, a client of the
// first public organiser, with a client relationship document and two
// client plans, one that may be disclosed to guardians (code 1 of
// 1.2.246.537.6.1286.201901) and one the child forbids (code 2); and the
// guardianship.
func (d *Demo) addFamily(ctx context.Context) error {
	var org *gen.Organisation
	for _, o := range d.World.Organisations {
		if o.Kind == archive.KindPublic && org == nil {
			org = o
		}
	}
	if org == nil {
		return errors.New("the demo has no public organiser for its guardian's child")
	}
	g := gen.New(d.World, gen.Options{})
	c, rel, err := g.Minor(org, ChildAge)
	if err != nil {
		return err
	}
	docs := []*gen.Doc{rel}
	for _, code := range []string{"1", "2"} {
		doc, err := g.PlanWithGuardianCode(c, code)
		if err != nil {
			return err
		}
		docs = append(docs, doc)
	}
	for _, doc := range docs {
		if _, err := d.Service.Archive(ctx, Caller(org), doc.XML); err != nil {
			return fmt.Errorf("the demo child's document: %w", err)
		}
	}
	guardian, err := hetu.Make(time.Date(1984, 4, 12, 0, 0, 0, 0, time.UTC), 952, '-')
	if err != nil {
		return err
	}
	if err := archive.NewAdmin(d.Store, d.log).AddGuardian(ctx, &archive.Guardianship{Guardian: guardian, Child: c.ID, ChildName: c.Given + " " + c.Family}); err != nil {
		return fmt.Errorf("the demo guardianship: %w", err)
	}
	d.Guardian, d.Child = guardian, c.ID
	return nil
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

// The demo archivist: a professional with a certificate for logging in
// (client authentication), archivist of the public organisers, so that
// the UI asks which one to act for.
const (
	ArchivistPerson      = "20000000001"
	ArchivistGiven       = "Aino"
	ArchivistFamily      = "Arkistonhoitaja"
	ArchivistP12Password = "arkisto-demo"
)

// addArchivist makes the demo archivist once: it writes the certificate,
// key and PKCS#12 bundle, and makes the person an archivist of the public
// organisers. A demo that has them is left as it is, so that an
// archivist an operator removed stays removed.
func (d *Demo) addArchivist(ctx context.Context) error {
	base := d.Archivist()
	if _, err := os.Stat(base + ".p12"); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	admin := archive.NewAdmin(d.Store, d.log)
	for _, o := range d.World.Organisations {
		if o.Kind != archive.KindPublic {
			continue
		}
		a := &archive.Archivist{Person: ArchivistPerson, Name: ArchivistGiven + " " + ArchivistFamily, Controller: o.ControllerOID()}
		if err := admin.AddArchivist(ctx, a); err != nil {
			return fmt.Errorf("make the demo archivist an archivist of %s: %w", o.Name, err)
		}
	}
	id, err := d.World.CA.Issue(pki.Template{Subject: pki.ProfessionalSubject(ArchivistPerson, ArchivistGiven, ArchivistFamily), KeyType: pki.RSA2048, TLSClient: true})
	if err != nil {
		return fmt.Errorf("the demo archivist's certificate: %w", err)
	}
	if err := id.Save(base); err != nil {
		return err
	}
	// The 2023 algorithms (AES-256, PBKDF2), which current browsers import.
	p12, err := pkcs12.Modern2023.Encode(id.Key, id.Cert, id.Chain, ArchivistP12Password)
	if err != nil {
		return fmt.Errorf("the demo archivist's PKCS#12 bundle: %w", err)
	}
	// Written last: its presence says the archivist is complete.
	return os.WriteFile(base+".p12", p12, 0o600)
}

// Caller is the demo caller of an organisation's system.
func Caller(o *gen.Organisation) archive.Caller {
	return archive.Caller{System: o.SystemName, Organisation: o.ControllerOID(), Person: "10000000001", PersonName: "Demo Käyttäjä", Unit: o.Units[1].OID, Purpose: codes.UsageOwnRegister}
}
