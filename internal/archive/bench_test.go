package archive_test

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/archive/archivetest"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/store/sqlite"
)

func benchService(b *testing.B) (*archive.Service, *gen.PKI, archive.Store) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc, w := benchServiceOn(b, st)
	return svc, w, st
}

// benchServiceOn is a service on st with the benchmark's world set up.
func benchServiceOn(b *testing.B, st archive.Store) (*archive.Service, *gen.PKI) {
	w := archivetest.BenchWorld(b) // RSA-2048, as the archive's documents
	err := archive.NewAdmin(st, slog.New(slog.DiscardHandler)).Apply(context.Background(), w.Setup(false))
	if err != nil {
		b.Fatal(err)
	}
	return archive.NewService(st, archive.Rules{}, archive.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil))), w
}

func docs(b *testing.B, w *gen.PKI, n int) []*gen.Doc {
	g := gen.New(w, gen.Options{Clients: 100, Seed: 1})
	out := make([]*gen.Doc, n)
	for i := range out {
		d, err := g.Next()
		if err != nil {
			b.Fatal(err)
		}
		out[i] = d
	}
	return out
}

// BenchmarkArchive archives documents through the domain service (read,
// validate, verify, store with the log entry, durable) from 8 goroutines.
func BenchmarkArchive(b *testing.B) {
	svc, w, _ := benchService(b)
	ds := docs(b, w, b.N)
	ctx := context.Background()
	var i atomic.Int64
	w0, c0 := writeCalls(), ioCounter("wchar: ")
	b.ResetTimer()
	b.SetParallelism(benchParallelism)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d := ds[i.Add(1)-1]
			if _, err := svc.Archive(ctx, archivetest.Caller(d.Org), d.XML); err != nil {
				b.Error(err)
			}
		}
	})
	b.StopTimer()
	if w0 >= 0 {
		// The store writes files in this process (a pure-Go SQLite):
		// write system calls per document do not depend on the load.
		b.ReportMetric(float64(writeCalls()-w0)/float64(b.N), "writes/op")
		b.ReportMetric(float64(ioCounter("wchar: ")-c0)/float64(b.N), "written-B/op")
	}
}

// writeCalls is this process's write system calls so far (Linux
// /proc/self/io syscw), or -1 where that is not known.
func writeCalls() int64 { return ioCounter("syscw: ") }

// ioCounter is one counter of /proc/self/io (such as wchar, the bytes
// written), or -1.
func ioCounter(name string) int64 {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, name); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// BenchmarkGet reads documents with their log entries from 8 goroutines.
func BenchmarkGet(b *testing.B) { benchGet(b, false) }

// BenchmarkGetWithoutAccessLog is BenchmarkGet on a store that drops the
// log entries of reads: the difference is what the access log costs a
// read. The archive itself has no way to run without its log; only this
// benchmark's wrapper does.
func BenchmarkGetWithoutAccessLog(b *testing.B) { benchGet(b, true) }

// BenchmarkGetWithTokenUse is BenchmarkGet with the recording of a fresh
// token's use in the store's token ledger before each read, as the FHIR
// door does for every request: the difference is what the ledger costs.
func BenchmarkGetWithTokenUse(b *testing.B) { benchGetWith(b, false, true) }

// BenchmarkTokenUse is the ledger alone: a fresh token's use, durable.
func BenchmarkTokenUse(b *testing.B) {
	_, _, st := benchService(b)
	l := st.(archive.TokenLedger)
	ctx := context.Background()
	var i atomic.Int64
	b.ResetTimer()
	b.SetParallelism(benchParallelism)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.UseToken(ctx, tokenKey(i.Add(1)), time.Now().Add(10*time.Minute)); err != nil {
				b.Error(err)
			}
		}
	})
}

func tokenKey(n int64) []byte {
	var k [16]byte
	binary.BigEndian.PutUint64(k[8:], uint64(n))
	return k[:]
}

// unloggedStore drops the access-log entries the service writes on their
// own (those of reads), and passes everything else to the store.
type unloggedStore struct{ archive.Store }

func (unloggedStore) AppendAccessEntry(context.Context, *archive.AccessEntry) error { return nil }

func benchGet(b *testing.B, withoutLog bool) { benchGetWith(b, withoutLog, false) }

func benchGetWith(b *testing.B, withoutLog, token bool) {
	_, w, st := benchService(b)
	ledger := st.(archive.TokenLedger)
	if withoutLog {
		st = unloggedStore{st}
	}
	svc := archive.NewService(st, archive.Rules{}, archive.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ds := docs(b, w, 200)
	ctx := context.Background()
	for _, d := range ds {
		if _, err := svc.Archive(ctx, archivetest.Caller(d.Org), d.XML); err != nil {
			b.Fatal(err)
		}
	}
	var i atomic.Int64
	b.ResetTimer()
	cpu := cpuTime()
	defer reportCPU(b, cpu)
	b.SetParallelism(benchParallelism)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := i.Add(1)
			d := ds[int(n)%len(ds)]
			if token {
				if fresh, err := ledger.UseToken(ctx, tokenKey(n), time.Now().Add(10*time.Minute)); err != nil || !fresh {
					b.Error(fresh, err)
				}
			}
			// As the FHIR door calls: with the request for the log.
			c := archivetest.Caller(d.Org)
			c.Request = &archive.Request{ClientAddress: "192.0.2.10:50312", ServerAddress: "192.0.2.1:8443", Transaction: "ITI-68"}
			if _, _, err := svc.Get(ctx, c, d.Header.ID); err != nil {
				b.Error(err)
			}
		}
	})
}

// BenchmarkCheck is the CPU part of archiving: inspection (read, validate, verify).
func BenchmarkCheck(b *testing.B) {
	svc, w, _ := benchService(b)
	ds := docs(b, w, 100)
	ctx := context.Background()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := svc.Inspect(ctx, ds[i%len(ds)].XML); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

// BenchmarkAccessDecision is the access decision alone, inside a read
// transaction as a request makes it: the caller's organisation is looked
// up, and for another register the client's register access rights.
func BenchmarkAccessDecision(b *testing.B) {
	_, w, st := benchService(b)
	ctx := context.Background()
	organiser, provider := w.Organisations[0], w.Organisations[1]
	d := docs(b, w, 1)[0]
	rec := &archive.Record{Header: *d.Header, Controller: organiser.ControllerOID(), Status: archive.StatusCurrent}
	rec.Header.Custodian.OID = organiser.ControllerOID()
	rec.Header.ServiceTask.Code = "03"
	other := *rec
	other.Header.ServiceTask.Code = "04"
	key := rec.ClientKey()
	err := st.Update(ctx, func(tx archive.Tx) error {
		return tx.PutRelationship(ctx, &archive.Relationship{ClientKey: key, ID: "1.2.246.10.1.99.1", Organiser: organiser.ControllerOID(),
			Start: time.Now().AddDate(-1, 0, 0), Document: rec.Header.ID,
			Grants: []archive.Grant{{ClientKey: key, RelationshipID: "1.2.246.10.1.99.1", Organiser: organiser.ControllerOID(),
				Provider: oid.Organisation(provider.ControllerOID()), Unit: provider.Units[1].OID, ServiceTask: "03"}}})
	})
	if err != nil {
		b.Fatal(err)
	}
	p := archive.Rules{}
	for _, tt := range []struct {
		name   string
		caller archive.Caller
		rec    *archive.Record
		allow  bool
	}{
		{"own register", archivetest.Caller(organiser), rec, true},
		{"register access right", archivetest.Caller(provider), rec, true},
		{"no right", archivetest.Caller(provider), &other, false},
	} {
		b.Run(tt.name, func(b *testing.B) {
			st.View(ctx, func(tx archive.Tx) error {
				if got := p.Read(ctx, tx, tt.caller, tt.rec); got.Allowed != tt.allow {
					b.Fatalf("allowed %v (%s), want %v", got.Allowed, got.Reason, tt.allow)
				}
				b.ReportAllocs()
				for b.Loop() {
					p.Read(ctx, tx, tt.caller, tt.rec)
				}
				return nil
			})
		})
	}
	b.Run("scope of a search", func(b *testing.B) {
		st.View(ctx, func(tx archive.Tx) error {
			if sc, d := p.Scope(ctx, tx, archivetest.Caller(provider), key); !d.Allowed || len(sc.Grants) != 1 {
				b.Fatalf("scope %+v, %s", sc, d.Reason)
			}
			b.ReportAllocs()
			for b.Loop() {
				p.Scope(ctx, tx, archivetest.Caller(provider), key)
			}
			return nil
		})
	})
}

// benchParallelism × GOMAXPROCS goroutines run the parallel benchmarks:
// enough requests in flight that a write group forms while the previous
// one is synced, as under a real load.
const benchParallelism = 32

// cpuTime is the CPU time this process has used, the store's goroutines
// included: on a shared machine it varies far less between runs than the
// time per operation.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start as
// cpu-ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	if now := cpuTime(); start >= 0 && now >= 0 {
		b.ReportMetric(float64(now-start)/float64(b.N), "cpu-ns/op")
	}
}
