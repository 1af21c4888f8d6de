package archive

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"

	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/fitime"
	"github.com/arkisto/arkisto/internal/relationship"
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

// AccessAppender is implemented by stores that write an access-log entry on
// its own more cheaply than in a general write transaction (SQLite writes
// all entries waiting in one insert). AppendAccessEntry returns once the
// entry is durable, and sets its ID.
type AccessAppender interface {
	AppendAccessEntry(ctx context.Context, e *AccessEntry) error
}

// TokenLedger is implemented by stores that record the bearer tokens the
// archive has accepted, so that every server on one archive (several
// behind a load balancer) refuses a token any of them has accepted.
type TokenLedger interface {
	// UseToken records a token's replay key until expires and reports
	// whether it was new; false means a server on this archive has used
	// it already. Of concurrent uses of one key exactly one is new. The
	// store forgets keys after they expire, in bounded batches.
	UseToken(ctx context.Context, key []byte, expires time.Time) (bool, error)
}

// IDScanner is implemented by transactions that can list document ids
// without decoding the records, so that verification can name a record
// that no longer decodes and go on with the rest.
type IDScanner interface {
	// ScanDocumentIDs returns up to limit document ids after `after`, in
	// id order.
	ScanDocumentIDs(ctx context.Context, after string, limit int) ([]string, error)
}

// Tx is the work a transaction can do. It is composed of small ports,
// one per kind of thing the archive keeps, so that each consumer names the
// smallest it needs (the policy reads organisations and grants; backup
// scans), as database/sql/driver does.
type Tx interface {
	Documents
	AccessLog
	Organisations
	Trust
	Registers
	Relationships
	Archivists
	Guardians
	Wills
	Disclosures
	SubmissionSets
	Scans
}

// Documents are the archived versions and their content.
type Documents interface {
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
	// concurrent replacements win. at is when (Record.Updated).
	Supersede(ctx context.Context, id string, at time.Time) (bool, error)
	// PatientClient returns the client key of the documents stored with
	// the Patient id, ErrNotFound when there are none.
	PatientClient(ctx context.Context, patientID string) (string, error)
	// Nullify marks a version nullified unless it already is.
	Nullify(ctx context.Context, id string, n Nullification) (bool, error)
	// Search returns up to q.Limit+1 records matching q within scope,
	// newest first, after q.Cursor.
	Search(ctx context.Context, q Query, scope Scope) ([]*Record, error)
	// Versions returns every version of a set, oldest first.
	Versions(ctx context.Context, setID string) ([]*Record, error)
	// SearchCount counts the records matching q within scope, ignoring
	// q.Cursor and q.Limit: the exact total of a search after every
	// access and disclosure decision.
	SearchCount(ctx context.Context, q Query, scope Scope) (int, error)
}

// AccessLog is the legally required access log (not the operator's log).
type AccessLog interface {
	// AppendAccess adds an access-log entry.
	AppendAccess(ctx context.Context, e *AccessEntry) error
	// AccessLog returns entries of one client, newest first.
	AccessLog(ctx context.Context, q AccessLogQuery) ([]*AccessEntry, error)
}

// Organisations are the onboarded organisations and their systems.
type Organisations interface {
	PutOrganisation(ctx context.Context, o *Organisation) error
	Organisation(ctx context.Context, oid string) (*Organisation, error)
	Organisations(ctx context.Context) ([]*Organisation, error)
	PutSystem(ctx context.Context, s *System) error
	System(ctx context.Context, name string) (*System, error)
	SystemByCert(ctx context.Context, sha256 string) (*System, error)
	Systems(ctx context.Context) ([]*System, error)
	// RevokeSystem marks a system's certificate revoked.
	RevokeSystem(ctx context.Context, name string, at time.Time) error
}

// Trust is the trust anchors and the revocations of imported CRLs.
type Trust interface {
	AddTrustAnchor(ctx context.Context, cert *x509.Certificate) (bool, error)
	TrustAnchors(ctx context.Context) ([]*x509.Certificate, error)
	// AddRevoked records a certificate revoked by its issuer's CRL.
	AddRevoked(ctx context.Context, r RevokedCert) (bool, error)
	// RevokedCerts lists every recorded revocation.
	RevokedCerts(ctx context.Context) ([]RevokedCert, error)
}

// Registers are the controllers' registers and their transfers.
type Registers interface {
	PutRegister(ctx context.Context, r *Register) error
	Register(ctx context.Context, controller, typ string) (*Register, error)
	Registers(ctx context.Context) ([]*Register, error)
	// MoveDocuments gives up to limit versions of a register, with ids
	// after `after`, to another controller; it returns how many it moved
	// and the last id.
	MoveDocuments(ctx context.Context, from, to, typ, after string, limit int) (int, string, error)
	// CountDocuments counts the versions a controller holds in a register.
	CountDocuments(ctx context.Context, controller, typ string) (int, error)
	// MoveRelationships gives a controller's client relationships to another.
	MoveRelationships(ctx context.Context, from, to string) (int, error)
	PutTransfer(ctx context.Context, t *Transfer) error
	Transfers(ctx context.Context) ([]*Transfer, error)
}

// Relationships are the client relationships and the register access
// rights they grant. A relationship belongs to its organiser: another
// organiser's relationship with the same client and id is another
// relationship.
type Relationships interface {
	// PutRelationship stores a relationship, replacing the organiser's
	// relationship with the same client and id.
	PutRelationship(ctx context.Context, r *Relationship) error
	WithdrawRelationship(ctx context.Context, k RelationshipKey) error
	Relationship(ctx context.Context, k RelationshipKey) (*Relationship, error)
	// ClientRelationships returns every stored relationship of a client,
	// of every organiser, in key order (organiser, id).
	ClientRelationships(ctx context.Context, clientKey string) ([]*Relationship, error)
	// Grants returns the access rights given to a provider organisation
	// (1.2.246.10.<business id>) for a client.
	Grants(ctx context.Context, clientKey, provider string) ([]Grant, error)
}

// Wills are clients' will expressions (internal/consent): the information
// notice, disclosure consents and prohibitions. Nothing is overwritten: a
// withdrawal is recorded beside the expression it ends.
type Wills interface {
	// PutWill stores a new will expression; an existing id is ErrConflict.
	// Its Withdrawn must be nil.
	PutWill(ctx context.Context, e *consent.Expression) error
	// WithdrawWill records the withdrawal of an expression, reporting
	// false when it was withdrawn already (the first withdrawal stands);
	// an unknown id is ErrNotFound.
	WithdrawWill(ctx context.Context, id string, w consent.Withdrawal) (bool, error)
	// Will returns an expression with its withdrawal, or ErrNotFound.
	Will(ctx context.Context, id string) (*consent.Expression, error)
	// Wills returns a client's whole history of will expressions, with
	// their withdrawals, oldest first (by RecordedAt, then id).
	Wills(ctx context.Context, clientKey string) ([]*consent.Expression, error)
}

// Disclosures are the disclosure log: append-only, apart from the access
// log.
type Disclosures interface {
	// AppendDisclosure adds an entry and sets its ID.
	AppendDisclosure(ctx context.Context, d *Disclosure) error
	// Disclosures returns entries matching q, newest first (by id).
	Disclosures(ctx context.Context, q DisclosureQuery) ([]*Disclosure, error)
}

// Guardians are the guardianships of minors, as the population register
// states them (arkisto admin guardian stands in for it). Nothing is
// deleted: removing a guardianship ends it, and the ended row stays so that
// the access log's guardian entries can be explained afterwards.
type Guardians interface {
	// PutGuardianship records a guardianship in force from g.From and sets
	// g.ID; one already in force for the same guardian and child is
	// ErrConflict.
	PutGuardianship(ctx context.Context, g *Guardianship) error
	// EndGuardianship ends the guardianship in force of the guardian over
	// the child at `at`, reporting false when none is in force.
	EndGuardianship(ctx context.Context, guardian, child string, at time.Time) (bool, error)
	// Guardianships returns the guardianships q selects, in force and
	// ended, by guardian, child and start.
	Guardianships(ctx context.Context, q GuardianshipQuery) ([]*Guardianship, error)
}

// Archivists are the persons who are archivists of controllers.
type Archivists interface {
	PutArchivist(ctx context.Context, a *Archivist) error
	RemoveArchivist(ctx context.Context, person, controller string) (bool, error)
	Archivists(ctx context.Context) ([]*Archivist, error)
}

// Scans read and write everything in key order, for backup, restore and
// verification.
type Scans interface {
	// ScanDocuments returns up to limit versions with ids after `after`,
	// in id order.
	ScanDocuments(ctx context.Context, after string, limit int) ([]*Record, error)
	// ScanAccessLog returns up to limit access-log entries with ids after
	// `after`, in id order.
	ScanAccessLog(ctx context.Context, after int64, limit int) ([]*AccessEntry, error)
	// ScanRelationships returns up to limit relationships (with their
	// grants) after the given key, in key order (client, organiser, id).
	ScanRelationships(ctx context.Context, after RelationshipKey, limit int) ([]*Relationship, error)
	// ScanWills returns up to limit will expressions (with their
	// withdrawals) with ids after `after`, in id order.
	ScanWills(ctx context.Context, after string, limit int) ([]*consent.Expression, error)
	// ScanDisclosures returns up to limit disclosure-log entries with ids
	// after `after`, in id order.
	ScanDisclosures(ctx context.Context, after int64, limit int) ([]*Disclosure, error)
	// ScanSubmissionSets returns up to limit submission sets with ids
	// after `after`, in id order.
	ScanSubmissionSets(ctx context.Context, after string, limit int) ([]*SubmissionSet, error)
	// RestoreNullification records a nullification as it was, for a
	// version restored with status nullified.
	RestoreNullification(ctx context.Context, id string, n Nullification) error
	// RestoreDisclosure appends a disclosure-log entry keeping its ID (a
	// client or a recipient may have been told it), for a restore into an
	// empty archive; later entries get larger ids. A taken id is
	// ErrConflict.
	RestoreDisclosure(ctx context.Context, d *Disclosure) error
}

// RevokedCert names a revoked certificate by issuer and serial number.
type RevokedCert struct {
	Issuer    string    `json:"issuer"` // hex SHA-256 of the raw issuer name
	Serial    string    `json:"serial"` // hex serial number
	RevokedAt time.Time `json:"revokedAt"`
}

// RevocationKey returns the issuer and serial that name a certificate in a CRL.
func RevocationKey(c *x509.Certificate) (issuer, serial string) {
	return issuerKey(c.RawIssuer), c.SerialNumber.Text(16)
}

// issuerKey names an issuer: the hex SHA-256 of its raw name.
func issuerKey(rawIssuer []byte) string {
	sum := sha256.Sum256(rawIssuer)
	return hex.EncodeToString(sum[:])
}

// Organisation is an onboarded organisation.
type Organisation struct {
	OID        string     `json:"oid"`
	Name       string     `json:"name"` // in Finnish
	NameSV     string     `json:"nameSv,omitempty"`
	NameEN     string     `json:"nameEn,omitempty"`
	BusinessID string     `json:"businessId,omitempty"`
	Kind       string     `json:"kind"` // public (service organiser) or private (provider)
	Parent     string     `json:"parent,omitempty"`
	ActiveFrom *time.Time `json:"activeFrom,omitempty"`
	ActiveTo   *time.Time `json:"activeTo,omitempty"`
	AddedAt    time.Time  `json:"addedAt"`
}

// ActiveAt reports whether the organisation is active at t.
func (o *Organisation) ActiveAt(t time.Time) bool {
	return (o.ActiveFrom == nil || !t.Before(*o.ActiveFrom)) && (o.ActiveTo == nil || t.Before(*o.ActiveTo))
}

// Register is a controller's register of one type (code set
// 1.2.246.537.6.1264.201701; 1 = social welfare client register).
type Register struct {
	Controller    string     `json:"controller"`
	Type          string     `json:"type"`
	AddedAt       time.Time  `json:"addedAt"`
	TransferredTo string     `json:"transferredTo,omitempty"`
	TransferredAt *time.Time `json:"transferredAt,omitempty"`
}

// Transfer is a move of registers to a new controller; it is resumable.
type Transfer struct {
	ID           int64      `json:"id"`
	From         string     `json:"from"`
	To           string     `json:"to"`
	RegisterType string     `json:"registerType"`
	Effective    time.Time  `json:"effective"`
	StartedAt    time.Time  `json:"startedAt"`
	FinishedAt   *time.Time `json:"finishedAt,omitempty"`
	LastDoc      string     `json:"lastDoc"`
	Moved        int        `json:"moved"`
	Total        int        `json:"total"`
}

// RelationshipKey names a client relationship: the client, the organiser
// whose register it is in, and the relationship id the document gives.
type RelationshipKey struct {
	ClientKey, Organiser, ID string
}

// Relationship is a client relationship as stored: who organises it, its
// period, and the grants it makes.
type Relationship struct {
	ClientKey string    `json:"clientKey"`
	ID        string    `json:"id"`
	Organiser string    `json:"organiser"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end,omitempty"` // zero: open
	Document  string    `json:"document"`      // the version that defines it
	Grants    []Grant   `json:"grants,omitempty"`
	// Stated is everything the client relationship document says: the
	// service tasks, the organiser's units, the providers with their units,
	// social services and dates.
	Stated *relationship.Relationship `json:"stated,omitempty"`
}

// ActiveOn reports whether t's day (in Finnish time) lies in the
// relationship's period, as Grant.ActiveOn does for a grant.
func (r *Relationship) ActiveOn(t time.Time) bool {
	return Grant{Start: r.Start, End: r.End}.ActiveOn(t)
}

// Key returns the relationship's key.
func (r *Relationship) Key() RelationshipKey {
	return RelationshipKey{ClientKey: r.ClientKey, Organiser: r.Organiser, ID: r.ID}
}

// Grant is a register access right: a provider organisation may use the
// organiser's register for one client and one service task, in a period.
type Grant struct {
	ClientKey      string    `json:"clientKey"`
	RelationshipID string    `json:"relationshipId"`
	Organiser      string    `json:"organiser"`
	Provider       string    `json:"provider"` // 1.2.246.10.<business id>
	Unit           string    `json:"unit"`
	ServiceTask    string    `json:"serviceTask"`
	Start          time.Time `json:"start"`
	End            time.Time `json:"end,omitempty"` // zero: open; the last day included
}

// ActiveOn reports whether t's day (in Finnish time) lies in the grant's period.
func (g Grant) ActiveOn(t time.Time) bool {
	day := fitime.Day(t)
	return (g.Start.IsZero() || !day.Before(g.Start)) && (g.End.IsZero() || !day.After(g.End))
}

// Archivist is a person who is an archivist of a controller.
type Archivist struct {
	Person     string    `json:"person"`
	Name       string    `json:"name,omitempty"`
	Controller string    `json:"controller"`
	AddedAt    time.Time `json:"addedAt"`
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
