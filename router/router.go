package router

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/riverqueue/river"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/internal/nats"
	"github.com/distributed-electrons/electrons/internal/postgres"
	"github.com/distributed-electrons/electrons/jobs"
	"github.com/distributed-electrons/electrons/providers"
)

// IntakeMessage is what the intake stream carries: the id of a committed request.
type IntakeMessage struct {
	RequestID string `json:"request_id"`
}

// Config configures a Router.
type Config struct {
	// Batch is how many messages one fetch takes. Default 100.
	Batch int
	// MaxAttempts of a generate job. Default 5.
	MaxAttempts int
}

// Router consumes the intake stream and dispatches River jobs.
type Router struct {
	cfg   Config
	store *postgres.Store
	nc    *nats.Conn
	river *river.Client[pgx.Tx]
	provs *providers.Registry
	deps  *jobs.Deps
	log   *slog.Logger
}

// New returns a router; call Run.
func New(cfg Config, store *postgres.Store, nc *nats.Conn, rc *river.Client[pgx.Tx], provs *providers.Registry, deps *jobs.Deps, log *slog.Logger) *Router {
	if cfg.Batch == 0 {
		cfg.Batch = 100
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 5
	}
	return &Router{cfg: cfg, store: store, nc: nc, river: rc, provs: provs, deps: deps, log: log}
}

// Run consumes until ctx ends.
func (r *Router) Run(ctx context.Context) error {
	cons, err := r.nc.JS.Consumer(ctx, r.nc.IntakeStream(), nats.RouterConsumer)
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		// Take what is waiting, up to a batch, without waiting; when nothing waits, wait for the
		// first message alone, so that a quiet system routes each request at once.
		batch, err := cons.FetchNoWait(r.cfg.Batch)
		msgs := collect(batch, err)
		if len(msgs) == 0 && err == nil {
			batch, err = cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
			msgs = collect(batch, err)
		}
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("router fetch", "err", err)
				sleep(ctx, 250*time.Millisecond)
			}
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		if err := r.handle(ctx, msgs); err != nil {
			if ctx.Err() == nil {
				r.log.Warn("router dispatch", "err", err, "messages", len(msgs))
			}
			for _, m := range msgs {
				_ = m.NakWithDelay(time.Second)
			}
			continue
		}
		for _, m := range msgs {
			_ = m.Ack()
		}
	}
	return nil
}

// collect drains a fetched batch.
func collect(batch jetstream.MessageBatch, err error) []jetstream.Msg {
	if err != nil || batch == nil {
		return nil
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	return msgs
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// handle dispatches one fetched batch in one transaction.
func (r *Router) handle(ctx context.Context, msgs []jetstream.Msg) error {
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		var im IntakeMessage
		if err := json.Unmarshal(m.Data(), &im); err != nil || im.RequestID == "" {
			r.log.Error("router: malformed intake message dropped", "data", string(m.Data()))
			continue
		}
		ids = append(ids, im.RequestID)
	}
	t, err := r.store.Catalog(ctx)
	if err != nil {
		return err
	}
	enabled := func(p string) bool { _, ok := r.provs.Get(p); return ok }
	return r.store.InTx(ctx, func(tx pgx.Tx) error {
		reqs, err := postgres.QueuedRequestsTx(ctx, tx, ids)
		if err != nil {
			return err
		}
		var ds []postgres.Dispatch
		var params []river.InsertManyParams
		for _, q := range reqs {
			m, _, ok := Route(q.TaskType, q.Model, t.Routes, t.Models, enabled)
			if !ok {
				e := electrons.Errorf(electrons.CodeProviderDisabled, "no enabled model can serve task type %s", q.TaskType)
				if q.Model != "" {
					e = electrons.Errorf(electrons.CodeProviderDisabled, "model %s is not available (disabled, or its provider is not enabled)", q.Model)
				}
				if _, err := postgres.FailTx(ctx, tx, q.ID, e); err != nil {
					return err
				}
				if err := jobs.RecordOutcomeTx(ctx, tx, r.deps, q.ID); err != nil {
					return err
				}
				continue
			}
			ds = append(ds, postgres.Dispatch{ID: q.ID, Model: m.ID, Provider: m.Provider})
			params = append(params, river.InsertManyParams{
				Args:       jobs.GenerateArgs{RequestID: q.ID},
				InsertOpts: jobs.GenerateInsertOpts(m.Provider, q.Priority, r.cfg.MaxAttempts),
			})
		}
		if err := postgres.DispatchManyTx(ctx, tx, ds); err != nil {
			return err
		}
		if len(params) > 0 {
			if _, err := r.river.InsertManyFastTx(ctx, tx, params); err != nil {
				return err
			}
		}
		return nil
	})
}
