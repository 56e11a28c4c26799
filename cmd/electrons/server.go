package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"riverqueue.com/riverui"

	"github.com/distributed-electrons/electrons/api"
	"github.com/distributed-electrons/electrons/delivery"
	"github.com/distributed-electrons/electrons/internal/nats"
	"github.com/distributed-electrons/electrons/internal/outbox"
	"github.com/distributed-electrons/electrons/internal/postgres"
	"github.com/distributed-electrons/electrons/jobs"
	"github.com/distributed-electrons/electrons/migrations"
	"github.com/distributed-electrons/electrons/router"
)

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// artifactStore is the artifact store as the server needs it.
type artifactStore interface {
	jobs.ArtifactStore
	Ping(ctx context.Context) error
}

func runServer(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := parseConfig(cmd, args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("ELECTRONS_DATA_DIR %s: %w", cfg.DataDir, err)
	}

	pool, err := openDB(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool); err != nil {
		return err
	}
	store := postgres.New(pool, postgres.StoreConfig{SecretKey: cfg.SecretKey})

	bootstrap := cfg.BootstrapKey
	if bootstrap == "" && cmd == "dev" {
		if bootstrap, err = devKey(cfg.DataDir); err != nil {
			return err
		}
	}
	if bootstrap != "" {
		inst, err := store.EnsureInstance(ctx, "default")
		if err != nil {
			return err
		}
		if _, err := store.CreateKey(ctx, inst.ID, bootstrap, true); err != nil {
			return err
		}
	}

	nc, err := nats.Connect(ctx, nats.Config{URL: cfg.NATSURL, DataDir: cfg.DataDir, Namespace: cfg.NATSNamespace, Name: "electrons " + cmd})
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := nc.EnsureStreams(ctx); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("ELECTRONS_HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	defer ln.Close()
	publicURL := strings.TrimRight(cfg.PublicURL, "/")
	if publicURL == "" {
		publicURL = "http://" + advertised(ln.Addr().String())
	}

	var arts artifactStore
	var artHandler http.Handler
	if cfg.S3Endpoint != "" {
		s3, err := delivery.NewS3Store(ctx, delivery.S3Config{Endpoint: cfg.S3Endpoint, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey,
			Bucket: cfg.S3Bucket, Region: cfg.S3Region, Secure: cfg.S3Secure})
		if err != nil {
			return fmt.Errorf("ELECTRONS_S3_ENDPOINT %s: %w", cfg.S3Endpoint, err)
		}
		arts = s3
	} else {
		key, err := urlSigningKey(cfg)
		if err != nil {
			return err
		}
		ls := delivery.NewLocalStore(filepath.Join(cfg.DataDir, "artifacts"), publicURL, key)
		arts, artHandler = ls, ls.Handler()
	}

	provs := newRegistry(cfg)
	deps := &jobs.Deps{
		Store:          store,
		Providers:      provs,
		Artifacts:      arts,
		Sender:         delivery.NewSender(delivery.SenderConfig{AllowPrivate: cfg.AllowPrivate}),
		Schedule:       cfg.schedule,
		Live:           nc,
		Log:            log,
		ArtifactURLTTL: cfg.ArtifactURLTTL,
		CallTimeout:    cfg.CallTimeout,
		JobTimeout:     cfg.RescueAfter - 5*time.Second,
	}
	workers := river.NewWorkers()
	jobs.Register(workers, deps)
	queues := map[string]river.QueueConfig{}
	if cfg.roles["worker"] {
		for _, p := range provs.Names() {
			queues[jobs.QueueFor(p)] = river.QueueConfig{MaxWorkers: cfg.Workers}
		}
	}
	if cfg.roles["delivery"] {
		queues[jobs.WebhookQueue] = river.QueueConfig{MaxWorkers: 50}
	}
	riverLog := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rcfg := &river.Config{
		Workers:              workers,
		Logger:               riverLog,
		FetchCooldown:        10 * time.Millisecond,
		FetchPollInterval:    250 * time.Millisecond,
		JobTimeout:           cfg.RescueAfter - 5*time.Second,
		RescueStuckJobsAfter: cfg.RescueAfter,
		MaxAttempts:          5,
	}
	if len(queues) > 0 {
		rcfg.Queues = queues
	}
	rc, err := river.NewClient(riverpgxv5.New(pool), rcfg)
	if err != nil {
		return fmt.Errorf("river client: %w", err)
	}
	deps.River = rc

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	goRun := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}

	if len(queues) > 0 {
		if err := rc.Start(ctx); err != nil {
			return fmt.Errorf("start river: %w", err)
		}
	}
	relay := outbox.NewRelay(store, nc.JS, log, outbox.RelayConfig{})
	if cfg.roles["api"] || cfg.roles["router"] {
		goRun("outbox", func(ctx context.Context) error { relay.Run(ctx); return nil })
	}
	if cfg.roles["router"] {
		rt := router.New(router.Config{MaxAttempts: cfg.MaxAttempts}, store, nc, rc, provs, deps, log)
		goRun("router", rt.Run)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	if cfg.roles["api"] {
		ui, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: riverui.NewEndpoints(rc, nil), Logger: riverLog, Prefix: "/riverui"})
		if err != nil {
			return fmt.Errorf("river UI: %w", err)
		}
		if err := ui.Start(ctx); err != nil {
			return fmt.Errorf("start river UI: %w", err)
		}
		a := api.New(api.Config{AllowPrivateWebhooks: cfg.AllowPrivate}, api.Options{
			Store: store, NATS: nc, Relay: relay, Deps: deps, Providers: provs,
			ArtifactStore: arts, ArtifactHandler: artHandler, Log: log, ProviderSettings: providerKeys,
			RiverUI: ui,
		})
		a.SetRiver(rc)
		srv.Handler = a.Handler()
	} else {
		srv.Handler = healthOnly()
	}
	goRun("http", func(context.Context) error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})

	log.Info("electrons started", "command", cmd, "roles", cfg.Roles, "url", publicURL)
	fmt.Fprintf(stdout, "electrons %s listening on %s\n", cmd, publicURL)
	if cmd == "dev" {
		fmt.Fprintf(stdout, "admin API key (instance default):\n%s\n", bootstrap)
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	log.Info("electrons stopping")
	cancel()
	shutCtx, shutCancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer shutCancel()
	_ = srv.Shutdown(shutCtx)
	if len(queues) > 0 {
		_ = rc.Stop(shutCtx)
	}
	wg.Wait()
	return runErr
}

// advertised turns a listen address into one clients can reach: a wildcard host becomes 127.0.0.1.
func advertised(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func healthOnly() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	return m
}

// devKey returns the dev admin key kept in the data dir, making it on first start.
func devKey(dataDir string) (string, error) {
	p := filepath.Join(dataDir, "dev-admin-key")
	if b, err := os.ReadFile(p); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	k := postgres.NewAPIKey()
	if err := os.WriteFile(p, []byte(k+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", p, err)
	}
	return k, nil
}

// urlSigningKey is the key that signs local artifact URLs: derived from ELECTRONS_SECRET_KEY when
// set (so every replica agrees), otherwise kept in the data dir.
func urlSigningKey(cfg *Config) ([]byte, error) {
	if cfg.SecretKey != "" {
		m := hmac.New(sha256.New, []byte(cfg.SecretKey))
		m.Write([]byte("artifact-urls"))
		return m.Sum(nil), nil
	}
	p := filepath.Join(cfg.DataDir, "url-signing-key")
	if b, err := os.ReadFile(p); err == nil && len(b) == 32 {
		return b, nil
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", p, err)
	}
	return b, nil
}
