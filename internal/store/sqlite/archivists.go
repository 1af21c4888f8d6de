package sqlite

import (
	"context"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

func (t *txn) PutArchivist(ctx context.Context, a *archive.Archivist) error {
	if a.AddedAt.IsZero() {
		a.AddedAt = time.Now().UTC()
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO archivists (person, name, controller, added_us) VALUES (?, ?, ?, ?)
		ON CONFLICT (person, controller) DO UPDATE SET name = excluded.name`, a.Person, a.Name, a.Controller, a.AddedAt.UnixMicro())
	return err
}

func (t *txn) RemoveArchivist(ctx context.Context, person, controller string) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM archivists WHERE person = ? AND controller = ?`, person, controller)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *txn) Archivists(ctx context.Context) ([]*archive.Archivist, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT person, name, controller, added_us FROM archivists ORDER BY controller, person`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.Archivist
	for rows.Next() {
		a := &archive.Archivist{}
		var at int64
		if err := rows.Scan(&a.Person, &a.Name, &a.Controller, &at); err != nil {
			return nil, err
		}
		a.AddedAt = time.UnixMicro(at).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}
