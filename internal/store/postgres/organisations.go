package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/jackc/pgx/v5"
)

func (t *txn) PutOrganisation(ctx context.Context, o *archive.Organisation) error {
	if o.AddedAt.IsZero() {
		o.AddedAt = time.Now().UTC()
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO organisations (oid, name, kind, added_at, name_sv, name_en, business_id, parent, active_from, active_to)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (oid) DO UPDATE SET name = excluded.name, kind = excluded.kind, name_sv = excluded.name_sv, name_en = excluded.name_en,
			business_id = excluded.business_id, parent = excluded.parent, active_from = excluded.active_from, active_to = excluded.active_to`,
		o.OID, o.Name, o.Kind, o.AddedAt, o.NameSV, o.NameEN, o.BusinessID, o.Parent, o.ActiveFrom, o.ActiveTo)
	return err
}

const orgCols = `oid, name, kind, added_at, name_sv, name_en, business_id, parent, active_from, active_to`

func scanOrg(row pgx.Row) (*archive.Organisation, error) {
	o := &archive.Organisation{}
	if err := row.Scan(&o.OID, &o.Name, &o.Kind, &o.AddedAt, &o.NameSV, &o.NameEN, &o.BusinessID, &o.Parent, &o.ActiveFrom, &o.ActiveTo); err != nil {
		return nil, err
	}
	o.AddedAt = o.AddedAt.UTC()
	o.ActiveFrom, o.ActiveTo = utcPtr(o.ActiveFrom), utcPtr(o.ActiveTo)
	return o, nil
}

func (t *txn) Organisation(ctx context.Context, oid string) (*archive.Organisation, error) {
	o, err := scanOrg(t.tx.QueryRow(ctx, `SELECT `+orgCols+` FROM organisations WHERE oid = $1`, oid))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return o, err
}

func (t *txn) Organisations(ctx context.Context) ([]*archive.Organisation, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+orgCols+` FROM organisations ORDER BY oid`)
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
