package bench

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"
)

// Result is a run's outcome. The flat fields are the figures at the full
// data size, under the names the --json output promises; Points has the
// reads at every checkpoint and Phases every measured pass.
type Result struct {
	Backend     string    `json:"backend"`
	Docs        int       `json:"docs"`
	Clients     int       `json:"clients"`
	Concurrency int       `json:"concurrency"`
	KeyType     string    `json:"key_type"`
	Reads       int       `json:"reads_per_pass"`
	LatencyLoad float64   `json:"latency_load"`
	Machine     Machine   `json:"machine"`
	Started     time.Time `json:"started"`

	ArchiveDocsPerS  float64 `json:"archive_docs_per_s"`
	RawStoreDocsPerS float64 `json:"raw_store_docs_per_s"`
	VerifyDocsPerS   float64 `json:"verify_docs_per_s"`
	HTTPPerS         float64 `json:"http_per_s"`
	// The floors the targets are ratios of (issue 16), measured in the
	// same run: RSA verification of the same signatures and SHA-256 of
	// the same bytes and nothing else; the same rows inserted into one
	// plain table with the same durability; the same mutual-TLS request
	// without a token.
	CryptoFloorDocsPerS float64 `json:"crypto_floor_docs_per_s"`
	PlainInsertDocsPerS float64 `json:"plain_insert_docs_per_s"`
	TLSOnlyPerS         float64 `json:"tls_only_per_s"`
	FetchPerS           float64 `json:"fetch_per_s"`
	FetchP99ms          float64 `json:"fetch_p99_ms"`
	ListPerS            float64 `json:"list_per_s"`
	ListP99ms           float64 `json:"list_p99_ms"`
	SearchPerS          float64 `json:"search_per_s"`
	SearchP99ms         float64 `json:"search_p99_ms"`
	// The disclosure workload: the search workload's searches by another
	// controller for clients who consented (purpose disclosure), each
	// disclosed document logged in the disclosure log in the same durable
	// transaction as the access-log entry. DisclosureClients is how many
	// clients consented; DisclosedDocsPerClient how many documents a
	// recipient's search for one of them, unfiltered, discloses on
	// average (the data shape).
	DisclosurePerS         float64 `json:"disclosure_per_s,omitempty"`
	DisclosureP99ms        float64 `json:"disclosure_p99_ms,omitempty"`
	DisclosureClients      int     `json:"disclosure_clients,omitempty"`
	DisclosedDocsPerClient float64 `json:"disclosed_docs_per_client,omitempty"`
	// LoggingCostPct is the share of read throughput the access log
	// costs: the larger of fetch's and list's. Since 2026-12-02 it is
	// measured in the benchmark's process on the run's store through the
	// domain service, with and without the log (logcost.go: the Service*
	// figures); results of runs before issue 10 measured it against a
	// server without its log (FetchUnloggedPerS, ListUnloggedPerS), which
	// the shipped server can no longer be.
	LoggingCostPct           float64 `json:"logging_cost_pct,omitempty"`
	ServiceFetchPerS         float64 `json:"service_fetch_per_s,omitempty"`
	ServiceFetchUnloggedPerS float64 `json:"service_fetch_unlogged_per_s,omitempty"`
	ServiceListPerS          float64 `json:"service_list_per_s,omitempty"`
	ServiceListUnloggedPerS  float64 `json:"service_list_unlogged_per_s,omitempty"`
	FetchUnloggedPerS        float64 `json:"fetch_unlogged_per_s,omitempty"`
	ListUnloggedPerS         float64 `json:"list_unlogged_per_s,omitempty"`
	PeakRSSMB                float64 `json:"peak_rss_mb"`

	// CPU time per request: what each costs the server, apart from the
	// load generator sharing its cores. Cores ÷ server CPU per request is
	// what the server would sustain with the cores to itself.
	ArchiveServerCPUms    float64 `json:"archive_server_cpu_ms"`
	ArchiveClientCPUms    float64 `json:"archive_client_cpu_ms"`
	HTTPServerCPUms       float64 `json:"http_server_cpu_ms"`
	TLSOnlyServerCPUms    float64 `json:"tls_only_server_cpu_ms"`
	FetchServerCPUms      float64 `json:"fetch_server_cpu_ms"`
	ListServerCPUms       float64 `json:"list_server_cpu_ms"`
	SearchServerCPUms     float64 `json:"search_server_cpu_ms"`
	DisclosureServerCPUms float64 `json:"disclosure_server_cpu_ms,omitempty"`
	// The same for a local PostgreSQL's processes (0 on SQLite).
	ArchiveDatabaseCPUms    float64 `json:"archive_database_cpu_ms,omitempty"`
	FetchDatabaseCPUms      float64 `json:"fetch_database_cpu_ms,omitempty"`
	ListDatabaseCPUms       float64 `json:"list_database_cpu_ms,omitempty"`
	SearchDatabaseCPUms     float64 `json:"search_database_cpu_ms,omitempty"`
	DisclosureDatabaseCPUms float64 `json:"disclosure_database_cpu_ms,omitempty"`

	// Writes per durable commit: how well group commit gathers archived
	// documents, and the access-log entries of fetches.
	ArchiveWritesPerCommit float64 `json:"archive_writes_per_commit"`
	FetchWritesPerCommit   float64 `json:"fetch_writes_per_commit"`
	// The same for searches: an own-use search's access-log entry joins
	// the group commit of reads; a disclosure's goes into a write
	// transaction with its disclosure-log entries.
	SearchWritesPerCommit     float64 `json:"search_writes_per_commit,omitempty"`
	DisclosureWritesPerCommit float64 `json:"disclosure_writes_per_commit,omitempty"`

	// Ratios to the baselines.
	ArchiveOfRawStore float64 `json:"archive_of_raw_store"` // archive ÷ raw store
	ArchiveOfVerify   float64 `json:"archive_of_verify"`    // archive ÷ verification
	FetchOfHTTP       float64 `json:"fetch_of_http"`        // fetch ÷ HTTP limit
	// The issue 16 targets' ratios (docs/benchmarks.md, "Floors").
	VerifyOfCryptoFloor float64 `json:"verify_of_crypto_floor"`    // verification ÷ crypto floor (target ≥ 0.25)
	RawStoreOfPlain     float64 `json:"raw_store_of_plain_insert"` // raw store ÷ plain insert (≥ 0.5)
	HTTPOfTLSOnly       float64 `json:"http_of_tls_only"`          // empty authenticated request ÷ TLS only (≥ 0.8)
	ListOfHTTP          float64 `json:"list_of_http"`              // list ÷ HTTP limit (≥ 0.25)
	// How reads hold up as the archive grows: fetch and list throughput
	// at the last checkpoint ÷ at the first (10,000 documents by
	// default; target ≥ 0.8), for runs with two checkpoints or more.
	FetchOfFirstCheckpoint float64 `json:"fetch_of_first_checkpoint,omitempty"`
	ListOfFirstCheckpoint  float64 `json:"list_of_first_checkpoint,omitempty"`
	// Per core of the machine, load generator included, against
	// published figures of document servers that neither verify
	// signatures nor log access: durable archive transactions and
	// fetches each second, at the full data size.
	ArchivePerCorePerS float64 `json:"archive_per_core_per_s,omitempty"`
	FetchPerCorePerS   float64 `json:"fetch_per_core_per_s,omitempty"`
	// Disclosure against own-use search: throughput (disclosure/s ÷
	// search/s) and server CPU per request (disclosure ÷ search).
	DisclosureOfSearch    float64 `json:"disclosure_of_search,omitempty"`
	DisclosureCPUOfSearch float64 `json:"disclosure_cpu_of_search,omitempty"`

	Points      []Point `json:"points"`
	Phases      []Phase `json:"phases"`
	peak        int64   // bytes
	archiveDocs int
	archiveTime time.Duration

	archiveServerCPU, archiveClientCPU, archiveDatabaseCPU float64 // ms, summed over documents
	archiveCommits, archiveWrites                          int64
}

// Point is the archive at one data size.
type Point struct {
	Docs int `json:"docs"`
	// ArchiveDocsPerS is the archiving rate since the previous point.
	ArchiveDocsPerS float64  `json:"archive_docs_per_s"`
	Fetch           Workload `json:"fetch"`
	List            Workload `json:"list"`
	Search          Workload `json:"search"`
	// Disclosure is the search workload by another controller with the
	// client's consent; DisclosedDocsPerClient how many documents its
	// unfiltered search for a consenting client discloses on average.
	Disclosure             Workload `json:"disclosure"`
	DisclosedDocsPerClient float64  `json:"disclosed_docs_per_client,omitempty"`
	PeakRSSMB              float64  `json:"peak_rss_mb"`
}

// Workload is one read workload at one data size: throughput at full
// speed, and latencies measured at Rate requests per second.
type Workload struct {
	PerS  float64 `json:"per_s"`
	Rate  float64 `json:"rate"`
	P50ms float64 `json:"p50_ms"`
	P95ms float64 `json:"p95_ms"`
	P99ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
	// ServiceP99ms is the p99 at full speed, measured from when each
	// request was sent: a closed loop's figure, for comparison only.
	ServiceP99ms float64 `json:"service_p99_ms"`
	// CPU time per request at full speed.
	ServerCPUms   float64 `json:"server_cpu_ms"`
	ClientCPUms   float64 `json:"client_cpu_ms"`
	DatabaseCPUms float64 `json:"database_cpu_ms,omitempty"`
	// WritesPerCommit at full speed: access-log entries per commit.
	WritesPerCommit float64 `json:"writes_per_commit"`
}

// Phase is one measured pass.
type Phase struct {
	Name string `json:"name"`
	Pass
}

func (r *Result) noteRSS(b int64) {
	r.peak = max(r.peak, b)
	r.PeakRSSMB = mb(r.peak)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(a/b*100) / 100
}

// finish fills the flat figures from the last point and the ratios.
func (r *Result) finish() {
	if r.archiveTime > 0 {
		r.ArchiveDocsPerS = math.Round(float64(r.archiveDocs) / r.archiveTime.Seconds())
		r.ArchiveServerCPUms = math.Round(r.archiveServerCPU/float64(r.archiveDocs)*1000) / 1000
		r.ArchiveClientCPUms = math.Round(r.archiveClientCPU/float64(r.archiveDocs)*1000) / 1000
		r.ArchiveDatabaseCPUms = math.Round(r.archiveDatabaseCPU/float64(r.archiveDocs)*1000) / 1000
		if r.archiveCommits > 0 {
			// Writes are the documents and the token uses of their
			// requests, as the store counts them.
			r.ArchiveWritesPerCommit = math.Round(float64(r.archiveWrites)/float64(r.archiveCommits)*100) / 100
		}
	}
	if n := len(r.Points); n > 0 {
		p := r.Points[n-1]
		r.FetchPerS, r.FetchP99ms = p.Fetch.PerS, p.Fetch.P99ms
		r.ListPerS, r.ListP99ms = p.List.PerS, p.List.P99ms
		r.SearchPerS, r.SearchP99ms = p.Search.PerS, p.Search.P99ms
		r.FetchServerCPUms, r.ListServerCPUms, r.SearchServerCPUms = p.Fetch.ServerCPUms, p.List.ServerCPUms, p.Search.ServerCPUms
		r.FetchDatabaseCPUms, r.ListDatabaseCPUms, r.SearchDatabaseCPUms = p.Fetch.DatabaseCPUms, p.List.DatabaseCPUms, p.Search.DatabaseCPUms
		r.FetchWritesPerCommit = p.Fetch.WritesPerCommit
		r.SearchWritesPerCommit = p.Search.WritesPerCommit
		r.DisclosurePerS, r.DisclosureP99ms = p.Disclosure.PerS, p.Disclosure.P99ms
		r.DisclosureServerCPUms, r.DisclosureDatabaseCPUms = p.Disclosure.ServerCPUms, p.Disclosure.DatabaseCPUms
		r.DisclosureWritesPerCommit = p.Disclosure.WritesPerCommit
		r.DisclosedDocsPerClient = p.DisclosedDocsPerClient
		if p.Disclosure.PerS > 0 {
			r.DisclosureOfSearch = ratio(p.Disclosure.PerS, p.Search.PerS)
			r.DisclosureCPUOfSearch = ratio(p.Disclosure.ServerCPUms, p.Search.ServerCPUms)
		}
	}
	cost := func(logged, unlogged float64) float64 {
		if unlogged == 0 {
			return 0
		}
		return math.Round((1-logged/unlogged)*1000) / 10
	}
	if r.ServiceFetchUnloggedPerS > 0 {
		r.LoggingCostPct = max(cost(r.ServiceFetchPerS, r.ServiceFetchUnloggedPerS), cost(r.ServiceListPerS, r.ServiceListUnloggedPerS))
	} else {
		r.LoggingCostPct = max(cost(r.FetchPerS, r.FetchUnloggedPerS), cost(r.ListPerS, r.ListUnloggedPerS))
	}
	r.ArchiveOfRawStore = ratio(r.ArchiveDocsPerS, r.RawStoreDocsPerS)
	r.ArchiveOfVerify = ratio(r.ArchiveDocsPerS, r.VerifyDocsPerS)
	r.FetchOfHTTP = ratio(r.FetchPerS, r.HTTPPerS)
	r.VerifyOfCryptoFloor = ratio(r.VerifyDocsPerS, r.CryptoFloorDocsPerS)
	r.RawStoreOfPlain = ratio(r.RawStoreDocsPerS, r.PlainInsertDocsPerS)
	r.HTTPOfTLSOnly = ratio(r.HTTPPerS, r.TLSOnlyPerS)
	r.ListOfHTTP = ratio(r.ListPerS, r.HTTPPerS)
	if n := len(r.Points); n > 1 {
		first, last := r.Points[0], r.Points[n-1]
		r.FetchOfFirstCheckpoint = ratio(last.Fetch.PerS, first.Fetch.PerS)
		r.ListOfFirstCheckpoint = ratio(last.List.PerS, first.List.PerS)
	}
	if c := float64(r.Machine.CPUs); c > 0 {
		r.ArchivePerCorePerS = math.Round(r.ArchiveDocsPerS / c)
		r.FetchPerCorePerS = math.Round(r.FetchPerS / c)
	}
}

// Print writes the result for a person.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "arkisto-bench: %s, %d documents for %d clients, %d concurrent requests, %s keys\n", r.Backend, r.Docs, r.Clients, r.Concurrency, r.KeyType)
	fmt.Fprintf(w, "machine: %d × %s, %d GiB, %s\n\n", r.Machine.CPUs, r.Machine.CPU, r.Machine.MemoryGiB, r.Machine.Go)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "documents\tarchive/s\tfetch/s\tfetch p99 ms\tlist/s\tlist p99 ms\tsearch/s\tsearch p99 ms\tpeak RSS MB\t")
	for _, p := range r.Points {
		fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.1f\t%.0f\t%.1f\t%.0f\t%.1f\t%.0f\t\n", p.Docs, p.ArchiveDocsPerS, p.Fetch.PerS, p.Fetch.P99ms, p.List.PerS, p.List.P99ms, p.Search.PerS, p.Search.P99ms, p.PeakRSSMB)
	}
	tw.Flush()
	fmt.Fprintf(w, "\narchive %.0f docs/s = %.2f × the raw store (%.0f/s), %.2f × verification alone (%.0f/s)\n", r.ArchiveDocsPerS, r.ArchiveOfRawStore, r.RawStoreDocsPerS, r.ArchiveOfVerify, r.VerifyDocsPerS)
	fmt.Fprintf(w, "fetch %.0f/s = %.2f × an empty authenticated request (%.0f/s); list %.2f ×\n", r.FetchPerS, r.FetchOfHTTP, r.HTTPPerS, r.ListOfHTTP)
	fmt.Fprintf(w, "floors: verification %.2f × the crypto floor (%.0f/s), raw store %.2f × a plain insert (%.0f/s), empty authenticated request %.2f × TLS only (%.0f/s)\n",
		r.VerifyOfCryptoFloor, r.CryptoFloorDocsPerS, r.RawStoreOfPlain, r.PlainInsertDocsPerS, r.HTTPOfTLSOnly, r.TLSOnlyPerS)
	if r.ServiceFetchUnloggedPerS > 0 {
		fmt.Fprintf(w, "access logging costs %.1f %% of a read through the domain service (fetch %.0f/s logged, %.0f/s not; list %.0f/s logged, %.0f/s not)\n",
			r.LoggingCostPct, r.ServiceFetchPerS, r.ServiceFetchUnloggedPerS, r.ServiceListPerS, r.ServiceListUnloggedPerS)
	} else if r.FetchUnloggedPerS > 0 {
		fmt.Fprintf(w, "access logging costs %.1f %% (fetch %.0f/s logged, %.0f/s not; list %.0f/s logged, %.0f/s not)\n", r.LoggingCostPct, r.FetchPerS, r.FetchUnloggedPerS, r.ListPerS, r.ListUnloggedPerS)
	}
	fmt.Fprintf(w, "server CPU per request: archive %.2f ms, fetch %.2f ms, list %.2f ms, search %.2f ms, empty request %.2f ms (load generator per archived document %.2f ms)\n",
		r.ArchiveServerCPUms, r.FetchServerCPUms, r.ListServerCPUms, r.SearchServerCPUms, r.HTTPServerCPUms, r.ArchiveClientCPUms)
	if r.Backend == "postgres" {
		fmt.Fprintf(w, "PostgreSQL CPU per request: archive %.2f ms, fetch %.2f ms, list %.2f ms, search %.2f ms\n",
			r.ArchiveDatabaseCPUms, r.FetchDatabaseCPUms, r.ListDatabaseCPUms, r.SearchDatabaseCPUms)
	}
	if r.DisclosurePerS > 0 {
		fmt.Fprintf(w, "disclosure search (another controller, with consent; %d clients, %.1f documents disclosed per client): %.0f/s p99 %.1f ms, server CPU %.2f ms = %.2f × own-use search's throughput (%.0f/s) at %.2f × its server CPU (%.2f ms)\n",
			r.DisclosureClients, r.DisclosedDocsPerClient, r.DisclosurePerS, r.DisclosureP99ms, r.DisclosureServerCPUms, r.DisclosureOfSearch, r.SearchPerS, r.DisclosureCPUOfSearch, r.SearchServerCPUms)
	}
	fmt.Fprintf(w, "writes per durable commit: archive %.1f, access-log entries of fetches %.1f\n", r.ArchiveWritesPerCommit, r.FetchWritesPerCommit)
	fmt.Fprintf(w, "server peak RSS %.0f MB\n", r.PeakRSSMB)
	fmt.Fprintf(w, "latencies are measured at %.0f %% of each workload's full-speed rate, from when each request was due\n", r.LatencyLoad*100)
}
