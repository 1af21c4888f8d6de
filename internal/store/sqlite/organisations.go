package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

func (t *txn) PutOrganisation(ctx context.Context, o *archive.Organisation) error {
	if o.AddedAt.IsZero() {
		o.AddedAt = time.Now().UTC()
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO organisations (oid, name, kind, added_us, name_sv, name_en, business_id, parent, active_from_us, active_to_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (oid) DO UPDATE SET name = excluded.name, kind = excluded.kind, name_sv = excluded.name_sv, name_en = excluded.name_en,
			business_id = excluded.business_id, parent = excluded.parent, active_from_us = excluded.active_from_us, active_to_us = excluded.active_to_us`,
		o.OID, o.Name, o.Kind, o.AddedAt.UnixMicro(), o.NameSV, o.NameEN, o.BusinessID, o.Parent, usOrNull(o.ActiveFrom), usOrNull(o.ActiveTo))
	return err
}

const orgCols = `oid, name, kind, added_us, name_sv, name_en, business_id, parent, active_from_us, active_to_us`

func scanOrg(row scanner) (*archive.Organisation, error) {
	o := &archive.Organisation{}
	var at int64
	var from, to sql.NullInt64
	if err := row.Scan(&o.OID, &o.Name, &o.Kind, &at, &o.NameSV, &o.NameEN, &o.BusinessID, &o.Parent, &from, &to); err != nil {
		return nil, err
	}
	o.AddedAt, o.ActiveFrom, o.ActiveTo = time.UnixMicro(at).UTC(), timeOrNil(from), timeOrNil(to)
	return o, nil
}

func (t *txn) Organisation(ctx context.Context, oid string) (*archive.Organisation, error) {
	o, err := scanOrg(t.tx.QueryRowContext(ctx, qOrganisation, oid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return o, err
}

func (t *txn) Organisations(ctx context.Context) ([]*archive.Organisation, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+orgCols+` FROM organisations ORDER BY oid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.Organisation
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
