// Package jobs holds the River job arguments and workers: generate (calls a provider), deliver
// (one webhook attempt chain), and the recording of each request's outcome.
package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/distributed-electrons/electrons/delivery"
	"github.com/distributed-electrons/electrons/internal/postgres"
	"github.com/distributed-electrons/electrons/providers"
)

// WebhookQueue is the River queue of webhook deliveries.
const WebhookQueue = "webhooks"

// QueueFor names the River queue of a provider's jobs.
func QueueFor(provider string) string { return provider }

// GenerateArgs asks a worker to run one request on its provider.
type GenerateArgs struct {
	RequestID string `json:"request_id"`
}

// Kind implements river.JobArgs.
func (GenerateArgs) Kind() string { return "generate" }

// DeliverArgs asks a worker to send one webhook delivery, retrying on the delivery schedule.
type DeliverArgs struct {
	DeliveryID string `json:"delivery_id"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "deliver" }

// ArtifactStore is what the workers need of the artifact store.
type ArtifactStore interface {
	Put(ctx context.Context, key, contentType string, data []byte) error
	URL(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// Publisher announces live updates (status changes, text deltas) of a request; best effort.
type Publisher interface {
	Publish(requestID string, event string, data any)
}

// Deps is what the workers share.
type Deps struct {
	Store     *postgres.Store
	Providers *providers.Registry
	Artifacts ArtifactStore
	Sender    *delivery.Sender
	Schedule  delivery.Schedule
	Live      Publisher
	Log       *slog.Logger
	// River is the client that inserts follow-up jobs; set it once the client exists.
	River *river.Client[pgx.Tx]

	// ArtifactURLTTL is how long artifact URLs in webhook payloads stay valid. Default 24h.
	ArtifactURLTTL time.Duration
	// CallTimeout bounds one provider call. Default 5 minutes.
	CallTimeout time.Duration
	// JobTimeout bounds a whole generate job: the call, storing artifacts, recording the
	// outcome. Default CallTimeout + 1 minute.
	JobTimeout time.Duration
	// QualityRetries is how many regenerations a rejected output gets. Default 2.
	QualityRetries int
}

func (d *Deps) defaults() {
	if d.ArtifactURLTTL == 0 {
		d.ArtifactURLTTL = 24 * time.Hour
	}
	if d.CallTimeout == 0 {
		d.CallTimeout = 5 * time.Minute
	}
	if d.JobTimeout == 0 {
		d.JobTimeout = d.CallTimeout + time.Minute
	}
	if d.QualityRetries == 0 {
		d.QualityRetries = 2
	}
	if d.Schedule == nil {
		d.Schedule = delivery.DefaultSchedule
	}
}

// Register adds every worker to w.
func Register(w *river.Workers, d *Deps) {
	d.defaults()
	river.AddWorker(w, &GenerateWorker{d: d})
	river.AddWorker(w, &DeliverWorker{d: d})
}

// GenerateInsertOpts are the insert options of a generate job on the provider's queue.
func GenerateInsertOpts(provider string, priority int, maxAttempts int) *river.InsertOpts {
	if maxAttempts == 0 {
		maxAttempts = 5
	}
	return &river.InsertOpts{Queue: QueueFor(provider), Priority: priority, MaxAttempts: maxAttempts}
}
