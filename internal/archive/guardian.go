package archive

import (
	"context"
	"fmt"
	"time"

	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/problem"
)

// Guardians acting for minors in the citizen view (docs/access-rules.md,
// "Guardians"). The population register says who is a child's guardian;
// the archive keeps its own copy (arkisto admin guardian) and checks it on
// every request of a guardian, not only at sign-in.
const (
	// PurposeGuardian is a guardian's use of a minor's data through the
	// citizen view: the caller is the guardian (Person), acting for the
	// child (ActingFor). It is a purpose of its own so that the access log
	// names the use as a guardian's and the child's log can show it apart
	// from the child's own.
	PurposeGuardian = "guardian"
)

// Rule codes of guardianships.
const (
	RuleGuardianID    = "GUARDIAN_IDENTITY_CODE"
	RuleGuardianChild = "GUARDIAN_CHILD_NOT_MINOR"
	RuleGuardianSelf  = "GUARDIAN_SELF"
)

// GuardianDisclosureAllowed is the code of 1.2.246.537.6.1286.201901 that
// lets a minor's document be shown to the minor's guardians.
const GuardianDisclosureAllowed = "1"

// Guardianship is a guardian's custody of a minor: in force from From
// until Until (zero while in force).
type Guardianship struct {
	ID        int64     `json:"id"`
	Guardian  string    `json:"guardian"` // personal identity code
	Child     string    `json:"child"`    // personal identity code
	ChildName string    `json:"childName,omitempty"`
	From      time.Time `json:"from"`
	Until     time.Time `json:"until,omitzero"`
}

// InForce reports whether the guardianship is in force at t.
func (g *Guardianship) InForce(t time.Time) bool {
	return !t.Before(g.From) && (g.Until.IsZero() || t.Before(g.Until))
}

// GuardianshipQuery selects guardianships; empty fields do not restrict.
type GuardianshipQuery struct {
	Guardian, Child string
}

// GuardianCaller is a signed-in guardian acting in the citizen view for the
// child named by its identity code.
func GuardianCaller(guardian, name, child string) Caller {
	return Caller{System: CitizenSystem, Person: guardian, PersonName: name, Purpose: PurposeGuardian, ActingFor: child}
}

// InCitizenView reports whether the caller is a person in the citizen
// view: a client for themself or a guardian for a child.
func (c Caller) InCitizenView() bool {
	return c.Purpose == PurposeCitizen || c.Purpose == PurposeGuardian
}

// checkGuardianship validates a new guardianship at `now`: both identity
// codes valid, two persons, the child a minor by the birth date in its
// code (a guardianship of an adult is no custody: an adult's
// representative acts with an authorisation, which the archive does not
// hold). Messages name the field and the rule, never a code.
func checkGuardianship(g *Guardianship, now time.Time) problem.List {
	var p problem.List
	gOK, cOK := hetu.Valid(g.Guardian), hetu.Valid(g.Child)
	if !gOK {
		p.Add(RuleGuardianID, "guardian", "the guardian is named by a valid personal identity code")
	}
	if !cOK {
		p.Add(RuleGuardianID, "child", "the child is named by a valid personal identity code")
	}
	if gOK && cOK && g.Guardian == g.Child {
		p.Add(RuleGuardianSelf, "child", "a guardian and the child are two persons")
	}
	if cOK && !consent.Minor(hetu.ClientID{Root: hetu.OIDRoot, Extension: g.Child}.Key(), now) {
		p.Add(RuleGuardianChild, "child", "guardianship is of a minor only: by the birth date in the identity code the child is %d or older", consent.AdultAge)
	}
	return p
}

// AddGuardian records that a person is a minor's guardian, from now. A
// guardianship already in force is ErrConflict; bad input is ErrInvalid
// naming the field and the rule. The operator's log names no identity
// code.
func (a *Admin) AddGuardian(ctx context.Context, g *Guardianship) error {
	now := a.now().UTC().Truncate(time.Microsecond)
	if p := checkGuardianship(g, now); len(p) > 0 {
		return invalid("the guardianship is not acceptable", p)
	}
	g.ID, g.From, g.Until = 0, now, time.Time{}
	err := a.store.Update(ctx, func(tx Tx) error {
		return tx.PutGuardianship(ctx, g)
	})
	if err != nil {
		return fmt.Errorf("add guardianship: %w", err)
	}
	a.log.InfoContext(ctx, "guardianship added", "id", g.ID)
	return nil
}

// RemoveGuardian ends the guardianship in force of the guardian over the
// child; false when there is none. The ended guardianship stays in the
// archive: it explains the guardian's earlier entries in the access log.
func (a *Admin) RemoveGuardian(ctx context.Context, guardian, child string) (bool, error) {
	var p problem.List
	if !hetu.Valid(guardian) {
		p.Add(RuleGuardianID, "guardian", "the guardian is named by a valid personal identity code")
	}
	if !hetu.Valid(child) {
		p.Add(RuleGuardianID, "child", "the child is named by a valid personal identity code")
	}
	if len(p) > 0 {
		return false, invalid("the guardianship cannot be named", p)
	}
	var ok bool
	err := a.store.Update(ctx, func(tx Tx) error {
		var err error
		ok, err = tx.EndGuardianship(ctx, guardian, child, a.now().UTC().Truncate(time.Microsecond))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("end guardianship: %w", err)
	}
	if ok {
		a.log.InfoContext(ctx, "guardianship ended")
	}
	return ok, nil
}

// Guardianships lists guardianships, in force and ended, for the operator.
func (a *Admin) Guardianships(ctx context.Context, q GuardianshipQuery) ([]*Guardianship, error) {
	var out []*Guardianship
	err := a.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Guardianships(ctx, q)
		return err
	})
	return out, err
}

// guardianOf reports whether the guardianship of c.Person over
// c.ActingFor is in force at now and the child is still a minor.
func guardianOf(ctx context.Context, tx PolicyTx, c Caller, now time.Time) (Decision, bool) {
	if !hetu.Valid(c.ActingFor) || c.ActingFor == c.Person {
		return deny("a guardian acts for a child named by a valid personal identity code"), false
	}
	if !consent.Minor(hetu.ClientID{Root: hetu.OIDRoot, Extension: c.ActingFor}.Key(), now) {
		return deny("a guardian acts for a minor only; the child is %d or older", consent.AdultAge), false
	}
	gs, err := tx.Guardianships(ctx, GuardianshipQuery{Guardian: c.Person, Child: c.ActingFor})
	if err != nil {
		return deny("guardianships cannot be checked now"), false
	}
	for _, g := range gs {
		if g.InForce(now) {
			return Decision{}, true
		}
	}
	return deny("the person is not the child's guardian"), false
}

// GuardianChildren returns the minors the signed-in person is a guardian
// of now, for the citizen view's choice of whom to act for. Asking is in
// the access log as the person's own use; a person with no children gets
// none.
func (s *Service) GuardianChildren(ctx context.Context, c Caller) ([]*Guardianship, error) {
	if c.Purpose != PurposeCitizen {
		return nil, &Error{Kind: ErrForbidden, Message: "a person asks for their own children in the citizen view, for themself"}
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	entry := &AccessEntry{Caller: c, Action: ActionRead, ClientKey: CitizenKey(c), Details: "citizen view: the person's guardianships"}
	var out []*Guardianship
	err := s.readLogged(ctx, entry, func(tx Tx) error {
		out = nil
		gs, err := tx.Guardianships(ctx, GuardianshipQuery{Guardian: c.Person})
		if err != nil {
			return err
		}
		now := s.now()
		for _, g := range gs {
			if g.InForce(now) && consent.Minor(hetu.ClientID{Root: hetu.OIDRoot, Extension: g.Child}.Key(), now) {
				out = append(out, g)
			}
		}
		entry.Reason = fmt.Sprintf("the person's own guardianships in force: %d", len(out))
		return nil
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return out, nil
}
