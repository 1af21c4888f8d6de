package postgres

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
)

func (t *txn) AddTrustAnchor(ctx context.Context, c *x509.Certificate) (bool, error) {
	tag, err := t.tx.Exec(ctx, `INSERT INTO trust_anchors (sha256, subject, der, added_at) VALUES ($1, $2, $3, now()) ON CONFLICT (sha256) DO NOTHING`,
		blob.Sum(c.Raw), c.Subject.String(), c.Raw)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

func (t *txn) TrustAnchors(ctx context.Context) ([]*x509.Certificate, error) {
	rows, err := t.tx.Query(ctx, `SELECT der FROM trust_anchors ORDER BY added_at, sha256`)
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
	tag, err := t.tx.Exec(ctx, `INSERT INTO revoked_certificates (issuer, serial, revoked_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		r.Issuer, r.Serial, r.RevokedAt)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

func (t *txn) RevokedCerts(ctx context.Context) ([]archive.RevokedCert, error) {
	rows, err := t.tx.Query(ctx, `SELECT issuer, serial, revoked_at FROM revoked_certificates`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []archive.RevokedCert
	for rows.Next() {
		var r archive.RevokedCert
		if err := rows.Scan(&r.Issuer, &r.Serial, &r.RevokedAt); err != nil {
			return nil, err
		}
		r.RevokedAt = r.RevokedAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
