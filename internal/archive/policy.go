package archive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/oid"
)

// Decision is an access decision with its grounds, which go into the log.
type Decision struct {
	Allowed bool
	Reason  string
	// Disclosure is set when an allowed read is a disclosure to another
	// controller: its ground (consent or broad search) goes into the
	// disclosure log.
	Disclosure *DisclosureGround
}

// DisclosureGround is why a document was disclosed: a consent (Ground is
// its id) or a broad search (Ground is the justification, code: text).
type DisclosureGround struct {
	Kind   string
	Ground string
}

// groundOf is the ground of an allowed consent decision.
func groundOf(r consent.Request, d consent.Decision) *DisclosureGround {
	if r.Purpose == consent.PurposeBroadSearch {
		return &DisclosureGround{Kind: GroundBroadSearch, Ground: d.Ground}
	}
	return &DisclosureGround{Kind: GroundConsent, Ground: d.Ground}
}

func allow(format string, args ...any) Decision {
	return Decision{Allowed: true, Reason: fmt.Sprintf(format, args...)}
}

func deny(format string, args ...any) Decision {
	return Decision{Allowed: false, Reason: fmt.Sprintf(format, args...)}
}

// PolicyTx is all an access decision reads: organisations, client
// relationships with the grants they make, clients' will expressions, and
// who are archivists of which controllers.
type PolicyTx interface {
	Organisation(ctx context.Context, oid string) (*Organisation, error)
	Grants(ctx context.Context, clientKey, provider string) ([]Grant, error)
	ClientRelationships(ctx context.Context, clientKey string) ([]*Relationship, error)
	Wills(ctx context.Context, clientKey string) ([]*consent.Expression, error)
	Archivists(ctx context.Context) ([]*Archivist, error)
	Guardianships(ctx context.Context, q GuardianshipQuery) ([]*Guardianship, error)
}

// Policy is the one place that decides who may do what. Every operation of
// the Service asks it; doors never decide. docs/access-rules.md states its
// rules and the tests that prove them.
type Policy interface {
	// Caller decides whether the caller may act at all, whatever it asks:
	// a refusal here tells nothing of any document.
	Caller(ctx context.Context, tx PolicyTx, c Caller) Decision
	// Write decides whether the caller may archive a document with this
	// header (a new document or a replacement) into the register it names.
	Write(ctx context.Context, tx PolicyTx, c Caller, h *cda.Header) Decision
	// Read decides whether the caller may use an archived version.
	Read(ctx context.Context, tx PolicyTx, c Caller, r *Record) Decision
	// Administer decides whether the caller may change an archived
	// version's state: replace it with a correction or nullify it.
	Administer(ctx context.Context, tx PolicyTx, c Caller, r *Record) Decision
	// Scope says which documents a search by the caller may return; with
	// a client key, it includes that client's documents the caller may use
	// under register access rights.
	Scope(ctx context.Context, tx PolicyTx, c Caller, clientKey string) (Scope, Decision)
	// Will decides whether the caller may record and read a client's will
	// expressions and the client's disclosure log.
	Will(ctx context.Context, tx PolicyTx, c Caller, clientKey string) Decision
}

// Rules is the archive's access policy:
//
//   - The caller's organisation must be onboarded and active, and its
//     purpose of use the controller's own use of its register (usage
//     situation 1); disclosure to others comes with consents.
//   - A controller uses its own register: documents whose controller (the
//     custodian, or the new controller after a register transfer) is the
//     caller's organisation.
//   - A document produced by a provider for an organiser (outsourcing,
//     service vouchers) belongs to the organiser's register: custodian and
//     outsourcingServiceCustomer must agree.
//   - A service provider named in a client relationship document has a
//     register access right: it may archive into and read from the
//     organiser's register for that client only, for the service tasks it
//     is named for, within its period. Only the organiser archives client
//     relationship documents; nullified documents are never disclosed to a
//     provider.
//   - Correcting and nullifying is administering the register: the
//     controller (the register's current controller, after a transfer the
//     new one) administers every version in it; a provider with a register
//     access right corrects and nullifies only versions it archived itself.
//   - A client (purpose PurposeCitizen, through the citizen view) acts for
//     themself: reads only their own documents that CitizenVisible shows,
//     sees and records only their own will expressions and logs, archives,
//     searches and administers nothing.
//   - A guardian (purpose PurposeGuardian, through the citizen view) acts
//     for a minor whose guardianship is in force now, checked on every
//     request: reads only the child's documents that CitizenVisible shows
//     and whose guardian disclosure code (1.2.246.537.6.1286.201901) is 1,
//     sees the child's will expressions and logs, records the notice and
//     consents as the child's legal representative, never prohibitions
//     (consent.RuleGuardian).
//   - An archivist (purpose PurposeArchivist) acts for a controller it is
//     an archivist of, in that controller's registers only: never under
//     the controller's register access rights in others' registers, never
//     by disclosure; it archives nothing and sees no will expressions. It
//     nullifies versions in those registers (not others', not as a
//     provider), and corrects nothing: a correction is archiving.
type Rules struct {
	// Now returns the time decisions are made at; default time.Now.
	Now func() time.Time
	// CitizenHidden are the categories the citizen view never shows.
	CitizenHidden CitizenHidden
}

func (p Rules) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// caller checks what every decision needs first.
func (p Rules) caller(ctx context.Context, tx PolicyTx, c Caller) (Decision, bool) {
	switch c.Purpose {
	case PurposeOwnRegister, PurposeDisclosure:
	case PurposeBroadSearch:
		if why := consent.CheckJustification(justification(c)); why != "" {
			return deny("%s", why), false
		}
	case PurposeArchivist:
		if d, ok := p.archivist(ctx, tx, c); !ok {
			return d, false
		}
	case PurposeCitizen:
		// A client acts for themself, for no organisation.
		if err := c.checkCitizen(); err != nil {
			return deny("%s", err.(*Error).Message), false
		}
		return Decision{}, true
	case PurposeGuardian:
		// A guardian acts for a minor, for no organisation, while the
		// guardianship is in force.
		if err := c.checkCitizen(); err != nil {
			return deny("%s", err.(*Error).Message), false
		}
		return guardianOf(ctx, tx, c, p.now())
	default:
		return deny("purpose %q is not one the archive knows: %s (use of the own register, usage situation %s), %s, %s, %s, %s or %s", c.Purpose, PurposeOwnRegister, codes.OIDUsageSituation, PurposeDisclosure, PurposeBroadSearch, PurposeArchivist, PurposeCitizen, PurposeGuardian), false
	}
	o, err := tx.Organisation(ctx, c.Organisation)
	if errors.Is(err, ErrNotFound) {
		return deny("organisation %s is not onboarded", c.Organisation), false
	}
	if err != nil {
		return deny("the caller's organisation cannot be checked now"), false
	}
	if !o.ActiveAt(p.now()) {
		return deny("organisation %s is not active", c.Organisation), false
	}
	return Decision{}, true
}

// archivist checks that the acting person is an archivist of the caller's
// organisation.
func (p Rules) archivist(ctx context.Context, tx PolicyTx, c Caller) (Decision, bool) {
	if c.Person == "" {
		return deny("an archivist's use needs the acting person"), false
	}
	as, err := tx.Archivists(ctx)
	if err != nil {
		return deny("the archivists cannot be checked now"), false
	}
	for _, a := range as {
		if a.Person == c.Person && a.Controller == c.Organisation {
			return Decision{}, true
		}
	}
	return deny("person %s is not an archivist of %s", c.Person, c.Organisation), false
}

// grants returns the caller's active register access rights for a client
// in the organiser's register.
func (p Rules) grants(ctx context.Context, tx PolicyTx, c Caller, clientKey, organiser string) ([]Grant, error) {
	provider := oid.Organisation(c.Organisation)
	if provider == "" || clientKey == "" {
		return nil, nil
	}
	all, err := tx.Grants(ctx, clientKey, provider)
	if err != nil {
		return nil, err
	}
	now := p.now()
	var out []Grant
	for _, g := range all {
		if (organiser == "" || g.Organiser == organiser) && g.ActiveOn(now) && g.Organiser != c.Organisation {
			out = append(out, g)
		}
	}
	return out, nil
}

func (p Rules) Caller(ctx context.Context, tx PolicyTx, c Caller) Decision {
	if d, ok := p.caller(ctx, tx, c); !ok {
		return d
	}
	if c.Purpose == PurposeCitizen {
		return allow("the client's own use through the citizen view")
	}
	if c.Purpose == PurposeGuardian {
		return allow("a guardian's use for a minor through the citizen view; the guardianship is in force")
	}
	return allow("the caller's organisation %s is onboarded and active", c.Organisation)
}

func (p Rules) Write(ctx context.Context, tx PolicyTx, c Caller, h *cda.Header) Decision {
	if d, ok := p.caller(ctx, tx, c); !ok {
		return d
	}
	if c.Purpose != PurposeOwnRegister {
		return deny("archiving is use of a register: purpose %s, not %s", PurposeOwnRegister, c.Purpose)
	}
	if h.Organiser.OID != "" && h.Organiser.OID != h.Custodian.OID {
		return deny("the document was produced for the service organiser %s (outsourcingServiceCustomer): it belongs in that organiser's register — custodian %s, register %s — not in %s's",
			h.Organiser.OID, h.Organiser.OID, h.Register.Code, h.Custodian.OID)
	}
	if h.Custodian.OID == c.Organisation {
		return allow("own register: the caller's organisation %s is the custodian", c.Organisation)
	}
	if h.DocumentGroup.Code == codes.GroupClientRelationship {
		return deny("only the organiser %s archives client relationship documents in its register", h.Custodian.OID)
	}
	gs, err := p.grants(ctx, tx, c, ClientKey(h.Client.ID), h.Custodian.OID)
	if err != nil {
		return deny("register access rights cannot be checked now")
	}
	for _, g := range gs {
		if g.ServiceTask == h.ServiceTask.Code {
			return allow("register access right: provider named in client relationship %s of organiser %s for service task %s", g.RelationshipID, g.Organiser, g.ServiceTask)
		}
	}
	return deny("the caller's organisation %s has no register access right to %s's register for this client and service task %s", c.Organisation, h.Custodian.OID, h.ServiceTask.Code)
}

func (p Rules) Read(ctx context.Context, tx PolicyTx, c Caller, r *Record) Decision {
	if d, ok := p.caller(ctx, tx, c); !ok {
		return d
	}
	if c.Purpose == PurposeCitizen {
		if ok, why := CitizenVisible(r, CitizenKey(c), p.CitizenHidden, p.now()); !ok {
			return deny("%s", why)
		}
		return allow("the client's own document in the citizen view")
	}
	if c.Purpose == PurposeGuardian {
		if ok, why := CitizenVisible(r, CitizenKey(c), p.CitizenHidden, p.now()); !ok {
			return deny("%s", why)
		}
		if r.Header.GuardianDisclosure.Code != GuardianDisclosureAllowed {
			return deny("the document does not allow disclosure to guardians (%s code %s)", codes.OIDGuardianDisclosure, GuardianDisclosureAllowed)
		}
		return allow("the minor's document, which allows disclosure to guardians, to a guardian in the citizen view")
	}
	controller := r.ControllerOID()
	if controller == c.Organisation {
		return allow("own register: the caller's organisation %s is the controller", c.Organisation)
	}
	if c.Purpose == PurposeArchivist {
		return deny("the document is in %s's register; an archivist of %s sees only its registers", controller, c.Organisation)
	}
	if r.Status == StatusNullified {
		return deny("a nullified document is not disclosed outside its controller %s", controller)
	}
	gs, err := p.grants(ctx, tx, c, r.ClientKey(), controller)
	if err != nil {
		return deny("register access rights cannot be checked now")
	}
	h := &r.Header
	for _, g := range gs {
		if g.ServiceTask == h.ServiceTask.Code && h.ServiceTask.Code != "" {
			return allow("register access right: provider named in client relationship %s of organiser %s for service task %s", g.RelationshipID, g.Organiser, g.ServiceTask)
		}
		if h.DocumentGroup.Code == codes.GroupClientRelationship && h.ClientRelationshipID == g.RelationshipID {
			return allow("register access right: provider named in this client relationship document %s", g.RelationshipID)
		}
	}
	if c.Purpose == PurposeDisclosure || c.Purpose == PurposeBroadSearch {
		return p.disclose(ctx, tx, c, r)
	}
	return deny("the document is in %s's register, and the caller's organisation %s has no register access right to it", controller, c.Organisation)
}

// disclose decides whether another controller's document may be disclosed
// to the caller, under the client's will in force now.
func (p Rules) disclose(ctx context.Context, tx PolicyTx, c Caller, r *Record) Decision {
	st, req, err := p.disclosureRequest(ctx, tx, c, r.ClientKey())
	if err != nil {
		return deny("the client's will expressions cannot be checked now")
	}
	cd := consent.Decide(st, req, ConsentDocument(r))
	if !cd.Allowed {
		return deny("not disclosed: %s", cd.Reason)
	}
	return Decision{Allowed: true, Reason: cd.Reason, Disclosure: groundOf(req, cd)}
}

// justification is a broad search's justification as the caller states it.
func justification(c Caller) consent.Justification {
	return consent.Justification{Code: c.Justification, Text: c.JustificationText}
}

// disclosureRequest is the client's will in force now and the caller's
// request: whether its organisation has an active client relationship
// with the client (a current client relationship document in its own
// register).
func (p Rules) disclosureRequest(ctx context.Context, tx PolicyTx, c Caller, clientKey string) (consent.State, consent.Request, error) {
	req := consent.Request{Recipient: c.Organisation, Purpose: consent.Purpose(c.Purpose), Justification: justification(c)}
	now := p.now()
	rels, err := tx.ClientRelationships(ctx, clientKey)
	if err != nil {
		return consent.State{}, req, err
	}
	for _, rel := range rels {
		if rel.Organiser == c.Organisation && rel.ActiveOn(now) {
			req.RecipientRelationship = true
			break
		}
	}
	hist, err := tx.Wills(ctx, clientKey)
	if err != nil {
		return consent.State{}, req, err
	}
	return consent.Fold(hist, now), req, nil
}

func (p Rules) Administer(ctx context.Context, tx PolicyTx, c Caller, r *Record) Decision {
	if d, ok := p.caller(ctx, tx, c); !ok {
		return d
	}
	switch c.Purpose {
	case PurposeOwnRegister:
	case PurposeArchivist:
		// caller checked that the person is an archivist of c.Organisation.
		if r.ControllerOID() == c.Organisation {
			return allow("archivist of %s: own register", c.Organisation)
		}
		return deny("the version is in %s's register; an archivist of %s administers only its registers", r.ControllerOID(), c.Organisation)
	default:
		return deny("correcting and nullifying is use of a register: purpose %s or an archivist's, not %s", PurposeOwnRegister, c.Purpose)
	}
	if r.ControllerOID() == c.Organisation {
		return allow("own register: the caller's organisation %s is the controller", c.Organisation)
	}
	d := p.Read(ctx, tx, c, r)
	if !d.Allowed {
		return d
	}
	if r.Submitter.Organisation == c.Organisation {
		return allow("%s; the provider archived this version itself", d.Reason)
	}
	return deny("a service provider corrects and nullifies only the documents it archived itself; this version was archived by the register's controller or another provider")
}

func (p Rules) Scope(ctx context.Context, tx PolicyTx, c Caller, clientKey string) (Scope, Decision) {
	if d, ok := p.caller(ctx, tx, c); !ok {
		return Scope{}, d
	}
	if c.InCitizenView() {
		// The citizen view lists with Service.CitizenDocuments, which asks
		// Read of each document; a client searches no registers.
		return Scope{}, deny("a client does not search the registers; the citizen view lists their own documents")
	}
	sc := Scope{Controllers: []string{c.Organisation}}
	if c.Purpose == PurposeArchivist {
		return sc, allow("archivist of %s: its own registers", c.Organisation)
	}
	gs, err := p.grants(ctx, tx, c, clientKey, "")
	if err != nil {
		return Scope{}, deny("register access rights cannot be checked now")
	}
	sc.Grants = gs
	reason := fmt.Sprintf("own register: documents whose controller is %s", c.Organisation)
	if len(gs) > 0 {
		reason = fmt.Sprintf("own register %s, and register access rights for this client in %d relationship service tasks", c.Organisation, len(gs))
	}
	if clientKey != "" && (c.Purpose == PurposeDisclosure || c.Purpose == PurposeBroadSearch) {
		st, req, err := p.disclosureRequest(ctx, tx, c, clientKey)
		if err != nil {
			return Scope{}, deny("the client's will expressions cannot be checked now")
		}
		sc.Disclosure = NewDisclosureScope(clientKey, st, req)
		switch {
		case sc.Disclosure != nil && req.Purpose == consent.PurposeBroadSearch:
			reason += fmt.Sprintf("; broad search (Act on Social Welfare Clients, section 20): %s", c.Justification)
		case sc.Disclosure != nil:
			reason += "; documents of other controllers disclosed with the client's consent " + st.Consent.ID
		default:
			reason += "; nothing of other controllers may be disclosed"
		}
	}
	return sc, allow("%s", reason)
}

// Will allows the client's will expressions and disclosure log to a
// controller with an active client relationship with the client: its
// organiser, or a provider with an active register access right.
func (p Rules) Will(ctx context.Context, tx PolicyTx, c Caller, clientKey string) Decision {
	if d, ok := p.caller(ctx, tx, c); !ok {
		return d
	}
	if c.Purpose == PurposeArchivist {
		return deny("will expressions are not shown to archivists")
	}
	if c.Purpose == PurposeCitizen {
		if clientKey == "" || clientKey != CitizenKey(c) {
			return deny("a client sees and records only their own will expressions and logs")
		}
		return allow("the client's own will expressions and logs, in the citizen view")
	}
	if c.Purpose == PurposeGuardian {
		if clientKey == "" || clientKey != CitizenKey(c) {
			return deny("a guardian sees and records only the will expressions and logs of the child they act for")
		}
		return allow("a guardian, for the minor: the will expressions and logs, in the citizen view")
	}
	now := p.now()
	rels, err := tx.ClientRelationships(ctx, clientKey)
	if err != nil {
		return deny("client relationships cannot be checked now")
	}
	for _, rel := range rels {
		if rel.Organiser == c.Organisation && rel.ActiveOn(now) {
			return allow("client relationship %s of %s with the client", rel.ID, c.Organisation)
		}
	}
	gs, err := p.grants(ctx, tx, c, clientKey, "")
	if err != nil {
		return deny("register access rights cannot be checked now")
	}
	if len(gs) > 0 {
		return allow("register access right: provider named in client relationship %s of organiser %s", gs[0].RelationshipID, gs[0].Organiser)
	}
	return deny("the caller's organisation %s has no active client relationship with the client", c.Organisation)
}
