package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/internal/postgres"
)

// WebhookEvent is the body of every webhook.
type WebhookEvent struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// Present turns a stored request into what clients see, with fresh signed artifact URLs.
func Present(ctx context.Context, arts ArtifactStore, r *postgres.RequestRow, ttl time.Duration) electrons.Request {
	out := r.Request
	if out.Result != nil {
		res := *out.Result
		res.Artifacts = make([]electrons.Artifact, len(out.Result.Artifacts))
		for i, a := range out.Result.Artifacts {
			if u, err := arts.URL(ctx, ArtifactKey(r.InstanceID, r.ID, a.ID), ttl); err == nil {
				a.URL = u
			}
			res.Artifacts[i] = a
		}
		out.Result = &res
	}
	return out
}

// RecordOutcomeTx records, in the transaction that changed a request's status, what follows from
// it: the activity event, the webhook deliveries (to the request's callback URL and to every
// matching subscription) with their River jobs, and the batch's completion when it was the last.
// Call it once per status change; the caller guarantees that by moving the status in tx first.
func RecordOutcomeTx(ctx context.Context, tx pgx.Tx, d *Deps, requestID string) error {
	r, err := postgres.LoadRequest(ctx, tx, requestID, false)
	if err != nil {
		return err
	}
	evType := electrons.EventForStatus(r.Status)
	if evType == "" {
		return nil
	}
	data := Present(ctx, d.Artifacts, r, d.ArtifactURLTTL)
	if err := recordEventTx(ctx, tx, d, r.InstanceID, evType, "request", r.ID, r.CallbackURL, data); err != nil {
		return err
	}
	if r.BatchID != nil && r.Status.Terminal() {
		done, err := postgres.CountBatchDoneTx(ctx, tx, *r.BatchID)
		if err != nil {
			return err
		}
		if done {
			b, err := postgres.GetBatchTx(ctx, tx, *r.BatchID)
			if err != nil {
				return err
			}
			if err := recordEventTx(ctx, tx, d, b.InstanceID, electrons.EventBatchCompleted, "batch", b.ID, b.CallbackURL, b.Batch); err != nil {
				return err
			}
		}
	}
	return nil
}

func recordEventTx(ctx context.Context, tx pgx.Tx, d *Deps, instanceID, evType, entityType, entityID, callbackURL string, data any) error {
	now := time.Now().UTC()
	body, err := json.Marshal(WebhookEvent{Type: evType, Timestamp: now, Data: data})
	if err != nil {
		return fmt.Errorf("encode %s event: %w", evType, err)
	}
	if err := postgres.InsertEventTx(ctx, tx, postgres.EventRow{InstanceID: instanceID, Type: evType, EntityType: entityType, EntityID: entityID, Data: body}); err != nil {
		return err
	}
	var deliveries []postgres.Delivery
	if callbackURL != "" {
		deliveries = append(deliveries, postgres.Delivery{URL: callbackURL})
	}
	subs, err := postgres.MatchingWebhooksTx(ctx, tx, instanceID, evType)
	if err != nil {
		return err
	}
	for _, s := range subs {
		id := s.ID
		deliveries = append(deliveries, postgres.Delivery{URL: s.URL, WebhookID: &id})
	}
	if len(deliveries) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, 0, len(deliveries))
	for _, dl := range deliveries {
		dl.ID = electrons.NewID(electrons.PrefixMessage)
		dl.InstanceID, dl.EventType, dl.EntityID, dl.Payload = instanceID, evType, entityID, body
		if err := postgres.InsertDeliveryTx(ctx, tx, dl); err != nil {
			return err
		}
		params = append(params, river.InsertManyParams{Args: DeliverArgs{DeliveryID: dl.ID}, InsertOpts: DeliverInsertOpts(d)})
	}
	if _, err := d.River.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("insert deliver jobs: %w", err)
	}
	return nil
}

// DeliverInsertOpts are the insert options of a deliver job.
func DeliverInsertOpts(d *Deps) *river.InsertOpts {
	return &river.InsertOpts{Queue: WebhookQueue, MaxAttempts: len(d.Schedule) + 1}
}
