package archivetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// Outcome is what a door answered, reduced to what the table asserts.
type Outcome struct {
	Kind error  // nil (allowed), archive.ErrForbidden, archive.ErrInvalid, archive.ErrNotFound ...
	Code string // rule code for invalid input
	Docs []string
	// Answer is the whole answer as the caller saw it (status and body),
	// for cases that must answer exactly as another.
	Answer string
	// Total is a search's total, -1 where the answer has none.
	Total int
}

// Refused marks a document of a refused access-log entry in Log's Docs.
const Refused = "refused:"

// Driver performs the table's actions through one door: the domain
// service, or the FHIR API over HTTPS.
type Driver interface {
	// Archive submits a document as the organisation's system.
	Archive(t *testing.T, org *gen.Organisation, raw []byte) Outcome
	// Read fetches a document's content as the organisation's system.
	Read(t *testing.T, org *gen.Organisation, docID string) Outcome
	// Search lists a client's documents the organisation may see.
	Search(t *testing.T, org *gen.Organisation, clientKey string) Outcome
	// Nullify nullifies a document as the organisation's system.
	Nullify(t *testing.T, org *gen.Organisation, docID string) Outcome
	// Log reads the client's access log as the organisation's system. Docs
	// lists the documents of the entries it sees, those of refused entries
	// prefixed with Refused.
	Log(t *testing.T, org *gen.Organisation, clientKey string) Outcome
}

// AccessWorld is a test PKI with three public organisers and one private
// provider, made once per test binary.
func AccessWorld(t testing.TB) *gen.PKI {
	accessOnce.Do(func() {
		accessWorld, accessErr = gen.NewPKI(gen.PKIOptions{Seed: 4242, KeyType: pki.P256, Organisations: 4, ProfessionalsPerOrg: 1})
	})
	if accessErr != nil {
		t.Fatal(accessErr)
	}
	return accessWorld
}

var day = 24 * time.Hour

// builder makes the scenario's documents.
type builder struct {
	t   *testing.T
	w   *gen.PKI
	seq int
	run int64
}

func (b *builder) id(o *gen.Organisation) string {
	b.seq++
	return fmt.Sprintf("%s.95.2026.%d.%d", o.OID, b.run, b.seq)
}

func (b *builder) client() cda.Client {
	b.seq++
	code, err := hetu.Make(time.Date(2012, 3, 1+b.seq%27, 0, 0, 0, 0, time.UTC), 900+b.seq%100, 'A')
	if err != nil {
		b.t.Fatal(err)
	}
	return cda.Client{ID: cda.ID{Root: hetu.OIDRoot, Extension: code}, Name: cda.Name{Given: []string{"Testi"}, Family: "Asiakas"}}
}

func cd(sys *codes.System, c string) cda.Code {
	return cda.Code{Code: c, System: sys.OID, Display: sys.Display(c, "fi")}
}

func (b *builder) header(custodian, organiser *gen.Organisation, client cda.Client, group string) *cda.Header {
	at := time.Now().Add(-2 * time.Hour).Truncate(time.Second).In(time.FixedZone("", 2*3600))
	id := b.id(custodian)
	h := &cda.Header{
		ID: id, SetID: id, Version: 1, EffectiveTime: at, CreationTime: at,
		Confidentiality: cd(codes.Confidentiality, "6"), Language: "fi", Client: client,
		Custodian:      cda.Organisation{OID: custodian.ControllerOID(), Name: custodian.Name},
		Organiser:      cda.Organisation{OID: organiser.ControllerOID(), Name: organiser.Name},
		DocumentGroup:  cd(codes.DocumentGroup, group),
		Register:       cd(codes.Register, "1"),
		RetentionClass: cd(codes.RetentionClass, "1"),
	}
	return h
}

func (b *builder) sign(signer *gen.Organisation, h *cda.Header, body cda.Body) []byte {
	s := &xmldsig.Signer{Key: signer.System.Key, Cert: signer.System.Cert, Chain: signer.System.Chain, TypeCode: codes.SignatureSystem}
	raw, err := gen.Render(h, body, s, false)
	if err != nil {
		b.t.Fatal(err)
	}
	return raw
}

// relationship is a client relationship document of the organiser for the
// client, naming the providers.
func (b *builder) relationship(org *gen.Organisation, client cda.Client, relID string, start, end time.Time, tasks []gen.TaskSpec) (*cda.Header, []byte) {
	h := b.header(org, org, client, codes.GroupClientRelationship)
	h.GeneralType = cda.Code{NullFlavor: "NA"}
	h.Author = cda.Author{ID: cda.ID{NullFlavor: "NA"}}
	h.ClientRelationshipID = relID
	h.StructuredFormat = cd(codes.StructuredFormat, "5")
	js, err := json.Marshal(gen.RelationshipForm(gen.RelationshipSpec{ID: relID, ClientID: client.ID.Extension, Organiser: h.Custodian, Start: start, End: end, Tasks: tasks}))
	if err != nil {
		b.t.Fatal(err)
	}
	body := cda.Body{DisplayMediaType: cda.MediaXHTML, Display: []byte(`<div xmlns="http://www.w3.org/1999/xhtml">asiakkuus</div>`), Structured: js}
	return h, b.sign(org, h, body)
}

// plan is a client document of a service task in the custodian's register,
// produced and signed by the producer's system.
func (b *builder) plan(producer, custodian, organiser *gen.Organisation, client cda.Client, task string) (*cda.Header, []byte) {
	h := b.header(custodian, organiser, client, codes.GroupLaterPhase)
	h.GeneralType = cd(codes.DocumentType, "15")
	h.SpecificType = cd(codes.DocumentType, "15007")
	h.ServiceTask = cda.Code{Code: task, System: codes.OIDServiceTask}
	h.Author = cda.Author{ID: cda.ID{Root: codes.OIDProfessional, Extension: "10000000001"}}
	body, err := gen.MinimalBody(h)
	if err != nil {
		b.t.Fatal(err)
	}
	return h, b.sign(producer, h, body)
}

// replacement is version 2 of a client relationship document.
func (b *builder) replaceRelationship(prev *cda.Header, org *gen.Organisation, start time.Time, tasks []gen.TaskSpec) (*cda.Header, []byte) {
	h := *prev
	h.ID = b.id(org)
	h.Version = 2
	h.Replaces = &cda.Parent{ID: prev.ID, SetID: prev.SetID, Version: 1}
	h.EffectiveTime = prev.EffectiveTime.Add(time.Minute)
	h.CreationTime = h.EffectiveTime
	js, err := json.Marshal(gen.RelationshipForm(gen.RelationshipSpec{ID: h.ClientRelationshipID, ClientID: h.Client.ID.Extension, Organiser: h.Custodian, Start: start, Tasks: tasks}))
	if err != nil {
		b.t.Fatal(err)
	}
	body := cda.Body{DisplayMediaType: cda.MediaXHTML, Display: []byte(`<div xmlns="http://www.w3.org/1999/xhtml">asiakkuus v2</div>`), Structured: js}
	return &h, b.sign(org, &h, body)
}

// replacePlan is the next version of a plan, archived into the
// custodian's register, signed by the producer, naming parentID as the
// version it replaces.
func (b *builder) replacePlan(prev *cda.Header, producer, custodian *gen.Organisation, parentID string) (*cda.Header, []byte) {
	h := *prev
	h.ID = b.id(producer)
	h.Version = prev.Version + 1
	h.Replaces = &cda.Parent{ID: parentID, SetID: prev.SetID, Version: prev.Version}
	h.Custodian = cda.Organisation{OID: custodian.ControllerOID(), Name: custodian.Name}
	if prev.Organiser.OID != "" {
		h.Organiser = h.Custodian
	}
	h.EffectiveTime = prev.EffectiveTime.Add(time.Minute)
	h.CreationTime = h.EffectiveTime
	body, err := gen.MinimalBody(&h)
	if err != nil {
		b.t.Fatal(err)
	}
	return &h, b.sign(producer, &h, body)
}

// AccessCase is one row of the access decision table.
type AccessCase struct {
	Name   string
	Do     func() Outcome
	Want   error  // nil: allowed
	Code   string // rule code when Want is ErrInvalid
	Docs   []string
	NoDocs []string // documents a search must not return
	// Exact: Docs is the whole result, nothing more (and a search's total
	// is its length).
	Exact bool
}

// RunAccessTable builds the scenario through the driver (and the service
// for the administrative register transfer) and checks every case.
func RunAccessTable(t *testing.T, d Driver, svc *archive.Service, st archive.Store, w *gen.PKI) {
	ctx := context.Background()
	O1, O2, O3, P := w.Organisations[0], w.Organisations[1], w.Organisations[2], w.Organisations[3]
	if P.Kind != archive.KindPrivate {
		t.Fatalf("the access world's last organisation is %s, want a private provider", P.Kind)
	}
	b := &builder{t: t, w: w, run: time.Now().UnixNano() % 1000000}
	now := time.Now()
	pUnit := P.Units[1]
	provider := func(start, end time.Time) gen.ProviderSpec {
		return gen.ProviderSpec{Unit: pUnit, Start: start, End: end}
	}
	must := func(o Outcome, what string) {
		t.Helper()
		if o.Kind != nil {
			t.Fatalf("setting up: %s: %v %s", what, o.Kind, o.Code)
		}
	}

	// C: O1's client, P named for task 24 (now) and task 21 (ended).
	C := b.client()
	relC, relCraw := b.relationship(O1, C, O1.OID+".95777.1", now.Add(-60*day), time.Time{}, []gen.TaskSpec{
		{Code: "24", Providers: []gen.ProviderSpec{provider(now.Add(-10*day), now.Add(10*day))}},
		{Code: "21", Providers: []gen.ProviderSpec{provider(now.Add(-30*day), now.Add(-20*day))}},
	})
	must(d.Archive(t, O1, relCraw), "relationship of C")
	d24, d24raw := b.plan(O1, O1, O1, C, "24")
	must(d.Archive(t, O1, d24raw), "task 24 plan of C")
	d21, d21raw := b.plan(O1, O1, O1, C, "21")
	must(d.Archive(t, O1, d21raw), "task 21 plan of C")
	d99, d99raw := b.plan(O1, O1, O1, C, "99")
	must(d.Archive(t, O1, d99raw), "task 99 plan of C")
	dNull, dNullRaw := b.plan(O1, O1, O1, C, "24")
	must(d.Archive(t, O1, dNullRaw), "plan of C to nullify")
	must(d.Nullify(t, O1, dNull.ID), "nullify it")

	// C2: O1's client without a relationship naming P.
	C2 := b.client()
	d2, d2raw := b.plan(O1, O1, O1, C2, "24")
	must(d.Archive(t, O1, d2raw), "plan of C2")

	// C3: relationship with P, ended yesterday.
	C3 := b.client()
	_, rel3raw := b.relationship(O1, C3, O1.OID+".95777.3", now.Add(-90*day), now.Add(-day), []gen.TaskSpec{{Code: "24", Providers: []gen.ProviderSpec{provider(time.Time{}, time.Time{})}}})
	must(d.Archive(t, O1, rel3raw), "ended relationship of C3")
	d3, d3raw := b.plan(O1, O1, O1, C3, "24")
	must(d.Archive(t, O1, d3raw), "plan of C3")

	// C4: relationship naming P, then nullified.
	C4 := b.client()
	rel4, rel4raw := b.relationship(O1, C4, O1.OID+".95777.4", now.Add(-30*day), time.Time{}, []gen.TaskSpec{{Code: "24", Providers: []gen.ProviderSpec{provider(time.Time{}, time.Time{})}}})
	must(d.Archive(t, O1, rel4raw), "relationship of C4")
	d4, d4raw := b.plan(O1, O1, O1, C4, "24")
	must(d.Archive(t, O1, d4raw), "plan of C4")
	must(d.Nullify(t, O1, rel4.ID), "nullify C4's relationship")

	// C5: relationship naming P, then replaced by a version without P.
	C5 := b.client()
	rel5, rel5raw := b.relationship(O1, C5, O1.OID+".95777.5", now.Add(-30*day), time.Time{}, []gen.TaskSpec{{Code: "24", Providers: []gen.ProviderSpec{provider(time.Time{}, time.Time{})}}})
	must(d.Archive(t, O1, rel5raw), "relationship of C5")
	d5, d5raw := b.plan(O1, O1, O1, C5, "24")
	must(d.Archive(t, O1, d5raw), "plan of C5")
	_, rel5v2raw := b.replaceRelationship(rel5, O1, now.Add(-30*day), []gen.TaskSpec{{Code: "24"}})
	must(d.Archive(t, O1, rel5v2raw), "C5's relationship without P")

	// C6: O2's client with P named; O2's register is then transferred to O3.
	C6 := b.client()
	rel6, rel6raw := b.relationship(O2, C6, O2.OID+".95777.6", now.Add(-30*day), time.Time{}, []gen.TaskSpec{{Code: "24", Providers: []gen.ProviderSpec{provider(time.Time{}, time.Time{})}}})
	must(d.Archive(t, O2, rel6raw), "relationship of C6")
	d6, d6raw := b.plan(O2, O2, O2, C6, "24")
	must(d.Archive(t, O2, d6raw), "plan of C6")
	d6n, d6nRaw := b.plan(O2, O2, O2, C6, "24")
	must(d.Archive(t, O2, d6nRaw), "plan of C6 the new controller nullifies")
	d6c, d6cRaw := b.plan(O2, O2, O2, C6, "24")
	must(d.Archive(t, O2, d6cRaw), "plan of C6 the new controller corrects")
	if _, err := svc.Transfer(ctx, archive.TransferRequest{From: O2.ControllerOID(), To: O3.ControllerOID(), RegisterType: "1", Effective: now,
		Operator: archive.Caller{System: "arkisto admin", Organisation: O3.ControllerOID(), Purpose: "1"}}); err != nil {
		t.Fatalf("transfer O2 -> O3: %v", err)
	}
	_, afterTransferRaw := b.plan(O2, O2, O2, C6, "24")
	d6cNew, d6cByNewRaw := b.replacePlan(d6c, O3, O3, d6c.ID)
	_, d6ByOldRaw := b.replacePlan(d6, O2, O2, d6.ID)

	// Documents P makes.
	pIn, pInRaw := b.plan(P, O1, O1, C, "24")
	pIn2, pIn2Raw := b.plan(P, O1, O1, C, "24")
	_, pIn2v2Raw := b.replacePlan(pIn2, P, O1, pIn2.ID)
	pIn3, pIn3Raw := b.plan(P, O1, O1, C, "24")
	_, pIn3OwnRaw := b.replacePlan(pIn3, P, P, pIn3.ID)
	_, pCorrectsO1Raw := b.replacePlan(d24, P, O1, d24.ID)
	// O2 names O1's client plan as the parent of its own correction, and
	// the same correction naming a version that does not exist.
	probeParent := d24.ID
	missingParent := d24.ID + "9"
	_, probeRaw := b.replacePlan(d24, O3, O3, probeParent)
	missingV1 := *d24
	missingV1.ID, missingV1.SetID = missingParent, missingParent
	_, probeMissingRaw := b.replacePlan(&missingV1, O3, O3, missingParent)
	// O3's own client relationship with O1's client, with O1's relationship id.
	collision, collisionRaw := b.relationship(O3, C, relC.ClientRelationshipID, now.Add(-day), time.Time{}, []gen.TaskSpec{{Code: "24"}})
	_, pTask21Raw := b.plan(P, O1, O1, C, "21")
	_, pOtherClientRaw := b.plan(P, O1, O1, C2, "24")
	_, pRelRaw := b.relationship(P, C, P.OID+".95777.9", now, time.Time{}, []gen.TaskSpec{{Code: "24"}})
	pRelForO1 := func() []byte {
		h, _ := b.relationship(O1, C, O1.OID+".95777.10", now, time.Time{}, []gen.TaskSpec{{Code: "24"}})
		body, err := gen.MinimalBody(h)
		if err != nil {
			t.Fatal(err)
		}
		return b.sign(P, h, body)
	}()
	_, outsourcedToOwnRaw := b.plan(P, P, O1, C, "24") // produced for O1, filed in P's own register
	_, unknownCustodianRaw := func() (*cda.Header, []byte) {
		h := b.header(O1, O1, C, codes.GroupLaterPhase)
		h.Custodian, h.Organiser = cda.Organisation{OID: "1.2.246.10.1234567.10.0", Name: "Tuntematon"}, cda.Organisation{}
		h.GeneralType, h.SpecificType = cd(codes.DocumentType, "15"), cd(codes.DocumentType, "15007")
		h.ServiceTask = cda.Code{Code: "24", System: codes.OIDServiceTask}
		h.Author = cda.Author{ID: cda.ID{Root: codes.OIDProfessional, Extension: "10000000001"}}
		body, _ := gen.MinimalBody(h)
		return h, b.sign(O1, h, body)
	}()

	key := archive.ClientKey
	// unseen answers what do(id) answered, as an error if that differs from
	// the answer for a document that does not exist: a caller without a
	// right to a document must learn nothing of it.
	unseen := func(do func(id string) Outcome, id, missing string) func() Outcome {
		return func() Outcome {
			got, want := do(id), do(missing)
			if a, b := strings.ReplaceAll(got.Answer, id, "ID"), strings.ReplaceAll(want.Answer, missing, "ID"); a != b || got.Kind != want.Kind {
				return Outcome{Kind: fmt.Errorf("answered %v %q, but %v %q for a document that does not exist", got.Kind, a, want.Kind, b)}
			}
			return got
		}
	}
	missing := func(id string) string { return id + "404" }
	read := func(o *gen.Organisation) func(string) Outcome {
		return func(id string) Outcome { return d.Read(t, o, id) }
	}
	nullify := func(o *gen.Organisation) func(string) Outcome {
		return func(id string) Outcome { return d.Nullify(t, o, id) }
	}
	cases := []AccessCase{
		{Name: "own register: the organiser reads its document", Do: func() Outcome { return d.Read(t, O1, d24.ID) }},
		{Name: "own register: the organiser reads its nullified document", Do: func() Outcome { return d.Read(t, O1, dNull.ID) }},
		{Name: "provider inside its period and service task reads", Do: func() Outcome { return d.Read(t, P, d24.ID) }},
		{Name: "provider reads the client relationship document that names it", Do: func() Outcome { return d.Read(t, P, relC.ID) }},
		{Name: "provider inside its period and service task archives into the organiser's register", Do: func() Outcome { return d.Archive(t, P, pInRaw) }},
		{Name: "provider cannot nullify the organiser's document", Do: func() Outcome { return d.Nullify(t, P, d24.ID) }, Want: archive.ErrForbidden},
		{Name: "provider cannot correct the organiser's document", Do: func() Outcome { return d.Archive(t, P, pCorrectsO1Raw) }, Want: archive.ErrForbidden},
		{Name: "provider nullifies a document it archived itself", Do: func() Outcome { return d.Nullify(t, P, pIn.ID) }},
		{Name: "provider corrects a document it archived itself", Do: func() Outcome {
			if o := d.Archive(t, P, pIn2Raw); o.Kind != nil {
				return o
			}
			return d.Archive(t, P, pIn2v2Raw)
		}},
		{Name: "a correction stays in the register of the version it replaces", Do: func() Outcome {
			if o := d.Archive(t, P, pIn3Raw); o.Kind != nil {
				return o
			}
			return d.Archive(t, P, pIn3OwnRaw)
		}, Want: archive.ErrConflict},
		{Name: "another organiser's client relationship with the same client and id leaves the first one's alone", Do: func() Outcome {
			if o := d.Archive(t, O3, collisionRaw); o.Kind != nil {
				return o
			}
			if o := d.Nullify(t, O3, collision.ID); o.Kind != nil {
				return o
			}
			return d.Read(t, P, d24.ID)
		}},
		{Name: "organiser reads what the provider archived", Do: func() Outcome { return d.Search(t, O1, key(C.ID)) }, Docs: []string{d24.ID, relC.ID}},
		{Name: "provider outside its period (task 21 ended) cannot read", Do: unseen(read(P), d21.ID, missing(d21.ID)), Want: archive.ErrNotFound},
		{Name: "provider outside its period cannot archive", Do: func() Outcome { return d.Archive(t, P, pTask21Raw) }, Want: archive.ErrForbidden},
		{Name: "provider outside its service tasks cannot read", Do: unseen(read(P), d99.ID, missing(d99.ID)), Want: archive.ErrNotFound},
		{Name: "provider never reads a nullified document", Do: unseen(read(P), dNull.ID, missing(dNull.ID)), Want: archive.ErrNotFound},
		{Name: "provider for another client cannot read", Do: unseen(read(P), d2.ID, missing(d2.ID)), Want: archive.ErrNotFound},
		{Name: "provider for another client cannot archive", Do: func() Outcome { return d.Archive(t, P, pOtherClientRaw) }, Want: archive.ErrForbidden},
		{Name: "provider's search sees its service task only", Do: func() Outcome { return d.Search(t, P, key(C.ID)) }, Docs: []string{d24.ID, relC.ID}, NoDocs: []string{d21.ID, d99.ID, dNull.ID}},
		{Name: "provider's search for another client finds nothing", Do: func() Outcome { return d.Search(t, P, key(C2.ID)) }, NoDocs: []string{d2.ID}},
		{Name: "ended relationship gives no access", Do: unseen(read(P), d3.ID, missing(d3.ID)), Want: archive.ErrNotFound},
		{Name: "nullified relationship document withdraws the right", Do: unseen(read(P), d4.ID, missing(d4.ID)), Want: archive.ErrNotFound},
		{Name: "replaced relationship document without the provider withdraws the right", Do: unseen(read(P), d5.ID, missing(d5.ID)), Want: archive.ErrNotFound},
		{Name: "a private provider is the controller of its own register (clients who buy directly)", Do: func() Outcome { return d.Archive(t, P, pRelRaw) }},
		{Name: "only the organiser archives client relationship documents into its register", Do: func() Outcome { return d.Archive(t, P, pRelForO1) }, Want: archive.ErrForbidden},
		{Name: "outsourced document filed in the provider's own register is refused", Do: func() Outcome { return d.Archive(t, P, outsourcedToOwnRaw) }, Want: archive.ErrForbidden},
		{Name: "another controller cannot read", Do: unseen(read(O2), d24.ID, missing(d24.ID)), Want: archive.ErrNotFound},
		{Name: "transferred register: the new controller reads", Do: func() Outcome { return d.Read(t, O3, d6.ID) }},
		{Name: "transferred register: the old controller cannot read", Do: unseen(read(O2), d6.ID, missing(d6.ID)), Want: archive.ErrNotFound},
		{Name: "transferred register: the provider's right moved with it", Do: func() Outcome { return d.Read(t, P, d6.ID) }},
		{Name: "transferred register: the new controller nullifies", Do: func() Outcome { return d.Nullify(t, O3, d6n.ID) }},
		{Name: "transferred register: the new controller corrects", Do: func() Outcome { return d.Archive(t, O3, d6cByNewRaw) }},
		{Name: "transferred register: the old controller cannot nullify, as if the document did not exist", Do: unseen(nullify(O2), d6.ID, missing(d6.ID)), Want: archive.ErrNotFound},
		{Name: "transferred register: the old controller cannot nullify the client relationship document", Do: unseen(nullify(O2), rel6.ID, missing(rel6.ID)), Want: archive.ErrNotFound},
		{Name: "transferred register: the provider's right outlives the old controller's attempts", Do: func() Outcome { return d.Read(t, P, d6.ID) }},
		{Name: "transferred register: the old controller cannot correct", Do: func() Outcome { return d.Archive(t, O2, d6ByOldRaw) }, Want: archive.ErrInvalid, Code: archive.RuleRegisterTransferred},
		{Name: "transferred register: the new controller sees every use of it in the log", Do: func() Outcome { return d.Log(t, O3, key(C6.ID)) },
			Docs: []string{d6.ID, rel6.ID, d6n.ID, d6cNew.ID, Refused + d6.ID, Refused + rel6.ID}},
		{Name: "transferred register: the old controller does not see uses after the transfer", Do: func() Outcome { return d.Log(t, O2, key(C6.ID)) },
			Docs: []string{rel6.ID}, NoDocs: []string{d6cNew.ID, Refused + d6.ID, Refused + rel6.ID}},
		{Name: "another controller cannot nullify, as if the document did not exist", Do: unseen(nullify(O2), d24.ID, missing(d24.ID)), Want: archive.ErrNotFound},
		{Name: "a correction naming another register's version learns nothing of it", Do: func() Outcome {
			got, want := d.Archive(t, O3, probeRaw), d.Archive(t, O3, probeMissingRaw)
			if a, b := strings.ReplaceAll(got.Answer, probeParent, "ID"), strings.ReplaceAll(want.Answer, missingParent, "ID"); a != b || got.Kind != want.Kind {
				return Outcome{Kind: fmt.Errorf("answered %v %q, but %v %q for a parent that does not exist", got.Kind, a, want.Kind, b)}
			}
			return got
		}, Want: archive.ErrConflict},
		{Name: "the controller sees refused probes of its register in its log", Do: func() Outcome { return d.Log(t, O1, key(C.ID)) },
			Docs: []string{Refused + d24.ID, d24.ID, relC.ID}},
		{Name: "the prober's log shows nothing of what it probed", Do: func() Outcome { return d.Log(t, O3, key(C.ID)) },
			Docs: []string{collision.ID}, NoDocs: []string{d24.ID, Refused + d24.ID, relC.ID}},
		{Name: "transferred register: the old register takes no new documents", Do: func() Outcome { return d.Archive(t, O2, afterTransferRaw) }, Want: archive.ErrInvalid, Code: archive.RuleRegisterTransferred},
		{Name: "unknown organisation as custodian is refused", Do: func() Outcome { return d.Archive(t, O1, unknownCustodianRaw) }, Want: archive.ErrInvalid, Code: archive.RuleOrgUnknown},
	}
	// Last, with the state the cases above leave: the provider's
	// organisation stops being active.
	deactivate := func() {
		_, err := archive.NewAdmin(st, quiet).UpdateOrganisation(ctx, P.ControllerOID(), func(o *archive.Organisation) error {
			ended := time.Now().Add(-time.Hour)
			o.ActiveTo = &ended
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	cases = append(cases,
		AccessCase{Name: "an organisation that is no longer active loses its rights", Do: func() Outcome { deactivate(); return d.Read(t, P, d24.ID) }, Want: archive.ErrForbidden},
	)
	runCases(t, cases)
}

// runCases plays a decision table's cases in order and checks each.
func runCases(t *testing.T, cases []AccessCase) {
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got := c.Do()
			if !errors.Is(got.Kind, c.Want) || (got.Kind == nil) != (c.Want == nil) {
				t.Fatalf("got %v %s, want %v", got.Kind, got.Code, c.Want)
			}
			if c.Code != "" && got.Code != c.Code {
				t.Errorf("rule %q, want %q", got.Code, c.Code)
			}
			for _, want := range c.Docs {
				if !contains(got.Docs, want) {
					t.Errorf("result lacks %s: %v", want, got.Docs)
				}
			}
			for _, not := range c.NoDocs {
				if contains(got.Docs, not) {
					t.Errorf("result has %s, which the caller may not see", not)
				}
			}
			if c.Exact {
				if len(got.Docs) != len(c.Docs) {
					t.Errorf("result has %d documents %v, want exactly %v", len(got.Docs), got.Docs, c.Docs)
				}
				if got.Total >= 0 && got.Total != len(got.Docs) {
					t.Errorf("total %d, but %d documents found", got.Total, len(got.Docs))
				}
			}
		})
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// ServiceDriver drives the table through the domain service.
type ServiceDriver struct{ Service *archive.Service }

func outcome(err error) Outcome {
	if err == nil {
		return Outcome{}
	}
	var ae *archive.Error
	if errors.As(err, &ae) {
		o := Outcome{Kind: ae.Kind, Answer: ae.Error()}
		if len(ae.Problems) > 0 {
			o.Code = ae.Problems[0].Code
		}
		return o
	}
	return Outcome{Kind: err}
}

func (s ServiceDriver) Archive(t *testing.T, org *gen.Organisation, raw []byte) Outcome {
	_, err := s.Service.Archive(context.Background(), Caller(org), raw)
	return outcome(err)
}

func (s ServiceDriver) Read(t *testing.T, org *gen.Organisation, id string) Outcome {
	_, _, err := s.Service.Get(context.Background(), Caller(org), id)
	return outcome(err)
}

func (s ServiceDriver) Search(t *testing.T, org *gen.Organisation, clientKey string) Outcome {
	page, err := s.Service.Search(context.Background(), Caller(org), archive.Query{ClientKey: clientKey, Limit: 500})
	o := outcome(err)
	if page != nil {
		for _, r := range page.Records {
			o.Docs = append(o.Docs, r.Header.ID)
		}
	}
	return o
}

func (s ServiceDriver) Nullify(t *testing.T, org *gen.Organisation, id string) Outcome {
	_, err := s.Service.Nullify(context.Background(), Caller(org), id, "test", "nullified by the access table")
	return outcome(err)
}

func (s ServiceDriver) Log(t *testing.T, org *gen.Organisation, clientKey string) Outcome {
	es, err := s.Service.AccessLog(context.Background(), Caller(org), clientKey, 500, 0)
	o := outcome(err)
	for _, e := range es {
		for _, doc := range e.Documents {
			if e.Outcome == archive.OutcomeRefused {
				doc = Refused + doc
			}
			o.Docs = append(o.Docs, doc)
		}
	}
	return o
}
