package archivistui_test

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"sync"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/server"
	"github.com/arkisto/arkisto/internal/store/sqlite"
	"github.com/arkisto/arkisto/internal/web/webtest"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// Registration numbers of the test persons.
const (
	archivistOne  = "30000000001" // archivist of the first organisation
	archivistBoth = "30000000002" // archivist of the first two
	stranger      = "30000000003" // no archivist
)

// env is a real HTTPS server over a SQLite store with documents of two
// controllers, and archivists.
type env struct {
	t      *testing.T
	world  *gen.PKI
	store  archive.Store
	svc    *archive.Service
	root   string // https://127.0.0.1:port
	oplog  *syncBuffer
	docs   map[string][]*archive.Record // by controller
	gdocs  map[string]*gen.Doc          // the generated documents, by id
	certs  map[string]*pki.Identity     // by registration number
	server tls.Certificate
}

// syncBuffer is the operator's log, read by tests.
type syncBuffer = webtest.LogBuffer

var (
	worldOnce sync.Once
	world     *gen.PKI
	worldErr  error
)

func testWorld(t testing.TB) *gen.PKI {
	worldOnce.Do(func() { world, worldErr = gen.NewPKI(gen.PKIOptions{Seed: 13, KeyType: pki.P256}) })
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return world
}

func newEnv(t *testing.T, docs int) *env {
	t.Helper()
	return newEnvWith(t, docs, 0)
}

// newEnvWith makes every replaceEvery-th document a correction of its
// client's latest one, so that sets have several versions.
func newEnvWith(t *testing.T, docs, replaceEvery int) *env {
	t.Helper()
	ctx := context.Background()
	w := testWorld(t)
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.DiscardHandler)
	admin := archive.NewAdmin(st, quiet)
	if err := admin.Apply(ctx, w.Setup(true)); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, world: w, store: st, oplog: &syncBuffer{}, docs: map[string][]*archive.Record{}, gdocs: map[string]*gen.Doc{}, certs: map[string]*pki.Identity{}}
	logger := slog.New(slog.NewTextHandler(e.oplog, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The trust state is read afresh on every use, so that a revocation
	// shows at once on a document's page.
	e.svc = archive.NewService(st, archive.Rules{}, archive.Config{TrustTTL: time.Nanosecond}, logger)
	g := gen.New(w, gen.Options{Seed: 5, Clients: 3, ReplaceEvery: replaceEvery})
	for n := 0; n < docs; n++ {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		c := archive.Caller{System: d.Org.SystemName, Organisation: d.Org.ControllerOID(), Person: "10000000001", Purpose: "1"}
		r, err := e.svc.Archive(ctx, c, d.XML)
		if err != nil {
			t.Fatal(err)
		}
		e.docs[r.Controller] = append(e.docs[r.Controller], r)
		e.gdocs[r.Header.ID] = d
	}
	o1, o2 := w.Organisations[0].ControllerOID(), w.Organisations[1].ControllerOID()
	for _, a := range []archive.Archivist{{Person: archivistOne, Controller: o1}, {Person: archivistBoth, Controller: o1}, {Person: archivistBoth, Controller: o2}} {
		if err := admin.AddArchivist(ctx, &a); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{archivistOne, archivistBoth, stranger} {
		e.certs[p] = professionalCert(t, w, p)
	}
	srvID, err := w.CA.Issue(pki.Template{Subject: pkix.Name{CommonName: "archivist UI test server"}, KeyType: pki.P256, TLSServer: true, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	e.server = tlsCert(srvID)
	run, err := server.Start(ctx, e.svc, server.Options{Listen: "127.0.0.1:0", Cert: e.server, Logger: logger, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		run.Shutdown(sctx)
	})
	e.root = "https://" + run.Addr
	return e
}

// professionalCert issues a professional's authentication certificate:
// the registration number in the subject serialNumber.
func professionalCert(t testing.TB, w *gen.PKI, reg string) *pki.Identity {
	id, err := w.CA.Issue(pki.Template{Subject: pki.ProfessionalSubject(reg, "Aino", "Arkistolainen"), KeyType: pki.P256, TLSClient: true})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func tlsCert(id *pki.Identity) tls.Certificate { return webtest.TLSCert(id) }

// client is a browser-like client presenting id's certificate (none when
// nil), keeping cookies and not following redirects.
func (e *env) client(id *pki.Identity) *http.Client {
	cfg := &tls.Config{RootCAs: e.world.Roots(), MinVersion: tls.VersionTLS12}
	if id != nil {
		cfg.Certificates = []tls.Certificate{tlsCert(id)}
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Timeout: 20 * time.Second, Jar: jar, Transport: &http.Transport{TLSClientConfig: cfg},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.t.Cleanup(c.CloseIdleConnections)
	return c
}

// accessLog returns every access-log entry without a client and of the
// client, oldest first.
func (e *env) accessLog(clientKey string) []*archive.AccessEntry {
	e.t.Helper()
	var out []*archive.AccessEntry
	err := e.store.View(context.Background(), func(tx archive.Tx) error {
		var err error
		out, err = tx.AccessLog(context.Background(), archive.AccessLogQuery{ClientKey: clientKey, Limit: 10000})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// archiveDisplay archives, as the first organisation, a new document like
// one of its generated plans but with this display form, signed again by
// the plan's author.
func (e *env) archiveDisplay(display string) *archive.Record {
	e.t.Helper()
	return e.archiveWith(display, nil)
}

// archiveWith is archiveDisplay with the header changed by edit too.
func (e *env) archiveWith(display string, edit func(*cda.Header)) *archive.Record {
	e.t.Helper()
	own := e.world.Organisations[0]
	var d *gen.Doc
	for _, r := range e.docs[own.ControllerOID()] {
		if g := e.gdocs[r.Header.ID]; g.Header.DocumentGroup.Code != codes.GroupClientRelationship && g.Header.Replaces == nil {
			d = g
			break
		}
	}
	if d == nil {
		e.t.Fatal("no plan of the first organisation to copy")
	}
	doc, probs := cda.Read(d.XML, cda.Options{})
	if doc == nil || len(probs) > 0 {
		e.t.Fatalf("generated document does not read: %v", probs)
	}
	h := doc.Header
	h.Signatures = nil
	h.ID = h.ID + ".13"
	h.SetID = h.ID
	if edit != nil {
		edit(&h)
	}
	body := doc.Body
	body.Display = []byte(display)
	var signer *xmldsig.Signer
	for _, p := range e.world.Professionals {
		if p.RegistrationNumber == h.Author.ID.Extension {
			signer = &xmldsig.Signer{Key: p.Identity.Key, Cert: p.Identity.Cert, Chain: p.Identity.Chain, TypeCode: codes.SignatureProfessional}
		}
	}
	if signer == nil {
		e.t.Fatal("the plan's author is no professional of the world")
	}
	raw, err := gen.Render(&h, body, signer, false)
	if err != nil {
		e.t.Fatal(err)
	}
	c := archive.Caller{System: own.SystemName, Organisation: own.ControllerOID(), Person: "10000000001", Purpose: "1"}
	r, err := e.svc.Archive(context.Background(), c, raw)
	if err != nil {
		e.t.Fatal(err)
	}
	e.docs[r.Controller] = append(e.docs[r.Controller], r)
	return r
}
