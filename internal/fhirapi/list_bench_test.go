package fhirapi_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/archive/archivetest"
	"github.com/arkisto/arkisto/internal/auth"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/server"
	"github.com/arkisto/arkisto/internal/store/sqlite"
)

// BenchmarkListHTTP is a client's document list as a client information
// system asks for it: GET /fhir/DocumentReference?patient.identifier=…
// over mTLS with a fresh token, about 20 documents a page, 8 in flight, on
// SQLite. Its process CPU (cpu-ns/op) is the server's and the client's
// (TLS, HTTP, reading the answer); the tokens are signed before the timer.
func BenchmarkListHTTP(b *testing.B) {
	w := testWorld(b)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := archive.NewAdmin(st, slog.New(slog.DiscardHandler)).Apply(ctx, w.Setup(true)); err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := archive.NewService(st, archive.Rules{}, archive.Config{}, logger)
	run, err := server.Start(ctx, svc, server.Options{Listen: "127.0.0.1:0", Cert: serverCert, Logger: logger, Store: st})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		run.Shutdown(sctx)
	}()

	// 200 documents of 10 clients: one list per client, each as its
	// organisation's system asks.
	type list struct {
		path   string
		client *http.Client
		org    *gen.Organisation
	}
	var lists []list
	seen := map[string]bool{}
	g := gen.New(w, gen.Options{Clients: 10, Seed: 1})
	for range 200 {
		d, err := g.Next()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Archive(ctx, archivetest.Caller(d.Org), d.XML); err != nil {
			b.Fatal(err)
		}
		id := d.Header.Client.ID
		if k := archive.ClientKey(id); !seen[k] {
			seen[k] = true
			cfg := &tls.Config{RootCAs: w.Roots(), MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{tlsCert(d.Org.System)}}
			c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: 16}}
			defer c.CloseIdleConnections()
			lists = append(lists, list{path: "https://" + run.Addr + "/fhir/DocumentReference?patient.identifier=" + url.QueryEscape("urn:oid:"+id.Root+"|"+id.Extension), client: c, org: d.Org})
		}
	}
	// Every request has a token of its own (the ledger refuses a second use).
	tokens := make([]string, b.N)
	for i := range tokens {
		l := lists[i%len(lists)]
		tok, err := auth.Sign(l.org.System.Key, auth.NewClaims(testProfessional, "Testi Käyttäjä", l.org.Units[1].OID, codes.UsageOwnRegister, 5*time.Minute))
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = tok
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			l := lists[i%len(lists)]
			req, err := http.NewRequest(http.MethodGet, l.path, nil)
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Authorization", "Bearer "+tokens[i])
			req.Header.Set("Accept", fhirapi.ContentFHIRJSON)
			res, err := l.client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil || res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"resourceType":"DocumentReference"`)) {
				b.Errorf("HTTP %d %v %.300s", res.StatusCode, err, body)
				return
			}
		}
	})
	b.StopTimer()
	if now := processCPU(); cpu >= 0 && now >= 0 {
		b.ReportMetric(float64(now-cpu)/float64(b.N), "cpu-ns/op")
	}
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
