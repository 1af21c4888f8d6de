package fhirapi_test

// Helpers of the end-to-end suite: a test PKI made once per package, a
// real HTTPS server per test over a SQLite store, mTLS clients with fresh
// tokens per request, ITI-65 Bundle builders and response assertions.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/auth"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/server"
	"github.com/arkisto/arkisto/internal/storetest"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// dumpEnv names a directory where the suite writes real response bodies
// for an independent FHIR validator.
const dumpEnv = "ARKISTO_FHIR_DUMP"

// dumpFiles are the files a full run writes into $ARKISTO_FHIR_DUMP.
var dumpFiles = []string{
	"capabilitystatement.json",
	"documentreference.json",
	"searchset-bundle.json",
	"transaction-response-bundle.json",
	"auditevent-bundle.json",
	"operationoutcome-422.json",
	"operationoutcome-401.json",
	"operationoutcome-403.json",
	"nullified-documentreference.json",
	"patient.json",
	"patient-searchset-bundle.json",
	"searchset-lenient-bundle.json",
	"searchset-count-bundle.json",
	"binary.json",
	"list.json",
	"list-searchset-bundle.json",
	"provide-bundle.json",
}

// TestMain checks, after a full run with the dump hook on, that every
// dump file was written.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	dir := os.Getenv(dumpEnv)
	if run := flag.Lookup("test.run"); code == 0 && dir != "" && (run == nil || run.Value.String() == "") {
		for _, f := range dumpFiles {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %s was not written: %v\n", dumpEnv, f, err)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// dump writes a response body into $ARKISTO_FHIR_DUMP when it is set.
func dump(t *testing.T, name string, r *resp) {
	t.Helper()
	dir := os.Getenv(dumpEnv)
	if dir == "" {
		return
	}
	if !json.Valid(r.Body) {
		t.Fatalf("dump %s: the body is not JSON: %q", name, r.Body)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), r.Body, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The test world: made once per package, P-256 keys for speed.
var (
	worldOnce  sync.Once
	world      *gen.PKI
	serverCert tls.Certificate
	worldErr   error
)

func testWorld(t testing.TB) *gen.PKI {
	t.Helper()
	worldOnce.Do(func() {
		world, worldErr = gen.NewPKI(gen.PKIOptions{Seed: 42, KeyType: pki.P256})
		if worldErr != nil {
			return
		}
		var id *pki.Identity
		id, worldErr = world.CA.Issue(pki.Template{
			Subject: pkix.Name{CommonName: "arkisto e2e server"}, KeyType: pki.P256, TLSServer: true,
			IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		})
		if worldErr != nil {
			return
		}
		serverCert = tlsCert(id)
	})
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return world
}

func tlsCert(id *pki.Identity) tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}
	for _, x := range id.Chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c
}

var (
	backendsMu sync.Mutex
	backends   = map[*testing.T]storetest.Backend{}
)

// forEachBackend runs an end-to-end test once per storage backend; the
// test's newEnv uses that backend.
func forEachBackend(t *testing.T, test func(t *testing.T)) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		backendsMu.Lock()
		backends[t] = b
		backendsMu.Unlock()
		t.Cleanup(func() {
			backendsMu.Lock()
			delete(backends, t)
			backendsMu.Unlock()
		})
		test(t)
	})
}

func backendOf(t *testing.T) storetest.Backend {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	b, ok := backends[t]
	if !ok {
		t.Fatal("newEnv called outside forEachBackend")
	}
	return b
}

// env is one running archive: a store of the backend under test, the
// test world trusted and onboarded, and the HTTPS server.
type env struct {
	t     *testing.T
	world *gen.PKI
	store archive.Store
	svc   *archive.Service
	run   *server.Running
	root  string // https://127.0.0.1:port
	gen   *gen.Generator

	mu      sync.Mutex
	clients []*http.Client

	twinStore archive.Store // a second store on the same archive (envOptions.twin)
}

type envOptions struct {
	// twin opens a second store on the same archive, for a second server
	// (startTwin).
	twin    bool
	maxBody int64
	gen     gen.Options
	world   *gen.PKI // the organisations and systems to onboard; default testWorld

	// maxDocs and maxConcurrent are the submission limits (0: defaults).
	maxDocs, maxConcurrent int
	logs                   slog.Handler // the operator log; default discarded
}

func newEnv(t *testing.T) *env { return newEnvWith(t, envOptions{}) }

func newEnvWith(t *testing.T, opt envOptions) *env {
	t.Helper()
	w := testWorld(t) // also makes the server certificate
	if opt.world != nil {
		w = opt.world
	}
	ctx := context.Background()
	var st, twin archive.Store
	if opt.twin {
		st, twin = backendOf(t).OpenTwo(t)
	} else {
		st = backendOf(t).Open(t)
	}
	err := archive.NewAdmin(st, slog.New(slog.DiscardHandler)).Apply(ctx, w.Setup(true))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if opt.logs != nil {
		logger = slog.New(opt.logs)
	}
	svc := archive.NewService(st, archive.Rules{}, archive.Config{}, logger)
	run, err := server.Start(ctx, svc, server.Options{Listen: "127.0.0.1:0", Cert: serverCert, MaxBody: opt.maxBody, Logger: logger, Store: st,
		MaxSubmissionDocuments: opt.maxDocs, MaxConcurrentSubmissions: opt.maxConcurrent})
	if err != nil {
		t.Fatal(err)
	}
	if opt.gen.Clients == 0 {
		opt.gen.Clients = 4
	}
	e := &env{t: t, world: w, store: st, svc: svc, run: run, root: "https://" + run.Addr, gen: gen.New(w, opt.gen), twinStore: twin}
	t.Cleanup(func() {
		e.mu.Lock()
		for _, c := range e.clients {
			c.CloseIdleConnections()
		}
		e.mu.Unlock()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := run.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		// The backend closes the store after this cleanup.
	})
	return e
}

// startTwin starts a second server on the same archive (the env must have
// been made with envOptions.twin), as a second server behind a load
// balancer, and returns its root URL.
func (e *env) startTwin() string {
	e.t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := archive.NewService(e.twinStore, archive.Rules{}, archive.Config{}, logger)
	run, err := server.Start(context.Background(), svc, server.Options{Listen: "127.0.0.1:0", Cert: serverCert, Logger: logger, Store: e.twinStore})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		run.Shutdown(sctx)
	})
	return "https://" + run.Addr
}

// httpClient is a real mTLS client presenting the identity's certificate
// (none when id is nil) and trusting the test CA.
func (e *env) httpClient(id *pki.Identity) *http.Client {
	cfg := &tls.Config{RootCAs: testWorld(e.t).Roots(), MinVersion: tls.VersionTLS12} // the server certificate's CA
	if id != nil {
		cfg.Certificates = []tls.Certificate{tlsCert(id)}
	}
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: 16}}
	e.mu.Lock()
	e.clients = append(e.clients, c)
	e.mu.Unlock()
	return c
}

// caller is a client information system with a professional using it.
type caller struct {
	e      *env
	id     *pki.Identity
	key    crypto.Signer // signs the tokens
	client *http.Client
	sub    string // professional registration number
	name   string
	unit   string
	org    *gen.Organisation
	// purpose (default 1) and a broad search's justification
	purpose, justification, justificationText string
}

const testProfessional = "10000000001"

// tokenPath is a cheap request that needs a token and answers 200: the
// Patient search for an id the archive never gave (GET /fhir/metadata
// needs none).
const tokenPath = "/fhir/Patient?_id=00000000000000000000000000000000"

func (e *env) as(o *gen.Organisation) *caller {
	return e.asIdentity(o, o.System)
}

// asIdentity calls with another certificate on behalf of the organisation.
func (e *env) asIdentity(o *gen.Organisation, id *pki.Identity) *caller {
	return &caller{e: e, id: id, key: id.Key, client: e.httpClient(id), sub: testProfessional, name: "Testi Käyttäjä", unit: o.Units[1].OID, org: o}
}

func (c *caller) claims() auth.Claims {
	purpose := c.purpose
	if purpose == "" {
		purpose = codes.UsageOwnRegister
	}
	cl := auth.NewClaims(c.sub, c.name, c.unit, purpose, 5*time.Minute)
	cl.Justification, cl.JustificationText = c.justification, c.justificationText
	return cl
}

// token signs a fresh token for one request.
func (c *caller) token() string {
	c.e.t.Helper()
	return signClaims(c.e.t, c.key, c.claims())
}

func signClaims(t *testing.T, key crypto.Signer, cl auth.Claims) string {
	t.Helper()
	tok, err := auth.Sign(key, cl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// resp is a response read in full.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *resp) String() string {
	b := r.Body
	if len(b) > 2000 {
		b = b[:2000]
	}
	return fmt.Sprintf("HTTP %d %s", r.Status, b)
}

func (c *caller) url(path string) string {
	if strings.HasPrefix(path, "https://") {
		return path
	}
	return c.e.root + path
}

// send makes one request with the given Authorization header value (none
// when empty) and returns the response or the transport error.
func (c *caller) send(method, path string, body []byte, contentType, authz string) (*resp, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url(path), rd)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	req.Header.Set("Accept", fhirapi.ContentFHIRJSON)
	if strings.Contains(path, "/fhir/Binary/") {
		req.Header.Set("Accept", fhirapi.ContentCDA) // ITI-68: the document itself
	}
	res, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &resp{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}

// do makes a request with a fresh token and fails the test on a transport error.
func (c *caller) do(method, path string, body []byte, contentType string) *resp {
	c.e.t.Helper()
	r, err := c.send(method, path, body, contentType, "Bearer "+c.token())
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func (c *caller) get(path string) *resp {
	c.e.t.Helper()
	return c.do(http.MethodGet, path, nil, "")
}

func (c *caller) post(path string, body []byte) *resp {
	c.e.t.Helper()
	return c.do(http.MethodPost, path, body, fhirapi.ContentFHIRJSON)
}

// next generates the next document.
func (e *env) next() *gen.Doc {
	e.t.Helper()
	d, err := e.gen.Next()
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// nextOf generates documents until one of the organisation's comes up.
func (e *env) nextOf(o *gen.Organisation) *gen.Doc {
	e.t.Helper()
	for i := 0; i < 100; i++ {
		if d := e.next(); d.Org == o {
			return d
		}
	}
	e.t.Fatalf("no document of %s generated", o.Name)
	return nil
}

// replacement renders version n+1 of d (RPLC to d) with the new id, signed
// by the custodian's system, as archivetest.Env.Replacement does.
func (e *env) replacement(d *gen.Doc, newID string, mutate func(h *cda.Header)) (*cda.Header, []byte) {
	e.t.Helper()
	h := *d.Header
	h.ID = newID
	h.Version = d.Header.Version + 1
	h.Replaces = &cda.Parent{ID: d.Header.ID, SetID: d.Header.SetID, Version: d.Header.Version}
	h.EffectiveTime = h.EffectiveTime.Add(time.Hour)
	h.CreationTime = h.EffectiveTime
	if mutate != nil {
		mutate(&h)
	}
	body, err := gen.MinimalBody(&h)
	if err != nil {
		e.t.Fatal(err)
	}
	sys := d.Org.System
	signer := &xmldsig.Signer{Key: sys.Key, Cert: sys.Cert, Chain: sys.Chain, TypeCode: codes.SignatureSystem}
	xml, err := gen.Render(&h, body, signer, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return &h, xml
}

// --- ITI-65 Bundles ---

func uuidURN() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return "urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func oidURN(o string) string { return "urn:oid:" + o }

// fullRef is a DocumentReference with every metadata element the door
// compares with the document, taken from the header.
func fullRef(h *cda.Header) *fhirapi.DocumentReference {
	ref := &fhirapi.DocumentReference{
		ResourceType:     "DocumentReference",
		MasterIdentifier: &fhirapi.Identifier{System: fhirapi.SystemURI, Value: oidURN(h.ID)},
		Status:           "current",
		Subject:          &fhirapi.Reference{Identifier: &fhirapi.Identifier{System: oidURN(h.Client.ID.Root), Value: h.Client.ID.Extension}},
		Custodian:        &fhirapi.Reference{Identifier: &fhirapi.Identifier{System: fhirapi.SystemURI, Value: oidURN(h.Custodian.OID)}},
		// date is when the reference is made (FHIR R4); the document's own
		// time is attachment.creation.
		Date:    time.Now().UTC().Format(time.RFC3339),
		Content: []fhirapi.DocumentReferenceContent{{Attachment: fhirapi.Attachment{Creation: h.EffectiveTime.Format(time.RFC3339)}}},
	}
	if h.SpecificType.Code != "" {
		ref.Type = &fhirapi.CodeableConcept{Coding: []fhirapi.Coding{{System: oidURN(codes.OIDDocumentType), Code: h.SpecificType.Code}}}
	} else {
		ref.Type = &fhirapi.CodeableConcept{Coding: []fhirapi.Coding{{System: oidURN(codes.OIDDocumentGroup), Code: h.DocumentGroup.Code}}}
	}
	if h.GeneralType.Code != "" {
		ref.Category = append(ref.Category, fhirapi.CodeableConcept{Coding: []fhirapi.Coding{{System: oidURN(codes.OIDDocumentType), Code: h.GeneralType.Code}}})
	}
	ref.Category = append(ref.Category, fhirapi.CodeableConcept{Coding: []fhirapi.Coding{{System: oidURN(codes.OIDDocumentGroup), Code: h.DocumentGroup.Code}}})
	if h.Replaces != nil {
		ref.RelatesTo = []fhirapi.DocumentReferenceRelatesTo{{Code: "replaces", Target: fhirapi.Reference{Reference: "DocumentReference/" + h.Replaces.ID}}}
	}
	return ref
}

// minimalRef is a DocumentReference with no metadata but its content.
func minimalRef() *fhirapi.DocumentReference {
	return &fhirapi.DocumentReference{ResourceType: "DocumentReference"}
}

// part is one document of a submission.
type part struct {
	xml []byte
	ref *fhirapi.DocumentReference // nil: fullRef is not known; minimal
}

// submission is an ITI-65 Provide Document Bundle and the positions of its entries.
type submission struct {
	body    []byte
	list    int
	refs    []int // entry index of each document's DocumentReference
	bins    []int // entry index of each document's Binary
	refURLs []string
}

func raw(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// provideBundle builds a transaction Bundle: the SubmissionSet List first,
// then per document its DocumentReference and its Binary.
func provideBundle(t *testing.T, parts ...part) *submission {
	t.Helper()
	s := &submission{list: 0}
	listURL := uuidURN()
	type entry = fhirapi.BundleEntry
	entries := []entry{{}} // the List, filled in last
	list := &fhirapi.List{
		ResourceType: "List", Status: "current", Mode: "working",
		Identifier: []fhirapi.Identifier{{Use: "official", System: fhirapi.SystemURI, Value: listURL}}, // the entryUUID (MHD 4.2.3)
		Code:       &fhirapi.CodeableConcept{Coding: []fhirapi.Coding{{System: "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes", Code: "submissionset"}}},
		Date:       time.Now().Format(time.RFC3339),
	}
	for _, p := range parts {
		ref := p.ref
		if ref == nil {
			ref = minimalRef()
		}
		cp := *ref
		refURL, binURL := uuidURN(), uuidURN()
		// The content the DocumentReference gives (creation, format, hash),
		// pointing at the document's Binary.
		cnt := fhirapi.DocumentReferenceContent{}
		if len(ref.Content) == 1 {
			cnt = ref.Content[0]
		}
		cnt.Attachment.ContentType, cnt.Attachment.URL = fhirapi.ContentCDA, binURL
		cp.Content = []fhirapi.DocumentReferenceContent{cnt}
		list.Entry = append(list.Entry, fhirapi.ListEntry{Item: fhirapi.Reference{Reference: refURL}})
		s.refs = append(s.refs, len(entries))
		s.refURLs = append(s.refURLs, refURL)
		entries = append(entries, entry{FullURL: refURL, Resource: raw(t, &cp), Request: &fhirapi.BundleRequest{Method: "POST", URL: "DocumentReference"}})
		s.bins = append(s.bins, len(entries))
		bin := &fhirapi.Binary{ResourceType: "Binary", ContentType: fhirapi.ContentCDA, Data: base64.StdEncoding.EncodeToString(p.xml)}
		entries = append(entries, entry{FullURL: binURL, Resource: raw(t, bin), Request: &fhirapi.BundleRequest{Method: "POST", URL: "Binary"}})
	}
	entries[0] = entry{FullURL: listURL, Resource: raw(t, list), Request: &fhirapi.BundleRequest{Method: "POST", URL: "List"}}
	s.body = raw(t, &fhirapi.Bundle{ResourceType: "Bundle", Type: "transaction", Entry: entries})
	return s
}

// archive submits documents in one Bundle with full metadata and fails the
// test unless every one is created.
func (c *caller) archive(docs ...*gen.Doc) *resp {
	c.e.t.Helper()
	var parts []part
	for _, d := range docs {
		parts = append(parts, part{xml: d.XML, ref: fullRef(d.Header)})
	}
	r := c.post("/fhir", provideBundle(c.e.t, parts...).body)
	if r.Status != http.StatusOK {
		c.e.t.Fatalf("archive: %v", r)
	}
	b := decode[fhirapi.Bundle](c.e.t, r)
	for i, en := range b.Entry {
		if i > 0 && (en.Response == nil || en.Response.Status != "201 Created") {
			c.e.t.Fatalf("archive: entry %d: %+v", i, en.Response)
		}
	}
	return r
}

// --- decoding and assertions ---

func decode[T any](t *testing.T, r *resp) T {
	t.Helper()
	var v T
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, fhirapi.ContentFHIRJSON) {
		t.Fatalf("Content-Type %q, want %s: %v", ct, fhirapi.ContentFHIRJSON, r)
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %T: %v: %v", v, err, r)
	}
	return v
}

// expectOO asserts an OperationOutcome with the status and a first issue
// of the code whose expression contains expr (when given) and whose
// details coding is rule (when given). It returns the outcome.
func expectOO(t *testing.T, r *resp, status int, code, expr, rule string) *fhirapi.OperationOutcome {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %v", r.Status, status, r)
	}
	oo := decode[fhirapi.OperationOutcome](t, r)
	if oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		t.Fatalf("not an OperationOutcome with issues: %v", r)
	}
	is := oo.Issue[0]
	if is.Severity != "error" || is.Code != code {
		t.Errorf("issue severity %q code %q, want error %q: %v", is.Severity, is.Code, code, r)
	}
	if expr != "" && !strings.Contains(strings.Join(is.Expression, " "), expr) {
		t.Errorf("issue expression %q does not name %q: %v", is.Expression, expr, r)
	}
	if rule != "" {
		found := false
		if is.Details != nil {
			for _, cd := range is.Details.Coding {
				found = found || (cd.System == fhirapi.RuleSystem && cd.Code == rule)
			}
		}
		if !found {
			t.Errorf("issue details %+v lack rule %s: %v", is.Details, rule, r)
		}
	}
	if is.Diagnostics == "" || is.Details == nil || is.Details.Text == "" {
		t.Errorf("issue without a message: %+v", is)
	}
	return &oo
}

// docRefs decodes the DocumentReferences of a searchset Bundle.
func docRefs(t *testing.T, b fhirapi.Bundle) []fhirapi.DocumentReference {
	t.Helper()
	out := make([]fhirapi.DocumentReference, 0, len(b.Entry))
	for _, en := range b.Entry {
		var d fhirapi.DocumentReference
		if err := json.Unmarshal(en.Resource, &d); err != nil {
			t.Fatal(err)
		}
		if d.ResourceType != "DocumentReference" || !strings.HasSuffix(en.FullURL, "/DocumentReference/"+d.ID) || en.Search == nil || en.Search.Mode != "match" {
			t.Fatalf("searchset entry %s: %s %s %+v", en.FullURL, d.ResourceType, d.ID, en.Search)
		}
		out = append(out, d)
	}
	return out
}

func ids(refs []fhirapi.DocumentReference) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.ID
	}
	return out
}

func link(b fhirapi.Bundle, rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

// newestFirst orders headers as the archive does: effective time, then id, descending.
func newestFirst(hs []*cda.Header) []string {
	s := append([]*cda.Header(nil), hs...)
	sort.Slice(s, func(i, j int) bool {
		if !s[i].EffectiveTime.Equal(s[j].EffectiveTime) {
			return s[i].EffectiveTime.After(s[j].EffectiveTime)
		}
		return s[i].ID > s[j].ID
	})
	out := make([]string, len(s))
	for i, h := range s {
		out[i] = h.ID
	}
	return out
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// newKey makes a P-256 key that no registered certificate holds.
func newKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := pki.NewKey(pki.P256)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issueClient issues a TLS client certificate for the organisation from ca.
func issueClient(t *testing.T, ca *pki.CA, o *gen.Organisation, name string, notBefore time.Time, validity time.Duration) *pki.Identity {
	t.Helper()
	id, err := ca.Issue(pki.Template{Subject: pki.SystemSubject(o.ControllerOID(), o.Name, name), KeyType: pki.P256, TLSClient: true, NotBefore: notBefore, Validity: validity})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// register registers a system with the certificate for the organisation.
func (e *env) register(o *gen.Organisation, name string, cert *x509.Certificate) {
	e.t.Helper()
	ctx := context.Background()
	err := e.store.Update(ctx, func(tx archive.Tx) error {
		return tx.PutSystem(ctx, &archive.System{Name: name, Organisation: o.ControllerOID(), Cert: cert})
	})
	if err != nil {
		e.t.Fatal(err)
	}
}
