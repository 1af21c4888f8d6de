package archive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/problem"
)

// SubmissionSet is a submission as the archive keeps it: IHE's
// SubmissionSet (MHD's SubmissionSet List). It is stored in the
// transaction that archives its documents, one per client the documents
// concern, and read under the access decision of its documents.
type SubmissionSet struct {
	// ID is the archive's id of the set (the List id): 32 hex digits,
	// random.
	ID        string `json:"id"`
	ClientKey string `json:"clientKey"`
	PatientID string `json:"patientId"`
	// What the source said of the set, as it said it: its uniqueId and
	// entryUUID, its source id, title, designation type and date (the
	// submission time; zero when not given).
	UniqueID        string    `json:"uniqueId,omitempty"`
	EntryUUID       string    `json:"entryUuid,omitempty"`
	SourceID        string    `json:"sourceId,omitempty"`
	Title           string    `json:"title,omitempty"`
	DesignationType *SetCode  `json:"designationType,omitempty"`
	Date            time.Time `json:"date,omitempty"`
	// ReceivedAt is when the archive stored it; Submitter who sent it: the
	// system, its organisation and the professional (the set's author).
	ReceivedAt time.Time `json:"receivedAt"`
	Submitter  Caller    `json:"submitter"`
	// Controllers are the controllers whose registers the documents went
	// to; Documents the documents it carried, in submission order.
	Controllers []string `json:"controllers"`
	Documents   []string `json:"documents"`
	// Updated is, in a set as a caller sees it, when anything it shows
	// last changed: it was received, or a document it shows changed
	// (archived, superseded, nullified, moved). Not stored.
	Updated time.Time `json:"-"`
}

// SetCode is a coded value of a submission set, as the source gave it.
type SetCode struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// SubmissionSetMeta is what a door's protocol says of a submission set
// (FHIR: the SubmissionSet List of an ITI-65 Bundle); the archive adds the
// client, the submitter, the time and the documents.
type SubmissionSetMeta struct {
	UniqueID, EntryUUID, SourceID, Title string
	DesignationType                      *SetCode
	Date                                 time.Time
}

// SubmissionSets are the kept submission sets.
type SubmissionSets interface {
	// PutSubmissionSet stores a new set. An existing id, or a set of the
	// same client with the same UniqueID from the same organisation, is
	// ErrConflict.
	PutSubmissionSet(ctx context.Context, s *SubmissionSet) error
	// SubmissionSet returns the set with the id, or ErrNotFound.
	SubmissionSet(ctx context.Context, id string) (*SubmissionSet, error)
	// SubmissionSetByUniqueID returns the client's set with the uniqueId
	// that the organisation sent, or ErrNotFound.
	SubmissionSetByUniqueID(ctx context.Context, clientKey, organisation, uniqueID string) (*SubmissionSet, error)
	// ClientSubmissionSets returns every set of a client, newest first (by
	// ReceivedAt, then id).
	ClientSubmissionSets(ctx context.Context, clientKey string) ([]*SubmissionSet, error)
}

// Limits of what a source says of a set: identifiers, codes, the title.
const (
	maxSetIdentifier = 256
	maxSetTitle      = 1000
)

// Rule code of a submission set's metadata.
const RuleSubmissionSet = "SUBMISSION_SET"

// Check checks what the source says of a set: bounded printable text,
// identifiers without spaces. The problems name the field.
func (m *SubmissionSetMeta) Check() problem.List {
	var p problem.List
	ident := func(path, v string) {
		if len(v) > maxSetIdentifier {
			p.Add(RuleSubmissionSet, path, "at most %d characters", maxSetIdentifier)
			return
		}
		for _, r := range v {
			if r <= ' ' || r == 0x7f {
				p.Add(RuleSubmissionSet, path, "an identifier has no spaces or control characters")
				return
			}
		}
	}
	ident("uniqueId", m.UniqueID)
	ident("entryUUID", m.EntryUUID)
	ident("sourceId", m.SourceID)
	if d := m.DesignationType; d != nil {
		ident("designationType.system", d.System)
		ident("designationType.code", d.Code)
		if d.Code == "" {
			p.Add(RuleSubmissionSet, "designationType.code", "a designation type needs a code")
		}
		if !printable(d.Display, maxSetTitle) {
			p.Add(RuleSubmissionSet, "designationType.display", "printable text of at most %d characters", maxSetTitle)
		}
	}
	if !printable(m.Title, maxSetTitle) {
		p.Add(RuleSubmissionSet, "title", "printable text of at most %d characters", maxSetTitle)
	}
	return p
}

// newSetID is a new submission set id: 128 random bits in hex.
func newSetID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// setsOf makes the submission sets of archived documents, one per client
// in the order the clients first appear; a door's meta nil makes none.
func (s *Service) setsOf(c Caller, meta *SubmissionSetMeta, recs []*Record, patientIDs []string, at time.Time) []*SubmissionSet {
	if meta == nil {
		return nil
	}
	var out []*SubmissionSet
	byClient := map[string]*SubmissionSet{}
	for i, r := range recs {
		set := byClient[r.ClientKey()]
		if set == nil {
			set = &SubmissionSet{
				ID: newSetID(), ClientKey: r.ClientKey(), PatientID: patientIDs[i],
				UniqueID: meta.UniqueID, EntryUUID: meta.EntryUUID, SourceID: meta.SourceID, Title: meta.Title,
				DesignationType: meta.DesignationType, Date: meta.Date.UTC(), ReceivedAt: at, Submitter: c,
			}
			byClient[r.ClientKey()] = set
			out = append(out, set)
		}
		if !slices.Contains(set.Controllers, r.ControllerOID()) {
			set.Controllers = append(set.Controllers, r.ControllerOID())
		}
		if !slices.Contains(set.Documents, r.Header.ID) {
			set.Documents = append(set.Documents, r.Header.ID)
		}
	}
	return out
}

// putSets stores a submission's sets in its transaction. A set whose
// uniqueId the organisation already used for the client is the same
// submission sent again when it carried the same documents: the set kept
// then stands (and replaces the new one in sets); otherwise it is a
// conflict.
func putSets(ctx context.Context, tx SubmissionSets, sets []*SubmissionSet) error {
	for i, set := range sets {
		if set.UniqueID != "" {
			old, err := tx.SubmissionSetByUniqueID(ctx, set.ClientKey, set.Submitter.Organisation, set.UniqueID)
			switch {
			case err == nil && slices.Equal(old.Documents, set.Documents):
				sets[i] = old
				continue
			case err == nil:
				return errf(ErrConflict, "the SubmissionSet uniqueId %s was already used by this organisation for another submission of the client; give the submission a new uniqueId", set.UniqueID)
			case !errors.Is(err, ErrNotFound):
				return err
			}
		}
		if err := tx.PutSubmissionSet(ctx, set); err != nil {
			return err
		}
	}
	return nil
}

// SubmittedSet is a submission set as Provide returns it: Created false
// when the same submission (its uniqueId, its documents) was kept before.
type SubmittedSet struct {
	Set     *SubmissionSet
	Created bool
}

// Provide is Submit that also keeps the submission set, with what the
// door's protocol said of it (meta), in the transaction that archives the
// documents: one set per client the documents concern, in the order the
// clients first appear.
func (s *Service) Provide(ctx context.Context, c Caller, docs [][]byte, agree Agreement, meta SubmissionSetMeta) ([]Archived, []SubmittedSet, error) {
	if probs := meta.Check(); len(probs) > 0 {
		err := &Error{Kind: ErrInvalid, Message: "the submission set's metadata is not acceptable", Problems: probs}
		return nil, nil, s.RefuseUnread(ctx, c, err)
	}
	var sets []SubmittedSet
	res, err := s.submit(ctx, c, docs, agree, &meta, &sets)
	return res, sets, err
}

// SubmissionSetRead returns a submission set the caller may see, with the
// documents of it the caller may see: a set it may see none of the
// documents of is ErrNotFound, as one that does not exist, and the grounds
// go to the controllers' log. The read is logged; documents of another
// controller it shows are disclosures, logged as such.
func (s *Service) SubmissionSetRead(ctx context.Context, c Caller, id string) (*SubmissionSet, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	entry := &AccessEntry{Caller: c, Action: ActionRead, Details: "submission set " + id}
	missing := errf(ErrNotFound, "no List %s", id)
	var out *SubmissionSet
	var disc []*Disclosure
	err := s.readDisclosing(ctx, entry, &disc, func(tx Tx) error {
		out, disc, entry.Documents = nil, nil, nil
		if d := s.policy.Caller(ctx, tx, c); !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		set, err := tx.SubmissionSet(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return missing
		}
		if err != nil {
			return err
		}
		entry.ClientKey = set.ClientKey
		if len(set.Controllers) == 1 {
			entry.Custodian = set.Controllers[0]
		}
		scope, d := s.policy.Scope(ctx, tx, c, set.ClientKey)
		if !d.Allowed {
			entry.Reason = d.Reason
			return missing
		}
		shown, dd, err := s.visibleSets(ctx, tx, c, scope, []*SubmissionSet{set})
		if err != nil {
			return err
		}
		if len(shown) == 0 {
			entry.Reason = "the caller may see none of the submission set's documents"
			return missing
		}
		out, disc = shown[0], dd
		entry.Documents = out.Documents
		entry.Reason = d.Reason
		return nil
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return out, nil
}

// SubmissionSetQuery selects a client's submission sets. Empty fields do
// not restrict; a field with several values matches any of them.
type SubmissionSetQuery struct {
	ClientKey string `json:"client,omitempty"`
	// PatientID names the client by its Patient id instead.
	PatientID string `json:"patient,omitempty"`
	// Identifiers match the uniqueId or the entryUUID.
	Identifiers []string `json:"identifier,omitempty"`
	SourceIDs   []string `json:"sourceId,omitempty"`
	// DesignationTypes match "system|code", or "code" of any system.
	DesignationTypes []string `json:"designationType,omitempty"`
	// AuthorGiven and AuthorFamily match the submitting professional's
	// name: a word of it starts with one of the values, as FoldName folds
	// them (the archive keeps the name whole, not in parts).
	AuthorGiven  []string `json:"authorGiven,omitempty"`
	AuthorFamily []string `json:"authorFamily,omitempty"`
	// From and To select by the set's date (the source's submission time,
	// or when received if it gave none): [From, To).
	From time.Time `json:"from,omitempty"`
	To   time.Time `json:"to,omitempty"`
	// None finds nothing: a status or code that no kept set has.
	None  bool   `json:"none,omitempty"`
	Limit int    `json:"limit,omitempty"` // default 50, at most 500; 0 with CountOnly
	After string `json:"after,omitempty"` // SubmissionSetPage.Next
	// CountOnly asks for the total alone.
	CountOnly bool `json:"countOnly,omitempty"`
}

func (q SubmissionSetQuery) describe() string {
	b, _ := json.Marshal(q)
	return "submission sets " + string(b)
}

// SubmissionSetPage is a page of found sets, newest first; Next names the
// next page, empty on the last; Total counts them all.
type SubmissionSetPage struct {
	Sets  []*SubmissionSet
	Next  string
	Total int
}

// setDate is the date a search selects a set by.
func (s *SubmissionSet) setDate() time.Time {
	if s.Date.IsZero() {
		return s.ReceivedAt
	}
	return s.Date
}

func (q *SubmissionSetQuery) matches(s *SubmissionSet) bool {
	if len(q.Identifiers) > 0 && !slices.Contains(q.Identifiers, s.UniqueID) && !slices.Contains(q.Identifiers, s.EntryUUID) {
		return false
	}
	if len(q.SourceIDs) > 0 && !slices.Contains(q.SourceIDs, s.SourceID) {
		return false
	}
	if len(q.DesignationTypes) > 0 {
		d := s.DesignationType
		if d == nil || !slices.ContainsFunc(q.DesignationTypes, func(t string) bool { return t == d.Code || t == d.System+"|"+d.Code }) {
			return false
		}
	}
	words := strings.Fields(FoldName(s.Submitter.PersonName))
	name := func(want []string) bool {
		return slices.ContainsFunc(want, func(w string) bool {
			w = FoldName(w)
			return slices.ContainsFunc(words, func(x string) bool { return strings.HasPrefix(x, w) })
		})
	}
	if len(q.AuthorGiven) > 0 && !name(q.AuthorGiven) || len(q.AuthorFamily) > 0 && !name(q.AuthorFamily) {
		return false
	}
	d := s.setDate()
	return (q.From.IsZero() || !d.Before(q.From)) && (q.To.IsZero() || d.Before(q.To))
}

// setCursor is the position of a set in the order of a search.
func setCursor(s *SubmissionSet) string {
	return strconv.FormatInt(s.ReceivedAt.UnixMicro(), 10) + "." + s.ID
}

// after reports whether s comes after the cursor, newest first.
func afterCursor(s *SubmissionSet, cursor string) (bool, error) {
	us, id, ok := strings.Cut(cursor, ".")
	at, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || len(id) != 32 {
		return false, &Error{Kind: ErrInvalid, Message: "bad cursor", Problems: problem.List{{Code: "QUERY_CURSOR", Path: "cursor", Message: "not a paging cursor of a List search"}}}
	}
	t := s.ReceivedAt.UnixMicro()
	return t < at || t == at && s.ID < id, nil
}

// FindSubmissionSets finds a client's submission sets that the caller may
// see, newest first, each with only the documents the caller may see; a
// set it may see none of is left out, as if it did not exist. The search
// is logged; documents of another controller it shows are disclosures.
func (s *Service) FindSubmissionSets(ctx context.Context, c Caller, q SubmissionSetQuery) (*SubmissionSetPage, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if q.Limit <= 0 && !q.CountOnly {
		q.Limit = 50
	}
	if q.Limit > 500 {
		q.Limit = 500
	}
	entry := &AccessEntry{Caller: c, Action: ActionSearch, ClientKey: q.ClientKey, Details: q.describe()}
	page := &SubmissionSetPage{}
	var disc []*Disclosure
	err := s.readDisclosing(ctx, entry, &disc, func(tx Tx) error {
		*page, disc, entry.Documents = SubmissionSetPage{}, nil, nil
		key := q.ClientKey
		if q.PatientID != "" {
			k, err := tx.PatientClient(ctx, q.PatientID)
			if errors.Is(err, ErrNotFound) {
				entry.Reason = "no client has the Patient id"
				return nil
			}
			if err != nil {
				return err
			}
			key, entry.ClientKey = k, k
		}
		scope, d := s.policy.Scope(ctx, tx, c, key)
		if !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		if len(scope.Controllers) == 1 && len(scope.Grants) == 0 && scope.Disclosure == nil {
			entry.Custodian = scope.Controllers[0]
		}
		entry.Reason = d.Reason
		if q.None {
			return nil
		}
		all, err := tx.ClientSubmissionSets(ctx, key)
		if err != nil {
			return err
		}
		var cand []*SubmissionSet
		for _, set := range all {
			if set.ClientKey != key {
				return errors.New("the store returned another client's submission set")
			}
			if q.matches(set) {
				cand = append(cand, set)
			}
		}
		shown, _, err := s.visibleSets(ctx, tx, c, scope, cand)
		if err != nil {
			return err
		}
		page.Total = len(shown)
		if q.CountOnly {
			return nil
		}
		var out []*SubmissionSet
		for _, set := range shown {
			if q.After != "" {
				ok, err := afterCursor(set, q.After)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
			}
			if len(out) == q.Limit {
				page.Next = setCursor(out[len(out)-1])
				break
			}
			out = append(out, set)
		}
		// Only what the page shows is disclosed and logged.
		page.Sets, disc, err = s.visibleSets(ctx, tx, c, scope, out)
		if err != nil {
			return err
		}
		for _, set := range page.Sets {
			entry.Documents = append(entry.Documents, set.Documents...)
		}
		return nil
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return page, nil
}

// visibleSets returns copies of the sets with only the documents the
// caller may see within scope, leaving out sets with none, and the
// disclosures showing them would make.
func (s *Service) visibleSets(ctx context.Context, tx Tx, c Caller, scope Scope, sets []*SubmissionSet) ([]*SubmissionSet, []*Disclosure, error) {
	var ids []string
	for _, set := range sets {
		ids = append(ids, set.Documents...)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	seen := map[string]*Record{}
	ground := map[string]*DisclosureGround{}
	const chunk = 200
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		part := ids[:n]
		ids = ids[n:]
		recs, err := tx.Search(ctx, Query{ClientKey: sets[0].ClientKey, DocumentIDs: part, Statuses: []Status{StatusCurrent, StatusSuperseded, StatusNullified}, Limit: n}, scope)
		if err != nil {
			return nil, nil, fmt.Errorf("the documents of submission sets: %w", err)
		}
		for _, r := range recs {
			// Checked again, so that a store that applied the scope
			// wrongly cannot leak anything.
			switch {
			case scope.Own(r):
			case scope.Disclosure != nil && scope.Disclosure.Decide(r).Allowed:
				ground[r.Header.ID] = groundOf(scope.Disclosure.Request, scope.Disclosure.Decide(r))
			default:
				return nil, nil, errors.New("search returned a document outside the caller's scope")
			}
			seen[r.Header.ID] = r
		}
	}
	var out []*SubmissionSet
	var drecs []*Record
	var grounds []*DisclosureGround
	disclosedDoc := map[string]bool{}
	for _, set := range sets {
		cp := *set
		cp.Documents, cp.Updated = nil, set.ReceivedAt
		for _, id := range set.Documents {
			r := seen[id]
			if r == nil {
				continue
			}
			cp.Documents = append(cp.Documents, id)
			if u := r.LastUpdated(); u.After(cp.Updated) {
				cp.Updated = u
			}
			if g := ground[id]; g != nil && !disclosedDoc[id] {
				disclosedDoc[id] = true
				drecs, grounds = append(drecs, r), append(grounds, g)
			}
		}
		if len(cp.Documents) > 0 {
			out = append(out, &cp)
		}
	}
	return out, disclosed(c, drecs, grounds), nil
}
