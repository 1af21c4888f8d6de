package bench

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/storage"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// baselines measures, in this process with no server running, the two
// limits archiving cannot beat: checking documents (reading, validating,
// verifying their signatures) with no storage, and storing the same rows
// and content the archive stores, with the same durability, with no
// checking. They use the first Baseline documents of the stream. Then the
// floors of those two on the same documents: the crypto floor (the RSA
// verifications of their signatures and SHA-256 of their bytes, nothing
// else) and a plain insert of the same rows (plain.go).
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
	plain, err := b.openPlain(ctx)
	if err != nil {
		return err
	}
	defer plain.close()
	var verifyTime, storeTime, floorTime, plainTime time.Duration
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

		// The floors of both, on the same documents: their signatures'
		// public-key checks and a hash of their bytes; their rows in a
		// plain table.
		inputs := make([][]xmldsig.FloorInput, n)
		rows := make([]plainRow, n)
		for i := range n {
			if inputs[i], err = xmldsig.FloorInputs(checked[i].Doc); err != nil {
				return fmt.Errorf("crypto floor: document %s: %w", metas[i].ID, err)
			}
			rec := svc.NewRecord(callerOf(b.callers[metas[i].Org]), checked[i])
			enc, err := sqlstore.EncodeDocument(rec)
			if err != nil {
				return err
			}
			rows[i] = plainRow{id: rec.Header.ID, client: rec.ClientKey(), record: enc.JSON, content: checked[i].Raw}
		}
		next.Store(0)
		start = time.Now()
		err = workers(ctx, b.cfg.Concurrency, func(ctx context.Context) error {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return nil
				}
				for k := range inputs[i] {
					if err := inputs[i][k].Verify(); err != nil {
						return err
					}
				}
				sha256.Sum256(checked[i].Raw)
			}
		})
		floorTime += time.Since(start)
		if err != nil {
			return fmt.Errorf("crypto floor: %w", err)
		}
		d, err := timePlain(ctx, plain, b.cfg.Concurrency, rows)
		plainTime += d
		if err != nil {
			return fmt.Errorf("plain insert baseline: %w", err)
		}
		done += n
	}
	bar.Finish()
	b.res.VerifyDocsPerS = math.Round(float64(b.cfg.Baseline) / verifyTime.Seconds())
	b.res.RawStoreDocsPerS = math.Round(float64(b.cfg.Baseline) / storeTime.Seconds())
	b.res.CryptoFloorDocsPerS = math.Round(float64(b.cfg.Baseline) / floorTime.Seconds())
	b.res.PlainInsertDocsPerS = math.Round(float64(b.cfg.Baseline) / plainTime.Seconds())
	b.cfg.logf("baselines: verify %.0f docs/s (crypto floor %.0f), raw store %.0f docs/s (plain insert %.0f)",
		b.res.VerifyDocsPerS, b.res.CryptoFloorDocsPerS, b.res.RawStoreDocsPerS, b.res.PlainInsertDocsPerS)
	return nil
}

// callerOf is the archive.Caller the FHIR door makes of a caller's token.
func callerOf(c *caller) archive.Caller {
	return archive.Caller{System: c.org.SystemName, Organisation: c.org.ControllerOID(), Person: c.sub, PersonName: c.name, Unit: c.unit, Purpose: codes.UsageOwnRegister}
}
