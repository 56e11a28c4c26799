package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
	"github.com/distributed-electrons/electrons/internal/oracle"
)

// rawPost sends body to path with key, checks the answer against the OpenAPI document, and
// returns the status and the decoded JSON.
func rawPost(t *testing.T, o *oracle.Oracle, base, key, path, contentType string, body []byte, header map[string]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	o.Check(t, req, resp.StatusCode, resp.Header, b)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s %s: %d with content type %q, want application/problem+json", req.Method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, m
}

func countRows(t *testing.T, p *platform) (requests, outbox int) {
	t.Helper()
	ctx := context.Background()
	if err := p.db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM requests), (SELECT count(*) FROM outbox) + (SELECT count(*) FROM river_job)`).Scan(&requests, &outbox); err != nil {
		t.Fatal(err)
	}
	return requests, outbox
}

func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	open := p.start(nil)
	strict := p.start(map[string]string{"ELECTRONS_WEBHOOK_ALLOW_PRIVATE": "false"})
	o := oracle.New(t)
	big := `{"input":{"prompt":"` + strings.Repeat("x", 1<<20) + `"}}`
	cases := []struct {
		name   string
		srv    *server
		body   string
		status int
		code   string
		param  string
	}{
		{"malformed JSON", open, `{"input": {"prompt": "hi"`, 400, "invalid_request", ""},
		{"not an object", open, `[1,2]`, 400, "invalid_request", ""},
		{"unknown field", open, `{"input":{"prompt":"hi"},"colour":"red"}`, 400, "invalid_request", "colour"},
		{"unknown input field", open, `{"input":{"prompt":"hi","temperature":2}}`, 400, "invalid_request", "input.temperature"},
		{"unknown model", open, `{"model":"gpt-9","input":{"prompt":"hi"}}`, 400, "invalid_request", "model"},
		{"model of a disabled provider", open, `{"model":"gpt-4o","input":{"prompt":"hi"}}`, 400, "provider_disabled", "model"},
		{"bad task type", open, `{"task_type":"poem","input":{"prompt":"hi"}}`, 400, "invalid_request", "task_type"},
		{"bad priority", open, `{"priority":9,"input":{"prompt":"hi"}}`, 400, "invalid_request", "priority"},
		{"no prompt", open, `{"input":{}}`, 400, "invalid_request", "input"},
		{"bad size", open, `{"task_type":"image","input":{"prompt":"hi","size":"big"}}`, 400, "invalid_request", "input.size"},
		{"metadata not an object", open, `{"input":{"prompt":"hi"},"metadata":[1]}`, 400, "invalid_request", "metadata"},
		{"metadata over 16 KiB", open, `{"input":{"prompt":"hi"},"metadata":{"a":"` + strings.Repeat("m", 17<<10) + `"}}`, 400, "invalid_request", "metadata"},
		{"body over 1 MiB", open, big, 413, "payload_too_large", ""},
		{"malformed callback URL", open, `{"input":{"prompt":"hi"},"callback_url":"not a url"}`, 400, "invalid_request", "callback_url"},
		{"callback URL without host", open, `{"input":{"prompt":"hi"},"callback_url":"https:///hooks"}`, 400, "invalid_request", "callback_url"},
		{"callback URL of another scheme", open, `{"input":{"prompt":"hi"},"callback_url":"ftp://example.com/x"}`, 400, "invalid_request", "callback_url"},
		{"private callback URL", strict, `{"input":{"prompt":"hi"},"callback_url":"http://127.0.0.1:9/hooks"}`, 400, "invalid_request", "callback_url"},
		{"private callback URL (10/8)", strict, `{"input":{"prompt":"hi"},"callback_url":"http://10.1.2.3/hooks"}`, 400, "invalid_request", "callback_url"},
		{"metadata callback URL", strict, `{"input":{"prompt":"hi"},"callback_url":"http://169.254.169.254/latest"}`, 400, "invalid_request", "callback_url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reqs, other := countRows(t, p)
			status, m := rawPost(t, o, c.srv.URL, adminKey, "/v1/requests", "application/json", []byte(c.body), nil)
			if status != c.status || m["code"] != c.code {
				t.Fatalf("got %d %v (%v), want %d %s", status, m["code"], m["detail"], c.status, c.code)
			}
			if c.param != "" && m["param"] != c.param {
				t.Fatalf("param = %v, want %s", m["param"], c.param)
			}
			if m["detail"] == "" || m["title"] == "" {
				t.Fatalf("problem without title or detail: %v", m)
			}
			if r2, o2 := countRows(t, p); r2 != reqs || o2 != other {
				t.Fatalf("rows changed: requests %d→%d, outbox+jobs %d→%d", reqs, r2, other, o2)
			}
		})
	}
	// A key is required, and must be valid.
	status, m := rawPost(t, o, open.URL, "", "/v1/requests", "application/json", []byte(`{"input":{"prompt":"hi"}}`), nil)
	if status != 401 || m["code"] != "unauthorized" {
		t.Fatalf("no key: %d %v", status, m["code"])
	}
	status, m = rawPost(t, o, open.URL, "de_wrong", "/v1/requests", "application/json", []byte(`{"input":{"prompt":"hi"}}`), nil)
	if status != 401 || m["code"] != "unauthorized" {
		t.Fatalf("wrong key: %d %v", status, m["code"])
	}
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(nil)
	o := oracle.New(t)
	body := []byte(`{"input":{"prompt":"once only"},"metadata":{"n":1}}`)
	hdr := map[string]string{"Idempotency-Key": "order-42"}
	s1, m1 := rawPost(t, o, srv.URL, adminKey, "/v1/requests", "application/json", body, hdr)
	s2, m2 := rawPost(t, o, srv.URL, adminKey, "/v1/requests", "application/json", body, hdr)
	if s1 != 202 || s2 != 200 || m1["id"] == nil || m1["id"] != m2["id"] {
		t.Fatalf("first %d %v, replay %d %v: want 202 then 200 with the same id", s1, m1["id"], s2, m2["id"])
	}
	// The key in the body works the same way.
	s3, m3 := rawPost(t, o, srv.URL, adminKey, "/v1/requests", "application/json", []byte(`{"input":{"prompt":"once only"},"metadata":{"n":1},"idempotency_key":"order-42"}`), nil)
	if s3 != 200 || m3["id"] != m1["id"] {
		t.Fatalf("key in body: %d %v", s3, m3["id"])
	}
	reqs, _ := countRows(t, p)
	s4, m4 := rawPost(t, o, srv.URL, adminKey, "/v1/requests", "application/json", []byte(`{"input":{"prompt":"something else"}}`), hdr)
	if s4 != 409 || m4["code"] != "conflict" {
		t.Fatalf("other body: %d %v, want 409 conflict", s4, m4["code"])
	}
	if r2, _ := countRows(t, p); r2 != reqs || reqs != 1 {
		t.Fatalf("requests %d → %d, want exactly 1", reqs, r2)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(nil)
	ctx := context.Background()
	var out bytes.Buffer
	env := p.env(nil)
	if err := run(ctx, []string{"keys", "create", "--instance", "acme"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	otherKey := lines[len(lines)-1]
	if !strings.HasPrefix(otherKey, "de_") {
		t.Fatalf("keys create printed %q last", otherKey)
	}
	mine := apiClient(t, srv.URL, adminKey)
	theirs := apiClient(t, srv.URL, otherKey)
	r, _, err := mine.SubmitRequest(ctx, client.CreateRequest{Input: electrons.Input{Prompt: "private", Options: map[string]any{"latency_ms": 3000}}})
	if err != nil {
		t.Fatal(err)
	}
	isNotFound := func(err error) bool {
		var ae *client.APIError
		return errors.As(err, &ae) && ae.Status == 404 && ae.Code == electrons.CodeNotFound
	}
	if _, err := theirs.GetRequest(ctx, r.ID); !isNotFound(err) {
		t.Fatalf("other instance get: %v, want 404", err)
	}
	if _, err := theirs.CancelRequest(ctx, r.ID); !isNotFound(err) {
		t.Fatalf("other instance cancel: %v, want 404", err)
	}
	page, err := theirs.ListRequests(ctx, client.ListRequestsParams{})
	if err != nil || len(page.Data) != 0 {
		t.Fatalf("other instance list: %v %v, want empty", page, err)
	}
	// A non-admin key cannot read the instance's webhook secret.
	if _, err := theirs.GetInstance(ctx); err == nil {
		t.Fatal("non-admin key read the instance")
	}
	// The owner still sees and can cancel it.
	got, err := mine.CancelRequest(ctx, r.ID)
	if err != nil || got.Status != electrons.StatusCancelled {
		t.Fatalf("owner cancel: %v %v", got, err)
	}
}

func TestListCursorAndFilters(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(nil)
	c := apiClient(t, srv.URL, adminKey)
	ctx := context.Background()
	ids := submitMixed(t, c, 9, "", nil)
	waitFor(t, time.Minute, "all succeeded", func() bool {
		pg, err := c.ListRequests(ctx, client.ListRequestsParams{Status: "succeeded", Limit: 100})
		return err == nil && len(pg.Data) == len(ids)
	})
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		pg, err := c.ListRequests(ctx, client.ListRequestsParams{Limit: 4, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range pg.Data {
			if seen[r.ID] {
				t.Fatalf("%s listed twice", r.ID)
			}
			seen[r.ID] = true
		}
		if pg.NextCursor == "" {
			break
		}
		cursor = pg.NextCursor
		if pages > 5 {
			t.Fatal("cursor does not end")
		}
	}
	if len(seen) != len(ids) {
		t.Fatalf("listed %d of %d", len(seen), len(ids))
	}
	pg, err := c.ListRequests(ctx, client.ListRequestsParams{TaskType: "image", Limit: 100})
	if err != nil || len(pg.Data) != 3 {
		t.Fatalf("task_type=image: %d, %v; want 3", len(pg.Data), err)
	}
	var ae *client.APIError
	if _, err := c.ListRequests(ctx, client.ListRequestsParams{Status: "bogus"}); !errors.As(err, &ae) || ae.Status != 400 {
		t.Fatalf("status=bogus: %v, want 400", err)
	}
}

func TestBatchJSON(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(nil)
	c := apiClient(t, srv.URL, adminKey)
	ctx := context.Background()
	rcv := newInstanceReceiver(t, c)
	var reqs []client.CreateRequest
	for i := 0; i < 30; i++ {
		reqs = append(reqs, client.CreateRequest{Input: electrons.Input{Prompt: "batch item"}})
	}
	reqs[7].Input.Options = map[string]any{"fail": "server"} // fails after its retries
	b, err := c.SubmitBatch(ctx, client.CreateBatch{Requests: reqs, CallbackURL: rcv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if b.Counts.Total != 30 || b.Status != electrons.BatchInProgress {
		t.Fatalf("batch %+v", b)
	}
	waitFor(t, 2*time.Minute, "the batch to complete", func() bool {
		got, err := c.GetBatch(ctx, b.ID)
		return err == nil && got.Status == electrons.BatchCompleted
	})
	got, _ := c.GetBatch(ctx, b.ID)
	if got.Counts.Succeeded != 29 || got.Counts.Failed != 1 || got.CompletedAt == nil {
		t.Fatalf("counts %+v", got.Counts)
	}
	waitFor(t, 30*time.Second, "batch.completed webhook", func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		for _, h := range rcv.got {
			if h.Type == electrons.EventBatchCompleted && h.Data.ID == b.ID {
				return true
			}
		}
		return false
	})
	// A bad item refuses the whole batch, naming the item, and writes nothing.
	before, _ := countRows(t, p)
	bad := append([]client.CreateRequest{}, reqs[:3]...)
	bad = append(bad, client.CreateRequest{Model: "nope", Input: electrons.Input{Prompt: "x"}})
	var ae *client.APIError
	if _, err := c.SubmitBatch(ctx, client.CreateBatch{Requests: bad}); !errors.As(err, &ae) || ae.Status != 400 || ae.Param != "requests[3].model" {
		t.Fatalf("bad batch: %v", err)
	}
	if after, _ := countRows(t, p); after != before {
		t.Fatalf("bad batch wrote rows: %d → %d", before, after)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(nil)
	o := oracle.New(t)
	for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml", "/metrics"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		o.Check(t, req, resp.StatusCode, resp.Header, b)
		if path == "/readyz" && !strings.Contains(string(b), `"postgres":"ok"`) {
			t.Fatalf("readyz: %s", b)
		}
	}
}
