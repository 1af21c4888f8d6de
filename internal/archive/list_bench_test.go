package archive_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/archive/archivetest"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/storetest"
)

// BenchmarkList lists a client's documents (about 20, as in the
// end-to-end benchmark) from 8 goroutines: a read that decodes many
// stored records, where the JSON library matters most.
func BenchmarkList(b *testing.B) {
	svc, w, _ := benchService(b)
	benchList(b, svc, w)
}

// BenchmarkListPostgres is BenchmarkList on PostgreSQL (when
// ARKISTO_TEST_DATABASE_URL names one): the process's CPU is the
// archive's, not the database's.
func BenchmarkListPostgres(b *testing.B) {
	bs := storetest.Postgres(b)
	if len(bs) == 0 {
		b.Skip(storetest.EnvDatabaseURL + " is not set")
	}
	svc, w := benchServiceOn(b, bs[0].Open(b))
	benchList(b, svc, w)
}

func benchList(b *testing.B, svc *archive.Service, w *gen.PKI) {
	g := gen.New(w, gen.Options{Clients: 10, Seed: 1})
	ctx := context.Background()
	var byClient []*gen.Doc // one document of each client
	seen := map[string]bool{}
	for range 200 {
		d, err := g.Next()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Archive(ctx, archivetest.Caller(d.Org), d.XML); err != nil {
			b.Fatal(err)
		}
		if k := archive.ClientKey(d.Header.Client.ID); !seen[k] {
			seen[k] = true
			byClient = append(byClient, d)
		}
	}
	var i atomic.Int64
	b.ResetTimer()
	cpu := cpuTime()
	defer reportCPU(b, cpu)
	b.SetParallelism(benchParallelism)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d := byClient[int(i.Add(1))%len(byClient)]
			p, err := svc.Search(ctx, archivetest.Caller(d.Org), archive.Query{ClientKey: archive.ClientKey(d.Header.Client.ID)})
			if err != nil || len(p.Records) == 0 {
				b.Error(len(p.Records), err)
			}
		}
	})
}
