package archive

import (
	"fmt"

	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/cda"
)

// CheckContent checks that content read for a record is that record's
// document: its SHA-256 already matched the record's hash, but a record
// whose hash points at another document's bytes (a damaged row, a bad
// restore) would match too. The document id inside the bytes must be the
// record's id; ids are unique, so other bytes cannot pass. Stores call it
// in Tx.Content; the error wraps blob.ErrCorrupt and names ids only.
func CheckContent(r *Record, content []byte) error {
	id, err := cda.DocumentID(content)
	if err != nil {
		return fmt.Errorf("%w: content %s of document %s: %v", blob.ErrCorrupt, r.SHA256, r.Header.ID, err)
	}
	if id != r.Header.ID {
		return fmt.Errorf("%w: content %s is document %s, not document %s", blob.ErrCorrupt, r.SHA256, id, r.Header.ID)
	}
	return nil
}
