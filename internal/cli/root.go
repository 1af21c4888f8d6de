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

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlite"
)

// DefaultDataDir is where the embedded archive keeps its data.
const DefaultDataDir = "./arkisto-data"

// exitError carries an exit code without an error message of its own.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

type app struct {
	stdout, stderr io.Writer
	dataDir        string
	logLevel       string
	logger         *slog.Logger
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
			// Servers log their work at info unless told otherwise.
			if (cmd.Name() == "serve" || cmd.Name() == "demo") && !cmd.Flags().Changed("log-level") {
				level = "info"
			}
			var l slog.Level
			if err := l.UnmarshalText([]byte(level)); err != nil {
				return fmt.Errorf("--log-level: must be debug, info, warn or error, is %q", level)
			}
			a.logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: l}))
			return nil
		},
	}
	def := DefaultDataDir
	if env := os.Getenv("ARKISTO_DATA"); env != "" {
		def = env
	}
	root.PersistentFlags().StringVar(&a.dataDir, "data", def, "data directory of the embedded archive (env ARKISTO_DATA)")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "warn", "operator log level: debug, info, warn or error")
	root.AddCommand(a.validateCmd(), a.adminCmd(), a.genCmd(), a.archiveCmd(), a.serveCmd(), a.demoCmd(), a.tokenCmd(), a.bundleCmd())
	return root
}

// open opens the archive in the data directory.
func (a *app) open(ctx context.Context) (*archive.Service, *sqlite.Store, error) {
	st, err := sqlite.Open(ctx, a.dataDir)
	if err != nil {
		return nil, nil, fmt.Errorf("open archive in %s: %w", a.dataDir, err)
	}
	return archive.NewService(st, archive.OwnRegister{}, archive.Config{}, a.logger), st, nil
}
