package gemini

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

const (
	textModel  = "gemini-2.5-flash"
	imageModel = "gemini-2.5-flash-image"
	videoModel = "veo-3.1-generate-preview"
)

// setup starts a fake of every provider and a Gemini adapter pointed at it.
func setup(t *testing.T) (*Provider, *fake.Server) {
	t.Helper()
	fs := fake.New()
	ts := httptest.NewServer(fs.Handler())
	t.Cleanup(ts.Close)
	fs.BaseURL = ts.URL
	return New(Config{APIKey: "test-key", BaseURL: ts.URL, HTTPClient: ts.Client()}), fs
}

// serve starts a server that answers every request with h, for answers the fake never gives.
func serve(t *testing.T, h http.HandlerFunc) *Provider {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return New(Config{APIKey: "test-key", BaseURL: ts.URL, HTTPClient: ts.Client()})
}

func textCall(prompt string) providers.Call {
	return providers.Call{TaskType: electrons.TaskText, Model: textModel, Input: electrons.Input{Prompt: prompt}}
}

func wantCode(t *testing.T, err error, code electrons.Code) *electrons.Error {
	t.Helper()
	var e *electrons.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want an *electrons.Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s, want %s (%v)", e.Code, code, err)
	}
	if !strings.HasPrefix(e.Message, "gemini: ") {
		t.Fatalf("message %q does not name the provider", e.Message)
	}
	return e
}

func mustGenerate(t *testing.T, p *Provider, call providers.Call) *providers.Output {
	t.Helper()
	out, err := p.Generate(context.Background(), call)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return out
}

func TestName(t *testing.T) {
	t.Parallel()
	if got := New(Config{APIKey: "k"}).Name(); got != "gemini" {
		t.Fatalf("Name() = %q", got)
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	p, _ := setup(t)
	call := textCall("Describe the rings of Saturn")
	call.Input.System = "Be brief."
	out := mustGenerate(t, p, call)
	if out.Text != "Gemini says: Describe the rings of Saturn" {
		t.Fatalf("text = %q", out.Text)
	}
	if out.FinishReason != providers.FinishStop {
		t.Fatalf("finish = %q, want stop", out.FinishReason)
	}
	if out.Usage == nil || out.Usage.InputTokens != 7 || out.Usage.OutputTokens != 7 {
		t.Fatalf("usage = %+v", out.Usage)
	}
	if out.Limits != nil {
		t.Fatalf("limits = %+v; Gemini sends no rate-limit headers", out.Limits)
	}
}

func TestTextMaxTokens(t *testing.T) {
	t.Parallel()
	p, _ := setup(t)
	for _, stream := range []bool{false, true} {
		call := textCall("one two three four five six")
		call.Input.MaxTokens = 3
		if stream {
			call.OnDelta = func(string) {}
		}
		out := mustGenerate(t, p, call)
		if out.FinishReason != providers.FinishLength || out.Text != "Gemini says: one" {
			t.Fatalf("stream=%v: finish %q, text %q; want length and three words", stream, out.FinishReason, out.Text)
		}
	}
}

func TestStream(t *testing.T) {
	t.Parallel()
	p, fs := setup(t)
	var deltas []string
	call := textCall("stream these words to me one event at a time")
	call.OnDelta = func(s string) { deltas = append(deltas, s) }
	out := mustGenerate(t, p, call)
	if len(deltas) < 3 {
		t.Fatalf("got %d deltas, want several", len(deltas))
	}
	if strings.Join(deltas, "") != out.Text {
		t.Fatalf("deltas %q do not add up to the text %q", deltas, out.Text)
	}
	if out.Text != "Gemini says: stream these words to me one event at a time" || out.FinishReason != providers.FinishStop {
		t.Fatalf("text %q finish %q", out.Text, out.FinishReason)
	}
	if out.Usage == nil || out.Usage.OutputTokens != 12 {
		t.Fatalf("usage = %+v", out.Usage)
	}
	if n := fs.Stats()["gemini.stream"].Requests; n != 1 {
		t.Fatalf("the stream route saw %d requests, want 1", n)
	}
}

func TestStreamFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fault string
		code  electrons.Code
		msg   string
	}{
		{fake.FaultTruncate, electrons.CodeServerError, "stream ended before"},
		{fake.FaultMalformed, electrons.CodeServerError, "malformed"},
		{fake.FaultContentPolicy, electrons.CodeContentPolicy, "blocked"},
		{fake.FaultOverloaded, electrons.CodeOverloaded, "overloaded"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			t.Parallel()
			p, fs := setup(t)
			fs.Configure("gemini.stream", fake.RouteConfig{Faults: map[string]float64{tc.fault: 1}})
			var got strings.Builder
			call := textCall("a long enough prompt to make several events")
			call.OnDelta = func(s string) { got.WriteString(s) }
			out, err := p.Generate(context.Background(), call)
			if out != nil {
				t.Fatalf("a failed stream returned output %+v", out)
			}
			e := wantCode(t, err, tc.code)
			if !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("message %q does not say %q", e.Message, tc.msg)
			}
			if tc.fault == fake.FaultTruncate && got.Len() == 0 {
				t.Fatal("the truncated stream delivered no deltas before it broke")
			}
		})
	}
}

// TestStreamEvents covers stream endings the fake does not produce: an error event after some
// text, a safety stop mid-answer, a clean end with no finish reason, a broken connection.
func TestStreamEvents(t *testing.T) {
	t.Parallel()
	const text = `data: {"candidates": [{"content": {"parts": [{"text": "Hello"}], "role": "model"}, "index": 0}]}` + "\r\n\r\n"
	for _, tc := range []struct {
		name string
		body string
		code electrons.Code
	}{
		{"error event", text + `data: {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}` + "\r\n\r\n", electrons.CodeOverloaded},
		{"rate limit event", text + `data: {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"}]}}` + "\r\n\r\n", electrons.CodeRateLimited},
		{"safety stop", text + `data: {"candidates": [{"content": {"parts": [{"text": ""}], "role": "model"}, "finishReason": "SAFETY", "index": 0}]}` + "\r\n\r\n", electrons.CodeContentPolicy},
		{"no finish reason", text + text, electrons.CodeServerError},
		{"cut mid event", text + `data: {"candidates": [{"content": {"parts": [{"te`, electrons.CodeServerError},
		{"not sse", "<html>oops</html>", electrons.CodeServerError},
		{"odd finish", text + `data: {"candidates": [{"finishReason": "OTHER", "index": 0}]}` + "\r\n\r\n", electrons.CodeBadOutput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, "/v1beta/models/"+textModel+":streamGenerateContent") || r.URL.Query().Get("alt") != "sse" {
					t.Errorf("unexpected request %s", r.URL)
				}
				w.Header().Set("Content-Type", "text/event-stream")
				_, _ = io.WriteString(w, tc.body)
			})
			call := textCall("hi")
			call.OnDelta = func(string) {}
			_, err := p.Generate(context.Background(), call)
			e := wantCode(t, err, tc.code)
			if tc.name == "rate limit event" && e.RetryAfter != 3*time.Second {
				t.Fatalf("retry after = %v, want 3s", e.RetryAfter)
			}
		})
	}
}

func TestImage(t *testing.T) {
	t.Parallel()
	p, _ := setup(t)
	out := mustGenerate(t, p, providers.Call{TaskType: electrons.TaskImage, Model: imageModel,
		Input: electrons.Input{Prompt: "a lighthouse at dusk", Size: "1920x1080"}})
	if len(out.Files) != 1 || out.Files[0].ContentType != "image/png" || out.Files[0].URL != "" {
		t.Fatalf("files = %+v, want one PNG with its bytes", out.Files)
	}
	img, err := png.Decode(bytes.NewReader(out.Files[0].Data))
	if err != nil {
		t.Fatalf("decode the PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() <= b.Dy() {
		t.Fatalf("a 16:9 image is %dx%d", b.Dx(), b.Dy())
	}
}

func TestImageNoImage(t *testing.T) {
	t.Parallel()
	p := serve(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"candidates": [{"content": {"parts": [{"text": "I cannot draw that."}]}, "finishReason": "NO_IMAGE"}]}`)
	})
	_, err := p.Generate(context.Background(), providers.Call{TaskType: electrons.TaskImage, Model: imageModel, Input: electrons.Input{Prompt: "x"}})
	wantCode(t, err, electrons.CodeBadOutput)

	p = serve(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"candidates": [{"finishReason": "IMAGE_SAFETY"}]}`)
	})
	_, err = p.Generate(context.Background(), providers.Call{TaskType: electrons.TaskImage, Model: imageModel, Input: electrons.Input{Prompt: "x"}})
	wantCode(t, err, electrons.CodeContentPolicy)
}

func videoCall(opts map[string]any) providers.Call {
	return providers.Call{TaskType: electrons.TaskVideo, Model: videoModel,
		Input: electrons.Input{Prompt: "waves on a beach", Size: "1280x720", Options: opts}}
}

func TestVideo(t *testing.T) {
	t.Parallel()
	p, fs := setup(t)
	fs.Configure("gemini.operation", fake.RouteConfig{PollsUntilDone: 2})
	call := videoCall(nil)
	out := mustGenerate(t, p, call)
	if out.Pending == nil || !strings.HasPrefix(out.Pending.Handle, "models/"+videoModel+"/operations/") {
		t.Fatalf("output = %+v, want a pending operation", out)
	}
	if out.Pending.PollAfter != DefaultPollAfter || len(out.Files) != 0 {
		t.Fatalf("pending = %+v, files %d", out.Pending, len(out.Files))
	}
	handle := out.Pending.Handle

	out, err := p.Poll(context.Background(), call, handle)
	if err != nil {
		t.Fatalf("first poll: %v", err)
	}
	if out.Pending == nil || out.Pending.Handle != handle {
		t.Fatalf("first poll = %+v, want still pending", out)
	}
	out, err = p.Poll(context.Background(), call, handle)
	if err != nil {
		t.Fatalf("second poll: %v", err)
	}
	if out.Pending != nil || len(out.Files) != 1 {
		t.Fatalf("second poll = %+v, want the video", out)
	}
	f := out.Files[0]
	// The fake hosts the video on the API's own host, where the key is needed: the adapter
	// downloads it itself.
	if f.ContentType != "video/mp4" || len(f.Data) < 16 || string(f.Data[4:8]) != "ftyp" {
		t.Fatalf("file = %s %d bytes, want an MP4", f.ContentType, len(f.Data))
	}
}

func TestVideoPollAfter(t *testing.T) {
	t.Parallel()
	p, _ := setup(t)
	out := mustGenerate(t, p, videoCall(map[string]any{"poll_after_ms": 1500.0}))
	if out.Pending == nil || out.Pending.PollAfter != 1500*time.Millisecond {
		t.Fatalf("pending = %+v, want poll after 1.5s", out.Pending)
	}
	_, err := p.Generate(context.Background(), videoCall(map[string]any{"poll_after_ms": "soon"}))
	e := wantCode(t, err, electrons.CodeInvalidRequest)
	if e.Param != "input.options.poll_after_ms" {
		t.Fatalf("param = %q", e.Param)
	}
}

// TestVideoOtherHost: a video URI away from the API's host is handed to the worker as a URL,
// and a plain GET fetches it.
func TestVideoOtherHost(t *testing.T) {
	t.Parallel()
	fs := fake.New()
	ts := httptest.NewServer(fs.Handler())
	t.Cleanup(ts.Close)
	fs.BaseURL = strings.Replace(ts.URL, "127.0.0.1", "localhost", 1)
	fs.Configure("gemini.operation", fake.RouteConfig{PollsUntilDone: 1})
	p := New(Config{APIKey: "test-key", BaseURL: ts.URL})
	call := videoCall(nil)
	out := mustGenerate(t, p, call)
	out, err := p.Poll(context.Background(), call, out.Pending.Handle)
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	if len(out.Files) != 1 || out.Files[0].URL == "" || len(out.Files[0].Data) != 0 || out.Files[0].ContentType != "video/mp4" {
		t.Fatalf("files = %+v, want one URL", out.Files)
	}
	if strings.Contains(out.Files[0].URL, "test-key") {
		t.Fatal("the API key is in the URL")
	}
	resp, err := http.Get(out.Files[0].URL)
	if err != nil {
		t.Fatalf("GET the video: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(b) < 16 || string(b[4:8]) != "ftyp" {
		t.Fatalf("GET the video: %s, %d bytes", resp.Status, len(b))
	}
}

func TestVideoFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		op   string // the operation's JSON
		code electrons.Code
	}{
		{"rpc quota", `{"name": "models/veo/operations/a", "done": true, "error": {"code": 8, "message": "Resource exhausted."}}`, electrons.CodeRateLimited},
		{"rpc internal", `{"name": "models/veo/operations/a", "done": true, "error": {"code": 13, "message": "Internal error."}}`, electrons.CodeServerError},
		{"refused prompt", `{"name": "models/veo/operations/a", "done": true, "error": {"code": 3, "message": "The prompt could not be submitted. It violates our usage guidelines."}}`, electrons.CodeContentPolicy},
		{"filtered", `{"name": "models/veo/operations/a", "done": true, "response": {"generateVideoResponse": {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["celebrity"]}}}`, electrons.CodeContentPolicy},
		{"no samples", `{"name": "models/veo/operations/a", "done": true, "response": {"generateVideoResponse": {}}}`, electrons.CodeBadOutput},
		{"bad uri", `{"name": "models/veo/operations/a", "done": true, "response": {"generateVideoResponse": {"generatedSamples": [{"video": {"uri": "ftp://x/y"}}]}}}`, electrons.CodeBadOutput},
		{"shape", `{"name": "models/veo/operations/a", "done": true, "response": {"generateVideoResponse": "oops"}}`, electrons.CodeServerError},
		{"not json", `<html>`, electrons.CodeServerError},
		{"bad name", `{"name": "../../etc"}`, electrons.CodeServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || r.URL.Path != "/v1beta/models/veo/operations/a" || r.Header.Get("x-goog-api-key") != "test-key" {
					t.Errorf("unexpected request %s %s", r.Method, r.URL)
				}
				_, _ = io.WriteString(w, tc.op)
			})
			_, err := p.Poll(context.Background(), videoCall(nil), "models/veo/operations/a")
			wantCode(t, err, tc.code)
		})
	}
}

func TestVideoVideoBytes(t *testing.T) {
	t.Parallel()
	p := serve(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"name": "models/veo/operations/a", "done": true, "response": {"generateVideoResponse": {"generatedSamples": [{"video": {"encodedVideo": "AAAAGGZ0eXA=", "encoding": "video/mp4"}}]}}}`)
	})
	out, err := p.Poll(context.Background(), videoCall(nil), "models/veo/operations/a")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	if len(out.Files) != 1 || string(out.Files[0].Data[4:8]) != "ftyp" {
		t.Fatalf("files = %+v", out.Files)
	}
}

func TestVideoDownloadRefused(t *testing.T) {
	t.Parallel()
	var base string
	p := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/files/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}}`)
			return
		}
		_, _ = io.WriteString(w, `{"name": "models/veo/operations/a", "done": true, "response": {"generateVideoResponse": {"generatedSamples": [{"video": {"uri": "`+base+`/v1beta/files/abc:download?alt=media"}}]}}}`)
	})
	base = "http://" + p.apiHost
	_, err := p.Poll(context.Background(), videoCall(nil), "models/veo/operations/a")
	wantCode(t, err, electrons.CodeAuthFailed)
}

func TestPollBadHandle(t *testing.T) {
	t.Parallel()
	p, fs := setup(t)
	for _, h := range []string{"", "abc", "models/../operations/x", "/operations/x", "operations/x?key=1", "models/veo/operations/unknown"} {
		// The last one is well-formed; the fake answers it 404 NOT_FOUND.
		_, err := p.Poll(context.Background(), videoCall(nil), h)
		wantCode(t, err, electrons.CodeInvalidRequest)
	}
	if n := fs.Stats()["gemini.operation"].Requests; n != 1 {
		t.Fatalf("the operation route saw %d requests; only the well-formed handle should reach it", n)
	}
}

// TestFaults runs every fault the fake can inject on every route and checks the domain code.
func TestFaults(t *testing.T) {
	t.Parallel()
	type route struct {
		name string
		call providers.Call
	}
	streamCall := textCall("stream please")
	streamCall.OnDelta = func(string) {}
	routes := []route{
		{"gemini.generate", textCall("hello there")},
		{"gemini.stream", streamCall},
		{"gemini.video", videoCall(nil)},
	}
	faults := []struct {
		fault string
		code  electrons.Code
	}{
		{fake.FaultRateLimit, electrons.CodeRateLimited},
		{fake.FaultQuota, electrons.CodeQuotaExhausted},
		{fake.FaultOverloaded, electrons.CodeOverloaded},
		{fake.FaultServer, electrons.CodeServerError},
		{fake.FaultInvalid, electrons.CodeInvalidRequest},
		{fake.FaultAuth, electrons.CodeAuthFailed},
		{fake.FaultContentPolicy, electrons.CodeContentPolicy},
		{fake.FaultMalformed, electrons.CodeServerError},
		{fake.FaultTruncate, electrons.CodeServerError},
		{fake.FaultTimeout, electrons.CodeTimeout},
	}
	for _, rt := range routes {
		for _, f := range faults {
			t.Run(rt.name+"/"+f.fault, func(t *testing.T) {
				t.Parallel()
				p, fs := setup(t)
				fs.Configure(rt.name, fake.RouteConfig{Faults: map[string]float64{f.fault: 1}})
				ctx := context.Background()
				if f.fault == fake.FaultTimeout {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
					defer cancel()
				}
				out, err := p.Generate(ctx, rt.call)
				if out != nil {
					t.Fatalf("output %+v on a fault", out)
				}
				e := wantCode(t, err, f.code)
				switch f.fault {
				case fake.FaultRateLimit:
					if e.RetryAfter != 2*time.Second {
						t.Fatalf("retry after = %v, want the RetryInfo's 2s", e.RetryAfter)
					}
				case fake.FaultQuota:
					if e.RetryAfter != 0 {
						t.Fatalf("retry after = %v on a daily quota", e.RetryAfter)
					}
				}
				// The SDK must not have retried: one request per call, whatever the error.
				if n := fs.Stats()[rt.name].Requests; n != 1 {
					t.Fatalf("%s saw %d requests, want 1", rt.name, n)
				}
			})
		}
	}
}

func TestPollFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fault string
		code  electrons.Code
	}{
		{fake.FaultRateLimit, electrons.CodeRateLimited},
		{fake.FaultServer, electrons.CodeServerError},
		{fake.FaultContentPolicy, electrons.CodeContentPolicy},
		{fake.FaultMalformed, electrons.CodeServerError},
		{fake.FaultTruncate, electrons.CodeServerError},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			t.Parallel()
			p, fs := setup(t)
			call := videoCall(nil)
			out := mustGenerate(t, p, call)
			fs.Configure("gemini.operation", fake.RouteConfig{Faults: map[string]float64{tc.fault: 1}})
			_, err := p.Poll(context.Background(), call, out.Pending.Handle)
			wantCode(t, err, tc.code)
		})
	}
}

// TestLimit: the fake enforces a limit of its own. Gemini reports it in no header, so the
// answers carry no limit state; the refusal's RetryInfo says how long until the window resets,
// and the fake counts the refusal.
func TestLimit(t *testing.T) {
	t.Parallel()
	p, fs := setup(t)
	fs.Configure("gemini.generate", fake.RouteConfig{Limit: &fake.Limit{Requests: 2, WindowMS: 30_000}})
	for i := range 2 {
		out := mustGenerate(t, p, textCall("within the limit"))
		if out.Limits != nil {
			t.Fatalf("answer %d has limits %+v", i, out.Limits)
		}
	}
	_, err := p.Generate(context.Background(), textCall("over the limit"))
	e := wantCode(t, err, electrons.CodeRateLimited)
	if e.RetryAfter < time.Second || e.RetryAfter > 30*time.Second {
		t.Fatalf("retry after = %v, want up to the 30s window", e.RetryAfter)
	}
	if got := fs.Stats()["gemini.generate"]; got.Refused != 1 || got.Requests != 3 {
		t.Fatalf("stats = %+v, want 3 requests and 1 refused", got)
	}
}

func TestTokenLimit(t *testing.T) {
	t.Parallel()
	p, fs := setup(t)
	// A one-token budget: every request is refused, with RESOURCE_EXHAUSTED as Google does.
	fs.Configure("gemini.video", fake.RouteConfig{Limit: &fake.Limit{Requests: 0, Tokens: 1}})
	_, err := p.Generate(context.Background(), videoCall(nil))
	wantCode(t, err, electrons.CodeRateLimited)
	if got := fs.Stats()["gemini.video"].Refused; got != 1 {
		t.Fatalf("refused = %d, want 1", got)
	}
}

func TestWrongKey(t *testing.T) {
	t.Parallel()
	p, fs := setup(t)
	fs.SetKeys("another-key")
	_, err := p.Generate(context.Background(), textCall("hello"))
	wantCode(t, err, electrons.CodeAuthFailed)
}

func TestBadCalls(t *testing.T) {
	t.Parallel()
	p, fs := setup(t)
	for _, tc := range []struct {
		name  string
		call  providers.Call
		param string
	}{
		{"audio", providers.Call{TaskType: electrons.TaskAudio, Model: textModel, Input: electrons.Input{Prompt: "x"}}, "task_type"},
		{"no prompt", textCall("  "), "prompt"},
		{"no image prompt", providers.Call{TaskType: electrons.TaskImage, Model: imageModel}, "prompt"},
		{"bad size", providers.Call{TaskType: electrons.TaskImage, Model: imageModel, Input: electrons.Input{Prompt: "x", Size: "big"}}, "size"},
		{"bad temperature", providers.Call{TaskType: electrons.TaskText, Model: textModel, Input: electrons.Input{Prompt: "x", Options: map[string]any{"temperature": true}}}, "input.options.temperature"},
		{"bad duration", videoCall(map[string]any{"duration_seconds": 600.0}), "input.options.duration_seconds"},
	} {
		_, err := p.Generate(context.Background(), tc.call)
		e := wantCode(t, err, electrons.CodeInvalidRequest)
		if e.Param != tc.param {
			t.Fatalf("%s: param = %q, want %q", tc.name, e.Param, tc.param)
		}
		if !strings.HasPrefix(e.Message, "gemini: ") {
			t.Fatalf("%s: message %q does not name the provider", tc.name, e.Message)
		}
	}
	for name, st := range fs.Stats() {
		if strings.HasPrefix(name, "gemini.") && st.Requests != 0 {
			t.Fatalf("%s saw %d requests for calls refused before sending", name, st.Requests)
		}
	}
}

// TestMalformedShapes: JSON of the wrong shape makes the SDK's converters panic; the adapter
// turns that into an error.
func TestMalformedShapes(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"candidates": "x"}`, `{"candidates": [1]}`, `[]`, `{"candidates": [{"content": {"parts": "x"}}]}`} {
		p := serve(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) })
		_, err := p.Generate(context.Background(), textCall("x"))
		var e *electrons.Error
		if !errors.As(err, &e) || (e.Code != electrons.CodeServerError && e.Code != electrons.CodeBadOutput) {
			t.Fatalf("%s: error = %v, want server_error or bad_output", body, err)
		}
	}
}

// TestEnvironment: without a key the adapter refuses every call and does not take one from the
// environment; with one, GOOGLE_GEMINI_BASE_URL cannot move it off the configured base URL.
func TestEnvironment(t *testing.T) {
	t.Setenv("GEMINI_API_KEY", "env-key")
	t.Setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
	t.Setenv("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:1/")

	_, err := New(Config{}).Generate(context.Background(), textCall("x"))
	wantCode(t, err, electrons.CodeAuthFailed)

	p, fs := setup(t)
	mustGenerate(t, p, textCall("still reaches the configured server"))
	if n := fs.Stats()["gemini.generate"].Requests; n != 1 {
		t.Fatalf("the configured server saw %d requests, want 1", n)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	retry := map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}
	perMinute := map[string]any{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []any{
		map[string]any{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}}}
	perDay := map[string]any{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []any{
		map[string]any{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"},
		map[string]any{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}}}
	keyInvalid := map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
	for _, tc := range []struct {
		g     googleError
		code  electrons.Code
		retry time.Duration
	}{
		{googleError{429, "quota", "RESOURCE_EXHAUSTED", []map[string]any{perMinute, retry}}, electrons.CodeRateLimited, 1500 * time.Millisecond},
		{googleError{429, "quota", "RESOURCE_EXHAUSTED", []map[string]any{perDay, retry}}, electrons.CodeQuotaExhausted, 1500 * time.Millisecond},
		{googleError{429, "quota", "RESOURCE_EXHAUSTED", nil}, electrons.CodeRateLimited, 0},
		{googleError{503, "overloaded", "UNAVAILABLE", nil}, electrons.CodeOverloaded, 0},
		{googleError{500, "internal", "INTERNAL", nil}, electrons.CodeServerError, 0},
		{googleError{504, "deadline", "DEADLINE_EXCEEDED", nil}, electrons.CodeTimeout, 0},
		{googleError{401, "no", "UNAUTHENTICATED", nil}, electrons.CodeAuthFailed, 0},
		{googleError{403, "no", "PERMISSION_DENIED", nil}, electrons.CodeAuthFailed, 0},
		{googleError{400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT", nil}, electrons.CodeAuthFailed, 0},
		{googleError{400, "bad", "INVALID_ARGUMENT", []map[string]any{keyInvalid}}, electrons.CodeAuthFailed, 0},
		{googleError{400, "bad", "INVALID_ARGUMENT", nil}, electrons.CodeInvalidRequest, 0},
		{googleError{400, "User location is not supported for the API use.", "FAILED_PRECONDITION", nil}, electrons.CodeInvalidRequest, 0},
		{googleError{404, "models/x is not found", "NOT_FOUND", nil}, electrons.CodeInvalidRequest, 0},
		{googleError{502, "<html>", "502 Bad Gateway", nil}, electrons.CodeServerError, 0},
		{googleError{429, "", "429 Too Many Requests", nil}, electrons.CodeRateLimited, 0},
		{googleError{0, "", "", nil}, electrons.CodeServerError, 0},
	} {
		e := fromStatus(tc.g, nil)
		if e.Code != tc.code || e.RetryAfter != tc.retry {
			t.Errorf("%+v: code %s retry %v, want %s %v", tc.g, e.Code, e.RetryAfter, tc.code, tc.retry)
		}
		if !strings.HasPrefix(e.Message, "gemini: ") {
			t.Errorf("message %q", e.Message)
		}
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30s", 30 * time.Second, true},
		{"1.5s", 1500 * time.Millisecond, true},
		{"0.000000001s", 1, true},
		{"20.044661790s", 20044661790, true},
		{"0s", 0, true},
		{"999999999999999999999s", maxDelay, true},
		{"90000s", maxDelay, true},
		{"", 0, false},
		{"s", 0, false},
		{"30", 0, false},
		{"-1s", 0, false},
		{"1.s", 0, false},
		{".5s", 0, false},
		{"1.0000000001s", 0, false},
		{"1e3s", 0, false},
		{"NaNs", 0, false},
		{"1m", 0, false},
	} {
		got, ok := parseDuration(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAspectRatio(t *testing.T) {
	t.Parallel()
	for size, want := range map[string]string{"": "", "1024x1024": "1:1", "1920x1080": "16:9", "1080x1920": "9:16", "1200x900": "4:3", "2560x1080": "21:9"} {
		got, err := aspectRatio(size, imageAspects)
		if err != nil || got != want {
			t.Errorf("aspectRatio(%q) = %q, %v; want %q", size, got, err, want)
		}
	}
}

// TestStreamDeadline: a stream that stalls past the caller's deadline is a timeout, even after
// some text came.
func TestStreamDeadline(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	p := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"candidates": [{"content": {"parts": [{"text": "Hello"}]}}]}`+"\r\n\r\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var got string
	call := textCall("hi")
	call.OnDelta = func(s string) { got += s }
	_, err := p.Generate(ctx, call)
	wantCode(t, err, electrons.CodeTimeout)
	if got != "Hello" {
		t.Fatalf("deltas before the stall = %q", got)
	}
}

// TestCallerPanic: a panic in the caller's OnDelta is the caller's bug and is not dressed up as
// a malformed answer.
func TestCallerPanic(t *testing.T) {
	t.Parallel()
	p, _ := setup(t)
	call := textCall("hello")
	call.OnDelta = func(string) { panic("caller bug") }
	defer func() {
		if r := recover(); r != "caller bug" {
			t.Fatalf("recovered %v, want the caller's panic", r)
		}
	}()
	_, _ = p.Generate(context.Background(), call)
	t.Fatal("Generate returned")
}

// TestLatency: with latency configured, the fake still reads the whole request.
func TestLatency(t *testing.T) {
	t.Parallel()
	p, fs := setup(t)
	fs.Configure("gemini.", fake.RouteConfig{LatencyMinMS: 1, LatencyMaxMS: 3})
	mustGenerate(t, p, textCall("slow but fine"))
	call := textCall("slow stream")
	call.OnDelta = func(string) {}
	mustGenerate(t, p, call)
	if out := mustGenerate(t, p, videoCall(nil)); out.Pending == nil {
		t.Fatalf("video = %+v", out)
	}
}
