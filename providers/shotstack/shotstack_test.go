package shotstack

import (
	"context"
	"encoding/json"
	"errors"
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

const testKey = "shotstack-test-key"

// setup starts a fake server and a provider pointed at it. The server speaks HTTP/2, as
// Shotstack's does: there a client that gives up resets its stream, which ends the fake's
// handler of a timeout fault even though that handler never read the POST's body (over
// HTTP/1.1 the server notices a closed connection only once the body has been read).
func setup(t *testing.T) (*fake.Server, *httptest.Server, *Provider) {
	t.Helper()
	fs := fake.New()
	ts := httptest.NewUnstartedServer(fs.Handler())
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	fs.BaseURL = ts.URL
	return fs, ts, New(Config{APIKey: testKey, BaseURL: ts.URL, HTTPClient: ts.Client()})
}

const helloTimeline = `{"background":"#000000","tracks":[{"clips":[{"asset":{"type":"title","text":"Hello World","style":"minimal"},"start":0,"length":5}]}]}`

func videoCall(in electrons.Input) providers.Call {
	return providers.Call{RequestID: "req_test", TaskType: electrons.TaskVideo, Model: "shotstack-render", Input: in}
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
	if !strings.Contains(e.Error(), "shotstack") {
		t.Fatalf("error %q does not name the provider", e.Error())
	}
	return e
}

// render queues call and polls until the render is no longer pending, returning every Output.
func render(t *testing.T, p *Provider, call providers.Call) ([]*providers.Output, error) {
	t.Helper()
	out, err := p.Generate(context.Background(), call)
	if err != nil {
		return nil, err
	}
	outs := []*providers.Output{out}
	for i := 0; out.Pending != nil; i++ {
		if i > 20 {
			t.Fatal("the render never finished")
		}
		out, err = p.Poll(context.Background(), call, out.Pending.Handle)
		if err != nil {
			return outs, err
		}
		outs = append(outs, out)
	}
	return outs, nil
}

func TestName(t *testing.T) {
	t.Parallel()
	if got := New(Config{}).Name(); got != "shotstack" {
		t.Fatalf("Name() = %q", got)
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		in    electrons.Input
		polls int
	}{
		{"timeline", electrons.Input{Timeline: json.RawMessage(helloTimeline)}, 2},
		{"edit", electrons.Input{Timeline: json.RawMessage(`{"timeline":` + helloTimeline + `,"output":{"format":"mp4","resolution":"hd"}}`)}, 3},
		{"prompt", electrons.Input{Prompt: "A sunrise. Then the sea!", Size: "640x360"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs, ts, p := setup(t)
			fs.Configure("shotstack.", fake.RouteConfig{PollsUntilDone: tc.polls})
			outs, err := render(t, p, videoCall(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(outs) != tc.polls+1 {
				t.Fatalf("%d outputs, want the render then %d polls", len(outs), tc.polls)
			}
			id := outs[0].Pending.Handle
			if len(id) != 36 || outs[0].Pending.PollAfter != DefaultPollAfter {
				t.Fatalf("pending = %+v", outs[0].Pending)
			}
			for _, o := range outs[1 : len(outs)-1] {
				if o.Pending == nil || o.Pending.Handle != id || len(o.Files) != 0 {
					t.Fatalf("poll while rendering = %+v", o)
				}
			}
			done := outs[len(outs)-1]
			if len(done.Files) != 1 || done.Files[0].ContentType != "video/mp4" || !strings.HasPrefix(done.Files[0].URL, ts.URL) {
				t.Fatalf("done = %+v", done)
			}
			resp, err := ts.Client().Get(done.Files[0].URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if len(data) < 12 || string(data[4:8]) != "ftyp" || !strings.Contains(string(data), "moov") {
				t.Fatalf("the rendered video is not an MP4: % x", data[:min(len(data), 16)])
			}
		})
	}
}

func TestPollAfter(t *testing.T) {
	t.Parallel()
	_, _, p := setup(t)
	call := videoCall(electrons.Input{Timeline: json.RawMessage(helloTimeline), Options: map[string]any{"poll_after_ms": float64(1500)}})
	out, err := p.Generate(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if out.Pending.PollAfter != 1500*time.Millisecond {
		t.Fatalf("PollAfter = %v", out.Pending.PollAfter)
	}
	out, err = p.Poll(context.Background(), call, out.Pending.Handle)
	if err != nil || out.Pending == nil || out.Pending.PollAfter != 1500*time.Millisecond {
		t.Fatalf("poll = %+v, %v", out, err)
	}
	configured := New(Config{BaseURL: "http://127.0.0.1:1", PollAfter: time.Minute})
	if d, _ := configured.pollAfterOf(electrons.Input{}); d != time.Minute {
		t.Fatalf("configured PollAfter = %v", d)
	}
}

func TestRenderFails(t *testing.T) {
	t.Parallel()
	_, _, p := setup(t)
	outs, err := render(t, p, videoCall(electrons.Input{Timeline: json.RawMessage(`{"tracks":[]}`)}))
	e := wantCode(t, err, electrons.CodeInvalidRequest)
	if !strings.Contains(e.Message, outs[0].Pending.Handle) || !strings.Contains(e.Message, "no tracks") {
		t.Fatalf("message %q", e.Message)
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	_, _, p := setup(t)
	for _, tc := range []struct {
		name  string
		call  providers.Call
		param string
	}{
		{"task", providers.Call{TaskType: electrons.TaskImage, Input: electrons.Input{Prompt: "x"}}, "task_type"},
		{"nothing", videoCall(electrons.Input{}), "input.timeline"},
		{"null", videoCall(electrons.Input{Timeline: json.RawMessage(`null`)}), "input.timeline"},
		{"array", videoCall(electrons.Input{Timeline: json.RawMessage(`[1,2]`)}), "input.timeline"},
		{"neither", videoCall(electrons.Input{Timeline: json.RawMessage(`{"clips":[]}`)}), "input.timeline"},
		{"size", videoCall(electrons.Input{Timeline: json.RawMessage(helloTimeline), Size: "641x360"}), "input.size"},
		{"poll_after_ms", videoCall(electrons.Input{Timeline: json.RawMessage(helloTimeline), Options: map[string]any{"poll_after_ms": -1}}), "input.options.poll_after_ms"},
		{"callback", videoCall(electrons.Input{Timeline: json.RawMessage(helloTimeline), Options: map[string]any{"callback": "ftp://x"}}), "input.options.callback"},
		{"callback type", videoCall(electrons.Input{Timeline: json.RawMessage(helloTimeline), Options: map[string]any{"callback": 42}}), "input.options.callback"},
		// The fake, like Shotstack, refuses an edit without an output format.
		{"format", videoCall(electrons.Input{Timeline: json.RawMessage(`{"timeline":` + helloTimeline + `,"output":{"resolution":"sd"}}`)}), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := p.Generate(context.Background(), tc.call)
			if e := wantCode(t, err, electrons.CodeInvalidRequest); e.Param != tc.param {
				t.Fatalf("param = %q, want %q", e.Param, tc.param)
			}
		})
	}
	_, err := p.Poll(context.Background(), videoCall(electrons.Input{}), "../etc")
	wantCode(t, err, electrons.CodeInvalidRequest)
	_, err = p.Poll(context.Background(), videoCall(electrons.Input{}), "2abd5c11-0f3d-4c6d-ba20-235fc9b8e8b7")
	if e := wantCode(t, err, electrons.CodeInvalidRequest); !strings.Contains(e.Message, "404") {
		t.Fatalf("unknown render: %v", e)
	}
}

func TestBuildEdit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   electrons.Input
		want string
	}{
		{"timeline", electrons.Input{Timeline: json.RawMessage(`{"tracks":[]}`)},
			`{"output":{"format":"mp4","resolution":"sd"},"timeline":{"tracks":[]}}`},
		{"sized", electrons.Input{Timeline: json.RawMessage(`{"tracks":[]}`), Size: "1080x1920"},
			`{"output":{"format":"mp4","size":{"height":1920,"width":1080}},"timeline":{"tracks":[]}}`},
		{"edit kept", electrons.Input{Timeline: json.RawMessage(`{"timeline":{"tracks":[]},"output":{"format":"gif","resolution":"preview"},"merge":[]}`), Size: "10x10"},
			`{"merge":[],"output":{"format":"gif","resolution":"preview"},"timeline":{"tracks":[]}}`},
		{"edit without output", electrons.Input{Timeline: json.RawMessage(`{"timeline":{"tracks":[]}}`)},
			`{"output":{"format":"mp4","resolution":"sd"},"timeline":{"tracks":[]}}`},
		{"callback", electrons.Input{Timeline: json.RawMessage(`{"tracks":[]}`), Options: map[string]any{"callback": "https://hooks.example/ss"}},
			`{"callback":"https://hooks.example/ss","output":{"format":"mp4","resolution":"sd"},"timeline":{"tracks":[]}}`},
		{"edit's callback wins", electrons.Input{Timeline: json.RawMessage(`{"timeline":{"tracks":[]},"callback":"https://a.example"}`), Options: map[string]any{"callback": "https://b.example"}},
			`{"callback":"https://a.example","output":{"format":"mp4","resolution":"sd"},"timeline":{"tracks":[]}}`},
		{"prompt", electrons.Input{Prompt: "One. Two"},
			`{"output":{"format":"mp4","resolution":"sd"},"timeline":{"background":"#000000","tracks":[{"clips":[` +
				`{"asset":{"style":"minimal","text":"One","type":"title"},"length":3,"start":0},` +
				`{"asset":{"style":"minimal","text":"Two","type":"title"},"length":3,"start":3}]}]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := buildEdit(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fault    string
		code     electrons.Code
		minRetry time.Duration
	}{
		{fake.FaultRateLimit, electrons.CodeRateLimited, time.Second},
		{fake.FaultConcurrency, electrons.CodeRateLimited, time.Second},
		{fake.FaultQuota, electrons.CodeQuotaExhausted, 0},
		{fake.FaultAuth, electrons.CodeAuthFailed, 0},
		{fake.FaultInvalid, electrons.CodeInvalidRequest, 0},
		{fake.FaultContentPolicy, electrons.CodeInvalidRequest, 0},
		{fake.FaultServer, electrons.CodeServerError, 0},
		{fake.FaultOverloaded, electrons.CodeServerError, 0},
		{fake.FaultMalformed, electrons.CodeServerError, 0},
		{fake.FaultTruncate, electrons.CodeServerError, 0},
		{fake.FaultTimeout, electrons.CodeTimeout, 0},
	} {
		for _, route := range []string{"shotstack.render", "shotstack.status"} {
			t.Run(tc.fault+"/"+route, func(t *testing.T) {
				t.Parallel()
				fs, _, p := setup(t)
				call := videoCall(electrons.Input{Timeline: json.RawMessage(helloTimeline)})
				handle := ""
				if route == "shotstack.status" {
					out, err := p.Generate(context.Background(), call)
					if err != nil {
						t.Fatal(err)
					}
					handle = out.Pending.Handle
				}
				fs.Configure(route, fake.RouteConfig{Faults: map[string]float64{tc.fault: 1}})
				ctx := context.Background()
				if tc.fault == fake.FaultTimeout {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
					defer cancel()
				}
				var err error
				if handle == "" {
					_, err = p.Generate(ctx, call)
				} else {
					_, err = p.Poll(ctx, call, handle)
				}
				e := wantCode(t, err, tc.code)
				if e.RetryAfter < tc.minRetry || e.RetryAfter > time.Minute {
					t.Fatalf("RetryAfter = %v, want at least %v", e.RetryAfter, tc.minRetry)
				}
				if got := fs.Stats()[route].Faults; got != 1 {
					t.Fatalf("fake counted %d faults, want 1", got)
				}
			})
		}
	}
}

func TestLimit(t *testing.T) {
	t.Parallel()
	fs, _, p := setup(t)
	fs.Configure("shotstack.render", fake.RouteConfig{Limit: &fake.Limit{Requests: 1, WindowMS: 30_000}})
	call := videoCall(electrons.Input{Timeline: json.RawMessage(helloTimeline)})
	out, err := p.Generate(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if out.Limits != nil {
		t.Fatalf("limits = %+v: Shotstack reports none", out.Limits)
	}
	_, err = p.Generate(context.Background(), call)
	e := wantCode(t, err, electrons.CodeRateLimited)
	if e.RetryAfter < time.Second || e.RetryAfter > 30*time.Second {
		t.Fatalf("RetryAfter = %v, want the rest of the window", e.RetryAfter)
	}
	if st := fs.Stats()["shotstack.render"]; st.Refused != 1 || st.Requests != 2 {
		t.Fatalf("stats = %+v, want 2 requests, 1 refused", st)
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	fs, ts, p := setup(t)
	fs.SetKeys(testKey)
	call := videoCall(electrons.Input{Timeline: json.RawMessage(helloTimeline)})
	if _, err := p.Generate(context.Background(), call); err != nil {
		t.Fatalf("right key: %v", err)
	}
	_, err := New(Config{APIKey: "wrong", BaseURL: ts.URL, HTTPClient: ts.Client()}).Generate(context.Background(), call)
	wantCode(t, err, electrons.CodeAuthFailed)
}

func TestEnv(t *testing.T) {
	t.Parallel()
	var paths []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path+" "+r.Header.Get("x-api-key"))
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"success":true,"message":"Created","response":{"message":"Render Successfully Queued","id":"d2b46ed6-998a-4d6b-9d91-b8cf0193a655"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"success":true,"message":"OK","response":{"id":"d2b46ed6-998a-4d6b-9d91-b8cf0193a655","owner":"o","status":"done","url":"https://cdn.example/x.gif"}}`))
	}))
	defer ts.Close()
	p := New(Config{APIKey: "k", BaseURL: ts.URL + "/", Env: "v1"})
	call := videoCall(electrons.Input{Timeline: json.RawMessage(helloTimeline)})
	out, err := p.Generate(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	done, err := p.Poll(context.Background(), call, out.Pending.Handle)
	if err != nil {
		t.Fatal(err)
	}
	if done.Files[0].ContentType != "image/gif" {
		t.Fatalf("content type %q for a GIF render", done.Files[0].ContentType)
	}
	want := []string{"POST /edit/v1/render k", "GET /edit/v1/render/d2b46ed6-998a-4d6b-9d91-b8cf0193a655 k"}
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Fatalf("paths = %q, want %q", paths, want)
	}
}

func TestStatusMapping(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		status int
		header http.Header
		body   string
		code   electrons.Code
		retry  time.Duration
		msg    string
	}{
		{400, nil, `{"success":false,"message":"Bad Request","response":{"error":{"name":"ValidationError","details":[{"message":"\"tracks\" is required","path":["timeline","tracks"],"type":"any.required"}]}}}`,
			electrons.CodeInvalidRequest, 0, `Bad Request: ValidationError: "tracks" is required`},
		{401, nil, `{"message":"Unauthorized"}`, electrons.CodeAuthFailed, 0, "Unauthorized"},
		{403, nil, `{"message":"Forbidden"}`, electrons.CodeAuthFailed, 0, "Forbidden"},
		{402, nil, `{"success":false,"message":"Payment Required","response":"no credits"}`, electrons.CodeQuotaExhausted, 0, "Payment Required: no credits"},
		{404, nil, `{"success":false,"message":"Not Found","response":{"message":"Render not found"}}`, electrons.CodeInvalidRequest, 0, "Not Found: Render not found"},
		{408, nil, ``, electrons.CodeInvalidRequest, 0, "Request Timeout"},
		{429, http.Header{"Retry-After": {"3"}}, `{"message":"Too Many Requests"}`, electrons.CodeRateLimited, 3 * time.Second, "Too Many Requests"},
		{429, nil, ``, electrons.CodeRateLimited, time.Second, "Too Many Requests"},
		{500, nil, `<html>oops</html>`, electrons.CodeServerError, 0, "Internal Server Error"},
		{502, nil, `{"message":"Internal server error"}`, electrons.CodeServerError, 0, "Internal server error"},
		{503, nil, ``, electrons.CodeServerError, 0, ""},
		{504, nil, `{"message": "Endpoint request timed out"}`, electrons.CodeServerError, 0, "timed out"},
	} {
		e := statusError(tc.status, tc.header, []byte(tc.body), now)
		if e.Code != tc.code || e.RetryAfter != tc.retry || !strings.Contains(e.Message, tc.msg) || !strings.HasPrefix(e.Message, "shotstack: ") {
			t.Errorf("%d %s: got %s %v %q", tc.status, tc.body, e.Code, e.RetryAfter, e.Message)
		}
	}
}

func TestRenderFailure(t *testing.T) {
	t.Parallel()
	for msg, code := range map[string]electrons.Code{
		"Invalid edit: the timeline has no tracks":                  electrons.CodeInvalidRequest,
		"The edit failed validation: clip length must be positive":  electrons.CodeInvalidRequest,
		"Render failed due to an internal error, please try again.": electrons.CodeServerError,
		"": electrons.CodeServerError,
	} {
		e := renderFailure("abc", msg)
		if e.Code != code || !strings.Contains(e.Message, "abc") {
			t.Errorf("%q: %s %q", msg, e.Code, e.Message)
		}
	}
}

func TestParseCallback(t *testing.T) {
	t.Parallel()
	const id = "2abd5c11-0f3d-4c6d-ba20-235fc9b8e8b7"
	for _, tc := range []struct {
		name, body, status, url string
		bad                     bool
	}{
		{"done", `{"type":"edit","action":"render","id":"` + id + `","owner":"5ca6hu7s9k","status":"done",` +
			`"url":"https://shotstack-api-v1-output.s3-ap-southeast-2.amazonaws.com/5ca6hu7s9k/` + id + `.mp4","error":null,"completed":"2020-10-30T09:42:39.168Z"}`,
			StatusDone, "https://shotstack-api-v1-output.s3-ap-southeast-2.amazonaws.com/5ca6hu7s9k/" + id + ".mp4", false},
		{"failed", `{"type":"edit","action":"render","id":"` + id + `","owner":"o","status":"failed","url":null,"error":"Invalid asset","completed":"2020-10-30T09:42:39.168Z"}`,
			StatusFailed, "", false},
		{"failed keeps no url", `{"type":"edit","action":"render","id":"` + id + `","status":"failed","url":"https://x.example/a.mp4"}`, StatusFailed, "", false},
		{"hosting", `{"type":"serve","action":"copy","id":"` + id + `","status":"ready","url":"https://cdn.shotstack.io/x.mp4"}`, "", "", true},
		{"no id", `{"type":"edit","action":"render","status":"done","url":"https://x.example/a.mp4"}`, "", "", true},
		{"done without url", `{"type":"edit","action":"render","id":"` + id + `","status":"done","url":null}`, "", "", true},
		{"unknown status", `{"type":"edit","action":"render","id":"` + id + `","status":"exploded"}`, "", "", true},
		{"not json", `id=` + id, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gotID, status, u, err := ParseCallback([]byte(tc.body))
			if tc.bad {
				if err == nil || gotID != "" {
					t.Fatalf("got %q %q %q, want an error", gotID, status, u)
				}
				return
			}
			if err != nil || gotID != id || status != tc.status || u != tc.url {
				t.Fatalf("got %q %q %q %v", gotID, status, u, err)
			}
		})
	}
}
