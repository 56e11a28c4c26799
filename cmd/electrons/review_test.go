package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
)

func waitStatus(t *testing.T, c *client.Client, id string, want electrons.Status) *electrons.Request {
	t.Helper()
	var r *electrons.Request
	waitFor(t, time.Minute, string(want), func() bool {
		var err error
		r, err = c.GetRequest(context.Background(), id)
		return err == nil && r.Status == want
	})
	return r
}

func TestReviewApproveRejectAndRetry(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(nil)
	c := apiClient(t, srv.URL, adminKey)
	ctx := context.Background()
	rcv := newInstanceReceiver(t, c)
	short := client.CreateRequest{TaskType: electrons.TaskText, Input: electrons.Input{Prompt: "two words please", MaxTokens: 2}, CallbackURL: rcv.srv.URL}

	// A two-word answer goes to review; approving it succeeds the request.
	a, _, err := c.SubmitRequest(ctx, short)
	if err != nil {
		t.Fatal(err)
	}
	r := waitStatus(t, c, a.ID, electrons.StatusReview)
	if r.Result == nil || r.Result.Quality == nil || r.Result.Quality.Verdict != electrons.VerdictReview || len(r.Result.Quality.Reasons) == 0 {
		t.Fatalf("review result %+v", r.Result)
	}
	if r, err = c.ApproveRequest(ctx, a.ID); err != nil || r.Status != electrons.StatusSucceeded || r.Result.Quality.Verdict != electrons.VerdictApproved {
		t.Fatalf("approve: %+v %v", r, err)
	}
	var ae *client.APIError
	if _, err := c.ApproveRequest(ctx, a.ID); !errors.As(err, &ae) || ae.Status != 409 {
		t.Fatalf("second approve: %v, want 409", err)
	}

	// Rejecting fails it with quality_rejected.
	b, _, err := c.SubmitRequest(ctx, short)
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, b.ID, electrons.StatusReview)
	if r, err = c.RejectRequest(ctx, b.ID); err != nil || r.Status != electrons.StatusFailed || r.Error == nil || r.Error.Code != electrons.CodeQualityRejected {
		t.Fatalf("reject: %+v %v", r, err)
	}

	// A cancelled request can be retried, and then succeeds.
	slow, _, err := c.SubmitRequest(ctx, client.CreateRequest{Input: electrons.Input{Prompt: "slowly", Options: map[string]any{"latency_ms": 2000}}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err = c.CancelRequest(ctx, slow.ID); err != nil || r.Status != electrons.StatusCancelled {
		t.Fatalf("cancel: %+v %v", r, err)
	}
	if _, err := c.CancelRequest(ctx, slow.ID); err != nil {
		t.Fatalf("cancelling a cancelled request is idempotent: %v", err)
	}
	if r, err = c.RetryRequest(ctx, slow.ID); err != nil || r.Status != electrons.StatusQueued {
		t.Fatalf("retry: %+v %v", r, err)
	}
	waitStatus(t, c, slow.ID, electrons.StatusSucceeded)
	if _, err := c.RetryRequest(ctx, slow.ID); !errors.As(err, &ae) || ae.Status != 409 {
		t.Fatalf("retrying a succeeded request: %v, want 409", err)
	}

	// Webhooks: review, then the final verdicts.
	waitFor(t, 30*time.Second, "webhooks", func() bool { return rcv.count() >= 4 })
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	types := map[string][]string{}
	for _, h := range rcv.got {
		types[h.Data.ID] = append(types[h.Data.ID], h.Type)
	}
	if got := types[a.ID]; len(got) != 2 || got[0] != electrons.EventRequestReview || got[1] != electrons.EventRequestSucceeded {
		t.Fatalf("approved request webhooks: %v", got)
	}
	if got := types[b.ID]; len(got) != 2 || got[1] != electrons.EventRequestFailed {
		t.Fatalf("rejected request webhooks: %v", got)
	}
}

func TestFailuresAreClassified(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(nil)
	c := apiClient(t, srv.URL, adminKey)
	ctx := context.Background()
	submit := func(opts map[string]any) string {
		r, _, err := c.SubmitRequest(ctx, client.CreateRequest{TaskType: electrons.TaskImage, Input: electrons.Input{Prompt: "x", Size: "32x32", Options: opts}})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	// Output the quality gate rejects is regenerated, then fails with quality_rejected.
	bad := submit(map[string]any{"fail": "bad_output"})
	// A rate limit waits without using an attempt, then succeeds.
	limited := submit(map[string]any{"fail": "rate_limit", "fail_times": 2, "retry_after_ms": 100})
	// A server error is retried with backoff and then succeeds.
	flaky := submit(map[string]any{"fail": "server", "fail_times": 1})
	r := waitStatus(t, c, bad, electrons.StatusFailed)
	if r.Error == nil || r.Error.Code != electrons.CodeQualityRejected || r.Attempts < 2 {
		t.Fatalf("bad output: %+v attempts %d", r.Error, r.Attempts)
	}
	waitStatus(t, c, limited, electrons.StatusSucceeded)
	var jobAttempt int
	if err := p.db.Pool.QueryRow(ctx, `SELECT attempt FROM river_job WHERE args->>'request_id' = $1`, limited).Scan(&jobAttempt); err != nil {
		t.Fatal(err)
	}
	if jobAttempt != 1 {
		t.Fatalf("rate-limited request used %d job attempts, want 1 (waits are snoozes)", jobAttempt)
	}
	r = waitStatus(t, c, flaky, electrons.StatusSucceeded)
	if r.Attempts != 2 {
		t.Fatalf("flaky request: %d attempts, want 2", r.Attempts)
	}
}

// TestLongRunningJobFreesItsSlot runs a render that takes many polls with one worker slot: other
// requests complete while it waits, and the render finishes with one attempt.
func TestLongRunningJobFreesItsSlot(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(map[string]string{"ELECTRONS_WORKERS": "1"})
	c := apiClient(t, srv.URL, adminKey)
	ctx := context.Background()
	render, _, err := c.SubmitRequest(ctx, client.CreateRequest{TaskType: electrons.TaskVideo,
		Input: electrons.Input{Prompt: "Waves. Sun. Sand.", Options: map[string]any{"render_polls": 40, "poll_after_ms": 250}}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the render to start", func() bool {
		var h *string
		_ = p.db.Pool.QueryRow(ctx, `SELECT provider_job FROM requests WHERE id = $1`, render.ID).Scan(&h)
		return h != nil
	})
	ids := submitMixed(t, c, 6, "", nil)
	for _, id := range ids {
		waitStatus(t, c, id, electrons.StatusSucceeded)
	}
	if r, _ := c.GetRequest(ctx, render.ID); r.Status != electrons.StatusRunning {
		t.Fatalf("the render is %s while others finished; want still running", r.Status)
	}
	r := waitStatus(t, c, render.ID, electrons.StatusSucceeded)
	if r.Attempts != 1 || len(r.Result.Artifacts) != 1 || r.Result.Artifacts[0].ContentType != "image/gif" {
		t.Fatalf("render: attempts %d, result %+v", r.Attempts, r.Result)
	}
}
