package cli

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/gen"
)

// `arkisto validate --crl` refuses a signature whose certificate the CRL
// revokes, and accepts a CRL only when a given CA signed it.
func TestValidateRevokedSigner(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := run(t, "gen", "--out", dir, "--count", "2", "--clients", "1", "--key", "p256"); code != 0 {
		t.Fatalf("gen: %d %s%s", code, out, errs)
	}
	world, err := gen.LoadPKI(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(dir, "docs", "0000", "00000000.xml") // signed by the organisation's system
	ca := filepath.Join(dir, "pki", "ca.crt")
	crl := func(name string, issuer *gen.PKI) string {
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(24 * time.Hour),
			RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: world.Organisations[0].System.Cert.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)}},
		}, issuer.CA.Cert, issuer.CA.Key)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	good := crl("ca.crl", world)

	if code, out, _ := run(t, "--data", dir, "validate", "--trust-ca", ca, doc); code != 0 {
		t.Fatalf("without the CRL: exit %d\n%s", code, out)
	}
	code, out, _ := run(t, "--data", dir, "validate", "--trust-ca", ca, "--crl", good, doc)
	if code != 1 || !strings.Contains(out, "error SIG_REVOKED at /ClinicalDocument/hl7fi:localSocialHeader/hl7fi:signatureCollection/hl7fi:signature[1]/ds:Signature/ds:KeyInfo") || !strings.Contains(out, "REVOKED by a CRL") {
		t.Fatalf("with the CRL: exit %d\n%s", code, out)
	}
	// The other document is signed by a professional, whom the CRL does not name.
	if code, out, _ := run(t, "--data", dir, "validate", "--trust-ca", ca, "--crl", good, filepath.Join(dir, "docs", "0000", "00000001.xml")); code != 0 {
		t.Fatalf("a signer the CRL does not revoke: exit %d\n%s", code, out)
	}
	// A CRL no given CA signed is refused outright.
	other, err := gen.NewPKI(gen.PKIOptions{Organisations: 1, ProfessionalsPerOrg: 1, KeyType: "p256"})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "--data", dir, "validate", "--trust-ca", ca, "--crl", crl("other.crl", other), doc); code == 0 || !strings.Contains(errs, "--crl") {
		t.Fatalf("a CRL of another CA: exit %d, %s", code, errs)
	}
}
