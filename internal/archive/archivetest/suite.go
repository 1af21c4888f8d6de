// Package archivetest is the behaviour suite every storage backend must
// pass: the domain service's rules, run against a real store. Each backend
// runs it from its own tests (storetest.TestBehaviour).
package archivetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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

// NewStore opens an empty store for one test.
type NewStore func(t *testing.T) archive.Store

var (
	worldOnce sync.Once
	world     *gen.PKI
	worldErr  error

	accessOnce  sync.Once
	accessWorld *gen.PKI
	accessErr   error
)

// World is a shared test PKI (ECDSA keys, made once per test binary).
func World(t testing.TB) *gen.PKI {
	worldOnce.Do(func() {
		world, worldErr = gen.NewPKI(gen.PKIOptions{Seed: 42, KeyType: pki.P256})
	})
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return world
}

// BenchWorld is World with RSA-2048 keys, the kind the archive's
// documents are signed with (Kanta's certificates): benchmarks measure
// what the archive really verifies, where tests take P-256 for speed.
func BenchWorld(t testing.TB) *gen.PKI {
	benchWorldOnce.Do(func() {
		benchWorld, benchWorldErr = gen.NewPKI(gen.PKIOptions{Seed: 42, KeyType: pki.RSA2048})
	})
	if benchWorldErr != nil {
		t.Fatal(benchWorldErr)
	}
	return benchWorld
}

var (
	benchWorldOnce sync.Once
	benchWorld     *gen.PKI
	benchWorldErr  error
)

// Env is a service over a fresh store with the test world trusted and
// onboarded.
type Env struct {
	T       *testing.T
	Store   archive.Store
	Service *archive.Service
	World   *gen.PKI
	Gen     *gen.Generator

	skew atomic.Int64 // how far the service's clock is ahead (Later)
}

// Later moves the service's clock d ahead, as if d had passed.
func (e *Env) Later(d time.Duration) { e.skew.Add(int64(d)) }

// quiet discards what the service logs for the operator.
var quiet = slog.New(slog.DiscardHandler)

// NewEnv makes an Env.
func NewEnv(t *testing.T, newStore NewStore) *Env {
	t.Helper()
	w := World(t)
	st := newStore(t)
	ctx := context.Background()
	err := archive.NewAdmin(st, quiet).Apply(ctx, w.Setup(false))
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{T: t, Store: st, World: w, Gen: gen.New(w, gen.Options{Seed: 7, Clients: 4})}
	now := func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }
	e.Service = archive.NewService(st, archive.Rules{}, archive.Config{Now: now}, quiet)
	return e
}

// Caller acts for the organisation of a generated document.
func Caller(o *gen.Organisation) archive.Caller {
	return archive.Caller{System: o.SystemName, Organisation: o.ControllerOID(), Person: "10000000001", PersonName: "Testi Käyttäjä", Unit: o.Units[1].OID, Purpose: codes.UsageOwnRegister}
}

// Next generates the next document.
func (e *Env) Next() *gen.Doc {
	e.T.Helper()
	d, err := e.Gen.Next()
	if err != nil {
		e.T.Fatal(err)
	}
	return d
}

// Archive archives a generated document as its organisation and fails the test on error.
func (e *Env) Archive(d *gen.Doc) *archive.Record {
	e.T.Helper()
	r, err := e.Service.Archive(context.Background(), Caller(d.Org), d.XML)
	if err != nil {
		e.T.Fatalf("archive %s: %v", d.Header.ID, err)
	}
	return r
}

// AccessLog returns all access-log entries about the client, oldest first.
func (e *Env) AccessLog(clientKey string) []*archive.AccessEntry {
	e.T.Helper()
	var out []*archive.AccessEntry
	err := e.Store.View(context.Background(), func(tx archive.Tx) error {
		var err error
		out, err = tx.AccessLog(context.Background(), archive.AccessLogQuery{ClientKey: clientKey, Limit: 10000})
		return err
	})
	if err != nil {
		e.T.Fatal(err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Replacement renders a version-2 document replacing d, signed by the same kind of signer.
func (e *Env) Replacement(d *gen.Doc, newID string, mutate func(h *cda.Header)) []byte {
	e.T.Helper()
	h := *d.Header
	h.ID = newID
	h.Version = d.Header.Version + 1
	h.Replaces = &cda.Parent{ID: d.Header.ID, SetID: d.Header.SetID, Version: d.Header.Version}
	h.EffectiveTime = h.EffectiveTime.Add(time.Hour)
	h.CreationTime = h.EffectiveTime
	if mutate != nil {
		mutate(&h)
	}
	return e.Render(&h)
}

// Render signs a header with a synthetic body by the first organisation's system.
func (e *Env) Render(h *cda.Header) []byte {
	e.T.Helper()
	org := e.World.Organisations[0]
	for _, o := range e.World.Organisations {
		if o.ControllerOID() == h.Custodian.OID {
			org = o
		}
	}
	body, err := gen.MinimalBody(h)
	if err != nil {
		e.T.Fatal(err)
	}

	signer := &xmldsig.Signer{Key: org.System.Key, Cert: org.System.Cert, Chain: org.System.Chain, TypeCode: codes.SignatureSystem}
	xml, err := gen.Render(h, body, signer, false)
	if err != nil {
		e.T.Fatal(err)
	}
	return xml
}

// Run runs the suite.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *Env)
	}{
		{"ArchiveAndGet", testArchiveAndGet},
		{"Idempotent", testIdempotent},
		{"SameIDOtherBytes", testSameIDOtherBytes},
		{"Replacement", testReplacement},
		{"ConcurrentReplacements", testConcurrentReplacements},
		{"ReplacementRules", testReplacementRules},
		{"Nullify", testNullify},
		{"OtherOrganisation", testOtherOrganisation},
		{"InvalidDocument", testInvalidDocument},
		{"UntrustedSigner", testUntrustedSigner},
		{"Search", testSearch},
		{"Paging", testPaging},
		{"LogAtomicity", testLogAtomicity},
		{"ControllerLog", testControllerLog},
		{"SubmissionAllOrNothing", testSubmissionAllOrNothing},
		{"CasePeriod", testCasePeriod},
		{"AccessRules", testAccessRules},
		{"DisclosureRules", testDisclosureRules},
		{"DisclosureProperty", testDisclosureProperty},
		{"RelationshipKept", testRelationshipKept},
		{"RevokedSigner", testRevokedSigner},
		{"SignerOfAnotherOrganisation", testSignerOfAnotherOrganisation},
		{"SignedBodyBindsHeader", testSignedBodyBindsHeader},
		{"RefusedSubmissionLoggedOnce", testRefusedSubmissionLoggedOnce},
		{"InspectIsSubmit", testInspectIsSubmit},
		{"Administration", testAdministration},
		{"TemporaryClientID", testTemporaryClientID},
		{"ClientGoneIsNoError", testClientGoneIsNoError},
		{"ContentIsTheRecordsDocument", testContentIsTheRecordsDocument},
		{"ScopeAgreesWithAllows", testScopeAgreesWithAllows},
		{"Archivist", testArchivist},
		{"Citizen", testCitizen},
		{"SubmissionSets", testSubmissionSets},
		{"Guardian", testGuardian},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, NewEnv(t, newStore))
		})
	}
}

func testArchiveAndGet(t *testing.T, e *Env) {
	ctx := context.Background()
	d := e.Next()
	rec := e.Archive(d)
	if rec.Status != archive.StatusCurrent || rec.Header.ID != d.Header.ID || rec.Size != int64(len(d.XML)) {
		t.Fatalf("record %+v", rec)
	}
	if len(rec.Signatures) != 1 || rec.Signatures[0].Form != string(xmldsig.FormAsReceived) || rec.Signatures[0].SignerID == "" {
		t.Fatalf("signatures %+v", rec.Signatures)
	}
	got, content, err := e.Service.Get(ctx, Caller(d.Org), d.Header.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(content, d.XML) {
		t.Fatal("stored bytes differ from the received ones")
	}
	if got.Header.Client.ID != d.Header.Client.ID || !got.Header.EffectiveTime.Equal(d.Header.EffectiveTime) || got.Submitter.System != d.Org.SystemName {
		t.Fatalf("metadata read back differs: %+v", got.Header)
	}
	log := e.AccessLog(rec.ClientKey())
	if len(log) != 2 || log[0].Action != archive.ActionArchive || log[1].Action != archive.ActionRead {
		t.Fatalf("log = %+v", log)
	}
	for _, l := range log {
		if l.Outcome != archive.OutcomeAllowed || l.Caller.System != d.Org.SystemName || l.Documents[0] != d.Header.ID || l.Reason == "" || l.Custodian != d.Org.ControllerOID() {
			t.Errorf("log entry %+v", l)
		}
	}
}

func testIdempotent(t *testing.T, e *Env) {
	d := e.Next()
	a := e.Archive(d)
	b := e.Archive(d)
	if a.SHA256 != b.SHA256 || !a.ReceivedAt.Equal(b.ReceivedAt) {
		t.Fatalf("re-submission made a new record: %v vs %v", a.ReceivedAt, b.ReceivedAt)
	}
	page, err := e.Service.Search(context.Background(), Caller(d.Org), archive.Query{ClientKey: a.ClientKey()})
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("search after re-submission: %d records, %v", len(page.Records), err)
	}
}

func testSameIDOtherBytes(t *testing.T, e *Env) {
	d := e.Next()
	e.Archive(d)
	other := e.Render(d.Header) // same header, new signature and body: other bytes
	_, err := e.Service.Archive(context.Background(), Caller(d.Org), other)
	if !errors.Is(err, archive.ErrConflict) {
		t.Fatalf("same id with other bytes: %v, want conflict", err)
	}
}

func testReplacement(t *testing.T, e *Env) {
	ctx := context.Background()
	d := e.Next()
	v1 := e.Archive(d)
	v2raw := e.Replacement(d, d.Header.ID+".2", nil)
	v2, err := e.Service.Archive(ctx, Caller(d.Org), v2raw)
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := e.Service.Get(ctx, Caller(d.Org), v1.Header.ID)
	if err != nil {
		t.Fatal(err)
	}
	if old.Status != archive.StatusSuperseded || v2.Status != archive.StatusCurrent {
		t.Fatalf("statuses after replacement: v1 %s, v2 %s", old.Status, v2.Status)
	}
	hist, err := e.Service.History(ctx, Caller(d.Org), d.Header.SetID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Header.Version != 1 || hist[1].Header.Version != 2 {
		t.Fatalf("history: %d versions", len(hist))
	}
	cur, err := e.Service.Search(ctx, Caller(d.Org), archive.Query{ClientKey: v1.ClientKey(), Statuses: []archive.Status{archive.StatusCurrent}})
	if err != nil || len(cur.Records) != 1 || cur.Records[0].Header.ID != v2.Header.ID {
		t.Fatalf("current-only search: %v %v", cur, err)
	}
	log := e.AccessLog(v1.ClientKey())
	last := log[len(log)-1]
	if last.Action != archive.ActionSearch {
		t.Fatalf("last log entry %+v", last)
	}
}

func testConcurrentReplacements(t *testing.T, e *Env) {
	ctx := context.Background()
	d := e.Next()
	e.Archive(d)
	const n = 8
	docs := make([][]byte, n)
	for i := range docs {
		docs[i] = e.Replacement(d, fmt.Sprintf("%s.%d", d.Header.ID, 100+i), nil)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, errs[i] = e.Service.Archive(ctx, Caller(d.Org), docs[i])
		}(i)
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, archive.ErrConflict):
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent replacements won, want exactly 1", wins, n)
	}
	hist, err := e.Service.History(ctx, Caller(d.Org), d.Header.SetID)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history after the race: %d versions, %v", len(hist), err)
	}
	refused := 0
	for _, l := range e.AccessLog(archive.ClientKey(d.Header.Client.ID)) {
		if l.Action == archive.ActionArchive && l.Outcome == archive.OutcomeRefused {
			refused++
		}
	}
	if refused != n-1 {
		t.Errorf("%d refusals logged, want %d", refused, n-1)
	}
}

func testReplacementRules(t *testing.T, e *Env) {
	ctx := context.Background()
	d := e.Next()
	e.Archive(d)
	c := Caller(d.Org)
	// v2 then a second v2 (parent no longer current).
	if _, err := e.Service.Archive(ctx, c, e.Replacement(d, d.Header.ID+".2", nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.Archive(ctx, c, e.Replacement(d, d.Header.ID+".3", nil)); !errors.Is(err, archive.ErrConflict) {
		t.Errorf("replacing a superseded version: %v, want conflict", err)
	}
	// Parent missing.
	orphan := e.Replacement(d, d.Header.ID+".4", func(h *cda.Header) {
		h.SetID = d.Header.ID + ".999"
		h.Replaces = &cda.Parent{ID: d.Header.ID + ".999", SetID: d.Header.ID + ".999", Version: 1}
	})
	if _, err := e.Service.Archive(ctx, c, orphan); !errors.Is(err, archive.ErrConflict) || !strings.Contains(err.Error(), "not in the archive") {
		t.Errorf("replacing a missing version: %v", err)
	}
	// Another client.
	d2 := e.Next()
	e.Archive(d2)
	if d2.Client.ID == d.Client.ID {
		d2 = e.Next()
		e.Archive(d2)
	}
	other := e.Replacement(d2, d2.Header.ID+".2", func(h *cda.Header) { h.Client = d.Header.Client })
	if _, err := e.Service.Archive(ctx, Caller(d2.Org), other); !errors.Is(err, archive.ErrConflict) || !strings.Contains(err.Error(), "same client") {
		t.Errorf("replacement for another client: %v", err)
	}
}

func testNullify(t *testing.T, e *Env) {
	ctx := context.Background()
	d := e.Next()
	rec := e.Archive(d)
	c := Caller(d.Org)
	if _, err := e.Service.Nullify(ctx, c, rec.Header.ID, "", ""); !errors.Is(err, archive.ErrInvalid) {
		t.Fatalf("nullify without reason: %v", err)
	}
	n, err := e.Service.Nullify(ctx, c, rec.Header.ID, "wrong-client", "Kirjattu väärälle asiakkaalle")
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != archive.StatusNullified || n.Nullification == nil || n.Nullification.By.System != c.System {
		t.Fatalf("nullified record %+v", n)
	}
	if _, err := e.Service.Nullify(ctx, c, rec.Header.ID, "x", "again"); !errors.Is(err, archive.ErrConflict) {
		t.Errorf("second nullification: %v", err)
	}
	def, _ := e.Service.Search(ctx, c, archive.Query{ClientKey: rec.ClientKey()})
	for _, r := range def.Records {
		if r.Header.ID == rec.Header.ID {
			t.Error("nullified document in a default search")
		}
	}
	nul, err := e.Service.Search(ctx, c, archive.Query{ClientKey: rec.ClientKey(), Statuses: []archive.Status{archive.StatusNullified}})
	if err != nil || len(nul.Records) != 1 || nul.Records[0].Nullification.ReasonCode != "wrong-client" {
		t.Fatalf("status=nullified search: %v %v", nul, err)
	}
	got, _, err := e.Service.Get(ctx, c, rec.Header.ID)
	if err != nil || got.Status != archive.StatusNullified {
		t.Fatalf("get nullified: %v", err)
	}
	if _, err := e.Service.Archive(ctx, c, e.Replacement(d, d.Header.ID+".2", nil)); !errors.Is(err, archive.ErrConflict) {
		t.Errorf("replacing a nullified version: %v, want conflict", err)
	}
}

func otherOrg(e *Env, o *gen.Organisation) *gen.Organisation {
	for _, x := range e.World.Organisations {
		if x != o {
			return x
		}
	}
	panic("one organisation only")
}

func testOtherOrganisation(t *testing.T, e *Env) {
	ctx := context.Background()
	d := e.Next()
	rec := e.Archive(d)
	intruder := Caller(otherOrg(e, d.Org))
	// Everything the intruder may not know of answers as if it did not exist.
	if _, _, err := e.Service.Get(ctx, intruder, rec.Header.ID); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("other organisation's read: %v, want not found", err)
	}
	page, err := e.Service.Search(ctx, intruder, archive.Query{ClientKey: rec.ClientKey()})
	if err != nil || len(page.Records) != 0 {
		t.Fatalf("other organisation's search found %d, %v", len(page.Records), err)
	}
	_, err = e.Service.History(ctx, intruder, rec.Header.SetID)
	_, errMissing := e.Service.History(ctx, intruder, rec.Header.SetID+"404")
	if !errors.Is(err, archive.ErrNotFound) || strings.ReplaceAll(err.Error(), rec.Header.SetID, "") != strings.ReplaceAll(errMissing.Error(), rec.Header.SetID+"404", "") {
		t.Errorf("other organisation's history: %v; of a set that does not exist: %v", err, errMissing)
	}
	_, err = e.Service.Versions(ctx, intruder, rec.Header.ID)
	_, errMissing = e.Service.Versions(ctx, intruder, rec.Header.ID+"404")
	if !errors.Is(err, archive.ErrNotFound) || strings.ReplaceAll(err.Error(), rec.Header.ID, "") != strings.ReplaceAll(errMissing.Error(), rec.Header.ID+"404", "") {
		t.Errorf("other organisation's versions: %v; of a document that does not exist: %v", err, errMissing)
	}
	if _, err := e.Service.Nullify(ctx, intruder, rec.Header.ID, "x", "y"); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("other organisation's nullification: %v", err)
	}
	if _, err := e.Service.Archive(ctx, intruder, d.XML); !errors.Is(err, archive.ErrForbidden) {
		t.Errorf("other organisation re-submitting: %v", err)
	}
	// A document of the intruder's own register that takes the id of the
	// owner's version: the id is taken, and nothing more is said.
	intruderOrg := otherOrg(e, d.Org)
	taken := e.Render(func() *cda.Header {
		h := *d.Header
		h.Custodian = cda.Organisation{OID: intruderOrg.ControllerOID(), Name: intruderOrg.Name}
		if h.Organiser.OID != "" {
			h.Organiser = h.Custodian
		}
		other, err := hetu.Make(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), 998, '-') // not the owner's client
		if err != nil {
			t.Fatal(err)
		}
		h.Client.ID.Extension = other
		return &h
	}())
	_, err = e.Service.Archive(ctx, intruder, taken)
	if !errors.Is(err, archive.ErrConflict) || strings.Contains(err.Error(), d.Org.ControllerOID()) || strings.Contains(err.Error(), d.Header.Client.ID.Extension) {
		t.Errorf("a document with a taken id: %v, want a conflict naming neither the owner nor its client", err)
	}
	probed := false
	for _, l := range e.AccessLog(rec.ClientKey()) {
		if l.Action == archive.ActionArchive && l.Outcome == archive.OutcomeRefused && l.Caller.Organisation == intruder.Organisation &&
			l.Custodian == d.Org.ControllerOID() && len(l.Documents) == 1 && l.Documents[0] == rec.Header.ID {
			probed = true
		}
	}
	if !probed {
		t.Error("the attempt on the owner's document id is not in the owner's log")
	}
	other := e.Next()
	for other.Org == d.Org {
		other = e.Next()
	}
	if _, err := e.Service.Archive(ctx, Caller(d.Org), other.XML); !errors.Is(err, archive.ErrForbidden) {
		t.Errorf("archiving into another organisation's register: %v", err)
	}
	wrongPurpose := Caller(d.Org)
	wrongPurpose.Purpose = "2"
	if _, _, err := e.Service.Get(ctx, wrongPurpose, rec.Header.ID); !errors.Is(err, archive.ErrForbidden) {
		t.Errorf("unsupported purpose: %v", err)
	}
	var refusedRead bool
	for _, l := range e.AccessLog(rec.ClientKey()) {
		if l.Action == archive.ActionRead && l.Outcome == archive.OutcomeRefused && l.Caller.Organisation == intruder.Organisation && l.Documents[0] == rec.Header.ID {
			refusedRead = true
		}
	}
	if !refusedRead {
		t.Error("the refused read is not in the log")
	}
}

func testInvalidDocument(t *testing.T, e *Env) {
	ctx := context.Background()
	d := e.Next()
	bad := bytes.Replace(d.XML, []byte(`<versionNumber value="1"/>`), []byte(`<versionNumber value="x"/>`), 1)
	_, err := e.Service.Archive(ctx, Caller(d.Org), bad)
	var ae *archive.Error
	if !errors.As(err, &ae) || !errors.Is(err, archive.ErrInvalid) || !ae.Problems.Has(cda.RuleVersion) {
		t.Fatalf("invalid version: %v", err)
	}
	if _, _, err := e.Service.Get(ctx, Caller(d.Org), d.Header.ID); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("invalid document was stored: %v", err)
	}
	log := e.AccessLog(archive.ClientKey(d.Header.Client.ID))
	if len(log) == 0 || log[0].Outcome != archive.OutcomeRefused || !strings.Contains(log[0].Reason, cda.RuleVersion) {
		t.Fatalf("refusal not logged: %+v", log)
	}
	// Tampered body: signature fails.
	i := bytes.Index(d.XML, []byte(`representation="B64">`)) + len(`representation="B64">`) + 10
	tampered := append([]byte(nil), d.XML...)
	if tampered[i] == 'A' {
		tampered[i] = 'B'
	} else {
		tampered[i] = 'A'
	}
	if _, err := e.Service.Archive(ctx, Caller(d.Org), tampered); !errors.As(err, &ae) || !ae.Problems.Has(xmldsig.RuleDigest) {
		t.Fatalf("tampered body: %v", err)
	}
}

func testUntrustedSigner(t *testing.T, e *Env) {
	ctx := context.Background()
	other, err := gen.NewPKI(gen.PKIOptions{Seed: 99, KeyType: pki.P256, Organisations: 1, ProfessionalsPerOrg: 1})
	if err != nil {
		t.Fatal(err)
	}
	d, err := gen.New(other, gen.Options{Clients: 1}).Next()
	if err != nil {
		t.Fatal(err)
	}
	c := archive.Caller{System: "x", Organisation: d.Org.ControllerOID(), Purpose: "1"}
	_, err = e.Service.Archive(ctx, c, d.XML)
	var ae *archive.Error
	if !errors.As(err, &ae) || !ae.Problems.Has(xmldsig.RuleChain) {
		t.Fatalf("untrusted signer: %v", err)
	}
}

func testSearch(t *testing.T, e *Env) {
	ctx := context.Background()
	var docs []*gen.Doc
	for len(docs) < 12 {
		d := e.Next()
		if d.Org != e.World.Organisations[0] {
			continue
		}
		e.Archive(d)
		docs = append(docs, d)
	}
	c := Caller(docs[0].Org)
	var plan *gen.Doc
	for _, d := range docs {
		if d.Header.DocumentGroup.Code == codes.GroupLaterPhase {
			plan = d
			break
		}
	}
	if plan == nil {
		t.Fatal("no plan generated")
	}
	h := plan.Header
	key := archive.ClientKey(h.Client.ID)
	count := func(pred func(*cda.Header) bool) int {
		n := 0
		for _, d := range docs {
			if archive.ClientKey(d.Header.Client.ID) == key && pred(d.Header) {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name string
		q    archive.Query
		pred func(*cda.Header) bool
	}{
		{"client", archive.Query{}, func(*cda.Header) bool { return true }},
		{"register", archive.Query{Registers: []string{"1"}}, func(*cda.Header) bool { return true }},
		{"custodian", archive.Query{Custodians: []string{h.Custodian.OID}}, func(x *cda.Header) bool { return x.Custodian.OID == h.Custodian.OID }},
		{"service task", archive.Query{ServiceTasks: []string{"24"}}, func(x *cda.Header) bool { return x.ServiceTask.Code == "24" }},
		{"general type", archive.Query{GeneralTypes: []string{"15"}}, func(x *cda.Header) bool { return x.GeneralType.Code == "15" }},
		{"specific type", archive.Query{SpecificTypes: []string{"15007"}}, func(x *cda.Header) bool { return x.SpecificType.Code == "15007" }},
		{"document group", archive.Query{DocumentGroups: []string{"1"}}, func(x *cda.Header) bool { return x.DocumentGroup.Code == "1" }},
		{"case", archive.Query{Cases: []string{h.Case.ID}}, func(x *cda.Header) bool { return x.Case.ID == h.Case.ID }},
		{"client relationship", archive.Query{ClientRelationship: []string{h.ClientRelationshipID}}, func(x *cda.Header) bool { return x.ClientRelationshipID == h.ClientRelationshipID }},
		{"service unit", archive.Query{ServiceUnits: []string{h.Case.ServiceUnit.OID}}, func(x *cda.Header) bool { return x.Case.ServiceUnit.OID == h.Case.ServiceUnit.OID }},
		{"from", archive.Query{From: h.EffectiveTime}, func(x *cda.Header) bool { return !x.EffectiveTime.Before(h.EffectiveTime) }},
		{"to", archive.Query{To: h.EffectiveTime}, func(x *cda.Header) bool { return x.EffectiveTime.Before(h.EffectiveTime) }},
		{"no match", archive.Query{ServiceTasks: []string{"99"}}, func(*cda.Header) bool { return false }},
	}
	for _, tt := range tests {
		q := tt.q
		q.ClientKey = key
		page, err := e.Service.Search(ctx, c, q)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if want := count(tt.pred); len(page.Records) != want {
			t.Errorf("%s: %d records, want %d", tt.name, len(page.Records), want)
		}
		for i := 1; i < len(page.Records); i++ {
			if page.Records[i].Header.EffectiveTime.After(page.Records[i-1].Header.EffectiveTime) {
				t.Errorf("%s: not newest first", tt.name)
			}
		}
	}
	if _, err := e.Service.Search(ctx, c, archive.Query{Statuses: []archive.Status{"bogus"}}); !errors.Is(err, archive.ErrInvalid) {
		t.Errorf("bogus status: %v", err)
	}
	if _, err := e.Service.Search(ctx, c, archive.Query{Cursor: "!!"}); !errors.Is(err, archive.ErrInvalid) {
		t.Errorf("bogus cursor: %v", err)
	}
}

func testPaging(t *testing.T, e *Env) {
	ctx := context.Background()
	org := e.World.Organisations[0]
	n := 0
	for n < 9 {
		d := e.Next()
		if d.Org == org {
			e.Archive(d)
			n++
		}
	}
	c := Caller(org)
	all, err := e.Service.Search(ctx, c, archive.Query{Limit: 100})
	if err != nil || len(all.Records) != n || all.Next != "" {
		t.Fatalf("unpaged: %d, next %q, %v", len(all.Records), all.Next, err)
	}
	var paged []string
	q := archive.Query{Limit: 2}
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatal("paging does not end")
		}
		p, err := e.Service.Search(ctx, c, q)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != n {
			t.Errorf("page %d: total %d, want %d", pages, p.Total, n)
		}
		for _, r := range p.Records {
			paged = append(paged, r.Header.ID)
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if len(paged) != len(all.Records) {
		t.Fatalf("paged %d, unpaged %d", len(paged), len(all.Records))
	}
	for i, r := range all.Records {
		if paged[i] != r.Header.ID {
			t.Fatalf("page order differs at %d", i)
		}
	}
	if all.Total != n {
		t.Errorf("total %d, want %d", all.Total, n)
	}
	// The total of a first page that holds every match, exactly or with
	// room to spare, of one that does not, of a count alone and of none.
	for _, tc := range []struct {
		q    archive.Query
		want int
	}{
		{archive.Query{Limit: n}, n},
		{archive.Query{Limit: n - 1}, n},
		{archive.Query{Limit: n + 1}, n},
		{archive.Query{Limit: 1, CountOnly: true}, n},
		{archive.Query{Limit: 5, Cases: []string{"1.2.246.10.999999.1"}}, 0},
	} {
		p, err := e.Service.Search(ctx, c, tc.q)
		if err != nil || p.Total != tc.want {
			t.Errorf("limit %d, count only %v, cases %v: total %d, want %d (%v)", tc.q.Limit, tc.q.CountOnly, tc.q.Cases, p.Total, tc.want, err)
		}
	}

	// A cursor is bound to its caller and its search: replayed by another
	// caller, or with other criteria, it is refused; the page size may
	// change between pages.
	first, err := e.Service.Search(ctx, c, archive.Query{Limit: 2})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %v", err)
	}
	other := c
	other.Person = "10000000002"
	otherSystem := Caller(otherOrg(e, org))
	for name, tt := range map[string]struct {
		c archive.Caller
		q archive.Query
	}{
		"another professional":   {other, archive.Query{Limit: 2, Cursor: first.Next}},
		"another organisation":   {otherSystem, archive.Query{Limit: 2, Cursor: first.Next}},
		"other criteria":         {c, archive.Query{Limit: 2, Cursor: first.Next, Statuses: []archive.Status{archive.StatusCurrent, archive.StatusSuperseded, archive.StatusNullified}}},
		"a forged position":      {c, archive.Query{Limit: 2, Cursor: archive.EncodeCursor(time.Now(), "1.2.3") + first.Next[strings.Index(first.Next, "."):]}},
		"a position without MAC": {c, archive.Query{Limit: 2, Cursor: archive.EncodeCursor(time.Now(), "1.2.3")}},
	} {
		_, err := e.Service.Search(ctx, tt.c, tt.q)
		var ae *archive.Error
		if !errors.As(err, &ae) || !errors.Is(err, archive.ErrInvalid) || !ae.Problems.Has("QUERY_CURSOR") {
			t.Errorf("%s: got %v, want QUERY_CURSOR", name, err)
		}
	}
	if p, err := e.Service.Search(ctx, c, archive.Query{Limit: 5, Cursor: first.Next}); err != nil || len(p.Records) != 5 || p.Records[0].Header.ID != all.Records[2].Header.ID {
		t.Errorf("the next page with another page size: %v", err)
	}
}

// failingLog wraps a store so that appending to the access log fails.
type failingLog struct{ archive.Store }

func (f failingLog) Update(ctx context.Context, fn func(archive.Tx) error) error {
	return f.Store.Update(ctx, func(tx archive.Tx) error { return fn(failingTx{tx}) })
}

type failingTx struct{ archive.Tx }

func (failingTx) AppendAccess(context.Context, *archive.AccessEntry) error {
	return errors.New("log disk full")
}

func testLogAtomicity(t *testing.T, e *Env) {
	ctx := context.Background()
	d := e.Next()
	broken := archive.NewService(failingLog{e.Store}, archive.Rules{}, archive.Config{}, nil)
	if _, err := broken.Archive(ctx, Caller(d.Org), d.XML); err == nil {
		t.Fatal("archiving succeeded although its log entry could not be written")
	}
	if _, _, err := e.Service.Get(ctx, Caller(d.Org), d.Header.ID); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("document stored without its log entry: %v", err)
	}
	e.Archive(d)
	if _, _, err := broken.Get(ctx, Caller(d.Org), d.Header.ID); err == nil {
		t.Fatal("a read was served although its log entry could not be written")
	}
}

func testControllerLog(t *testing.T, e *Env) {
	ctx := context.Background()
	d := e.Next()
	rec := e.Archive(d)
	intruder := Caller(otherOrg(e, d.Org))
	e.Service.Get(ctx, intruder, rec.Header.ID)
	own, err := e.Service.AccessLog(ctx, Caller(d.Org), rec.ClientKey(), 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(own) != 2 {
		t.Fatalf("controller sees %d entries, want 2 (its archive and the intruder's refused read)", len(own))
	}
	third := e.World.Organisations[len(e.World.Organisations)-1]
	if third == d.Org || third.ControllerOID() == intruder.Organisation {
		return
	}
	theirs, err := e.Service.AccessLog(ctx, Caller(third), rec.ClientKey(), 100, 0)
	if err != nil || len(theirs) != 0 {
		t.Fatalf("an unrelated organisation sees %d entries, %v", len(theirs), err)
	}
}

func testSubmissionAllOrNothing(t *testing.T, e *Env) {
	ctx := context.Background()
	org := e.World.Organisations[0]
	var docs []*gen.Doc
	for len(docs) < 2 {
		if d := e.Next(); d.Org == org {
			docs = append(docs, d)
		}
	}
	var foreign *gen.Doc
	for foreign == nil {
		if d := e.Next(); d.Org != org {
			foreign = d
		}
	}
	c := Caller(org)
	// The third document belongs to another register: nothing is stored.
	_, err := e.Service.Submit(ctx, c, [][]byte{docs[0].XML, docs[1].XML, foreign.XML}, nil)
	var ae *archive.Error
	if !errors.As(err, &ae) || !errors.Is(err, archive.ErrForbidden) || ae.Index != 2 {
		t.Fatalf("submission with a foreign document: %v", err)
	}
	for _, d := range docs {
		if _, _, err := e.Service.Get(ctx, c, d.Header.ID); !errors.Is(err, archive.ErrNotFound) {
			t.Fatalf("document %s stored although its submission was refused: %v", d.Header.ID, err)
		}
		refused := false
		for _, l := range e.AccessLog(archive.ClientKey(d.Header.Client.ID)) {
			if l.Action == archive.ActionArchive && l.Outcome == archive.OutcomeRefused && slices.Contains(l.Documents, d.Header.ID) {
				refused = true
			}
		}
		if !refused {
			t.Errorf("refusal of %s not logged", d.Header.ID)
		}
	}
	// An invalid document refuses the whole submission too.
	bad := bytes.Replace(docs[1].XML, []byte(`<realmCode code="FI"/>`), []byte(`<realmCode code="SE"/>`), 1)
	_, err = e.Service.Submit(ctx, c, [][]byte{docs[0].XML, bad}, nil)
	if !errors.As(err, &ae) || !errors.Is(err, archive.ErrInvalid) || ae.Index != 1 || !ae.Problems.Has(cda.RuleFixed) {
		t.Fatalf("submission with an invalid document: %v", err)
	}
	res, err := e.Service.Submit(ctx, c, [][]byte{docs[0].XML, docs[1].XML}, nil)
	if err != nil || len(res) != 2 || !res[0].Created || !res[1].Created {
		t.Fatalf("valid submission: %v %+v", err, res)
	}
	again, err := e.Service.Submit(ctx, c, [][]byte{docs[0].XML}, nil)
	if err != nil || again[0].Created {
		t.Fatalf("re-submission reported as created: %v", err)
	}
}

func testCasePeriod(t *testing.T, e *Env) {
	ctx := context.Background()
	org := e.World.Organisations[0]
	d := e.Next()
	for d.Org != org || d.Header.Case.Opened == nil {
		d = e.Next()
	}
	rec := e.Archive(d)
	c := Caller(org)
	opened := *d.Header.Case.Opened
	tests := []struct {
		name  string
		q     archive.Query
		found bool
	}{
		{"open case reaches a later date", archive.Query{PeriodFrom: opened.AddDate(1, 0, 0)}, true},
		{"period starting after the case opened", archive.Query{PeriodTo: opened.Add(time.Second)}, true},
		{"period ending before the case opened", archive.Query{PeriodTo: opened.Add(-time.Second)}, false},
		{"service process", archive.Query{ServiceProcesses: []string{d.Header.ServiceProcess.Code.Code}}, true},
		{"other service process", archive.Query{ServiceProcesses: []string{"99"}}, false},
	}
	for _, tt := range tests {
		q := tt.q
		q.ClientKey = rec.ClientKey()
		page, err := e.Service.Search(ctx, c, q)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range page.Records {
			found = found || r.Header.ID == rec.Header.ID
		}
		if found != tt.found {
			t.Errorf("%s: found %v, want %v", tt.name, found, tt.found)
		}
	}
}

// testAccessRules runs the access decision table through the service.
func testAccessRules(t *testing.T, e *Env) {
	w := AccessWorld(t)
	ctx := context.Background()
	if err := archive.NewAdmin(e.Store, quiet).Apply(ctx, w.Setup(true)); err != nil {
		t.Fatal(err)
	}
	RunAccessTable(t, ServiceDriver{e.Service}, e.Service, e.Store, w)
}

// testDisclosureRules runs the disclosure decision table through the
// service.
func testDisclosureRules(t *testing.T, e *Env) {
	w := AccessWorld(t)
	if err := archive.NewAdmin(e.Store, quiet).Apply(context.Background(), w.Setup(true)); err != nil {
		t.Fatal(err)
	}
	RunDisclosureTable(t, ServiceDriver{e.Service}, w)
}

// testRelationshipKept: a client relationship document's statement is
// kept, updated by its replacement and withdrawn by a nullification.
func testRelationshipKept(t *testing.T, e *Env) {
	ctx := context.Background()
	d := e.Next() // each client starts with a client relationship document
	if d.Header.DocumentGroup.Code != codes.GroupClientRelationship {
		t.Fatal("the first generated document is not a client relationship document")
	}
	e.Archive(d)
	key := archive.ClientKey(d.Header.Client.ID)
	get := func() (*archive.Relationship, error) {
		var r *archive.Relationship
		err := e.Store.View(ctx, func(tx archive.Tx) error {
			var err error
			r, err = tx.Relationship(ctx, archive.RelationshipKey{ClientKey: key, Organiser: d.Org.ControllerOID(), ID: d.Header.ClientRelationshipID})
			return err
		})
		return r, err
	}
	r, err := get()
	if err != nil {
		t.Fatal(err)
	}
	if r.Organiser != d.Org.ControllerOID() || r.Document != d.Header.ID || r.Stated == nil || len(r.Stated.Tasks) != 1 ||
		r.Stated.Tasks[0].Code != "24" || len(r.Stated.Tasks[0].Units) != 1 || len(r.Stated.Tasks[0].Providers) != 1 {
		t.Fatalf("stored relationship %+v", r)
	}
	v2 := e.Replacement(d, d.Header.ID+".2", nil)
	if _, err := e.Service.Archive(ctx, Caller(d.Org), v2); err != nil {
		t.Fatal(err)
	}
	if r, err = get(); err != nil || r.Document != d.Header.ID+".2" || len(r.Stated.Tasks[0].Providers) != 0 {
		t.Fatalf("after the replacement: %+v %v", r, err)
	}
	if _, err := e.Service.Nullify(ctx, Caller(d.Org), d.Header.ID+".2", "wrong", "Väärä asiakkuus"); err != nil {
		t.Fatal(err)
	}
	if _, err := get(); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("after the nullification: %v", err)
	}
}
