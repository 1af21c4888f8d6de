package sqlite

import (
	"context"
	"fmt"
	"time"
)

// The token ledger (archive.TokenLedger). A token's use is a write: the
// committer takes every use waiting, with the other writes of its group,
// and records them in one transaction of their own, one insert each
// (an insert that meets the key already there does nothing rather than
// fail). The unique key makes the second use of a token, from this process
// or another on the same data directory, find the first.
//
// That transaction commits with synchronous=NORMAL: it is in the WAL, and
// so seen by every process on the data directory, when UseToken returns,
// but not yet fsynced. It survives a crash of the process. Only a crash of
// the machine can lose it, and then only if nothing durable followed it:
// every request that answers with anything of the archive commits durably
// after its token (its access-log entry, its write), and an fsync of the
// WAL makes every earlier frame durable too. So a token whose use is lost
// had a first use that produced nothing; and after the machine restarts,
// servers refuse tokens issued before they started anyway. Not waiting for
// an fsync keeps the token check from adding a disk flush to every
// request's latency.

// tokenUse is one token to record; fresh is the committer's answer.
type tokenUse struct {
	key     []byte
	expires int64 // µs
	fresh   bool
}

const (
	qUseToken = `INSERT INTO used_tokens (token_key, expires_us) VALUES (?, ?) ON CONFLICT (token_key) DO NOTHING`
	// qPurgeTokens forgets up to ? expired keys, oldest first.
	qPurgeTokens = `DELETE FROM used_tokens WHERE token_key IN
		(SELECT token_key FROM used_tokens WHERE expires_us < ? ORDER BY expires_us LIMIT ?)`
)

// UseToken implements archive.TokenLedger. It returns once the use is in
// the WAL, seen by every process on the data directory; it becomes durable
// with the next durable commit (see above).
func (s *Store) UseToken(ctx context.Context, key []byte, expires time.Time) (bool, error) {
	u := &tokenUse{key: key, expires: expires.UnixMicro()}
	if err := s.submit(ctx, &request{ctx: ctx, token: u, done: make(chan error, 1)}); err != nil {
		return false, err
	}
	return u.fresh, nil
}

// runTokens records token uses in a transaction of their own on the
// token connection and answers each.
func (s *Store) runTokens(rs []*request) {
	us := make([]*tokenUse, len(rs))
	for i, r := range rs {
		us[i] = r.token
	}
	err := s.useTokens(us)
	for _, r := range rs {
		r.done <- err
	}
}

func (s *Store) useTokens(us []*tokenUse) error {
	tx, err := s.tw.BeginTx(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &txn{tx: &sqlTx{tx: tx, stmts: s.tStmts, detach: true}}
	if err := t.useTokens(context.Background(), us); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

// useTokens records a group's token uses and forgets twice as many
// expired ones as it records, so that the table holds about the tokens
// still alive and no purge is ever large.
func (t *txn) useTokens(ctx context.Context, us []*tokenUse) error {
	if len(us) == 0 {
		return nil
	}
	for _, u := range us {
		res, err := t.tx.ExecContext(ctx, qUseToken, u.key, u.expires)
		if err != nil {
			return fmt.Errorf("record a token's use: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		u.fresh = n == 1
	}
	if _, err := t.tx.ExecContext(ctx, qPurgeTokens, time.Now().UnixMicro(), 2*len(us)+8); err != nil {
		return fmt.Errorf("forget expired tokens: %w", err)
	}
	return nil
}
