package fhirapi_test

// End-to-end tests of the door's bounds (issue 10, items 7 and 11): the
// documents of one submission, the submissions of one system at once,
// the memory a submission can make the server allocate, and the smaller
// holes: repeated JSON keys, attachment size and hash, token claims,
// temporary client ids of other organisations, clients that go away.

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/archive/archivetest"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// floodEntries is the number of tiny entries of the flood submission, as
// the issue observed it: about 60 MiB, under the default body limit.
const floodEntries = 375000

var (
	floodOnce sync.Once
	floodBody []byte
)

// flood is a submission of floodEntries tiny documents, each one a
// DocumentReference with its data inline, and the SubmissionSet List that
// lists them all last: well-formed, and each entry costs the sender some
// 160 bytes.
func flood() []byte {
	floodOnce.Do(func() {
		var b bytes.Buffer
		b.Grow(floodEntries * 170)
		b.WriteString(`{"resourceType":"Bundle","type":"transaction","entry":[`)
		for i := 0; i < floodEntries; i++ {
			fmt.Fprintf(&b, `{"fullUrl":"u:%d","resource":{"resourceType":"DocumentReference","content":[{"attachment":{"data":"PA=="}}]},"request":{"method":"POST"}},`, i)
		}
		b.WriteString(`{"fullUrl":"u:list","resource":{"resourceType":"List","status":"current","mode":"working","entry":[`)
		for i := 0; i < floodEntries; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"item":{"reference":"u:%d"}}`, i)
		}
		b.WriteString(`]},"request":{"method":"POST"}}]}`)
		floodBody = b.Bytes()
	})
	return floodBody
}

// logAbout returns the access-log entries with the client key (all of
// them, newest first).
func (e *env) logAbout(clientKey string) []*archive.AccessEntry {
	e.t.Helper()
	ctx := context.Background()
	var out []*archive.AccessEntry
	err := e.store.View(ctx, func(tx archive.Tx) error {
		var err error
		out, err = tx.AccessLog(ctx, archive.AccessLogQuery{ClientKey: clientKey, Limit: 100000})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// TestSubmissionFlood: a 60 MiB submission of 375,000 tiny documents is
// refused after reading its first few hundred entries, with one
// access-log entry, and what the server allocates for it is bounded by
// the document limit, not by the body (it was 2.9 GB and 375,000 log
// entries). The request goes through the door's handler in this process,
// so that runtime.MemStats sees what it allocates, and then over HTTPS.
func TestSubmissionFlood(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		e := newEnv(t)
		body := flood()
		o := e.world.Organisations[0]
		c := e.as(o)
		req := httptest.NewRequest(http.MethodPost, "/fhir", bytes.NewReader(body))
		req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{o.System.Cert}}
		req.Header.Set("Content-Type", fhirapi.ContentFHIRJSON)
		req.Header.Set("Authorization", "Bearer "+c.token())
		rec := httptest.NewRecorder()
		h := e.run.Door.Handler()

		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		h.ServeHTTP(rec, req)
		took := time.Since(start)
		runtime.ReadMemStats(&after)

		// The limit is 200 documents: the server may allocate for a few
		// hundred entries and one log entry, some MiB, not for the 60 MiB body.
		const bound = 16 << 20
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > bound {
			t.Errorf("refusing a %d MiB submission of %d entries allocated %d MiB, more than %d MiB", len(body)>>20, floodEntries, alloc>>20, bound>>20)
		} else {
			t.Logf("refused a %d MiB submission of %d entries in %v, allocating %d KiB", len(body)>>20, floodEntries, took, alloc>>10)
		}
		log := e.logAbout("")
		if len(log) != 1 {
			t.Fatalf("%d access-log entries for one refused submission, want 1", len(log))
		}
		r := &resp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
		expectOO(t, r, http.StatusRequestEntityTooLarge, "too-long", "Bundle.entry", fhirapi.RuleTooManyDocuments)
		if l := log[0]; l.Outcome != archive.OutcomeRefused || l.Action != archive.ActionArchive || l.Caller.System != o.SystemName || len(l.Documents) != 0 || !strings.Contains(l.Reason, "at most") {
			t.Errorf("the refusal's log entry: %+v", l)
		}

		// Over HTTPS, the client gets the refusal although the server does
		// not read the rest of what it sends, and the log one more entry.
		r, err := c.send(http.MethodPost, "/fhir", body, fhirapi.ContentFHIRJSON, "Bearer "+c.token())
		if err != nil {
			t.Fatalf("the flood over HTTPS: %v", err)
		}
		expectOO(t, r, http.StatusRequestEntityTooLarge, "too-long", "Bundle.entry", fhirapi.RuleTooManyDocuments)
		if log := e.logAbout(""); len(log) != 2 {
			t.Errorf("%d access-log entries for two refused submissions, want 2", len(log))
		}
	})
}

// TestSubmissionDocumentLimit: the document limit holds over HTTPS
// whether the documents come in Binaries (counted while the body is
// read) or inline (counted once decoded); each refusal is one log entry
// and stores nothing; a submission within the limit is archived.
func TestSubmissionDocumentLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		e := newEnvWith(t, envOptions{maxDocs: 2})
		o := e.world.Organisations[0]
		c := e.as(o)
		docs := []*gen.Doc{e.nextOf(o), e.nextOf(o), e.nextOf(o)}
		var parts []part
		for _, d := range docs {
			parts = append(parts, part{xml: d.XML, ref: fullRef(d.Header)})
		}
		withBinaries := provideBundle(t, parts...).body
		inline := inlineBundle(t, provideBundle(t, parts...))

		for i, body := range [][]byte{withBinaries, inline} {
			r := c.post("/fhir", body)
			expectOO(t, r, http.StatusRequestEntityTooLarge, "too-long", "Bundle.entry", fhirapi.RuleTooManyDocuments)
			if log := e.logAbout(""); len(log) != i+1 {
				t.Fatalf("%d access-log entries after %d refused submissions", len(log), i+1)
			}
		}
		for _, d := range docs {
			if log := e.logAbout(archive.ClientKey(d.Header.Client.ID)); len(log) != 0 {
				t.Errorf("a submission refused unread logged %d entries about a client", len(log))
			}
			if _, _, err := e.svc.Get(context.Background(), archiveCaller(o), d.Header.ID); err == nil {
				t.Errorf("document %s of a refused submission was stored", d.Header.ID)
			}
		}
		c.archive(docs[:2]...)
	})
}

// archiveCaller is the organisation's system as the domain service sees it.
func archiveCaller(o *gen.Organisation) archive.Caller {
	return archive.Caller{System: o.SystemName, Organisation: o.ControllerOID(), Person: testProfessional, PersonName: "Testi Käyttäjä", Unit: o.Units[1].OID, Purpose: codes.UsageOwnRegister}
}

// inlineBundle moves each document of a submission from its Binary into
// its DocumentReference's attachment.data and drops the Binaries.
func inlineBundle(t *testing.T, s *submission) []byte {
	t.Helper()
	var b fhirapi.Bundle
	if err := json.Unmarshal(s.body, &b); err != nil {
		t.Fatal(err)
	}
	out := []fhirapi.BundleEntry{b.Entry[s.list]}
	for i, ri := range s.refs {
		var ref fhirapi.DocumentReference
		var bin fhirapi.Binary
		if err := json.Unmarshal(b.Entry[ri].Resource, &ref); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b.Entry[s.bins[i]].Resource, &bin); err != nil {
			t.Fatal(err)
		}
		ref.Content[0].Attachment.URL, ref.Content[0].Attachment.Data = "", bin.Data
		en := b.Entry[ri]
		en.Resource = raw(t, &ref)
		out = append(out, en)
	}
	b.Entry = out
	return raw(t, &b)
}

// patchRef changes the i-th DocumentReference of a submission.
func patchRef(t *testing.T, s *submission, i int, patch func(*fhirapi.DocumentReference)) []byte {
	t.Helper()
	var b fhirapi.Bundle
	if err := json.Unmarshal(s.body, &b); err != nil {
		t.Fatal(err)
	}
	var ref fhirapi.DocumentReference
	if err := json.Unmarshal(b.Entry[s.refs[i]].Resource, &ref); err != nil {
		t.Fatal(err)
	}
	patch(&ref)
	b.Entry[s.refs[i]].Resource = raw(t, &ref)
	return raw(t, &b)
}

// TestConcurrentSubmissionsPerSystem: a system has at most so many
// submissions in progress; one more gets 429 with Retry-After and an
// OperationOutcome, while other systems are not held up, and the places
// come back when submissions end. Submissions are held in the door with a
// hook, so the test does not depend on timing.
func TestConcurrentSubmissionsPerSystem(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		e := newEnvWith(t, envOptions{maxConcurrent: 2})
		o1, o2 := e.world.Organisations[0], e.world.Organisations[1]
		entered := make(chan string, 8)
		release := make(chan struct{})
		fhirapi.SetSubmitHook(e.run.Door, func(ctx context.Context, system string) {
			entered <- system
			select {
			case <-release:
			case <-ctx.Done():
			}
		})
		type result struct {
			r   *resp
			err error
		}
		submit := func(c *caller, d *gen.Doc) <-chan result {
			ch := make(chan result, 1)
			body := provideBundle(t, part{xml: d.XML, ref: fullRef(d.Header)}).body
			tok := "Bearer " + c.token()
			go func() {
				r, err := c.send(http.MethodPost, "/fhir", body, fhirapi.ContentFHIRJSON, tok)
				ch <- result{r, err}
			}()
			return ch
		}
		wait := func(want string) {
			t.Helper()
			select {
			case got := <-entered:
				if got != want {
					t.Fatalf("a submission of %s entered, want %s", got, want)
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("no submission of %s entered", want)
			}
		}
		c1, c2 := e.as(o1), e.as(o2)
		held := []<-chan result{submit(c1, e.nextOf(o1)), submit(c1, e.nextOf(o1))}
		wait(o1.SystemName)
		wait(o1.SystemName)

		// A third of the same system is refused at once, without waiting.
		r := c1.post("/fhir", provideBundle(t, part{xml: e.nextOf(o1).XML}).body)
		expectOO(t, r, http.StatusTooManyRequests, "throttled", "", fhirapi.RuleBusy)
		if ra := r.Header.Get("Retry-After"); ra == "" || strings.Trim(ra, "0123456789") != "" {
			t.Errorf("Retry-After %q, want seconds", ra)
		}
		// Another system is not held up by the first one's submissions.
		held = append(held, submit(c2, e.nextOf(o2)))
		wait(o2.SystemName)

		close(release)
		for i, ch := range held {
			res := <-ch
			if res.err != nil || res.r.Status != http.StatusOK {
				t.Fatalf("held submission %d: %v %v", i, res.err, res.r)
			}
		}
		// The places are free again.
		fhirapi.SetSubmitHook(e.run.Door, nil)
		c1.archive(e.nextOf(o1))
		c1.archive(e.nextOf(o1))
	})
}

// TestSmallerHoles: issue 10 item 11 through the door.
func TestSmallerHoles(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		logs := &archivetest.OperatorLog{}
		e := newEnvWith(t, envOptions{logs: logs})
		o, other := e.world.Organisations[0], e.world.Organisations[1]
		c := e.as(o)
		notStored := func(id string) {
			t.Helper()
			if _, _, err := e.svc.Get(context.Background(), archiveCaller(o), id); err == nil {
				t.Errorf("document %s was stored", id)
			}
		}

		t.Run("repeated JSON keys are refused", func(t *testing.T) {
			d := e.nextOf(o)
			body := provideBundle(t, part{xml: d.XML, ref: fullRef(d.Header)}).body
			for _, tt := range []struct{ name, key string }{{"same key", `"data"`}, {"same key in other case", `"Data"`}} {
				// A second data before the real one: a validator that keeps
				// the first sees another document than the archive would.
				forged := bytes.Replace(body, []byte(`"contentType":"application/hl7-v3+xml","data":`), []byte(`"contentType":"application/hl7-v3+xml",`+tt.key+`:"PGEvPg==","data":`), 1)
				if bytes.Equal(forged, body) {
					t.Fatal("the Binary was not found in the bundle")
				}
				r := c.post("/fhir", forged)
				oo := expectOO(t, r, http.StatusBadRequest, "structure", "Bundle.entry[2].resource.data", fhirapi.RuleDuplicateKey)
				if !strings.Contains(oo.Issue[0].Diagnostics, "twice") {
					t.Errorf("%s: %s", tt.name, oo.Issue[0].Diagnostics)
				}
			}
			notStored(d.Header.ID)
		})

		t.Run("attachment size and hash must match the document", func(t *testing.T) {
			d := e.nextOf(o)
			s := provideBundle(t, part{xml: d.XML, ref: fullRef(d.Header)})
			size := int64(len(d.XML))
			sum := sha1.Sum(d.XML)
			hash := base64.StdEncoding.EncodeToString(sum[:])
			wrong, zero := size+1, int64(0)
			otherSum := sha1.Sum([]byte("other"))
			for _, tt := range []struct {
				name        string
				size        *int64
				hash, field string
				rule        string
			}{
				{"size off by one", &wrong, "", "attachment.size", fhirapi.RuleAttachmentSize},
				{"size given as 0", &zero, "", "attachment.size", fhirapi.RuleAttachmentSize},
				{"hash of other bytes", nil, base64.StdEncoding.EncodeToString(otherSum[:]), "attachment.hash", fhirapi.RuleAttachmentHash},
				{"hash not base64", nil, "not a hash", "attachment.hash", fhirapi.RuleAttachmentHash},
				{"SHA-256 where R4 has SHA-1", &size, base64.StdEncoding.EncodeToString([]byte(sha256Hex(d.XML))[:32]), "attachment.hash", fhirapi.RuleAttachmentHash},
			} {
				body := patchRef(t, s, 0, func(ref *fhirapi.DocumentReference) {
					ref.Content[0].Attachment.Size, ref.Content[0].Attachment.Hash = tt.size, tt.hash
				})
				r := c.post("/fhir", body)
				expectOO(t, r, http.StatusUnprocessableEntity, "value", "Bundle.entry[1].resource.content[0]."+tt.field, tt.rule)
			}
			notStored(d.Header.ID)
			body := patchRef(t, s, 0, func(ref *fhirapi.DocumentReference) {
				ref.Content[0].Attachment.Size, ref.Content[0].Attachment.Hash = &size, hash
			})
			if r := c.post("/fhir", body); r.Status != http.StatusOK {
				t.Fatalf("a submission with the right size and hash: %v", r)
			}
		})

		t.Run("token sub and name are checked", func(t *testing.T) {
			for _, tt := range []struct{ name, sub, pname, field string }{
				{"sub with a line break", "1000\nlevel=ERROR", "Testi Käyttäjä", "token.sub"},
				{"sub not digits", "admin", "Testi Käyttäjä", "token.sub"},
				{"sub too long", strings.Repeat("1", 21), "Testi Käyttäjä", "token.sub"},
				{"name with a line break", testProfessional, "Testi\nlevel=ERROR msg=forged", "token.name"},
				{"name with a bidi override", testProfessional, "Testi \u202eäjättyäK", "token.name"},
			} {
				cc := e.as(o)
				cc.sub, cc.name = tt.sub, tt.pname
				r := cc.get(tokenPath)
				expectOO(t, r, http.StatusUnauthorized, "login", tt.field, "")
			}
		})

		t.Run("token unit must be the system's organisation's", func(t *testing.T) {
			cc := e.as(o)
			cc.unit = other.Units[1].OID
			r := cc.get(tokenPath)
			oo := expectOO(t, r, http.StatusUnauthorized, "login", "token.unit", "")
			if !strings.Contains(oo.Issue[0].Diagnostics, "organisation") {
				t.Errorf("message %q", oo.Issue[0].Diagnostics)
			}
			cc.unit = o.Units[0].OID
			if r := cc.get(tokenPath); r.Status != http.StatusOK {
				t.Errorf("a unit of the system's own organisation: %v", r)
			}
		})

		t.Run("temporary client ids only under the organisation's own root", func(t *testing.T) {
			d := e.nextOf(o)
			for d.Header.Replaces != nil || d.Header.DocumentGroup.Code == codes.GroupClientRelationship {
				d = e.nextOf(o)
			}
			render := func(suffix, root string) (*cda.Header, []byte) {
				h := *d.Header
				h.ID, h.SetID = d.Header.ID+suffix, d.Header.ID+suffix
				h.Client.ID = cda.ID{Root: root, Extension: "TEMP" + suffix[1:]}
				body, err := gen.MinimalBody(&h)
				if err != nil {
					t.Fatal(err)
				}
				sys := o.System
				xml, err := gen.Render(&h, body, &xmldsig.Signer{Key: sys.Key, Cert: sys.Cert, Chain: sys.Chain, TypeCode: codes.SignatureSystem}, false)
				if err != nil {
					t.Fatal(err)
				}
				return &h, xml
			}
			fh, foreign := render(".81", other.OID+".22.2026")
			r := c.post("/fhir", provideBundle(t, part{xml: foreign, ref: fullRef(fh)}).body)
			expectOO(t, r, http.StatusUnprocessableEntity, "value", "Bundle.entry[1].resource", archive.RuleTempIDOrganisation)
			notStored(fh.ID)
			if log := e.logAbout(archive.ClientKey(fh.Client.ID)); len(log) != 1 || log[0].Outcome != archive.OutcomeRefused {
				t.Errorf("the refusal's log: %+v", log)
			}
			oh, own := render(".82", o.OID+".22.2026")
			c.archive(&gen.Doc{XML: own, Header: oh, Org: o})
		})

		t.Run("a client that goes away is no ERROR", func(t *testing.T) {
			entered, gone := make(chan struct{}), make(chan struct{})
			fhirapi.SetSubmitHook(e.run.Door, func(ctx context.Context, system string) {
				defer close(gone)
				close(entered)
				select {
				case <-ctx.Done():
				case <-time.After(15 * time.Second):
				}
			})
			defer fhirapi.SetSubmitHook(e.run.Door, nil)
			d := e.nextOf(o)
			body := provideBundle(t, part{xml: d.XML, ref: fullRef(d.Header)}).body
			ctx, cancel := context.WithCancel(context.Background())
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/fhir"), bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", fhirapi.ContentFHIRJSON)
			req.Header.Set("Authorization", "Bearer "+c.token())
			done := make(chan error, 1)
			go func() {
				res, err := c.client.Do(req)
				if err == nil {
					res.Body.Close()
				}
				done <- err
			}()
			<-entered // the body is read and the submission held
			cancel()
			if err := <-done; err == nil {
				t.Fatal("the request was not canceled")
			}
			<-gone
			// Shutdown waits for the abandoned request to finish.
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer scancel()
			if err := e.run.Shutdown(sctx); err != nil {
				t.Fatal(err)
			}
			if errs := logs.Errors(); len(errs) > 0 {
				t.Errorf("a client that went away is logged as ERROR: %q", errs)
			}
		})
	})
}

// TestClientGoneBeforeAuthentication: a request whose client has gone
// before its credentials could be checked (the trust registry read with
// the request's canceled context) is no operator ERROR either; the
// registry works for the next request. In-process, so that the request's
// context is canceled for sure when it arrives.
func TestClientGoneBeforeAuthentication(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		logs := &archivetest.OperatorLog{}
		e := newEnvWith(t, envOptions{logs: logs})
		o := e.world.Organisations[0]
		c := e.as(o)
		request := func(ctx context.Context) *httptest.ResponseRecorder {
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/fhir/metadata", nil)
			req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{o.System.Cert}}
			req.Header.Set("Authorization", "Bearer "+c.token())
			rec := httptest.NewRecorder()
			e.run.Door.Handler().ServeHTTP(rec, req)
			return rec
		}
		gone, cancel := context.WithCancel(context.Background())
		cancel()
		if rec := request(gone); rec.Code == http.StatusOK {
			t.Fatalf("a canceled request was served: %d", rec.Code)
		}
		if errs := logs.Errors(); len(errs) > 0 {
			t.Errorf("a client that went away is logged as ERROR: %q", errs)
		}
		if rec := request(context.Background()); rec.Code != http.StatusOK {
			t.Errorf("the next request: %d %s", rec.Code, rec.Body)
		}
	})
}
