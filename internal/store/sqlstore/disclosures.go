package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/arkisto/arkisto/internal/archive"
)

// EncodeDisclosure encodes a disclosure-log entry, whole, for its body
// column; the columns beside it are what queries select by.
func EncodeDisclosure(d *archive.Disclosure) ([]byte, error) {
	if d.ClientKey == "" || d.Discloser == "" || d.Recipient == "" {
		return nil, errors.New("log a disclosure: it needs a client, a discloser and a recipient")
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode disclosure: %w", err)
	}
	return b, nil
}

// DecodeDisclosure makes an entry of its body and its id column.
func DecodeDisclosure(id int64, body []byte) (*archive.Disclosure, error) {
	d := &archive.Disclosure{}
	if err := json.Unmarshal(body, d); err != nil {
		return nil, fmt.Errorf("decode disclosure %d: %w", id, err)
	}
	d.ID = id
	return d, nil
}

// DisclosureWhere translates a disclosure-log query into conditions on
// disclosures. With no condition it is TRUE.
func DisclosureWhere(d Dialect, q archive.DisclosureQuery) *Where {
	w := &Where{}
	if q.ClientKey != "" {
		w.Add("client_key = ?", q.ClientKey)
	}
	if q.Organisation != "" {
		w.Add("(discloser = ? OR recipient = ?)", q.Organisation, q.Organisation)
	}
	if !q.From.IsZero() {
		w.Add(d.LogAt+" >= ?", d.Time(q.From))
	}
	if !q.To.IsZero() {
		w.Add(d.LogAt+" < ?", d.Time(q.To))
	}
	if q.Before > 0 {
		w.Add("id < ?", q.Before)
	}
	if len(w.Conds) == 0 {
		w.Add("TRUE")
	}
	return w
}

// DisclosureLimit is a disclosure-log query's page size: 100 unless it
// names one.
func DisclosureLimit(q archive.DisclosureQuery) int {
	if q.Limit <= 0 {
		return 100
	}
	return q.Limit
}
