package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/relationship"
)

// EncodeStated encodes what a client relationship document states, for
// the relationships row.
func EncodeStated(r *archive.Relationship) ([]byte, error) {
	b, err := json.Marshal(r.Stated)
	if err != nil {
		return nil, fmt.Errorf("encode relationship: %w", err)
	}
	return b, nil
}

// DecodeStated decodes a relationships row's statement; rows from before
// relationships kept one hold null or {}, which is none.
func DecodeStated(b []byte) (*relationship.Relationship, error) {
	if s := string(b); s == "null" || s == "{}" {
		return nil, nil
	}
	var st *relationship.Relationship
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode relationship: %w", err)
	}
	return st, nil
}
