package openaicompat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
	"github.com/distributed-electrons/electrons/providers/fake"
)

// recorder keeps the chat requests that reached the fake, for checking what was sent.
type recorder struct {
	mu      sync.Mutex
	bodies  []map[string]any
	headers []http.Header
}

func (rc *recorder) last(t *testing.T) (map[string]any, http.Header) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bodies) == 0 {
		t.Fatal("no request reached the server")
	}
	return rc.bodies[len(rc.bodies)-1], rc.headers[len(rc.headers)-1]
}

// setup starts the fake behind a recorder and returns a provider for it.
func setup(t *testing.T, cfg Config) (*fake.Server, *recorder, *Provider) {
	t.Helper()
	srv := fake.New()
	rc := &recorder{}
	h := srv.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		rc.mu.Lock()
		rc.bodies, rc.headers = append(rc.bodies, m), append(rc.headers, r.Header.Clone())
		rc.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	srv.BaseURL = ts.URL
	cfg.BaseURL = ts.URL + "/v1"
	cfg.HTTPClient = ts.Client()
	return srv, rc, New(cfg)
}

func call(model, prompt string) providers.Call {
	return providers.Call{RequestID: "req_1", TaskType: electrons.TaskText, Model: model, Input: electrons.Input{Prompt: prompt, MaxTokens: 64}}
}

func wantCode(t *testing.T, err error, code electrons.Code) *electrons.Error {
	t.Helper()
	var e *electrons.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
	if !strings.HasPrefix(e.Message, "openaicompat") {
		t.Errorf("message %q does not name the provider", e.Message)
	}
	return e
}

func TestName(t *testing.T) {
	t.Parallel()
	if got := New(Config{BaseURL: "http://localhost:11434/v1"}).Name(); got != "openaicompat" {
		t.Fatalf("Name() = %q", got)
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	_, rc, p := setup(t, Config{Model: "llama3.2"})
	tests := []struct {
		name, model, wantModel string
		stream                 bool
	}{
		{"named model", "qwen2.5:7b", "qwen2.5:7b", false},
		{"default model", "default", "llama3.2", false},
		{"empty model", "", "llama3.2", false},
		{"stream", "qwen2.5:7b", "qwen2.5:7b", true},
	}
	for _, tt := range tests {
		c := call(tt.model, "why is the sky blue")
		var deltas []string
		if tt.stream {
			c.OnDelta = func(s string) { deltas = append(deltas, s) }
		}
		out, err := p.Generate(context.Background(), c)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if out.Text != "Echo: why is the sky blue" || out.FinishReason != providers.FinishStop || out.Usage == nil {
			t.Fatalf("%s: output %+v", tt.name, out)
		}
		if tt.stream && strings.Join(deltas, "") != out.Text {
			t.Fatalf("%s: deltas %q", tt.name, deltas)
		}
		body, header := rc.last(t)
		if body["model"] != tt.wantModel {
			t.Fatalf("%s: model sent = %v, want %s", tt.name, body["model"], tt.wantModel)
		}
		// Older compatible servers know max_tokens only.
		if body["max_tokens"] != float64(64) || body["max_completion_tokens"] != nil {
			t.Fatalf("%s: token cap sent as %v / %v", tt.name, body["max_tokens"], body["max_completion_tokens"])
		}
		if header.Get("Authorization") != "" {
			t.Fatalf("%s: an Authorization header without a key: %q", tt.name, header.Get("Authorization"))
		}
	}
}

func TestAPIKey(t *testing.T) {
	t.Parallel()
	srv, rc, p := setup(t, Config{Model: "m", APIKey: "token-abc"})
	srv.SetKeys("token-abc")
	if _, err := p.Generate(context.Background(), call("", "hi")); err != nil {
		t.Fatal(err)
	}
	if _, h := rc.last(t); h.Get("Authorization") != "Bearer token-abc" {
		t.Fatalf("Authorization = %q", h.Get("Authorization"))
	}
}

// TestEnvironmentIgnored checks that OpenAI's own key in the environment never reaches a
// compatible server, and OPENAI_BASE_URL does not redirect it.
func TestEnvironmentIgnored(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-real-openai-key")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
	_, rc, p := setup(t, Config{Model: "m"})
	if _, err := p.Generate(context.Background(), call("", "hi")); err != nil {
		t.Fatal(err)
	}
	if _, h := rc.last(t); h.Get("Authorization") != "" {
		t.Fatalf("Authorization = %q", h.Get("Authorization"))
	}
}

func TestInvalid(t *testing.T) {
	t.Parallel()
	_, _, p := setup(t, Config{})
	_, err := p.Generate(context.Background(), call("", "hi"))
	if e := wantCode(t, err, electrons.CodeInvalidRequest); e.Param != "model" {
		t.Fatalf("param = %q", e.Param)
	}
	for _, tt := range []electrons.TaskType{electrons.TaskImage, electrons.TaskAudio, electrons.TaskVideo, electrons.TaskStockMedia} {
		_, err := p.Generate(context.Background(), providers.Call{TaskType: tt, Model: "m", Input: electrons.Input{Prompt: "x"}})
		wantCode(t, err, electrons.CodeInvalidRequest)
	}
}

func TestNoBaseURL(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Model: "m"}).Generate(context.Background(), call("", "hi"))
	wantCode(t, err, electrons.CodeProviderDisabled)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault string
		code  electrons.Code
	}{
		{fake.FaultRateLimit, electrons.CodeRateLimited},
		{fake.FaultServer, electrons.CodeServerError},
		{fake.FaultOverloaded, electrons.CodeOverloaded},
		{fake.FaultInvalid, electrons.CodeInvalidRequest},
		{fake.FaultAuth, electrons.CodeAuthFailed},
		{fake.FaultContentPolicy, electrons.CodeContentPolicy},
		{fake.FaultMalformed, electrons.CodeServerError},
		{fake.FaultTruncate, electrons.CodeServerError},
		{fake.FaultTimeout, electrons.CodeTimeout},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.fault
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				srv, _, p := setup(t, Config{Model: "m"})
				srv.Configure("openai.chat", fake.RouteConfig{Faults: map[string]float64{tt.fault: 1}})
				timeout := 5 * time.Second
				if tt.fault == fake.FaultTimeout {
					timeout = 200 * time.Millisecond
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				c := call("", "one two three four")
				if stream {
					c.OnDelta = func(string) {}
				}
				_, err := p.Generate(ctx, c)
				e := wantCode(t, err, tt.code)
				if tt.code == electrons.CodeRateLimited && e.RetryAfter <= 0 {
					t.Fatalf("RetryAfter = %v", e.RetryAfter)
				}
			})
		}
	}
}

// TestSingleCompletionForStream covers servers that answer a streamed request with one JSON
// completion: the text still arrives, as one delta.
func TestSingleCompletionForStream(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fake.WriteJSON(w, http.StatusOK, map[string]any{"id": "x", "object": "chat.completion", "created": 1, "model": "m",
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": "whole answer"}, "finish_reason": "stop"}}})
	}))
	defer ts.Close()
	p := New(Config{BaseURL: ts.URL, Model: "m", HTTPClient: ts.Client()})
	c := call("", "hi")
	var deltas []string
	c.OnDelta = func(s string) { deltas = append(deltas, s) }
	out, err := p.Generate(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if out.Text != "whole answer" || len(deltas) != 1 || deltas[0] != out.Text {
		t.Fatalf("text %q, deltas %q", out.Text, deltas)
	}
}
