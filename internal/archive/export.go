package archive

import (
	"context"
	"errors"
	"time"

	"github.com/arkisto/arkisto/internal/oid"
)

// LogExport selects what a log export holds: a controller's access-log
// and disclosure-log entries in a period, of one client or of all.
type LogExport struct {
	Controller string
	ClientKey  string // empty: every client
	From, To   time.Time
	// Operator names who asked (for the access log): a data protection
	// officer, or a client's log request handled by the controller.
	Operator Caller
}

// LogRecord is one exported entry: an access-log entry or a
// disclosure-log entry.
type LogRecord struct {
	Access     *AccessEntry
	Disclosure *Disclosure
}

// At is when the entry was logged.
func (r LogRecord) At() time.Time {
	if r.Access != nil {
		return r.Access.At
	}
	return r.Disclosure.At
}

// exportPage is how many entries of each log one read transaction takes.
const exportPage = 500

// TwoYears is how far back the law expects a client's log request to
// reach without a special reason.
const TwoYears = 2 * 365 * 24 * time.Hour

// ExportLog streams a controller's access-log entries (those the
// controller may see: about its registers, its predecessors' up to their
// transfers, and its own systems' allowed actions) and disclosure-log
// entries (disclosed or received) in [From, To), newest first, merged by
// time, to emit. Memory stays bounded: each log is read a page at a time,
// each page in a read transaction of its own. The export itself is logged
// before anything is emitted.
func (a *Admin) ExportLog(ctx context.Context, q LogExport, emit func(LogRecord) error) (int, error) {
	if oid.Check(q.Controller) != nil {
		return 0, errf(ErrInvalid, "the controller is named by its OID")
	}
	if !q.To.After(q.From) {
		return 0, errf(ErrInvalid, "the period's end must be after its start")
	}
	if q.Operator.System == "" {
		q.Operator.System = "arkisto admin"
	}
	q.Operator.Organisation = q.Controller
	if q.Operator.Purpose == "" {
		q.Operator.Purpose = PurposeOwnRegister
	}
	var preds []Predecessor
	err := a.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.Organisation(ctx, q.Controller); errors.Is(err, ErrNotFound) {
			return errf(ErrInvalid, "%s is not an onboarded organisation", q.Controller)
		} else if err != nil {
			return err
		}
		var err error
		if preds, err = predecessors(ctx, tx, q.Controller); err != nil {
			return err
		}
		return tx.AppendAccess(ctx, &AccessEntry{At: time.Now().UTC(), Caller: q.Operator, Action: ActionLogRead, ClientKey: q.ClientKey,
			Custodian: q.Controller, Outcome: OutcomeAllowed, Reason: "log export for the controller",
			Details: "export " + q.From.UTC().Format(time.RFC3339) + " to " + q.To.UTC().Format(time.RFC3339)})
	})
	if err != nil {
		return 0, err
	}
	access := &logPager[*AccessEntry]{next: func(before int64) ([]*AccessEntry, error) {
		var out []*AccessEntry
		err := a.store.View(ctx, func(tx Tx) error {
			var err error
			out, err = tx.AccessLog(ctx, AccessLogQuery{ClientKey: q.ClientKey, Organisation: q.Controller, Predecessors: preds, From: q.From, To: q.To, Limit: exportPage, Before: before})
			return err
		})
		return out, err
	}, id: func(e *AccessEntry) int64 { return e.ID }}
	disc := &logPager[*Disclosure]{next: func(before int64) ([]*Disclosure, error) {
		var out []*Disclosure
		err := a.store.View(ctx, func(tx Tx) error {
			var err error
			out, err = tx.Disclosures(ctx, DisclosureQuery{ClientKey: q.ClientKey, Organisation: q.Controller, From: q.From, To: q.To, Limit: exportPage, Before: before})
			return err
		})
		return out, err
	}, id: func(d *Disclosure) int64 { return d.ID }}
	n := 0
	for {
		ae, err := access.peek()
		if err != nil {
			return n, err
		}
		de, err := disc.peek()
		if err != nil {
			return n, err
		}
		var r LogRecord
		switch {
		case ae == nil && de == nil:
			return n, nil
		case de == nil || (ae != nil && !ae.At.Before(de.At)):
			r.Access = access.pop()
		default:
			r.Disclosure = disc.pop()
		}
		if err := emit(r); err != nil {
			return n, err
		}
		n++
	}
}

// logPager reads a log newest first, a page at a time.
type logPager[T any] struct {
	next   func(before int64) ([]T, error)
	id     func(T) int64
	buf    []T
	before int64
	done   bool
}

// peek returns the next entry without taking it; the zero T when the log
// is exhausted.
func (p *logPager[T]) peek() (T, error) {
	var zero T
	if len(p.buf) == 0 && !p.done {
		page, err := p.next(p.before)
		if err != nil {
			return zero, err
		}
		if len(page) < exportPage {
			p.done = true
		}
		if len(page) > 0 {
			p.before = p.id(page[len(page)-1])
		}
		p.buf = page
	}
	if len(p.buf) == 0 {
		return zero, nil
	}
	return p.buf[0], nil
}

func (p *logPager[T]) pop() T {
	v := p.buf[0]
	p.buf = p.buf[1:]
	return v
}
