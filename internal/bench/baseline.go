package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/storage"
)

// baselines measures, in this process with no server running, the two
// limits archiving cannot beat: checking documents (reading, validating,
// verifying their signatures) with no storage, and storing the same rows
// and content the archive stores, with the same durability, with no
// checking. They use the first Baseline documents of the stream.
func (b *run) baselines(ctx context.Context) error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sc, err := b.freshStore(ctx, "raw")
	if err != nil {
		return err
	}
	st, err := storage.Open(ctx, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := archive.NewService(st, archive.Rules{}, archive.Config{}, quiet)

	// Chunks keep memory bounded: checked documents wait in memory only
	// until the timed storing of their chunk.
	const chunk = 2000
	sr, err := openStream(b.stream)
	if err != nil {
		return err
	}
	defer sr.Close()
	var verifyTime, storeTime time.Duration
	bar := b.cfg.bar(b.cfg.Baseline, "baselines: verify, then store", "docs")
	for done := 0; done < b.cfg.Baseline; {
		n := min(chunk, b.cfg.Baseline-done)
		docs := make([][]byte, n)
		metas := make([]*Meta, n)
		for i := range n {
			if metas[i], docs[i], err = sr.next(); err != nil {
				return fmt.Errorf("read the document stream: %w", err)
			}
		}
		checked := make([]*archive.Checked, n)
		var next atomic.Int64
		start := time.Now()
		err := workers(ctx, b.cfg.Concurrency, func(ctx context.Context) error {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return nil
				}
				chs, err := svc.Inspect(ctx, docs[i])
				if err != nil {
					return err
				}
				ch := chs[0]
				if len(ch.Problem) > 0 {
					return fmt.Errorf("generated document %s does not pass the checks: %v", metas[i].ID, ch.Problem)
				}
				checked[i] = ch
			}
		})
		verifyTime += time.Since(start)
		if err != nil {
			return fmt.Errorf("verification baseline: %w", err)
		}
		next.Store(0)
		start = time.Now()
		err = workers(ctx, b.cfg.Concurrency, func(ctx context.Context) error {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return nil
				}
				c := callerOf(b.callers[metas[i].Org])
				rec := svc.NewRecord(c, checked[i])
				entry := &archive.AccessEntry{At: time.Now().UTC(), Caller: c, Action: archive.ActionArchive, Outcome: archive.OutcomeAllowed,
					ClientKey: rec.ClientKey(), Custodian: rec.Header.Custodian.OID, Documents: []string{rec.Header.ID}, Reason: "storage baseline"}
				err := st.Update(ctx, func(tx archive.Tx) error {
					if err := tx.PutDocument(ctx, rec, checked[i].Raw); err != nil {
						return err
					}
					return tx.AppendAccess(ctx, entry)
				})
				if err != nil {
					return err
				}
				bar.Add(1)
			}
		})
		storeTime += time.Since(start)
		if err != nil {
			return fmt.Errorf("storage baseline: %w", err)
		}
		done += n
	}
	bar.Finish()
	b.res.VerifyDocsPerS = math.Round(float64(b.cfg.Baseline) / verifyTime.Seconds())
	b.res.RawStoreDocsPerS = math.Round(float64(b.cfg.Baseline) / storeTime.Seconds())
	b.cfg.logf("baselines: verify %.0f docs/s, raw store %.0f docs/s", b.res.VerifyDocsPerS, b.res.RawStoreDocsPerS)
	return nil
}

// callerOf is the archive.Caller the FHIR door makes of a caller's token.
func callerOf(c *caller) archive.Caller {
	return archive.Caller{System: c.org.SystemName, Organisation: c.org.ControllerOID(), Person: c.sub, PersonName: c.name, Unit: c.unit, Purpose: codes.UsageOwnRegister}
}
