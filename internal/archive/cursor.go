package archive

import (
	"encoding/base64"
	"errors"
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
