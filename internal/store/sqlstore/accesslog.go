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

// RequestColumns are an entry's request columns (migration 8 in SQLite, 9
// in PostgreSQL): the client and server addresses, the transaction and
// the raw query of its request, or of its caller's, empty without one.
// Every entry a door makes thus carries the door's request, whichever
// domain path made it.
func RequestColumns(e *archive.AccessEntry) (client, server, txn, query string) {
	r := e.Request
	if r == nil {
		r = e.Caller.Request
	}
	if r != nil {
		return r.ClientAddress, r.ServerAddress, r.Transaction, r.Query
	}
	return "", "", "", ""
}

// SetRequest fills in an entry's request from its columns.
func SetRequest(e *archive.AccessEntry, client, server, txn, query string) {
	if client != "" || server != "" || txn != "" || query != "" {
		e.Request = &archive.Request{ClientAddress: client, ServerAddress: server, Transaction: txn, Query: query}
	}
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
