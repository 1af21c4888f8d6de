// Package storage opens the archive's store from its configuration: SQLite
// in a data directory by default, PostgreSQL when a database URL is given,
// with document content in the database or in an external blob store.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/store/postgres"
	"github.com/arkisto/arkisto/internal/store/sqlite"
)

// Config says where the archive lives.
type Config struct {
	DataDir     string // SQLite data directory, used when DatabaseURL is empty
	DatabaseURL string // postgres://... (env ARKISTO_DATABASE_URL)
	Blobs       string // db (default), files:DIR, file:///DIR, s3://BUCKET?endpoint=URL
}

// Describe names the configuration without credentials, for logs.
func (c Config) Describe() string {
	blobs := c.Blobs
	if blobs == "" {
		blobs = "db"
	}
	if c.DatabaseURL != "" {
		return "postgres, blobs " + blobs
	}
	return "sqlite in " + c.DataDir + ", blobs " + blobs
}

// ErrNoArchive is the error of Open and Migrate when the data directory or
// database holds no archive. They create nothing then: a mistyped --data
// or --database must not start a new, empty archive beside the real one.
var ErrNoArchive = errors.New("no archive")

// ErrArchiveExists is the error of Create when there is an archive already.
var ErrArchiveExists = errors.New("an archive exists")

// Open opens an existing archive's store, applying migrations. Where there
// is no archive it returns an error wrapping ErrNoArchive that names the
// place and says how to create one, having created nothing.
func Open(ctx context.Context, c Config) (archive.Store, error) {
	if err := Exists(ctx, c); err != nil {
		return nil, err
	}
	return open(ctx, c)
}

// Create creates a new archive where c says and opens it. It refuses a
// place that holds an archive already (ErrArchiveExists).
func Create(ctx context.Context, c Config) (archive.Store, error) {
	switch err := Exists(ctx, c); {
	case err == nil:
		return nil, fmt.Errorf("%w in %s; nothing changed", ErrArchiveExists, c.where())
	case !errors.Is(err, ErrNoArchive):
		return nil, err
	}
	return open(ctx, c)
}

// where names the archive's place for messages, without credentials.
func (c Config) where() string {
	if c.DatabaseURL != "" {
		return "--database " + redact(c.DatabaseURL)
	}
	return "--data " + c.DataDir
}

// Exists reports, as a nil error, whether c names an existing archive: a
// SQLite data directory with its database, or a PostgreSQL database whose
// search path holds the archive's tables. It changes nothing: a missing
// directory or database file is not created, and SQLite is opened read-only.
func Exists(ctx context.Context, c Config) error {
	noArchive := func(why string) error {
		return fmt.Errorf("%w in %s: %s; check the path, or create an archive there with `arkisto admin init %s`", ErrNoArchive, c.where(), why, c.initFlags())
	}
	if c.DatabaseURL == "" {
		if c.DataDir == "" {
			return errors.New("--data: a data directory is required")
		}
		fi, err := os.Stat(c.DataDir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return noArchive("the directory does not exist")
		case err != nil:
			return fmt.Errorf("--data %s: %w", c.DataDir, err)
		case !fi.IsDir():
			return fmt.Errorf("--data %s is not a directory", c.DataDir)
		}
		path := filepath.Join(c.DataDir, sqlite.FileName)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return noArchive("the directory holds no " + sqlite.FileName)
		} else if err != nil {
			return fmt.Errorf("--data %s: %w", c.DataDir, err)
		}
		ok, err := sqlite.IsArchive(ctx, path)
		if err != nil {
			return fmt.Errorf("--data %s: %w", c.DataDir, err)
		}
		if !ok {
			return noArchive(sqlite.FileName + " is not an arkisto database")
		}
		return nil
	}
	if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("--database: %q is not a postgres:// URL (leave it empty for SQLite in --data)", redact(c.DatabaseURL))
	}
	ok, err := postgres.IsArchive(ctx, c.DatabaseURL)
	if err != nil {
		return fmt.Errorf("--database %s: %w", redact(c.DatabaseURL), err)
	}
	if !ok {
		return noArchive("the database's search path holds no archive tables")
	}
	return nil
}

// initFlags are the flags that name the place, for the advice to create.
func (c Config) initFlags() string {
	if c.DatabaseURL != "" {
		return "--database '" + redact(c.DatabaseURL) + "'"
	}
	return "--data '" + c.DataDir + "'"
}

func open(ctx context.Context, c Config) (archive.Store, error) {
	bs, err := blob.Open(ctx, c.Blobs)
	if err != nil {
		return nil, err
	}
	switch {
	case c.DatabaseURL == "":
		return sqlite.Open(ctx, c.DataDir, sqlite.Options{Blobs: bs})
	case strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://"):
		return postgres.Open(ctx, c.DatabaseURL, postgres.Options{Blobs: bs})
	}
	return nil, fmt.Errorf("--database: %q is not a postgres:// URL (leave it empty for SQLite in --data)", redact(c.DatabaseURL))
}

// redact drops a password from a URL-like string.
func redact(s string) string {
	if i := strings.Index(s, "@"); i > 0 {
		if j := strings.Index(s, "://"); j > 0 && j < i {
			return s[:j+3] + "…@" + s[i+1:]
		}
	}
	return s
}

// Migrate brings the schema to the newest version this build knows and
// reports the versions before and after. (Open does the same; migrate lets
// an operator do it as a step of its own.) It upgrades an existing archive
// only: where there is none it returns ErrNoArchive and creates nothing.
func Migrate(ctx context.Context, c Config) (from, to int, err error) {
	if err := Exists(ctx, c); err != nil {
		return 0, 0, err
	}
	if c.DatabaseURL == "" {
		s, err := sqlite.Open(ctx, c.DataDir, sqlite.Options{SkipBlobCheck: true})
		if err != nil {
			return 0, 0, err
		}
		defer s.Close()
		to, err := s.SchemaVersion(ctx)
		return s.OpenedAt(), to, err
	}
	s, err := postgres.Open(ctx, c.DatabaseURL, postgres.Options{NoMigrate: true, SkipBlobCheck: true})
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	if from, err = s.SchemaVersion(ctx); err != nil {
		return 0, 0, err
	}
	if err := s.Migrate(ctx, postgres.Latest()); err != nil {
		return from, 0, err
	}
	to, err = s.SchemaVersion(ctx)
	return from, to, err
}
