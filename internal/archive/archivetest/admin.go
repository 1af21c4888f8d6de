package archivetest

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// testAdministration: administrative changes go through archive.Admin,
// which checks them, logs them for the operator, and reaches the service's
// one trust cache (which the doors share) within its TTL.
func testAdministration(t *testing.T, e *Env) {
	ctx := context.Background()
	logs := &OperatorLog{}
	adm := archive.NewAdmin(e.Store, slog.New(logs))
	org := e.World.Organisations[0]

	// A system of an organisation that is not onboarded is refused.
	stranger := &archive.System{Name: "stranger", Organisation: "1.2.246.10.99999999", Cert: org.System.Cert}
	if err := adm.AddSystem(ctx, stranger); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("a system of an organisation not onboarded: %v", err)
	}
	if err := adm.AddSystem(ctx, &archive.System{Name: org.SystemName, Organisation: org.ControllerOID(), Cert: org.System.Cert}); err != nil {
		t.Fatal(err)
	}
	if !logs.Has("system registered") {
		t.Errorf("registering a system is not in the operator log: %q", logs.Messages(slog.LevelInfo))
	}

	// The service's trust cache sees the system, and its revocation,
	// within the TTL; the door's registry is the same cache.
	snap, err := e.Service.Trust().Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sys, ok := snap.SystemByCert(pki.Fingerprint(org.System.Cert)); !ok || sys.RevokedAt != nil {
		t.Fatalf("the trust cache does not have the registered system: %+v", sys)
	}
	if err := adm.RevokeSystem(ctx, org.SystemName); err != nil {
		t.Fatal(err)
	}
	if err := adm.RevokeSystem(ctx, "no such system"); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("revoking a system that does not exist: %v", err)
	}
	e.Later(archive.DefaultTrustTTL + time.Second)
	if snap, err = e.Service.Trust().Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if sys, ok := snap.SystemByCert(pki.Fingerprint(org.System.Cert)); !ok || sys.RevokedAt == nil {
		t.Errorf("the trust cache does not see the revocation after its TTL: %+v", sys)
	}

	// A CRL no trust anchor signed changes nothing; one the CA signed
	// revokes its certificates, once.
	crl := func(ca *pki.CA) *x509.RevocationList {
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(24 * time.Hour),
			RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: org.System.Cert.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)}},
		}, ca.Cert, ca.Key)
		if err != nil {
			t.Fatal(err)
		}
		l, err := pki.ParseCRL(der)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	other, err := gen.NewPKI(gen.PKIOptions{Organisations: 1, ProfessionalsPerOrg: 1, KeyType: pki.P256})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := adm.ImportCRL(ctx, crl(other.CA)); !errors.Is(err, archive.ErrCRLUntrusted) {
		t.Fatalf("a CRL of an untrusted CA: %v", err)
	}
	if _, n, err := adm.ImportCRL(ctx, crl(e.World.CA)); err != nil || n != 1 {
		t.Fatalf("the CA's CRL: %d new, %v", n, err)
	}
	if _, n, err := adm.ImportCRL(ctx, crl(e.World.CA)); err != nil || n != 0 {
		t.Fatalf("the CA's CRL again: %d new, %v", n, err)
	}
	if !logs.Has("CRL imported") {
		t.Errorf("a CRL import is not in the operator log: %q", logs.Messages(slog.LevelInfo))
	}
	// The service refuses what the revoked certificate signs once its
	// cache has reloaded.
	e.Later(archive.DefaultTrustTTL + time.Second)
	d := e.Next()
	for d.Org != org || d.Header.DocumentGroup.Code != codes.GroupClientRelationship { // signed by the system
		d = e.Next()
	}
	chs, err := e.Service.Inspect(ctx, d.XML)
	if err != nil {
		t.Fatal(err)
	}
	if !chs[0].Problem.Has(xmldsig.RuleRevoked) {
		t.Errorf("a document signed by the revoked system after the CRL import: %v", chs[0].Problem)
	}
}
