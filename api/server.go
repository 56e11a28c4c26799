// Package api is the HTTP API: routes on gorilla/mux, key authentication, problem+json errors,
// request intake with the transactional outbox, batches, live events over SSE, and the
// operational endpoints.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/internal/nats"
	"github.com/distributed-electrons/electrons/internal/postgres"
	"github.com/distributed-electrons/electrons/jobs"
	"github.com/distributed-electrons/electrons/providers"
)

// Config configures the API.
type Config struct {
	// AllowPrivateWebhooks lets callback and subscription URLs resolve to non-public addresses.
	AllowPrivateWebhooks bool
	// MaxBodyBytes limits request bodies. Default 1 MiB.
	MaxBodyBytes int64
	// MaxBatchBytes limits batch bodies. Default 200 MiB.
	MaxBatchBytes int64
	// MaxBatchItems limits the requests of one batch. Default 50,000.
	MaxBatchItems int
}

// Nudger wakes the outbox relay after a commit.
type Nudger interface{ Nudge() }

// Pinger reports whether a dependency is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server is the HTTP API.
type Server struct {
	cfg      Config
	store    *postgres.Store
	nc       *nats.Conn
	relay    Nudger
	deps     *jobs.Deps
	provs    *providers.Registry
	artStore Pinger
	artServe http.Handler
	log      *slog.Logger
	keyCache sync.Map // key hash (string) → cachedPrincipal
	riverCli *river.Client[pgx.Tx]
	provSet  map[string]string
	riverUI  http.Handler
}

// Options are the parts a Server is built from.
type Options struct {
	Store     *postgres.Store
	NATS      *nats.Conn
	Relay     Nudger
	Deps      *jobs.Deps
	Providers *providers.Registry
	// ArtifactStore is pinged by /readyz.
	ArtifactStore Pinger
	// ArtifactHandler serves GET /artifacts/… for the local store; nil for S3.
	ArtifactHandler http.Handler
	// ProviderSettings names, per provider, the setting that enables it (for GET /v1/providers).
	ProviderSettings map[string]string
	// RiverUI, when set, is River's UI, served under /riverui/ to admin keys only.
	RiverUI http.Handler
	Log     *slog.Logger
}

// New returns the API server.
func New(cfg Config, o Options) *Server {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxBatchBytes == 0 {
		cfg.MaxBatchBytes = 200 << 20
	}
	if cfg.MaxBatchItems == 0 {
		cfg.MaxBatchItems = 50000
	}
	return &Server{cfg: cfg, store: o.Store, nc: o.NATS, relay: o.Relay, deps: o.Deps, provs: o.Providers,
		artStore: o.ArtifactStore, artServe: o.ArtifactHandler, log: o.Log, provSet: o.ProviderSettings, riverUI: o.RiverUI}
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.problem(w, r, electrons.Errorf(electrons.CodeNotFound, "no route for %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed", r.Method+" is not allowed on "+r.URL.Path, "")
	})
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet)
	r.Handle("/metrics", promhttp.Handler()).Methods(http.MethodGet)
	r.HandleFunc("/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(OpenAPIDocument)
	}).Methods(http.MethodGet)
	if s.artServe != nil {
		r.PathPrefix("/artifacts/").Handler(s.artServe).Methods(http.MethodGet, http.MethodHead)
	}

	if s.riverUI != nil {
		// River's UI has no auth of its own and mutating endpoints: admin keys only (as a bearer
		// token, or as the password of HTTP basic auth so that a browser can sign in), and no
		// cross-origin writes.
		r.PathPrefix("/riverui").Handler(s.browserAdmin(http.NewCrossOriginProtection().Handler(s.riverUI)))
	}

	v1 := r.PathPrefix("/v1").Subrouter()
	v1.Use(s.authenticate)
	v1.HandleFunc("/requests", s.createRequest).Methods(http.MethodPost)
	v1.HandleFunc("/requests", s.listRequests).Methods(http.MethodGet)
	v1.HandleFunc("/requests/{id}", s.getRequest).Methods(http.MethodGet)
	v1.HandleFunc("/requests/{id}/cancel", s.cancelRequest).Methods(http.MethodPost)
	v1.HandleFunc("/requests/{id}/retry", s.retryRequest).Methods(http.MethodPost)
	v1.HandleFunc("/requests/{id}/approve", s.approveRequest).Methods(http.MethodPost)
	v1.HandleFunc("/requests/{id}/reject", s.rejectRequest).Methods(http.MethodPost)
	v1.HandleFunc("/requests/{id}/events", s.requestEvents).Methods(http.MethodGet)
	v1.HandleFunc("/batches", s.createBatch).Methods(http.MethodPost)
	v1.HandleFunc("/batches/{id}", s.getBatch).Methods(http.MethodGet)
	v1.HandleFunc("/batches/{id}/results", s.batchResults).Methods(http.MethodGet)
	v1.HandleFunc("/batches/{id}/cancel", s.cancelBatch).Methods(http.MethodPost)
	v1.Handle("/instance", s.admin(http.HandlerFunc(s.getInstance))).Methods(http.MethodGet)
	v1.Handle("/instance/rotate-webhook-secret", s.admin(http.HandlerFunc(s.rotateSecret))).Methods(http.MethodPost)
	v1.HandleFunc("/models", s.listModels).Methods(http.MethodGet)
	v1.Handle("/providers", s.admin(http.HandlerFunc(s.listProviders))).Methods(http.MethodGet)
	v1.Handle("/queues", s.admin(http.HandlerFunc(s.listQueues))).Methods(http.MethodGet)
	v1.Handle("/queues/{name}/pause", s.admin(http.HandlerFunc(s.pauseQueue))).Methods(http.MethodPost)
	v1.Handle("/queues/{name}/resume", s.admin(http.HandlerFunc(s.resumeQueue))).Methods(http.MethodPost)
	v1.HandleFunc("/webhooks", s.createWebhook).Methods(http.MethodPost)
	v1.HandleFunc("/webhooks", s.listWebhooks).Methods(http.MethodGet)
	v1.HandleFunc("/webhooks/{id}", s.deleteWebhook).Methods(http.MethodDelete)
	v1.HandleFunc("/webhook-deliveries", s.listDeliveries).Methods(http.MethodGet)
	v1.HandleFunc("/webhook-deliveries/{id}/replay", s.replayDelivery).Methods(http.MethodPost)
	v1.HandleFunc("/webhook-deliveries/{id}/attempts", s.listAttempts).Methods(http.MethodGet)
	return r
}

// SetRiver gives the API the River client once it exists (queues listing, job inserts).
func (s *Server) SetRiver(c *river.Client[pgx.Tx]) { s.riverCli = c }
