package citizenui_test

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/citizenui"
	"github.com/arkisto/arkisto/internal/devidp"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/server"
	"github.com/arkisto/arkisto/internal/store/sqlite"
	"github.com/arkisto/arkisto/internal/web/webtest"
)

// env is the archive's HTTPS server with the citizen view over a SQLite
// store, signing in with a development identity provider.
type env struct {
	t      *testing.T
	world  *gen.PKI
	store  archive.Store
	svc    *archive.Service
	root   string // https://127.0.0.1:port
	idp    string // the provider's issuer
	oplog  *syncBuffer
	client string // the identity code of the client with documents
	other  string // another client's
	// shown are the client's documents the view shows; hidden the
	// client's documents it never shows (first-phase, old, nullified,
	// superseded), and theirs another client's.
	shown, hidden, theirs []*archive.Record
	// organiser holds the client's documents; recipient is another
	// controller with a client relationship with the client, to which the
	// organiser's documents may be disclosed with consent.
	organiser, recipient *gen.Organisation
}

// syncBuffer is the operator's log, read by tests.
type syncBuffer = webtest.LogBuffer

var (
	worldOnce sync.Once
	world     *gen.PKI
	worldErr  error
)

func testWorld(t testing.TB) *gen.PKI {
	worldOnce.Do(func() { world, worldErr = gen.NewPKI(gen.PKIOptions{Seed: 17, KeyType: pki.P256}) })
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return world
}

func caller(o *gen.Organisation) archive.Caller {
	return archive.Caller{System: o.SystemName, Organisation: o.ControllerOID(), Person: "10000000001", PersonName: "Sari Sosiaalityöntekijä", Unit: o.Units[1].OID, Purpose: "1"}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	w := testWorld(t)
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.DiscardHandler)
	if err := archive.NewAdmin(st, quiet).Apply(ctx, w.Setup(true)); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, world: w, store: st, oplog: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.oplog, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.svc = archive.NewService(st, archive.Rules{}, archive.Config{}, logger)
	g := gen.New(w, gen.Options{Seed: 9, Clients: 2})
	var nullify *archive.Record
	for n := 0; n < 60; n++ {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.svc.Archive(ctx, caller(d.Org), d.XML)
		if err != nil {
			t.Fatal(err)
		}
		if e.client == "" {
			e.client = d.Header.Client.ID.Extension
		}
		if d.Header.Client.ID.Extension != e.client {
			e.other = d.Header.Client.ID.Extension
			e.theirs = append(e.theirs, r)
			continue
		}
		if nullify == nil && r.Header.DocumentGroup.Code == "5" {
			nullify = r
		}
	}
	if _, err := e.svc.Nullify(ctx, caller(orgOf(w, nullify)), nullify.Header.ID, "test", "nullified for the citizen view's test"); err != nil {
		t.Fatal(err)
	}
	e.organiser = orgOf(w, nullify)
	for _, o := range w.Organisations {
		if o.ControllerOID() != e.organiser.ControllerOID() && e.recipient == nil {
			e.recipient = o
		}
	}
	rel, err := g.RelationshipFor(e.recipient, e.client)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Archive(ctx, caller(e.recipient), rel.XML); err != nil {
		t.Fatal(err)
	}
	// What the view must show, read back from the store: the current
	// versions of the client's relationship and later-phase documents.
	err = st.View(ctx, func(tx archive.Tx) error {
		recs, err := tx.Search(ctx, archive.Query{ClientKey: "1.2.246.21|" + e.client, Statuses: []archive.Status{archive.StatusCurrent, archive.StatusSuperseded, archive.StatusNullified}, Limit: 500},
			archive.Scope{Controllers: controllers(w)})
		for _, r := range recs {
			g := r.Header.DocumentGroup.Code
			if r.Status == archive.StatusCurrent && (g == "1" || g == "5") && r.Header.HideReason.Code == "" {
				e.shown = append(e.shown, r)
			} else {
				e.hidden = append(e.hidden, r)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.shown) < 3 || len(e.hidden) < 2 || e.other == "" {
		t.Fatalf("the generated world has %d shown and %d hidden documents of the client, other client %q: change the seed", len(e.shown), len(e.hidden), e.other)
	}
	srvID, err := w.CA.Issue(pki.Template{Subject: pkix.Name{CommonName: "citizen view test server"}, KeyType: pki.P256, TLSServer: true, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := devidp.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.idp = "http://" + ln.Addr().String()
	cfg := &citizenui.Config{Issuer: e.idp, ClientID: "citizen-test", ClientSecret: "s3cret"}
	run, err := server.Start(ctx, e.svc, server.Options{Listen: "127.0.0.1:0", Cert: tlsCert(srvID), Logger: logger, Store: st, Citizen: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		run.Shutdown(sctx)
	})
	p, err := devidp.Serve(ln, devidp.Options{Issuer: e.idp, Logger: logger,
		People:  []devidp.Person{{Hetu: e.client, Name: "Testi Asiakas"}, {Hetu: e.other, Name: "Toinen Asiakas"}},
		Clients: []devidp.Client{{ID: "citizen-test", Secret: "s3cret", Redirects: []string{run.CitizenURL + "callback"}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	e.root = "https://" + run.Addr
	return e
}

func orgOf(w *gen.PKI, r *archive.Record) *gen.Organisation {
	for _, o := range w.Organisations {
		if o.ControllerOID() == r.ControllerOID() {
			return o
		}
	}
	return w.Organisations[0]
}

func controllers(w *gen.PKI) []string {
	var out []string
	for _, o := range w.Organisations {
		out = append(out, o.ControllerOID())
	}
	return out
}

func tlsCert(id *pki.Identity) tls.Certificate { return webtest.TLSCert(id) }

// browser is a client that keeps cookies and does not follow redirects.
type browser struct {
	t *testing.T
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Timeout: 20 * time.Second, Jar: jar,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.world.Roots(), MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.t.Cleanup(c.CloseIdleConnections)
	return &browser{t: e.t, c: c}
}

type response struct {
	*http.Response
	Body string
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{res, string(body)}
}

func (b *browser) get(u string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// follow follows redirects from r, resolving relative locations, until a
// response that is not one.
func (b *browser) follow(r response) response {
	b.t.Helper()
	for range 10 {
		if r.StatusCode < 300 || r.StatusCode >= 400 {
			return r
		}
		loc, err := r.Request.URL.Parse(r.Header.Get("Location"))
		if err != nil {
			b.t.Fatal(err)
		}
		r = b.get(loc.String())
	}
	b.t.Fatal("too many redirects")
	return r
}

// startLogin opens a page without a session and returns the development
// provider's login form response.
func (b *browser) startLogin(e *env, page string) response {
	b.t.Helper()
	r := b.follow(b.get(e.root + page))
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Request.URL.String(), e.idp+"/login") || !strings.Contains(r.Body, `name="hetu"`) {
		b.t.Fatalf("opening %s without a session ends at %s (%d), want the provider's login form", page, r.Request.URL, r.StatusCode)
	}
	return r
}

// login signs in as the person and returns the page it lands on.
func (b *browser) login(e *env, page, hetu string) response {
	b.t.Helper()
	form := b.startLogin(e, page)
	id := form.Request.URL.Query().Get("authRequestID")
	return b.follow(b.post(e.idp+"/login", url.Values{"id": {id}, "hetu": {hetu}}))
}
