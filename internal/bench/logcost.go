package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/storage"
)

// What the access log costs a read. The archive server has no way to run
// without its log (issue 10), so the price of the log is measured here,
// in the benchmark's own process, on the run's store once the server has
// stopped: the archive's domain service reads the same sampled documents
// and lists the same clients' documents, once as the server does (each
// read's entry durable before it returns) and once through a store that
// drops the entries of reads. Passes of the two alternate, so that a
// drift of the machine falls on both. Without HTTP, TLS and the token the
// reads are cheaper than at the FHIR door, so the log's share here is an
// upper bound of its share there.

// LogCostRounds is how many passes of each kind alternate, each of
// Config.Reads reads.
const LogCostRounds = 3

// LogCostClientAddress is the client address in the access-log entries
// of the logged passes, which stay in the run's log like every other.
const LogCostClientAddress = "127.0.0.1:9"

// unloggedStore passes everything to the store but drops the access-log
// entries the service writes on their own (those of reads). It exists
// only in the benchmark.
type unloggedStore struct {
	archive.Store
	archive.Secrets // paging cursors and Patient ids, as the store keeps them
}

func (unloggedStore) AppendAccessEntry(context.Context, *archive.AccessEntry) error { return nil }

// loggingCost measures fetch (Service.Get) and list (Service.Search of a
// client's documents) with and without the access log at the run's last
// data size.
func (b *run) loggingCost(ctx context.Context, sample []*Meta) error {
	if len(sample) == 0 {
		return nil
	}
	st, err := storage.Open(ctx, b.storeCfg)
	if err != nil {
		return fmt.Errorf("logging cost: %w", err)
	}
	defer st.Close()
	secrets, ok := st.(archive.Secrets)
	if !ok {
		return fmt.Errorf("logging cost: the %s store keeps no secrets", b.backend)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	logged := archive.NewService(st, archive.Rules{}, archive.Config{}, quiet)
	unlogged := archive.NewService(unloggedStore{st, secrets}, archive.Rules{}, archive.Config{}, quiet)

	rng := rand.New(rand.NewPCG(b.cfg.Seed, 11))
	metas := pick(sample, rng, b.cfg.Reads, nil)
	fetch := func(svc *archive.Service) func(context.Context, *Meta) error {
		return func(ctx context.Context, m *Meta) error {
			_, _, err := svc.Get(ctx, b.serviceCaller(m, "ITI-68"), m.ID)
			return err
		}
	}
	list := func(svc *archive.Service) func(context.Context, *Meta) error {
		return func(ctx context.Context, m *Meta) error {
			p, err := svc.Search(ctx, b.serviceCaller(m, "ITI-67"), archive.Query{ClientKey: archive.ClientKey(cda.ID{Root: codes.OIDIdentityCode, Extension: m.Client})})
			if err == nil && len(p.Records) == 0 {
				err = fmt.Errorf("no documents listed for a client of the sample")
			}
			return err
		}
	}
	for _, w := range []struct {
		name             string
		logged, unlogged func(context.Context, *Meta) error
		out, outUnlogged *float64
	}{
		{"fetch", fetch(logged), fetch(unlogged), &b.res.ServiceFetchPerS, &b.res.ServiceFetchUnloggedPerS},
		{"list", list(logged), list(unlogged), &b.res.ServiceListPerS, &b.res.ServiceListUnloggedPerS},
	} {
		var on, off time.Duration
		bar := b.cfg.bar(2*LogCostRounds*len(metas), "access-log cost: "+w.name+" with and without the log", "reads")
		for range LogCostRounds {
			d, err := b.serviceReads(ctx, metas, w.logged, bar)
			if err != nil {
				return fmt.Errorf("logging cost: %s: %w", w.name, err)
			}
			on += d
			if d, err = b.serviceReads(ctx, metas, w.unlogged, bar); err != nil {
				return fmt.Errorf("logging cost: %s without the log: %w", w.name, err)
			}
			off += d
		}
		bar.Finish()
		n := float64(LogCostRounds * len(metas))
		*w.out = math.Round(n / on.Seconds())
		*w.outUnlogged = math.Round(n / off.Seconds())
	}
	return nil
}

// serviceReads runs read for every meta with the run's concurrency and
// returns how long they took.
func (b *run) serviceReads(ctx context.Context, metas []*Meta, read func(context.Context, *Meta) error, bar interface{ Add(int64) }) (time.Duration, error) {
	var next atomic.Int64
	start := time.Now()
	err := workers(ctx, b.cfg.Concurrency, func(ctx context.Context) error {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(metas) {
				return nil
			}
			if err := read(ctx, metas[i]); err != nil {
				return err
			}
			bar.Add(1)
		}
	})
	return time.Since(start), err
}

// serviceCaller is the professional of the document's organisation the
// FHIR door would make of its caller's token, with the request the log
// records.
func (b *run) serviceCaller(m *Meta, transaction string) archive.Caller {
	o := b.world.Organisations[m.Org]
	return archive.Caller{System: o.SystemName, Organisation: o.ControllerOID(), Person: "10000000001", PersonName: "Testi Käyttäjä",
		Unit: o.Units[1].OID, Purpose: codes.UsageOwnRegister,
		Request: &archive.Request{ClientAddress: LogCostClientAddress, ServerAddress: "127.0.0.1:8443", Transaction: transaction}}
}
