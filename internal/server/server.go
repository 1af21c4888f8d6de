// Package server runs the archive's HTTPS server: the FHIR door (mutual
// TLS), the archivist UI under /archivist/, the citizen view under
// /citizen/ (when an OpenID Connect provider is configured), /healthz and
// /metrics, and a graceful shutdown.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/archivistui"
	"github.com/arkisto/arkisto/internal/auth"
	"github.com/arkisto/arkisto/internal/citizenui"
	"github.com/arkisto/arkisto/internal/fhirapi"
)

// GCPercent is the garbage collector's target of a server process unless
// GOGC says otherwise (cmd/arkisto and the benchmark's server set it).
// The server's live heap is small (tens of MB), so letting it grow three
// times over before collecting costs little memory and saves about a
// tenth of the CPU of every request (docs/benchmarks.md).
const GCPercent = 300

// Options configure a server.
type Options struct {
	Listen    string          // host:port; port 0 picks a free one
	Cert      tls.Certificate // the server's certificate and key
	PublicURL string          // base URL clients use, default https://<listen>
	MaxBody   int64           // request body limit, default 64 MiB
	// MaxSubmissionDocuments and MaxConcurrentSubmissions (per system)
	// bound submissions; defaults 200 and 16 (see fhirapi.Config).
	MaxSubmissionDocuments   int
	MaxConcurrentSubmissions int
	Logger                   *slog.Logger
	// Store is the store the service runs on: its token ledger makes a
	// token single-use across every server on the archive.
	Store archive.Store
	// Citizen configures the citizen view's OpenID Connect provider; nil:
	// no citizen view. An empty RedirectURL is <PublicURL>/citizen/callback.
	Citizen *citizenui.Config
}

// Running is a started server.
type Running struct {
	Addr    string // the address it listens on
	BaseURL string // the FHIR base, e.g. https://127.0.0.1:8443/fhir
	// ArchivistURL is the archivist UI, e.g. https://127.0.0.1:8443/archivist/
	ArchivistURL string
	// CitizenURL is the citizen view, e.g. https://127.0.0.1:8443/citizen/,
	// when it is served.
	CitizenURL string
	Door       *fhirapi.Server

	srv  *http.Server
	done chan struct{} // closed when serving has ended
	err  error         // why serving ended (nil after Shutdown); read after done
}

// Start listens and serves in the background.
func Start(ctx context.Context, svc *archive.Service, opt Options) (*Running, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	ln, err := net.Listen("tcp", opt.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", opt.Listen, err)
	}
	addr := ln.Addr().String()
	base := opt.PublicURL
	if base == "" {
		base = "https://" + addr
	}
	reg := auth.NewRegistry(svc.Trust())
	tokens := auth.NewTokenVerifier(time.Now())
	// Used tokens are recorded in the store, so that every server on the
	// archive refuses a token any of them has accepted.
	if l, ok := opt.Store.(archive.TokenLedger); ok {
		tokens.Ledger = l
	} else {
		opt.Logger.Warn("the store keeps no token ledger: a token is refused a second use by this server only")
	}
	door := fhirapi.New(svc, reg, tokens, fhirapi.Config{
		BaseURL: base + "/fhir", MaxBodyBytes: opt.MaxBody,
		MaxSubmissionDocuments: opt.MaxSubmissionDocuments, MaxConcurrentSubmissions: opt.MaxConcurrentSubmissions,
	}, opt.Logger)
	ui, err := archivistui.New(svc, reg, opt.Logger)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("the archivist UI: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", door.Handler())
	mux.Handle(archivistui.Prefix, ui.Handler())
	citizenURL := ""
	if opt.Citizen != nil {
		cfg := *opt.Citizen
		if cfg.RedirectURL == "" {
			cfg.RedirectURL = citizenui.RedirectURL(base)
		}
		cv, err := citizenui.New(svc, cfg, opt.Logger)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("the citizen view: %w", err)
		}
		mux.Handle(citizenui.Prefix, cv.Handler())
		citizenURL = strings.TrimSuffix(base, "/") + citizenui.Prefix
	}
	srv := &http.Server{
		Handler:           mux,
		TLSConfig:         TLSConfig(reg, opt.Cert, opt.Logger),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(opt.Logger.Handler(), slog.LevelDebug),
	}
	r := &Running{Addr: addr, BaseURL: base + "/fhir", ArchivistURL: base + archivistui.Prefix, CitizenURL: citizenURL, Door: door, srv: srv, done: make(chan struct{})}
	go func() {
		err := srv.ServeTLS(ln, "", "")
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		r.err = err
		close(r.done)
	}()
	opt.Logger.Info("serving", "addr", addr, "fhir", r.BaseURL, "archivist", base+archivistui.Prefix, "citizen", citizenURL)
	return r, nil
}

// Shutdown stops accepting connections and waits for requests in flight.
// It may be called more than once, and after Wait.
func (r *Running) Shutdown(ctx context.Context) error {
	err := r.srv.Shutdown(ctx)
	<-r.done
	if r.err != nil && err == nil {
		err = r.err
	}
	return err
}

// Wait blocks until ctx ends, then shuts down within grace.
func (r *Running) Wait(ctx context.Context, grace time.Duration, log *slog.Logger) error {
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return r.Shutdown(sctx)
}
