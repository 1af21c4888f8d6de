package fhirapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/auth"
	"github.com/arkisto/arkisto/internal/jsoncodec"
)

// MIME types.
const (
	ContentFHIRJSON = "application/fhir+json"
	ContentCDA      = "application/hl7-v3+xml"
)

// Config tunes the door.
type Config struct {
	// BaseURL is the public address of the FHIR base, e.g.
	// https://archive.example:8443/fhir; links and locations use it.
	BaseURL string
	// MaxBodyBytes limits request bodies; default 64 MiB. A larger body
	// gets 413.
	MaxBodyBytes int64
	// MaxSubmissionDocuments limits the documents of one submission;
	// default 200. A Bundle with more entries than such a submission has
	// is refused (413) before its resources are decoded.
	MaxSubmissionDocuments int
	// MaxConcurrentSubmissions limits the submissions one system may have
	// in progress at once; default 16. One more gets 429 with Retry-After.
	MaxConcurrentSubmissions int
}

// Server is the FHIR door.
type Server struct {
	svc    *archive.Service
	reg    *auth.Registry
	tokens *auth.TokenVerifier
	cfg    Config
	log    *slog.Logger
	m      *metrics
	mux    *http.ServeMux
	busy   *limiter // submissions in progress per system

	submitHook atomic.Pointer[submitHook] // tests

	capOnce sync.Once // the CapabilityStatement, encoded once
	capJSON []byte
	capErr  error
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	archived prometheus.Counter
	gatherer prometheus.Gatherer
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arkisto_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "arkisto_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route"}),
		archived: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arkisto_documents_archived_total", Help: "Documents newly archived through the FHIR door.",
		}),
		gatherer: reg,
	}
	reg.MustRegister(m.requests, m.duration, m.archived,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// New makes the door.
func New(svc *archive.Service, reg *auth.Registry, tokens *auth.TokenVerifier, cfg Config, logger *slog.Logger) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.MaxSubmissionDocuments <= 0 {
		cfg.MaxSubmissionDocuments = DefaultMaxSubmissionDocuments
	}
	if cfg.MaxConcurrentSubmissions <= 0 {
		cfg.MaxConcurrentSubmissions = DefaultMaxConcurrentSubmissions
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{svc: svc, reg: reg, tokens: tokens, cfg: cfg, log: logger, m: newMetrics(prometheus.NewRegistry()), mux: http.NewServeMux(), busy: newLimiter(cfg.MaxConcurrentSubmissions)}
	s.routes()
	return s
}

// Handler serves the door.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) routes() {
	fhir := func(pattern string, h func(http.ResponseWriter, *http.Request, archive.Caller)) {
		s.mux.Handle(pattern, s.instrument(pattern, s.negotiate(strings.HasPrefix(pattern, "GET /fhir/Binary/"), s.authenticate(withRequest(transactions[pattern], h)))))
	}
	s.mux.Handle("GET /fhir/metadata", s.instrument("GET /fhir/metadata", s.negotiate(false, s.certifiedSystem(s.metadata))))
	fhir("POST /fhir", s.provide)
	fhir("POST /fhir/{$}", s.provide)
	fhir("GET /fhir/DocumentReference", s.find)
	fhir("POST /fhir/DocumentReference/_search", s.searchForm)
	fhir("GET /fhir/DocumentReference/{id}", s.read)
	fhir("GET /fhir/DocumentReference/{id}/$versions", s.versions)
	fhir("POST /fhir/DocumentReference/{id}/$nullify", s.nullify)
	fhir("GET /fhir/Binary/{id}", s.retrieve)
	fhir("GET /fhir/List", s.findLists)
	fhir("POST /fhir/List/_search", s.searchListsForm)
	fhir("GET /fhir/List/{id}", s.readList)
	fhir("GET /fhir/Patient", s.searchPatients)
	fhir("GET /fhir/Patient/{id}", s.readPatient)
	fhir("GET /fhir/AuditEvent", s.auditEvents)
	fhir("GET /fhir/AuditEvent/{id}", s.readAuditEvent)
	fhir("POST /fhir/Consent", s.createConsent)
	fhir("GET /fhir/Consent", s.searchConsents)
	fhir("GET /fhir/Consent/{id}", s.readConsent)
	fhir("POST /fhir/Consent/{id}/$withdraw", s.withdrawConsent)
	s.mux.Handle("/fhir/", s.instrument("/fhir/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, http.StatusNotFound, issue("not-supported", "", "", "there is no such resource or interaction: "+r.Method+" "+r.URL.Path+"; GET /fhir/metadata lists what is supported"))
	})))
	s.mux.Handle("GET /healthz", s.instrument("GET /healthz", s.certified(http.HandlerFunc(s.health))))
	s.mux.Handle("GET /metrics", s.instrument("GET /metrics", s.certified(promhttp.HandlerFor(s.m.gatherer, promhttp.HandlerOpts{}))))
}

// statusWriter remembers the status for metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// instrument counts requests by route pattern only: no ids, no personal
// data reach the metrics.
func (s *Server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				// Never echo the panic value: it may hold document content.
				s.log.Error("handler panic", "route", route)
				s.fail(sw, http.StatusInternalServerError, issue("exception", "", "", "internal error"))
			}
			s.m.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
			s.m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}()
		h.ServeHTTP(sw, r)
	})
}

// certified serves only a client that presented a certificate, which the
// handshake verified against the trust store, as it did when the listener
// required one of every client.
func (s *Server) certified(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			s.log.InfoContext(r.Context(), "client certificate refused", "reason", "none presented", "route", r.Pattern)
			http.Error(w, "a client certificate is required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err := s.svc.Ready(ctx)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("storage unavailable\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

// registered identifies the calling system by its client certificate:
// one the handshake verified, registered, not revoked, still valid. It
// answers the request itself and returns false otherwise.
func (s *Server) registered(w http.ResponseWriter, r *http.Request) (*archive.System, bool) {
	// The listener asks for a certificate without requiring one (other
	// doors take none) and verified any presented; this door requires it.
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		s.log.InfoContext(r.Context(), "client certificate refused", "reason", "none presented", "route", r.Pattern)
		s.unauthorized(w, "certificate", "a client certificate of a registered system is required")
		return nil, false
	}
	snap, err := s.reg.Snapshot(r.Context())
	if err != nil && errors.Is(r.Context().Err(), context.Canceled) {
		s.log.InfoContext(r.Context(), "request abandoned by the client", "route", r.Pattern)
		s.fail(w, statusClientClosed, issue("incomplete", "", "", "the client closed the request"))
		return nil, false
	}
	if err != nil {
		s.log.Error("trust registry unavailable", "err", err)
		s.fail(w, http.StatusServiceUnavailable, issue("transient", "", "", "the archive cannot check credentials now; retry"))
		return nil, false
	}
	sys, err := snap.System(r.TLS.PeerCertificates[0])
	if err == nil {
		// The handshake was checked when the connection opened; a
		// kept-alive connection must not outlive a revocation.
		err = snap.StillValid(r.TLS.PeerCertificates, time.Now())
	}
	if err != nil {
		s.unauthorized(w, "certificate", err.Error())
		return nil, false
	}
	return sys, true
}

// certifiedSystem serves a registered system without a token: the
// CapabilityStatement, which tells nothing of any client, and which a
// client reads before it acts, when no professional is yet at hand (FHIR
// R4 http.html#capabilities).
func (s *Server) certifiedSystem(h func(http.ResponseWriter, *http.Request, archive.Caller)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sys, ok := s.registered(w, r)
		if !ok {
			return
		}
		h(w, r, archive.Caller{System: sys.Name, Organisation: sys.Organisation})
	})
}

// transactions are the IHE MHD transactions of the door's routes, for the
// access log (urn:ihe:event-type-code).
var transactions = map[string]string{
	"POST /fhir":                           "ITI-65",
	"POST /fhir/{$}":                       "ITI-65",
	"GET /fhir/List":                       "ITI-66",
	"POST /fhir/List/_search":              "ITI-66",
	"GET /fhir/DocumentReference":          "ITI-67",
	"POST /fhir/DocumentReference/_search": "ITI-67",
	"GET /fhir/Binary/{id}":                "ITI-68",
}

// withRequest gives the caller the request as the access log records it
// (IHE BALP): both ends' network addresses, the route's IHE transaction and
// the raw query. A POST search adds its form body (searchForm).
func withRequest(transaction string, h func(http.ResponseWriter, *http.Request, archive.Caller)) func(http.ResponseWriter, *http.Request, archive.Caller) {
	return func(w http.ResponseWriter, r *http.Request, c archive.Caller) {
		req := &archive.Request{ClientAddress: r.RemoteAddr, Transaction: transaction, Query: loggedQuery(r.URL.RawQuery)}
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			req.ServerAddress = a.String()
		}
		c.Request = req
		h(w, r, c)
	}
}

// maxLoggedQuery bounds the raw query an access-log entry keeps, so that
// no search can make its entry large: a longer one is cut, and says so.
const maxLoggedQuery = 8 << 10

// loggedQuery is a raw query as the access log keeps it.
func loggedQuery(q string) string {
	if len(q) <= maxLoggedQuery {
		return q
	}
	return fmt.Sprintf("%s...[cut: %d bytes in all]", strings.ToValidUTF8(q[:maxLoggedQuery], ""), len(q))
}

// authenticate identifies the system by its client certificate and the
// professional by the bearer token.
func (s *Server) authenticate(h func(http.ResponseWriter, *http.Request, archive.Caller)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sys, ok := s.registered(w, r)
		if !ok {
			return
		}
		// The scheme name is case-insensitive (RFC 7235 section 2.1).
		scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
			s.unauthorized(w, "Authorization", "every request needs Authorization: Bearer <JWT> signed by the calling system, naming the acting professional")
			return
		}
		claims, err := s.tokens.Verify(r.Context(), strings.TrimSpace(raw), sys.Name, sys.Cert.PublicKey)
		if err != nil {
			var te *auth.TokenError
			if errors.As(err, &te) {
				s.unauthorized(w, "token."+te.Field, "bearer token "+te.Error())
				return
			}
			// The token may be fine; its use could not be recorded.
			if r.Context().Err() == nil {
				s.log.Error("token ledger unavailable", "err", err)
			}
			s.fail(w, http.StatusServiceUnavailable, issue("transient", "", "", "the archive cannot check credentials now; retry"))
			return
		}
		if err := auth.CheckUnit(claims.Unit, sys.Organisation); err != nil {
			s.unauthorized(w, "token.unit", "bearer token "+err.Error())
			return
		}
		// The archivist's purpose belongs to the archivist UI, where the
		// archive itself authenticated the person: a system cannot claim it.
		// So does the citizen's, the citizen view's own.
		if claims.Purpose == archive.PurposeArchivist || claims.Purpose == archive.PurposeCitizen || claims.Purpose == archive.PurposeGuardian {
			s.unauthorized(w, "token.purpose", "bearer token purpose "+claims.Purpose+" is the archivist UI's or the citizen view's own; a system acts with "+archive.PurposeOwnRegister+", "+archive.PurposeDisclosure+" or "+archive.PurposeBroadSearch)
			return
		}
		h(w, r, archive.Caller{
			System: sys.Name, Organisation: sys.Organisation,
			Person: claims.Sub, PersonName: claims.Name, Unit: claims.Unit, Purpose: claims.Purpose,
			Justification: claims.Justification, JustificationText: claims.JustificationText,
		})
	})
}

func (s *Server) unauthorized(w http.ResponseWriter, field, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+strings.ReplaceAll(msg, `"`, "'")+`"`)
	s.fail(w, http.StatusUnauthorized, issue("login", field, "", msg))
}

// writeJSON writes a FHIR resource.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := jsoncodec.Marshal(v)
	if err != nil {
		http.Error(w, "cannot encode the response", http.StatusInternalServerError)
		return
	}
	writeEncoded(w, status, b)
}

// writeEncoded is writeJSON for a response already encoded.
func writeEncoded(w http.ResponseWriter, status int, b []byte) {
	ct := ContentFHIRJSON
	if nw, ok := w.(*negotiatedWriter); ok && nw.ctype != ContentCDA {
		ct = nw.ctype // an OperationOutcome to a request for the document is FHIR JSON
	}
	w.Header().Set("Content-Type", ct+"; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// checkJSONBody enforces the request content type.
func (s *Server) checkJSONBody(w http.ResponseWriter, r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != ContentFHIRJSON && mt != "application/json") {
		s.fail(w, http.StatusUnsupportedMediaType, issue("not-supported", "Content-Type", "", "the request body must be "+ContentFHIRJSON+", is "+strconvQuote(r.Header.Get("Content-Type"))))
		return false
	}
	return true
}

func strconvQuote(s string) string { return strconv.Quote(s) }
