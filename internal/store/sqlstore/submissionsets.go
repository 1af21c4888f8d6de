package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/arkisto/arkisto/internal/archive"
)

// EncodeSubmissionSet encodes a submission set, whole, for its body
// column; the columns beside it are what queries select by.
func EncodeSubmissionSet(s *archive.SubmissionSet) ([]byte, error) {
	if s.ID == "" || s.ClientKey == "" || s.Submitter.Organisation == "" || len(s.Documents) == 0 {
		return nil, errors.New("keep a submission set: it needs an id, a client, a submitter and documents")
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode submission set: %w", err)
	}
	return b, nil
}

// DecodeSubmissionSet makes a submission set of its body.
func DecodeSubmissionSet(body []byte) (*archive.SubmissionSet, error) {
	s := &archive.SubmissionSet{}
	if err := json.Unmarshal(body, s); err != nil {
		return nil, fmt.Errorf("decode submission set: %w", err)
	}
	return s, nil
}
