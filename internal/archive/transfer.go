package archive

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TransferRequest moves a controller's register to a new controller, as
// when municipalities' social welfare moved to wellbeing services counties.
type TransferRequest struct {
	From, To     string
	RegisterType string
	Effective    time.Time
	Operator     Caller // who runs it, for the access log
	Batch        int    // documents per transaction; default 1000
	// Progress, if set, is called after each batch with the totals.
	Progress func(moved, total int)
}

// Transfer moves the register and every version in it to the new
// controller. Each batch commits with its progress, so an interrupted
// transfer (ctx cancelled, process killed) resumes where it stopped when
// run again with the same request. Documents keep their original custodian
// in their header; their controller changes. The register is marked
// transferred first, so no new document enters it meanwhile, and the
// client relationships (and the access rights they grant) move with it.
// The transfer is logged at its start and at its end.
func (s *Service) Transfer(ctx context.Context, req TransferRequest) (*Transfer, error) {
	if req.Batch <= 0 {
		req.Batch = 1000
	}
	if req.From == "" || req.To == "" || req.From == req.To {
		return nil, &Error{Kind: ErrInvalid, Message: "a transfer needs two different controllers"}
	}
	var tr *Transfer
	err := s.store.Update(ctx, func(tx Tx) error {
		tr = nil
		for _, oidv := range []string{req.From, req.To} {
			if _, err := tx.Organisation(ctx, oidv); errors.Is(err, ErrNotFound) {
				return errf(ErrInvalid, "organisation %s is not onboarded", oidv)
			} else if err != nil {
				return err
			}
		}
		all, err := tx.Transfers(ctx)
		if err != nil {
			return err
		}
		for _, t := range all {
			if t.FinishedAt == nil && t.From == req.From && t.RegisterType == req.RegisterType {
				if t.To != req.To {
					return errf(ErrConflict, "register %s of %s is being transferred to %s; finish that first", req.RegisterType, req.From, t.To)
				}
				tr = t // resume
				return nil
			}
		}
		reg, err := tx.Register(ctx, req.From, req.RegisterType)
		if errors.Is(err, ErrNotFound) {
			return errf(ErrNotFound, "%s has no register of type %s", req.From, req.RegisterType)
		}
		if err != nil {
			return err
		}
		if reg.TransferredTo != "" {
			return errf(ErrConflict, "register %s of %s was already transferred to %s", req.RegisterType, req.From, reg.TransferredTo)
		}
		eff := req.Effective.UTC()
		reg.TransferredTo, reg.TransferredAt = req.To, &eff
		if err := tx.PutRegister(ctx, reg); err != nil {
			return err
		}
		if _, err := tx.Register(ctx, req.To, req.RegisterType); errors.Is(err, ErrNotFound) {
			if err := tx.PutRegister(ctx, &Register{Controller: req.To, Type: req.RegisterType}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if _, err := tx.MoveRelationships(ctx, req.From, req.To); err != nil {
			return err
		}
		total, err := tx.CountDocuments(ctx, req.From, req.RegisterType)
		if err != nil {
			return err
		}
		tr = &Transfer{From: req.From, To: req.To, RegisterType: req.RegisterType, Effective: eff, StartedAt: s.now().UTC(), Total: total}
		if err := tx.PutTransfer(ctx, tr); err != nil {
			return err
		}
		return s.appendAllowed(ctx, tx, &AccessEntry{
			Caller: req.Operator, Action: ActionTransfer, Custodian: req.From,
			Reason:  fmt.Sprintf("register %s of %s transferred to %s, effective %s", req.RegisterType, req.From, req.To, eff.Format("2006-01-02")),
			Details: fmt.Sprintf("transfer %d started: %d documents", tr.ID, total),
		})
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "register transfer", "transfer", tr.ID, "from", tr.From, "to", tr.To, "moved", tr.Moved, "total", tr.Total)
	for {
		if err := ctx.Err(); err != nil {
			return tr, fmt.Errorf("transfer %d interrupted after %d of %d documents; run it again to resume: %w", tr.ID, tr.Moved, tr.Total, err)
		}
		var n int
		err := s.store.Update(ctx, func(tx Tx) error {
			var last string
			var err error
			n, last, err = tx.MoveDocuments(ctx, tr.From, tr.To, tr.RegisterType, "", req.Batch)
			if err != nil || n == 0 {
				return err
			}
			next := *tr
			next.Moved += n
			next.LastDoc = last
			if next.Moved > next.Total {
				next.Total = next.Moved // documents that entered while the register was marked
			}
			if err := tx.PutTransfer(ctx, &next); err != nil {
				return err
			}
			*tr = next
			return nil
		})
		if err != nil {
			return tr, fmt.Errorf("transfer %d: %w", tr.ID, err)
		}
		if req.Progress != nil {
			req.Progress(tr.Moved, tr.Total)
		}
		if n == 0 {
			break
		}
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		left, err := tx.CountDocuments(ctx, tr.From, tr.RegisterType)
		if err != nil {
			return err
		}
		if left != 0 {
			return fmt.Errorf("transfer %d: %d documents still in the old register", tr.ID, left)
		}
		now := s.now().UTC()
		done := *tr
		done.FinishedAt = &now
		if err := tx.PutTransfer(ctx, &done); err != nil {
			return err
		}
		*tr = done
		return s.appendAllowed(ctx, tx, &AccessEntry{
			Caller: req.Operator, Action: ActionTransfer, Custodian: tr.To,
			Reason:  fmt.Sprintf("register %s of %s transferred to %s", tr.RegisterType, tr.From, tr.To),
			Details: fmt.Sprintf("transfer %d finished: %d of %d documents moved", tr.ID, tr.Moved, tr.Total),
		})
	})
	if err != nil {
		return tr, err
	}
	s.log.InfoContext(ctx, "register transfer finished", "transfer", tr.ID, "moved", tr.Moved, "total", tr.Total)
	return tr, nil
}
