package sqlite

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

func (t *txn) PutSystem(ctx context.Context, s *archive.System) error {
	if s.AddedAt.IsZero() {
		s.AddedAt = time.Now().UTC()
	}
	s.CertSHA256 = blob.Sum(s.Cert.Raw)
	_, err := t.tx.ExecContext(ctx, `INSERT INTO systems (name, org_oid, cert_sha256, cert_der, added_us) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET org_oid = excluded.org_oid, cert_sha256 = excluded.cert_sha256, cert_der = excluded.cert_der, revoked_us = NULL`,
		s.Name, s.Organisation, s.CertSHA256, s.Cert.Raw, s.AddedAt.UnixMicro())
	if err != nil {
		var se *sqlite.Error
		if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
			return sqlstore.CertificateTaken()
		}
		if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
			return sqlstore.NotOnboarded(s.Organisation)
		}
	}
	return err
}

const systemCols = `name, org_oid, cert_sha256, cert_der, added_us, revoked_us`

func scanSystem(row scanner) (*archive.System, error) {
	s := &archive.System{}
	var der []byte
	var at int64
	var revoked sql.NullInt64
	if err := row.Scan(&s.Name, &s.Organisation, &s.CertSHA256, &der, &at, &revoked); err != nil {
		return nil, err
	}
	s.AddedAt, s.RevokedAt = time.UnixMicro(at).UTC(), timeOrNil(revoked)
	var err error
	if s.Cert, err = x509.ParseCertificate(der); err != nil {
		return nil, fmt.Errorf("stored certificate of system %s: %w", s.Name, err)
	}
	return s, nil
}

func (t *txn) system(ctx context.Context, where string, arg any) (*archive.System, error) {
	s, err := scanSystem(t.tx.QueryRowContext(ctx, `SELECT `+systemCols+` FROM systems WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return s, err
}

func (t *txn) System(ctx context.Context, name string) (*archive.System, error) {
	return t.system(ctx, "name = ?", name)
}

func (t *txn) SystemByCert(ctx context.Context, sum string) (*archive.System, error) {
	return t.system(ctx, "cert_sha256 = ?", sum)
}

func (t *txn) Systems(ctx context.Context) ([]*archive.System, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+systemCols+` FROM systems ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.System
	for rows.Next() {
		s, err := scanSystem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (t *txn) RevokeSystem(ctx context.Context, name string, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE systems SET revoked_us = ? WHERE name = ? AND revoked_us IS NULL`, at.UnixMicro(), name)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		if _, err := t.System(ctx, name); err != nil {
			return err
		}
	}
	return nil
}
