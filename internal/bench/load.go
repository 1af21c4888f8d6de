package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arkisto/arkisto/internal/auth"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/progress"
)

// A caller is one organisation's client information system: its mutual
// TLS client and the professional its tokens name.
type caller struct {
	org             *gen.Organisation
	http            *http.Client
	sub, name, unit string
}

func newCallers(world *gen.PKI, roots *x509.CertPool, conc int) []*caller {
	var out []*caller
	for _, o := range world.Organisations {
		chain := [][]byte{o.System.Cert.Raw}
		for _, c := range o.System.Chain {
			chain = append(chain, c.Raw)
		}
		tr := &http.Transport{
			TLSClientConfig: &tls.Config{
				Certificates: []tls.Certificate{{Certificate: chain, PrivateKey: o.System.Key, Leaf: o.System.Cert}},
				RootCAs:      roots,
				MinVersion:   tls.VersionTLS12,
			},
			MaxIdleConns:        2 * conc,
			MaxIdleConnsPerHost: 2 * conc,
			IdleConnTimeout:     5 * time.Minute,
			DisableCompression:  true,
		}
		c := &caller{org: o, http: &http.Client{Transport: tr, Timeout: 2 * time.Minute}, sub: "10000000001", name: "Bench Käyttäjä", unit: o.Units[1].OID}
		for _, p := range world.Professionals {
			if p.OrgOID == o.OID {
				c.sub, c.name = p.RegistrationNumber, p.Given+" "+p.Family
				break
			}
		}
		out = append(out, c)
	}
	return out
}

// A request is one HTTP request of a workload, with its token signed
// before the measurement starts: signing is the client's work, and with
// RSA keys it would cost the load generator more than the server spends.
type request struct {
	caller *caller
	method string
	url    string
	body   []byte
	ctype  string
	token  string
	want   int // expected status
	// purpose is the token's purpose claim; empty: use of the caller's
	// own register (usage situation 1).
	purpose string
	// into, when set, receives the JSON answer: for the unmeasured
	// requests that check what a workload will find.
	into any
	// noToken sends the request without Authorization (the TLS-only
	// baseline).
	noToken bool
	// after, when set, is a request this one must not overtake (an
	// archived document's original); done is closed when this one has
	// been answered.
	after *request
	done  chan struct{}
}

// replacedIn is the id of the version an ITI-65 Bundle's DocumentReference
// replaces (relatesTo replaces), or "".
func replacedIn(bundle []byte) string {
	var b struct {
		Entry []struct {
			Resource struct {
				RelatesTo []struct {
					Code   string `json:"code"`
					Target struct {
						Reference string `json:"reference"`
					} `json:"target"`
				} `json:"relatesTo"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if json.Unmarshal(bundle, &b) != nil {
		return ""
	}
	for _, e := range b.Entry {
		for _, r := range e.Resource.RelatesTo {
			if id, ok := strings.CutPrefix(r.Target.Reference, "DocumentReference/"); ok && r.Code == "replaces" {
				return id
			}
		}
	}
	return ""
}

// tokenTTL is the lifetime of the benchmark's tokens: long enough for any
// batch to be used, short enough to bound the server's replay cache.
const tokenTTL = 5 * time.Minute

// presign signs a token for every request, on every core.
func presign(ctx context.Context, reqs []*request) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(reqs) || ctx.Err() != nil {
					return
				}
				r := reqs[i]
				if r.noToken {
					continue
				}
				purpose := r.purpose
				if purpose == "" {
					purpose = codes.UsageOwnRegister
				}
				t, err := auth.Sign(r.caller.org.System.Key, auth.NewClaims(r.caller.sub, r.caller.name, r.caller.unit, purpose, tokenTTL))
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				r.token = t
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return fmt.Errorf("sign tokens: %w", err)
	default:
	}
	return ctx.Err()
}

// do sends one request and reads its whole response.
func (r *request) do(ctx context.Context) error {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return err
	}
	if !r.noToken {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	req.Header.Set("Accept", "application/fhir+json")
	if strings.Contains(r.url, "/Binary/") {
		req.Header.Set("Accept", "application/hl7-v3+xml") // the document itself (ITI-68)
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	resp, err := r.caller.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != r.want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
		return fmt.Errorf("%s %s: status %d, want %d: %s", r.method, r.url, resp.StatusCode, r.want, bytes.TrimSpace(msg))
	}
	if r.into != nil {
		if err := json.NewDecoder(resp.Body).Decode(r.into); err != nil {
			return fmt.Errorf("%s %s: the answer: %w", r.method, r.url, err)
		}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// Pass is one measured run of requests.
type Pass struct {
	Requests int     `json:"requests"`
	Seconds  float64 `json:"seconds"`
	PerS     float64 `json:"per_s"`
	// Rate is the request rate the pass was paced at; 0 for a pass at
	// full speed.
	Rate  float64 `json:"rate,omitempty"`
	P50ms float64 `json:"p50_ms"`
	P95ms float64 `json:"p95_ms"`
	P99ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
	// CPU time per request of the server and of the load generator
	// (which signs no tokens during a pass, but speaks TLS and HTTP).
	ServerCPUms float64 `json:"server_cpu_ms"`
	ClientCPUms float64 `json:"client_cpu_ms"`
	// DatabaseCPUms is the CPU time per request of a local PostgreSQL
	// server's processes; 0 on SQLite, which runs inside the server.
	DatabaseCPUms float64 `json:"database_cpu_ms,omitempty"`
	// Commits is how many durable commits the store made during the
	// pass, and WritesPerCommit how many writes (access-log entries of
	// reads and the token uses of requests among them) each held on
	// average: group commit at work.
	Commits         int64   `json:"commits"`
	WritesPerCommit float64 `json:"writes_per_commit"`
	writes          int64
}

// closedLoop sends reqs from conc workers as fast as the server answers:
// the throughput. Its latencies are service times, which understate what
// a client waits under load; paced measures those.
func closedLoop(ctx context.Context, reqs []*request, conc int, bar *progress.Bar) (Pass, error) {
	lat := make([]time.Duration, len(reqs))
	var next atomic.Int64
	start := time.Now()
	err := workers(ctx, conc, func(ctx context.Context) error {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(reqs) {
				return nil
			}
			r := reqs[i]
			if r.after != nil {
				// Its original was taken by a worker before it: it is
				// answered, or will be.
				select {
				case <-r.after.done:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			t := time.Now()
			err := r.do(ctx)
			if r.done != nil {
				close(r.done)
			}
			if err != nil {
				return err
			}
			lat[i] = time.Since(t)
			bar.Add(1)
		}
	})
	return summarise(lat, time.Since(start), 0), err
}

// paced sends reqs at a constant rate from conc workers and measures each
// latency from the moment the request was due, not from when a free worker
// got to send it. A stalled server thus shows in the latencies of every
// request that should have been sent during the stall, instead of
// stopping the clock (coordinated omission).
func paced(ctx context.Context, reqs []*request, conc int, rate float64, bar *progress.Bar) (Pass, error) {
	lat := make([]time.Duration, len(reqs))
	var next atomic.Int64
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	err := workers(ctx, conc, func(ctx context.Context) error {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(reqs) {
				return nil
			}
			due := start.Add(time.Duration(i) * interval)
			if d := time.Until(due); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if err := reqs[i].do(ctx); err != nil {
				return err
			}
			lat[i] = time.Since(due)
			bar.Add(1)
		}
	})
	return summarise(lat, time.Since(start), rate), err
}

// workers runs fn on n goroutines; the first error stops the others.
func workers(ctx context.Context, n int, fn func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var first error
	var once sync.Once
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	return first
}

func summarise(lat []time.Duration, took time.Duration, rate float64) Pass {
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Millisecond)*1000) / 1000 }
	p := Pass{Requests: len(lat), Seconds: took.Seconds(), Rate: math.Round(rate)}
	if took > 0 {
		p.PerS = math.Round(float64(len(lat)) / took.Seconds())
	}
	if len(lat) > 0 {
		p.P50ms, p.P95ms, p.P99ms, p.MaxMs = ms(quantile(lat, 0.50)), ms(quantile(lat, 0.95)), ms(quantile(lat, 0.99)), ms(lat[len(lat)-1])
	}
	return p
}

// quantile of sorted durations, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
