// Command arkisto-bench measures the archive at a data size on this
// machine: see `arkisto-bench --help` and docs/benchmarks.md. It is a
// command of its own so that the shipped server binary, cmd/arkisto,
// carries neither the load generator nor its plotting, font and PDF
// packages nor the benchmark server's loopback control port.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/bench"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/server"
	"github.com/arkisto/arkisto/internal/storage"
)

func main() {
	// The benchmark server runs with the garbage collector target of the
	// shipped server, so that it measures what operators run.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(server.GCPercent)
	}
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

type app struct {
	stdout, stderr io.Writer
}

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.benchCmd()
	root.SilenceUsage, root.SilenceErrors = true, true
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "arkisto-bench:", err)
		return 2
	}
	return 0
}

func (a *app) benchCmd() *cobra.Command {
	var cfg bench.Config
	var keyType, plotPath, resultsPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "arkisto-bench --docs N [--clients M] [--concurrency C] [--database URL] [--json]",
		Short: "Measure archiving, retrieval and search at a data size on this machine",
		Long: `Generates N signed documents for M synthetic clients, N/M each, a few
clients at a time so that a client's list is as long at every checkpoint
(streamed to a file in --dir and reused by later runs with the same --docs,
--clients, --concurrency, --key and --seed), starts the archive server as its own process on a fresh store
(SQLite in DIR/run-sqlite, or with --database the PostgreSQL schema
--schema, dropped and created), archives the documents through the FHIR
door over HTTPS with mutual TLS and a signed token per request, and at each
checkpoint measures fetching documents, listing a client's documents and
searching by case, service task and date, and the same searches by another
controller with the client's consent (disclosure): throughput at full speed, then
latency percentiles paced at --latency-load of it, measured from when each
request was due (no coordinated omission). For the disclosure workload, a
sample of the clients (--disclosure-clients) gets, through the FHIR door, a
client relationship document in another controller's register and the
client's information notice and disclosure consent.

Baselines in the same run: verifying documents with no storage, storing
the same rows and content with the same durability with no checks, and an
empty authenticated request; and their floors: the RSA verifications and
SHA-256 of the same documents alone, a plain insert of the same rows with
the same durability, and the same mutual-TLS request without a token.
Last, with the server stopped, the access log's price: the domain service
reads the sampled documents and lists their clients' documents on the run's
store with the log as the server keeps it and through a store that drops the
entries of reads, passes of the two alternating (the server itself cannot
run without its log).
Tokens are signed before each measured pass: signing is the client's cost.
docs/benchmarks.md explains the method and holds results.

Writes DIR/results-<backend>.json and a plot, DIR/bench-<backend>.png.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.KeyType = pki.KeyType(keyType)
			cfg.Progress = a.stderr
			res, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if cfg.PrepareOnly {
				fmt.Fprintf(a.stdout, "documents ready in %s\n", cfg.Dir)
				return nil
			}
			dir := cfg.Dir
			if dir == "" {
				dir = "./arkisto-bench"
			}
			name := res.Backend
			if cfg.ReadsOnly {
				name += "-reads" // the full run's results stay
			}
			if resultsPath == "" {
				resultsPath = filepath.Join(dir, "results-"+name+".json")
			}
			if plotPath == "" {
				plotPath = filepath.Join(dir, "bench-"+name+".png")
			}
			js, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(resultsPath, append(js, '\n'), 0o644); err != nil {
				return err
			}
			if err := bench.Plot(plotPath, res); err != nil {
				return fmt.Errorf("plot: %w", err)
			}
			if asJSON {
				flat, err := json.Marshal(res)
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, string(flat))
				return nil
			}
			res.Print(a.stdout)
			fmt.Fprintf(a.stdout, "\nresults: %s\nplot: %s\n", resultsPath, plotPath)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DatabaseURL, "database", "", "PostgreSQL URL, postgres://...; empty: SQLite in DIR")
	f.StringVar(&cfg.Dir, "dir", "./arkisto-bench", "working directory: PKI, generated documents, run data, results")
	f.IntVar(&cfg.Docs, "docs", 10000, "documents to archive")
	f.IntVar(&cfg.Clients, "clients", 0, "synthetic clients (default max(docs/20, 4 × concurrency))")
	f.IntVar(&cfg.Concurrency, "concurrency", 16, "concurrent requests")
	f.StringVar(&cfg.Schema, "schema", "arkisto_bench", "PostgreSQL schema of the run, dropped and created (the storage baseline uses SCHEMA_raw)")
	f.StringVar(&keyType, "key", string(pki.RSA2048), "key type of the benchmark PKI: rsa2048, rsa3072 or p256")
	f.IntVar(&cfg.Reads, "reads", 10000, "requests per read workload pass")
	f.IntSliceVar(&cfg.Checkpoints, "checkpoints", nil, "data sizes at which reads are measured (default every power of ten from 10,000 below --docs, and --docs)")
	f.IntVar(&cfg.DisclosureClients, "disclosure-clients", 0, "clients whose documents another controller searches with their consent, the disclosure workload (default clients/10, at least 4, at most 1000)")
	f.IntVar(&cfg.Segment, "segment", 5000, "documents archived per batch of pre-signed tokens")
	f.Float64Var(&cfg.LatencyLoad, "latency-load", 0.8, "share of the full-speed rate at which latencies are measured")
	f.IntVar(&cfg.Baseline, "baseline", 0, "documents in the storage and verification baselines (default min(docs, 10000))")
	f.Uint64Var(&cfg.Seed, "seed", 1, "random seed of the generated documents and reads")
	f.StringVar(&cfg.Profile, "profile", "", "directory for a CPU profile (pprof) of the server in each measured pass")
	f.BoolVar(&cfg.PrepareOnly, "prepare-only", false, "only generate the PKI and the documents (to run several backends on the same documents)")
	f.BoolVar(&cfg.ReadsOnly, "reads-only", false, "measure only the reads, again, on the store the last run with the same --docs left")
	f.BoolVar(&asJSON, "json", false, "print one JSON object with the results instead of the report")
	f.StringVar(&plotPath, "plot", "", "PNG to write (default DIR/bench-<backend>.png)")
	f.StringVar(&resultsPath, "results", "", "results JSON to write (default DIR/results-<backend>.json)")
	cmd.AddCommand(a.benchServerCmd(), a.benchPlotCmd(), a.benchTableCmd())
	return cmd
}

// readResults reads the results files of runs.
func readResults(paths []string) ([]*bench.Result, error) {
	var rs []*bench.Result
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		r := &bench.Result{}
		if err := json.Unmarshal(b, r); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

func (a *app) benchPlotCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "plot --out FILE RESULTS.json...",
		Short: "Plot the results of one or more runs (say, SQLite and PostgreSQL) in one PNG",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("--out: the PNG to write is required")
			}
			rs, err := readResults(args)
			if err != nil {
				return err
			}
			return bench.Plot(out, rs...)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "PNG to write")
	return cmd
}

func (a *app) benchTableCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "table RESULTS.json...",
		Short: "Print the results of runs as the Markdown tables of docs/benchmarks.md",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rs, err := readResults(args)
			if err != nil {
				return err
			}
			fmt.Fprint(a.stdout, bench.Markdown(rs...))
			return nil
		},
	}
}

// benchServerCmd is the archive server a benchmark runs as its own
// process. It is hidden and serves only a store a benchmark run made; it
// is the same server as `arkisto serve`, access log and all.
func (a *app) benchServerCmd() *cobra.Command {
	var runDir, listen, certFile, keyFile string
	var sc storage.Config
	cmd := &cobra.Command{
		Use:    "server --run DIR --tls-cert FILE --tls-key FILE (--data DIR | --database URL)",
		Short:  "The archive server of a benchmark run (started by arkisto-bench)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			logger := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			marker, err := os.ReadFile(filepath.Join(runDir, bench.MarkerFile))
			if err != nil {
				return fmt.Errorf("--run: %s is not a benchmark run directory: %w", runDir, err)
			}
			if strings.TrimSpace(string(marker)) != sc.Describe() {
				return fmt.Errorf("--run: the benchmark run in %s made another store than %s", runDir, sc.Describe())
			}
			cert, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return fmt.Errorf("--tls-cert/--tls-key: %w", err)
			}
			st, err := storage.Open(ctx, sc)
			if err != nil {
				return err
			}
			defer st.Close()
			svc := archive.NewService(st, archive.Rules{}, archive.Config{}, logger)
			run, err := server.Start(ctx, svc, server.Options{Listen: listen, Cert: cert, Logger: logger, Store: st})
			if err != nil {
				return err
			}
			ctl, err := profileControl(st)
			if err != nil {
				return err
			}
			defer ctl.Close()
			fmt.Fprintf(a.stdout, "%s %s %s\n", bench.ReadyPrefix, run.Addr, ctl.Addr())
			return run.Wait(ctx, 30*time.Second, logger)
		},
	}
	f := cmd.Flags()
	f.StringVar(&runDir, "run", "", "the benchmark run directory")
	f.StringVar(&listen, "listen", "127.0.0.1:0", "address to listen on")
	f.StringVar(&certFile, "tls-cert", "", "server certificate (PEM)")
	f.StringVar(&keyFile, "tls-key", "", "server private key (PEM)")
	f.StringVar(&sc.DataDir, "data", "", "data directory of the run's SQLite store")
	f.StringVar(&sc.DatabaseURL, "database", "", "PostgreSQL URL of the run's store")
	f.StringVar(&sc.Blobs, "blobs", "db", "where the run keeps document content")
	return cmd
}

// profileControl serves, on a loopback port, /cpu/start and /cpu/stop,
// which answers with the CPU profile (pprof) taken in between, so that a
// benchmark can profile the server during a pass, and /stats with the
// store's commit counts. It writes no file: the load generator saves the
// profile where it wants it.
func profileControl(st archive.Store) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var buf *bytes.Buffer // the running profile, nil when none runs
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cpu/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if buf != nil {
			http.Error(w, "a profile is running", http.StatusConflict)
			return
		}
		b := new(bytes.Buffer)
		if err := pprof.StartCPUProfile(b); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		buf = b
	})
	mux.HandleFunc("POST /cpu/stop", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if buf == nil {
			http.Error(w, "no profile is running", http.StatusConflict)
			return
		}
		pprof.StopCPUProfile()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(buf.Bytes())
		buf = nil
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		var stats bench.ServerStats
		if cs, ok := st.(interface{ CommitStats() (int64, int64) }); ok {
			stats.Commits, stats.Writes = cs.CommitStats()
		}
		json.NewEncoder(w).Encode(stats)
	})
	go http.Serve(ln, mux)
	return ln, nil
}
