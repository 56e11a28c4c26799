package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
	"github.com/distributed-electrons/electrons/providers/fake"
)

// fakeProvider is cmd/fakeprovider running as a child process.
type fakeProvider struct {
	URL string
}

// buildFake builds cmd/fakeprovider once per test run.
var buildFake = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "fakeprovider-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "fakeprovider")
	if out, err := exec.Command("go", "build", "-o", bin, "../fakeprovider").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// fakeProviders starts cmd/fakeprovider and returns it with the server settings that point
// every provider at it.
func fakeProviders(t *testing.T) (*fakeProvider, map[string]string) {
	t.Helper()
	bin, err := buildFake()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	var url string
	for sc.Scan() {
		if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
			break
		}
	}
	if url == "" {
		t.Fatal("fakeprovider did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return &fakeProvider{URL: url}, map[string]string{
		"OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": url + "/v1",
		"ANTHROPIC_API_KEY": "sk-ant-fake", "ANTHROPIC_BASE_URL": url,
		"GEMINI_API_KEY": "gm-fake", "GEMINI_BASE_URL": url,
		"IDEOGRAM_API_KEY": "id-fake", "IDEOGRAM_BASE_URL": url,
		"ELEVENLABS_API_KEY": "el-fake", "ELEVENLABS_BASE_URL": url,
		"PEXELS_API_KEY": "px-fake", "PEXELS_BASE_URL": url,
		"SHOTSTACK_API_KEY": "ss-fake", "SHOTSTACK_BASE_URL": url,
		"OPENAI_COMPAT_BASE_URL": url + "/v1", "OPENAI_COMPAT_MODEL": "llama3.1",
	}
}

// Configure sets the behaviour of the fake's routes with that prefix, over its HTTP API.
func (f *fakeProvider) Configure(t *testing.T, prefix string, cfg fake.RouteConfig) {
	t.Helper()
	b, _ := json.Marshal(map[string]fake.RouteConfig{prefix: cfg})
	resp, err := http.Post(f.URL+"/_fake/config", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("configure the fake: %s", resp.Status)
	}
}

// Stats reads the fake's counters over its HTTP API.
func (f *fakeProvider) Stats(t *testing.T) map[string]fake.Stats {
	t.Helper()
	resp, err := http.Get(f.URL + "/_fake/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st map[string]fake.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestEveryProviderEndToEnd runs a mixed run of each task type through every provider adapter,
// each pointed at the fake that speaks its wire format.
func TestEveryProviderEndToEnd(t *testing.T) {
	t.Parallel()
	f, env := fakeProviders(t)
	p := newPlatform(t)
	f.Configure(t, "openai.chat", fake.RouteConfig{Limit: &fake.Limit{Requests: 100}})
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
	// Every provider is enabled, and OpenAI's own limit state is shown as it reported it.
	provs, err := c.ListProviders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range provs {
		if pr["enabled"] != true {
			t.Errorf("provider %v is not enabled: %v", pr["name"], pr["reason"])
		}
		if pr["name"] == "openai" {
			// The fake's chat route (limit 100) serves both openai and openaicompat, one call
			// each, so openai saw 99 or 98 remaining, by their order.
			if rem, _ := pr["remaining"].(map[string]any); rem["rpm"] != float64(99) && rem["rpm"] != float64(98) {
				t.Errorf("openai remaining = %v, want rpm 99 or 98 as the fake reported", pr["remaining"])
			}
		}
	}
	// Every provider was really called.
	stats := f.Stats(t)
	for _, route := range []string{"openai.chat", "openai.images", "openai.speech", "anthropic.messages", "gemini.stream", "gemini.generate",
		"gemini.video", "gemini.operation", "ideogram.v3", "ideogram.legacy", "elevenlabs.tts", "pexels.photos", "pexels.videos",
		"shotstack.render", "shotstack.status"} {
		if stats[route].Requests == 0 {
			t.Errorf("the fake's %s route saw no request", route)
		}
	}
}

// TestTruncatedProviderStreamFails streams from the Anthropic fake, which cuts every stream off
// mid-answer: the watcher sees the deltas that came, then an error, and the request fails.
func TestTruncatedProviderStreamFails(t *testing.T) {
	t.Parallel()
	f, env := fakeProviders(t)
	f.Configure(t, "anthropic.", fake.RouteConfig{LatencyMinMS: 300, LatencyMaxMS: 300, Faults: map[string]float64{fake.FaultTruncate: 1}})
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

// TestProvidersWithoutKeysAreDisabled: a provider without a key says so, and its models are
// refused at submit time.
func TestProvidersWithoutKeysAreDisabled(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(map[string]string{"PEXELS_API_KEY": "px"})
	c := apiClient(t, srv.URL, adminKey)
	ctx := context.Background()
	provs, err := c.ListProviders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]map[string]any{}
	for _, pr := range provs {
		state[pr["name"].(string)] = pr
	}
	if state["local"]["enabled"] != true || state["pexels"]["enabled"] != true {
		t.Fatalf("local and pexels should be enabled: %v %v", state["local"], state["pexels"])
	}
	if state["openai"]["enabled"] != false || state["openai"]["reason"] != "not configured: set OPENAI_API_KEY" {
		t.Fatalf("openai: %v", state["openai"])
	}
	var ae *client.APIError
	_, _, err = c.SubmitRequest(ctx, client.CreateRequest{Model: "claude-3-5-sonnet", Input: electrons.Input{Prompt: "hi"}})
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != electrons.CodeProviderDisabled {
		t.Fatalf("model of a disabled provider: %v", err)
	}
	// Routing passes over disabled providers: stock media goes to pexels (enabled), text to local.
	r, _, err := c.SubmitRequest(ctx, client.CreateRequest{Input: electrons.Input{Prompt: "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := waitStatus(t, c, r.ID, electrons.StatusSucceeded); got.Provider != "local" {
		t.Fatalf("text routed to %s", got.Provider)
	}
}
