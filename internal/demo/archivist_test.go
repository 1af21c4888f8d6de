package demo

import (
	"context"
	"crypto/x509"
	"errors"
	"os"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/arkisto/arkisto/internal/archive"
)

// TestArchivist: the demo has an archivist of its public organisers, with
// a login certificate as PEM files and a PKCS#12 bundle a browser imports;
// an archivist removed by the operator stays removed when the demo is
// opened again.
func TestArchivist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := Open(ctx, dir, Options{Documents: 3, Clients: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(d.Archivist() + ".p12")
	if err != nil {
		t.Fatal(err)
	}
	_, cert, chain, err := pkcs12.DecodeChain(b, ArchivistP12Password)
	if err != nil {
		t.Fatalf("the PKCS#12 bundle: %v", err)
	}
	if cert.Subject.SerialNumber != ArchivistPerson {
		t.Errorf("subject serialNumber %q, want the registration number %s", cert.Subject.SerialNumber, ArchivistPerson)
	}
	inter := x509.NewCertPool()
	for _, c := range chain {
		inter.AddCert(c)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: d.World.Roots(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the archivist's certificate is no client certificate of the demo CA: %v", err)
	}
	for _, ext := range []string{".crt", ".key"} {
		if _, err := os.Stat(d.Archivist() + ext); err != nil {
			t.Error(err)
		}
	}
	caller := archive.Caller{System: archive.ArchivistSystem, Person: ArchivistPerson, Purpose: archive.PurposeArchivist}
	orgs, err := d.Service.ArchivistLogin(ctx, caller)
	if err != nil {
		t.Fatal(err)
	}
	var public []string
	for _, o := range d.World.Organisations {
		if o.Kind == archive.KindPublic {
			public = append(public, o.ControllerOID())
		}
	}
	if len(orgs) != len(public) || len(orgs) < 2 {
		t.Errorf("archivist of %d controllers, want the %d public organisers", len(orgs), len(public))
	}
	for _, c := range public {
		if _, err := archive.NewAdmin(d.Store, nil).RemoveArchivist(ctx, ArchivistPerson, c); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	again, err := Open(ctx, dir, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if _, err := again.Service.ArchivistLogin(ctx, caller); !errors.Is(err, archive.ErrForbidden) {
		t.Errorf("a removed archivist came back: err = %v", err)
	}
}
