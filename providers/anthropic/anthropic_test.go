package anthropic

import (
	"context"
	"errors"
	"fmt"
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

const route = "anthropic.messages"

type bundle struct {
	fake *fake.Server
	url  string
	p    *Provider
}

// setup starts a fake of its own, so that tests configuring faults and limits run in parallel.
func setup(t *testing.T) *bundle {
	t.Helper()
	fs := fake.New()
	ts := httptest.NewServer(fs.Handler())
	t.Cleanup(ts.Close)
	fs.BaseURL = ts.URL
	return &bundle{fake: fs, url: ts.URL, p: New(Config{APIKey: "sk-ant-test", BaseURL: ts.URL})}
}

func textCall(prompt string) providers.Call {
	return providers.Call{RequestID: "req_1", TaskType: electrons.TaskText, Model: "claude-3-5-haiku-latest",
		Input: electrons.Input{Prompt: prompt, System: "Be brief."}}
}

// collector gathers the deltas of a streamed call.
type collector struct {
	mu     sync.Mutex
	deltas []string
}

func (c *collector) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deltas = append(c.deltas, s)
}

func (c *collector) joined() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.deltas, "")
}

func requireCode(t *testing.T, err error, want electrons.Code) *electrons.Error {
	t.Helper()
	var e *electrons.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *electrons.Error", err, err)
	}
	if e.Code != want {
		t.Fatalf("code = %s, want %s (%v)", e.Code, want, err)
	}
	if !strings.Contains(e.Message, "anthropic") {
		t.Fatalf("message %q does not name the provider", e.Message)
	}
	return e
}

func TestGenerateText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		prompt     string
		maxTokens  int
		options    map[string]any
		stream     bool
		wantText   string
		wantFinish string
	}{
		{name: "create", prompt: "hello there world", wantText: "Echo: hello there world", wantFinish: providers.FinishStop},
		{name: "stream", prompt: "hello there world", stream: true, wantText: "Echo: hello there world", wantFinish: providers.FinishStop},
		{name: "create cut at max_tokens", prompt: "one two three four", maxTokens: 2, wantText: "Echo: one", wantFinish: providers.FinishLength},
		{name: "stream cut at max_tokens", prompt: "one two three four", maxTokens: 3, stream: true, wantText: "Echo: one two", wantFinish: providers.FinishLength},
		{name: "stop sequence", prompt: "one two STOP three", options: map[string]any{"stop_sequences": []any{"STOP"}},
			wantText: "Echo: one two", wantFinish: providers.FinishStop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			call := textCall(tt.prompt)
			call.Input.MaxTokens = tt.maxTokens
			call.Input.Options = tt.options
			var c collector
			if tt.stream {
				call.OnDelta = c.add
			}
			out, err := b.p.Generate(context.Background(), call)
			if err != nil {
				t.Fatal(err)
			}
			if out.Text != tt.wantText || out.FinishReason != tt.wantFinish {
				t.Fatalf("got %q %q, want %q %q", out.Text, out.FinishReason, tt.wantText, tt.wantFinish)
			}
			if out.Usage == nil || out.Usage.InputTokens <= 0 || out.Usage.OutputTokens <= 0 {
				t.Fatalf("usage = %+v", out.Usage)
			}
			if tt.stream {
				if len(c.deltas) < 2 {
					t.Fatalf("deltas = %q, want several", c.deltas)
				}
				if c.joined() != out.Text {
					t.Fatalf("deltas %q do not make the text %q", c.joined(), out.Text)
				}
			}
			if out.Limits != nil {
				t.Fatalf("limits = %+v without a configured limit", out.Limits)
			}
		})
	}
}

func TestRequestOnTheWire(t *testing.T) {
	t.Parallel()
	var got *http.Request
	var body string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, body = r, string(b)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}`)
	}))
	t.Cleanup(ts.Close)
	p := New(Config{APIKey: "sk-ant-xyz", BaseURL: ts.URL})
	call := textCall("hello")
	if _, err := p.Generate(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/v1/messages" {
		t.Fatalf("request %s %s", got.Method, got.URL.Path)
	}
	if a := got.Header.Get("Authorization"); a != "Bearer sk-ant-xyz" {
		t.Fatalf("Authorization = %q", a)
	}
	if v := got.Header.Get("anthropic-version"); v == "" {
		t.Fatal("no anthropic-version header")
	}
	if r := got.Header.Get("X-Stainless-Retry-Count"); r != "0" {
		t.Fatalf("retry count header %q", r)
	}
	for _, want := range []string{`"max_tokens":1024`, `"model":"claude-3-5-haiku-latest"`, `"system":[{"text":"Be brief.","type":"text"}]`, `"role":"user"`, `"text":"hello"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("body %s lacks %s", body, want)
		}
	}
	if strings.Contains(body, `"stream"`) {
		t.Fatalf("unstreamed body says stream: %s", body)
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetKeys("sk-ant-test")
	if _, err := b.p.Generate(context.Background(), textCall("hi")); err != nil {
		t.Fatalf("the configured key was refused: %v", err)
	}
	wrong := New(Config{APIKey: "sk-ant-wrong", BaseURL: b.url})
	_, err := wrong.Generate(context.Background(), textCall("hi"))
	requireCode(t, err, electrons.CodeAuthFailed)
	none := New(Config{BaseURL: b.url})
	_, err = none.Generate(context.Background(), textCall("hi"))
	requireCode(t, err, electrons.CodeAuthFailed)
}

// TestEnvironmentIgnored checks that the SDK's environment variables cannot redirect the calls
// or replace the key. It sets environment variables, so it does not run in parallel.
func TestEnvironmentIgnored(t *testing.T) {
	fs := fake.New()
	ts := httptest.NewServer(fs.Handler())
	t.Cleanup(ts.Close)
	fs.SetKeys("sk-ant-configured")
	t.Setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
	t.Setenv("ANTHROPIC_AUTH_TOKEN", "sk-ant-token-from-env")
	p := New(Config{APIKey: "sk-ant-configured", BaseURL: ts.URL})
	if _, err := p.Generate(context.Background(), textCall("hi")); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidCalls(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name  string
		edit  func(*providers.Call)
		param string
	}{
		{"image task", func(c *providers.Call) { c.TaskType = electrons.TaskImage }, "task_type"},
		{"empty prompt", func(c *providers.Call) { c.Input.Prompt = " " }, "prompt"},
		{"negative max_tokens", func(c *providers.Call) { c.Input.MaxTokens = -1 }, "max_tokens"},
		{"no model", func(c *providers.Call) { c.Model = "" }, "model"},
		{"bad stop_sequences", func(c *providers.Call) { c.Input.Options = map[string]any{"stop_sequences": "x"} }, "options.stop_sequences"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			call := textCall("hi")
			tt.edit(&call)
			_, err := b.p.Generate(context.Background(), call)
			e := requireCode(t, err, electrons.CodeInvalidRequest)
			if e.Param != tt.param {
				t.Fatalf("param = %q, want %q", e.Param, tt.param)
			}
		})
	}
	if n := b.fake.Stats()[route].Requests; n != 0 {
		t.Fatalf("%d invalid calls reached the API", n)
	}
}

// TestFaults runs every fault the fake produces, unstreamed and streamed, and checks the domain
// code, the wait, and that the adapter made exactly one request (no retries of its own).
func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault     string
		want      electrons.Code
		wantWait  bool
		deltasToo bool // the streamed form delivers some text before failing
	}{
		{fault: fake.FaultRateLimit, want: electrons.CodeRateLimited, wantWait: true},
		{fault: fake.FaultConcurrency, want: electrons.CodeRateLimited, wantWait: true},
		{fault: fake.FaultQuota, want: electrons.CodeQuotaExhausted},
		{fault: fake.FaultOverloaded, want: electrons.CodeOverloaded, deltasToo: true},
		{fault: fake.FaultServer, want: electrons.CodeServerError},
		{fault: fake.FaultInvalid, want: electrons.CodeInvalidRequest},
		{fault: fake.FaultAuth, want: electrons.CodeAuthFailed},
		{fault: fake.FaultContentPolicy, want: electrons.CodeContentPolicy},
		{fault: fake.FaultMalformed, want: electrons.CodeServerError},
		{fault: fake.FaultTruncate, want: electrons.CodeServerError, deltasToo: true},
		{fault: fake.FaultTimeout, want: electrons.CodeTimeout},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tt.fault, stream), func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				b.fake.Configure("anthropic.", fake.RouteConfig{Faults: map[string]float64{tt.fault: 1}})
				ctx := context.Background()
				if tt.fault == fake.FaultTimeout {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
					defer cancel()
				}
				call := textCall("alpha beta gamma delta")
				var c collector
				if stream {
					call.OnDelta = c.add
				}
				out, err := b.p.Generate(ctx, call)
				if out != nil {
					t.Fatalf("a fault gave an output: %+v", out)
				}
				e := requireCode(t, err, tt.want)
				if tt.wantWait && e.RetryAfter <= 0 {
					t.Fatalf("no RetryAfter on %v", err)
				}
				if stream && tt.deltasToo && len(c.deltas) == 0 {
					t.Fatal("the stream failed before any delta: the fault was not mid-stream")
				}
				st := b.fake.Stats()[route]
				if st.Requests != 1 || st.Faults != 1 {
					t.Fatalf("stats = %+v, want one request with one fault", st)
				}
			})
		}
	}
}

// TestStatusClassification sends the API's error bodies (and a few that are not) through the
// SDK and checks the code and the wait.
func TestStatusClassification(t *testing.T) {
	t.Parallel()
	soon := time.Now().Add(30 * time.Second).UTC().Format(time.RFC3339)
	later := time.Now().Add(90 * time.Second).UTC().Format(time.RFC3339)
	body := func(typ, msg string) string {
		return fmt.Sprintf(`{"type":"error","error":{"type":%q,"message":%q},"request_id":"req_1"}`, typ, msg)
	}
	tests := []struct {
		name     string
		status   int
		headers  map[string]string
		body     string
		want     electrons.Code
		minWait  time.Duration
		maxWait  time.Duration
		noWaitOK bool
	}{
		{name: "429 retry-after", status: 429, headers: map[string]string{"retry-after": "7"},
			body: body("rate_limit_error", "slow down"), want: electrons.CodeRateLimited, minWait: 7 * time.Second, maxWait: 7 * time.Second},
		{name: "429 resets only: the exhausted one", status: 429, headers: map[string]string{
			"anthropic-ratelimit-requests-remaining": "5", "anthropic-ratelimit-requests-reset": soon,
			"anthropic-ratelimit-tokens-remaining": "0", "anthropic-ratelimit-tokens-reset": later},
			body: body("rate_limit_error", "slow down"), want: electrons.CodeRateLimited, minWait: 80 * time.Second, maxWait: 91 * time.Second},
		{name: "429 input-tokens reset", status: 429, headers: map[string]string{
			"anthropic-ratelimit-input-tokens-remaining": "0", "anthropic-ratelimit-input-tokens-reset": soon},
			body: body("rate_limit_error", "slow down"), want: electrons.CodeRateLimited, minWait: 20 * time.Second, maxWait: 31 * time.Second},
		{name: "429 output-tokens reset", status: 429, headers: map[string]string{
			"anthropic-ratelimit-output-tokens-remaining": "0", "anthropic-ratelimit-output-tokens-reset": later},
			body: body("rate_limit_error", "slow down"), want: electrons.CodeRateLimited, minWait: 80 * time.Second, maxWait: 91 * time.Second},
		{name: "429 spend limit", status: 429,
			body: `{"type":"error","error":{"type":"rate_limit_error","message":"spend limit","details":{"error_code":"enforced_spend_limit_reached"}}}`,
			want: electrons.CodeQuotaExhausted, noWaitOK: true},
		{name: "529 overloaded", status: 529, body: body("overloaded_error", "Overloaded"), want: electrons.CodeOverloaded, noWaitOK: true},
		{name: "500 api_error", status: 500, body: body("api_error", "Internal server error"), want: electrons.CodeServerError, noWaitOK: true},
		{name: "504 timeout_error", status: 504, body: body("timeout_error", "Request timed out"), want: electrons.CodeTimeout, noWaitOK: true},
		{name: "401 authentication_error", status: 401, body: body("authentication_error", "invalid x-api-key"), want: electrons.CodeAuthFailed, noWaitOK: true},
		{name: "403 permission_error", status: 403, body: body("permission_error", "no access"), want: electrons.CodeAuthFailed, noWaitOK: true},
		{name: "400 invalid_request_error", status: 400, body: body("invalid_request_error", "messages: Field required"), want: electrons.CodeInvalidRequest, noWaitOK: true},
		{name: "400 credit balance", status: 400, body: body("invalid_request_error", "Your credit balance is too low to access the Anthropic API."), want: electrons.CodeQuotaExhausted, noWaitOK: true},
		{name: "402 billing_error", status: 402, body: body("billing_error", "billing"), want: electrons.CodeQuotaExhausted, noWaitOK: true},
		{name: "404 not_found_error", status: 404, body: body("not_found_error", "model: x"), want: electrons.CodeInvalidRequest, noWaitOK: true},
		{name: "413 request_too_large", status: 413, body: body("request_too_large", "Request exceeds the maximum allowed number of bytes."), want: electrons.CodeInvalidRequest, noWaitOK: true},
		{name: "502 from a proxy", status: 502, body: "<html>Bad Gateway</html>", want: electrons.CodeServerError, noWaitOK: true},
		{name: "503 without a body", status: 503, want: electrons.CodeOverloaded, noWaitOK: true},
		{name: "200 not JSON", status: 200, body: "<html>hello</html>", want: electrons.CodeServerError, noWaitOK: true},
		{name: "200 not a message", status: 200, body: `{}`, want: electrons.CodeServerError, noWaitOK: true},
		{name: "200 refusal", status: 200, body: `{"id":"m","type":"message","role":"assistant","content":[],"stop_reason":"refusal","usage":{"input_tokens":1,"output_tokens":0}}`,
			want: electrons.CodeContentPolicy, noWaitOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(ts.Close)
			p := New(Config{APIKey: "k", BaseURL: ts.URL})
			_, err := p.Generate(context.Background(), textCall("hi"))
			e := requireCode(t, err, tt.want)
			if !tt.noWaitOK && (e.RetryAfter < tt.minWait || e.RetryAfter > tt.maxWait) {
				t.Fatalf("RetryAfter = %v, want in [%v, %v]", e.RetryAfter, tt.minWait, tt.maxWait)
			}
		})
	}
}

// TestStreamEvents feeds hand-written streams through the SDK: error events of each type, a
// stream cut short, and usage taken from message_start and message_delta.
func TestStreamEvents(t *testing.T) {
	t.Parallel()
	ev := func(typ, data string) string { return "event: " + typ + "\ndata: " + data + "\n\n" }
	start := ev("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_read_input_tokens":5,"output_tokens":1}}}`) +
		ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`) +
		ev("ping", `{"type": "ping"}`) +
		ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}`) +
		ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", world"}}`)
	end := ev("content_block_stop", `{"type":"content_block_stop","index":0}`) +
		ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":15}}`) +
		ev("message_stop", `{"type":"message_stop"}`)
	errEv := func(typ string) string {
		return ev("error", fmt.Sprintf(`{"type": "error", "error": {"type": %q, "message": "x"}}`, typ))
	}
	tests := []struct {
		name string
		body string
		want electrons.Code // "" for success
	}{
		{name: "complete", body: start + end},
		{name: "no message_stop", body: start + ev("content_block_stop", `{"type":"content_block_stop","index":0}`), want: electrons.CodeServerError},
		{name: "cut mid-event", body: start + "event: content_block_delta\ndata: {\"type\":\"content_bl", want: electrons.CodeServerError},
		{name: "overloaded_error event", body: start + errEv("overloaded_error"), want: electrons.CodeOverloaded},
		{name: "api_error event", body: start + errEv("api_error"), want: electrons.CodeServerError},
		{name: "rate_limit_error event", body: start + errEv("rate_limit_error"), want: electrons.CodeRateLimited},
		{name: "unknown error event", body: start + errEv("mystery_error"), want: electrons.CodeServerError},
		{name: "refusal", body: start + ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"refusal"},"usage":{"output_tokens":2}}`) + ev("message_stop", `{"type":"message_stop"}`),
			want: electrons.CodeContentPolicy},
		{name: "stop without a stop_reason", body: start + ev("message_stop", `{"type":"message_stop"}`), want: electrons.CodeServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
				w.Header().Set("anthropic-ratelimit-requests-limit", "50")
				w.Header().Set("anthropic-ratelimit-requests-remaining", "49")
				w.Header().Set("anthropic-ratelimit-requests-reset", "2030-01-02T03:04:05Z")
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(ts.Close)
			p := New(Config{APIKey: "k", BaseURL: ts.URL})
			call := textCall("hi")
			var c collector
			call.OnDelta = c.add
			out, err := p.Generate(context.Background(), call)
			if tt.want != "" {
				requireCode(t, err, tt.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Text != "Hello, world" || c.joined() != out.Text || out.FinishReason != providers.FinishLength {
				t.Fatalf("got %q (deltas %q) %q", out.Text, c.deltas, out.FinishReason)
			}
			if out.Usage.InputTokens != 30 || out.Usage.OutputTokens != 15 {
				t.Fatalf("usage = %+v", out.Usage)
			}
			want := providers.LimitState{Limit: 50, Remaining: 49, Reset: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
			if out.Limits == nil || out.Limits.Limit != want.Limit || out.Limits.Remaining != want.Remaining || !out.Limits.Reset.Equal(want.Reset) {
				t.Fatalf("limits = %+v, want %+v", out.Limits, want)
			}
		})
	}
}

// TestLimits configures a request limit on the fake and checks the state each answer reports,
// then the refusal once it is spent: rate_limited with the wait, counted by the fake.
func TestLimits(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Configure("anthropic.", fake.RouteConfig{Limit: &fake.Limit{Requests: 2, WindowMS: 60_000}})
			call := textCall("hello")
			if stream {
				call.OnDelta = func(string) {}
			}
			for i, wantRemaining := range []int{1, 0} {
				out, err := b.p.Generate(context.Background(), call)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				l := out.Limits
				if l == nil || l.Limit != 2 || l.Remaining != wantRemaining {
					t.Fatalf("call %d: limits = %+v, want limit 2 remaining %d", i, l, wantRemaining)
				}
				if until := time.Until(l.Reset); until <= 0 || until > 61*time.Second {
					t.Fatalf("call %d: reset %v is %v away", i, l.Reset, until)
				}
			}
			_, err := b.p.Generate(context.Background(), call)
			e := requireCode(t, err, electrons.CodeRateLimited)
			if e.RetryAfter <= 0 || e.RetryAfter > 61*time.Second {
				t.Fatalf("RetryAfter = %v", e.RetryAfter)
			}
			if st := b.fake.Stats()[route]; st.Refused != 1 || st.Requests != 3 {
				t.Fatalf("stats = %+v, want 3 requests and 1 refused", st)
			}
		})
	}
}

// TestTokenLimitHeaders checks that a token limit alone is reported (from the tokens family).
func TestTokenLimitHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Configure("anthropic.", fake.RouteConfig{Limit: &fake.Limit{Tokens: 100_000}})
	out, err := b.p.Generate(context.Background(), textCall("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if l := out.Limits; l == nil || l.Limit != 100_000 || l.Remaining >= 100_000 || l.Remaining <= 0 || l.Reset.IsZero() {
		t.Fatalf("limits = %+v", out.Limits)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	tests := []struct {
		name    string
		code    electrons.Code
		headers map[string]string
		want    time.Duration
	}{
		{"retry-after seconds", electrons.CodeOverloaded, map[string]string{"retry-after": "3"}, 3 * time.Second},
		{"retry-after-ms first", electrons.CodeRateLimited, map[string]string{"retry-after-ms": "1500", "retry-after": "9"}, 1500 * time.Millisecond},
		{"retry-after date", electrons.CodeRateLimited, map[string]string{"retry-after": now.Add(4 * time.Second).Format(http.TimeFormat)}, 4 * time.Second},
		{"latest exhausted reset", electrons.CodeRateLimited, map[string]string{
			"anthropic-ratelimit-requests-remaining": "0", "anthropic-ratelimit-requests-reset": at(10 * time.Second),
			"anthropic-ratelimit-tokens-remaining": "0", "anthropic-ratelimit-tokens-reset": at(40 * time.Second)}, 40 * time.Second},
		{"soonest when none is exhausted", electrons.CodeRateLimited, map[string]string{
			"anthropic-ratelimit-requests-remaining": "3", "anthropic-ratelimit-requests-reset": at(10 * time.Second),
			"anthropic-ratelimit-tokens-remaining": "9", "anthropic-ratelimit-tokens-reset": at(40 * time.Second)}, 10 * time.Second},
		{"past resets ignored", electrons.CodeRateLimited, map[string]string{
			"anthropic-ratelimit-requests-remaining": "0", "anthropic-ratelimit-requests-reset": at(-10 * time.Second)}, 0},
		{"resets only for rate limits", electrons.CodeServerError, map[string]string{
			"anthropic-ratelimit-requests-remaining": "0", "anthropic-ratelimit-requests-reset": at(10 * time.Second)}, 0},
		{"garbage", electrons.CodeRateLimited, map[string]string{"retry-after": "soon", "anthropic-ratelimit-requests-reset": "tomorrow"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			if got := retryAfter(h, tt.code, now); got != tt.want {
				t.Fatalf("retryAfter = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	t.Parallel()
	reset := time.Date(2026, 11, 1, 12, 0, 30, 0, time.UTC)
	tests := []struct {
		name    string
		headers map[string]string
		want    *providers.LimitState
	}{
		{"none", nil, nil},
		{"requests", map[string]string{"anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-requests-remaining": "12",
			"anthropic-ratelimit-requests-reset": "2026-11-01T12:00:30Z", "anthropic-ratelimit-tokens-limit": "9000",
			"anthropic-ratelimit-tokens-remaining": "8000"}, &providers.LimitState{Limit: 50, Remaining: 12, Reset: reset}},
		{"tokens when requests absent", map[string]string{"anthropic-ratelimit-tokens-limit": "9000",
			"anthropic-ratelimit-tokens-remaining": "8000", "anthropic-ratelimit-tokens-reset": "2026-11-01T12:00:30Z"},
			&providers.LimitState{Limit: 9000, Remaining: 8000, Reset: reset}},
		{"unreadable reset", map[string]string{"anthropic-ratelimit-requests-limit": "5", "anthropic-ratelimit-requests-remaining": "4",
			"anthropic-ratelimit-requests-reset": "soon"}, &providers.LimitState{Limit: 5, Remaining: 4}},
		{"unreadable limit", map[string]string{"anthropic-ratelimit-requests-limit": "many", "anthropic-ratelimit-requests-remaining": "4"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			got := parseLimits(h)
			if (got == nil) != (tt.want == nil) {
				t.Fatalf("limits = %+v, want %+v", got, tt.want)
			}
			if got != nil && (got.Limit != tt.want.Limit || got.Remaining != tt.want.Remaining || !got.Reset.Equal(tt.want.Reset)) {
				t.Fatalf("limits = %+v, want %+v", got, tt.want)
			}
		})
	}
}
