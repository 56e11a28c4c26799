package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/distributed-electrons/electrons/delivery"
	"github.com/distributed-electrons/electrons/internal/postgres"
)

// DeliverWorker makes one attempt of a webhook delivery per run. A failed attempt is retried on
// the delivery schedule (River's NextRetry); when the schedule is spent the delivery is dead.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	d *Deps
}

// Timeout bounds one attempt (the sender has its own 15 s limit).
func (w *DeliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return time.Minute }

// NextRetry follows the delivery schedule.
func (w *DeliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	wait, ok := w.d.Schedule.Next(job.Attempt, nil)
	if !ok {
		wait = time.Hour
	}
	return time.Now().Add(wait)
}

// Work implements river.Worker.
func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	st := w.d.Store
	dl, err := st.GetDelivery(ctx, job.Args.DeliveryID)
	if err != nil {
		return err
	}
	if dl.Status != postgres.DeliveryPending {
		return nil
	}
	var secrets []string
	if dl.WebhookID != nil {
		sec, live, err := st.WebhookTarget(ctx, *dl.WebhookID)
		if err != nil {
			return err
		}
		if !live {
			return st.DropDelivery(ctx, dl.ID, "the subscription was disabled or deleted")
		}
		secrets = []string{sec}
	} else {
		if secrets, err = st.InstanceSecrets(ctx, dl.InstanceID); err != nil {
			return err
		}
	}
	a := w.d.Sender.Send(ctx, dl.URL, dl.ID, dl.Payload, secrets)
	errText := ""
	if a.Err != nil {
		errText = a.Err.Error()
	}
	// The schedule counts the attempts of this chain (a replay starts a fresh one).
	status := postgres.DeliveryPending
	switch {
	case a.OK():
		status = postgres.DeliverySucceeded
	case a.Gone() && dl.WebhookID != nil, job.Attempt >= len(w.d.Schedule):
		status = postgres.DeliveryDead
	}
	if err := st.RecordAttempt(ctx, dl.ID, a.StatusCode, errText, a.Duration, status); err != nil {
		return err
	}
	if dl.WebhookID != nil {
		if err := w.subscriptionOutcome(ctx, *dl.WebhookID, a); err != nil {
			return err
		}
	}
	if status == postgres.DeliveryPending {
		return fmt.Errorf("delivery %s attempt %d: status %d: %s", dl.ID, dl.Attempts+1, a.StatusCode, errText)
	}
	if status == postgres.DeliveryDead {
		w.d.Log.Warn("webhook delivery dead-lettered", "delivery_id", dl.ID, "url", dl.URL, "attempts", dl.Attempts+1)
	}
	return nil
}

// failingLimit is how long a subscription may fail every attempt before it is disabled.
const failingLimit = 5 * 24 * time.Hour

// subscriptionOutcome disables a subscription that answered 410 Gone or has failed for five days.
func (w *DeliverWorker) subscriptionOutcome(ctx context.Context, id string, a delivery.Attempt) error {
	st := w.d.Store
	if a.Gone() {
		w.d.Log.Info("webhook subscription disabled: 410 Gone", "webhook_id", id)
		return st.DisableWebhook(ctx, id, "the receiver answered 410 Gone")
	}
	since, err := st.WebhookOutcome(ctx, id, a.OK())
	if err != nil {
		return err
	}
	if !since.IsZero() && time.Since(since) > failingLimit {
		w.d.Log.Info("webhook subscription disabled: failing for 5 days", "webhook_id", id)
		return st.DisableWebhook(ctx, id, "every attempt failed for 5 days")
	}
	return nil
}
