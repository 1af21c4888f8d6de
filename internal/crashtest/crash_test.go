// Package crashtest proves that nothing the archive acknowledged is ever
// lost: it runs the real `arkisto serve` binary under concurrent archiving
// load, kills it with SIGKILL at random moments, restarts it, and then
// checks through the FHIR API and the database that every acknowledged
// document is whole and logged, that no unacknowledged one is half there,
// and that the database is intact. See README.md.
package crashtest

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/auth"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/storetest"
)

// EnvKills is the number of kill-and-restart rounds (default 3; CI sets 20).
const EnvKills = "ARKISTO_CRASH_KILLS"

const (
	defaultKills = 3
	workers      = 4 // concurrent archiving clients
	minDelay     = 200 * time.Millisecond
	maxDelay     = 1500 * time.Millisecond
	startTimeout = 30 * time.Second
)

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the server dozens of times; not in -short")
	}
	kills := defaultKills
	if v := os.Getenv(EnvKills); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: must be a positive number of kills", EnvKills, v)
		}
		kills = n
	}
	f := newFixture(t)

	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		run(t, f, kills, sqliteBackend(dir))
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv(storetest.EnvDatabaseURL)
		if base == "" {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not set: CI runs the crash test on PostgreSQL too", storetest.EnvDatabaseURL)
			}
			t.Skipf("%s is not set; the PostgreSQL crash test needs a database", storetest.EnvDatabaseURL)
		}
		run(t, f, kills, postgresBackend(storetest.PostgresURL(t, base)))
	})
}

// fixture is what every backend shares: the built binary, a test PKI on
// disk and the server's certificate.
type fixture struct {
	root       string // the module's directory
	bin        string
	pkiDir     string
	world      *gen.PKI
	serverCert string
	serverKey  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	root := moduleRoot(t)
	f := &fixture{root: root, bin: filepath.Join(dir, "arkisto"), pkiDir: filepath.Join(dir, "pki")}
	build := exec.Command("go", "build", "-o", f.bin, "./cmd/arkisto")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/arkisto: %v\n%s", err, out)
	}
	w, err := gen.NewPKI(gen.PKIOptions{KeyType: pki.P256})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Save(f.pkiDir); err != nil {
		t.Fatal(err)
	}
	id, err := w.CA.Issue(pki.Template{
		Subject: pkix.Name{CommonName: "arkisto crash test server"}, KeyType: pki.P256, TLSServer: true,
		IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	})
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "server")
	if err := id.Save(base); err != nil {
		t.Fatal(err)
	}
	f.world, f.serverCert, f.serverKey = w, base+".crt", base+".key"
	return f
}

// moduleRoot finds the directory of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		t.Fatal("go env GOMOD: not inside the module")
	}
	return filepath.Dir(mod)
}

// --- the run ---

// outcome is what a client learned from one attempt to archive a document.
type outcome int

const (
	acked   outcome = iota // 200 with a 201 Created (or 200 OK: already archived) entry
	refused                // an HTTP answer that is not an acknowledgement
	unsent                 // the connection was refused: the server never saw it
	lost                   // the request was (or may have been) sent; no answer
)

func (o outcome) String() string {
	return [...]string{"acknowledged", "refused", "not sent", "lost in flight"}[o]
}

type attempt struct {
	round   int
	outcome outcome
	status  int    // HTTP status of an answer
	detail  string // the entry status, or the error
}

// sentDoc is a generated document and what happened to it.
type sentDoc struct {
	seq      int
	doc      *gen.Doc
	id       string
	sum      string
	clientID string // the client id as root|extension
	attempts []attempt
}

func (d *sentDoc) acked() bool {
	for _, a := range d.attempts {
		if a.outcome == acked {
			return true
		}
	}
	return false
}

// mustBeAbsent reports whether every attempt certainly left nothing: the
// server never saw it, or refused it with a 4xx.
func (d *sentDoc) mustBeAbsent() bool {
	for _, a := range d.attempts {
		if !(a.outcome == unsent || a.outcome == refused && a.status >= 400 && a.status < 500) {
			return false
		}
	}
	return true
}

// harness runs one backend through the kill rounds.
type harness struct {
	t      *testing.T
	f      *fixture
	be     backend
	logDir string

	mu    sync.Mutex
	gen   *gen.Generator
	docs  []*sentDoc
	retry []*sentDoc // lost in flight; sent again in the next round

	api map[string]*presence // what the API showed of each document

	disc *disclosures // the disclosure readers' set-up and what they read
}

// roundStats count the outcomes of one round.
type roundStats struct {
	attempts, acked, alreadyArchived, refused, unsent, lost, inDoAtKill int
	reads                                                               readStats
}

func run(t *testing.T, f *fixture, kills int, be backend) {
	h := &harness{t: t, f: f, be: be, logDir: t.TempDir(), gen: gen.New(f.world, gen.Options{Clients: 40})}
	start := time.Now()
	h.onboard()
	srv := h.start("setup")
	h.setupDisclosures(srv)
	srv.stop(t)
	t.Logf("%s: %d kills, %d concurrent clients and %d disclosure readers, kill after %v–%v of load", be.name(), kills, workers, readers, minDelay, maxDelay)
	var total roundStats
	roundsInFlight := 0
	for round := 1; round <= kills; round++ {
		srv := h.start(fmt.Sprintf("round-%02d", round))
		delay := minDelay + rand.N(maxDelay-minDelay)
		st := h.load(srv, round, delay)
		t.Logf("round %2d: SIGKILL after %4dms: %3d requests: %3d acknowledged (%d already archived), %d lost in flight (in the client at the kill: %d), %d not sent, %d refused; disclosure reads: %s",
			round, delay.Milliseconds(), st.attempts, st.acked, st.alreadyArchived, st.lost, st.inDoAtKill, st.unsent, st.refused, st.reads)
		total.attempts += st.attempts
		total.acked += st.acked
		total.alreadyArchived += st.alreadyArchived
		total.lost += st.lost
		total.unsent += st.unsent
		total.refused += st.refused
		total.reads.add(st.reads)
		if st.lost > 0 {
			roundsInFlight++
		}
	}
	t.Logf("load: %d requests, %d acknowledged (%d already archived when retried), %d lost in flight in %d of %d rounds, %d not sent, %d refused; %v",
		total.attempts, total.acked, total.alreadyArchived, total.lost, roundsInFlight, kills, total.unsent, total.refused, time.Since(start).Round(time.Millisecond))
	if total.acked == 0 {
		t.Fatal("no document was acknowledged: the load never reached the server")
	}
	if total.lost == 0 {
		t.Fatal("no request was in flight at any kill: every round ended idle, so the test proves nothing")
	}
	t.Logf("disclosure reads: %s", total.reads)
	if total.reads.acked == 0 {
		t.Fatal("no disclosure read was acknowledged: the disclosure log is not under test")
	}

	vstart := time.Now()
	srv = h.start("verify")
	h.verifyAPI(srv)
	h.verifyDisclosuresAPI(srv)
	srv.stop(t)
	h.verifyStore()
	t.Logf("verified %d documents through the API and the database in %v; total %v", len(h.docs), time.Since(vstart).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// cli runs an arkisto command on the backend's store.
func (h *harness) cli(args ...string) {
	h.t.Helper()
	cmd := exec.Command(h.f.bin, append(h.be.storeArgs(), args...)...)
	cmd.Env = childEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		h.t.Fatalf("arkisto %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// onboard creates the archive, trusts the test CA and registers every
// organisation and system with the admin commands, as an operator would.
func (h *harness) onboard() {
	h.cli("admin", "init")
	h.cli("admin", "trust", "add", "--ca", filepath.Join(h.f.pkiDir, "ca.crt"))
	for i, o := range h.f.world.Organisations {
		h.cli("admin", "org", "add", "--oid", o.ControllerOID(), "--name", o.Name, "--kind", o.Kind)
		h.cli("admin", "system", "add", "--org", o.ControllerOID(), "--name", o.SystemName,
			"--cert", filepath.Join(h.f.pkiDir, fmt.Sprintf("system-%d.crt", i+1)))
	}
}

// childEnv is the environment without the settings that would point the
// child at another store.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ARKISTO_DATA=") || strings.HasPrefix(kv, "ARKISTO_DATABASE_URL=") || strings.HasPrefix(kv, "ARKISTO_BLOBS=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// --- the server process ---

type server struct {
	name   string
	cmd    *exec.Cmd
	root   string // https://127.0.0.1:port
	done   chan struct{}
	err    error // from Wait; read after done
	stderr string
}

// urlWriter takes the server's stdout and picks the base URL from its
// "arkisto serving https://... (data ...)" line.
type urlWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	url  chan string
	sent bool
}

func (w *urlWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.sent {
		for _, line := range strings.Split(w.buf.String(), "\n") {
			if rest, ok := strings.CutPrefix(line, "arkisto serving "); ok {
				if u, _, ok := strings.Cut(rest, " "); ok {
					w.url <- u
					w.sent = true
					break
				}
			}
		}
	}
	return len(p), nil
}

// start runs `arkisto serve` on a free loopback port and waits until
// /healthz answers over mutual TLS.
func (h *harness) start(name string) *server {
	t := h.t
	t.Helper()
	errPath := filepath.Join(h.logDir, name+".log")
	errFile, err := os.Create(errPath)
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	args := append(h.be.storeArgs(), "serve", "--listen", "127.0.0.1:0", "--tls-cert", h.f.serverCert, "--tls-key", h.f.serverKey)
	cmd := exec.Command(h.f.bin, args...)
	cmd.Env = childEnv()
	cmd.SysProcAttr = sysProcAttr()
	out := &urlWriter{url: make(chan string, 1)}
	cmd.Stdout, cmd.Stderr = out, errFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", h.f.bin, err)
	}
	s := &server{name: name, cmd: cmd, done: make(chan struct{}), stderr: errPath}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	// Killed even when the test fails or stops early.
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			cmd.Process.Kill()
			<-s.done
		}
	})
	deadline := time.After(startTimeout)
	var base string
	select {
	case base = <-out.url:
	case <-s.done:
		t.Fatalf("%s: the server exited before serving: %v\n%s", name, s.err, s.tail())
	case <-deadline:
		t.Fatalf("%s: the server did not start in %v\n%s", name, startTimeout, s.tail())
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: base URL %q: %v", name, base, err)
	}
	s.root = u.Scheme + "://" + u.Host
	c := h.httpClient(h.f.world.Organisations[0])
	defer c.CloseIdleConnections()
	for {
		res, err := c.Get(s.root + "/healthz")
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("%s: the server exited: %v\n%s", name, s.err, s.tail())
		case <-deadline:
			t.Fatalf("%s: /healthz did not answer 200 in %v (last: %v)\n%s", name, startTimeout, err, s.tail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill sends SIGKILL and waits for the process to end.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("%s: SIGKILL: %v", s.name, err)
	}
	<-s.done
	var ee *exec.ExitError
	if !errors.As(s.err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("%s: the server ended with %v, not by SIGKILL\n%s", s.name, s.err, s.tail())
	}
}

// stop shuts the server down gracefully (SIGTERM) and expects a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("%s: SIGTERM: %v", s.name, err)
	}
	select {
	case <-s.done:
	case <-time.After(40 * time.Second):
		t.Fatalf("%s: no exit 40 s after SIGTERM", s.name)
	}
	if s.err != nil {
		t.Errorf("%s: graceful shutdown: %v\n%s", s.name, s.err, s.tail())
	}
}

// tail is the end of the server's log.
func (s *server) tail() string {
	b, _ := os.ReadFile(s.stderr)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// --- clients ---

// httpClient is an mTLS client with the organisation's system certificate.
func (h *harness) httpClient(o *gen.Organisation) *http.Client {
	id := o.System
	cert := tls.Certificate{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}
	for _, c := range id.Chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	cfg := &tls.Config{RootCAs: h.f.world.Roots(), Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: workers}}
}

// clients are one mTLS client per organisation, for one server process.
type clients map[*gen.Organisation]*http.Client

func (h *harness) clients() clients {
	cs := clients{}
	for _, o := range h.f.world.Organisations {
		cs[o] = h.httpClient(o)
	}
	return cs
}

func (cs clients) close() {
	for _, c := range cs {
		c.CloseIdleConnections()
	}
}

// token is a fresh single-use token of a professional of the organisation,
// asking for the purpose of use.
func token(o *gen.Organisation, purpose string) (string, error) {
	return auth.Sign(o.System.Key, auth.NewClaims("10000000001", "Kaatumis Testaaja", o.Units[1].OID, purpose, 5*time.Minute))
}

// call makes one request for the organisation's own use of its register
// with a fresh token and reads the whole answer.
func call(c *http.Client, o *gen.Organisation, method, u string, body []byte) (int, http.Header, []byte, error) {
	return callAs(c, o, codes.UsageOwnRegister, method, u, body)
}

// callAs is call with a purpose of use.
func callAs(c *http.Client, o *gen.Organisation, purpose, method, u string, body []byte) (int, http.Header, []byte, error) {
	tok, err := token(o, purpose)
	if err != nil {
		return 0, nil, nil, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", fhirapi.ContentFHIRJSON)
	if strings.Contains(u, "/fhir/Binary/") {
		req.Header.Set("Accept", fhirapi.ContentCDA) // the document itself, not a Binary resource
	}
	if body != nil {
		req.Header.Set("Content-Type", fhirapi.ContentFHIRJSON)
	}
	// The transport sends a GET again on a new connection when a reused
	// one fails after writing it; that retry then finds the killed
	// server's port closed. Whether any try was written tells "not sent"
	// from "lost in flight".
	var written atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				written.Store(true)
			}
		},
	}))
	res, err := c.Do(req)
	if err != nil {
		if written.Load() {
			err = writtenError{err}
		}
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	return res.StatusCode, res.Header, b, nil
}

// writtenError is the failure of a request that was written whole to a
// connection: the server may have acted on it, whatever came after.
type writtenError struct{ err error }

func (e writtenError) Error() string { return "written, then: " + e.err.Error() }
func (e writtenError) Unwrap() error { return e.err }

// next is a document lost in the previous round (to send again) or a new one.
func (h *harness) next() (*sentDoc, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.retry); n > 0 {
		d := h.retry[n-1]
		h.retry = h.retry[:n-1]
		return d, nil
	}
	g, err := h.gen.Next()
	if err != nil {
		return nil, err
	}
	return h.track(g), nil
}

// track adds a generated document to those the verification checks.
// Called with h.mu held, or before the load starts.
func (h *harness) track(g *gen.Doc) *sentDoc {
	sum := sha256.Sum256(g.XML)
	d := &sentDoc{seq: len(h.docs), doc: g, id: g.Header.ID, sum: hex.EncodeToString(sum[:]),
		clientID: g.Header.Client.ID.Root + "|" + g.Header.Client.ID.Extension}
	h.docs = append(h.docs, d)
	return d
}

// load runs the archiving clients against the server, kills the server
// after delay, and records what every request learned.
func (h *harness) load(srv *server, round int, delay time.Duration) roundStats {
	t := h.t
	cs := h.clients()
	defer cs.close()
	var stop atomic.Bool
	var inDo atomic.Int32
	var st roundStats
	var stMu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.readLoad(cs, srv, round, &stop, &st.reads, &stMu)
		}()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				d, err := h.next()
				if err != nil {
					errs <- err
					return
				}
				body, err := fhirapi.SubmissionBundle(d.doc.XML)
				if err != nil {
					errs <- err
					return
				}
				inDo.Add(1)
				status, _, resp, err := call(cs[d.doc.Org], d.doc.Org, http.MethodPost, srv.root+"/fhir", body)
				inDo.Add(-1)
				a := classify(round, d, status, resp, err)
				stMu.Lock()
				st.attempts++
				switch a.outcome {
				case acked:
					st.acked++
					if a.detail == "200 OK" {
						st.alreadyArchived++
					}
				case refused:
					st.refused++
				case unsent:
					st.unsent++
				case lost:
					st.lost++
				}
				stMu.Unlock()
				h.mu.Lock()
				d.attempts = append(d.attempts, a)
				// Every other lost document is sent again after the
				// restart, as a client would: it must then be 201 (it was
				// not stored) or 200 (it was), never a conflict.
				if a.outcome == lost && d.seq%2 == 0 && len(d.attempts) == 1 {
					h.retry = append(h.retry, d)
				}
				h.mu.Unlock()
			}
		}()
	}
	time.Sleep(delay)
	stop.Store(true)
	st.inDoAtKill = int(inDo.Load())
	srv.kill(t)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return st
}

// classify turns a response (or transport error) into an outcome.
func classify(round int, d *sentDoc, status int, body []byte, err error) attempt {
	a := attempt{round: round, status: status}
	switch {
	case transportFailure(&a, err):
	case status != http.StatusOK:
		a.outcome, a.detail = refused, truncate(string(body))
	default:
		var b fhirapi.Bundle
		a.outcome = refused
		if jerr := json.Unmarshal(body, &b); jerr != nil || len(b.Entry) < 2 || b.Entry[1].Response == nil {
			a.detail = "not a transaction-response: " + truncate(string(body))
			return a
		}
		r, l := b.Entry[1].Response, b.Entry[0].Response
		a.detail = r.Status
		switch {
		case !(r.Status == "201 Created" || r.Status == "200 OK") || r.Location != "DocumentReference/"+d.id || r.Etag != `W/"`+d.sum+`"`:
			a.detail = fmt.Sprintf("unexpected entry response %+v", r)
		case l == nil || l.Status != "201 Created" || !strings.HasPrefix(l.Location, "List/"):
			// Each bundle has a new uniqueId: its SubmissionSet is new.
			a.detail = fmt.Sprintf("unexpected SubmissionSet List entry response %+v", l)
		default:
			a.outcome = acked
		}
	}
	return a
}

// transportFailure classifies a request that got no answer: not sent
// when the connection was refused and no try was written, else lost in
// flight.
func transportFailure(a *attempt, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, syscall.ECONNREFUSED) && !errors.As(err, new(writtenError)):
		a.outcome, a.detail = unsent, err.Error()
	default:
		a.outcome, a.detail = lost, err.Error()
	}
	return true
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}

// --- verification through the FHIR API ---

// presence is what the API shows of a document.
type presence struct {
	binary, found, logged bool
	listed                bool // in a SubmissionSet the client's List search finds (ITI-66)
}

// verifyAPI checks every document through the restarted server.
func (h *harness) verifyAPI(srv *server) {
	t := h.t
	cs := h.clients()
	defer cs.close()
	api := make(map[string]*presence, len(h.docs))
	for _, d := range h.docs {
		api[d.id] = &presence{}
	}
	h.api = api
	h.checkUnexpected()

	// Every document: GET Binary gives exactly the bytes, or 404.
	var mu sync.Mutex
	var wg sync.WaitGroup
	jobs := make(chan *sentDoc)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range jobs {
				status, hdr, body, err := call(cs[d.doc.Org], d.doc.Org, http.MethodGet, srv.root+"/fhir/Binary/"+d.id, nil)
				mu.Lock()
				switch {
				case err != nil:
					t.Errorf("GET Binary/%s: %v", d.id, err)
				case status == http.StatusOK:
					api[d.id].binary = true
					if !bytes.Equal(body, d.doc.XML) {
						t.Errorf("GET Binary/%s: %d bytes differ from the %d submitted (%s)", d.id, len(body), len(d.doc.XML), d.history())
					}
					if et := hdr.Get("ETag"); et != `"`+d.sum+`"` {
						t.Errorf("GET Binary/%s: ETag %s, want \"%s\"", d.id, et, d.sum)
					}
				case status == http.StatusNotFound:
				default:
					t.Errorf("GET Binary/%s: HTTP %d %s", d.id, status, truncate(string(body)))
				}
				mu.Unlock()
			}
		}()
	}
	for _, d := range h.docs {
		jobs <- d
	}
	close(jobs)
	wg.Wait()

	// Every client: the search and the access log.
	type party struct {
		org    *gen.Organisation
		client string
	}
	parties := map[party]bool{}
	for _, d := range h.docs {
		parties[party{d.doc.Org, d.clientID}] = true
	}
	for p := range parties {
		q := url.Values{"patient.identifier": {"urn:oid:" + p.client}, "_count": {"500"}}
		for _, id := range h.pages(cs[p.org], p.org, srv.root+"/fhir/DocumentReference?"+q.Encode(), "search", docRefIDs) {
			pr, ok := api[id]
			if !ok {
				t.Errorf("search for %s finds DocumentReference/%s, which was never sent", p.client, id)
				continue
			}
			pr.found = true
		}
		lq := url.Values{"patient.identifier": {"urn:oid:" + p.client}, "code": {"submissionset"}, "_count": {"500"}}
		for _, id := range h.pages(cs[p.org], p.org, srv.root+"/fhir/List?"+lq.Encode(), "List search", listedIDs) {
			pr, ok := api[id]
			if !ok {
				t.Errorf("a SubmissionSet of %s lists DocumentReference/%s, which was never sent", p.client, id)
				continue
			}
			pr.listed = true
		}
		for _, id := range h.pages(cs[p.org], p.org, srv.root+"/fhir/AuditEvent?"+q.Encode(), "access log", archivedIDs) {
			pr, ok := api[id]
			if !ok {
				t.Errorf("the access log of %s records archiving DocumentReference/%s, which was never sent", p.client, id)
				continue
			}
			pr.logged = true
		}
	}

	var present, unacked, absent, bad int
	for _, d := range h.docs {
		p := api[d.id]
		switch {
		case d.acked() && !(p.binary && p.found && p.logged && p.listed):
			t.Errorf("LOST: acknowledged document %s: Binary %v, found by search %v, archive logged %v, in a SubmissionSet %v (%s)", d.id, p.binary, p.found, p.logged, p.listed, d.history())
			bad++
		case p.binary != p.found || p.binary != p.logged || p.binary != p.listed:
			t.Errorf("HALF-PRESENT: document %s: Binary %v, found by search %v, archive logged %v, in a SubmissionSet %v (%s)", d.id, p.binary, p.found, p.logged, p.listed, d.history())
			bad++
		case p.binary && d.mustBeAbsent():
			t.Errorf("document %s was never received or was refused, yet it is archived (%s)", d.id, d.history())
			bad++
		case p.binary:
			present++
			if !d.acked() {
				unacked++
			}
		default:
			absent++
		}
	}
	t.Logf("API: %d documents wholly present (%d of them never acknowledged), %d wholly absent, %d lost or half-present", present, unacked, absent, bad)
}

// checkUnexpected fails on answers the load should never get.
func (h *harness) checkUnexpected() {
	for _, d := range h.docs {
		for i, a := range d.attempts {
			// Every document is valid and new, so any refusal is wrong; a
			// retry of a lost one in particular must be 201 or 200, never
			// a conflict.
			if a.outcome == refused {
				what := "refused"
				if i > 0 {
					what = "refused when sent again after a restart"
				}
				h.t.Errorf("document %s, round %d: %s with HTTP %d: %s", d.id, a.round, what, a.status, a.detail)
			}
		}
	}
}

func (d *sentDoc) history() string {
	var parts []string
	for _, a := range d.attempts {
		s := fmt.Sprintf("round %d %s", a.round, a.outcome)
		if a.outcome != acked && a.detail != "" {
			s += " (" + truncate(a.detail) + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// pages reads a searchset and its next pages, returning the ids pick
// takes from each.
func (h *harness) pages(c *http.Client, o *gen.Organisation, u, what string, pick func(*fhirapi.Bundle) ([]string, error)) []string {
	t := h.t
	var ids []string
	for n := 0; u != "" && n < 1000; n++ {
		status, _, body, err := call(c, o, http.MethodGet, u, nil)
		if err != nil || status != http.StatusOK {
			t.Errorf("%s %s: HTTP %d %v %s", what, u, status, err, truncate(string(body)))
			return ids
		}
		var b fhirapi.Bundle
		if err := json.Unmarshal(body, &b); err != nil {
			t.Errorf("%s %s: %v", what, u, err)
			return ids
		}
		got, err := pick(&b)
		if err != nil {
			t.Errorf("%s %s: %v", what, u, err)
			return ids
		}
		ids = append(ids, got...)
		u = ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				u = l.URL
			}
		}
	}
	return ids
}

func docRefIDs(b *fhirapi.Bundle) ([]string, error) {
	var ids []string
	for _, e := range b.Entry {
		var r fhirapi.DocumentReference
		if err := json.Unmarshal(e.Resource, &r); err != nil {
			return nil, err
		}
		ids = append(ids, r.ID)
	}
	return ids, nil
}

// listedIDs are the documents the SubmissionSet Lists of a searchset carry.
func listedIDs(b *fhirapi.Bundle) ([]string, error) {
	var ids []string
	for _, e := range b.Entry {
		var l fhirapi.List
		if err := json.Unmarshal(e.Resource, &l); err != nil {
			return nil, err
		}
		for _, en := range l.Entry {
			if id, ok := strings.CutPrefix(en.Item.Reference, "DocumentReference/"); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// archivedIDs are the documents of allowed archive events (BALP create,
// outcome 0).
func archivedIDs(b *fhirapi.Bundle) ([]string, error) {
	var ids []string
	for _, e := range b.Entry {
		var ev fhirapi.AuditEvent
		if err := json.Unmarshal(e.Resource, &ev); err != nil {
			return nil, err
		}
		if ev.Action != "C" || ev.Outcome != "0" || len(ev.Subtype) == 0 || ev.Subtype[0].Code != "create" {
			continue
		}
		for _, en := range ev.Entity {
			if en.What != nil {
				if id, ok := strings.CutPrefix(en.What.Reference, "DocumentReference/"); ok {
					ids = append(ids, id)
				}
			}
		}
	}
	return ids, nil
}
