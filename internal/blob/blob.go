// Package blob keeps document content outside the database: immutable
// bytes addressed by their SHA-256, in a local directory tree or in
// S3-compatible object storage. Every read checks the hash, so a missing or
// corrupt blob is a clear error and never wrong bytes.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Store is a content-addressed blob store.
type Store interface {
	// Put stores data under its SHA-256 (hex) and returns only when it is
	// durable. Storing the same content again is a no-op.
	Put(ctx context.Context, sum string, data []byte) error
	// Get returns the content with the SHA-256, checked: ErrMissing or
	// ErrCorrupt otherwise.
	Get(ctx context.Context, sum string) ([]byte, error)
	// Name identifies the store (no credentials), e.g. files:/var/lib/x.
	Name() string
}

// Errors of Get.
var (
	ErrMissing = errors.New("blob is missing")
	ErrCorrupt = errors.New("blob is corrupt")
)

// Sum returns the hex SHA-256 of data.
func Sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Check verifies that data has the SHA-256 sum.
func Check(sum string, data []byte) error {
	if Sum(data) != sum {
		return fmt.Errorf("%w: content %s no longer matches its SHA-256", ErrCorrupt, sum)
	}
	return nil
}

func validSum(sum string) error {
	if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		return fmt.Errorf("not a hex SHA-256: %q", sum)
	}
	return nil
}

// Open opens a blob store from its spec: "files:DIR" (or file:///DIR) for
// a local tree, "s3://BUCKET?endpoint=URL[&region=R]" for S3-compatible
// storage with credentials from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY. "" and "db" mean the database keeps the blobs,
// for which Open returns nil.
func Open(ctx context.Context, spec string) (Store, error) {
	switch {
	case spec == "" || spec == "db":
		return nil, nil
	case strings.HasPrefix(spec, "files:") && !strings.HasPrefix(spec, "files://"):
		return OpenFiles(strings.TrimPrefix(spec, "files:"))
	case strings.HasPrefix(spec, "file://"):
		u, err := url.Parse(spec)
		if err != nil {
			return nil, fmt.Errorf("--blobs: %w", err)
		}
		return OpenFiles(u.Path)
	case strings.HasPrefix(spec, "s3://"):
		return OpenS3(ctx, spec, os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"))
	}
	return nil, fmt.Errorf("--blobs: %q is not db, files:DIR, file:///DIR or s3://BUCKET?endpoint=URL", spec)
}
