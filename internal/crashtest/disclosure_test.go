package crashtest

// The disclosure side of the harness: while the archiving load runs and
// the server is killed, organisation O2 reads O1's documents of clients
// they share, with the clients' consent (purpose disclosure). Every read
// that returned a document must be in the disclosure log with its ground,
// and in the access log; a read the kill cut off may be in both or in
// neither, never in one alone.

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/fitime"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

const (
	discClients = 3 // O1's clients whom O2 serves too
	discPlans   = 2 // later-phase (group 5) documents of each, besides O1's client relationship document
	readers     = 2 // concurrent disclosure readers during the load
)

// disclosures is the disclosure readers' world: the discloser O1, the
// recipient O2, the clients they share, and every read attempt.
type disclosures struct {
	discloser, recipient *gen.Organisation
	clients              []*discClient
	docs                 []*sentDoc             // O1's documents of those clients: what the readers fetch
	byDoc                map[string]*discClient // document id → its client
	reads                map[string][]attempt   // document id → every read attempt; under harness.mu
	api                  map[string]int         // document id → disclosure-log entries the API showed
}

// discClient is a client of O1 and O2 who has been informed and consents.
type discClient struct {
	key       string // root|extension
	consentID string // the Consent O2 recorded
	docs      []*sentDoc
}

// readStats count disclosure reads.
type readStats struct {
	attempts, acked, lost, unsent, refused int
}

func (r readStats) String() string {
	return fmt.Sprintf("%d: %d acknowledged, %d lost in flight, %d not sent, %d refused", r.attempts, r.acked, r.lost, r.unsent, r.refused)
}

func (r *readStats) add(o readStats) {
	r.attempts += o.attempts
	r.acked += o.acked
	r.lost += o.lost
	r.unsent += o.unsent
	r.refused += o.refused
}

func (r *readStats) count(a attempt) {
	r.attempts++
	switch a.outcome {
	case acked:
		r.acked++
	case lost:
		r.lost++
	case unsent:
		r.unsent++
	case refused:
		r.refused++
	}
}

// setupDisclosures archives O1's documents of a few clients and O2's
// client relationship document with each, and records through O2 each
// client's information notice and disclosure consent (the docs' example
// Consents), all through the FHIR API. One read before the kills shows
// that the set-up lets O2 read.
func (h *harness) setupDisclosures(srv *server) {
	t := h.t
	w := h.f.world
	ds := &disclosures{discloser: w.Organisations[0], recipient: w.Organisations[1],
		byDoc: map[string]*discClient{}, reads: map[string][]attempt{}}
	h.disc = ds
	cs := h.clients()
	defer cs.close()

	g := gen.New(w, gen.Options{Clients: discClients, Organisers: 1})
	var docs []*gen.Doc
	for i := 0; i < discClients*(1+discPlans); i++ {
		d, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if d.Org != ds.discloser {
			t.Fatalf("set-up: a document of %s, want %s's", d.Org.Name, ds.discloser.Name)
		}
		docs = append(docs, d)
	}
	byClient := map[*gen.Client]*discClient{}
	for _, c := range g.Clients() {
		dc := &discClient{key: hetu.OIDRoot + "|" + c.ID}
		byClient[c] = dc
		ds.clients = append(ds.clients, dc)
		d, err := g.RelationshipWith(c, ds.recipient)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	for _, gd := range docs {
		d := h.track(gd)
		body, err := fhirapi.SubmissionBundle(gd.XML)
		if err != nil {
			t.Fatal(err)
		}
		status, _, resp, err := call(cs[gd.Org], gd.Org, http.MethodPost, srv.root+"/fhir", body)
		a := classify(0, d, status, resp, err)
		if a.outcome != acked || a.detail != "201 Created" {
			t.Fatalf("set-up: archiving %s as %s: %s %s", d.id, gd.Org.Name, a.outcome, a.detail)
		}
		d.attempts = append(d.attempts, a)
		if gd.Org == ds.discloser {
			dc := byClient[gd.Client]
			dc.docs = append(dc.docs, d)
			ds.docs = append(ds.docs, d)
			ds.byDoc[d.id] = dc
		}
	}

	today := time.Now().In(fitime.Location).Format(time.DateOnly)
	for _, dc := range ds.clients {
		_, ext, _ := strings.Cut(dc.key, "|")
		repl := strings.NewReplacer(
			"170580-901P", ext,
			"1.2.246.10.51602220.10.0", ds.recipient.ControllerOID(),
			`"start": "2026-03-01"`, `"start": "`+today+`"`)
		h.recordWill(cs, srv, "consent-notice.json", repl)
		dc.consentID = h.recordWill(cs, srv, "consent-disclosure.json", repl)
	}

	d := ds.docs[0]
	a := h.readDisclosed(cs, srv, 0, d)
	ds.reads[d.id] = append(ds.reads[d.id], a)
	if a.outcome != acked {
		t.Fatalf("set-up: %s cannot read %s's document %s with purpose %s: %s %s", ds.recipient.Name, ds.discloser.Name, d.id, archive.PurposeDisclosure, a.outcome, a.detail)
	}
	t.Logf("set-up: %d clients of %s with %d documents, each with %s's client relationship, information notice and disclosure consent",
		len(ds.clients), ds.discloser.Name, len(ds.docs), ds.recipient.Name)
}

// recordWill posts a Consent from docs/examples as O2 and returns its id.
func (h *harness) recordWill(cs clients, srv *server, example string, repl *strings.Replacer) string {
	t := h.t
	b, err := os.ReadFile(filepath.Join(h.f.root, "docs", "examples", example))
	if err != nil {
		t.Fatal(err)
	}
	o := h.disc.recipient
	status, _, resp, err := call(cs[o], o, http.MethodPost, srv.root+"/fhir/Consent", []byte(repl.Replace(string(b))))
	if err != nil || status != http.StatusCreated {
		t.Fatalf("set-up: POST Consent (%s) as %s: HTTP %d %v %s", example, o.Name, status, err, truncate(string(resp)))
	}
	var c fhirapi.Consent
	if err := json.Unmarshal(resp, &c); err != nil || c.ID == "" {
		t.Fatalf("set-up: POST Consent (%s): not a Consent with an id (%v): %s", example, err, truncate(string(resp)))
	}
	return c.ID
}

// readLoad runs one disclosure reader until stop: O2 fetches O1's
// documents of the shared clients at random and every attempt is kept.
func (h *harness) readLoad(cs clients, srv *server, round int, stop *atomic.Bool, st *readStats, stMu *sync.Mutex) {
	ds := h.disc
	for !stop.Load() {
		d := ds.docs[rand.N(len(ds.docs))]
		a := h.readDisclosed(cs, srv, round, d)
		stMu.Lock()
		st.count(a)
		stMu.Unlock()
		h.mu.Lock()
		ds.reads[d.id] = append(ds.reads[d.id], a)
		h.mu.Unlock()
	}
}

// readDisclosed is one GET Binary by O2 with purpose disclosure. It is
// acknowledged only with exactly the archived bytes.
func (h *harness) readDisclosed(cs clients, srv *server, round int, d *sentDoc) attempt {
	o := h.disc.recipient
	status, hdr, body, err := callAs(cs[o], o, archive.PurposeDisclosure, http.MethodGet, srv.root+"/fhir/Binary/"+d.id, nil)
	a := attempt{round: round, status: status}
	switch {
	case transportFailure(&a, err):
	case status != http.StatusOK:
		a.outcome, a.detail = refused, truncate(string(body))
	case !bytes.Equal(body, d.doc.XML):
		a.outcome, a.detail = refused, fmt.Sprintf("200 with %d bytes that differ from the %d archived", len(body), len(d.doc.XML))
	case hdr.Get("ETag") != `"`+d.sum+`"`:
		a.outcome, a.detail = refused, "200 with ETag "+hdr.Get("ETag")
	default:
		a.outcome = acked
	}
	return a
}

// readBounds are how many disclosure-log entries a document may have: at
// least one per acknowledged read, at most one per read that may have
// reached the server.
func (ds *disclosures) readBounds(id string) (min, max int, history string) {
	var parts []string
	for _, a := range ds.reads[id] {
		if a.outcome == acked {
			min++
		}
		if a.outcome != unsent {
			max++
		}
	}
	n := map[outcome]int{}
	for _, a := range ds.reads[id] {
		n[a.outcome]++
	}
	for _, o := range []outcome{acked, lost, unsent, refused} {
		parts = append(parts, fmt.Sprintf("%d %s", n[o], o))
	}
	return min, max, "reads: " + strings.Join(parts, ", ")
}

// checkReads fails on a refused read: every read the set-up allows must
// be answered with the document.
func (h *harness) checkReads() {
	for _, d := range h.disc.docs {
		for _, a := range h.disc.reads[d.id] {
			if a.outcome == refused {
				h.t.Errorf("disclosure read of %s, round %d: refused with HTTP %d: %s", d.id, a.round, a.status, a.detail)
			}
		}
	}
}

// verifyDisclosuresAPI reads each shared client's disclosure log as the
// recipient (AuditEvent type=disclosure) and checks every entry and the
// count of entries for each document.
func (h *harness) verifyDisclosuresAPI(srv *server) {
	t := h.t
	ds := h.disc
	h.checkReads()
	cs := h.clients()
	defer cs.close()
	o := ds.recipient
	ds.api = map[string]int{}
	var entries int
	for _, dc := range ds.clients {
		q := url.Values{"patient.identifier": {"urn:oid:" + dc.key}, "type": {"disclosure"}, "_count": {"500"}}
		ids := h.pages(cs[o], o, srv.root+"/fhir/AuditEvent?"+q.Encode(), "disclosure log", func(b *fhirapi.Bundle) ([]string, error) {
			var ids []string
			for _, e := range b.Entry {
				var ev fhirapi.AuditEvent
				if err := json.Unmarshal(e.Resource, &ev); err != nil {
					return nil, err
				}
				got, err := ds.checkEvent(dc, &ev)
				if err != nil {
					return nil, fmt.Errorf("AuditEvent/%s: %w", ev.ID, err)
				}
				ids = append(ids, got...)
				entries++
			}
			return ids, nil
		})
		for _, id := range ids {
			ds.api[id]++
		}
	}
	bad := 0
	for _, d := range ds.docs {
		min, max, history := ds.readBounds(d.id)
		if n := ds.api[d.id]; n < min || n > max {
			t.Errorf("DISCLOSURE LOG through the API: document %s has %d entries for %s, want %d to %d (%s)", d.id, n, o.Name, min, max, history)
			bad++
		}
	}
	t.Logf("API: %d disclosure-log entries of %d documents, each with its consent as ground; %d documents outside their bounds", entries, len(ds.docs), bad)
}

// checkEvent checks one disclosure AuditEvent of the client's log against
// the set-up and returns the documents it names.
func (ds *disclosures) checkEvent(dc *discClient, ev *fhirapi.AuditEvent) ([]string, error) {
	if !slices.ContainsFunc(ev.Subtype, func(c fhirapi.Coding) bool {
		return c.System == fhirapi.SystemDisclosureSource && c.Code == string(archive.SourceArchive)
	}) {
		return nil, fmt.Errorf("not a disclosure through the archive: subtype %+v", ev.Subtype)
	}
	agents := map[string]string{}
	for _, a := range ev.Agent {
		if a.Type != nil && len(a.Type.Coding) > 0 && a.Who != nil && a.Who.Identifier != nil {
			agents[a.Type.Coding[0].Code] = a.Who.Identifier.Value
		}
	}
	if got, want := agents["110153"], "urn:oid:"+ds.discloser.ControllerOID(); got != want {
		return nil, fmt.Errorf("disclosing controller %q, want %q", got, want)
	}
	if got, want := agents["110152"], "urn:oid:"+ds.recipient.ControllerOID(); got != want {
		return nil, fmt.Errorf("recipient %q, want %q", got, want)
	}
	root, ext, _ := strings.Cut(dc.key, "|")
	var client bool
	var ground string
	var docs []string
	for _, en := range ev.Entity {
		var kind string
		for _, dt := range en.Detail {
			if dt.Type == "ground" {
				kind = dt.ValueString
			}
		}
		switch {
		case kind != "":
			if kind != archive.GroundConsent || en.What == nil || en.What.Reference != "Consent/"+dc.consentID {
				return nil, fmt.Errorf("ground %s %+v, want %s Consent/%s", kind, en.What, archive.GroundConsent, dc.consentID)
			}
			ground = kind
		case en.What != nil && strings.HasPrefix(en.What.Reference, "DocumentReference/"):
			id := strings.TrimPrefix(en.What.Reference, "DocumentReference/")
			if ds.byDoc[id] != dc {
				return nil, fmt.Errorf("discloses %s, not a document of %s's client", id, ds.discloser.Name)
			}
			docs = append(docs, id)
		case en.What != nil && en.What.Identifier != nil:
			client = en.What.Identifier.System == "urn:oid:"+root && en.What.Identifier.Value == ext
		}
	}
	if !client || ground == "" || len(docs) == 0 {
		return nil, fmt.Errorf("client named %v, ground %q, documents %v", client, ground, docs)
	}
	return docs, nil
}

// verifyDisclosuresStore reads the disclosure log and the recipient's
// read entries in the access log directly: each document's entries within
// its bounds and the same as the API showed, every entry with its
// consent, and a disclosure entry for each logged read, as they are
// written in one transaction.
func (h *harness) verifyDisclosuresStore(db *sql.DB) {
	t := h.t
	ds := h.disc
	o := ds.recipient
	disclosed := map[string]int{}
	var entries int
	query(t, db, `SELECT id, body FROM disclosures`, func(rows *sql.Rows) error {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return err
		}
		d, err := sqlstore.DecodeDisclosure(id, []byte(body))
		if err != nil {
			return err
		}
		entries++
		if err := ds.checkEntry(d); err != nil {
			t.Errorf("disclosure-log entry %d: %v", id, err)
			return nil
		}
		for _, doc := range d.Documents {
			disclosed[doc.ID]++
		}
		return nil
	})
	logged := map[string]int{}
	query(t, db, h.be.readSQL(), func(rows *sql.Rows) error {
		var id string
		err := rows.Scan(&id)
		logged[id]++
		return err
	}, o.ControllerOID())
	bad := 0
	for _, d := range ds.docs {
		min, max, history := ds.readBounds(d.id)
		n := disclosed[d.id]
		switch {
		case n < min || n > max:
			t.Errorf("DISCLOSURE LOG in the database: document %s has %d entries for %s, want %d to %d (%s)", d.id, n, o.Name, min, max, history)
			bad++
		case logged[d.id] != n:
			t.Errorf("document %s: %d allowed reads by %s in the access log, %d disclosure-log entries; they are written together (%s)", d.id, logged[d.id], o.Name, n, history)
			bad++
		case n != ds.api[d.id]:
			t.Errorf("document %s: %d disclosure-log entries in the database, %d through the API", d.id, n, ds.api[d.id])
			bad++
		}
	}
	for id := range disclosed {
		if ds.byDoc[id] == nil {
			t.Errorf("the disclosure log names %s, which was never disclosed", id)
		}
	}
	t.Logf("database: %d disclosure-log entries, each with an allowed read in the access log; %d documents outside their bounds", entries, bad)
}

// checkEntry checks a disclosure-log entry against the set-up: O1's
// documents of a shared client, to O2's system, on that client's consent.
func (ds *disclosures) checkEntry(d *archive.Disclosure) error {
	if len(d.Documents) == 0 {
		return errors.New("no documents")
	}
	dc := ds.byDoc[d.Documents[0].ID]
	if dc == nil {
		return fmt.Errorf("discloses %s, not a shared client's document", d.Documents[0].ID)
	}
	for _, doc := range d.Documents {
		if ds.byDoc[doc.ID] != dc {
			return fmt.Errorf("discloses %s, not a document of client %s", doc.ID, hideCode(dc.key))
		}
	}
	switch {
	case d.Source != archive.SourceArchive:
		return fmt.Errorf("source %s, want %s", d.Source, archive.SourceArchive)
	case d.ClientKey != dc.key:
		return fmt.Errorf("client %s, want %s", hideCode(d.ClientKey), hideCode(dc.key))
	case d.Discloser != ds.discloser.ControllerOID():
		return fmt.Errorf("discloser %s, want %s", d.Discloser, ds.discloser.ControllerOID())
	case d.Recipient != ds.recipient.ControllerOID() || d.Caller.Organisation != ds.recipient.ControllerOID() || d.Caller.System != ds.recipient.SystemName:
		return fmt.Errorf("recipient %s (caller %s, %s), want %s (%s)", d.Recipient, d.Caller.Organisation, d.Caller.System, ds.recipient.ControllerOID(), ds.recipient.SystemName)
	case d.GroundKind != archive.GroundConsent || d.Ground != dc.consentID:
		return fmt.Errorf("ground %s %s, want %s %s", d.GroundKind, d.Ground, archive.GroundConsent, dc.consentID)
	}
	return nil
}

// hideCode keeps a client key's root and hides its identity code: test
// output is output too.
func hideCode(key string) string {
	root, _, _ := strings.Cut(key, "|")
	return root + "|…"
}
