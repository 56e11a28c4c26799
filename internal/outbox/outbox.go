// Package outbox publishes to NATS what was committed to the outbox table: right after each
// commit when nudged, and by a periodic sweep for whatever a crashed process left behind.
package outbox

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/distributed-electrons/electrons/internal/postgres"
)

// RelayConfig configures a Relay.
type RelayConfig struct {
	// Sweep is how often the outbox is read when nobody nudges. Default 1s.
	Sweep time.Duration
	// Batch is how many messages one transaction publishes. Default 500.
	Batch int
}

// Relay moves outbox rows to JetStream.
type Relay struct {
	store  *postgres.Store
	js     jetstream.JetStream
	log    *slog.Logger
	cfg    RelayConfig
	nudges chan struct{}
}

// NewRelay returns a relay; call Run to start it.
func NewRelay(store *postgres.Store, js jetstream.JetStream, log *slog.Logger, cfg RelayConfig) *Relay {
	if cfg.Sweep == 0 {
		cfg.Sweep = time.Second
	}
	if cfg.Batch == 0 {
		cfg.Batch = 500
	}
	return &Relay{store: store, js: js, log: log, cfg: cfg, nudges: make(chan struct{}, 1)}
}

// Nudge asks the relay to publish now; it never blocks.
func (r *Relay) Nudge() {
	select {
	case r.nudges <- struct{}{}:
	default:
	}
}

// Run publishes until ctx ends.
func (r *Relay) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Sweep)
	defer t.Stop()
	for {
		for {
			n, err := r.PublishOnce(ctx)
			if err != nil {
				if ctx.Err() == nil {
					r.log.Warn("outbox publish", "err", err)
				}
				break
			}
			if n < r.cfg.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-r.nudges:
		case <-t.C:
		}
	}
}

// PublishOnce publishes one batch of outbox rows and returns how many were published.
func (r *Relay) PublishOnce(ctx context.Context) (int, error) {
	return r.store.PublishOutbox(ctx, r.cfg.Batch, func(msgs []postgres.ClaimedOutbox) ([]int64, error) {
		futures := make([]jetstream.PubAckFuture, len(msgs))
		var firstErr error
		for i, m := range msgs {
			msg := &nats.Msg{Subject: m.Subject, Data: m.Payload, Header: nats.Header{}}
			msg.Header.Set(jetstream.MsgIDHeader, m.MsgID)
			f, err := r.js.PublishMsgAsync(msg)
			if err != nil {
				firstErr = err
				break
			}
			futures[i] = f
		}
		var done []int64
		timeout := time.After(10 * time.Second)
		for i, f := range futures {
			if f == nil {
				break
			}
			select {
			case <-f.Ok():
				done = append(done, msgs[i].ID)
			case err := <-f.Err():
				if firstErr == nil {
					firstErr = err
				}
			case <-timeout:
				if firstErr == nil {
					firstErr = context.DeadlineExceeded
				}
			case <-ctx.Done():
				return done, ctx.Err()
			}
		}
		// Rows published are deleted even when others failed; the rest stay for the next pass.
		return done, firstErr
	})
}
