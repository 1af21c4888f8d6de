package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/arkisto/arkisto/internal/archive"
)

func (t *txn) PutGuardianship(ctx context.Context, g *archive.Guardianship) error {
	// DO NOTHING rather than a unique violation: a violation would end the
	// caller's whole transaction.
	err := t.tx.QueryRow(ctx, `INSERT INTO guardianships (guardian, child, child_name, from_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (guardian, child) WHERE until_at IS NULL DO NOTHING RETURNING id`, g.Guardian, g.Child, g.ChildName, g.From).Scan(&g.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return &archive.Error{Kind: archive.ErrConflict, Message: "the guardianship is in force already"}
	}
	if err != nil {
		return fmt.Errorf("store guardianship: %w", mapErr(err))
	}
	return nil
}

func (t *txn) EndGuardianship(ctx context.Context, guardian, child string, at time.Time) (bool, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE guardianships SET until_at = $3 WHERE guardian = $1 AND child = $2 AND until_at IS NULL`, guardian, child, at)
	if err != nil {
		return false, fmt.Errorf("end guardianship: %w", mapErr(err))
	}
	return tag.RowsAffected() == 1, nil
}

func (t *txn) Guardianships(ctx context.Context, q archive.GuardianshipQuery) ([]*archive.Guardianship, error) {
	var where []string
	var args []any
	if q.Guardian != "" {
		args = append(args, q.Guardian)
		where = append(where, "guardian = $"+strconv.Itoa(len(args)))
	}
	if q.Child != "" {
		args = append(args, q.Child)
		where = append(where, "child = $"+strconv.Itoa(len(args)))
	}
	sql := `SELECT id, guardian, child, child_name, from_at, until_at FROM guardianships`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := t.tx.Query(ctx, sql+" ORDER BY guardian, child, from_at, id", args...)
	if err != nil {
		return nil, fmt.Errorf("read guardianships: %w", err)
	}
	defer rows.Close()
	var out []*archive.Guardianship
	for rows.Next() {
		g := &archive.Guardianship{}
		var until *time.Time
		if err := rows.Scan(&g.ID, &g.Guardian, &g.Child, &g.ChildName, &g.From, &until); err != nil {
			return nil, err
		}
		g.From = g.From.UTC()
		if until != nil {
			g.Until = until.UTC()
		}
		out = append(out, g)
	}
	return out, rows.Err()
}
