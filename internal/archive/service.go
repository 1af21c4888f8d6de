package archive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/problem"
	"github.com/arkisto/arkisto/internal/relationship"
	"github.com/arkisto/arkisto/internal/xmlsafe"
)

// Config tunes the service.
type Config struct {
	// MaxDocumentBytes limits an archived document; default 20 MiB.
	MaxDocumentBytes int64
	// TrustTTL is how long trust anchors, systems and revocations are
	// cached; default DefaultTrustTTL. Changes made by `arkisto admin`
	// take effect within it.
	TrustTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// There is deliberately no setting that turns the access log off:
	// what logging costs is measured by a benchmark that wraps the store
	// (internal/archive/bench_test.go), never by the shipped server.
}

// Service is the archive's domain API.
type Service struct {
	store  Store
	policy Policy
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
	trust  *TrustCache

	cursorMu        sync.Mutex // and the patient key
	cursorKeyBytes  []byte
	patientKeyBytes []byte
}

// NewService wires a store and a policy.
func NewService(s Store, p Policy, cfg Config, logger *slog.Logger) *Service {
	if cfg.MaxDocumentBytes <= 0 {
		cfg.MaxDocumentBytes = xmlsafe.DefaultMaxBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	// The rules decide by the service's clock: a will expression recorded
	// at the service's now is in force at the rules' now, never a moment
	// later.
	if r, ok := p.(Rules); ok && r.Now == nil {
		r.Now = cfg.Now
		p = r
	}
	return &Service{store: s, policy: p, cfg: cfg, now: cfg.Now, log: logger, trust: NewTrustCache(s, cfg.TrustTTL, cfg.Now)}
}

// Trust is the service's cache of the trust state, which a door shares to
// authenticate systems.
func (s *Service) Trust() *TrustCache { return s.trust }

// Ready reports whether the store answers: it reads the organisations.
func (s *Service) Ready(ctx context.Context) error {
	return s.store.View(ctx, func(tx Tx) error {
		_, err := tx.Organisations(ctx)
		return err
	})
}

// MaxDocumentBytes is the configured document size limit.
func (s *Service) MaxDocumentBytes() int64 { return s.cfg.MaxDocumentBytes }

// Archived is the outcome of archiving one document.
type Archived struct {
	Record *Record
	// Created is false when identical bytes were already archived.
	Created bool
}

func archiveEntry(c Caller, ch *Checked) *AccessEntry {
	e := &AccessEntry{Caller: c, Action: ActionArchive}
	if ch.Doc != nil {
		e.ClientKey = ClientKey(ch.Doc.Client.ID)
		e.Custodian = ch.Doc.Custodian.OID
		if ch.Doc.ID != "" {
			e.Documents = []string{ch.Doc.ID}
		}
	}
	return e
}

// archiveChecked archives inspected documents all or nothing, in one
// transaction with their access-log entries. On failure the returned
// *Error's Index names the document at fault, and the refusal is logged.
func (s *Service) archiveChecked(ctx context.Context, c Caller, chs []*Checked, meta *SubmissionSetMeta, sets *[]SubmittedSet) ([]Archived, error) {
	for i, ch := range chs {
		// Needs the submitter, so not in Inspect.
		if probs := ch.SignerProblems(c); len(probs) > 0 {
			e := &Error{Kind: ErrInvalid, Index: i, Message: "the document is not acceptable", Problems: probs}
			return nil, s.reject(ctx, c, chs, e)
		}
	}
	pkey, err := s.patientKey(ctx)
	if err != nil {
		return nil, err
	}
	entries := make([]*AccessEntry, len(chs))
	recs := make([]*Record, len(chs))
	for i, ch := range chs {
		entries[i] = archiveEntry(c, ch)
		recs[i] = s.NewRecord(c, ch)
		recs[i].PatientID = PatientID(pkey, recs[i].ClientKey())
	}
	out := make([]Archived, len(chs))
	var kept []*SubmissionSet
	attempt := func(stx Tx) error {
		tx := newOnceOrgWriteTx(stx)
		archived := make([]*Record, len(chs))
		for i, ch := range chs {
			a, err := s.archiveOne(ctx, tx, c, recs[i], ch, entries[i])
			if err != nil {
				var ae *Error
				if errors.As(err, &ae) {
					ae.Index = i
				}
				return err
			}
			out[i], archived[i] = a, a.Record
		}
		// The submission set is kept with its documents, all or nothing.
		pids := make([]string, len(recs))
		for i, r := range recs {
			pids[i] = r.PatientID
		}
		kept = s.setsOf(c, meta, archived, pids, recs[0].ReceivedAt)
		fresh := make([]*SubmissionSet, len(kept))
		copy(fresh, kept)
		if err := putSets(ctx, tx, kept); err != nil {
			return err
		}
		if sets != nil {
			*sets = (*sets)[:0]
			for i, set := range kept {
				*sets = append(*sets, SubmittedSet{Set: set, Created: set == fresh[i]})
			}
		}
		return nil
	}
	err = s.store.Update(ctx, attempt)
	var ae *Error
	if errors.As(err, &ae) && ae.Retry {
		// A concurrent transaction got there first (the same document sent
		// twice at once, say); once more, this one sees what that one did.
		err = s.store.Update(ctx, attempt)
	}
	if err != nil {
		return nil, s.reject(ctx, c, chs, err)
	}
	for _, a := range out {
		s.log.InfoContext(ctx, "archived", "doc", a.Record.Header.ID, "version", a.Record.Header.Version, "created", a.Created, "system", c.System, "bytes", a.Record.Size)
	}
	return out, nil
}

func (s *Service) archiveOne(ctx context.Context, tx Tx, c Caller, rec *Record, ch *Checked, entry *AccessEntry) (Archived, error) {
	existing, err := tx.Document(ctx, rec.Header.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Archived{}, err
	}
	if existing != nil {
		if d := s.policy.Read(ctx, tx, c, existing); d.Allowed {
			if existing.SHA256 != rec.SHA256 {
				return Archived{}, errf(ErrConflict, "document %s is already archived with different content; a correction needs a new id and version", rec.Header.ID)
			}
			entry.Reason = "already archived with identical content; " + d.Reason
			entry.Custodian = existing.ControllerOID()
			return Archived{Record: existing}, s.appendAllowed(ctx, tx, entry)
		}
		// A version the caller may not know of: decide as if it did not
		// exist, so that a refusal tells nothing of it.
	}
	if err := checkRegister(ctx, tx, &rec.Header); err != nil {
		return Archived{}, err
	}
	if err := checkClientID(c, &rec.Header); err != nil {
		return Archived{}, err
	}
	d := s.policy.Write(ctx, tx, c, &rec.Header)
	if !d.Allowed {
		return Archived{}, &Error{Kind: ErrForbidden, Message: d.Reason}
	}
	if existing != nil {
		return Archived{}, hidden(errf(ErrConflict, "the document id %s cannot be used; give the document a new id", rec.Header.ID), existing, "a document with the id of this register's version was submitted by an organisation without access to it")
	}
	if p := rec.Header.Replaces; p != nil {
		if err := s.replace(ctx, tx, c, rec, p); err != nil {
			return Archived{}, err
		}
		entry.Documents = append(entry.Documents, p.ID)
	}
	if err := tx.PutDocument(ctx, rec, ch.Raw); err != nil {
		return Archived{}, err
	}
	if ch.Relationship != nil {
		if err := tx.PutRelationship(ctx, StoredRelationship(ch.Relationship)); err != nil {
			return Archived{}, err
		}
	}
	entry.Reason = d.Reason
	return Archived{Record: rec, Created: true}, s.appendAllowed(ctx, tx, entry)
}

// reject logs the refusal of a submission and returns err.
//
// A submission is logged as one entry per client and controller it names
// (one entry for the usual submission about one client; one with no
// documents when the door refused it unread), listing the documents it
// named: never an entry per document, so that a submission of very many
// documents cannot flood the log, and each client and controller still
// sees the attempt in its own log.
func (s *Service) reject(ctx context.Context, c Caller, chs []*Checked, err error) error {
	var ae *Error
	if !errors.As(err, &ae) {
		s.logFailure(ctx, "archive operation failed", err, "system", c.System)
		return err
	}
	reason := ae.Message
	if ae.Kind == ErrInvalid && len(ae.Problems) > 0 {
		reason = "invalid document: " + strings.Join(uniq(ae.Problems.Codes()), ", ")
	}
	if len(chs) > 1 {
		reason = fmt.Sprintf("submission of %d documents refused: document %d: %s", len(chs), ae.Index+1, reason)
	}
	type group struct{ client, custodian string }
	var entries []*AccessEntry
	byGroup := map[group]*AccessEntry{}
	for _, ch := range chs {
		one := archiveEntry(c, ch)
		g := group{one.ClientKey, one.Custodian}
		e := byGroup[g]
		if e == nil {
			e = &AccessEntry{Caller: c, Action: ActionArchive, ClientKey: g.client, Custodian: g.custodian, Reason: reason}
			byGroup[g] = e
			entries = append(entries, e)
		}
		e.Documents = append(e.Documents, one.Documents...)
	}
	if len(entries) == 0 {
		entries = []*AccessEntry{{Caller: c, Action: ActionArchive, Reason: reason}}
	}
	return s.refuse(ctx, err, entries...)
}

// replace checks that the parent version may be replaced and supersedes it.
// A parent the caller may not read gets the answer of a parent that does
// not exist, so that a correction cannot probe another register.
func (s *Service) replace(ctx context.Context, tx Tx, c Caller, rec *Record, p *cda.Parent) error {
	missing := errf(ErrConflict, "the replaced document %s is not in the archive", p.ID)
	parent, err := tx.Document(ctx, p.ID)
	if errors.Is(err, ErrNotFound) {
		return missing
	}
	if err != nil {
		return err
	}
	if d := s.policy.Read(ctx, tx, c, parent); !d.Allowed {
		return hidden(missing, parent, "named as the replaced version of a correction: "+d.Reason)
	}
	switch {
	case parent.Header.SetID != rec.Header.SetID:
		return errf(ErrConflict, "the replaced document %s belongs to set %s, not %s", p.ID, parent.Header.SetID, rec.Header.SetID)
	case parent.Header.Version != p.Version || parent.Header.Version != rec.Header.Version-1:
		return errf(ErrConflict, "the replaced document %s is version %d; a replacement of it must be version %d", p.ID, parent.Header.Version, parent.Header.Version+1)
	case parent.ClientKey() != rec.ClientKey():
		return errf(ErrConflict, "a replacement must concern the same client as the version it replaces; archive the document for the right client and nullify the wrong one")
	case parent.ControllerOID() != rec.Header.Custodian.OID || parent.Header.Register.Code != rec.Header.Register.Code:
		return errf(ErrConflict, "a replacement stays in the register of the version it replaces: custodian %s, register %s", parent.ControllerOID(), parent.Header.Register.Code)
	}
	if d := s.policy.Administer(ctx, tx, c, parent); !d.Allowed {
		return &Error{Kind: ErrForbidden, Message: "the replaced version: " + d.Reason}
	}
	ok, err := tx.Supersede(ctx, p.ID, rec.ReceivedAt)
	if err != nil {
		return err
	}
	if !ok {
		return errf(ErrConflict, "version %d of set %s is no longer current (status %s); replace the current version", parent.Header.Version, parent.Header.SetID, parent.Status)
	}
	if ph := parent.Header; ph.DocumentGroup.Code == codes.GroupClientRelationship && ph.ClientRelationshipID != rec.Header.ClientRelationshipID {
		if err := withdrawDefined(ctx, tx, parent); err != nil {
			return err
		}
	}
	return nil
}

// withdrawDefined withdraws the client relationship a client relationship
// document defines, if that version is still what defines it.
func withdrawDefined(ctx context.Context, tx Relationships, r *Record) error {
	rel, err := tx.Relationship(ctx, RelationshipKey{ClientKey: r.ClientKey(), Organiser: r.ControllerOID(), ID: r.Header.ClientRelationshipID})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if rel.Document != r.Header.ID {
		return nil
	}
	return tx.WithdrawRelationship(ctx, rel.Key())
}

// NewRecord is the record Archive would store for a checked document sent
// by c. Tools that fill a store directly (the benchmark's storage
// baseline) use it to store exactly what the archive stores.
func (s *Service) NewRecord(c Caller, ch *Checked) *Record {
	rec := &Record{
		Header:        ch.Doc.Header,
		Status:        StatusCurrent,
		SHA256:        ch.SHA256,
		Size:          int64(len(ch.Raw)),
		ReceivedAt:    s.now().UTC().Truncate(time.Microsecond),
		Submitter:     c,
		DisplayType:   ch.Doc.Body.DisplayMediaType,
		HasStructured: ch.Doc.Body.Structured != nil,
		Source:        ch.Source,
	}
	rec.SocialServices, rec.CaseWorkers = structuredFacts(ch.Doc.Body.Structured)
	for _, r := range ch.Report.Signatures {
		rec.Signatures = append(rec.Signatures, SignatureSummary{
			Index: r.Index, ID: r.ID, Type: r.Type, Timestamp: r.Timestamp, Algorithm: r.Algorithm,
			Form: string(r.Form), SignerID: r.SignerID, SignerName: r.SignerName, CertSHA256: r.CertSHA256,
		})
	}
	return rec
}

// readLogged runs a read in a read-only transaction and then logs it as
// allowed in a write transaction of its own; nothing read is returned
// unless its log entry is durable. Reads run concurrently and only the
// log entry waits for the writer, which commits entries in groups. A
// refusal is logged by refuse.
func (s *Service) readLogged(ctx context.Context, entry *AccessEntry, read func(Tx) error) error {
	return s.readDisclosing(ctx, entry, nil, read)
}

// readLoggedEach is readLogged for a read whose result spans the registers
// of several controllers: entries, called after read, gives the entries to
// log (one per controller, so that each sees the use in its own log), all
// appended in one durable transaction before anything is returned.
func (s *Service) readLoggedEach(ctx context.Context, read func(Tx) error, entries func() []*AccessEntry) error {
	if err := s.store.View(ctx, read); err != nil {
		return err
	}
	es := entries()
	return s.store.Update(ctx, func(tx Tx) error {
		for _, e := range es {
			if err := s.appendAllowed(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// perController splits entry into one entry per controller of docs (ids
// with their controllers, in order), each naming that controller's
// documents; with no documents, entry alone.
func perController(entry *AccessEntry, docs []string, controllers []string) []*AccessEntry {
	if len(docs) == 0 {
		return []*AccessEntry{entry}
	}
	var out []*AccessEntry
	by := map[string]*AccessEntry{}
	for i, id := range docs {
		e := by[controllers[i]]
		if e == nil {
			c := *entry
			c.Custodian, c.Documents = controllers[i], nil
			e = &c
			by[controllers[i]] = e
			out = append(out, e)
		}
		e.Documents = append(e.Documents, id)
	}
	return out
}

// readDisclosing is readLogged for a read that may disclose documents to
// another controller: what read leaves in *disclosed goes into the
// disclosure log in the same durable transaction as the access-log entry,
// before anything is returned.
func (s *Service) readDisclosing(ctx context.Context, entry *AccessEntry, disclosed *[]*Disclosure, read func(Tx) error) error {
	if err := s.store.View(ctx, read); err != nil {
		return err
	}
	if disclosed != nil && len(*disclosed) > 0 {
		return s.store.Update(ctx, func(tx Tx) error {
			if err := s.appendAllowed(ctx, tx, entry); err != nil {
				return err
			}
			for _, d := range *disclosed {
				d.At, d.DisclosedAt = entry.At, entry.At
				if err := tx.AppendDisclosure(ctx, d); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if la, ok := s.store.(AccessAppender); ok {
		entry.Outcome, entry.At = OutcomeAllowed, s.now().UTC()
		return la.AppendAccessEntry(ctx, entry)
	}
	return s.store.Update(ctx, func(tx Tx) error { return s.appendAllowed(ctx, tx, entry) })
}

// disclosed groups the disclosed records of one read into disclosure-log
// entries: one per disclosing controller and ground.
func disclosed(c Caller, recs []*Record, grounds []*DisclosureGround) []*Disclosure {
	var out []*Disclosure
	byKey := map[[3]string]*Disclosure{}
	for i, r := range recs {
		g := grounds[i]
		k := [3]string{r.ControllerOID(), g.Kind, g.Ground}
		d := byKey[k]
		if d == nil {
			d = &Disclosure{Source: SourceArchive, ClientKey: r.ClientKey(), Discloser: r.ControllerOID(), Recipient: c.Organisation,
				Caller: c, GroundKind: g.Kind, Ground: g.Ground}
			byKey[k] = d
			out = append(out, d)
		}
		dd := DisclosedDocument{ID: r.Header.ID, SetID: r.Header.SetID, GeneralType: r.Header.GeneralType.Code, SpecificType: r.Header.SpecificType.Code}
		if r.Header.ServiceTask.Code != "" {
			dd.ServiceTasks = []string{r.Header.ServiceTask.Code}
		}
		d.Documents = append(d.Documents, dd)
	}
	return out
}

func (s *Service) appendAllowed(ctx context.Context, tx AccessLog, e *AccessEntry) error {
	e.Outcome = OutcomeAllowed
	e.At = s.now().UTC()
	return tx.AppendAccess(ctx, e)
}

// refuseLogTimeout bounds writing a refusal's log entries.
const refuseLogTimeout = 30 * time.Second

// refuse logs refused actions in their own transaction and returns err.
// The refusal is logged even though the change was rolled back, and even
// when the caller has gone away meanwhile: a prober that disconnects at
// once must not escape the log. If even that fails, the caller gets the
// logging failure (fail closed).
func (s *Service) refuse(ctx context.Context, err error, entries ...*AccessEntry) error {
	var ae *Error
	if !errors.As(err, &ae) {
		// An internal failure, not a refusal: nothing to tell the client.
		s.logFailure(ctx, "archive operation failed", err, "action", entries[0].Action, "system", entries[0].Caller.System)
		return err
	}
	for _, p := range ae.probed {
		// The controller of a probed version sees the attempt in its log.
		entries = append(entries, &AccessEntry{Caller: entries[0].Caller, Action: entries[0].Action, ClientKey: p.clientKey,
			Custodian: p.controller, Documents: []string{p.doc}, Reason: p.reason})
	}
	now := s.now().UTC()
	for _, e := range entries {
		if e.Reason == "" {
			e.Reason = ae.Message
		}
		e.Outcome, e.At = OutcomeRefused, now
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refuseLogTimeout)
	defer cancel()
	lerr := s.store.Update(lctx, func(tx Tx) error {
		for _, e := range entries {
			if err := tx.AppendAccess(lctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if lerr != nil {
		s.log.ErrorContext(ctx, "cannot log a refusal", "action", entries[0].Action, "err", lerr)
		return lerr
	}
	s.log.InfoContext(ctx, "refused", "action", entries[0].Action, "system", entries[0].Caller.System, "kind", ae.Kind.Error())
	return err
}

// logFailure logs an internal failure for the operator: an ERROR, unless
// the client went away (its request's context is canceled), which is no
// fault of the archive's and is only noted.
func (s *Service) logFailure(ctx context.Context, msg string, err error, args ...any) {
	if errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled) {
		s.log.InfoContext(ctx, msg+": the client went away", args...)
		return
	}
	s.log.ErrorContext(ctx, msg, append(args, "err", err)...)
}

func uniq(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Get returns a version's record and its exact bytes once the read is
// durably logged.
func (s *Service) Get(ctx context.Context, c Caller, id string) (*Record, []byte, error) {
	if err := c.check(); err != nil {
		return nil, nil, err
	}
	rec, content, err := s.get(ctx, c, id, true)
	return rec, content, err
}

// Metadata returns a version's record without its content, logged as a read.
func (s *Service) Metadata(ctx context.Context, c Caller, id string) (*Record, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	rec, _, err := s.get(ctx, c, id, false)
	return rec, err
}

// readable returns the version with the id if the caller may read it,
// filling in the entry's client and controller. A version the caller may
// not read gets exactly the answer for one that does not exist, and the
// grounds go to the controller's log (entry.Reason).
func (s *Service) readable(ctx context.Context, tx Tx, c Caller, id string, entry *AccessEntry) (*Record, Decision, error) {
	ptx := &onceOrgTx{PolicyTx: tx}
	if d := s.policy.Caller(ctx, ptx, c); !d.Allowed {
		return nil, d, &Error{Kind: ErrForbidden, Message: d.Reason}
	}
	r, err := tx.Document(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, Decision{}, errf(ErrNotFound, "no document %s", id)
	}
	if err != nil {
		return nil, Decision{}, err
	}
	entry.ClientKey, entry.Custodian = r.ClientKey(), r.ControllerOID()
	d := s.policy.Read(ctx, ptx, c, r)
	if !d.Allowed {
		entry.Reason = d.Reason
		return nil, d, errf(ErrNotFound, "no document %s", id)
	}
	return r, d, nil
}

func (s *Service) get(ctx context.Context, c Caller, id string, withContent bool) (*Record, []byte, error) {
	entry := &AccessEntry{Caller: c, Action: ActionRead, Documents: []string{id}}
	if !withContent {
		entry.Details = "metadata"
	}
	var rec *Record
	var content []byte
	var disc []*Disclosure
	err := s.readDisclosing(ctx, entry, &disc, func(tx Tx) error {
		disc = nil
		r, d, err := s.readable(ctx, tx, c, id, entry)
		if err != nil {
			return err
		}
		if withContent {
			if content, err = tx.Content(ctx, r); err != nil {
				return err
			}
		}
		rec = r
		entry.Reason = d.Reason
		if d.Disclosure != nil {
			disc = disclosed(c, []*Record{r}, []*DisclosureGround{d.Disclosure})
		}
		return nil
	})
	if err != nil {
		return nil, nil, s.refuse(ctx, err, entry)
	}
	return rec, content, nil
}

// Search finds documents the caller may see, newest first, with cursor paging.
func (s *Service) Search(ctx context.Context, c Caller, q Query) (*Page, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 500 {
		q.Limit = 500
	}
	for _, st := range q.Statuses {
		if !st.Valid() {
			return nil, &Error{Kind: ErrInvalid, Message: "unknown status", Problems: problem.List{{Code: "QUERY_STATUS", Path: "status", Message: "status must be current, superseded or nullified, is " + string(st)}}}
		}
	}
	key, err := s.cursorKey(ctx)
	if err != nil {
		return nil, err
	}
	query := q
	if q.Cursor != "" {
		raw, ok := openCursor(key, c, q, q.Cursor)
		if !ok {
			return nil, &Error{Kind: ErrInvalid, Message: "bad cursor", Problems: problem.List{{Code: "QUERY_CURSOR", Path: "cursor", Message: "the paging cursor is not one this archive issued to this caller for this search"}}}
		}
		q.Cursor = raw
	}
	entry := &AccessEntry{Caller: c, Action: ActionSearch, ClientKey: q.ClientKey, Details: q.describe()}
	page := &Page{}
	var disc []*Disclosure
	err = s.readDisclosing(ctx, entry, &disc, func(tx Tx) error {
		page.Records, page.Next, disc = nil, "", nil
		if q.PatientID != "" {
			key, err := tx.PatientClient(ctx, q.PatientID)
			if errors.Is(err, ErrNotFound) {
				// An id the archive never gave: no client, nothing found.
				entry.Reason = "no client has the Patient id"
				return nil
			}
			if err != nil {
				return err
			}
			q.ClientKey, entry.ClientKey = key, key
		}
		scope, d := s.policy.Scope(ctx, tx, c, q.ClientKey)
		if !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		if len(scope.Controllers) == 1 && len(scope.Grants) == 0 && scope.Disclosure == nil {
			entry.Custodian = scope.Controllers[0]
		}
		var recs []*Record
		var err error
		if !q.CountOnly { // a count discloses no document
			if recs, err = tx.Search(ctx, q, scope); err != nil {
				return err
			}
		}
		if q.Cursor == "" && !q.CountOnly && len(recs) <= q.Limit {
			// The first page holds every match (the store returns one
			// more than the limit when there are more): no second
			// statement to count them.
			page.Total = len(recs)
		} else if page.Total, err = tx.SearchCount(ctx, q, scope); err != nil {
			return err
		}
		if len(recs) > q.Limit {
			last := recs[q.Limit-1]
			page.Next = sealCursor(key, c, query, EncodeCursor(last.Header.EffectiveTime, last.Header.ID))
			recs = recs[:q.Limit]
		}
		// Each record is checked against the scope again, so that a store
		// that applied it wrongly cannot leak anything.
		entry.Documents = nil
		var out []*Record
		var grounds []*DisclosureGround
		for _, r := range recs {
			switch {
			case scope.Own(r):
			case scope.Disclosure != nil:
				cd := scope.Disclosure.Decide(r)
				if !cd.Allowed {
					return errors.New("search returned a document outside the caller's scope")
				}
				out = append(out, r)
				grounds = append(grounds, groundOf(scope.Disclosure.Request, cd))
			default:
				return errors.New("search returned a document outside the caller's scope")
			}
			entry.Documents = append(entry.Documents, r.Header.ID)
		}
		disc = disclosed(c, out, grounds)
		page.Records = recs
		entry.Reason = d.Reason
		return nil
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return page, nil
}

// History returns every version of a document set the caller may read,
// oldest first.
func (s *Service) History(ctx context.Context, c Caller, setID string) ([]*Record, error) {
	return s.history(ctx, c, "set "+setID, errf(ErrNotFound, "no document set %s", setID), func(Tx) (string, string, error) { return setID, "", nil })
}

// Versions returns every version the caller may read of the set a
// document belongs to.
func (s *Service) Versions(ctx context.Context, c Caller, docID string) ([]*Record, error) {
	missing := errf(ErrNotFound, "no document %s", docID)
	return s.history(ctx, c, "versions of "+docID, missing, func(tx Tx) (string, string, error) {
		r, err := tx.Document(ctx, docID)
		if errors.Is(err, ErrNotFound) {
			return "", "", missing
		}
		if err != nil {
			return "", "", err
		}
		return r.Header.SetID, docID, nil
	})
}

// history returns the versions of a set that the caller may read. Versions
// it may not read are left out; when it may read none (or not the version
// it named), the answer is missing, exactly as for a set that does not
// exist, and the grounds go to the controller's log.
func (s *Service) history(ctx context.Context, c Caller, details string, missing *Error, setOf func(Tx) (setID, named string, err error)) ([]*Record, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	entry := &AccessEntry{Caller: c, Action: ActionHistory, Details: details}
	var out []*Record
	var disc []*Disclosure
	err := s.readDisclosing(ctx, entry, &disc, func(tx Tx) error {
		out, entry.Documents, disc = nil, nil, nil
		if d := s.policy.Caller(ctx, tx, c); !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		setID, named, err := setOf(tx)
		if err != nil {
			return err
		}
		recs, err := tx.Versions(ctx, setID)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return missing
		}
		last := recs[len(recs)-1]
		entry.ClientKey, entry.Custodian = last.ClientKey(), last.ControllerOID()
		var allowed, refused string
		namedOK := named == ""
		var dr []*Record
		var grounds []*DisclosureGround
		for _, r := range recs {
			d := s.policy.Read(ctx, tx, c, r)
			if !d.Allowed {
				refused = d.Reason
				continue
			}
			allowed = d.Reason
			namedOK = namedOK || r.Header.ID == named
			out = append(out, r)
			entry.Documents = append(entry.Documents, r.Header.ID)
			if d.Disclosure != nil {
				dr, grounds = append(dr, r), append(grounds, d.Disclosure)
			}
		}
		disc = disclosed(c, dr, grounds)
		if len(out) == 0 || !namedOK {
			out, entry.Documents, disc = nil, []string{last.Header.ID}, nil
			if named != "" {
				entry.Documents = []string{named}
			}
			entry.Reason = refused
			return missing
		}
		entry.Reason = allowed
		return nil
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return out, nil
}

// Nullify marks a version invalid with a reason. It stays in the archive,
// visible to its controller and in the logs, and is never disclosed. A
// nullified version cannot be replaced: the set ends with it.
func (s *Service) Nullify(ctx context.Context, c Caller, id, reasonCode, reasonText string) (*Record, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	entry := &AccessEntry{Caller: c, Action: ActionNullify, Documents: []string{id}}
	var probs problem.List
	if strings.TrimSpace(reasonCode) == "" {
		probs.Add("NULLIFY_REASON", "reason.code", "a nullification needs a reason code")
	}
	if strings.TrimSpace(reasonText) == "" {
		probs.Add("NULLIFY_REASON", "reason.text", "a nullification needs a reason in words")
	}
	if len(reasonText) > 2000 || len(reasonCode) > 64 {
		probs.Add("NULLIFY_REASON", "reason", "the reason code is at most 64 and the text at most 2000 characters")
	}
	if len(probs) > 0 {
		return nil, s.refuse(ctx, &Error{Kind: ErrInvalid, Message: "a nullification needs a reason", Problems: probs}, entry)
	}
	var out *Record
	err := s.store.Update(ctx, func(tx Tx) error {
		r, _, err := s.readable(ctx, tx, c, id, entry)
		if err != nil {
			return err
		}
		d := s.policy.Administer(ctx, tx, c, r)
		if !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		n := Nullification{ReasonCode: reasonCode, ReasonText: reasonText, By: c, At: s.now().UTC().Truncate(time.Microsecond)}
		ok, err := tx.Nullify(ctx, id, n)
		if err != nil {
			return err
		}
		if !ok {
			return errf(ErrConflict, "document %s is already nullified", id)
		}
		if r.Header.DocumentGroup.Code == codes.GroupClientRelationship {
			// A nullified client relationship document withdraws what it granted.
			if err := withdrawDefined(ctx, tx, r); err != nil {
				return err
			}
		}
		r.Status, r.Nullification = StatusNullified, &n
		out = r
		entry.Reason = d.Reason
		entry.Details = "reason " + reasonCode
		return s.appendAllowed(ctx, tx, entry)
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	s.log.InfoContext(ctx, "nullified", "doc", id, "system", c.System)
	return out, nil
}

// AccessLog returns access-log entries about one client that the
// caller's organisation may see: those about its own register and those
// its own systems made. Reading the log is itself logged. limit defaults
// to 100 and is at most 501: a page of 500 plus one that tells a door
// whether a next page exists.
func (s *Service) AccessLog(ctx context.Context, c Caller, clientKey string, limit int, before int64) ([]*AccessEntry, error) {
	if clientKey == "" {
		// An empty client would read every client's entries: that is the
		// controller's own log of a period (OwnAccessLog).
		return nil, &Error{Kind: ErrInvalid, Message: "the access log is read one client at a time", Problems: problem.List{{Code: "QUERY_CLIENT", Path: "client", Message: "name the client whose log to read"}}}
	}
	return s.accessLog(ctx, c, AccessLogQuery{ClientKey: clientKey, Limit: limit, Before: before})
}

// ClientAccessLog is AccessLog bounded to entries logged in [from, to);
// a zero end is open.
func (s *Service) ClientAccessLog(ctx context.Context, c Caller, clientKey string, from, to time.Time, limit int, before int64) ([]*AccessEntry, error) {
	if clientKey == "" {
		return s.OwnAccessLog(ctx, c, from, to, limit, before)
	}
	return s.accessLog(ctx, c, AccessLogQuery{ClientKey: clientKey, From: from, To: to, Limit: limit, Before: before})
}

// OwnAccessLog returns the entries of every client that the caller's
// organisation may see, logged in [from, to): the controller's own log of
// a period, as for a data protection officer. Both ends are required, so
// that no read is unbounded.
func (s *Service) OwnAccessLog(ctx context.Context, c Caller, from, to time.Time, limit int, before int64) ([]*AccessEntry, error) {
	if from.IsZero() || to.IsZero() || !to.After(from) {
		return nil, &Error{Kind: ErrInvalid, Message: "the controller's log is read for a period", Problems: problem.List{{Code: "QUERY_DATE", Path: "date", Message: "name the period: a first and a last day, the last after the first"}}}
	}
	return s.accessLog(ctx, c, AccessLogQuery{From: from, To: to, Limit: limit, Before: before})
}

// SearchAccessLog returns the entries the caller's organisation may see
// (as AccessLog) that q's filters select (IHE BALP audit search): of one
// client, named by q.ClientKey or by its FHIR Patient id (patientID), or of
// a period (q.From and q.To both), newest first. An unknown Patient id
// finds nothing.
func (s *Service) SearchAccessLog(ctx context.Context, c Caller, q AccessLogQuery, patientID string) ([]*AccessEntry, error) {
	if q.ClientKey == "" && patientID == "" && (q.From.IsZero() || q.To.IsZero() || !q.To.After(q.From)) {
		return nil, &Error{Kind: ErrInvalid, Message: "the controller's log is read for a client or a period", Problems: problem.List{{Code: "QUERY_DATE", Path: "date",
			Message: "name the client, or the period: a first and a last day, the last after the first"}}}
	}
	q.ID = 0
	return s.accessLogOf(ctx, c, q, patientID)
}

// AccessEntry returns the entry id if the caller's organisation may see
// it (as AccessLog), and otherwise the answer of one that does not exist.
// Reading it is logged as a read of its client's log.
func (s *Service) AccessEntry(ctx context.Context, c Caller, id int64) (*AccessEntry, error) {
	if id < 1 {
		return nil, &Error{Kind: ErrNotFound, Message: "no such access-log entry"}
	}
	out, err := s.accessLogOf(ctx, c, AccessLogQuery{ID: id, Limit: 1}, "")
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func (s *Service) accessLog(ctx context.Context, c Caller, q AccessLogQuery) ([]*AccessEntry, error) {
	return s.accessLogOf(ctx, c, q, "")
}

// accessLogOf reads the log for accessLog, SearchAccessLog and
// AccessEntry: q, with the client named by its Patient id when patientID
// is given, or the one entry q.ID.
func (s *Service) accessLogOf(ctx context.Context, c Caller, q AccessLogQuery, patientID string) ([]*AccessEntry, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if q.Limit > 501 {
		q.Limit = 501
	}
	entry := &AccessEntry{Caller: c, Action: ActionLogRead, ClientKey: q.ClientKey, Custodian: c.Organisation}
	switch {
	case q.ID > 0:
		entry.Details = "entry " + strconv.FormatInt(q.ID, 10)
	case q.ClientKey == "" && patientID == "":
		entry.Details = "period " + q.From.UTC().Format(time.RFC3339) + " to " + q.To.UTC().Format(time.RFC3339)
	}
	var out []*AccessEntry
	err := s.readLogged(ctx, entry, func(tx Tx) error {
		out = nil
		// The purpose of use must be acceptable to read the log at all.
		if _, d := s.policy.Scope(ctx, tx, c, ""); !d.Allowed {
			return &Error{Kind: ErrForbidden, Message: d.Reason}
		}
		if patientID != "" {
			key, err := tx.PatientClient(ctx, patientID)
			if errors.Is(err, ErrNotFound) {
				entry.Reason = "no client has the Patient id"
				return nil
			}
			if err != nil {
				return err
			}
			q.ClientKey, entry.ClientKey = key, key
		}
		preds, err := predecessors(ctx, tx, c.Organisation)
		if err != nil {
			return err
		}
		q.Organisation, q.Predecessors = c.Organisation, preds
		if out, err = tx.AccessLog(ctx, q); err != nil {
			return err
		}
		if q.ID > 0 {
			if len(out) == 0 {
				return &Error{Kind: ErrNotFound, Message: "no such access-log entry"}
			}
			entry.ClientKey = out[0].ClientKey
		}
		entry.Reason = "the controller's own access log"
		return nil
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return out, nil
}

// predecessors are the controllers whose registers were transferred to
// the organisation, directly or through earlier transfers: the log of
// what was done with those registers belongs to it now.
func predecessors(ctx context.Context, tx Registers, org string) ([]Predecessor, error) {
	all, err := tx.Transfers(ctx)
	if err != nil {
		return nil, err
	}
	var out []Predecessor
	seen := map[string]bool{org: true}
	for frontier := []string{org}; len(frontier) > 0; {
		to := frontier[0]
		frontier = frontier[1:]
		for _, t := range all {
			if t.To != to || seen[t.From] {
				continue
			}
			seen[t.From] = true
			p := Predecessor{Controller: t.From}
			if t.FinishedAt != nil {
				p.Until = *t.FinishedAt
			}
			out = append(out, p)
			frontier = append(frontier, t.From)
		}
	}
	return out, nil
}

// Rule codes of register checks.
const (
	RuleOrgUnknown          = "ORG_UNKNOWN"
	RuleRegisterUnknown     = "REGISTER_UNKNOWN"
	RuleRegisterTransferred = "REGISTER_TRANSFERRED"
)

// checkRegister refuses a document whose custodian or register the archive
// does not hold: the register is named by the custodian and the register type.
func checkRegister(ctx context.Context, tx interface {
	Organisation(ctx context.Context, oid string) (*Organisation, error)
	Register(ctx context.Context, controller, typ string) (*Register, error)
}, h *cda.Header) error {
	refuse := func(code, path, format string, args ...any) error {
		var p problem.List
		p.Add(code, path, format, args...)
		return &Error{Kind: ErrInvalid, Message: "the document's register is not one the archive holds", Problems: p}
	}
	const custodianPath = "/ClinicalDocument/custodian/assignedCustodian/representedCustodianOrganization/id/@root"
	if _, err := tx.Organisation(ctx, h.Custodian.OID); errors.Is(err, ErrNotFound) {
		return refuse(RuleOrgUnknown, custodianPath, "the custodian %s is not an onboarded organisation", h.Custodian.OID)
	} else if err != nil {
		return err
	}
	reg, err := tx.Register(ctx, h.Custodian.OID, h.Register.Code)
	if errors.Is(err, ErrNotFound) {
		return refuse(RuleRegisterUnknown, "/ClinicalDocument/hl7fi:localSocialHeader/hl7fi:registryType/@code", "the custodian %s has no register of type %s in the archive", h.Custodian.OID, h.Register.Code)
	}
	if err != nil {
		return err
	}
	if reg.TransferredTo != "" {
		when := ""
		if reg.TransferredAt != nil {
			when = " on " + reg.TransferredAt.Format("2006-01-02")
		}
		return refuse(RuleRegisterTransferred, custodianPath, "register %s of %s was transferred to %s%s: archive into %s's register", h.Register.Code, h.Custodian.OID, reg.TransferredTo, when, reg.TransferredTo)
	}
	return nil
}

// StoredRelationship turns what a client relationship document says into
// the relationship and grants the archive keeps. A provider of the
// organiser's own organisation needs no grant.
func StoredRelationship(r *relationship.Relationship) *Relationship {
	out := &Relationship{ClientKey: r.ClientKey, ID: r.ID, Organiser: r.Organiser, Start: r.Period.Start.Time, End: r.Period.End.Time, Document: r.Document, Stated: r}
	own := oid.Organisation(r.Organiser)
	for _, t := range r.Tasks {
		for _, p := range t.Providers {
			if p.Organisation == "" || p.Organisation == own {
				continue
			}
			g := Grant{ClientKey: r.ClientKey, RelationshipID: r.ID, Organiser: r.Organiser, Provider: p.Organisation, Unit: p.Unit.OID, ServiceTask: t.Code,
				Start: p.Unit.Period.Start.Time, End: p.Unit.Period.End.Time}
			if g.Start.IsZero() || (!r.Period.Start.IsZero() && g.Start.Before(r.Period.Start.Time)) {
				g.Start = r.Period.Start.Time
			}
			if !r.Period.End.IsZero() && (g.End.IsZero() || g.End.After(r.Period.End.Time)) {
				g.End = r.Period.End.Time
			}
			out.Grants = append(out.Grants, g)
		}
	}
	return out
}

// Onboard adds an organisation with registers of the given types (the
// social welfare client register when none are given).
func Onboard(ctx context.Context, tx interface {
	Organisations
	Registers
}, o *Organisation, registerTypes ...string) error {
	if err := tx.PutOrganisation(ctx, o); err != nil {
		return err
	}
	if len(registerTypes) == 0 {
		registerTypes = []string{codes.RegisterSocialWelfareClient}
	}
	for _, t := range registerTypes {
		if _, err := tx.Register(ctx, o.OID, t); err == nil {
			continue
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := tx.PutRegister(ctx, &Register{Controller: o.OID, Type: t}); err != nil {
			return err
		}
	}
	return nil
}
