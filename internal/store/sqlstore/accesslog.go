package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/jsoncodec"
)

// EncodeEntry encodes an access-log entry's caller and documents for their
// JSON columns; an entry naming no documents stores [].
func EncodeEntry(e *archive.AccessEntry) (caller, docs []byte, err error) {
	if caller, err = jsoncodec.Marshal(e.Caller); err != nil {
		return nil, nil, fmt.Errorf("encode access-log caller: %w", err)
	}
	ds := e.Documents
	if ds == nil {
		ds = []string{}
	}
	if docs, err = jsoncodec.Marshal(ds); err != nil {
		return nil, nil, fmt.Errorf("encode access-log documents: %w", err)
	}
	return caller, docs, nil
}

// DecodeEntry fills in an access-log entry's coded and JSON columns.
func DecodeEntry(e *archive.AccessEntry, action, outcome string, caller, docs []byte) error {
	e.At, e.Action, e.Outcome = e.At.UTC(), archive.Action(action), archive.Outcome(outcome)
	if err := json.Unmarshal(caller, &e.Caller); err != nil {
		return fmt.Errorf("decode access-log caller: %w", err)
	}
	if err := json.Unmarshal(docs, &e.Documents); err != nil {
		return fmt.Errorf("decode access-log documents: %w", err)
	}
	return nil
}
