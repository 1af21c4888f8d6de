package sqlstore

import (
	"context"
	"fmt"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
)

// Content resolves a version's bytes from its row in the blobs table: the
// bytes in the row, or from the blob store when the row holds none. found
// is false when there is no row. The bytes are checked against the
// record's SHA-256 and document id: a missing or corrupt blob, or another
// document's bytes, is an error, never wrong bytes.
func Content(ctx context.Context, r *archive.Record, found bool, data []byte, blobs blob.Store) ([]byte, error) {
	sum := r.SHA256
	if !found {
		return nil, fmt.Errorf("%w: content %s has no row in the blobs table", blob.ErrMissing, sum)
	}
	if data == nil {
		if blobs == nil {
			return nil, fmt.Errorf("%w: content %s is kept outside the database, and no blob store is configured", blob.ErrMissing, sum)
		}
		var err error
		if data, err = blobs.Get(ctx, sum); err != nil {
			return nil, err
		}
	} else if err := blob.Check(sum, data); err != nil {
		return nil, err
	}
	if err := archive.CheckContent(r, data); err != nil {
		return nil, err
	}
	return data, nil
}

// PutContent stores content in the blob store, if there is one, before the
// row that refers to it; it returns what the blobs row holds: the bytes, or
// nil when they are kept outside the database.
func PutContent(ctx context.Context, blobs blob.Store, r *archive.Record, content []byte) ([]byte, error) {
	if blobs == nil {
		return content, nil
	}
	// The blob is durable before the transaction that refers to it
	// commits; if that transaction fails, the blob is merely unused.
	if err := blobs.Put(ctx, r.SHA256, content); err != nil {
		return nil, err
	}
	return nil, nil
}
