package postgres

import (
	"context"
	"fmt"
	"time"
)

// The token ledger (archive.TokenLedger): one insert, its own transaction,
// whose unique key makes the second use of a token, from any server on the
// database, find the first.

// purgeEvery: one use in this many also forgets expired keys, up to
// purgeBatch of them, so that the table holds about the tokens still
// alive and no purge is ever large.
const (
	purgeEvery = 64
	purgeBatch = 4 * purgeEvery
)

// UseToken implements archive.TokenLedger. It returns once the use is
// durable.
func (s *Store) UseToken(ctx context.Context, key []byte, expires time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO used_tokens (token_key, expires_us) VALUES ($1, $2) ON CONFLICT (token_key) DO NOTHING`, key, expires.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("record a token's use: %w", err)
	}
	if s.tokenUses.Add(1)%purgeEvery == 0 {
		if _, err := s.pool.Exec(ctx, `DELETE FROM used_tokens WHERE token_key IN
			(SELECT token_key FROM used_tokens WHERE expires_us < $1 ORDER BY expires_us LIMIT $2)`, time.Now().UnixMicro(), purgeBatch); err != nil {
			return false, fmt.Errorf("forget expired tokens: %w", err)
		}
	}
	return tag.RowsAffected() == 1, nil
}
