package archive_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/storetest"
)

const (
	oldController = "1.2.246.10.1111111.10.0"
	newController = "1.2.246.10.2222228.10.0"
)

// fill stores n synthetic versions in the old controller's register,
// straight through the store: the transfer is about rows, not documents.
func fill(t *testing.T, st archive.Store, n int) {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for start := 0; start < n; start += 2000 {
		err := st.Update(ctx, func(tx archive.Tx) error {
			for i := start; i < start+2000 && i < n; i++ {
				id := fmt.Sprintf("1.2.246.10.1111111.95.%d", 1000000+i)
				content := []byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="` + id + `"/></ClinicalDocument>`)
				r := &archive.Record{
					Header: cda.Header{
						ID: id, SetID: id, Version: 1, EffectiveTime: base.Add(time.Duration(i) * time.Minute),
						Client:        cda.Client{ID: cda.ID{Root: "1.2.246.21", Extension: fmt.Sprintf("client-%d", i%1000)}},
						Custodian:     cda.Organisation{OID: oldController},
						DocumentGroup: cda.Code{Code: codes.GroupLaterPhase},
						Register:      cda.Code{Code: "1"},
						ServiceTask:   cda.Code{Code: "24"},
					},
					Status: archive.StatusCurrent, SHA256: blob.Sum(content), Size: int64(len(content)), ReceivedAt: base,
				}
				if err := tx.PutDocument(ctx, r, content); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestTransferInterruptedAndResumed moves a register of 100,000 documents,
// interrupts the move once, resumes it, and checks the counts and that the
// new controller reads every document and the old one none.
func TestTransferInterruptedAndResumed(t *testing.T) {
	// CI moves 100,000 documents; locally fewer keep go test ./... quick.
	n := 10_000
	if os.Getenv("CI") == "true" || os.Getenv("ARKISTO_TRANSFER_DOCS") == "100000" {
		n = 100_000
	}
	if testing.Short() {
		n = 2_000
	}
	for _, b := range storetest.Backends(t) {
		if strings.HasSuffix(b.Name, "+files") || strings.HasSuffix(b.Name, "+s3") {
			continue // content stores do not take part in a transfer
		}
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st := b.Open(t)
			err := st.Update(ctx, func(tx archive.Tx) error {
				for _, o := range []string{oldController, newController} {
					if err := archive.Onboard(ctx, tx, &archive.Organisation{OID: o, Name: o, Kind: "public"}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			fill(t, st, n)
			t.Logf("%d documents stored in %v", n, time.Since(start).Round(time.Millisecond))
			svc := archive.NewService(st, archive.Rules{}, archive.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			req := archive.TransferRequest{From: oldController, To: newController, RegisterType: "1", Effective: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC),
				Operator: archive.Caller{System: "arkisto admin", Organisation: newController, Purpose: "1"}, Batch: 1000}

			// Interrupt once, a third of the way.
			ictx, cancel := context.WithCancel(ctx)
			req.Progress = func(moved, total int) {
				if moved >= total/3 {
					cancel()
				}
			}
			tr, err := svc.Transfer(ictx, req)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted transfer: %v", err)
			}
			if tr.Moved < n/3 || tr.Moved >= n || tr.Total != n {
				t.Fatalf("after the interruption: moved %d of %d", tr.Moved, tr.Total)
			}
			// Meanwhile the old register takes nothing new, and the
			// documents are split between the controllers.
			var left, moved int
			st.View(ctx, func(tx archive.Tx) error {
				left, _ = tx.CountDocuments(ctx, oldController, "1")
				moved, _ = tx.CountDocuments(ctx, newController, "1")
				return nil
			})
			if left+moved != n || moved != tr.Moved {
				t.Fatalf("mid-transfer: %d left, %d moved, transfer says %d", left, moved, tr.Moved)
			}

			req.Progress = nil
			start = time.Now()
			tr, err = svc.Transfer(ctx, req)
			if err != nil {
				t.Fatalf("resume: %v", err)
			}
			t.Logf("resumed and finished in %v", time.Since(start).Round(time.Millisecond))
			if tr.Moved != n || tr.Total != n || tr.FinishedAt == nil {
				t.Fatalf("finished transfer: moved %d of %d, finished %v", tr.Moved, tr.Total, tr.FinishedAt)
			}
			st.View(ctx, func(tx archive.Tx) error {
				left, _ = tx.CountDocuments(ctx, oldController, "1")
				moved, _ = tx.CountDocuments(ctx, newController, "1")
				return nil
			})
			if left != 0 || moved != n {
				t.Fatalf("after the transfer: %d left, %d with the new controller", left, moved)
			}
			if _, err := svc.Transfer(ctx, req); !errors.Is(err, archive.ErrConflict) {
				t.Errorf("transferring again: %v", err)
			}

			// Every document is readable by the new controller: page through all of them.
			newCaller := archive.Caller{System: "s", Organisation: newController, Purpose: "1"}
			seen := map[string]bool{}
			q := archive.Query{Limit: 500}
			for {
				page, err := svc.Search(ctx, newCaller, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range page.Records {
					if r.Controller != newController || r.Header.Custodian.OID != oldController {
						t.Fatalf("document %s: controller %s, custodian %s", r.Header.ID, r.Controller, r.Header.Custodian.OID)
					}
					seen[r.Header.ID] = true
				}
				if page.Next == "" {
					break
				}
				q.Cursor = page.Next
			}
			if len(seen) != n {
				t.Fatalf("the new controller finds %d documents, want %d", len(seen), n)
			}
			some := fmt.Sprintf("1.2.246.10.1111111.95.%d", 1000000+n/2)
			if _, content, err := svc.Get(ctx, newCaller, some); err != nil || !strings.Contains(string(content), some) {
				t.Fatalf("the new controller reads %s: %v", some, err)
			}
			oldCaller := archive.Caller{System: "s", Organisation: oldController, Purpose: "1"}
			if _, _, err := svc.Get(ctx, oldCaller, some); !errors.Is(err, archive.ErrNotFound) {
				t.Errorf("the old controller reads %s: %v", some, err)
			}
			// The transfer is logged at its start, and at its end.
			var logged []string
			st.View(ctx, func(tx archive.Tx) error {
				entries, err := tx.ScanAccessLog(ctx, 0, 100000)
				for _, e := range entries {
					if e.Action == archive.ActionTransfer {
						logged = append(logged, e.Details)
					}
				}
				return err
			})
			if len(logged) != 2 || !strings.Contains(logged[1], fmt.Sprintf("%d of %d documents moved", n, n)) {
				t.Errorf("transfer log entries %q", logged)
			}
		})
	}
}
