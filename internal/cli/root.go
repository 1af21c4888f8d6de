// Package cli is the `arkisto` command: one binary for running, operating
// and trying out the archive. cmd/arkisto only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/storage"
)

// DefaultDataDir is where the embedded archive keeps its data.
const DefaultDataDir = "./arkisto-data"

// exitError carries an exit code without an error message of its own.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

type app struct {
	stdout, stderr io.Writer
	dataDir        string
	databaseURL    string
	blobs          string
	logLevel       string
	logger         *slog.Logger
	// rules is the access policy of the service open makes (serve sets the
	// citizen view's hidden categories).
	rules archive.Rules
}

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintln(stderr, "arkisto:", err)
		return 2
	}
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "arkisto",
		Short:         "National client data archive for social welfare services",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			level := a.logLevel
			if level == "" {
				level = defaultLogLevel(cmd.Name())
			}
			var l slog.Level
			if err := l.UnmarshalText([]byte(level)); err != nil {
				return fmt.Errorf("--log-level: must be debug, info, warn or error, is %q", level)
			}
			a.logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: l}))
			return nil
		},
	}
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "", "operator log level: debug, info, warn or error (default: "+logLevelDefaults+")")
	root.AddCommand(a.validateCmd(), a.adminCmd(), a.genCmd(), a.archiveCmd(), a.serveCmd(), a.demoCmd(), a.tokenCmd(), a.bundleCmd())
	return root
}

// storageFlags adds the flags that say where the archive is to a command
// that opens it: only those commands show them. They may stand before the
// command's name too (arkisto --data DIR admin org list).
func (a *app) storageFlags(fs *pflag.FlagSet) {
	def := DefaultDataDir
	if env := os.Getenv("ARKISTO_DATA"); env != "" {
		def = env
	}
	fs.StringVar(&a.dataDir, "data", def, "data directory of the embedded archive (env ARKISTO_DATA)")
	fs.StringVar(&a.databaseURL, "database", os.Getenv("ARKISTO_DATABASE_URL"), "PostgreSQL URL, postgres://...; empty: SQLite in --data (env ARKISTO_DATABASE_URL)")
	blobsDef := os.Getenv("ARKISTO_BLOBS")
	if blobsDef == "" {
		blobsDef = "db"
	}
	fs.StringVar(&a.blobs, "blobs", blobsDef, "where document content is kept: db, files:DIR or s3://BUCKET?endpoint=URL (env ARKISTO_BLOBS; S3 credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
}

// logLevelDefaults is what --help says of defaultLogLevel.
const logLevelDefaults = "info for serve and demo, warn for the rest"

// defaultLogLevel is the operator log level of a command without
// --log-level: servers log their work at info, other commands only what
// goes wrong.
func defaultLogLevel(command string) string {
	if command == "serve" || command == "demo" {
		return "info"
	}
	return "warn"
}

func (a *app) storageConfig() storage.Config {
	return storage.Config{DataDir: a.dataDir, DatabaseURL: a.databaseURL, Blobs: a.blobs}
}

// open opens the existing archive the flags name; it creates nothing, and
// refuses a place that holds no archive (only admin init and demo create).
func (a *app) open(ctx context.Context) (*archive.Service, archive.Store, error) {
	cfg := a.storageConfig()
	st, err := storage.Open(ctx, cfg)
	if errors.Is(err, storage.ErrNoArchive) {
		return nil, nil, err // it names the place and says what to do
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open the archive (%s): %w", cfg.Describe(), err)
	}
	return archive.NewService(st, a.rules, archive.Config{}, a.logger), st, nil
}
