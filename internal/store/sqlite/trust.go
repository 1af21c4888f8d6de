package sqlite

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
)

func (t *txn) AddTrustAnchor(ctx context.Context, c *x509.Certificate) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO trust_anchors (sha256, subject, der, added_us) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING`,
		blob.Sum(c.Raw), c.Subject.String(), c.Raw, time.Now().UnixMicro())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *txn) TrustAnchors(ctx context.Context) ([]*x509.Certificate, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT der FROM trust_anchors ORDER BY added_us`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*x509.Certificate
	for rows.Next() {
		var der []byte
		if err := rows.Scan(&der); err != nil {
			return nil, err
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("stored trust anchor: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (t *txn) AddRevoked(ctx context.Context, r archive.RevokedCert) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO revoked_certificates (issuer, serial, revoked_us) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		r.Issuer, r.Serial, r.RevokedAt.UnixMicro())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *txn) RevokedCerts(ctx context.Context) ([]archive.RevokedCert, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT issuer, serial, revoked_us FROM revoked_certificates`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []archive.RevokedCert
	for rows.Next() {
		var r archive.RevokedCert
		var at int64
		if err := rows.Scan(&r.Issuer, &r.Serial, &at); err != nil {
			return nil, err
		}
		r.RevokedAt = time.UnixMicro(at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
