package archive

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/hetu"
)

// The citizen view: a client, signed in with strong authentication, sees
// their own documents, who used their data and to whom it was disclosed,
// and records their own will expressions (docs/access-rules.md).
const (
	// CitizenSystem names the citizen view as the calling system.
	CitizenSystem = "citizen-view"
	// PurposeCitizen is a client's own use of their data through the
	// citizen view. It is no usage situation of the national code set:
	// the caller is a person, not an organisation, and Rules lets it see
	// only its own documents of the kinds the citizen view shows.
	PurposeCitizen = "citizen"
)

// CitizenCaller is a signed-in client acting in the citizen view: person
// is their personal identity code.
func CitizenCaller(person, name string) Caller {
	return Caller{System: CitizenSystem, Person: person, PersonName: name, Purpose: PurposeCitizen}
}

// CitizenKey is the client key of the client whose data a caller in the
// citizen view sees: the client themself, or the child a guardian acts
// for (empty for others).
func CitizenKey(c Caller) string {
	switch {
	case c.Purpose == PurposeCitizen && c.Person != "":
		return hetu.ClientID{Root: hetu.OIDRoot, Extension: c.Person}.Key()
	case c.Purpose == PurposeGuardian && c.Person != "" && c.ActingFor != "":
		return hetu.ClientID{Root: hetu.OIDRoot, Extension: c.ActingFor}.Key()
	}
	return ""
}

// checkCitizen is Caller.check for a person in the citizen view: the
// citizen view, a valid identity code, no organisation; a guardian names a
// child, and a client acts for no one else.
func (c Caller) checkCitizen() error {
	if c.System != CitizenSystem || c.Organisation != "" || !hetu.Valid(c.Person) {
		return &Error{Kind: ErrForbidden, Message: "a client acts through the citizen view, named by a valid personal identity code"}
	}
	if (c.Purpose == PurposeGuardian) != (c.ActingFor != "") {
		return &Error{Kind: ErrForbidden, Message: "a guardian, and only a guardian, acts for a child in the citizen view"}
	}
	return nil
}

// CitizenHidden is the operator's configuration of the categories the
// citizen view never shows, whatever their group: shelter-home and
// domestic-violence services, payment commitments. No national code that
// marks them could be confirmed from public material, so there are no
// defaults: the operator names them (arkisto serve --citizen-hide-*;
// docs/citizen.md).
type CitizenHidden struct {
	ServiceTasks  []string // service task codes (1.2.246.537.6.1221.201601)
	DocumentTypes []string // general or specific document type codes
	// SocialServices are social service codes (1.2.246.537.6.1222.201601):
	// a document whose structured form names one is hidden.
	SocialServices []string
}

// Hides reports whether the configuration hides the version.
func (c CitizenHidden) Hides(r *Record) bool {
	h := &r.Header
	for _, t := range c.ServiceTasks {
		if t != "" && t == h.ServiceTask.Code {
			return true
		}
	}
	for _, t := range c.DocumentTypes {
		if t != "" && (t == h.GeneralType.Code || t == h.SpecificType.Code) {
			return true
		}
	}
	for _, s := range c.SocialServices {
		if s != "" && slices.Contains(r.SocialServices, s) {
			return true
		}
	}
	return false
}

// CitizenVisible reports whether the citizen view shows a version to its
// client at now: the current version of a client relationship document or
// a client document of the second or a later phase (never first-phase, old
// or nullified ones), not hidden or delayed by a professional with a
// recorded reason, nor of a category the operator hides. A delay ends at
// the document's CitizenRelease (releaseDateForPatientViewing); a reason
// without that end hides the document until a correction gives one.
func CitizenVisible(r *Record, clientKey string, hidden CitizenHidden, now time.Time) (bool, string) {
	h := &r.Header
	switch {
	case clientKey == "" || r.ClientKey() != clientKey:
		return false, "the citizen view shows a client their own documents only"
	case r.Status != StatusCurrent:
		return false, "the citizen view shows current versions only, never nullified or superseded ones"
	case h.DocumentGroup.Code != codes.GroupClientRelationship && h.DocumentGroup.Code != codes.GroupLaterPhase:
		return false, "the citizen view shows client relationship documents and documents of the second or a later phase, not first-phase or old ones"
	case h.CitizenRelease != nil && now.Before(*h.CitizenRelease):
		return false, "a professional has delayed the document; the delay has not ended"
	case h.HideReason.Code != "" && h.CitizenRelease == nil:
		return false, "a professional has hidden the document with a recorded reason"
	case hidden.Hides(r):
		return false, "the citizen view does not show documents of this service task, type or social service (the operator's configuration)"
	}
	return true, ""
}

// citizenGroups are the document groups the citizen view shows.
var citizenGroups = []string{codes.GroupClientRelationship, codes.GroupLaterPhase}

// citizenMaxDocuments bounds one listing of a client's documents.
const citizenMaxDocuments = 2000

// CitizenDocuments returns the documents the citizen view shows the
// signed-in client, newest first. Each is decided by the policy; the
// listing is in the access log as the client's own use, one entry per
// controller whose documents it lists, so that each controller sees it in
// its own log.
func (s *Service) CitizenDocuments(ctx context.Context, c Caller) ([]*Record, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	key := CitizenKey(c)
	entry := &AccessEntry{Caller: c, Action: ActionSearch, ClientKey: key, Details: "citizen view: own documents"}
	if key == "" {
		return nil, s.refuse(ctx, &Error{Kind: ErrForbidden, Message: "only a client lists their documents in the citizen view"}, entry)
	}
	var out []*Record
	var controllers []string
	read := func(tx Tx) error {
		out, entry.Documents, controllers = nil, nil, nil
		d := s.policy.Caller(ctx, tx, c)
		if !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		// The store narrows to the client's documents of the shown groups;
		// the policy decides each.
		scope := Scope{Disclosure: &DisclosureScope{ClientKey: key, Groups: citizenGroups}}
		q := Query{ClientKey: key, DocumentGroups: citizenGroups, Statuses: []Status{StatusCurrent}, Limit: 500}
		for n := 0; n < citizenMaxDocuments; n += q.Limit {
			recs, err := tx.Search(ctx, q, scope)
			if err != nil {
				return err
			}
			more := len(recs) > q.Limit
			if more {
				recs = recs[:q.Limit]
			}
			for _, r := range recs {
				if s.policy.Read(ctx, tx, c, r).Allowed {
					out = append(out, r)
					entry.Documents = append(entry.Documents, r.Header.ID)
					controllers = append(controllers, r.ControllerOID())
				}
			}
			if !more {
				break
			}
			last := recs[len(recs)-1]
			q.Cursor = EncodeCursor(last.Header.EffectiveTime, last.Header.ID)
		}
		entry.Reason = d.Reason + ": the documents the citizen view shows"
		return nil
	}
	err := s.readLoggedEach(ctx, read, func() []*AccessEntry { return perController(entry, entry.Documents, controllers) })
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return out, nil
}

// CitizenAccessLog returns the allowed uses of the signed-in client's data
// by others, logged in [from, to) (a zero end is open), newest first, at
// most limit: the client's own uses in the citizen view are left out, and
// a guardian's uses for the client (PurposeGuardian) are in, for the view
// to show apart. Reading it is itself logged as the caller's use.
func (s *Service) CitizenAccessLog(ctx context.Context, c Caller, from, to time.Time, limit int) ([]*AccessEntry, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	key := CitizenKey(c)
	entry := &AccessEntry{Caller: c, Action: ActionLogRead, ClientKey: key, Details: "citizen view: who used my data"}
	var out []*AccessEntry
	err := s.readLogged(ctx, entry, func(tx Tx) error {
		out = nil
		d := s.policy.Will(ctx, tx, c, key)
		if !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		q := AccessLogQuery{ClientKey: key, From: from, To: to, Limit: 500}
		// The client's own views are filtered out here, so read on until
		// enough uses by others are found (bounded). A guardian's are not
		// the client's own: they stay.
		for range 20 {
			batch, err := tx.AccessLog(ctx, q)
			if err != nil {
				return err
			}
			for _, a := range batch {
				if a.Caller.Purpose != PurposeCitizen && a.Outcome == OutcomeAllowed && len(out) < limit {
					out = append(out, a)
				}
			}
			if len(batch) < q.Limit || len(out) >= limit {
				break
			}
			q.Before = batch[len(batch)-1].ID
		}
		entry.Reason = d.Reason + ": the uses of the client's data by others"
		return nil
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return out, nil
}

// CitizenDisclosures returns the disclosure log of the signed-in client:
// every disclosure of their data, through the archive or reported, in
// [from, to), newest first.
func (s *Service) CitizenDisclosures(ctx context.Context, c Caller, from, to time.Time, limit int) ([]*Disclosure, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	key := CitizenKey(c)
	entry := &AccessEntry{Caller: c, Action: ActionDisclosureRead, ClientKey: key, Details: "citizen view: disclosures"}
	var out []*Disclosure
	err := s.readLogged(ctx, entry, func(tx Tx) error {
		d := s.policy.Will(ctx, tx, c, key)
		if !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		var err error
		out, err = tx.Disclosures(ctx, DisclosureQuery{ClientKey: key, From: from, To: to, Limit: limit})
		if err != nil {
			return err
		}
		entry.Reason = d.Reason + ": the client's disclosure log"
		return nil
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return out, nil
}

// OrganisationNames returns the names of the onboarded organisations among
// oids, for showing a log to a person. Organisations are public facts of
// the register of social welfare providers: reading them is not logged.
func (s *Service) OrganisationNames(ctx context.Context, oids []string) (map[string]string, error) {
	out := map[string]string{}
	err := s.store.View(ctx, func(tx Tx) error {
		for _, o := range oids {
			if _, ok := out[o]; ok || o == "" {
				continue
			}
			org, err := tx.Organisation(ctx, o)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out[o] = org.Name
		}
		return nil
	})
	return out, err
}

// CitizenRelationships returns the signed-in client's client
// relationships as their client relationship documents state them: the
// organiser, the period, the service tasks with their units and
// providers. Reading them is logged as the client's own use, one entry per
// controller of the relationship documents. A guardian sees those whose
// document the guardian may read.
func (s *Service) CitizenRelationships(ctx context.Context, c Caller) ([]*Relationship, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	key := CitizenKey(c)
	entry := &AccessEntry{Caller: c, Action: ActionRead, ClientKey: key, Details: "citizen view: client relationships"}
	var out []*Relationship
	var controllers []string
	read := func(tx Tx) error {
		d := s.policy.Will(ctx, tx, c, key)
		if !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		rels, err := tx.ClientRelationships(ctx, key)
		if err != nil {
			return err
		}
		out, entry.Documents, controllers = nil, nil, nil
		for _, r := range rels {
			// The organiser's register may have been transferred since.
			controller := r.Organiser
			rec, err := tx.Document(ctx, r.Document)
			switch {
			case err == nil:
				controller = rec.ControllerOID()
			case !errors.Is(err, ErrNotFound):
				return err
			}
			if c.Purpose == PurposeGuardian {
				// A guardian sees a relationship only as far as its
				// document may be shown to them.
				if rec == nil || !s.policy.Read(ctx, tx, c, rec).Allowed {
					continue
				}
			}
			out = append(out, r)
			entry.Documents = append(entry.Documents, r.Document)
			controllers = append(controllers, controller)
		}
		entry.Reason = d.Reason + ": the client's relationships"
		return nil
	}
	err := s.readLoggedEach(ctx, read, func() []*AccessEntry { return perController(entry, entry.Documents, controllers) })
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return out, nil
}
