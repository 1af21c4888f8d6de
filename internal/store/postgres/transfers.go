package postgres

import (
	"context"

	"github.com/arkisto/arkisto/internal/archive"
)

func (t *txn) MoveDocuments(ctx context.Context, from, to, typ, after string, limit int) (int, string, error) {
	var n int
	var last *string
	err := t.tx.QueryRow(ctx, `WITH batch AS (
			SELECT client_key, doc_id FROM documents WHERE controller = $1 AND register = $3 AND doc_id > $4 ORDER BY doc_id LIMIT $5
		), moved AS (
			UPDATE documents d SET controller = $2, updated_at = GREATEST(d.updated_at, now()) FROM batch b WHERE d.client_key = b.client_key AND d.doc_id = b.doc_id RETURNING d.doc_id
		)
		SELECT COUNT(*), MAX(doc_id) FROM moved`, from, to, typ, after, limit).Scan(&n, &last)
	if err != nil || last == nil {
		return n, after, err
	}
	return n, *last, nil
}

func (t *txn) CountDocuments(ctx context.Context, controller, typ string) (int, error) {
	var n int
	err := t.tx.QueryRow(ctx, `SELECT COUNT(*) FROM documents WHERE controller = $1 AND register = $2`, controller, typ).Scan(&n)
	return n, err
}

func (t *txn) MoveRelationships(ctx context.Context, from, to string) (int, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE relationships SET organiser = $2 WHERE organiser = $1`, from, to)
	if err != nil {
		return 0, mapErr(err)
	}
	if _, err := t.tx.Exec(ctx, `UPDATE relationship_grants SET organiser = $2 WHERE organiser = $1`, from, to); err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}

func (t *txn) PutTransfer(ctx context.Context, tr *archive.Transfer) error {
	if tr.ID == 0 {
		return t.tx.QueryRow(ctx, `INSERT INTO transfers (from_controller, to_controller, register_type, effective, started_at, finished_at, last_doc, moved, total)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, tr.From, tr.To, tr.RegisterType, tr.Effective, tr.StartedAt, tr.FinishedAt, tr.LastDoc, tr.Moved, tr.Total).Scan(&tr.ID)
	}
	_, err := t.tx.Exec(ctx, `UPDATE transfers SET finished_at = $2, last_doc = $3, moved = $4, total = $5 WHERE id = $1`,
		tr.ID, tr.FinishedAt, tr.LastDoc, tr.Moved, tr.Total)
	return err
}

func (t *txn) Transfers(ctx context.Context) ([]*archive.Transfer, error) {
	rows, err := t.tx.Query(ctx, `SELECT id, from_controller, to_controller, register_type, effective, started_at, finished_at, last_doc, moved, total FROM transfers ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*archive.Transfer
	for rows.Next() {
		tr := &archive.Transfer{}
		if err := rows.Scan(&tr.ID, &tr.From, &tr.To, &tr.RegisterType, &tr.Effective, &tr.StartedAt, &tr.FinishedAt, &tr.LastDoc, &tr.Moved, &tr.Total); err != nil {
			return nil, err
		}
		tr.Effective, tr.StartedAt, tr.FinishedAt = tr.Effective.UTC(), tr.StartedAt.UTC(), utcPtr(tr.FinishedAt)
		out = append(out, tr)
	}
	return out, rows.Err()
}
