package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/bench"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/storage"
	"github.com/arkisto/arkisto/internal/storetest"
)

// childEnv makes this test binary act as `arkisto` when a test starts it
// as a process, as `arkisto-bench` starts its archive server.
const childEnv = "ARKISTO_TEST_RUN_MAIN"

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestBench runs `arkisto-bench` small, on SQLite and (when configured)
// PostgreSQL: every promised figure is in the JSON, every document sent
// is archived and its archiving logged, and the plot is a PNG.
func TestBench(t *testing.T) {
	t.Setenv(childEnv, "1")
	dbURL := os.Getenv(storetest.EnvDatabaseURL)
	if dbURL == "" && os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: CI runs the benchmark on PostgreSQL too", storetest.EnvDatabaseURL)
	}
	dir := t.TempDir()
	backends := []string{"sqlite"}
	if dbURL != "" {
		backends = append(backends, "postgres")
	}
	for i, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			args := []string{"--dir", dir, "--docs", "60", "--clients", "8", "--concurrency", "2", "--key", "p256",
				"--reads", "30", "--segment", "25", "--baseline", "20", "--checkpoints", "30,60", "--json"}
			if backend == "postgres" {
				args = append(args, "--database", dbURL, "--schema", "arkisto_bench_test")
			}
			code, out, errs := run(t, args...)
			if code != 0 {
				t.Fatalf("bench: exit %d\n%s%s", code, out, errs)
			}
			if i > 0 && !strings.Contains(errs, "reusing 60 generated documents") {
				t.Errorf("the second run generated its documents again:\n%s", errs)
			}
			var flat map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &flat); err != nil {
				t.Fatalf("--json output is not one JSON object: %v\n%s", err, out)
			}
			for _, k := range []string{"archive_docs_per_s", "raw_store_docs_per_s", "verify_docs_per_s", "fetch_per_s", "fetch_p99_ms",
				"list_p99_ms", "search_p99_ms", "peak_rss_mb", "http_per_s", "list_per_s", "search_per_s",
				"disclosure_per_s", "disclosure_p99_ms", "disclosure_server_cpu_ms", "disclosure_of_search", "disclosure_cpu_of_search", "search_server_cpu_ms",
				"service_fetch_per_s", "service_fetch_unlogged_per_s", "service_list_per_s", "service_list_unlogged_per_s"} {
				if v, ok := flat[k].(float64); !ok || v <= 0 {
					t.Errorf("%s = %v, want a positive number", k, flat[k])
				}
			}
			// Each durable commit holds at least one write.
			for _, k := range []string{"archive_writes_per_commit", "fetch_writes_per_commit"} {
				if v, ok := flat[k].(float64); !ok || v < 1 {
					t.Errorf("%s = %v, want at least 1", k, flat[k])
				}
			}
			// Four of the eight clients consented (the default, at least
			// four), and a recipient's search discloses each one's
			// relationship document at the least.
			if v := flat["disclosure_clients"]; v != float64(4) {
				t.Errorf("disclosure_clients = %v, want 4", v)
			}
			if v, ok := flat["disclosed_docs_per_client"].(float64); !ok || v < 1 {
				t.Errorf("disclosed_docs_per_client = %v, want at least 1", flat["disclosed_docs_per_client"])
			}
			var res struct {
				Backend string
				Points  []struct{ Docs int }
				Phases  []struct {
					Name     string
					Requests int
				}
			}
			b, err := os.ReadFile(filepath.Join(dir, "results-"+backend+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &res); err != nil {
				t.Fatal(err)
			}
			if res.Backend != backend || len(res.Points) != 2 || res.Points[0].Docs != 30 || res.Points[1].Docs != 60 {
				t.Errorf("results: backend %s, points %+v", res.Backend, res.Points)
			}
			phases := map[string]int{}
			archived := 0
			for _, p := range res.Phases {
				phases[p.Name] = p.Requests
				if strings.HasPrefix(p.Name, "archive-") {
					archived += p.Requests
				}
			}
			if archived != 60 {
				t.Errorf("archive passes sent %d documents, want 60", archived)
			}
			for _, name := range []string{"http", "fetch-30", "fetch-30-paced", "list-60", "search-60-paced", "disclosure-30", "disclosure-60", "disclosure-60-paced"} {
				if phases[name] != 30 {
					t.Errorf("phase %s has %d requests, want 30 (phases %v)", name, phases[name], phases)
				}
			}
			f, err := os.Open(filepath.Join(dir, "bench-"+backend+".png"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if cfg, err := png.DecodeConfig(f); err != nil || cfg.Width < 500 {
				t.Errorf("plot: %v, %+v", err, cfg)
			}
			// The run's store holds every document, each archiving logged.
			sc := storage.Config{DataDir: filepath.Join(dir, "run-sqlite", "data"), Blobs: "db"}
			if backend == "postgres" {
				u, _ := url.Parse(dbURL)
				q := u.Query()
				q.Set("search_path", "arkisto_bench_test")
				u.RawQuery = q.Encode()
				sc = storage.Config{DatabaseURL: u.String(), Blobs: "db"}
			}
			ctx := context.Background()
			st, err := storage.Open(ctx, sc)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			// Each consenting client's recipient archived its own client
			// relationship document besides the 60 of the stream.
			var consenting []struct{ Client string }
			if b, err := os.ReadFile(filepath.Join(dir, "run-"+backend, "disclosure-clients.json")); err != nil {
				t.Fatal(err)
			} else if err := json.Unmarshal(b, &consenting); err != nil {
				t.Fatal(err)
			}
			if len(consenting) != 4 {
				t.Fatalf("%d consenting clients recorded, want 4", len(consenting))
			}
			docs, logged := 0, 0
			costReads := map[archive.Action]int{}      // entries of the logging-cost passes
			controller := map[string]map[string]bool{} // client key → controllers of its documents
			var disclosures []*archive.Disclosure
			err = st.View(ctx, func(tx archive.Tx) error {
				recs, err := tx.ScanDocuments(ctx, "", 1000)
				docs = len(recs)
				if err != nil {
					return err
				}
				for _, r := range recs {
					if controller[r.ClientKey()] == nil {
						controller[r.ClientKey()] = map[string]bool{}
					}
					controller[r.ClientKey()][r.ControllerOID()] = true
				}
				es, err := tx.ScanAccessLog(ctx, 0, 100000)
				for _, e := range es {
					if e.Action == archive.ActionArchive && e.Outcome == archive.OutcomeAllowed {
						logged++
					}
					if e.Request != nil && e.Request.ClientAddress == bench.LogCostClientAddress {
						costReads[e.Action]++
					}
				}
				if err != nil {
					return err
				}
				disclosures, err = tx.ScanDisclosures(ctx, 0, 100000)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if docs != 64 || logged != 64 {
				t.Errorf("the run's store holds %d documents and %d archiving log entries, want 64 and 64", docs, logged)
			}
			// The logging-cost passes that kept the log logged every read,
			// and those through the benchmark's unlogged store none.
			if want := bench.LogCostRounds * 30; costReads[archive.ActionRead] != want || costReads[archive.ActionSearch] != want || len(costReads) != 2 {
				t.Errorf("the logging-cost passes left %v in the access log, want %d reads and %d searches", costReads, want, want)
			}
			// Each consenting client's documents are in two registers,
			// and the recipient's searches disclosed the other's
			// documents to it on the client's consent, all in the
			// disclosure log.
			for _, c := range consenting {
				if n := len(controller[hetu.ClientID{Root: hetu.OIDRoot, Extension: c.Client}.Key()]); n != 2 {
					t.Errorf("a consenting client's documents are in %d registers, want 2", n)
				}
			}
			disclosedDocs, clients := 0, map[string]bool{}
			for _, d := range disclosures {
				if d.Source != archive.SourceArchive || d.GroundKind != archive.GroundConsent || d.Ground == "" || d.Discloser == d.Recipient ||
					!controller[d.ClientKey][d.Discloser] || !controller[d.ClientKey][d.Recipient] || len(d.Documents) == 0 {
					t.Errorf("disclosure-log entry %d: %s discloses %d documents to %s on %s %q", d.ID, d.Discloser, len(d.Documents), d.Recipient, d.GroundKind, d.Ground)
				}
				disclosedDocs += len(d.Documents)
				clients[d.ClientKey] = true
			}
			// Over 120 disclosure searches were measured (and 8 checked);
			// each of the many that found a document logged it.
			if len(disclosures) < 30 || disclosedDocs < len(disclosures) || len(clients) != 4 {
				t.Errorf("the disclosure log holds %d entries of %d documents for %d clients, want at least 30 entries for 4 clients",
					len(disclosures), disclosedDocs, len(clients))
			}
			st.Close()

			// --reads-only measures the reads again on that store and
			// leaves the full run's results alone.
			full, err := os.ReadFile(filepath.Join(dir, "results-"+backend+".json"))
			if err != nil {
				t.Fatal(err)
			}
			profiles := t.TempDir()
			code, out, errs = run(t, append(args, "--reads-only", "--profile", profiles)...)
			if code != 0 {
				t.Fatalf("bench --reads-only: exit %d\n%s%s", code, out, errs)
			}
			if fi, err := os.Stat(filepath.Join(profiles, backend+"-fetch-"+"60.pprof")); err != nil || fi.Size() == 0 {
				t.Errorf("--profile: the fetch pass's profile: %v", err)
			}
			var again map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &again); err != nil {
				t.Fatalf("--reads-only --json output: %v\n%s", err, out)
			}
			for _, k := range []string{"fetch_per_s", "list_per_s", "search_per_s", "http_per_s", "disclosure_per_s"} {
				if v, ok := again[k].(float64); !ok || v <= 0 {
					t.Errorf("--reads-only: %s = %v, want a positive number", k, again[k])
				}
			}
			if v := again["archive_docs_per_s"]; v != float64(0) {
				t.Errorf("--reads-only archived: archive_docs_per_s = %v", v)
			}
			if after, _ := os.ReadFile(filepath.Join(dir, "results-"+backend+".json")); string(after) != string(full) {
				t.Error("--reads-only overwrote the full run's results")
			}
			if _, err := os.Stat(filepath.Join(dir, "results-"+backend+"-reads.json")); err != nil {
				t.Errorf("--reads-only results: %v", err)
			}
			// The store still holds exactly what the full run archived.
			st2, err := storage.Open(ctx, sc)
			if err != nil {
				t.Fatal(err)
			}
			defer st2.Close()
			err = st2.View(ctx, func(tx archive.Tx) error {
				recs, err := tx.ScanDocuments(ctx, "", 1000)
				docs = len(recs)
				return err
			})
			if err != nil || docs != 64 {
				t.Errorf("after --reads-only the store holds %d documents (%v), want the full run's 64", docs, err)
			}
			if !strings.Contains(errs, "reusing the 4 consenting clients") {
				t.Errorf("--reads-only did not reuse the full run's consenting clients:\n%s", errs)
			}
		})
	}
}

func TestBenchRefusesBadFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--docs", "0"}, "--docs: must be at least 1"},
		{[]string{"--docs", "100", "--concurrency", "8", "--clients", "10"}, "--clients: must be at least 4 × --concurrency (32), is 10"},
		{[]string{"--docs", "100", "--key", "dsa"}, "--key:"},
		{[]string{"--docs", "100", "--latency-load", "1.5"}, "--latency-load: must be more than 0 and at most 1"},
		{[]string{"--docs", "100", "--checkpoints", "50,200"}, "--checkpoints: each must be from 1 to --docs, one is 200"},
		{[]string{"--docs", "100", "--database", "mysql://x"}, "--database: must be a postgres:// URL"},
		{[]string{"--docs", "100", "--database", "postgres://x", "--schema", "x; DROP TABLE y"}, "--schema: must be a lower-case SQL name"},
		{[]string{"--docs", "100", "--reads-only", "--prepare-only"}, "--reads-only: cannot be combined with --prepare-only"},
		{[]string{"--docs", "100", "--reads-only"}, "holds no store of an earlier run; run without --reads-only first"},
	} {
		dir := t.TempDir()
		code, _, errs := run(t, append([]string{"--dir", dir}, tt.args...)...)
		if code == 0 || !strings.Contains(errs, tt.want) {
			t.Errorf("bench %v: exit %d, %q; want an error with %q", tt.args, code, errs, tt.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("bench %v wrote %d files before refusing", tt.args, len(entries))
		}
	}
}

// TestNoWayToRunWithoutAccessLog: the benchmark's server cannot turn the
// access log off, and its control port writes no file named by a request.
// (internal/cli's test of the same name covers the shipped binary.)
func TestNoWayToRunWithoutAccessLog(t *testing.T) {
	for _, args := range [][]string{
		{"server", "--without-access-log"},
	} {
		code, _, errs := run(t, args...)
		if code == 0 || !strings.Contains(errs, "unknown flag: --without-access-log") {
			t.Errorf("%v: exit %d, %q; want unknown flag", args, code, errs)
		}
	}

	st, err := storage.Create(context.Background(), storage.Config{DataDir: t.TempDir(), Blobs: "db"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ln, err := profileControl(st)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	target := filepath.Join(t.TempDir(), "written-by-request")
	post := func(path string) (int, []byte) {
		resp, err := http.Post("http://"+ln.Addr().String()+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, b := post("/cpu/start?file=" + url.QueryEscape(target)); code != http.StatusOK {
		t.Fatalf("start: %d %s", code, b)
	}
	code, prof := post("/cpu/stop?file=" + url.QueryEscape(target))
	if code != http.StatusOK || len(prof) == 0 {
		t.Errorf("stop: %d, %d bytes of profile", code, len(prof))
	}
	if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the control port wrote the file a request named (%v)", err)
	}
}
