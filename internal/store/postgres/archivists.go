package postgres

import (
	"context"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

func (t *txn) PutArchivist(ctx context.Context, a *archive.Archivist) error {
	if a.AddedAt.IsZero() {
		a.AddedAt = time.Now().UTC()
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO archivists (person, name, controller, added_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (person, controller) DO UPDATE SET name = excluded.name`, a.Person, a.Name, a.Controller, a.AddedAt)
	return err
}

func (t *txn) RemoveArchivist(ctx context.Context, person, controller string) (bool, error) {
	tag, err := t.tx.Exec(ctx, `DELETE FROM archivists WHERE person = $1 AND controller = $2`, person, controller)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

func (t *txn) Archivists(ctx context.Context) ([]*archive.Archivist, error) {
	rows, err := t.tx.Query(ctx, `SELECT person, name, controller, added_at FROM archivists ORDER BY controller, person`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.Archivist
	for rows.Next() {
		a := &archive.Archivist{}
		if err := rows.Scan(&a.Person, &a.Name, &a.Controller, &a.AddedAt); err != nil {
			return nil, err
		}
		a.AddedAt = a.AddedAt.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}
