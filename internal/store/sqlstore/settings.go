package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/arkisto/arkisto/internal/blob"
)

// BlobStoreName names where content is kept: "db" or the blob store.
func BlobStoreName(blobs blob.Store) string {
	if blobs == nil {
		return "db"
	}
	return blobs.Name()
}

// The statements of the blob-store setting, with ? placeholders.
const (
	QRecordBlobStore = `INSERT INTO settings (key, value) VALUES ('blob_store', ?) ON CONFLICT (key) DO NOTHING`
	QBlobStore       = `SELECT value FROM settings WHERE key = 'blob_store'`
)

// Settings runs the setting's two statements on a backend's database.
type Settings interface {
	Exec(ctx context.Context, query string, args ...any) error
	QueryString(ctx context.Context, query string, args ...any) (string, error)
}

// CheckBlobSetting records where content goes on first use and refuses a
// later open that would look for it elsewhere: content must never seem
// lost. query rewrites the ? placeholders for the backend's dialect.
func CheckBlobSetting(ctx context.Context, db Settings, d Dialect, want string) error {
	if err := db.Exec(ctx, d.Rebind(QRecordBlobStore), want); err != nil {
		return fmt.Errorf("record the blob store: %w", err)
	}
	have, err := db.QueryString(ctx, d.Rebind(QBlobStore))
	if err != nil {
		return fmt.Errorf("read the blob store setting: %w", err)
	}
	if have != want {
		return fmt.Errorf("this archive keeps its content in %s; open it with --blobs set to that, not %s", have, want)
	}
	return nil
}

// The statements of the archive's secrets.
const (
	QRecordSecret = `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`
	QSecret       = `SELECT value FROM settings WHERE key = ?`
)

// Secret returns the archive's named secret of n random bytes, made on
// first use: every server on the archive gets the same one (the first
// writer's; the others' inserts do nothing).
func Secret(ctx context.Context, db Settings, d Dialect, name string, n int) ([]byte, error) {
	key := "secret:" + name
	fresh := make([]byte, n)
	rand.Read(fresh)
	if err := db.Exec(ctx, d.Rebind(QRecordSecret), key, hex.EncodeToString(fresh)); err != nil {
		return nil, fmt.Errorf("record the secret %s: %w", name, err)
	}
	v, err := db.QueryString(ctx, d.Rebind(QSecret), key)
	if err != nil {
		return nil, fmt.Errorf("read the secret %s: %w", name, err)
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != n {
		return nil, fmt.Errorf("the secret %s is damaged", name)
	}
	return b, nil
}
