package jobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/delivery"
	"github.com/distributed-electrons/electrons/internal/postgres"
	"github.com/distributed-electrons/electrons/providers"
)

// GenerateWorker runs a request on its provider, stores what it produced, judges it and records
// the outcome.
type GenerateWorker struct {
	river.WorkerDefaults[GenerateArgs]
	d *Deps
}

// Timeout bounds a whole job: the provider call, storing artifacts and recording the result.
func (w *GenerateWorker) Timeout(*river.Job[GenerateArgs]) time.Duration {
	return w.d.JobTimeout
}

// NextRetry backs off quickly at first (1s, 2s, 4s …, at most a minute): a provider's own
// rate-limit waits are snoozes, not retries.
func (w *GenerateWorker) NextRetry(job *river.Job[GenerateArgs]) time.Time {
	d := time.Second << min(job.Attempt-1, 6)
	return time.Now().Add(min(d, time.Minute))
}

// Work implements river.Worker.
func (w *GenerateWorker) Work(ctx context.Context, job *river.Job[GenerateArgs]) error {
	st := w.d.Store
	id := job.Args.RequestID
	// A request waiting on a long-running provider job is polled, without a new attempt.
	req, handle, err := postgres.ClaimAttempt(ctx, st.Pool, id)
	if err != nil {
		return err
	}
	if req == nil {
		// Cancelled, or finished by an earlier run of this job whose completion River did not see.
		return nil
	}
	if handle == "" {
		w.d.Live.Publish(id, "status", map[string]any{"status": electrons.StatusRunning})
	}

	cat, err := st.Catalog(ctx)
	if err != nil {
		return err
	}
	model, ok := cat.Models[req.Model]
	if !ok {
		return w.fail(ctx, job, req, electrons.Errorf(electrons.CodeInvalidRequest, "model %q no longer exists", req.Model))
	}
	prov, ok := w.d.Providers.Get(model.Provider)
	if !ok {
		return w.fail(ctx, job, req, electrons.Errorf(electrons.CodeProviderDisabled, "provider %q is not enabled", model.Provider))
	}

	call := providers.Call{
		RequestID: id,
		TaskType:  req.TaskType,
		Model:     model.ProviderModel,
		Input:     req.Input,
		OnDelta: func(text string) {
			w.d.Live.Publish(id, "delta", map[string]string{"text": text})
		},
	}
	callCtx, cancel := context.WithTimeout(ctx, w.d.CallTimeout)
	var out *providers.Output
	if handle != "" {
		poller, ok := prov.(providers.Poller)
		if !ok {
			cancel()
			return w.fail(ctx, job, req, electrons.Errorf(electrons.CodeServerError, "provider %q cannot poll job %s", model.Provider, handle))
		}
		out, err = poller.Poll(callCtx, call, handle)
	} else {
		out, err = prov.Generate(callCtx, call)
	}
	cancel()
	if err != nil {
		if handle != "" && !pollCanResume(err) {
			// The job itself failed: the next attempt starts it anew. A poll that was only
			// refused or timed out keeps the job, so that it is not paid for twice.
			if err := postgres.SetProviderJob(ctx, st.Pool, id, ""); err != nil {
				return err
			}
		}
		return w.providerError(ctx, job, req, err)
	}
	if out.Limits != nil {
		if err := st.ObserveLimits(ctx, model.Provider, out.Limits.Limit, out.Limits.Remaining, out.Limits.Reset); err != nil {
			w.d.Log.Warn("record provider limits", "provider", model.Provider, "err", err)
		}
	}
	if out.Pending != nil {
		// The provider works on; free this worker slot and ask again later. A snooze does not
		// use up an attempt.
		if out.Pending.Handle != handle {
			if err := postgres.SetProviderJob(ctx, st.Pool, id, out.Pending.Handle); err != nil {
				return err
			}
		}
		wait := out.Pending.PollAfter
		if wait <= 0 {
			wait = 5 * time.Second
		}
		return river.JobSnooze(wait)
	}

	files := make([]delivery.ArtifactData, 0, len(out.Files))
	for i, f := range out.Files {
		if f.URL != "" && len(f.Data) == 0 {
			data, ct, err := download(ctx, f.URL)
			if err != nil {
				return w.providerError(ctx, job, req, &electrons.Error{Code: electrons.CodeServerError, Message: "download provider output", Err: err})
			}
			out.Files[i].Data = data
			if out.Files[i].ContentType == "" {
				out.Files[i].ContentType = ct
			}
			f = out.Files[i]
		}
		files = append(files, delivery.ArtifactData{ContentType: f.ContentType, Data: f.Data})
	}
	q := delivery.AssessCut(req.TaskType, out.Text, files, len(out.Items), out.FinishReason == providers.FinishLength)
	if q.Verdict == electrons.VerdictRejected {
		if job.Attempt <= w.d.QualityRetries && job.Attempt < job.MaxAttempts {
			return fmt.Errorf("quality gate rejected attempt %d: %v", job.Attempt, q.Reasons)
		}
		return w.fail(ctx, job, req, electrons.Errorf(electrons.CodeQualityRejected, "output rejected by the quality gate: %v", q.Reasons))
	}

	result := &electrons.Result{Text: out.Text, Items: out.Items, Usage: out.Usage, Quality: &q, Artifacts: []electrons.Artifact{}}
	arts := make([]postgres.ArtifactRow, 0, len(out.Files))
	for _, f := range out.Files {
		sum := sha256.Sum256(f.Data)
		a := postgres.ArtifactRow{
			Artifact: electrons.Artifact{
				ID:          electrons.NewID(electrons.PrefixArtifact),
				ContentType: f.ContentType,
				SizeBytes:   int64(len(f.Data)),
				SHA256:      hex.EncodeToString(sum[:]),
			},
			InstanceID: req.InstanceID,
			RequestID:  id,
		}
		a.StorageKey = ArtifactKey(req.InstanceID, id, a.ID)
		if err := w.d.Artifacts.Put(ctx, a.StorageKey, f.ContentType, f.Data); err != nil {
			return fmt.Errorf("store artifact of %s: %w", id, err)
		}
		arts = append(arts, a)
		result.Artifacts = append(result.Artifacts, a.Artifact)
	}
	// Stock items that were downloaded point at their artifact.
	for i := range result.Items {
		if i < len(arts) && result.Items[i].ArtifactID == "" && len(out.Items) == len(out.Files) {
			result.Items[i].ArtifactID = arts[i].ID
		}
	}

	status := electrons.StatusSucceeded
	if q.Verdict == electrons.VerdictReview {
		status = electrons.StatusReview
	}
	return w.finish(ctx, job, req, status, result, nil, arts)
}

// ArtifactKey is where an artifact's bytes are kept in the store.
func ArtifactKey(instanceID, requestID, artifactID string) string {
	return instanceID + "/" + requestID + "/" + artifactID
}

func (w *GenerateWorker) providerError(ctx context.Context, job *river.Job[GenerateArgs], req *postgres.RequestRow, err error) error {
	var e *electrons.Error
	if !errors.As(err, &e) {
		e = &electrons.Error{Code: electrons.CodeServerError, Message: "provider call", Err: err}
	}
	switch {
	case e.Code == electrons.CodeRateLimited || e.Code == electrons.CodeConcurrencyLimited:
		// Waiting for a limit never uses up an attempt.
		wait := e.RetryAfter
		if wait <= 0 {
			wait = time.Second
		}
		if err := w.d.Store.Cooldown(ctx, req.Provider, time.Now().Add(wait)); err != nil {
			w.d.Log.Warn("record provider cooldown", "provider", req.Provider, "err", err)
		}
		if _, err := postgres.SetStatusTx(ctx, w.d.Store.Pool, req.ID, electrons.StatusDispatched, electrons.StatusRunning); err != nil {
			return err
		}
		return river.JobSnooze(wait)
	case e.Code.Retryable() && job.Attempt < job.MaxAttempts:
		return fmt.Errorf("attempt %d of %s: %w", job.Attempt, req.ID, e)
	}
	return w.fail(ctx, job, req, e)
}

func (w *GenerateWorker) fail(ctx context.Context, job *river.Job[GenerateArgs], req *postgres.RequestRow, e *electrons.Error) error {
	w.d.Log.Info("request failed", "request_id", req.ID, "code", e.Code, "err", e)
	return w.finish(ctx, job, req, electrons.StatusFailed, nil, &electrons.Error{Code: e.Code, Message: e.Message}, nil)
}

// finish records the outcome and completes the River job in the same transaction, so the
// outcome is recorded exactly once whatever crashes.
func (w *GenerateWorker) finish(ctx context.Context, job *river.Job[GenerateArgs], req *postgres.RequestRow, status electrons.Status, result *electrons.Result, rerr *electrons.Error, arts []postgres.ArtifactRow) error {
	var moved bool
	err := w.d.Store.InTx(ctx, func(tx pgx.Tx) error {
		ok, err := postgres.FinishTx(ctx, tx, req.ID, status, result, rerr)
		if err != nil {
			return err
		}
		moved = ok
		if ok {
			if err := postgres.InsertArtifactsTx(ctx, tx, arts); err != nil {
				return err
			}
			if err := RecordOutcomeTx(ctx, tx, w.d, req.ID); err != nil {
				return err
			}
		}
		_, err = river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
	if err != nil {
		return err
	}
	if moved {
		w.d.Live.Publish(req.ID, "status", map[string]any{"status": status})
	}
	return nil
}

var downloadClient = &http.Client{Timeout: 2 * time.Minute}

// download fetches a provider-hosted output (at most 512 MiB).
func download(ctx context.Context, url string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := downloadClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(resp.Body, 512<<20)); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), resp.Header.Get("Content-Type"), nil
}

// pollCanResume reports whether a failed poll leaves the provider job worth polling again.
func pollCanResume(err error) bool {
	switch electrons.ErrorCode(err) {
	case electrons.CodeRateLimited, electrons.CodeConcurrencyLimited, electrons.CodeTimeout, electrons.CodeOverloaded:
		return true
	}
	return false
}
