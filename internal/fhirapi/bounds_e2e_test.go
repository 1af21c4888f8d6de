package fhirapi_test

// End-to-end tests of the door's bounds (issue 10, item 7): the
// documents of one submission, the submissions of one system at once,
// the memory a submission can make the server allocate.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
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
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
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
		out, err = tx.Log(ctx, archive.LogQuery{ClientKey: clientKey, Limit: 100000})
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
// so that runtime.MemStats sees what it allocates.
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
