package archivetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/hetu"
)

// Purpose is what a caller asks for: the token's purpose claim and, for a
// broad search, its justification.
type Purpose struct {
	Code              string
	Justification     string
	JustificationText string
}

// Purposes the disclosure table uses.
var (
	OwnUse     = Purpose{Code: archive.PurposeOwnRegister}
	Disclosure = Purpose{Code: archive.PurposeDisclosure}
)

// BroadSearch is a broad search with a justification.
func BroadSearch(code, text string) Purpose {
	return Purpose{Code: archive.PurposeBroadSearch, Justification: code, JustificationText: text}
}

// WillSpec is a will expression as a professional records it.
type WillSpec struct {
	ClientKey string
	Kind      consent.Kind
	Target    *consent.Target
	From      time.Time // consent only; zero: today
	Until     time.Time // consent only; zero: open
	// OnStatementOf is whose will it is: the client's (default) or a legal
	// representative's, who is then named by Representative.
	OnStatementOf  consent.Role
	Representative string
}

// DisclosureDriver performs the disclosure table's actions through one
// door.
type DisclosureDriver interface {
	Driver
	// ArchiveAs submits a document with a purpose.
	ArchiveAs(t *testing.T, org *gen.Organisation, p Purpose, raw []byte) Outcome
	// ReadAs fetches a document's content with a purpose.
	ReadAs(t *testing.T, org *gen.Organisation, p Purpose, docID string) Outcome
	// SearchAs lists a client's documents with a purpose; Total is the
	// search's total.
	SearchAs(t *testing.T, org *gen.Organisation, p Purpose, clientKey string) Outcome
	// HistoryAs lists the versions of a document's set with a purpose.
	HistoryAs(t *testing.T, org *gen.Organisation, p Purpose, docID string) Outcome
	// RecordWill records a will expression; Docs is its id.
	RecordWill(t *testing.T, org *gen.Organisation, w WillSpec) Outcome
	// WithdrawWill withdraws one on the statement of the client (or of the
	// representative, when named).
	WithdrawWill(t *testing.T, org *gen.Organisation, id, representative string) Outcome
	// Disclosures reads the client's disclosure log as the organisation;
	// Docs are "<ground kind>:<document id>" for each disclosed document.
	Disclosures(t *testing.T, org *gen.Organisation, clientKey string) Outcome
}

// DisclosureCase is one row of the disclosure decision table.
type DisclosureCase = AccessCase

// person is a client born about the given day.
func (b *builder) person(birth time.Time) cda.Client {
	b.seq++
	sign := byte('-')
	if birth.Year() >= 2000 {
		sign = 'A'
	}
	code, err := hetu.Make(birth.AddDate(0, 0, b.seq%27), 900+b.seq%100, sign)
	if err != nil {
		b.t.Fatal(err)
	}
	return cda.Client{ID: cda.ID{Root: hetu.OIDRoot, Extension: code}, Name: cda.Name{Given: []string{"Testi"}, Family: "Asiakas"}}
}

// doc is a client document of a group and service task in the
// organisation's own register.
func (b *builder) doc(org *gen.Organisation, client cda.Client, group, task string) (*cda.Header, []byte) {
	h, _ := b.plan(org, org, org, client, task)
	h.DocumentGroup = cd(codes.DocumentGroup, group)
	body, err := gen.MinimalBody(h)
	if err != nil {
		b.t.Fatal(err)
	}
	return h, b.sign(org, h, body)
}

// RunDisclosureTable builds the scenario through the driver and checks
// every case, in order: the client's will changes as the table goes on.
// O1 is the disclosing controller, O2 the recipient with a client
// relationship, O3 a controller whose relationship has ended, P a
// provider named in O1's client relationship document.
func RunDisclosureTable(t *testing.T, d DisclosureDriver, w *gen.PKI) {
	O1, O2, O3, P := w.Organisations[0], w.Organisations[1], w.Organisations[2], w.Organisations[3]
	b := &builder{t: t, w: w, run: time.Now().UnixNano() % 1000000}
	now := time.Now()
	key := archive.ClientKey
	must := func(o Outcome, what string) Outcome {
		t.Helper()
		if o.Kind != nil {
			t.Fatalf("setting up: %s: %v %s", what, o.Kind, o.Code)
		}
		return o
	}
	provider := gen.ProviderSpec{Unit: P.Units[1]}

	// X: an adult client of O1 (documents of every kind), O2 (an active
	// relationship) and O3 (an ended one).
	X := b.person(time.Date(1980, 5, 1, 0, 0, 0, 0, time.UTC))
	relA, relAraw := b.relationship(O1, X, O1.OID+".95888.1", now.Add(-60*day), time.Time{}, []gen.TaskSpec{{Code: "24", Providers: []gen.ProviderSpec{provider}}})
	must(d.Archive(t, O1, relAraw), "O1's relationship with X")
	relB, relBraw := b.relationship(O2, X, O2.OID+".95888.2", now.Add(-10*day), time.Time{}, []gen.TaskSpec{{Code: "24"}})
	must(d.Archive(t, O2, relBraw), "O2's relationship with X")
	relC, relCraw := b.relationship(O3, X, O3.OID+".95888.3", now.Add(-90*day), now.Add(-2*day), []gen.TaskSpec{{Code: "24"}})
	must(d.Archive(t, O3, relCraw), "O3's ended relationship with X")
	archiveAs := func(o *gen.Organisation) func(h *cda.Header, raw []byte, what string) *cda.Header {
		return func(h *cda.Header, raw []byte, what string) *cda.Header {
			t.Helper()
			must(d.Archive(t, o, raw), what)
			return h
		}
	}
	archive1 := archiveAs(O1)
	a24 := archive1(withWhat(b.plan(O1, O1, O1, X, "24")))
	a21 := archive1(withWhat(b.plan(O1, O1, O1, X, "21")))
	aCase := archive1(withWhat(b.doc(O1, X, "2", "24")))
	aFirst := archive1(withWhat(b.doc(O1, X, "3", "24")))
	aOld := archive1(withWhat(b.doc(O1, X, "4", "24")))
	aNull := archive1(withWhat(b.plan(O1, O1, O1, X, "24")))
	must(d.Nullify(t, O1, aNull.ID), "nullify a plan")
	aV1 := archive1(withWhat(b.plan(O1, O1, O1, X, "21")))
	aV2h, aV2raw := b.replacePlan(aV1, O1, O1, aV1.ID)
	aV2 := archive1(aV2h, aV2raw, "the plan's correction")
	bOwn := archiveAs(O2)(withWhat(b.plan(O2, O2, O2, X, "24")))

	// Y: an adult client of O1 and O2, never informed.
	Y := b.person(time.Date(1975, 2, 1, 0, 0, 0, 0, time.UTC))
	_, relYraw := b.relationship(O2, Y, O2.OID+".95888.4", now.Add(-10*day), time.Time{}, []gen.TaskSpec{{Code: "24"}})
	must(d.Archive(t, O2, relYraw), "O2's relationship with Y")
	y24 := archive1(withWhat(b.plan(O1, O1, O1, Y, "24")))

	// M: a minor client of O1 and O2.
	M := b.person(time.Date(now.Year()-10, 1, 1, 0, 0, 0, 0, time.UTC))
	_, relMraw := b.relationship(O2, M, O2.OID+".95888.5", now.Add(-10*day), time.Time{}, []gen.TaskSpec{{Code: "24"}})
	must(d.Archive(t, O2, relMraw), "O2's relationship with M")
	m24 := archive1(withWhat(b.plan(O1, O1, O1, M, "24")))
	guardian := b.person(time.Date(1985, 7, 1, 0, 0, 0, 0, time.UTC)).ID.Extension

	// Z: O1's client with whom O2 has no relationship, informed and consenting.
	Z := b.person(time.Date(1990, 3, 1, 0, 0, 0, 0, time.UTC))
	z24 := archive1(withWhat(b.plan(O1, O1, O1, Z, "24")))
	_, relZraw := b.relationship(O1, Z, O1.OID+".95888.6", now.Add(-10*day), time.Time{}, []gen.TaskSpec{{Code: "24"}})
	must(d.Archive(t, O1, relZraw), "O1's relationship with Z")
	must(d.RecordWill(t, O1, WillSpec{ClientKey: key(Z.ID), Kind: consent.KindNotice}), "Z's notice")
	must(d.RecordWill(t, O1, WillSpec{ClientKey: key(Z.ID), Kind: consent.KindConsent}), "Z's consent")

	x := key(X.ID)
	ids := map[string]string{} // will expressions recorded by the table
	record := func(name string, o *gen.Organisation, w WillSpec) func() Outcome {
		return func() Outcome {
			out := d.RecordWill(t, o, w)
			if out.Kind == nil && len(out.Docs) == 1 {
				ids[name] = out.Docs[0]
			}
			return out
		}
	}
	withdraw := func(name string, o *gen.Organisation, rep string) func() Outcome {
		return func() Outcome { return d.WithdrawWill(t, o, ids[name], rep) }
	}
	then := func(first func() Outcome, next func() Outcome) func() Outcome {
		return func() Outcome {
			if o := first(); o.Kind != nil {
				return o
			}
			return next()
		}
	}
	read := func(o *gen.Organisation, p Purpose, id string) func() Outcome {
		return func() Outcome { return d.ReadAs(t, o, p, id) }
	}
	search := func(o *gen.Organisation, p Purpose, client string) func() Outcome {
		return func() Outcome { return d.SearchAs(t, o, p, client) }
	}
	prohibit := func(kind consent.TargetKind, value string) WillSpec {
		return WillSpec{ClientKey: x, Kind: consent.KindProhibition, Target: &consent.Target{Kind: kind, Value: value}}
	}
	justified := BroadSearch("need-assessment", "Palvelutarpeen arviointi: asiakas muutti kuntaan")
	disclosable := []string{a24.ID, a21.ID, relA.ID, aV1.ID, aV2.ID, relC.ID}
	withheld := []string{aCase.ID, aFirst.ID, aOld.ID, aNull.ID}
	own := []string{relB.ID, bOwn.ID}

	cases := []DisclosureCase{
		// Before the client has said anything.
		{Name: "not informed: nothing is disclosed", Do: read(O2, Disclosure, a24.ID), Want: archive.ErrNotFound},
		{Name: "not informed: a search finds the recipient's own documents only", Do: search(O2, Disclosure, x), Docs: own, Exact: true},
		{Name: "a consent needs the information notice first", Do: record("early consent", O2, WillSpec{ClientKey: x, Kind: consent.KindConsent}), Want: archive.ErrInvalid, Code: consent.RuleNotInformed},
		{Name: "a controller without an active client relationship records nothing", Do: record("O3 notice", O3, WillSpec{ClientKey: x, Kind: consent.KindNotice}), Want: archive.ErrForbidden},
		{Name: "the recipient records the information notice", Do: record("notice", O2, WillSpec{ClientKey: x, Kind: consent.KindNotice})},
		{Name: "informed without consent: nothing is disclosed", Do: read(O2, Disclosure, a24.ID), Want: archive.ErrNotFound},
		{Name: "the notice is not withdrawn", Do: withdraw("notice", O2, ""), Want: archive.ErrInvalid, Code: consent.RuleNoticeIsFinal},
		{Name: "a consent that has already ended gives nothing", Do: then(
			record("ended consent", O2, WillSpec{ClientKey: x, Kind: consent.KindConsent, From: now.AddDate(0, 0, -20), Until: now.AddDate(0, 0, -5)}),
			read(O2, Disclosure, a24.ID)), Want: archive.ErrNotFound},
		{Name: "the recipient records the client's consent", Do: record("consent", O2, WillSpec{ClientKey: x, Kind: consent.KindConsent})},

		// Consent in force.
		{Name: "with consent: a later-phase document is disclosed", Do: read(O2, Disclosure, a24.ID)},
		{Name: "with consent: the client relationship document is disclosed", Do: read(O2, Disclosure, relA.ID)},
		{Name: "with consent: own use (purpose 1) still sees nothing of another controller", Do: read(O2, OwnUse, a24.ID), Want: archive.ErrNotFound},
		{Name: "with consent: a case document is withheld", Do: read(O2, Disclosure, aCase.ID), Want: archive.ErrNotFound},
		{Name: "with consent: a first-phase document is withheld", Do: read(O2, Disclosure, aFirst.ID), Want: archive.ErrNotFound},
		{Name: "with consent: an old document is withheld", Do: read(O2, Disclosure, aOld.ID), Want: archive.ErrNotFound},
		{Name: "with consent: a nullified document is never disclosed", Do: read(O2, Disclosure, aNull.ID), Want: archive.ErrNotFound},
		{Name: "with consent: the search finds own and exactly the disclosable documents", Do: search(O2, Disclosure, x), Docs: append(append([]string{}, own...), disclosable...), NoDocs: withheld, Exact: true},
		{Name: "with consent: every version of a disclosable set", Do: func() Outcome { return d.HistoryAs(t, O2, Disclosure, aV2.ID) }, Docs: []string{aV1.ID, aV2.ID}, Exact: true},
		{Name: "with consent: an ended client relationship discloses nothing", Do: read(O3, Disclosure, a24.ID), Want: archive.ErrNotFound},
		{Name: "with consent: no relationship with the client, nothing disclosed", Do: read(O2, Disclosure, z24.ID), Want: archive.ErrNotFound},
		{Name: "with consent: the provider's register access right is unchanged", Do: read(P, OwnUse, a24.ID)},
		{Name: "archiving is own use: purpose disclosure archives nothing", Do: func() Outcome {
			_, raw := b.plan(O2, O2, O2, X, "24")
			return d.ArchiveAs(t, O2, Disclosure, raw)
		}, Want: archive.ErrForbidden},

		// Prohibitions.
		{Name: "a prohibition of an unknown document set is refused", Do: record("bad set", O2, prohibit(consent.TargetDocument, O1.OID+".95888.404")), Want: archive.ErrInvalid, Code: archive.RuleWillTargetUnknown},
		{Name: "a prohibition of another client's document set is refused as unknown", Do: record("other set", O2, prohibit(consent.TargetDocument, y24.SetID)), Want: archive.ErrInvalid, Code: archive.RuleWillTargetUnknown},
		{Name: "a prohibition of an unknown service task is refused", Do: record("bad task", O2, prohibit(consent.TargetServiceTask, "9876")), Want: archive.ErrInvalid, Code: archive.RuleWillTargetUnknown},
		{Name: "a prohibition of an unknown controller is refused", Do: record("bad controller", O2, prohibit(consent.TargetController, "1.2.246.10.99999999.10.0")), Want: archive.ErrInvalid, Code: archive.RuleWillTargetUnknown},
		{Name: "a service-task prohibition withholds that task", Do: then(record("task 24", O2, prohibit(consent.TargetServiceTask, "24")), read(O2, Disclosure, a24.ID)), Want: archive.ErrNotFound},
		{Name: "a service-task prohibition leaves other tasks disclosed", Do: read(O2, Disclosure, a21.ID)},
		{Name: "a prohibition does not stop the organiser", Do: read(O1, OwnUse, a24.ID)},
		{Name: "a prohibition does not stop the organiser's provider", Do: read(P, OwnUse, a24.ID)},
		{Name: "with a prohibition: the search leaves out exactly what it covers", Do: search(O2, Disclosure, x), Docs: append(append([]string{}, own...), a21.ID, aV1.ID, aV2.ID, relA.ID, relC.ID), NoDocs: append([]string{a24.ID}, withheld...), Exact: true},
		{Name: "a broad search needs a justification", Do: read(O2, Purpose{Code: archive.PurposeBroadSearch}, a24.ID), Want: archive.ErrForbidden},
		{Name: "a broad search needs a known justification code", Do: read(O2, BroadSearch("curiosity", "halusin katsoa"), a24.ID), Want: archive.ErrForbidden},
		{Name: "a broad search with a justification reaches a prohibited document", Do: read(O2, justified, a24.ID)},
		{Name: "a broad search reaches a first-phase document", Do: read(O2, justified, aFirst.ID)},
		{Name: "a broad search never reaches a nullified document", Do: read(O2, justified, aNull.ID), Want: archive.ErrNotFound},
		{Name: "a broad search finds every document of the client but nullified ones", Do: search(O2, justified, x), Docs: append(append(append([]string{}, own...), disclosable...), aCase.ID, aFirst.ID, aOld.ID), NoDocs: []string{aNull.ID}, Exact: true},
		{Name: "a broad search needs a client relationship too", Do: read(O3, justified, a24.ID), Want: archive.ErrNotFound},
		{Name: "withdrawing the service-task prohibition discloses the task again", Do: then(withdraw("task 24", O2, ""), read(O2, Disclosure, a24.ID))},
		{Name: "what is withdrawn cannot be withdrawn again", Do: withdraw("task 24", O2, ""), Want: archive.ErrInvalid, Code: consent.RuleWithdrawn},
		{Name: "a document prohibition withholds its whole set", Do: then(record("set", O2, prohibit(consent.TargetDocument, aV1.SetID)), func() Outcome { return d.HistoryAs(t, O2, Disclosure, aV2.ID) }), Want: archive.ErrNotFound},
		{Name: "a document prohibition leaves other documents disclosed", Do: read(O2, Disclosure, a21.ID)},
		{Name: "a controller prohibition withholds everything of that controller", Do: then(record("controller", O2, prohibit(consent.TargetController, O1.ControllerOID())), search(O2, Disclosure, x)), Docs: append(append([]string{}, own...), relC.ID), NoDocs: []string{a24.ID, a21.ID, relA.ID, aV1.ID, aV2.ID}, Exact: true},
		{Name: "a controller prohibition does not stop that controller itself", Do: read(O1, OwnUse, a21.ID)},
		{Name: "withdrawing the controller prohibition discloses again", Do: then(withdraw("controller", O2, ""), read(O2, Disclosure, a21.ID))},
		{Name: "withdrawing the consent ends disclosure", Do: then(withdraw("consent", O2, ""), read(O2, Disclosure, a21.ID)), Want: archive.ErrNotFound},

		// A client never informed.
		{Name: "never informed: a consent is refused", Do: record("Y consent", O2, WillSpec{ClientKey: key(Y.ID), Kind: consent.KindConsent}), Want: archive.ErrInvalid, Code: consent.RuleNotInformed},
		{Name: "never informed: nothing is disclosed", Do: read(O2, Disclosure, y24.ID), Want: archive.ErrNotFound},

		// A minor and a guardian.
		{Name: "a guardian acknowledges the notice for a minor", Do: record("M notice", O2, WillSpec{ClientKey: key(M.ID), Kind: consent.KindNotice, OnStatementOf: consent.RoleRepresentative, Representative: guardian})},
		{Name: "a guardian consents for a minor", Do: then(record("M consent", O2, WillSpec{ClientKey: key(M.ID), Kind: consent.KindConsent, OnStatementOf: consent.RoleRepresentative, Representative: guardian}), read(O2, Disclosure, m24.ID))},
		{Name: "a guardian may not set a prohibition for a minor", Do: record("M guardian prohibition", O2, WillSpec{ClientKey: key(M.ID), Kind: consent.KindProhibition, Target: &consent.Target{Kind: consent.TargetServiceTask, Value: "24"}, OnStatementOf: consent.RoleRepresentative, Representative: guardian}), Want: archive.ErrInvalid, Code: consent.RuleGuardian},
		{Name: "the minor sets a prohibition", Do: then(record("M prohibition", O2, WillSpec{ClientKey: key(M.ID), Kind: consent.KindProhibition, Target: &consent.Target{Kind: consent.TargetServiceTask, Value: "24"}}), read(O2, Disclosure, m24.ID)), Want: archive.ErrNotFound},
		{Name: "a guardian may not lift the minor's prohibition", Do: withdraw("M prohibition", O2, guardian), Want: archive.ErrInvalid, Code: consent.RuleGuardian},

		// The disclosure log.
		{Name: "the recipient's disclosure log shows each disclosure with its ground", Do: func() Outcome { return d.Disclosures(t, O2, x) },
			Docs:   []string{archive.GroundConsent + ":" + a24.ID, archive.GroundConsent + ":" + relA.ID, archive.GroundBroadSearch + ":" + a24.ID, archive.GroundBroadSearch + ":" + aFirst.ID, archive.GroundConsent + ":" + aV1.ID},
			NoDocs: []string{archive.GroundConsent + ":" + aCase.ID, archive.GroundConsent + ":" + aNull.ID, archive.GroundBroadSearch + ":" + aNull.ID, archive.GroundConsent + ":" + bOwn.ID}},
		{Name: "the disclosing controller's disclosure log shows them too", Do: func() Outcome { return d.Disclosures(t, O1, x) },
			Docs: []string{archive.GroundConsent + ":" + a24.ID, archive.GroundBroadSearch + ":" + aFirst.ID}},
		{Name: "a third controller sees none of them", Do: func() Outcome { return d.Disclosures(t, O3, x) }, NoDocs: []string{archive.GroundConsent + ":" + a24.ID, archive.GroundBroadSearch + ":" + aFirst.ID}},
	}
	runCases(t, cases)
}

// withWhat names a built document for must.
func withWhat(h *cda.Header, raw []byte) (*cda.Header, []byte, string) {
	return h, raw, fmt.Sprintf("document %s (group %s, task %s)", h.ID, h.DocumentGroup.Code, h.ServiceTask.Code)
}

// DisclosureCaller acts for the organisation with a purpose.
func DisclosureCaller(o *gen.Organisation, p Purpose) archive.Caller {
	c := Caller(o)
	c.Purpose, c.Justification, c.JustificationText = p.Code, p.Justification, p.JustificationText
	return c
}

// Expression is the will expression a professional of the caller
// records.
func (w WillSpec) Expression() *consent.Expression {
	e := &consent.Expression{ClientKey: w.ClientKey, Kind: w.Kind, Target: w.Target, From: w.From, Until: w.Until,
		Recorder: consent.Recorder{Role: consent.RoleProfessional, OnStatementOf: consent.RoleClient}}
	if e.Kind == consent.KindConsent && e.From.IsZero() {
		e.From = dayOf(time.Now())
	}
	if !e.From.IsZero() {
		e.From = dayOf(e.From)
	}
	if !e.Until.IsZero() {
		e.Until = dayOf(e.Until)
	}
	if w.OnStatementOf != "" {
		e.Recorder.OnStatementOf = w.OnStatementOf
		e.Recorder.Representative = w.Representative
	}
	return e
}

func dayOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Withdrawer is who withdraws: a professional of the caller on the
// statement of the client, or of the representative when named.
func Withdrawer(representative string) consent.Recorder {
	r := consent.Recorder{Role: consent.RoleProfessional, OnStatementOf: consent.RoleClient}
	if representative != "" {
		r.OnStatementOf, r.Representative = consent.RoleRepresentative, representative
	}
	return r
}

// ReadAs, SearchAs and the rest drive the disclosure table through the
// service.

func (s ServiceDriver) ArchiveAs(t *testing.T, org *gen.Organisation, p Purpose, raw []byte) Outcome {
	_, err := s.Service.Archive(context.Background(), DisclosureCaller(org, p), raw)
	return outcome(err)
}

func (s ServiceDriver) ReadAs(t *testing.T, org *gen.Organisation, p Purpose, id string) Outcome {
	_, _, err := s.Service.Get(context.Background(), DisclosureCaller(org, p), id)
	return outcome(err)
}

func (s ServiceDriver) SearchAs(t *testing.T, org *gen.Organisation, p Purpose, clientKey string) Outcome {
	page, err := s.Service.Search(context.Background(), DisclosureCaller(org, p), archive.Query{ClientKey: clientKey, Limit: 500})
	o := outcome(err)
	o.Total = -1
	if page != nil {
		o.Total = page.Total
		for _, r := range page.Records {
			o.Docs = append(o.Docs, r.Header.ID)
		}
	}
	return o
}

func (s ServiceDriver) HistoryAs(t *testing.T, org *gen.Organisation, p Purpose, id string) Outcome {
	recs, err := s.Service.Versions(context.Background(), DisclosureCaller(org, p), id)
	o := outcome(err)
	o.Total = -1
	for _, r := range recs {
		o.Docs = append(o.Docs, r.Header.ID)
	}
	return o
}

func (s ServiceDriver) RecordWill(t *testing.T, org *gen.Organisation, w WillSpec) Outcome {
	e, err := s.Service.RecordWill(context.Background(), Caller(org), w.Expression())
	o := outcome(err)
	if err == nil {
		o.Docs = []string{e.ID}
	}
	return o
}

func (s ServiceDriver) WithdrawWill(t *testing.T, org *gen.Organisation, id, representative string) Outcome {
	if id == "" {
		t.Fatal("withdrawing a will expression the table did not record")
	}
	_, err := s.Service.WithdrawWill(context.Background(), Caller(org), id, Withdrawer(representative))
	return outcome(err)
}

func (s ServiceDriver) Disclosures(t *testing.T, org *gen.Organisation, clientKey string) Outcome {
	ds, err := s.Service.Disclosures(context.Background(), Caller(org), archive.DisclosureQuery{ClientKey: clientKey, Limit: 500})
	o := outcome(err)
	for _, d := range ds {
		for _, doc := range d.Documents {
			o.Docs = append(o.Docs, d.GroundKind+":"+doc.ID)
		}
	}
	return o
}
