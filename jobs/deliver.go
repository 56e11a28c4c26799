package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

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
		sec, err := st.WebhookSecret(ctx, *dl.WebhookID)
		if err != nil {
			return err
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
	status := postgres.DeliveryPending
	switch {
	case a.OK():
		status = postgres.DeliverySucceeded
	case dl.Attempts+1 >= len(w.d.Schedule):
		status = postgres.DeliveryDead
	}
	if err := st.RecordAttempt(ctx, dl.ID, a.StatusCode, errText, a.Duration, status); err != nil {
		return err
	}
	if status == postgres.DeliveryPending {
		return fmt.Errorf("delivery %s attempt %d: status %d: %s", dl.ID, dl.Attempts+1, a.StatusCode, errText)
	}
	if status == postgres.DeliveryDead {
		w.d.Log.Warn("webhook delivery dead-lettered", "delivery_id", dl.ID, "url", dl.URL, "attempts", dl.Attempts+1)
	}
	return nil
}
