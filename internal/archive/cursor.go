package archive

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Finnish dates on any host
)

// EncodeCursor makes an opaque paging cursor after the given sort key.
func EncodeCursor(effective time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + strconv.FormatInt(effective.UnixMicro(), 10) + ":" + id))
}

// DecodeCursor reads a cursor made by EncodeCursor.
func DecodeCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", errors.New("cursor is not base64url")
	}
	parts := strings.SplitN(string(b), ":", 3)
	if len(parts) != 3 || parts[0] != "v1" || parts[2] == "" {
		return time.Time{}, "", errors.New("cursor has the wrong shape")
	}
	us, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return time.Time{}, "", errors.New("cursor time is not a number")
	}
	return time.UnixMicro(us).UTC(), parts[2], nil
}

// Secrets is implemented by stores that keep secrets of the archive, the
// same for every server on it. Secret returns the named secret of n
// random bytes, made on first use.
type Secrets interface {
	Secret(ctx context.Context, name string, n int) ([]byte, error)
}

// cursorSecret names the key that seals paging cursors.
const cursorSecret = "cursor-key"

// cursorKey is the key that seals paging cursors: the archive's own when
// the store keeps secrets (every server on the archive then accepts the
// others' cursors), else one of this process.
func (s *Service) cursorKey(ctx context.Context) ([]byte, error) {
	s.cursorMu.Lock()
	defer s.cursorMu.Unlock()
	if s.cursorKeyBytes != nil {
		return s.cursorKeyBytes, nil
	}
	if sec, ok := s.store.(Secrets); ok {
		k, err := sec.Secret(ctx, cursorSecret, 32)
		if err != nil {
			return nil, fmt.Errorf("the cursor key: %w", err)
		}
		s.cursorKeyBytes = k
		return k, nil
	}
	k := make([]byte, 32)
	rand.Read(k)
	s.cursorKeyBytes = k
	return k, nil
}

// cursorMAC binds a cursor to its caller and its query: another caller
// cannot replay it, nor the same caller use it with other search criteria.
func cursorMAC(key []byte, c Caller, q Query, raw string) []byte {
	q.Cursor, q.Limit = "", 0
	m := hmac.New(sha256.New, key)
	for _, v := range []string{c.Organisation, c.System, c.Person, c.Unit, c.Purpose, c.Justification, c.JustificationText, q.describe(), raw} {
		m.Write([]byte(strconv.Itoa(len(v))))
		m.Write([]byte{':'})
		m.Write([]byte(v))
	}
	return m.Sum(nil)[:16]
}

// sealCursor is the cursor the caller gets: the position and its MAC.
func sealCursor(key []byte, c Caller, q Query, raw string) string {
	return raw + "." + base64.RawURLEncoding.EncodeToString(cursorMAC(key, c, q, raw))
}

// openCursor returns the position of a sealed cursor, or false when it was
// not issued to this caller for this query.
func openCursor(key []byte, c Caller, q Query, sealed string) (string, bool) {
	raw, tag, ok := strings.Cut(sealed, ".")
	if !ok {
		return "", false
	}
	mac, err := base64.RawURLEncoding.DecodeString(tag)
	if err != nil || !hmac.Equal(mac, cursorMAC(key, c, q, raw)) {
		return "", false
	}
	if _, _, err := DecodeCursor(raw); err != nil {
		return "", false
	}
	return raw, true
}
