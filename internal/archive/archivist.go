package archive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Actions of the archivist UI.
const (
	// ActionArchivistLogin is a person's attempt to act as an archivist.
	ActionArchivistLogin Action = "archivist-login"
	// ActionView is a page of a user interface shown to an archivist.
	ActionView Action = "view"
)

// ArchivistSystem names the archivist UI as the calling system.
const ArchivistSystem = "archivist-ui"

// PurposeArchivist is the purpose of use of an archivist: the controller's
// administrative use of its own registers through the archivist UI. It is
// not a usage situation code of the national code set; only a person who
// is an archivist of the caller's organisation may act with it (Rules).
const PurposeArchivist = "archivist"

// ArchivistLogin returns the controllers the person c.Person is an
// archivist of, with their organisations, sorted by OID. A person who is
// an archivist of none is refused (ErrForbidden). Both outcomes are in the
// access log: the attempt names the person, not yet a controller.
func (s *Service) ArchivistLogin(ctx context.Context, c Caller) ([]*Organisation, error) {
	entry := &AccessEntry{Caller: c, Action: ActionArchivistLogin}
	if c.Person == "" || c.Purpose != PurposeArchivist {
		return nil, s.refuse(ctx, &Error{Kind: ErrForbidden, Message: "an archivist's login needs the person and the archivist's purpose"}, entry)
	}
	var out []*Organisation
	err := s.readLogged(ctx, entry, func(tx Tx) error {
		out = nil
		as, err := tx.Archivists(ctx)
		if err != nil {
			return err
		}
		var controllers []string
		for _, a := range as {
			if a.Person == c.Person {
				controllers = append(controllers, a.Controller)
			}
		}
		slices.Sort(controllers)
		controllers = slices.Compact(controllers)
		for _, ctl := range controllers {
			o, err := tx.Organisation(ctx, ctl)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if o.ActiveAt(s.now()) {
				out = append(out, o)
			}
		}
		if len(out) == 0 {
			return &Error{Kind: ErrForbidden, Message: fmt.Sprintf("person %s is not an archivist of any active controller", c.Person)}
		}
		entry.Reason = fmt.Sprintf("archivist of %d controllers", len(out))
		entry.Details = strings.Join(controllers, " ")
		return nil
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return out, nil
}

// View logs a page a user interface shows the caller that discloses no
// document (a form, a choice), after the policy has accepted the caller:
// every page an archivist sees is in the access log.
func (s *Service) View(ctx context.Context, c Caller, page string) error {
	if err := c.check(); err != nil {
		return err
	}
	entry := &AccessEntry{Caller: c, Action: ActionView, Custodian: c.Organisation, Details: page}
	err := s.readLogged(ctx, entry, func(tx Tx) error {
		d := s.policy.Caller(ctx, tx, c)
		if !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		entry.Reason = d.Reason
		return nil
	})
	if err != nil {
		return s.refuse(ctx, err, entry)
	}
	return nil
}
