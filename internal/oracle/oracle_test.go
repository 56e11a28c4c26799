package oracle_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/internal/oracle"
)

const (
	reqID = "req_01m8a2yrpra617dkwspw2mxf7m"
	batID = "bat_01m8a2yrprbqnezwkq9h4yg6g4"
	artID = "art_01m8a2yrpr1pa5k3zb6anz6k7s"
)

var (
	jsonHeader    = http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	problemHeader = http.Header{"Content-Type": {"application/problem+json"}}
	ndjsonHeader  = http.Header{"Content-Type": {"application/x-ndjson"}}
)

// fakeTB records failures instead of failing the test.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatal  bool
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.fatal = true
}

func (f *fakeTB) failures() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.errors...)
}

func get(path string) *http.Request { return httptest.NewRequest(http.MethodGet, path, nil) }

func post(path string) *http.Request { return httptest.NewRequest(http.MethodPost, path, nil) }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fullRequest is a request object with every member set, as the server marshals it.
func fullRequest() electrons.Request {
	batch := batID
	done := time.Date(2026, 11, 25, 19, 25, 2, 500_000_000, time.UTC)
	return electrons.Request{
		ID:          reqID,
		Status:      electrons.StatusSucceeded,
		TaskType:    electrons.TaskImage,
		Model:       "gpt-image-1",
		Provider:    "openai",
		Priority:    2,
		Attempts:    1,
		BatchID:     &batch,
		CallbackURL: "https://client.example/hooks",
		Metadata:    json.RawMessage(`{"order":1234,"tags":["a"]}`),
		Input: electrons.Input{
			Prompt: "a lighthouse", System: "be terse", MaxTokens: 10, Size: "1024x1024",
			Voice: "alloy", Query: "sea", Timeline: json.RawMessage(`{"tracks":[]}`), Download: true,
			Options: map[string]any{"latency_ms": 5, "fail": "server"},
		},
		CreatedAt:   done.Add(-2 * time.Second),
		UpdatedAt:   done,
		CompletedAt: &done,
		Result: &electrons.Result{
			Text: "hello",
			Artifacts: []electrons.Artifact{{
				ID: artID, URL: "http://127.0.0.1:8080/artifacts/x.png?expires=1&sig=abc", ContentType: "image/png",
				SizeBytes: 1234, SHA256: strings.Repeat("ab", 32),
			}},
			Items: []electrons.StockItem{{
				ID: "123", Kind: "photo", Title: "Sea", URL: "https://images.example/123.jpg", Width: 640, Height: 480,
				DurationS: 3, Author: "A", AuthorURL: "https://a.example", ArtifactID: artID, ContentType: "image/jpeg",
			}},
			Usage:   &electrons.Usage{InputTokens: 12, OutputTokens: 80},
			Quality: &electrons.Quality{Score: 0.92, Verdict: electrons.VerdictApproved, Reasons: []string{"ok"}},
			Extra:   map[string]any{"revised_prompt": "a tall lighthouse"},
		},
		Error: &electrons.Error{Code: electrons.CodeContentPolicy, Message: "no", Param: "input.prompt"},
	}
}

// minimalRequest is a request just accepted: no model yet, nil pointers and slices.
func minimalRequest() electrons.Request {
	now := time.Now().UTC()
	return electrons.Request{
		ID: reqID, Status: electrons.StatusQueued, Priority: electrons.PriorityDefault,
		Input: electrons.Input{Prompt: "hi"}, CreatedAt: now, UpdatedAt: now,
	}
}

func TestDocumentLoadsAndCoversTheAPI(t *testing.T) {
	o := oracle.New(t)
	doc := o.Document()
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	want := map[string][]string{
		"/v1/requests":                         {"GET", "POST"},
		"/v1/requests/{id}":                    {"GET"},
		"/v1/requests/{id}/cancel":             {"POST"},
		"/v1/requests/{id}/retry":              {"POST"},
		"/v1/requests/{id}/approve":            {"POST"},
		"/v1/requests/{id}/reject":             {"POST"},
		"/v1/requests/{id}/events":             {"GET"},
		"/v1/batches":                          {"POST"},
		"/v1/batches/{id}":                     {"GET"},
		"/v1/batches/{id}/results":             {"GET"},
		"/v1/batches/{id}/cancel":              {"POST"},
		"/v1/instance":                         {"GET"},
		"/v1/instance/rotate-webhook-secret":   {"POST"},
		"/v1/webhooks":                         {"GET", "POST"},
		"/v1/webhooks/{id}":                    {"DELETE"},
		"/v1/webhook-deliveries":               {"GET"},
		"/v1/webhook-deliveries/{id}/attempts": {"GET"},
		"/v1/webhook-deliveries/{id}/replay":   {"POST"},
		"/v1/models":                           {"GET", "POST"},
		"/v1/models/{id}":                      {"GET", "PUT", "DELETE"},
		"/v1/providers":                        {"GET"},
		"/v1/rate-limits":                      {"GET", "PUT", "DELETE"},
		"/v1/routes":                           {"GET"},
		"/v1/routes/{task_type}":               {"GET", "PUT"},
		"/v1/classification-rules":             {"GET", "POST"},
		"/v1/classification-rules/{id}":        {"GET", "PUT", "DELETE"},
		"/v1/keys":                             {"GET", "POST"},
		"/v1/keys/{id}":                        {"DELETE"},
		"/v1/queues":                           {"GET"},
		"/v1/queues/{name}/pause":              {"POST"},
		"/v1/queues/{name}/resume":             {"POST"},
		"/v1/events":                           {"GET"},
		"/healthz":                             {"GET"},
		"/readyz":                              {"GET"},
		"/metrics":                             {"GET"},
		"/openapi.yaml":                        {"GET"},
		"/artifacts/{key}":                     {"GET"},
	}
	for path, methods := range want {
		item := doc.Paths.Value(path)
		if item == nil {
			t.Errorf("path %s missing", path)
			continue
		}
		for _, m := range methods {
			op := item.GetOperation(m)
			if op == nil {
				t.Errorf("%s %s missing", m, path)
				continue
			}
			public := !strings.HasPrefix(path, "/v1/")
			if secured := op.Security == nil || len(*op.Security) > 0; secured == public {
				t.Errorf("%s %s: secured = %v, want %v", m, path, secured, !public)
			}
		}
	}
	if got, want := len(doc.Paths.Map()), len(want); got != want {
		t.Errorf("document has %d paths, the test knows %d: update the test", got, want)
	}
	// Every error code of the domain is in the Problem code enum.
	enum := doc.Components.Schemas["Code"].Value.Enum
	for _, c := range []electrons.Code{
		electrons.CodeInvalidRequest, electrons.CodeUnauthorized, electrons.CodeForbidden, electrons.CodeNotFound,
		electrons.CodeConflict, electrons.CodePayloadTooLarge, electrons.CodeRateLimited, electrons.CodeInternal,
		electrons.CodeUnavailable, electrons.CodeQuotaExhausted, electrons.CodeConcurrencyLimited,
		electrons.CodeOverloaded, electrons.CodeServerError, electrons.CodeTimeout, electrons.CodeAuthFailed,
		electrons.CodeContentPolicy, electrons.CodeBadOutput, electrons.CodeQualityRejected, electrons.CodeProviderDisabled,
	} {
		found := false
		for _, e := range enum {
			found = found || e == string(c)
		}
		if !found {
			t.Errorf("code %q missing from the Code enum", c)
		}
	}
}

func TestCheckAcceptsAValidRequestObject(t *testing.T) {
	o := oracle.New(t)
	body := []byte(`{
		"id": "req_01m8a2yrpra617dkwspw2mxf7m", "status": "running", "task_type": "text",
		"model": "claude-3-5-haiku", "provider": "anthropic", "priority": 2, "attempts": 1,
		"batch_id": null, "metadata": {"any": "json"}, "input": {"prompt": "hi", "max_tokens": 256},
		"created_at": "2026-11-25T19:25:00Z", "updated_at": "2026-11-25T19:25:01.5Z", "completed_at": null
	}`)
	o.Check(t, get("/v1/requests/"+reqID), http.StatusOK, jsonHeader, body)
}

func TestGoJSONOfTheDomainMatchesTheSchemas(t *testing.T) {
	o := oracle.New(t)
	full, minimal := fullRequest(), minimalRequest()
	for name, r := range map[string]electrons.Request{"full": full, "minimal": minimal} {
		t.Run(name, func(t *testing.T) {
			o.Check(t, get("/v1/requests/"+reqID), http.StatusOK, jsonHeader, mustJSON(t, r))
			o.Check(t, post("/v1/requests"), http.StatusAccepted, jsonHeader, mustJSON(t, r))
			list := map[string]any{"data": []electrons.Request{r, r}, "next_cursor": "abc"}
			o.Check(t, get("/v1/requests?status=queued&limit=2"), http.StatusOK, jsonHeader, mustJSON(t, list))
		})
	}
	t.Run("nil result slices", func(t *testing.T) {
		r := full
		r.Result = &electrons.Result{Quality: &electrons.Quality{Verdict: electrons.VerdictReview}}
		o.Check(t, get("/v1/requests/"+reqID), http.StatusOK, jsonHeader, mustJSON(t, r))
	})
	t.Run("batch", func(t *testing.T) {
		done := time.Now().UTC()
		b := electrons.Batch{ID: batID, Status: electrons.BatchInProgress, Counts: electrons.BatchCounts{Total: 2, Queued: 2}, CreatedAt: done}
		o.Check(t, post("/v1/batches"), http.StatusAccepted, jsonHeader, mustJSON(t, b))
		b.Status, b.CompletedAt, b.CallbackURL, b.Metadata = electrons.BatchCompleted, &done, "https://c.example", json.RawMessage(`{"a":1}`)
		o.Check(t, get("/v1/batches/"+batID), http.StatusOK, jsonHeader, mustJSON(t, b))
		event := map[string]any{"type": electrons.EventBatchCompleted, "timestamp": done, "data": b}
		if err := o.ValidateSchema("WebhookEvent", mustJSON(t, event)); err != nil {
			t.Error(err)
		}
	})
	t.Run("webhook event", func(t *testing.T) {
		event := map[string]any{"type": electrons.EventRequestSucceeded, "timestamp": time.Now(), "data": full}
		if err := o.ValidateSchema("WebhookEvent", mustJSON(t, event)); err != nil {
			t.Error(err)
		}
		event["type"] = "request.exploded"
		if err := o.ValidateSchema("WebhookEvent", mustJSON(t, event)); err == nil {
			t.Error("unknown event type passed")
		}
	})
	t.Run("instance and models", func(t *testing.T) {
		in := electrons.Instance{ID: "ins_01m8a2yrpr1hz9q8ag9y45pqpa", Name: "default", WebhookSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
		o.Check(t, get("/v1/instance"), http.StatusOK, jsonHeader, mustJSON(t, in))
		m := electrons.Model{ID: "claude-3-5-haiku", Provider: "anthropic", ProviderModel: "claude-3-5-haiku-latest", TaskType: electrons.TaskText, Enabled: true}
		o.Check(t, get("/v1/models/claude-3-5-haiku"), http.StatusOK, jsonHeader, mustJSON(t, m))
		m.Defaults = map[string]any{"max_tokens": 512}
		list := map[string]any{"data": []electrons.Model{m}, "next_cursor": nil}
		o.Check(t, get("/v1/models"), http.StatusOK, jsonHeader, mustJSON(t, list))
	})
}

func TestValidateRejects(t *testing.T) {
	o := oracle.New(t)
	valid := func() map[string]any {
		var m map[string]any
		if err := json.Unmarshal(mustJSON(t, minimalRequest()), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		name   string
		req    *http.Request
		status int
		header http.Header
		body   func() []byte
		want   string // in the error
	}{
		{"missing status", get("/v1/requests/" + reqID), 200, jsonHeader, func() []byte {
			m := valid()
			delete(m, "status")
			return mustJSON(t, m)
		}, "status"},
		{"unknown status", get("/v1/requests/" + reqID), 200, jsonHeader, func() []byte {
			m := valid()
			m["status"] = "exploded"
			return mustJSON(t, m)
		}, "exploded"},
		{"unknown member", get("/v1/requests/" + reqID), 200, jsonHeader, func() []byte {
			m := valid()
			m["batchId"] = nil
			return mustJSON(t, m)
		}, "batchId"},
		{"batch_id omitted", get("/v1/requests/" + reqID), 200, jsonHeader, func() []byte {
			m := valid()
			delete(m, "batch_id")
			return mustJSON(t, m)
		}, "batch_id"},
		{"bad id", get("/v1/requests/" + reqID), 200, jsonHeader, func() []byte {
			m := valid()
			m["id"] = "req_123"
			return mustJSON(t, m)
		}, "id"},
		{"priority out of range", get("/v1/requests/" + reqID), 200, jsonHeader, func() []byte {
			m := valid()
			m["priority"] = 7
			return mustJSON(t, m)
		}, "priority"},
		{"trailing garbage", get("/v1/requests/" + reqID), 200, jsonHeader, func() []byte {
			return append(mustJSON(t, valid()), "}"...)
		}, "not one valid JSON value"},
		{"undocumented status", get("/v1/requests/" + reqID), 201, jsonHeader, func() []byte {
			return mustJSON(t, valid())
		}, "status 201 is not documented"},
		{"wrong content type", get("/v1/requests/" + reqID), 200, http.Header{"Content-Type": {"text/plain"}}, func() []byte {
			return mustJSON(t, valid())
		}, `Content-Type "text/plain" is not documented`},
		{"no content type", get("/v1/requests/" + reqID), 200, http.Header{}, func() []byte {
			return mustJSON(t, valid())
		}, `Content-Type "" is not documented`},
		{"error as JSON", get("/v1/requests/" + reqID), 404, jsonHeader, func() []byte {
			return []byte(`{"type":"about:blank","title":"Not found","status":404,"code":"not_found"}`)
		}, "application/json"},
		{"problem code disagrees with status", get("/v1/requests/" + reqID), 404, problemHeader, func() []byte {
			return []byte(`{"type":"about:blank","title":"Not found","status":404,"code":"conflict"}`)
		}, "code"},
		{"problem without code", get("/v1/requests/" + reqID), 404, problemHeader, func() []byte {
			return []byte(`{"type":"about:blank","title":"Not found","status":404}`)
		}, "code"},
		{"body on 204", httptest.NewRequest(http.MethodDelete, "/v1/webhooks/whk_01m8a2yrpr1djhgdx3nt0w7pt6", nil), 204, jsonHeader, func() []byte {
			return []byte(`{}`)
		}, "no body"},
		{"list without next_cursor", get("/v1/requests"), 200, jsonHeader, func() []byte {
			return []byte(`{"data": []}`)
		}, "next_cursor"},
		{"unknown path answered 200", get("/v1/nope"), 200, jsonHeader, func() []byte {
			return []byte(`{}`)
		}, "no operation"},
		{"unknown path answered 404 as text", get("/v1/nope"), 404, http.Header{"Content-Type": {"text/plain"}}, func() []byte {
			return []byte("404 page not found\n")
		}, "problem+json"},
		{"bad NDJSON line", get("/v1/batches/" + batID + "/results"), 200, ndjsonHeader, func() []byte {
			return []byte(`{"custom_id":"a","request_id":"` + reqID + `","status":"queued","result":null,"error":null}` + "\n" +
				`{"custom_id":"b","request_id":"` + reqID + `","status":"nope","result":null,"error":null}` + "\n")
		}, "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := o.Validate(tt.req, tt.status, tt.header, tt.body())
			if err == nil {
				t.Fatal("Validate passed")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	o := oracle.New(t)
	tests := []struct {
		name   string
		req    *http.Request
		status int
		header http.Header
		body   string
	}{
		{"not found", get("/v1/requests/" + reqID), 404, problemHeader,
			`{"type":"about:blank","title":"Not found","status":404,"detail":"no such request","code":"not_found","instance":"/v1/requests/x","request_id":"abc"}`},
		{"bad batch lines", post("/v1/batches"), 400, problemHeader,
			`{"type":"about:blank","title":"Invalid request","status":400,"code":"invalid_request","errors":[{"line":3,"code":"invalid_request","message":"unknown field","param":"body.foo"}]}`},
		{"rate limited", get("/v1/requests"), 429, http.Header{"Content-Type": {"application/problem+json"}, "Retry-After": {"3"}},
			`{"type":"about:blank","title":"Too many requests","status":429,"code":"rate_limited"}`},
		{"unknown path", get("/v1/nope"), 404, problemHeader,
			`{"type":"about:blank","title":"Not found","status":404,"code":"not_found"}`},
		{"unknown method", httptest.NewRequest(http.MethodPatch, "/v1/requests/"+reqID, nil), 405, problemHeader,
			`{"type":"about:blank","title":"Method not allowed","status":405,"code":"invalid_request"}`},
		{"delete", httptest.NewRequest(http.MethodDelete, "/v1/keys/key_01m8a2yrpryen109cv113tbtdb", nil), 204, http.Header{}, ""},
		{"results", get("/v1/batches/" + batID + "/results"), 200, ndjsonHeader,
			`{"custom_id":"a","request_id":"` + reqID + `","status":"succeeded","result":{"text":"x","artifacts":null},"error":null}` + "\n" +
				`{"custom_id":null,"request_id":"` + reqID + `","status":"failed","result":null,"error":{"code":"timeout","message":"slow"}}` + "\n" +
				`{"custom_id":"c","request_id":"` + reqID + `","status":"succeeded","result":{"artifacts":[]},"error":null,"id":"batch_req_1","response":{"status_code":200,"body":{}}}` + "\n"},
		{"events", get("/v1/requests/" + reqID + "/events"), 200, http.Header{"Content-Type": {"text/event-stream"}},
			"event: status\ndata: {}\n\n"},
		{"healthz", get("/healthz"), 200, jsonHeader, `{"status":"ok"}`},
		{"readyz", get("/readyz"), 200, jsonHeader, `{"status":"ready","checks":{"postgres":"ok"}}`},
		{"attempts", get("/v1/webhook-deliveries/msg_01m8a2yrpr4mcqvdergzkghe4g/attempts"), 200, jsonHeader,
			`{"data":[{"attempt":1,"status_code":null,"error":"dial: refused","duration_ms":3,"created_at":"2026-11-25T19:25:00Z"},{"attempt":2,"status_code":200,"error":null,"duration_ms":40,"created_at":"2026-11-25T19:25:05Z"}],"next_cursor":null}`},
		{"readyz down", get("/readyz"), 503, jsonHeader, `{"status":"unavailable","checks":{"postgres":"ok","nats":"dial: refused"}}`},
		{"metrics", get("/metrics"), 200, http.Header{"Content-Type": {"text/plain; version=0.0.4; charset=utf-8"}}, "# HELP x\nx 1\n"},
		{"openapi", get("/openapi.yaml"), 200, http.Header{"Content-Type": {"application/yaml"}}, "openapi: 3.0.3\n"},
		{"artifact", get("/artifacts/x.png?expires=1&sig=abc"), 200, http.Header{"Content-Type": {"image/png"}}, "\x89PNG\r\n"},
		{"artifact with a nested key", get("/artifacts/ins_1/req_2/art_3.wav?expires=1&sig=abc"), 200, http.Header{"Content-Type": {"audio/wav"}}, "RIFF"},
		{"artifact forbidden", get("/artifacts/x.png?expires=1&sig=abc"), 403, problemHeader,
			`{"type":"about:blank","title":"Forbidden","status":403,"code":"forbidden"}`},
		{"riverui", get("/riverui/api/jobs"), 200, jsonHeader, `[]`},
		{"head", httptest.NewRequest(http.MethodHead, "/v1/requests/"+reqID, nil), 200, jsonHeader, ""},
		{"delivery", post("/v1/webhook-deliveries/msg_01m8a2yrpr4mcqvdergzkghe4g/replay"), 202, jsonHeader,
			`{"id":"msg_01m8a2yrpr4mcqvdergzkghe4g","webhook_id":null,"event_type":"request.succeeded","entity_id":"` + reqID + `","url":"https://c.example","status":"pending","attempts":8,"last_status_code":500,"last_error":null,"created_at":"2026-11-25T19:25:00Z","updated_at":"2026-11-25T19:25:00Z"}`},
		{"queues", get("/v1/queues"), 200, jsonHeader,
			`{"data":[{"name":"local","provider":"local","paused":false,"queued":1,"scheduled":0,"running":2,"retrying":0,"dead":0,"oldest_age_seconds":0.5,"throughput_per_min":120,"limiter":{"limits":{"rpm":60,"tpm":null,"concurrency":4},"remaining":{"rpm":59,"tpm":null,"concurrency":2},"cooldown_until":null,"circuit":"closed"}}],"next_cursor":null}`},
		{"key", post("/v1/keys"), 201, jsonHeader,
			`{"id":"key_01m8a2yrpryen109cv113tbtdb","instance":"default","admin":true,"key":"secret","created_at":"2026-11-25T19:25:00Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := o.Validate(tt.req, tt.status, tt.header, []byte(tt.body)); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCheckFailsTheTest(t *testing.T) {
	o := oracle.New(t)
	ft := &fakeTB{}
	o.Check(ft, get("/v1/requests/"+reqID), 200, jsonHeader, []byte(`{"id":"`+reqID+`"}`))
	got := ft.failures()
	if len(got) != 1 || !strings.Contains(got[0], "getRequest") || !strings.Contains(got[0], "status") {
		t.Errorf("failures = %q, want one naming the operation and the missing status", got)
	}
	if ft.fatal {
		t.Error("Check stopped the test; it should only mark it failed")
	}

	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	rec.WriteHeader(http.StatusOK)
	_, _ = rec.Write(mustJSON(t, minimalRequest()))
	ft = &fakeTB{}
	o.CheckRecorder(ft, get("/v1/requests/"+reqID), rec)
	if got := ft.failures(); len(got) != 0 {
		t.Errorf("CheckRecorder failed a valid response: %q", got)
	}
}

func TestLoadRejectsAnInvalidDocument(t *testing.T) {
	if _, err := oracle.Load([]byte("openapi: 3.0.3\ninfo: {title: x}\npaths: {}\n")); err == nil {
		t.Error("a document without info.version loaded")
	}
	if _, err := oracle.Load([]byte("{not yaml")); err == nil {
		t.Error("garbage loaded")
	}
}

func TestTransport(t *testing.T) {
	o := oracle.New(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/requests/" + reqID:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(minimalRequest())
		case "/v1/requests/" + reqID + "/events":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "event: done\ndata: not checked\n\n")
		case "/v1/batches/" + batID:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":"`+batID+`","status":"done"}`)
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"type":"about:blank","title":"Not found","status":404,"code":"not_found"}`)
		}
	}))
	defer srv.Close()

	ft := &fakeTB{}
	client := &http.Client{Transport: o.Transport(ft, srv.Client().Transport)}
	fetch := func(path string) string {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	if body := fetch("/v1/requests/" + reqID); !strings.Contains(body, reqID) {
		t.Errorf("body not restored: %q", body)
	}
	if body := fetch("/v1/requests/" + reqID + "/events"); !strings.Contains(body, "event: done") {
		t.Errorf("event stream not passed through: %q", body)
	}
	fetch("/v1/anything")
	if got := ft.failures(); len(got) != 0 {
		t.Fatalf("valid responses failed: %q", got)
	}

	// Concurrent use, as from a client shared by goroutines.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { fetch("/v1/requests/" + reqID) })
	}
	wg.Wait()
	if got := ft.failures(); len(got) != 0 {
		t.Fatalf("valid responses failed: %q", got)
	}

	if body := fetch("/v1/batches/" + batID); !strings.Contains(body, batID) {
		t.Errorf("body of an invalid response not restored: %q", body)
	}
	got := ft.failures()
	if len(got) != 1 || !strings.Contains(got[0], "getBatch") {
		t.Errorf("failures = %q, want one for getBatch", got)
	}
}
