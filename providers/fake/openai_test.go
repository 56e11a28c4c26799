package fake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openaiPost sends body to path on a fresh fake configured with cfg for route.
func openaiPost(t *testing.T, route string, cfg RouteConfig, path, body string) (*http.Response, string) {
	t.Helper()
	s := New()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	s.BaseURL = ts.URL
	s.Configure(route, cfg)
	res, err := http.Post(ts.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil && err != io.ErrUnexpectedEOF {
		t.Fatal(err)
	}
	return res, string(b)
}

const openaiChatBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"alpha beta gamma"}],"stream":true,"stream_options":{"include_usage":true}}`

func TestOpenAIStreamFraming(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fault    string
		wantDone bool
		contains string
	}{
		{"complete", "", true, `"finish_reason":"stop"`},
		{"truncate", FaultTruncate, false, `"content":"Echo:"`},
		{"server error mid-stream", FaultServer, false, `"type":"server_error"`},
		{"content filter", FaultContentPolicy, true, `"finish_reason":"content_filter"`},
		{"malformed", FaultMalformed, true, "data: <html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := RouteConfig{}
			if tt.fault != "" {
				cfg.Faults = map[string]float64{tt.fault: 1}
			}
			res, body := openaiPost(t, "openai.chat", cfg, "/v1/chat/completions", openaiChatBody)
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
			}
			if done := strings.HasSuffix(body, "data: [DONE]\n\n"); done != tt.wantDone {
				t.Fatalf("ends with [DONE] = %v, want %v:\n%s", done, tt.wantDone, body)
			}
			if !strings.Contains(body, tt.contains) {
				t.Fatalf("body lacks %s:\n%s", tt.contains, body)
			}
			if tt.fault == "" && !strings.Contains(body, `"choices":[],`) {
				t.Fatalf("no usage chunk:\n%s", body)
			}
		})
	}
}

func TestOpenAIErrorsAndLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    RouteConfig
		status int
		code   any
	}{
		{"rate limit", RouteConfig{Faults: map[string]float64{FaultRateLimit: 1}}, 429, "rate_limit_exceeded"},
		{"quota", RouteConfig{Faults: map[string]float64{FaultQuota: 1}}, 429, "insufficient_quota"},
		{"auth", RouteConfig{Faults: map[string]float64{FaultAuth: 1}}, 401, "invalid_api_key"},
		{"overloaded", RouteConfig{Faults: map[string]float64{FaultOverloaded: 1}}, 503, nil},
		{"image policy", RouteConfig{Faults: map[string]float64{FaultContentPolicy: 1}}, 400, "content_policy_violation"},
		{"limit", RouteConfig{Limit: &Limit{Requests: 1}}, 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := openaiPost(t, "openai.images", tt.cfg, "/v1/images/generations", `{"model":"dall-e-2","prompt":"a fox","size":"256x256"}`)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			if res.Header.Get("x-request-id") == "" {
				t.Fatal("no x-request-id")
			}
			if tt.status == 200 {
				if res.Header.Get("x-ratelimit-limit-requests") != "1" || res.Header.Get("x-ratelimit-remaining-requests") != "0" {
					t.Fatalf("limit headers %v", res.Header)
				}
				d, err := time.ParseDuration(res.Header.Get("x-ratelimit-reset-requests"))
				if err != nil || d <= 0 || d > time.Minute {
					t.Fatalf("reset %q", res.Header.Get("x-ratelimit-reset-requests"))
				}
				return
			}
			var e struct {
				Error map[string]any `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error["message"] == "" {
				t.Fatalf("error body %s", body)
			}
			for _, k := range []string{"message", "type", "param", "code"} {
				if _, ok := e.Error[k]; !ok {
					t.Fatalf("error body lacks %q: %s", k, body)
				}
			}
			if e.Error["code"] != tt.code {
				t.Fatalf("code %v, want %v", e.Error["code"], tt.code)
			}
			if tt.status == 429 && tt.name == "rate limit" {
				if n, err := strconv.Atoi(res.Header.Get("retry-after")); err != nil || n < 1 {
					t.Fatalf("retry-after %q", res.Header.Get("retry-after"))
				}
			}
		})
	}
}

func TestOpenAIDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		time.Second: "1s", 6 * time.Minute: "6m0s", 120 * time.Millisecond: "120ms", -time.Second: "0s",
		time.Hour + 2*time.Minute + 3500*time.Millisecond: "1h2m3.5s", 1234567 * time.Nanosecond: "1ms",
	} {
		if got := openaiDuration(d); got != want {
			t.Errorf("openaiDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
