package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/consent"
)

// EncodeWill encodes a new will expression for its will_expressions row.
// The withdrawal is not part of it: it has its own append-only table, so
// that nothing recorded is ever rewritten.
func EncodeWill(e *consent.Expression) ([]byte, error) {
	if e.ID == "" || e.ClientKey == "" {
		return nil, errors.New("store a will expression: it needs an id and a client")
	}
	if e.Withdrawn != nil {
		return nil, errors.New("store a will expression: a new one is not withdrawn; record the withdrawal on its own")
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode will expression: %w", err)
	}
	return b, nil
}

// EncodeWithdrawal encodes a withdrawal for its will_withdrawals row.
func EncodeWithdrawal(w consent.Withdrawal) ([]byte, error) {
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode will withdrawal: %w", err)
	}
	return b, nil
}

// DecodeWill makes a will expression of its row and of its withdrawal's
// row (nil: not withdrawn).
func DecodeWill(body, withdrawal []byte) (*consent.Expression, error) {
	e := &consent.Expression{}
	if err := json.Unmarshal(body, e); err != nil {
		return nil, fmt.Errorf("decode will expression: %w", err)
	}
	e.Withdrawn = nil
	if withdrawal != nil {
		w := &consent.Withdrawal{}
		if err := json.Unmarshal(withdrawal, w); err != nil {
			return nil, fmt.Errorf("decode will withdrawal of %s: %w", e.ID, err)
		}
		e.Withdrawn = w
	}
	return e, nil
}

// WillTaken is a will expression id recorded already.
func WillTaken(id string) error {
	return &archive.Error{Kind: archive.ErrConflict, Message: "a will expression with id " + id + " is already recorded"}
}
