package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/distributed-electrons/electrons"
)

// cannedServer answers every request with the same status, content type and body.
func cannedServer(t *testing.T, status int, contentType, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return New(srv.URL, "k")
}

func TestAPIErrorDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        APIError
		wantMsg     string
	}{
		{
			name:        "problem json",
			status:      http.StatusBadRequest,
			contentType: "application/problem+json",
			body: `{"type":"https://electrons.dev/problems/invalid_request","title":"Invalid request",` +
				`"status":400,"detail":"input.max_tokens must be positive","code":"invalid_request","param":"input.max_tokens"}`,
			want: APIError{Status: 400, Code: electrons.CodeInvalidRequest, Title: "Invalid request",
				Detail: "input.max_tokens must be positive", Param: "input.max_tokens"},
			wantMsg: "Invalid request: input.max_tokens must be positive (invalid_request)",
		},
		{
			name:        "not found",
			status:      http.StatusNotFound,
			contentType: "application/problem+json",
			body:        `{"title":"Not found","status":404,"detail":"no request req_x","code":"not_found"}`,
			want:        APIError{Status: 404, Code: electrons.CodeNotFound, Title: "Not found", Detail: "no request req_x"},
			wantMsg:     "Not found: no request req_x (not_found)",
		},
		{
			name:        "plain text from a proxy",
			status:      http.StatusBadGateway,
			contentType: "text/plain",
			body:        "upstream connect error\n",
			want:        APIError{Status: 502, Code: electrons.CodeUnavailable, Title: "Bad Gateway", Detail: "upstream connect error"},
			wantMsg:     "Bad Gateway: upstream connect error (unavailable)",
		},
		{
			name:        "empty body",
			status:      http.StatusTooManyRequests,
			contentType: "application/problem+json",
			want:        APIError{Status: 429, Code: electrons.CodeRateLimited, Title: "Too Many Requests"},
			wantMsg:     "Too Many Requests (rate_limited)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := cannedServer(t, tt.status, tt.contentType, tt.body)
			_, err := c.GetRequest(context.Background(), "req_x")
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T) is not an *APIError", err, err)
			}
			if *apiErr != tt.want {
				t.Errorf("decoded %+v, want %+v", *apiErr, tt.want)
			}
			if got := apiErr.Error(); got != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", got, tt.wantMsg)
			}
		})
	}
}

func TestErrorOnEveryKindOfCall(t *testing.T) {
	t.Parallel()
	c := cannedServer(t, http.StatusUnauthorized, "application/problem+json",
		`{"title":"Unauthorized","status":401,"detail":"missing or unknown API key","code":"unauthorized"}`)
	ctx := context.Background()
	calls := map[string]func() error{
		"submit":  func() error { _, _, err := c.SubmitRequest(ctx, CreateRequest{}); return err },
		"list":    func() error { _, err := c.ListRequests(ctx, ListRequestsParams{}); return err },
		"watch":   func() error { return c.WatchRequest(ctx, "req_x", func(Event) error { return nil }) },
		"results": func() error { _, err := c.BatchResults(ctx, "bat_x"); return err },
		"queues":  func() error { _, err := c.ListQueues(ctx); return err },
		"pause":   func() error { _, err := c.PauseQueue(ctx, "local"); return err },
		"jsonl":   func() error { _, err := c.SubmitBatchJSONL(ctx, strings.NewReader("{}\n")); return err },
	}
	for name, f := range calls {
		var apiErr *APIError
		if err := f(); !errors.As(err, &apiErr) || apiErr.Code != electrons.CodeUnauthorized || apiErr.Status != 401 {
			t.Errorf("%s: error %v, want an unauthorized *APIError", name, err)
		}
	}
}

func TestListDecoding(t *testing.T) {
	t.Parallel()
	c := cannedServer(t, http.StatusOK, "application/json",
		`{"data":[{"name":"local","provider":"local","paused":true,"queued":3,"oldest_age_seconds":1.5,`+
			`"throughput_per_min":42,"limiter":{"rpm":60}}],"next_cursor":""}`)
	qs, err := c.ListQueues(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Queue{{Name: "local", Provider: "local", Paused: true, Queued: 3, OldestAgeSeconds: 1.5,
		ThroughputPerMin: 42, Limiter: map[string]any{"rpm": float64(60)}}}
	if !reflect.DeepEqual(qs, want) {
		t.Errorf("got %+v, want %+v", qs, want)
	}
}

func TestCreateRequestJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(CreateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "{}" {
		t.Errorf("empty CreateRequest encodes as %s, want {}", b)
	}
	b, err = json.Marshal(CreateRequest{TaskType: electrons.TaskText, Input: electrons.Input{Prompt: "hi"}, Priority: 1,
		Metadata: json.RawMessage(`{"a":1}`), IdempotencyKey: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"task_type":"text","input":{"prompt":"hi"},"priority":1,"metadata":{"a":1},"idempotency_key":"k1"}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestListRequestsParams(t *testing.T) {
	t.Parallel()
	got := ListRequestsParams{Status: "failed", BatchID: "bat_1", Limit: 10, Cursor: "c"}.values().Encode()
	if want := "batch_id=bat_1&cursor=c&limit=10&status=failed"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := (ListRequestsParams{}).values().Encode(); got != "" {
		t.Errorf("zero params encode as %q", got)
	}
}

func TestReadEvents(t *testing.T) {
	t.Parallel()
	stream := ": keep-alive\n\n" +
		"event: status\ndata: {\"status\":\"running\"}\nid: 1\n\n" +
		"event: delta\ndata: {\"text\":\"Hel\"}\n\n" +
		"event:delta\ndata:{\"text\":\"lo\"}\n\n" +
		"data: line1\ndata: line2\n\n" +
		"event: done\ndata: {}\n\n" +
		"event: ignored\ndata: {\"no\":\"blank line\"}"
	var got []Event
	err := readEvents(strings.NewReader(stream), func(e Event) error {
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{Type: "status", Data: json.RawMessage(`{"status":"running"}`)},
		{Type: "delta", Data: json.RawMessage(`{"text":"Hel"}`)},
		{Type: "delta", Data: json.RawMessage(`{"text":"lo"}`)},
		{Type: "message", Data: json.RawMessage("line1\nline2")},
		{Type: "done", Data: json.RawMessage(`{}`)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}

	stop := errors.New("stop")
	n := 0
	err = readEvents(strings.NewReader(stream), func(Event) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("callback error: got %v after %d events", err, n)
	}
}

func TestWatchStopsAtDone(t *testing.T) {
	t.Parallel()
	// The canned stream has events after done; WatchRequest must not deliver them.
	c := cannedServer(t, http.StatusOK, "text/event-stream",
		"event: delta\ndata: {\"text\":\"a\"}\n\nevent: done\ndata: {}\n\nevent: delta\ndata: {\"text\":\"b\"}\n\n")
	var types []string
	err := c.WatchRequest(context.Background(), "req_x", func(e Event) error {
		types = append(types, e.Type)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"delta", "done"}; !reflect.DeepEqual(types, want) {
		t.Errorf("got %v, want %v", types, want)
	}
}
