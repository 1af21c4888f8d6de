package postgres

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func (t *txn) PutSystem(ctx context.Context, s *archive.System) error {
	if s.AddedAt.IsZero() {
		s.AddedAt = time.Now().UTC()
	}
	s.CertSHA256 = blob.Sum(s.Cert.Raw)
	_, err := t.tx.Exec(ctx, `INSERT INTO systems (name, org_oid, cert_sha256, cert_der, added_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (name) DO UPDATE SET org_oid = excluded.org_oid, cert_sha256 = excluded.cert_sha256, cert_der = excluded.cert_der, revoked_at = NULL`,
		s.Name, s.Organisation, s.CertSHA256, s.Cert.Raw, s.AddedAt)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return sqlstore.CertificateTaken()
		case "23503":
			return sqlstore.NotOnboarded(s.Organisation)
		}
	}
	return err
}

func (t *txn) System(ctx context.Context, name string) (*archive.System, error) {
	return t.system(ctx, "name = $1", name)
}

func (t *txn) SystemByCert(ctx context.Context, sum string) (*archive.System, error) {
	return t.system(ctx, "cert_sha256 = $1", sum)
}

func (t *txn) system(ctx context.Context, cond string, arg any) (*archive.System, error) {
	s := &archive.System{}
	var der []byte
	err := t.tx.QueryRow(ctx, `SELECT name, org_oid, cert_sha256, cert_der, added_at, revoked_at FROM systems WHERE `+cond, arg).
		Scan(&s.Name, &s.Organisation, &s.CertSHA256, &der, &s.AddedAt, &s.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s.AddedAt = s.AddedAt.UTC()
	s.Cert, err = x509.ParseCertificate(der)
	return s, err
}

func (t *txn) Systems(ctx context.Context) ([]*archive.System, error) {
	rows, err := t.tx.Query(ctx, `SELECT name, org_oid, cert_sha256, cert_der, added_at, revoked_at FROM systems ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.System
	for rows.Next() {
		s := &archive.System{}
		var der []byte
		if err := rows.Scan(&s.Name, &s.Organisation, &s.CertSHA256, &der, &s.AddedAt, &s.RevokedAt); err != nil {
			return nil, err
		}
		if s.Cert, err = x509.ParseCertificate(der); err != nil {
			return nil, err
		}
		s.AddedAt = s.AddedAt.UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

func (t *txn) RevokeSystem(ctx context.Context, name string, at time.Time) error {
	tag, err := t.tx.Exec(ctx, `UPDATE systems SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL`, name, at)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		if _, err := t.System(ctx, name); err != nil {
			return err
		}
	}
	return nil
}
