package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/storage"
)

// sampleSize bounds the documents remembered for reads: a uniform sample
// of everything archived so far (reservoir sampling), so that reads at a
// checkpoint reach across all the data without keeping all of it.
const sampleSize = 10000

// measure runs the archive server, archives the stream in segments, and
// measures reads at each checkpoint; at the end it measures reads on a
// server without its access log.
func (b *run) measure(ctx context.Context) error {
	var err error
	if b.storeCfg, err = b.freshStore(ctx, "run"); err != nil {
		return err
	}
	b.runDir = filepath.Dir(b.storeCfg.DataDir)
	if b.storeCfg.DatabaseURL != "" {
		b.runDir = filepath.Join(b.cfg.Dir, "run-postgres")
		if err := os.RemoveAll(b.runDir); err != nil {
			return err
		}
		if err := os.MkdirAll(b.runDir, 0o700); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(b.runDir, MarkerFile), []byte(b.storeCfg.Describe()+"\n"), 0o600); err != nil {
		return err
	}
	srv, err := b.startServer(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if srv != nil {
			srv.kill()
		}
	}()
	base := "https://" + srv.addr + "/fhir"
	if err := b.httpLimit(ctx, srv, base); err != nil {
		return err
	}

	sr, err := openStream(b.stream)
	if err != nil {
		return err
	}
	defer sr.Close()
	rng := rand.New(rand.NewPCG(b.cfg.Seed, 7))
	var sample []*Meta
	seen := 0
	archived := 0
	var segTime time.Duration
	segDocs := 0
	bar := b.cfg.bar(b.cfg.Docs, "archiving through the FHIR door", "docs")
	for _, cp := range b.cfg.Checkpoints {
		bar.Resume()
		for archived < cp {
			n := min(b.cfg.Segment, cp-archived)
			reqs := make([]*request, 0, n)
			// A correction waits for its original when both are in this
			// segment: sent side by side, it could overtake it and be
			// refused (the version it replaces is not yet archived).
			inSegment := map[string]*request{}
			for range n {
				m, doc, err := sr.next()
				if err != nil {
					return fmt.Errorf("read the document stream: %w", err)
				}
				body, err := fhirapi.SubmissionBundle(doc)
				if err != nil {
					return err
				}
				r := &request{caller: b.callers[m.Org], method: http.MethodPost, url: base, body: body, ctype: "application/fhir+json", want: http.StatusOK, done: make(chan struct{})}
				if parent := replacedIn(body); parent != "" {
					r.after = inSegment[parent]
				}
				inSegment[m.ID] = r
				reqs = append(reqs, r)
				seen++
				if len(sample) < sampleSize {
					sample = append(sample, m)
				} else if j := rng.IntN(seen); j < sampleSize {
					sample[j] = m
				}
			}
			if err := presign(ctx, reqs); err != nil {
				return err
			}
			p, err := b.timed(ctx, srv, fmt.Sprintf("archive-%d", archived+n), func() (Pass, error) { return closedLoop(ctx, reqs, b.cfg.Concurrency, bar) })
			if err != nil {
				return fmt.Errorf("archive: %w", err)
			}
			segTime += time.Duration(p.Seconds * float64(time.Second))
			segDocs += n
			b.res.archiveServerCPU += p.ServerCPUms * float64(n)
			b.res.archiveClientCPU += p.ClientCPUms * float64(n)
			b.res.archiveDatabaseCPU += p.DatabaseCPUms * float64(n)
			b.res.archiveCommits += p.Commits
			b.res.archiveWrites += p.writes
			archived += n
		}
		pt := Point{Docs: archived, ArchiveDocsPerS: math.Round(float64(segDocs) / segTime.Seconds())}
		b.res.archiveDocs += segDocs
		b.res.archiveTime += segTime
		segTime, segDocs = 0, 0
		// The reads at a checkpoint have their own progress lines, and
		// their time is not the archiving's.
		bar.Pause()
		if err := b.checkpoint(ctx, srv, base, &pt, sample, rng); err != nil {
			return err
		}
	}
	bar.Finish()
	if err := b.stopServer(&srv); err != nil {
		return err
	}
	return b.loggingCost(ctx, sample)
}

// emptyPath needs a token and touches nothing else: a Patient search for
// an id that cannot be one is answered empty before the domain is asked.
const emptyPath = "/Patient?_id=none"

// httpLimit measures an authenticated request that does nothing else, and
// the same mutual-TLS request without a token (the CapabilityStatement,
// which needs none): the price of the token is their difference.
func (b *run) httpLimit(ctx context.Context, srv *child, base string) error {
	httpReqs := make([]*request, b.cfg.Reads)
	for i := range httpReqs {
		httpReqs[i] = &request{caller: b.callers[i%len(b.callers)], method: http.MethodGet, url: base + emptyPath, want: http.StatusOK}
	}
	p, err := b.phase(ctx, srv, "http", httpReqs, 0)
	if err != nil {
		return fmt.Errorf("HTTP limit: %w", err)
	}
	b.res.HTTPPerS, b.res.HTTPServerCPUms = p.PerS, p.ServerCPUms
	tlsReqs := make([]*request, b.cfg.Reads)
	for i := range tlsReqs {
		tlsReqs[i] = &request{caller: b.callers[i%len(b.callers)], method: http.MethodGet, url: base + "/metadata", want: http.StatusOK, noToken: true}
	}
	p, err = b.phase(ctx, srv, "tls-only", tlsReqs, 0)
	if err != nil {
		return fmt.Errorf("TLS-only limit: %w", err)
	}
	b.res.TLSOnlyPerS, b.res.TLSOnlyServerCPUms = p.PerS, p.ServerCPUms
	return nil
}

// earlierRun finds the store the last run left, for Config.ReadsOnly.
func (b *run) earlierRun() error {
	if b.cfg.DatabaseURL == "" {
		b.runDir = filepath.Join(b.cfg.Dir, "run-sqlite")
		b.storeCfg = storage.Config{DataDir: filepath.Join(b.runDir, "data"), Blobs: "db"}
	} else {
		b.runDir = filepath.Join(b.cfg.Dir, "run-postgres")
		u, err := url.Parse(b.cfg.DatabaseURL)
		if err != nil {
			return fmt.Errorf("--database: %w", err)
		}
		q := u.Query()
		q.Set("search_path", b.cfg.Schema)
		u.RawQuery = q.Encode()
		b.storeCfg = storage.Config{DatabaseURL: u.String(), Blobs: "db"}
	}
	marker, err := os.ReadFile(filepath.Join(b.runDir, MarkerFile))
	if err != nil || strings.TrimSpace(string(marker)) != b.storeCfg.Describe() {
		return fmt.Errorf("--reads-only: %s holds no store of an earlier run; run without --reads-only first", b.runDir)
	}
	return nil
}

// measureReads measures the reads again on the store the last full run
// left (Config.ReadsOnly), with a sample of every document in the stream.
func (b *run) measureReads(ctx context.Context) error {
	sr, err := openStream(b.stream)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(b.cfg.Seed, 7))
	var sample []*Meta
	bar := b.cfg.bar(b.cfg.Docs, "sampling the document stream", "docs")
	for seen := 0; seen < b.cfg.Docs; seen++ {
		bar.Add(1)
		m, err := sr.nextMeta()
		if err != nil {
			sr.Close()
			return fmt.Errorf("read the document stream: %w", err)
		}
		if len(sample) < sampleSize {
			sample = append(sample, m)
		} else if j := rng.IntN(seen + 1); j < sampleSize {
			sample[j] = m
		}
	}
	sr.Close()
	bar.Finish()
	srv, err := b.startServer(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if srv != nil {
			srv.kill()
		}
	}()
	base := "https://" + srv.addr + "/fhir"
	if err := b.httpLimit(ctx, srv, base); err != nil {
		return err
	}
	pt := Point{Docs: b.cfg.Docs}
	if err := b.checkpoint(ctx, srv, base, &pt, sample, rng); err != nil {
		return err
	}
	if err := b.stopServer(&srv); err != nil {
		return err
	}
	return b.loggingCost(ctx, sample)
}

// checkpoint measures the read workloads at the data size pt.Docs.
func (b *run) checkpoint(ctx context.Context, srv *child, base string, pt *Point, sample []*Meta, rng *rand.Rand) error {
	var err error
	if err := b.analyze(ctx); err != nil {
		return err
	}
	if pt.Fetch, err = b.workload(ctx, srv, "fetch", pt.Docs, b.fetches(base, sample, rng)); err != nil {
		return err
	}
	if pt.List, err = b.workload(ctx, srv, "list", pt.Docs, b.lists(base, sample, rng)); err != nil {
		return err
	}
	if pt.Search, err = b.workload(ctx, srv, "search", pt.Docs, b.searches(base, sample, rng)); err != nil {
		return err
	}
	if b.consenting == nil {
		if err := b.prepareDisclosure(ctx, base, sample); err != nil {
			return err
		}
	}
	if len(b.consenting) > 0 {
		if pt.DisclosedDocsPerClient, err = b.checkDisclosure(ctx, base, sample); err != nil {
			return err
		}
		if pt.Disclosure, err = b.workload(ctx, srv, "disclosure", pt.Docs, b.disclosures(base, rng)); err != nil {
			return err
		}
	}
	rss, err := srv.peakRSS()
	if err != nil {
		return err
	}
	b.res.noteRSS(rss)
	pt.PeakRSSMB = mb(rss)
	b.res.Points = append(b.res.Points, *pt)
	b.cfg.logf("%d documents: archive %.0f/s; fetch %.0f/s p99 %.1f ms; list %.0f/s p99 %.1f ms; search %.0f/s p99 %.1f ms; disclosure search %.0f/s p99 %.1f ms; server peak RSS %.0f MB",
		pt.Docs, pt.ArchiveDocsPerS, pt.Fetch.PerS, pt.Fetch.P99ms, pt.List.PerS, pt.List.P99ms, pt.Search.PerS, pt.Search.P99ms, pt.Disclosure.PerS, pt.Disclosure.P99ms, pt.PeakRSSMB)
	return nil
}

// analyze brings PostgreSQL's planner statistics up to date before reads
// are measured, as autovacuum would have in an archive that grew over
// months instead of minutes: right after a burst of archiving, the
// planner can take a client's 20 documents for 20,000 and plan
// accordingly.
func (b *run) analyze(ctx context.Context) error {
	if b.storeCfg.DatabaseURL == "" {
		return nil
	}
	conn, err := pgx.Connect(ctx, b.storeCfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

func (b *run) stopServer(srv **child) error {
	rss, err := (*srv).peakRSS()
	if err != nil {
		return err
	}
	b.res.noteRSS(rss)
	err = (*srv).stop()
	*srv = nil
	if err != nil {
		return fmt.Errorf("stop the archive server: %w", err)
	}
	return nil
}

// workload measures one read workload: its throughput at full speed, then
// its latencies paced at LatencyLoad of that throughput.
func (b *run) workload(ctx context.Context, srv *child, name string, docs int, make func() []*request) (Workload, error) {
	full, err := b.phase(ctx, srv, fmt.Sprintf("%s-%d", name, docs), make(), 0)
	if err != nil {
		return Workload{}, fmt.Errorf("%s at %d documents: %w", name, docs, err)
	}
	rate := full.PerS * b.cfg.LatencyLoad
	lat, err := b.phase(ctx, srv, fmt.Sprintf("%s-%d-paced", name, docs), make(), rate)
	if err != nil {
		return Workload{}, fmt.Errorf("%s at %d documents, paced: %w", name, docs, err)
	}
	return Workload{PerS: full.PerS, Rate: lat.Rate, P50ms: lat.P50ms, P95ms: lat.P95ms, P99ms: lat.P99ms, MaxMs: lat.MaxMs, ServiceP99ms: full.P99ms,
		ServerCPUms: full.ServerCPUms, ClientCPUms: full.ClientCPUms, DatabaseCPUms: full.DatabaseCPUms, WritesPerCommit: full.WritesPerCommit}, nil
}

// phase pre-signs reqs and runs them, at full speed (rate 0) or paced.
func (b *run) phase(ctx context.Context, srv *child, name string, reqs []*request, rate float64) (Pass, error) {
	if err := presign(ctx, reqs); err != nil {
		return Pass{}, err
	}
	what := "pass " + name + " at full speed"
	if rate > 0 {
		what = fmt.Sprintf("pass %s at %.0f/s", name, rate)
	}
	bar := b.cfg.bar(len(reqs), what, "requests")
	defer bar.Finish()
	return b.timed(ctx, srv, name, func() (Pass, error) {
		if rate > 0 {
			return paced(ctx, reqs, b.cfg.Concurrency, rate, bar)
		}
		return closedLoop(ctx, reqs, b.cfg.Concurrency, bar)
	})
}

// timed runs a measured pass, profiling the server if asked, and records it.
func (b *run) timed(ctx context.Context, srv *child, name string, fn func() (Pass, error)) (Pass, error) {
	var stop func() error
	if b.cfg.Profile != "" {
		if err := os.MkdirAll(b.cfg.Profile, 0o755); err != nil {
			return Pass{}, err
		}
		abs, err := filepath.Abs(filepath.Join(b.cfg.Profile, b.backend+"-"+name+".pprof"))
		if err != nil {
			return Pass{}, err
		}
		if stop, err = srv.profile(abs); err != nil {
			return Pass{}, err
		}
	}
	st0, err := srv.stats()
	if err != nil {
		return Pass{}, err
	}
	s0, err := srv.cpu()
	if err != nil {
		return Pass{}, err
	}
	d0 := b.databaseCPU()
	c0 := selfCPU()
	p, err := fn()
	perReq := func(d time.Duration) float64 {
		return math.Round(float64(d)/float64(time.Millisecond)/float64(p.Requests)*1000) / 1000
	}
	if s1, cerr := srv.cpu(); cerr == nil && p.Requests > 0 {
		p.ServerCPUms = perReq(s1 - s0)
		p.ClientCPUms = perReq(selfCPU() - c0)
		if b.backend == "postgres" {
			p.DatabaseCPUms = perReq(b.databaseCPU() - d0)
		}
	}
	if st1, serr := srv.stats(); serr == nil && st1.Commits > st0.Commits {
		p.Commits = st1.Commits - st0.Commits
		p.writes = st1.Writes - st0.Writes
		p.WritesPerCommit = math.Round(float64(p.writes)/float64(p.Commits)*100) / 100
	}
	if stop != nil {
		if serr := stop(); err == nil {
			err = serr
		}
	}
	if err != nil {
		return p, err
	}
	b.res.Phases = append(b.res.Phases, Phase{Name: name, Pass: p})
	return p, nil
}

// pick returns a random sampled document for each of n requests.
func pick(sample []*Meta, rng *rand.Rand, n int, keep func(*Meta) bool) []*Meta {
	var pool []*Meta
	for _, m := range sample {
		if keep == nil || keep(m) {
			pool = append(pool, m)
		}
	}
	if len(pool) == 0 {
		pool = sample
	}
	out := make([]*Meta, n)
	for i := range out {
		out[i] = pool[rng.IntN(len(pool))]
	}
	return out
}

// fetches are GET Binary/{id}: a document's exact bytes, by its custodian.
func (b *run) fetches(base string, sample []*Meta, rng *rand.Rand) func() []*request {
	return func() []*request {
		var out []*request
		for _, m := range pick(sample, rng, b.cfg.Reads, nil) {
			out = append(out, &request{caller: b.callers[m.Org], method: http.MethodGet, url: base + "/Binary/" + m.ID, want: http.StatusOK})
		}
		return out
	}
}

func patient(m *Meta) string {
	return "patient.identifier=" + url.QueryEscape(fhirapi.SystemIdentityCode+"|"+m.Client)
}

// lists are a client's document list: the first page, newest first.
func (b *run) lists(base string, sample []*Meta, rng *rand.Rand) func() []*request {
	return func() []*request {
		var out []*request
		for _, m := range pick(sample, rng, b.cfg.Reads, nil) {
			out = append(out, &request{caller: b.callers[m.Org], method: http.MethodGet, url: base + "/DocumentReference?" + patient(m), want: http.StatusOK})
		}
		return out
	}
}

// searches take turns: a client's documents of a case, of a service task,
// and of a month. Early on, when every document archived is a client
// relationship document, which has no case, the kinds the data allows
// take the turns.
func (b *run) searches(base string, sample []*Meta, rng *rand.Rand) func() []*request {
	return b.searchMix(base, sample, rng, func(m *Meta) (*caller, string) { return b.callers[m.Org], "" })
}

// searchMix makes a pass of the searches above for sampled documents, each
// sent by the caller and with the purpose who names for the document.
func (b *run) searchMix(base string, sample []*Meta, rng *rand.Rand, who func(*Meta) (*caller, string)) func() []*request {
	return func() []*request {
		type kind func(m *Meta) string
		var kinds []kind
		var pools [][]*Meta
		add := func(keep func(*Meta) bool, k kind) {
			var n int
			for _, m := range sample {
				if keep(m) {
					n++
				}
			}
			if n > 0 {
				kinds = append(kinds, k)
				pools = append(pools, pick(sample, rng, b.cfg.Reads, keep))
			}
		}
		add(func(m *Meta) bool { return m.Case != "" }, func(m *Meta) string { return "related=" + url.QueryEscape("urn:oid:"+m.Case) })
		add(func(m *Meta) bool { return m.Task != "" }, func(m *Meta) string {
			return "event=" + url.QueryEscape("urn:oid:"+codes.OIDServiceTask+"|"+m.Task)
		})
		add(func(*Meta) bool { return true }, func(m *Meta) string {
			// The document's own time is creation (date, before issue 15,
			// searched it too; it is now when the reference was made).
			from := m.Date.UTC().AddDate(0, 0, -15)
			return "creation=ge" + from.Format("2006-01-02") + "&creation=lt" + from.AddDate(0, 1, 0).Format("2006-01-02")
		})
		var out []*request
		for i := range b.cfg.Reads {
			if len(kinds) == 0 {
				break // no sampled documents
			}
			k := i % len(kinds)
			m := pools[k][i]
			c, purpose := who(m)
			out = append(out, &request{caller: c, purpose: purpose, method: http.MethodGet, url: base + "/DocumentReference?" + patient(m) + "&" + kinds[k](m), want: http.StatusOK})
		}
		return out
	}
}

func mb(bytes int64) float64 { return math.Round(float64(bytes)/(1<<20)*10) / 10 }
