package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

func (t *txn) PutSubmissionSet(ctx context.Context, s *archive.SubmissionSet) error {
	body, err := sqlstore.EncodeSubmissionSet(s)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO submission_sets (id, client_key, submitter_org, unique_id, received_us, body) VALUES (?, ?, ?, ?, ?, ?)`,
		s.ID, s.ClientKey, s.Submitter.Organisation, s.UniqueID, s.ReceivedAt.UnixMicro(), string(body)); err != nil {
		return fmt.Errorf("keep submission set: %w", mapErr(err))
	}
	return nil
}

func (t *txn) SubmissionSet(ctx context.Context, id string) (*archive.SubmissionSet, error) {
	return t.oneSet(ctx, `SELECT body FROM submission_sets WHERE id = ?`, id)
}

func (t *txn) SubmissionSetByUniqueID(ctx context.Context, clientKey, organisation, uniqueID string) (*archive.SubmissionSet, error) {
	return t.oneSet(ctx, `SELECT body FROM submission_sets WHERE client_key = ? AND submitter_org = ? AND unique_id = ? AND unique_id <> ''`, clientKey, organisation, uniqueID)
}

func (t *txn) oneSet(ctx context.Context, query string, args ...any) (*archive.SubmissionSet, error) {
	var body string
	err := t.tx.QueryRowContext(ctx, query, args...).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read submission set: %w", err)
	}
	return sqlstore.DecodeSubmissionSet([]byte(body))
}

func (t *txn) ClientSubmissionSets(ctx context.Context, clientKey string) ([]*archive.SubmissionSet, error) {
	return t.sets(ctx, `SELECT body FROM submission_sets WHERE client_key = ? ORDER BY received_us DESC, id DESC`, clientKey)
}

func (t *txn) ScanSubmissionSets(ctx context.Context, after string, limit int) ([]*archive.SubmissionSet, error) {
	return t.sets(ctx, `SELECT body FROM submission_sets WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

func (t *txn) sets(ctx context.Context, query string, args ...any) ([]*archive.SubmissionSet, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read submission sets: %w", err)
	}
	defer rows.Close()
	var out []*archive.SubmissionSet
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		s, err := sqlstore.DecodeSubmissionSet([]byte(body))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
