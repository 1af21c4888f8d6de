package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Files keeps blobs in a directory tree: DIR/ab/cd/<sha256>. A blob is
// written to a temporary file in its final directory, synced, renamed into
// place and the directory synced, so that after a crash a blob is either
// wholly there or not there at all.
type Files struct{ dir string }

// OpenFiles opens (creating) a tree.
func OpenFiles(dir string) (*Files, error) {
	if dir == "" {
		return nil, errors.New("files blob store: a directory is required")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("files blob store: %w", err)
	}
	return &Files{dir: abs}, nil
}

// Name implements Store.
func (f *Files) Name() string { return "files:" + f.dir }

func (f *Files) path(sum string) string {
	return filepath.Join(f.dir, sum[0:2], sum[2:4], sum)
}

// Put implements Store.
func (f *Files) Put(ctx context.Context, sum string, data []byte) error {
	if err := validSum(sum); err != nil {
		return err
	}
	if err := Check(sum, data); err != nil {
		return err
	}
	final := f.path(sum)
	if _, err := os.Stat(final); err == nil {
		return nil // content-addressed: what is there is this content
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("store blob: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("store blob: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	// The rename is durable only once the directory entry is.
	for _, d := range []string{dir, filepath.Dir(dir), f.dir} {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store blob: sync directory: %w", err)
	}
	return nil
}

// Get implements Store.
func (f *Files) Get(ctx context.Context, sum string) ([]byte, error) {
	if err := validSum(sum); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(f.path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: content %s is not in %s", ErrMissing, sum, f.Name())
	}
	if err != nil {
		return nil, fmt.Errorf("read blob: %w", err)
	}
	if err := Check(sum, data); err != nil {
		return nil, err
	}
	return data, nil
}
