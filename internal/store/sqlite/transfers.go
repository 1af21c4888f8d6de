package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

func (t *txn) MoveDocuments(ctx context.Context, from, to, typ, after string, limit int) (int, string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT doc_id FROM documents WHERE controller = ? AND register = ? AND doc_id > ? ORDER BY doc_id LIMIT ?`, from, typ, after, limit)
	if err != nil {
		return 0, after, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, after, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return 0, after, err
	}
	last := ids[len(ids)-1]
	res, err := t.tx.ExecContext(ctx, `UPDATE documents SET controller = ?, updated_us = MAX(updated_us, ?) WHERE controller = ? AND register = ? AND doc_id > ? AND doc_id <= ?`, to, time.Now().UnixMicro(), from, typ, after, last)
	if err != nil {
		return 0, after, err
	}
	n, err := res.RowsAffected()
	return int(n), last, err
}

func (t *txn) CountDocuments(ctx context.Context, controller, typ string) (int, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM documents WHERE controller = ? AND register = ?`, controller, typ).Scan(&n)
	return n, err
}

func (t *txn) MoveRelationships(ctx context.Context, from, to string) (int, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE relationships SET organiser = ? WHERE organiser = ?`, to, from)
	if err != nil {
		return 0, mapErr(err)
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE relationship_grants SET organiser = ? WHERE organiser = ?`, to, from); err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t *txn) PutTransfer(ctx context.Context, tr *archive.Transfer) error {
	if tr.ID == 0 {
		res, err := t.tx.ExecContext(ctx, `INSERT INTO transfers (from_controller, to_controller, register_type, effective_us, started_us, finished_us, last_doc, moved, total)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tr.From, tr.To, tr.RegisterType, tr.Effective.UnixMicro(), tr.StartedAt.UnixMicro(), usOrNull(tr.FinishedAt), tr.LastDoc, tr.Moved, tr.Total)
		if err != nil {
			return err
		}
		tr.ID, err = res.LastInsertId()
		return err
	}
	_, err := t.tx.ExecContext(ctx, `UPDATE transfers SET finished_us = ?, last_doc = ?, moved = ?, total = ? WHERE id = ?`,
		usOrNull(tr.FinishedAt), tr.LastDoc, tr.Moved, tr.Total, tr.ID)
	return err
}

func (t *txn) Transfers(ctx context.Context) ([]*archive.Transfer, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, from_controller, to_controller, register_type, effective_us, started_us, finished_us, last_doc, moved, total FROM transfers ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.Transfer
	for rows.Next() {
		tr := &archive.Transfer{}
		var eff, started int64
		var fin sql.NullInt64
		if err := rows.Scan(&tr.ID, &tr.From, &tr.To, &tr.RegisterType, &eff, &started, &fin, &tr.LastDoc, &tr.Moved, &tr.Total); err != nil {
			return nil, err
		}
		tr.Effective, tr.StartedAt, tr.FinishedAt = time.UnixMicro(eff).UTC(), time.UnixMicro(started).UTC(), timeOrNil(fin)
		out = append(out, tr)
	}
	return out, rows.Err()
}
