// Package bench is `arkisto-bench`: it measures the archive at a given
// data size on this machine. It generates realistic signed documents for
// synthetic clients into a stream file, archives them through the real
// FHIR door (HTTPS, mutual TLS, a signed token per request) of an archive
// server running as its own process, and measures reads at checkpoints as
// the data grows: fetching a document, listing a client's documents and
// searching by case, service task and date. Baselines measured in the same
// run (the storage limit, the signature-verification limit, the HTTP
// limit) turn every result into a ratio, and a run of the server without
// its access log prices the log. docs/benchmarks.md has the method and
// the results.
package bench

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/storage"
)

// Config shapes a run.
type Config struct {
	// Dir holds the benchmark's PKI, generated documents, run data and
	// results; default ./arkisto-bench. Generated documents are reused by
	// later runs with the same --docs, --clients, --key and --seed.
	Dir         string
	Docs        int // documents to archive
	Clients     int // synthetic clients; default max(Docs/20, 4×Concurrency)
	Concurrency int // concurrent requests; default 16
	// DatabaseURL runs on PostgreSQL, in a schema of its own that each
	// run drops and creates; empty: SQLite in Dir/run-sqlite.
	DatabaseURL string
	// Schema is that schema, default arkisto_bench; the storage baseline
	// uses Schema_raw.
	Schema  string
	KeyType pki.KeyType // of the PKI's keys; default rsa2048, as in Kanta's documents
	Reads   int         // requests per read workload pass; default 10,000
	// Checkpoints are the data sizes at which reads are measured;
	// default every power of ten from 10,000 below Docs, and Docs.
	Checkpoints []int
	Segment     int     // documents archived per batch of pre-signed tokens; default 5,000
	LatencyLoad float64 // latencies are measured at this share of the measured maximum rate; default 0.8
	Baseline    int     // documents in the storage and verification baselines; default min(Docs, 10,000)
	Seed        uint64  // default 1
	// DisclosureClients is how many clients get a second controller with
	// the client's consent, whose searches are the disclosure workload;
	// default Clients/10, at least 4 and at most 1,000.
	DisclosureClients int
	// ServerCommand runs arkisto; default this executable.
	ServerCommand []string
	// Profile, if set, is a directory for a CPU profile of the server
	// during each measured phase.
	Profile  string
	Progress io.Writer // progress bars and notes; nil: quiet
	// PrepareOnly generates the PKI and the documents and stops, so
	// that runs on several backends can then archive the same documents.
	PrepareOnly bool
	// ReadsOnly measures reads again, at its full size, on the store the
	// last run with the same --docs left, without archiving anything or
	// measuring the baselines: for trying a change to the read path at a
	// size that takes long to archive.
	ReadsOnly bool
}

func (c *Config) logf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// check fills defaults and refuses a configuration that cannot run,
// naming the flag and the rule.
func (c *Config) check() error {
	if c.Dir == "" {
		c.Dir = "./arkisto-bench"
	}
	if c.Docs < 1 {
		return fmt.Errorf("--docs: must be at least 1, is %d", c.Docs)
	}
	if c.Concurrency == 0 {
		c.Concurrency = 16
	}
	if c.Concurrency < 1 || c.Concurrency > 1024 {
		return fmt.Errorf("--concurrency: must be from 1 to 1024, is %d", c.Concurrency)
	}
	if c.Clients == 0 {
		c.Clients = max(c.Docs/20, 4*c.Concurrency)
	}
	// A client's documents must not be archived out of order: a
	// replacement sent while its original is still in flight would be
	// refused. With four clients per concurrent request, a client's next
	// document is far behind its previous one in the stream.
	if c.Clients < 4*c.Concurrency {
		return fmt.Errorf("--clients: must be at least 4 × --concurrency (%d), is %d", 4*c.Concurrency, c.Clients)
	}
	if c.KeyType == "" {
		c.KeyType = pki.RSA2048
	}
	if _, err := pki.NewKey(c.KeyType); err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	if c.Reads == 0 {
		c.Reads = 10000
	}
	if c.Reads < 1 {
		return fmt.Errorf("--reads: must be at least 1, is %d", c.Reads)
	}
	if c.DisclosureClients == 0 {
		c.DisclosureClients = min(c.Clients, max(4, min(c.Clients/10, 1000)))
	}
	if c.DisclosureClients < 1 || c.DisclosureClients > c.Clients {
		return fmt.Errorf("--disclosure-clients: must be from 1 to --clients (%d), is %d", c.Clients, c.DisclosureClients)
	}
	if c.Segment == 0 {
		c.Segment = 5000
	}
	if c.LatencyLoad == 0 {
		c.LatencyLoad = 0.8
	}
	if c.LatencyLoad <= 0 || c.LatencyLoad > 1 {
		return fmt.Errorf("--latency-load: must be more than 0 and at most 1, is %g", c.LatencyLoad)
	}
	if c.Baseline == 0 {
		c.Baseline = min(c.Docs, 10000)
	}
	if c.Baseline < 1 || c.Baseline > c.Docs {
		return fmt.Errorf("--baseline: must be from 1 to --docs, is %d", c.Baseline)
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if len(c.Checkpoints) == 0 {
		for p := 10000; p < c.Docs; p *= 10 {
			c.Checkpoints = append(c.Checkpoints, p)
		}
		c.Checkpoints = append(c.Checkpoints, c.Docs)
	}
	slices.Sort(c.Checkpoints)
	c.Checkpoints = slices.Compact(c.Checkpoints)
	for _, p := range c.Checkpoints {
		if p < 1 || p > c.Docs {
			return fmt.Errorf("--checkpoints: each must be from 1 to --docs, one is %d", p)
		}
	}
	if c.Checkpoints[len(c.Checkpoints)-1] != c.Docs {
		c.Checkpoints = append(c.Checkpoints, c.Docs)
	}
	if c.ReadsOnly && c.PrepareOnly {
		return errors.New("--reads-only: cannot be combined with --prepare-only")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return errors.New("--database: must be a postgres:// URL")
	}
	if c.Schema == "" {
		c.Schema = "arkisto_bench"
	}
	if !schemaName.MatchString(c.Schema) {
		return fmt.Errorf("--schema: must be a lower-case SQL name of at most 50 letters, digits and underscores, is %q", c.Schema)
	}
	if len(c.ServerCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the arkisto executable: %w", err)
		}
		c.ServerCommand = []string{exe}
	}
	return nil
}

// run is one benchmark run's state.
type run struct {
	cfg        *Config
	world      *gen.PKI
	roots      *x509.CertPool
	backend    string // sqlite or postgres
	runDir     string
	storeCfg   storage.Config
	serverCert string // path without .crt/.key
	callers    []*caller
	stream     string
	res        *Result
	// localDatabase: PostgreSQL runs on this machine, so its CPU time
	// can be read and counted with the server's.
	localDatabase bool
	// consenting are the clients of the disclosure workload, set up at
	// the first checkpoint; disclosureDocs the sampled documents of them.
	consenting     []consenting
	disclosureDocs []*Meta
}

// Run runs the benchmark and returns its results.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	b := &run{cfg: &cfg, backend: "sqlite"}
	if cfg.DatabaseURL != "" {
		b.backend = "postgres"
		if u, err := url.Parse(cfg.DatabaseURL); err == nil {
			h := u.Hostname()
			b.localDatabase = h == "" || h == "localhost" || net.ParseIP(h).IsLoopback()
		}
	}
	if cfg.ReadsOnly {
		if err := b.earlierRun(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	b.res = &Result{Backend: b.backend, Docs: cfg.Docs, Clients: cfg.Clients, Concurrency: cfg.Concurrency, KeyType: string(cfg.KeyType),
		Reads: cfg.Reads, LatencyLoad: cfg.LatencyLoad, Machine: machine(), Started: time.Now().UTC().Truncate(time.Second)}
	var err error
	pkiDir := filepath.Join(cfg.Dir, "pki-"+string(cfg.KeyType))
	if b.world, err = gen.LoadOrCreatePKI(pkiDir, gen.PKIOptions{KeyType: cfg.KeyType}); err != nil {
		return nil, fmt.Errorf("benchmark PKI: %w", err)
	}
	b.roots = b.world.Roots()
	if b.serverCert, err = serverCert(b.world, pkiDir); err != nil {
		return nil, err
	}
	b.callers = newCallers(b.world, b.roots, cfg.Concurrency)
	if b.stream, err = ensureStream(ctx, cfg.Dir, b.world, &cfg); err != nil {
		return nil, err
	}
	if cfg.PrepareOnly {
		return nil, nil
	}
	if cfg.ReadsOnly {
		if err := b.measureReads(ctx); err != nil {
			return nil, err
		}
		b.res.finish()
		return b.res, nil
	}
	if err := b.baselines(ctx); err != nil {
		return nil, err
	}
	if err := b.measure(ctx); err != nil {
		return nil, err
	}
	b.res.finish()
	return b.res, nil
}

// serverCert issues the archive server's certificate for 127.0.0.1 once.
func serverCert(world *gen.PKI, dir string) (string, error) {
	base := filepath.Join(dir, "bench-server")
	if _, err := os.Stat(base + ".crt"); err == nil {
		return base, nil
	}
	id, err := world.CA.Issue(pki.Template{Subject: pki.SystemSubject("1.2.246.10.0", "arkisto bench server", "arkisto-bench"),
		TLSServer: true, DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	if err != nil {
		return "", fmt.Errorf("issue the server certificate: %w", err)
	}
	return base, id.Save(base)
}

// schemaName is what --schema may be: it is written into SQL.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,49}$`)

// freshStore makes an empty store for the run (name "run") or the storage
// baseline ("raw"), with the benchmark's organisations and systems.
func (b *run) freshStore(ctx context.Context, name string) (storage.Config, error) {
	var sc storage.Config
	if b.cfg.DatabaseURL == "" {
		dir := filepath.Join(b.cfg.Dir, name+"-sqlite")
		if err := os.RemoveAll(dir); err != nil {
			return sc, err
		}
		sc = storage.Config{DataDir: filepath.Join(dir, "data"), Blobs: "db"}
	} else {
		// Each run drops and creates its schemas; nothing else is touched.
		schema := b.cfg.Schema
		if name == "raw" {
			schema += "_raw"
		}
		u, err := schemaURL(ctx, b.cfg.DatabaseURL, schema)
		if err != nil {
			return sc, err
		}
		sc = storage.Config{DatabaseURL: u, Blobs: "db"}
	}
	st, err := storage.Create(ctx, sc)
	if err != nil {
		return sc, fmt.Errorf("create the %s store: %w", name, err)
	}
	defer st.Close()
	err = archive.NewAdmin(st, slog.New(slog.DiscardHandler)).Apply(ctx, b.world.Setup(true))
	if err != nil {
		return sc, fmt.Errorf("onboard the benchmark's organisations: %w", err)
	}
	return sc, nil
}

// schemaURL drops and creates schema and returns the URL that uses it.
func schemaURL(ctx context.Context, raw, schema string) (string, error) {
	conn, err := pgx.Connect(ctx, raw)
	if err != nil {
		return "", fmt.Errorf("--database: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
		return "", fmt.Errorf("drop schema %s: %w", schema, err)
	}
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		return "", fmt.Errorf("create schema %s: %w", schema, err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("--database: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// storeArgs are the global flags that open the run's store.
func (b *run) storeArgs() []string {
	if b.storeCfg.DatabaseURL != "" {
		return []string{"--database", b.storeCfg.DatabaseURL, "--blobs", "db"}
	}
	return []string{"--data", b.storeCfg.DataDir, "--blobs", "db"}
}

// MarkerFile, in a run directory, names the store a benchmark run made.
// `arkisto-bench server` serves only a store named there, so that it never
// serves an operator's archive.
const MarkerFile = "bench-run.txt"

// Machine describes where a run ran.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPU       string `json:"cpu"`
	MemoryGiB int    `json:"memory_gib"`
	Go        string `json:"go"`
	OS        string `json:"os"`
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			}
		}
		m.MemoryGiB = int((kb + 1<<19) >> 20)
	}
	return m
}
