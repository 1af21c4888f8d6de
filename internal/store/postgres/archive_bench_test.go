package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/archive/archivetest"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/procstat"
	"github.com/arkisto/arkisto/internal/store/pgtest"
	"github.com/arkisto/arkisto/internal/store/postgres"
)

// countTracer counts what the store sends: statements, and round trips
// (a statement on its own, or a batch of them).
type countTracer struct {
	statements, roundTrips atomic.Int64

	mu     sync.Mutex
	record bool
	sent   []string
}

func (c *countTracer) note(sql string, trip bool) {
	c.statements.Add(1)
	if trip {
		c.roundTrips.Add(1)
	}
	if c.record {
		c.mu.Lock()
		if !trip {
			sql = "  (batched) " + sql
		}
		c.sent = append(c.sent, strings.Join(strings.Fields(sql), " "))
		c.mu.Unlock()
	}
}

func (c *countTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.note(d.SQL, true)
	return ctx
}

func (c *countTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *countTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.roundTrips.Add(1)
	return ctx
}

func (c *countTracer) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.note(d.SQL, false)
}

func (c *countTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// archiveWorld is a PostgreSQL store in a schema of its own, set up as the
// archive benchmarks set up SQLite, with the service over it.
type archiveWorld struct {
	svc    *archive.Service
	w      *gen.PKI
	trace  *countTracer
	app    string // the store's connections' application_name
	admURL string // the test database, for looking at its backends
}

func newArchiveWorld(tb testing.TB) *archiveWorld {
	ctx := context.Background()
	base := pgtest.DatabaseURL(tb)
	u, err := url.Parse(pgtest.Schema(tb, base))
	if err != nil {
		tb.Fatal(err)
	}
	app := fmt.Sprintf("arkisto_bench_%d_%d", os.Getpid(), time.Now().UnixNano())
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	tr := &countTracer{}
	st, err := postgres.Open(ctx, u.String(), postgres.WithTracer(postgres.Options{}, tr))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	w := archivetest.BenchWorld(tb)
	if err := archive.NewAdmin(st, slog.New(slog.DiscardHandler)).Apply(ctx, w.Setup(false)); err != nil {
		tb.Fatal(err)
	}
	svc := archive.NewService(st, archive.Rules{}, archive.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &archiveWorld{svc: svc, w: w, trace: tr, app: app, admURL: base}
}

// provide archives a document as the FHIR door's ITI-65 does: with a
// submission set whose uniqueId is new.
func (a *archiveWorld) provide(ctx context.Context, d *gen.Doc, n int64) error {
	meta := archive.SubmissionSetMeta{
		UniqueID:  "2.25." + strconv.FormatInt(time.Now().UnixNano(), 10) + strconv.FormatInt(n, 10),
		EntryUUID: "urn:uuid:" + strconv.FormatInt(n, 10),
		SourceID:  d.Org.ControllerOID(),
		Date:      time.Now(),
	}
	_, _, err := a.svc.Provide(ctx, archivetest.Caller(d.Org), [][]byte{d.XML}, nil, meta)
	return err
}

// backendCPU is the CPU time the store's PostgreSQL backends have used, by
// process id; the database must be on this machine.
func (a *archiveWorld) backendCPU(tb testing.TB) map[int]time.Duration {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, a.admURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, a.app)
	if err != nil {
		tb.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		tb.Fatal(err)
	}
	out := map[int]time.Duration{}
	for _, pid := range pids {
		if d, err := procstat.CPU(int(pid)); err == nil {
			out[int(pid)] = d
		}
	}
	return out
}

// allPostgresCPU is the CPU time of every process named postgres on this
// machine (background writers and exited backends included), as
// arkisto-bench counts it; other users of the database count too.
func allPostgresCPU() time.Duration {
	d, err := procstat.Named("postgres")
	if err != nil {
		return -1
	}
	return d
}

func selfCPU() time.Duration {
	d, err := procstat.Self()
	if err != nil {
		return -1
	}
	return d
}

// benchDocs generates n documents, every tenth a client's replacement of
// its latest (as arkisto-bench's), in queues by client so that a
// replacement follows its original.
func benchDocs(tb testing.TB, w *gen.PKI, n, queues int) [][]*gen.Doc {
	g := gen.New(w, gen.Options{Clients: 100, Seed: 1, ReplaceEvery: 10})
	out := make([][]*gen.Doc, queues)
	queueOf := map[*gen.Client]int{}
	for range n {
		d, err := g.Next()
		if err != nil {
			tb.Fatal(err)
		}
		q, ok := queueOf[d.Client]
		if !ok {
			q = len(queueOf) % queues
			queueOf[d.Client] = q
		}
		out[q] = append(out[q], d)
	}
	return out
}

// measure starts counting what a benchmark's operations cost; the
// function it returns stops the timer and reports per operation the
// statements and round trips sent, the CPU time of the store's PostgreSQL
// backends (pg-cpu-ns/op) and of every postgres process on the machine
// (pg-all-cpu-ns/op), and this process's (cpu-ns/op).
func (a *archiveWorld) measure(b *testing.B) (report func()) {
	pg0, all0, self0 := a.backendCPU(b), allPostgresCPU(), selfCPU()
	s0, r0 := a.trace.statements.Load(), a.trace.roundTrips.Load()
	return func() {
		s1, r1 := a.trace.statements.Load(), a.trace.roundTrips.Load()
		self1, all1, pg1 := selfCPU(), allPostgresCPU(), a.backendCPU(b)
		b.StopTimer()
		per := func(d int64) float64 { return float64(d) / float64(b.N) }
		b.ReportMetric(per(s1-s0), "stmts/op")
		b.ReportMetric(per(r1-r0), "trips/op")
		var pg time.Duration
		for pid, d := range pg1 {
			pg += d - pg0[pid]
		}
		b.ReportMetric(per(int64(pg)), "pg-cpu-ns/op")
		b.ReportMetric(per(int64(all1-all0)), "pg-all-cpu-ns/op")
		b.ReportMetric(per(int64(self1-self0)), "cpu-ns/op")
	}
}

// BenchmarkArchivePostgres archives documents through the domain service
// on PostgreSQL, as ITI-65 does (each with its submission set), from 16
// goroutines, and reports per document the statements and round trips
// the store sent, the CPU time of the store's PostgreSQL backends
// (pg-cpu-ns/op) and of every postgres process on the machine
// (pg-all-cpu-ns/op), and this process's (cpu-ns/op).
func BenchmarkArchivePostgres(b *testing.B) {
	a := newArchiveWorld(b)
	const workers = 16
	queues := benchDocs(b, a.w, b.N, workers)
	ctx := context.Background()
	var n atomic.Int64
	b.ResetTimer()
	report := a.measure(b)
	var wg sync.WaitGroup
	for _, q := range queues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, d := range q {
				if err := a.provide(ctx, d, n.Add(1)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	report()
}

// TestArchiveStatements lists what archiving one document and then its
// replacement sends to PostgreSQL (go test -v -run ArchiveStatements).
func TestArchiveStatements(t *testing.T) {
	a := newArchiveWorld(t)
	ctx := context.Background()
	g := gen.New(a.w, gen.Options{Clients: 1, Seed: 1, ReplaceEvery: 2})
	for i := range 2 {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		a.trace.mu.Lock()
		a.trace.record, a.trace.sent = true, nil
		a.trace.mu.Unlock()
		s0, r0 := a.trace.statements.Load(), a.trace.roundTrips.Load()
		if err := a.provide(ctx, d, int64(i)); err != nil {
			t.Fatal(err)
		}
		a.trace.mu.Lock()
		t.Logf("document %d (replaces %v): %d statements, %d round trips:\n%s", i, d.Header.Replaces != nil,
			a.trace.statements.Load()-s0, a.trace.roundTrips.Load()-r0, strings.Join(a.trace.sent, "\n"))
		a.trace.record = false
		a.trace.mu.Unlock()
	}
}

// BenchmarkGetPostgres fetches archived documents with their content
// through the domain service on PostgreSQL from 16 goroutines (the reads'
// log entries written as the server writes them), and reports what
// BenchmarkArchivePostgres does, per fetch.
func BenchmarkGetPostgres(b *testing.B) {
	a := newArchiveWorld(b)
	ctx := context.Background()
	var ds []*gen.Doc
	for _, q := range benchDocs(b, a.w, 200, 1) {
		ds = append(ds, q...)
	}
	for i, d := range ds {
		if err := a.provide(ctx, d, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.ResetTimer()
	report := a.measure(b)
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d := ds[int(n.Add(1))%len(ds)]
			c := archivetest.Caller(d.Org)
			c.Request = &archive.Request{ClientAddress: "192.0.2.10:50312", ServerAddress: "192.0.2.1:8443", Transaction: "ITI-68"}
			if _, _, err := a.svc.Get(ctx, c, d.Header.ID); err != nil {
				b.Error(err)
			}
		}
	})
	report()
}
