package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
	"github.com/distributed-electrons/electrons/providers/fake"
)

// fakeProviders starts the fake of every provider and returns the server settings that point
// each provider at it.
func fakeProviders(t *testing.T) (*fake.Server, map[string]string) {
	t.Helper()
	f := fake.New()
	ts := httptest.NewServer(f.Handler())
	t.Cleanup(ts.Close)
	f.BaseURL = ts.URL
	return f, map[string]string{
		"OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": ts.URL + "/v1",
		"ANTHROPIC_API_KEY": "sk-ant-fake", "ANTHROPIC_BASE_URL": ts.URL,
		"GEMINI_API_KEY": "gm-fake", "GEMINI_BASE_URL": ts.URL,
		"IDEOGRAM_API_KEY": "id-fake", "IDEOGRAM_BASE_URL": ts.URL,
		"ELEVENLABS_API_KEY": "el-fake", "ELEVENLABS_BASE_URL": ts.URL,
		"PEXELS_API_KEY": "px-fake", "PEXELS_BASE_URL": ts.URL,
		"SHOTSTACK_API_KEY": "ss-fake", "SHOTSTACK_BASE_URL": ts.URL,
		"OPENAI_COMPAT_BASE_URL": ts.URL + "/v1", "OPENAI_COMPAT_MODEL": "llama3.1",
	}
}

// TestEveryProviderEndToEnd runs a mixed run of each task type through every provider adapter,
// each pointed at the fake that speaks its wire format.
func TestEveryProviderEndToEnd(t *testing.T) {
	t.Parallel()
	f, env := fakeProviders(t)
	p := newPlatform(t)
	srv := p.start(env)
	c := apiClient(t, srv.URL, adminKey)
	ctx := context.Background()
	poll := map[string]any{"poll_after_ms": 100}
	cases := []struct {
		model string
		task  electrons.TaskType
		input electrons.Input
		files int
	}{
		{"claude-3-5-haiku", electrons.TaskText, electrons.Input{Prompt: "Write about harbours", MaxTokens: 64}, 0},
		{"gpt-4o-mini", electrons.TaskText, electrons.Input{Prompt: "Write about harbours", MaxTokens: 64}, 0},
		{"gemini-2.5-flash", electrons.TaskText, electrons.Input{Prompt: "Write about harbours", MaxTokens: 64}, 0},
		{"openaicompat-text", electrons.TaskText, electrons.Input{Prompt: "Write about harbours"}, 0},
		{"dall-e-3", electrons.TaskImage, electrons.Input{Prompt: "a harbour at dawn", Size: "1024x1024"}, 1},
		{"dall-e-2", electrons.TaskImage, electrons.Input{Prompt: "a harbour at dawn", Size: "256x256", Options: map[string]any{"response_format": "b64_json"}}, 1},
		{"ideogram-v3", electrons.TaskImage, electrons.Input{Prompt: "a harbour poster", Size: "1024x1024"}, 1},
		{"ideogram-v2", electrons.TaskImage, electrons.Input{Prompt: "a harbour poster"}, 1},
		{"gemini-2.5-flash-image", electrons.TaskImage, electrons.Input{Prompt: "a harbour sketch"}, 1},
		{"eleven-multilingual-v2", electrons.TaskAudio, electrons.Input{Prompt: "Welcome to the harbour."}, 1},
		{"tts-1", electrons.TaskAudio, electrons.Input{Prompt: "Welcome to the harbour.", Voice: "alloy"}, 1},
		{"pexels-search", electrons.TaskStockMedia, electrons.Input{Query: "harbour boats", Download: true, Options: map[string]any{"per_page": 2}}, 2},
		{"pexels-search", electrons.TaskStockMedia, electrons.Input{Query: "ocean", Options: map[string]any{"kind": "video", "per_page": 1}}, 0},
		{"veo-3.1", electrons.TaskVideo, electrons.Input{Prompt: "waves on a harbour wall", Options: poll}, 1},
		{"shotstack-render", electrons.TaskVideo, electrons.Input{Timeline: json.RawMessage(`{"timeline":{"tracks":[{"clips":[{"asset":{"type":"title","text":"Harbour"},"start":0,"length":2}]}]}}`), Options: poll}, 1},
	}
	ids := make([]string, len(cases))
	for i, tc := range cases {
		r, _, err := c.SubmitRequest(ctx, client.CreateRequest{Model: tc.model, TaskType: tc.task, Input: tc.input})
		if err != nil {
			t.Fatalf("%s: %v", tc.model, err)
		}
		ids[i] = r.ID
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	for i, tc := range cases {
		var r *electrons.Request
		waitFor(t, 2*time.Minute, tc.model+" to finish", func() bool {
			var err error
			r, err = c.GetRequest(ctx, ids[i])
			return err == nil && (r.Status.Terminal() || r.Status == electrons.StatusReview)
		})
		if r.Status != electrons.StatusSucceeded || r.Provider == "local" {
			t.Fatalf("%s: %s on %s, error %+v, result %+v", tc.model, r.Status, r.Provider, r.Error, r.Result)
		}
		if tc.task == electrons.TaskText && r.Result.Text == "" {
			t.Fatalf("%s: empty text", tc.model)
		}
		if tc.task == electrons.TaskStockMedia && len(r.Result.Items) == 0 {
			t.Fatalf("%s: no stock items", tc.model)
		}
		if len(r.Result.Artifacts) != tc.files {
			t.Fatalf("%s: %d artifacts, want %d", tc.model, len(r.Result.Artifacts), tc.files)
		}
		for _, a := range r.Result.Artifacts {
			resp, err := hc.Get(a.URL)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			sum := sha256.Sum256(b)
			if resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != a.SHA256 || int64(len(b)) != a.SizeBytes || a.ContentType == "" {
				t.Fatalf("%s: artifact %s does not match its checksum (%s)", tc.model, a.ID, resp.Status)
			}
		}
	}
	// Every provider was really called.
	stats := f.Stats()
	for _, route := range []string{"openai.chat", "anthropic.messages", "elevenlabs.tts", "pexels.photos", "shotstack.render"} {
		if stats[route].Requests == 0 {
			t.Errorf("the fake's %s route saw no request (routes: %v)", route, f.RouteNames())
		}
	}
}

// TestTruncatedProviderStreamFails streams from the Anthropic fake, which cuts every stream off
// mid-answer: the watcher sees the deltas that came, then an error, and the request fails.
func TestTruncatedProviderStreamFails(t *testing.T) {
	t.Parallel()
	f, env := fakeProviders(t)
	f.Configure("anthropic.", fake.RouteConfig{LatencyMinMS: 300, LatencyMaxMS: 300, Faults: map[string]float64{fake.FaultTruncate: 1}})
	env["ELECTRONS_MAX_ATTEMPTS"] = "2"
	p := newPlatform(t)
	srv := p.start(env)
	c := apiClient(t, srv.URL, adminKey)
	r, _, err := c.SubmitRequest(context.Background(), client.CreateRequest{Model: "claude-3-5-haiku",
		Input: electrons.Input{Prompt: "Tell me everything about lighthouses and their keepers", MaxTokens: 200}})
	if err != nil {
		t.Fatal(err)
	}
	evs := watch(t, c, r.ID)
	deltas := 0
	for _, e := range evs {
		if e.Type == client.EventDelta {
			deltas++
		}
		if e.Type == client.EventDone {
			t.Fatal("a truncated stream ended with done")
		}
	}
	last := evs[len(evs)-1]
	if last.Type != client.EventError || deltas == 0 {
		t.Fatalf("last event %s after %d deltas; want deltas, then error", last.Type, deltas)
	}
	got, err := c.GetRequest(context.Background(), r.ID)
	if err != nil || got.Status != electrons.StatusFailed || got.Error == nil || got.Error.Code != electrons.CodeServerError || got.Attempts != 2 {
		t.Fatalf("request after truncated streams: %+v %v", got, err)
	}
}
