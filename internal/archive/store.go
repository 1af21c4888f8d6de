package archive

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"
)

// Store is the storage port. Every backend (SQLite, PostgreSQL) implements
// it, and one behaviour suite proves them the same.
type Store interface {
	// Update runs fn in a durable write transaction, committing when fn
	// returns nil. A conflicting concurrent change makes the write fail
	// with ErrConflict, never both succeed.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx is the work a transaction can do.
type Tx interface {
	// Document returns the version with the id, or ErrNotFound.
	Document(ctx context.Context, id string) (*Record, error)
	// Content returns a version's stored bytes, checking their SHA-256: a
	// missing or corrupt blob is an error, never wrong bytes.
	Content(ctx context.Context, r *Record) ([]byte, error)
	// PutDocument stores a new version and its content; an existing id or
	// (set, version) is ErrConflict.
	PutDocument(ctx context.Context, r *Record, content []byte) error
	// Supersede marks the version superseded if it is current, reporting
	// whether it was. It is the compare-and-set that lets exactly one of
	// concurrent replacements win.
	Supersede(ctx context.Context, id string) (bool, error)
	// Nullify marks a version nullified unless it already is.
	Nullify(ctx context.Context, id string, n Nullification) (bool, error)
	// Search returns up to q.Limit+1 records matching q within scope,
	// newest first, after q.Cursor.
	Search(ctx context.Context, q Query, scope Scope) ([]*Record, error)
	// Versions returns every version of a set, oldest first.
	Versions(ctx context.Context, setID string) ([]*Record, error)
	// AppendLog adds an access-log entry.
	AppendLog(ctx context.Context, e *AccessEntry) error
	// Log returns entries of one client, newest first.
	Log(ctx context.Context, q LogQuery) ([]*AccessEntry, error)

	// Administration.
	AddTrustAnchor(ctx context.Context, cert *x509.Certificate) (bool, error)
	TrustAnchors(ctx context.Context) ([]*x509.Certificate, error)
	PutOrganisation(ctx context.Context, o *Organisation) error
	Organisation(ctx context.Context, oid string) (*Organisation, error)
	Organisations(ctx context.Context) ([]*Organisation, error)
	PutSystem(ctx context.Context, s *System) error
	System(ctx context.Context, name string) (*System, error)
	SystemByCert(ctx context.Context, sha256 string) (*System, error)
	Systems(ctx context.Context) ([]*System, error)
	// RevokeSystem marks a system's certificate revoked.
	RevokeSystem(ctx context.Context, name string, at time.Time) error
	// AddRevoked records a certificate revoked by its issuer's CRL.
	AddRevoked(ctx context.Context, r RevokedCert) (bool, error)
	// RevokedCerts lists every recorded revocation.
	RevokedCerts(ctx context.Context) ([]RevokedCert, error)

	// For backup, restore and verification.

	// ScanDocuments returns up to limit versions with ids after `after`,
	// in id order.
	ScanDocuments(ctx context.Context, after string, limit int) ([]*Record, error)
	// ScanLog returns up to limit access-log entries with ids after
	// `after`, in id order.
	ScanLog(ctx context.Context, after int64, limit int) ([]*AccessEntry, error)
	// RestoreNullification records a nullification as it was, for a
	// version restored with status nullified.
	RestoreNullification(ctx context.Context, id string, n Nullification) error
}

// RevokedCert names a revoked certificate by issuer and serial number.
type RevokedCert struct {
	Issuer    string    `json:"issuer"` // hex SHA-256 of the raw issuer name
	Serial    string    `json:"serial"` // hex serial number
	RevokedAt time.Time `json:"revokedAt"`
}

// RevocationKey returns the issuer and serial that name a certificate in a CRL.
func RevocationKey(c *x509.Certificate) (issuer, serial string) {
	sum := sha256.Sum256(c.RawIssuer)
	return hex.EncodeToString(sum[:]), c.SerialNumber.Text(16)
}

// Organisation is an onboarded organisation.
type Organisation struct {
	OID     string    `json:"oid"`
	Name    string    `json:"name"`
	Kind    string    `json:"kind"` // public or private
	AddedAt time.Time `json:"addedAt"`
}

// Organisation kinds.
const (
	KindPublic  = "public"
	KindPrivate = "private"
)

// System is a registered client information system and its certificate.
type System struct {
	Name         string            `json:"name"`
	Organisation string            `json:"organisation"`
	CertSHA256   string            `json:"certSha256"`
	Cert         *x509.Certificate `json:"-"`
	AddedAt      time.Time         `json:"addedAt"`
	RevokedAt    *time.Time        `json:"revokedAt,omitempty"`
}
