package openai

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
	"github.com/distributed-electrons/electrons/providers/fake"
)

// setup starts a fake server and an OpenAI provider pointed at it.
func setup(t *testing.T) (*fake.Server, *httptest.Server, *Provider) {
	t.Helper()
	srv := fake.New()
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	srv.BaseURL = ts.URL
	p := New(Config{APIKey: "sk-test", BaseURL: ts.URL + "/v1", HTTPClient: ts.Client()})
	return srv, ts, p
}

func textCall(prompt string) providers.Call {
	return providers.Call{RequestID: "req_1", TaskType: electrons.TaskText, Model: "gpt-4o-mini", Input: electrons.Input{Prompt: prompt}}
}

func wantCode(t *testing.T, err error, code electrons.Code) *electrons.Error {
	t.Helper()
	var e *electrons.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *electrons.Error", err, err)
	}
	if e.Code != code {
		t.Fatalf("code = %s, want %s (%v)", e.Code, code, err)
	}
	if !strings.HasPrefix(e.Message, "openai") {
		t.Errorf("message %q does not name the provider", e.Message)
	}
	return e
}

func TestName(t *testing.T) {
	t.Parallel()
	if got := New(Config{}).Name(); got != "openai" {
		t.Fatalf("Name() = %q", got)
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	_, _, p := setup(t)
	tests := []struct {
		name       string
		input      electrons.Input
		wantText   string
		wantFinish string
		wantUsage  electrons.Usage
	}{
		{"echo", electrons.Input{Prompt: "hello brave new world"}, "Echo: hello brave new world", providers.FinishStop, electrons.Usage{InputTokens: 4, OutputTokens: 5}},
		{"system", electrons.Input{System: "be terse", Prompt: "hi there"}, "Echo: hi there", providers.FinishStop, electrons.Usage{InputTokens: 4, OutputTokens: 3}},
		{"max tokens", electrons.Input{Prompt: "one two three four", MaxTokens: 2}, "Echo: one", providers.FinishLength, electrons.Usage{InputTokens: 4, OutputTokens: 2}},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				call := textCall("")
				call.Input = tt.input
				var deltas []string
				if stream {
					call.OnDelta = func(s string) { deltas = append(deltas, s) }
				}
				out, err := p.Generate(context.Background(), call)
				if err != nil {
					t.Fatal(err)
				}
				if out.Text != tt.wantText || out.FinishReason != tt.wantFinish {
					t.Fatalf("got %q (%s), want %q (%s)", out.Text, out.FinishReason, tt.wantText, tt.wantFinish)
				}
				if out.Usage == nil || *out.Usage != tt.wantUsage {
					t.Fatalf("usage = %+v, want %+v", out.Usage, tt.wantUsage)
				}
				if stream {
					if strings.Join(deltas, "") != out.Text {
						t.Fatalf("deltas %q do not add up to %q", deltas, out.Text)
					}
					if len(deltas) < 2 {
						t.Fatalf("want several deltas, got %q", deltas)
					}
				}
				if out.Limits != nil {
					t.Fatalf("limits %+v without a configured limit", out.Limits)
				}
			})
		}
	}
}

func TestTextInvalidInput(t *testing.T) {
	t.Parallel()
	_, _, p := setup(t)
	tests := []struct {
		name  string
		call  providers.Call
		param string
	}{
		{"no prompt", textCall(""), "input.prompt"},
		{"no model", providers.Call{TaskType: electrons.TaskText, Input: electrons.Input{Prompt: "x"}}, "model"},
		{"negative max tokens", providers.Call{TaskType: electrons.TaskText, Model: "m", Input: electrons.Input{Prompt: "x", MaxTokens: -1}}, "input.max_tokens"},
		{"bad temperature", providers.Call{TaskType: electrons.TaskText, Model: "m", Input: electrons.Input{Prompt: "x", Options: map[string]any{"temperature": "hot"}}}, "input.options.temperature"},
		{"video", providers.Call{TaskType: electrons.TaskVideo, Model: "m", Input: electrons.Input{Prompt: "x"}}, "task_type"},
		{"stock", providers.Call{TaskType: electrons.TaskStockMedia, Model: "m", Input: electrons.Input{Query: "x"}}, "task_type"},
		{"image size", providers.Call{TaskType: electrons.TaskImage, Model: "dall-e-3", Input: electrons.Input{Prompt: "x", Size: "big"}}, "input.size"},
		{"image format", providers.Call{TaskType: electrons.TaskImage, Model: "dall-e-3", Input: electrons.Input{Prompt: "x", Options: map[string]any{"response_format": "gif"}}}, "input.options.response_format"},
		{"speech format", providers.Call{TaskType: electrons.TaskAudio, Model: "tts-1", Input: electrons.Input{Prompt: "x", Options: map[string]any{"response_format": "ogg"}}}, "input.options.response_format"},
		{"speech text", providers.Call{TaskType: electrons.TaskAudio, Model: "tts-1"}, "input.prompt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := p.Generate(context.Background(), tt.call)
			e := wantCode(t, err, electrons.CodeInvalidRequest)
			if e.Param != tt.param {
				t.Fatalf("param = %q, want %q", e.Param, tt.param)
			}
			if !strings.HasPrefix(e.Message, "openai: ") {
				t.Fatalf("message %q does not name the provider", e.Message)
			}
		})
	}
}

// TestFakeValidation checks that what the fake refuses comes back as invalid_request with the
// API's param.
func TestFakeValidation(t *testing.T) {
	t.Parallel()
	_, _, p := setup(t)
	tests := []struct {
		name  string
		call  providers.Call
		param string
	}{
		{"dall-e-3 size", providers.Call{TaskType: electrons.TaskImage, Model: "dall-e-3", Input: electrons.Input{Prompt: "x", Size: "256x256"}}, "size"},
		{"unknown voice", providers.Call{TaskType: electrons.TaskAudio, Model: "tts-1", Input: electrons.Input{Prompt: "x", Voice: "nobody"}}, "voice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := p.Generate(context.Background(), tt.call)
			e := wantCode(t, err, electrons.CodeInvalidRequest)
			if e.Param != tt.param {
				t.Fatalf("param = %q, want %q", e.Param, tt.param)
			}
		})
	}
}

func TestImage(t *testing.T) {
	t.Parallel()
	_, ts, p := setup(t)
	tests := []struct {
		name, model, size, format string
		w, h                      int
	}{
		{"url", "dall-e-3", "1792x1024", "", 1792, 1024},
		{"b64", "dall-e-2", "256x256", "b64_json", 256, 256},
		{"default size", "dall-e-2", "", "url", 1024, 1024},
		{"gpt-image", "gpt-image-1", "1024x1536", "", 1024, 1536},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := electrons.Input{Prompt: "a red fox in the snow", Size: tt.size}
			if tt.format != "" {
				in.Options = map[string]any{"response_format": tt.format}
			}
			out, err := p.Generate(context.Background(), providers.Call{TaskType: electrons.TaskImage, Model: tt.model, Input: in})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Files) != 1 || out.Files[0].ContentType != "image/png" {
				t.Fatalf("files = %+v", out.Files)
			}
			f := out.Files[0]
			data := f.Data
			wantURL := tt.format != "b64_json" && tt.model != "gpt-image-1"
			if wantURL {
				if len(data) != 0 || !strings.HasPrefix(f.URL, ts.URL+"/") {
					t.Fatalf("want a URL on the fake, got %+v", f)
				}
				res, err := ts.Client().Get(f.URL)
				if err != nil {
					t.Fatal(err)
				}
				data, _ = io.ReadAll(res.Body)
				res.Body.Close()
			} else if f.URL != "" || len(data) == 0 {
				t.Fatalf("want bytes, got %+v", f)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
				t.Fatalf("image is %v, want %dx%d", b, tt.w, tt.h)
			}
		})
	}
}

func TestSpeech(t *testing.T) {
	t.Parallel()
	_, _, p := setup(t)
	tests := []struct {
		format, contentType, magic string
	}{
		{"", "audio/mpeg", "\xff\xfb"},
		{"wav", "audio/wav", "RIFF"},
		{"flac", "audio/flac", "fLaC"},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			t.Parallel()
			in := electrons.Input{Prompt: "Hello from the speech test.", Voice: "nova"}
			if tt.format != "" {
				in.Options = map[string]any{"response_format": tt.format}
			}
			out, err := p.Generate(context.Background(), providers.Call{TaskType: electrons.TaskAudio, Model: "tts-1", Input: in})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Files) != 1 {
				t.Fatalf("files = %+v", out.Files)
			}
			f := out.Files[0]
			if f.ContentType != tt.contentType || !bytes.HasPrefix(f.Data, []byte(tt.magic)) {
				t.Fatalf("got %s starting %q", f.ContentType, f.Data[:min(len(f.Data), 8)])
			}
		})
	}
}

// kinds are the calls the error table runs for every fault.
var kinds = []struct {
	name, route string
	call        func() providers.Call
}{
	{"text", "openai.chat", func() providers.Call { return textCall("tell me a story about foxes") }},
	{"stream", "openai.chat", func() providers.Call {
		c := textCall("tell me a story about foxes")
		c.OnDelta = func(string) {}
		return c
	}},
	{"image", "openai.images", func() providers.Call {
		return providers.Call{TaskType: electrons.TaskImage, Model: "dall-e-2", Input: electrons.Input{Prompt: "a fox", Size: "256x256"}}
	}},
	{"audio", "openai.speech", func() providers.Call {
		return providers.Call{TaskType: electrons.TaskAudio, Model: "tts-1", Input: electrons.Input{Prompt: "hello there"}}
	}},
}

func TestFaults(t *testing.T) {
	t.Parallel()
	faults := []struct {
		fault string
		code  electrons.Code
		retry bool // RetryAfter must be set
	}{
		{fake.FaultRateLimit, electrons.CodeRateLimited, true},
		{fake.FaultConcurrency, electrons.CodeRateLimited, true},
		{fake.FaultQuota, electrons.CodeQuotaExhausted, false},
		{fake.FaultOverloaded, electrons.CodeOverloaded, false},
		{fake.FaultServer, electrons.CodeServerError, false},
		{fake.FaultInvalid, electrons.CodeInvalidRequest, false},
		{fake.FaultAuth, electrons.CodeAuthFailed, false},
		{fake.FaultContentPolicy, electrons.CodeContentPolicy, false},
		{fake.FaultMalformed, electrons.CodeServerError, false},
		{fake.FaultTruncate, electrons.CodeServerError, false},
		{fake.FaultTimeout, electrons.CodeTimeout, false},
	}
	for _, k := range kinds {
		for _, f := range faults {
			t.Run(k.name+"/"+f.fault, func(t *testing.T) {
				t.Parallel()
				srv, _, p := setup(t)
				srv.Configure(k.route, fake.RouteConfig{Faults: map[string]float64{f.fault: 1}})
				ctx := context.Background()
				if f.fault == fake.FaultTimeout {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
					defer cancel()
				}
				out, err := p.Generate(ctx, k.call())
				if err == nil {
					t.Fatalf("no error; output %+v", out)
				}
				e := wantCode(t, err, f.code)
				if f.retry && (e.RetryAfter <= 0 || e.RetryAfter > 2*time.Second) {
					t.Fatalf("RetryAfter = %v", e.RetryAfter)
				}
				if st := srv.Stats()[k.route]; st.Requests != 1 {
					t.Fatalf("the fake saw %d requests: the SDK must not retry", st.Requests)
				}
			})
		}
	}
}

// TestStreamDeltasBeforeFailure checks that a stream cut off or failing mid-answer has shown
// some text and still fails.
func TestStreamDeltasBeforeFailure(t *testing.T) {
	t.Parallel()
	for _, fault := range []string{fake.FaultTruncate, fake.FaultServer, fake.FaultContentPolicy} {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			srv, _, p := setup(t)
			srv.Configure("openai.chat", fake.RouteConfig{Faults: map[string]float64{fault: 1}})
			call := textCall("one two three four five six")
			var got strings.Builder
			call.OnDelta = func(s string) { got.WriteString(s) }
			if _, err := p.Generate(context.Background(), call); err == nil {
				t.Fatal("a failed stream succeeded")
			}
			if !strings.HasPrefix(got.String(), "Echo: one") {
				t.Fatalf("deltas before the failure = %q", got.String())
			}
		})
	}
}

func TestAPIKey(t *testing.T) {
	t.Parallel()
	srv, ts, _ := setup(t)
	srv.SetKeys("sk-good")
	for key, code := range map[string]electrons.Code{"sk-good": "", "sk-bad": electrons.CodeAuthFailed, "": electrons.CodeAuthFailed} {
		p := New(Config{APIKey: key, BaseURL: ts.URL + "/v1", HTTPClient: ts.Client()})
		_, err := p.Generate(context.Background(), textCall("hi"))
		if code == "" {
			if err != nil {
				t.Fatalf("key %q: %v", key, err)
			}
			continue
		}
		wantCode(t, err, code)
	}
}

// TestEnvironmentIgnored checks that the SDK's environment variables cannot redirect the
// provider or change its key.
func TestEnvironmentIgnored(t *testing.T) {
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
	t.Setenv("OPENAI_API_KEY", "sk-from-env")
	t.Setenv("OPENAI_CUSTOM_HEADERS", "Authorization: Bearer sk-from-env")
	srv, _, p := setup(t)
	srv.SetKeys("sk-test")
	if _, err := p.Generate(context.Background(), textCall("hi")); err != nil {
		t.Fatal(err)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			srv, _, p := setup(t)
			srv.Configure(k.route, fake.RouteConfig{Limit: &fake.Limit{Requests: 2, WindowMS: 60_000}})
			start := time.Now()
			for i, remaining := range []int{1, 0} {
				out, err := p.Generate(context.Background(), k.call())
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				l := out.Limits
				if l == nil || l.Limit != 2 || l.Remaining != remaining {
					t.Fatalf("call %d: limits = %+v, want 2/%d", i, l, remaining)
				}
				if l.Reset.Before(start.Add(55*time.Second)) || l.Reset.After(time.Now().Add(61*time.Second)) {
					t.Fatalf("call %d: reset %v is not about a minute away", i, time.Until(l.Reset))
				}
			}
			_, err := p.Generate(context.Background(), k.call())
			e := wantCode(t, err, electrons.CodeRateLimited)
			if e.RetryAfter < 55*time.Second || e.RetryAfter > 61*time.Second {
				t.Fatalf("RetryAfter = %v, want about a minute", e.RetryAfter)
			}
			if st := srv.Stats()[k.route]; st.Refused != 1 || st.Requests != 3 {
				t.Fatalf("stats = %+v, want 3 requests, 1 refused", st)
			}
		})
	}
}

func TestTokenLimit(t *testing.T) {
	t.Parallel()
	srv, _, p := setup(t)
	srv.Configure("openai.chat", fake.RouteConfig{Limit: &fake.Limit{Tokens: 10}})
	_, err := p.Generate(context.Background(), textCall(strings.Repeat("many words ", 50)))
	e := wantCode(t, err, electrons.CodeRateLimited)
	if e.RetryAfter <= 0 {
		t.Fatalf("RetryAfter = %v", e.RetryAfter)
	}
	if st := srv.Stats()["openai.chat"]; st.Refused != 1 {
		t.Fatalf("refused = %d", st.Refused)
	}
}

// TestForeignErrors runs the adapter against answers that are not the fake's: error bodies that
// are not OpenAI's JSON, rate limits told only in x-ratelimit-* headers.
func TestForeignErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		code    electrons.Code
		retry   time.Duration
		message string
	}{
		{"html 502", 502, map[string]string{"Content-Type": "text/html"}, "<html>Bad Gateway</html>", electrons.CodeServerError, 0, "Bad Gateway"},
		{"empty 503", 503, nil, "", electrons.CodeOverloaded, 0, "503"},
		{"504", 504, nil, "", electrons.CodeTimeout, 0, ""},
		{"reset tokens", 429, map[string]string{"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "6m0s", "x-ratelimit-remaining-requests": "5", "x-ratelimit-reset-requests": "1s"},
			`{"error":{"message":"Rate limit reached","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`, electrons.CodeRateLimited, 6 * time.Minute, "Rate limit reached"},
		{"retry-after-ms", 429, map[string]string{"retry-after-ms": "1500", "retry-after": "9"}, `{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}`, electrons.CodeRateLimited, 1500 * time.Millisecond, "slow down"},
		{"message wait", 429, nil, `{"error":{"message":"Rate limit reached for gpt-4o on tokens per min (TPM): Limit 30000, Used 30000, Requested 500. Please try again in 1m2.5s. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"tokens","code":"rate_limit_exceeded"}}`, electrons.CodeRateLimited, 62500 * time.Millisecond, "Rate limit"},
		{"vllm", 400, nil, `{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}`, electrons.CodeInvalidRequest, 0, "maximum context length"},
		{"llama.cpp", 500, nil, `{"error":{"code":500,"message":"slot unavailable","type":"server_error"}}`, electrons.CodeServerError, 0, "slot unavailable"},
		{"string error", 404, nil, `{"error":"model 'llama9' not found"}`, electrons.CodeInvalidRequest, 0, "not found"},
		{"forbidden", 403, nil, `{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","code":"unsupported_country_region_territory"}}`, electrons.CodeAuthFailed, 0, "Country"},
		{"422", 422, nil, `{"error":{"message":"bad","type":"invalid_request_error"}}`, electrons.CodeInvalidRequest, 0, "bad"},
		{"content filter", 400, nil, `{"error":{"message":"The response was filtered","type":null,"param":"prompt","code":"content_filter"}}`, electrons.CodeContentPolicy, 0, "filtered"},
		{"quota", 429, map[string]string{"retry-after": "20"}, `{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`, electrons.CodeQuotaExhausted, 0, "quota"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer ts.Close()
			p := New(Config{APIKey: "k", BaseURL: ts.URL, HTTPClient: ts.Client()})
			for _, stream := range []bool{false, true} {
				call := textCall("hi")
				if stream {
					call.OnDelta = func(string) {}
				}
				_, err := p.Generate(context.Background(), call)
				e := wantCode(t, err, tt.code)
				if e.RetryAfter != tt.retry {
					t.Fatalf("RetryAfter = %v, want %v", e.RetryAfter, tt.retry)
				}
				if !strings.Contains(e.Message, tt.message) {
					t.Fatalf("message %q does not contain %q", e.Message, tt.message)
				}
			}
		})
	}
}

// TestConnectionRefused checks that a server that is not there is a retryable server error.
func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	p := New(Config{APIKey: "k", BaseURL: url})
	_, err := p.Generate(context.Background(), textCall("hi"))
	wantCode(t, err, electrons.CodeServerError)
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1s", time.Second, true},
		{"6m0s", 6 * time.Minute, true},
		{"120ms", 120 * time.Millisecond, true},
		{"1h2m3.5s", time.Hour + 2*time.Minute + 3500*time.Millisecond, true},
		{"8.64s", 8640 * time.Millisecond, true},
		{"1m26.4s", 86400 * time.Millisecond, true},
		{"17ms", 17 * time.Millisecond, true},
		{"0s", 0, true},
		{"2d3h", 51 * time.Hour, true},
		{"20", 20 * time.Second, true},
		{"0.5", 500 * time.Millisecond, true},
		{" 1s ", time.Second, true},
		{"", 0, false},
		{"-1s", 0, false},
		{"1x", 0, false},
		{"s", 0, false},
		{"1..2s", 0, false},
		{"-1", 0, false},
		{"99999999999h", 0, false},
		{".", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseDuration(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseLimits(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := http.Header{}
	if parseLimits(h, now) != nil {
		t.Fatal("limits without headers")
	}
	h.Set("x-ratelimit-limit-requests", "5000")
	h.Set("x-ratelimit-remaining-requests", "4999")
	h.Set("x-ratelimit-reset-requests", "12ms")
	l := parseLimits(h, now)
	if l == nil || l.Limit != 5000 || l.Remaining != 4999 || !l.Reset.Equal(now.Add(12*time.Millisecond)) {
		t.Fatalf("limits = %+v", l)
	}
	h.Set("x-ratelimit-remaining-requests", "-1") // Azure's "unknown"
	if l := parseLimits(h, now); l != nil {
		t.Fatalf("limits from a negative remaining: %+v", l)
	}
}
