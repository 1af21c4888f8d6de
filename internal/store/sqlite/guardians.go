package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

func (t *txn) PutGuardianship(ctx context.Context, g *archive.Guardianship) error {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO guardianships (guardian, child, child_name, from_us) VALUES (?, ?, ?, ?)
		ON CONFLICT (guardian, child) WHERE until_us = 0 DO NOTHING`, g.Guardian, g.Child, g.ChildName, g.From.UnixMicro())
	if err != nil {
		return fmt.Errorf("store guardianship: %w", mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return &archive.Error{Kind: archive.ErrConflict, Message: "the guardianship is in force already"}
	}
	id, err := res.LastInsertId()
	g.ID = id
	return err
}

func (t *txn) EndGuardianship(ctx context.Context, guardian, child string, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE guardianships SET until_us = ? WHERE guardian = ? AND child = ? AND until_us = 0`,
		max(at.UnixMicro(), 1), guardian, child)
	if err != nil {
		return false, fmt.Errorf("end guardianship: %w", mapErr(err))
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *txn) Guardianships(ctx context.Context, q archive.GuardianshipQuery) ([]*archive.Guardianship, error) {
	var where []string
	var args []any
	if q.Guardian != "" {
		where, args = append(where, "guardian = ?"), append(args, q.Guardian)
	}
	if q.Child != "" {
		where, args = append(where, "child = ?"), append(args, q.Child)
	}
	sql := `SELECT id, guardian, child, child_name, from_us, until_us FROM guardianships`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := t.tx.QueryContext(ctx, sql+" ORDER BY guardian, child, from_us, id", args...)
	if err != nil {
		return nil, fmt.Errorf("read guardianships: %w", err)
	}
	defer rows.Close()
	var out []*archive.Guardianship
	for rows.Next() {
		g := &archive.Guardianship{}
		var from, until int64
		if err := rows.Scan(&g.ID, &g.Guardian, &g.Child, &g.ChildName, &from, &until); err != nil {
			return nil, err
		}
		g.From = time.UnixMicro(from).UTC()
		if until != 0 {
			g.Until = time.UnixMicro(until).UTC()
		}
		out = append(out, g)
	}
	return out, rows.Err()
}
