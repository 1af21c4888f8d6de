package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

func (t *txn) PutSubmissionSet(ctx context.Context, s *archive.SubmissionSet) error {
	body, err := sqlstore.EncodeSubmissionSet(s)
	if err != nil {
		return err
	}
	// The id is unique only with the client in the primary key (Citus
	// needs the distribution column there), so a taken id is looked for
	// first; ids are random, so this finds one only by mistake. The look
	// and the insert go in one round trip: when the id is taken, the
	// conflict rolls the transaction, and so the insert, back.
	b := &pgx.Batch{}
	b.Queue(`SELECT EXISTS (SELECT 1 FROM submission_sets WHERE id = $1)`, s.ID)
	b.Queue(`INSERT INTO submission_sets (client_key, id, submitter_org, unique_id, received_at, body) VALUES ($1, $2, $3, $4, $5, $6)`,
		s.ClientKey, s.ID, s.Submitter.Organisation, s.UniqueID, s.ReceivedAt.UTC(), body)
	br := t.tx.SendBatch(ctx, b)
	defer br.Close()
	var taken bool
	if err := br.QueryRow().Scan(&taken); err != nil {
		return fmt.Errorf("keep submission set: %w", err)
	}
	if taken {
		return &archive.Error{Kind: archive.ErrConflict, Message: "a submission set with this id is already kept"}
	}
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("keep submission set: %w", mapErr(err))
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("keep submission set: %w", mapErr(err))
	}
	return nil
}

func (t *txn) SubmissionSet(ctx context.Context, id string) (*archive.SubmissionSet, error) {
	return t.oneSet(ctx, `SELECT body FROM submission_sets WHERE id = $1`, id)
}

func (t *txn) SubmissionSetByUniqueID(ctx context.Context, clientKey, organisation, uniqueID string) (*archive.SubmissionSet, error) {
	return t.oneSet(ctx, `SELECT body FROM submission_sets WHERE client_key = $1 AND submitter_org = $2 AND unique_id = $3 AND unique_id <> ''`, clientKey, organisation, uniqueID)
}

func (t *txn) oneSet(ctx context.Context, query string, args ...any) (*archive.SubmissionSet, error) {
	var body []byte
	err := t.tx.QueryRow(ctx, query, args...).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read submission set: %w", err)
	}
	return sqlstore.DecodeSubmissionSet(body)
}

func (t *txn) ClientSubmissionSets(ctx context.Context, clientKey string) ([]*archive.SubmissionSet, error) {
	return t.sets(ctx, `SELECT body FROM submission_sets WHERE client_key = $1 ORDER BY received_at DESC, id DESC`, clientKey)
}

func (t *txn) ScanSubmissionSets(ctx context.Context, after string, limit int) ([]*archive.SubmissionSet, error) {
	return t.sets(ctx, `SELECT body FROM submission_sets WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
}

func (t *txn) sets(ctx context.Context, query string, args ...any) ([]*archive.SubmissionSet, error) {
	rows, err := t.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read submission sets: %w", err)
	}
	defer rows.Close()
	var out []*archive.SubmissionSet
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		s, err := sqlstore.DecodeSubmissionSet(body)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
