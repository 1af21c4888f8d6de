// Package storage opens the archive's store from its configuration: SQLite
// in a data directory by default, PostgreSQL when a database URL is given,
// with document content in the database or in an external blob store.
package storage

import (
	"context"
	"fmt"
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

// Open opens the store, applying migrations.
func Open(ctx context.Context, c Config) (archive.Store, error) {
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
// an operator do it as a step of its own.)
func Migrate(ctx context.Context, c Config) (from, to int, err error) {
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
