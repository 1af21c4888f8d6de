package sqlite

import (
	"context"
	"fmt"
	"time"
)

// The token ledger (archive.TokenLedger). A token's use is a write like an
// access-log entry: it rides the committer's group with everything else
// waiting, one insert each without a savepoint, since an insert that meets
// the key already there does nothing rather than fail. The unique key
// makes the second use of a token, from this process or another on the
// same data directory, find the first.

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

// UseToken implements archive.TokenLedger. It returns once the use is
// durable.
func (s *Store) UseToken(ctx context.Context, key []byte, expires time.Time) (bool, error) {
	u := &tokenUse{key: key, expires: expires.UnixMicro()}
	if err := s.submit(ctx, &request{ctx: ctx, token: u, done: make(chan error, 1)}); err != nil {
		return false, err
	}
	return u.fresh, nil
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
