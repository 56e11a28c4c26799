package ideogram

import (
	"bytes"
	"context"
	"encoding/json"
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

type bundle struct {
	fake *fake.Server
	ts   *httptest.Server
	p    *Provider
}

func setup(t *testing.T) bundle {
	t.Helper()
	fs := fake.New()
	ts := httptest.NewServer(fs.Handler())
	t.Cleanup(ts.Close)
	fs.BaseURL = ts.URL
	return bundle{fake: fs, ts: ts, p: New(Config{APIKey: "test-key", BaseURL: ts.URL, HTTPClient: ts.Client()})}
}

func imageCall(model, prompt, size string, opts map[string]any) providers.Call {
	return providers.Call{RequestID: "req_1", TaskType: electrons.TaskImage, Model: model,
		Input: electrons.Input{Prompt: prompt, Size: size, Options: opts}}
}

// pngSize downloads a hosted file, as the worker does, and returns its dimensions.
func pngSize(t *testing.T, c *http.Client, url string) (int, int) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("download %s: %v", url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("download %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("hosted file is not a PNG: %v", err)
	}
	return cfg.Width, cfg.Height
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, model, size string
		opts              map[string]any
		w, h              int
	}{
		{"v3 exact resolution", "V_3", "1024x1024", nil, 1024, 1024},
		{"v3 default model and size", "", "", nil, 1024, 1024},
		{"v3 aspect from size", "ideogram-v3", "1920x1080", nil, 1312, 736},
		{"v3 turbo", "V_3_TURBO", "800x1280", nil, 800, 1280},
		{"v3 aspect option wins", "V_3", "1024x1024", map[string]any{"aspect_ratio": "3x1"}, 1536, 512},
		{"legacy V_2 portrait", "V_2", "1080x1920", nil, 736, 1312},
		{"legacy V_2_TURBO square with options", "V_2_TURBO", "512x512",
			map[string]any{"seed": float64(42), "negative_prompt": "blur", "magic_prompt": "OFF", "style_type": "DESIGN"}, 1024, 1024},
		{"legacy V_1 wide", "V_1", "3000x1000", nil, 1536, 512},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			out, err := b.p.Generate(context.Background(), imageCall(tc.model, "a lighthouse at dusk", tc.size, tc.opts))
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if len(out.Files) != 1 || out.Files[0].URL == "" || out.Files[0].Data != nil || out.Files[0].ContentType != "image/png" {
				t.Fatalf("files = %+v, want one URL", out.Files)
			}
			if out.Limits != nil {
				t.Errorf("Limits = %+v, want nil: Ideogram sends no rate-limit headers", out.Limits)
			}
			if w, h := pngSize(t, b.ts.Client(), out.Files[0].URL); w != tc.w || h != tc.h {
				t.Errorf("image is %dx%d, want %dx%d", w, h, tc.w, tc.h)
			}
		})
	}
}

func TestRequests(t *testing.T) {
	t.Parallel()
	p := New(Config{APIKey: "k", BaseURL: "http://ideogram.test/"})
	in, err := readInput(electrons.Input{Prompt: " a cat ", Size: "1000x500",
		Options: map[string]any{"seed": float64(7), "negative_prompt": "dogs", "rendering_speed": "QUALITY", "magic_prompt": "OFF", "other": "ignored"}})
	if err != nil {
		t.Fatal(err)
	}

	req, err := p.v3Request(context.Background(), model{}, in)
	if err != nil {
		t.Fatal(err)
	}
	if req.URL.String() != "http://ideogram.test/v1/ideogram-v3/generate" {
		t.Errorf("v3 URL = %s", req.URL)
	}
	if err := req.ParseMultipartForm(1 << 20); err != nil {
		t.Fatalf("v3 body is not multipart: %v", err)
	}
	want := map[string]string{"prompt": "a cat", "num_images": "1", "aspect_ratio": "2x1", "seed": "7",
		"negative_prompt": "dogs", "rendering_speed": "QUALITY", "magic_prompt": "OFF"}
	for k, v := range want {
		if got := req.MultipartForm.Value[k]; len(got) != 1 || got[0] != v {
			t.Errorf("v3 field %s = %q, want %q", k, got, v)
		}
	}
	if _, ok := req.MultipartForm.Value["other"]; ok {
		t.Error("v3 form carries an unknown option")
	}

	req, err = p.legacyRequest(context.Background(), model{legacy: true, name: "V_2"}, in)
	if err != nil {
		t.Fatal(err)
	}
	if req.URL.String() != "http://ideogram.test/generate" || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("legacy request = %s %s", req.URL, req.Header.Get("Content-Type"))
	}
	var body struct {
		ImageRequest map[string]any `json:"image_request"`
	}
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	wantJSON := map[string]any{"prompt": "a cat", "model": "V_2", "aspect_ratio": "ASPECT_16_9", "seed": float64(7),
		"negative_prompt": "dogs", "magic_prompt_option": "OFF", "num_images": float64(1)}
	for k, v := range wantJSON {
		if body.ImageRequest[k] != v {
			t.Errorf("legacy %s = %v, want %v", k, body.ImageRequest[k], v)
		}
	}
}

func TestParseModel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    model
		wantErr bool
	}{
		{"", model{}, false},
		{"V_3", model{}, false},
		{"ideogram-v3", model{}, false},
		{"v3", model{}, false},
		{"V_3_QUALITY", model{speed: "QUALITY"}, false},
		{"V_2", model{legacy: true, name: "V_2"}, false},
		{"v_2_turbo", model{legacy: true, name: "V_2_TURBO"}, false},
		{"ideogram-v2", model{legacy: true, name: "V_2"}, false},
		{"V_2A_TURBO", model{legacy: true, name: "V_2A_TURBO"}, false},
		{"V_1", model{legacy: true, name: "V_1"}, false},
		{"V_3_SLOW", model{}, true},
		{"dall-e-3", model{}, true},
	}
	for _, tc := range tests {
		got, err := parseModel(tc.in)
		if (err != nil) != tc.wantErr || (err == nil && got != tc.want) {
			t.Errorf("parseModel(%q) = %+v, %v; want %+v, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil && electrons.ErrorCode(err) != electrons.CodeInvalidRequest {
			t.Errorf("parseModel(%q) error code = %s", tc.in, electrons.ErrorCode(err))
		}
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name  string
		call  providers.Call
		param string
	}{
		{"text task", providers.Call{TaskType: electrons.TaskText, Input: electrons.Input{Prompt: "x"}}, "task_type"},
		{"no prompt", imageCall("V_3", "  ", "", nil), "input.prompt"},
		{"bad size", imageCall("V_3", "x", "big", nil), "input.size"},
		{"zero size", imageCall("V_2", "x", "0x10", nil), "input.size"},
		{"bad seed", imageCall("V_3", "x", "", map[string]any{"seed": "minus one"}), "input.options.seed"},
		{"object option", imageCall("V_3", "x", "", map[string]any{"style_type": map[string]any{}}), "input.options.style_type"},
		{"unknown model", imageCall("imagen", "x", "", nil), "model"},
	}
	for _, tc := range tests {
		_, err := b.p.Generate(context.Background(), tc.call)
		var e *electrons.Error
		if !errors.As(err, &e) || e.Code != electrons.CodeInvalidRequest || e.Param != tc.param {
			t.Errorf("%s: err = %v, want invalid_request on %s", tc.name, err, tc.param)
		}
	}
	if n := b.fake.Stats()["ideogram.v3"].Requests + b.fake.Stats()["ideogram.legacy"].Requests; n != 0 {
		t.Errorf("invalid input reached the provider %d times", n)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault, model string
		code         electrons.Code
		retryAfter   bool
	}{
		{fake.FaultRateLimit, "V_3", electrons.CodeRateLimited, true},
		{fake.FaultConcurrency, "V_2", electrons.CodeRateLimited, true},
		{fake.FaultQuota, "V_3", electrons.CodeQuotaExhausted, false},
		{fake.FaultOverloaded, "V_3", electrons.CodeOverloaded, true},
		{fake.FaultServer, "V_2", electrons.CodeServerError, false},
		{fake.FaultInvalid, "V_3", electrons.CodeInvalidRequest, false},
		{fake.FaultAuth, "V_2", electrons.CodeAuthFailed, false},
		{fake.FaultContentPolicy, "V_3", electrons.CodeContentPolicy, false},
		{fake.FaultContentPolicy, "V_2", electrons.CodeContentPolicy, false},
		{fake.FaultMalformed, "V_3", electrons.CodeServerError, false},
		{fake.FaultTruncate, "V_3", electrons.CodeServerError, false},
		{fake.FaultTruncate, "V_2", electrons.CodeServerError, false},
		{fake.FaultTimeout, "V_3", electrons.CodeTimeout, false},
	}
	for _, tc := range tests {
		t.Run(tc.fault+"/"+tc.model, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Configure("ideogram.", fake.RouteConfig{Faults: map[string]float64{tc.fault: 1}})
			ctx := context.Background()
			if tc.fault == fake.FaultTimeout {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
				defer cancel()
			}
			out, err := b.p.Generate(ctx, imageCall(tc.model, "a red fox", "1024x1024", nil))
			var e *electrons.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (out %+v), want *electrons.Error", err, out)
			}
			if e.Code != tc.code {
				t.Errorf("code = %s, want %s (%v)", e.Code, tc.code, e)
			}
			if got := e.RetryAfter > 0; got != tc.retryAfter {
				t.Errorf("RetryAfter = %v, want set: %v", e.RetryAfter, tc.retryAfter)
			}
			if !strings.Contains(e.Error(), "ideogram") {
				t.Errorf("message %q does not name the provider", e.Error())
			}
		})
	}
}

func TestUnsafePrompt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, m := range []string{"V_3", "V_2"} {
		_, err := b.p.Generate(context.Background(), imageCall(m, "something [fake:unsafe]", "", nil))
		if code := electrons.ErrorCode(err); code != electrons.CodeContentPolicy {
			t.Errorf("%s: code = %s (%v), want content_policy", m, code, err)
		}
	}
}

func TestWrongKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetKeys("another-key")
	_, err := b.p.Generate(context.Background(), imageCall("V_3", "a boat", "", nil))
	if code := electrons.ErrorCode(err); code != electrons.CodeAuthFailed {
		t.Errorf("code = %s (%v), want auth_failed", code, err)
	}
}

func TestLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Configure("ideogram.v3", fake.RouteConfig{Limit: &fake.Limit{Requests: 2, WindowMS: 30000}})
	for i := range 2 {
		if _, err := b.p.Generate(context.Background(), imageCall("V_3", "a tree", "", nil)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	_, err := b.p.Generate(context.Background(), imageCall("V_3", "a tree", "", nil))
	var e *electrons.Error
	if !errors.As(err, &e) || e.Code != electrons.CodeRateLimited {
		t.Fatalf("err = %v, want rate_limited", err)
	}
	if e.RetryAfter <= 0 || e.RetryAfter > 30*time.Second {
		t.Errorf("RetryAfter = %v, want within the 30 s window", e.RetryAfter)
	}
	if st := b.fake.Stats()["ideogram.v3"]; st.Refused != 1 || st.Requests != 3 {
		t.Errorf("stats = %+v, want 3 requests, 1 refused", st)
	}
	// The legacy route has its own limit state.
	if _, err := b.p.Generate(context.Background(), imageCall("V_2", "a tree", "", nil)); err != nil {
		t.Errorf("legacy route: %v", err)
	}
}

func TestErrorFrom(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		status     int
		header     string
		body       string
		code       electrons.Code
		retryAfter time.Duration
	}{
		{400, "", `{"type":"about:blank","title":"Bad Request","status":400,"detail":"'prompt' is a required property"}`, electrons.CodeInvalidRequest, 0},
		{401, "", `{"detail":"No authorization token provided"}`, electrons.CodeAuthFailed, 0},
		{403, "", ``, electrons.CodeAuthFailed, 0},
		{402, "", `{"detail":"Insufficient credits"}`, electrons.CodeQuotaExhausted, 0},
		{422, "", `{"error":"Prompt failed the safety check."}`, electrons.CodeContentPolicy, 0},
		{422, "", `{"detail":[{"loc":["body","aspect_ratio"],"msg":"bad"}]}`, electrons.CodeInvalidRequest, 0},
		{429, "7", `{"detail":"Too many requests"}`, electrons.CodeRateLimited, 7 * time.Second},
		{429, "Sun, 01 Nov 2026 00:00:30 GMT", ``, electrons.CodeRateLimited, 30 * time.Second},
		{500, "", `<html>oops</html>`, electrons.CodeServerError, 0},
		{502, "", `bad gateway`, electrons.CodeServerError, 0},
		{503, "2", ``, electrons.CodeOverloaded, 2 * time.Second},
		{504, "", ``, electrons.CodeTimeout, 0},
	}
	for _, tc := range tests {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Retry-After", tc.header)
		}
		e := errorFrom(tc.status, h, []byte(tc.body), now)
		if e.Code != tc.code || e.RetryAfter != tc.retryAfter {
			t.Errorf("%d %s: got %s/%v, want %s/%v", tc.status, tc.body, e.Code, e.RetryAfter, tc.code, tc.retryAfter)
		}
	}
}

// seedAnswers are real Ideogram answers (from its API reference) and near misses.
var seedAnswers = []string{
	`{"created":"2000-01-23 04:56:07+00:00","data":[{"prompt":"A photo of a cat sleeping on a couch.","resolution":"1024x1024","is_image_safe":true,"seed":12345,"url":"https://ideogram.ai/api/images/ephemeral/xtdZiqPwRxqY1Y7NExFmzB.png?exp=1743867804&sig=e13e","style_type":"GENERAL"}]}`,
	`{"created":"2000-01-23T04:56:07Z","data":[{"prompt":"x","resolution":"1024x1024","is_image_safe":false,"seed":1,"url":null}]}`,
	`{"created":"x","data":[{"is_image_safe":true,"url":"/relative.png"}]}`,
	`{"created":"x","data":[]}`,
	`{"data":[{"is_image_safe":true}]}`,
	`<html></html>`,
	``,
}

func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range seedAnswers {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := decodeAnswer(body)
		if err != nil {
			var e *electrons.Error
			if !errors.As(err, &e) || (e.Code != electrons.CodeServerError && e.Code != electrons.CodeContentPolicy) {
				t.Fatalf("error %v is not a classified answer error", err)
			}
			if out != nil {
				t.Fatal("output together with an error")
			}
			return
		}
		if out == nil || len(out.Files) == 0 {
			t.Fatal("success without files")
		}
		for _, f := range out.Files {
			if !strings.HasPrefix(f.URL, "http://") && !strings.HasPrefix(f.URL, "https://") {
				t.Fatalf("file URL %q is not absolute http(s)", f.URL)
			}
		}
	})
}

func FuzzErrorFrom(f *testing.F) {
	f.Add(422, "", []byte(`{"error":"Prompt failed the safety check."}`))
	f.Add(400, "", []byte(`{"type":"about:blank","title":"Bad Request","status":400,"detail":"'prompt' is a required property"}`))
	f.Add(429, "3", []byte(`{"detail":"Too many requests"}`))
	f.Add(429, "Wed, 21 Oct 2015 07:28:00 GMT", []byte(``))
	f.Add(500, "-1", []byte(`{"detail":{"message":"boom"}}`))
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		e := errorFrom(status, h, body, time.Now())
		if e == nil || e.Code == "" || !strings.HasPrefix(e.Message, "ideogram: HTTP ") {
			t.Fatalf("errorFrom(%d) = %+v", status, e)
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative RetryAfter %v", e.RetryAfter)
		}
	})
}
