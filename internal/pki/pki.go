// Package pki makes the test and demo public key infrastructure: a CA that
// issues system certificates (organisation OID in the subject serialNumber),
// professional certificates (registration number in the serialNumber) and
// TLS server certificates, modelled on the national social and health care
// CA. It also reads and writes PEM files.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// KeyType selects the key algorithm of a new certificate.
type KeyType string

const (
	RSA2048 KeyType = "rsa2048"
	RSA3072 KeyType = "rsa3072"
	P256    KeyType = "p256"
)

// Identity is a certificate with its private key and the chain above it
// (not including the trust anchor).
type Identity struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain []*x509.Certificate // intermediates, leaf excluded
}

// CA issues certificates.
type CA struct {
	Identity
}

// NewKey generates a private key.
func NewKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case RSA2048, "":
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case P256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return nil, fmt.Errorf("unknown key type %q", t)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}

// NewCA makes a self-signed CA valid from notBefore for the given duration.
func NewCA(name string, kt KeyType, notBefore time.Time, validity time.Duration) (*CA, error) {
	key, err := NewKey(kt)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Country: []string{"FI"}, Organization: []string{"arkisto test PKI"}, CommonName: name},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Identity{Cert: cert, Key: key}}, nil
}

// Template describes a certificate to issue.
type Template struct {
	Subject   pkix.Name
	KeyType   KeyType
	NotBefore time.Time
	Validity  time.Duration
	// Signing certificates carry digitalSignature and nonRepudiation;
	// TLS ones digitalSignature and keyEncipherment with the EKUs below.
	TLSServer bool
	TLSClient bool
	DNSNames  []string
	IPs       []net.IP
	IsCA      bool
}

// Issue signs a new certificate.
func (ca *CA) Issue(t Template) (*Identity, error) {
	key, err := NewKey(t.KeyType)
	if err != nil {
		return nil, err
	}
	if t.NotBefore.IsZero() {
		t.NotBefore = time.Now().Add(-time.Hour)
	}
	if t.Validity == 0 {
		t.Validity = 2 * 365 * 24 * time.Hour
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               t.Subject,
		NotBefore:             t.NotBefore,
		NotAfter:              t.NotBefore.Add(t.Validity),
		BasicConstraintsValid: true,
		IsCA:                  t.IsCA,
		DNSNames:              t.DNSNames,
		IPAddresses:           t.IPs,
	}
	switch {
	case t.IsCA:
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	case t.TLSServer || t.TLSClient:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := key.(*rsa.PrivateKey); ok {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
		if t.TLSServer {
			tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		}
		if t.TLSClient {
			tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
		}
	default:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("issue certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	chain := append([]*x509.Certificate(nil), ca.Chain...)
	if len(ca.Chain) > 0 || !isSelfSigned(ca.Cert) {
		chain = append([]*x509.Certificate{ca.Cert}, ca.Chain...)
	}
	return &Identity{Cert: cert, Key: key, Chain: chain}, nil
}

func isSelfSigned(c *x509.Certificate) bool {
	return c.CheckSignatureFrom(c) == nil
}

// SystemSubject is the subject of a client information system's certificate:
// the organisation OID in serialNumber, as in the national service certificates.
func SystemSubject(orgOID, orgName, systemName string) pkix.Name {
	return pkix.Name{Country: []string{"FI"}, Organization: []string{orgName}, SerialNumber: orgOID, CommonName: systemName}
}

// ProfessionalSubject is a professional's certificate subject: the
// registration number in serialNumber.
func ProfessionalSubject(regNumber, given, family string) pkix.Name {
	return pkix.Name{
		Country:      []string{"FI"},
		SerialNumber: regNumber,
		CommonName:   family + " " + given + " " + regNumber,
		ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: []int{2, 5, 4, 42}, Value: given}, // givenName
			{Type: []int{2, 5, 4, 4}, Value: family}, // surname
		},
	}
}

// EncodeCert returns a certificate as PEM.
func EncodeCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// EncodeKey returns a private key as PKCS#8 PEM.
func EncodeKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Save writes the identity as <base>.crt (leaf then chain) and <base>.key (mode 0600).
func (id *Identity) Save(base string) error {
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return err
	}
	certs := EncodeCert(id.Cert)
	for _, c := range id.Chain {
		certs = append(certs, EncodeCert(c)...)
	}
	if err := os.WriteFile(base+".crt", certs, 0o644); err != nil {
		return err
	}
	key, err := EncodeKey(id.Key)
	if err != nil {
		return err
	}
	return os.WriteFile(base+".key", key, 0o600)
}

// ParseCerts reads every certificate in PEM (or a single DER) data.
func ParseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, errors.New("no certificate found (PEM CERTIFICATE or DER expected)")
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseKey reads a PEM private key (PKCS#8, PKCS#1 or SEC 1).
func ParseKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no private key found in PEM data")
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse PKCS#8 key: %w", err)
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, errors.New("key cannot sign")
			}
			return s, nil
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			return x509.ParseECPrivateKey(b.Bytes)
		}
	}
}

// Load reads <base>.crt and <base>.key.
func Load(base string) (*Identity, error) {
	cd, err := os.ReadFile(base + ".crt")
	if err != nil {
		return nil, err
	}
	certs, err := ParseCerts(cd)
	if err != nil {
		return nil, fmt.Errorf("%s.crt: %w", base, err)
	}
	kd, err := os.ReadFile(base + ".key")
	if err != nil {
		return nil, err
	}
	key, err := ParseKey(kd)
	if err != nil {
		return nil, fmt.Errorf("%s.key: %w", base, err)
	}
	return &Identity{Cert: certs[0], Key: key, Chain: certs[1:]}, nil
}

// Fingerprint is a certificate's fingerprint as the archive names it: the
// hex SHA-256 of its DER.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// ParseCRL reads a certificate revocation list, PEM or DER.
func ParseCRL(data []byte) (*x509.RevocationList, error) {
	if b, _ := pem.Decode(data); b != nil {
		data = b.Bytes
	}
	crl, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, fmt.Errorf("not a CRL: %w", err)
	}
	return crl, nil
}
