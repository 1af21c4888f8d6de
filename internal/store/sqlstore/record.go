package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/jsoncodec"
)

// NullRow is a version's row in the nullifications table, as read.
type NullRow struct {
	ReasonCode, ReasonText string
	By                     []byte // the caller, JSON
	At                     time.Time
}

// DecodeRecord makes a record of its stored JSON, its status and
// controller columns and its nullification (nil: none). The record keeps
// nothing of rec, which the caller may reuse.
func DecodeRecord(status, controller string, rec []byte, n *NullRow) (*archive.Record, error) {
	r := &archive.Record{}
	if decodeFast(rec, r) != nil {
		*r = archive.Record{}
		if err := jsoncodec.Unmarshal(rec, r); err != nil {
			return nil, fmt.Errorf("decode stored record: %w", err)
		}
	}
	r.Status, r.Controller = archive.Status(status), controller
	r.Nullification = nil
	if n != nil {
		nl := &archive.Nullification{ReasonCode: n.ReasonCode, ReasonText: n.ReasonText, At: n.At.UTC()}
		if err := json.Unmarshal(n.By, &nl.By); err != nil {
			return nil, fmt.Errorf("decode nullification: %w", err)
		}
		r.Nullification = nl
	}
	return r, nil
}

// Document is a new version as its documents row: the record's JSON and
// the header fields that have columns of their own. EncodeDocument sets the
// record's controller to its custodian when it has none.
type Document struct {
	JSON           []byte
	Replaces       string // "" when it replaces nothing
	ServiceProcess string
	// The author's names folded for search (archive.AuthorTerms).
	AuthorFamily, AuthorGiven string
}

// EncodeDocument encodes a new version for its documents row. The
// nullification is not part of the stored record: it has its own table.
func EncodeDocument(r *archive.Record) (Document, error) {
	if r.Controller == "" {
		r.Controller = r.Header.Custodian.OID
	}
	row := *r
	row.Nullification = nil
	js, err := jsoncodec.Marshal(&row)
	if err != nil {
		return Document{}, fmt.Errorf("encode record: %w", err)
	}
	d := Document{JSON: js}
	d.AuthorFamily, d.AuthorGiven = archive.AuthorTerms(r)
	if h := &r.Header; h.Replaces != nil {
		d.Replaces = h.Replaces.ID
	}
	if h := &r.Header; h.ServiceProcess != nil {
		d.ServiceProcess = h.ServiceProcess.Code.Code
	}
	return d, nil
}

// EncodeBy encodes who nullified a version, for its nullifications row.
func EncodeBy(n archive.Nullification) ([]byte, error) {
	by, err := json.Marshal(n.By)
	if err != nil {
		return nil, fmt.Errorf("encode nullification: %w", err)
	}
	return by, nil
}
