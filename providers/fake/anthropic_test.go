package fake

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func anthropicPost(t *testing.T, cfg *RouteConfig, body string, version bool) *http.Response {
	t.Helper()
	s := New()
	if cfg != nil {
		s.Configure("anthropic.", *cfg)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/v1/messages", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer k")
	if version {
		req.Header.Set("anthropic-version", "2026-10-21")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = res.Body.Close() })
	return res
}

// sseEvents reads a stream strictly in the API's framing: "event: <type>", "data: <json>", a
// blank line; it returns the event types and checks that each data is JSON of the same type.
func sseEvents(t *testing.T, r io.Reader) []string {
	t.Helper()
	var types []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		ev, ok := strings.CutPrefix(sc.Text(), "event: ")
		if !ok {
			t.Fatalf("line %q is not an event line", sc.Text())
		}
		if !sc.Scan() {
			t.Fatalf("event %s without data", ev)
		}
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			t.Fatalf("line %q is not a data line", sc.Text())
		}
		var v struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(data), &v); err != nil || v.Type != ev {
			t.Fatalf("event %s has data %s", ev, data)
		}
		if !sc.Scan() || sc.Text() != "" {
			t.Fatalf("event %s not ended by a blank line", ev)
		}
		types = append(types, ev)
	}
	return types
}

const anthropicBody = `{"model":"claude-x","max_tokens":100,"system":[{"type":"text","text":"Be brief."}],"messages":[{"role":"user","content":[{"type":"text","text":"one two three four"}]}]`

func TestAnthropicMessages(t *testing.T) {
	t.Parallel()
	res := anthropicPost(t, nil, anthropicBody+`}`, true)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var m struct {
		Type    string `json:"type"`
		Role    string `json:"role"`
		Content []struct{ Type, Text string }
		Stop    string `json:"stop_reason"`
		Usage   struct {
			In  int `json:"input_tokens"`
			Out int `json:"output_tokens"`
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m.Type != "message" || m.Role != "assistant" || len(m.Content) != 1 || m.Content[0].Text != "Echo: one two three four" ||
		m.Stop != "end_turn" || m.Usage.In != 6 || m.Usage.Out != 5 {
		t.Fatalf("message %+v", m)
	}
	if res.Header.Get("request-id") == "" {
		t.Fatal("no request-id")
	}
}

func TestAnthropicStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault string
		want  []string
	}{
		{"complete", "", []string{"message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
			"content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"}},
		{"truncated", FaultTruncate, []string{"message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta", "content_block_delta"}},
		{"overloaded mid-stream", FaultOverloaded, []string{"message_start", "content_block_start", "ping", "content_block_delta",
			"content_block_delta", "content_block_delta", "error"}},
		{"refusal", FaultContentPolicy, []string{"message_start", "message_delta", "message_stop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg *RouteConfig
			if tt.fault != "" {
				cfg = &RouteConfig{Faults: map[string]float64{tt.fault: 1}}
			}
			res := anthropicPost(t, cfg, anthropicBody+`,"stream":true}`, true)
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
				t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
			}
			got := sseEvents(t, res.Body)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("events %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAnthropicErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fault   string
		noVer   bool
		body    string
		status  int
		errType string
	}{
		{name: "overloaded", fault: FaultOverloaded, status: 529, errType: "overloaded_error"},
		{name: "server", fault: FaultServer, status: 500, errType: "api_error"},
		{name: "auth", fault: FaultAuth, status: 401, errType: "authentication_error"},
		{name: "quota", fault: FaultQuota, status: 400, errType: "invalid_request_error"},
		{name: "rate limit", fault: FaultRateLimit, status: 429, errType: "rate_limit_error"},
		{name: "no version", noVer: true, status: 400, errType: "invalid_request_error"},
		{name: "no max_tokens", body: `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, status: 400, errType: "invalid_request_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg *RouteConfig
			if tt.fault != "" {
				cfg = &RouteConfig{Faults: map[string]float64{tt.fault: 1}}
			}
			body := tt.body
			if body == "" {
				body = anthropicBody + `}`
			}
			res := anthropicPost(t, cfg, body, !tt.noVer)
			var e struct {
				Type  string `json:"type"`
				Error struct{ Type, Message string }
			}
			if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status || e.Type != "error" || e.Error.Type != tt.errType || e.Error.Message == "" {
				t.Fatalf("status %d body %+v", res.StatusCode, e)
			}
			if tt.status == 429 && res.Header.Get("retry-after") == "" {
				t.Fatal("429 without retry-after")
			}
		})
	}
}

func TestAnthropicLimitHeaders(t *testing.T) {
	t.Parallel()
	s := New()
	s.Configure("anthropic.", RouteConfig{Limit: &Limit{Requests: 1, Tokens: 10_000}})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	post := func() *http.Response {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/messages", strings.NewReader(anthropicBody+`}`))
		req.Header.Set("anthropic-version", "2026-10-21")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		return res
	}
	ok := post()
	h := ok.Header
	if ok.StatusCode != 200 || h.Get("anthropic-ratelimit-requests-limit") != "1" || h.Get("anthropic-ratelimit-requests-remaining") != "0" ||
		h.Get("anthropic-ratelimit-tokens-limit") != "10000" || h.Get("anthropic-ratelimit-input-tokens-limit") != "10000" {
		t.Fatalf("status %d headers %v", ok.StatusCode, h)
	}
	for _, k := range []string{"anthropic-ratelimit-requests-reset", "anthropic-ratelimit-tokens-reset"} {
		if _, err := time.Parse(time.RFC3339, h.Get(k)); err != nil {
			t.Fatalf("%s = %q is not RFC 3339", k, h.Get(k))
		}
	}
	refused := post()
	wait, err := strconv.Atoi(refused.Header.Get("retry-after"))
	if refused.StatusCode != 429 || err != nil || wait < 1 || wait > 60 {
		t.Fatalf("status %d retry-after %q", refused.StatusCode, refused.Header.Get("retry-after"))
	}
	if st := s.Stats()["anthropic.messages"]; st.Refused != 1 {
		t.Fatalf("stats %+v", st)
	}
}
