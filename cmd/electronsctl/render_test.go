package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

var (
	t0      = time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)
	t1      = t0.Add(2*time.Second + 300*time.Millisecond)
	batchID = "bat_01JB8Y6RZ6V2B9Q4X0M3KCFT7D"
)

func fixtureRequests() []electrons.Request {
	return []electrons.Request{
		{
			ID: "req_01JB8Y6S1N5C7F2H8Q9W3E4R5T", Status: electrons.StatusSucceeded, TaskType: electrons.TaskText,
			Model: "local-text", Provider: "local", Priority: 2, Attempts: 1,
			Metadata:  json.RawMessage(`{"ticket":42}`),
			Input:     electrons.Input{Prompt: "Write a haiku about queues", MaxTokens: 64},
			CreatedAt: t0, UpdatedAt: t1, CompletedAt: &t1,
			Result: &electrons.Result{
				Text:      "Messages wait in line\nworkers wake and take their turn\nnothing is lost here",
				Artifacts: []electrons.Artifact{},
				Usage:     &electrons.Usage{InputTokens: 6, OutputTokens: 18},
				Quality:   &electrons.Quality{Score: 0.92, Verdict: electrons.VerdictApproved, Reasons: []string{}},
			},
		},
		{
			ID: "req_01JB8Y6S1N5C7F2H8Q9W3E4R5V", Status: electrons.StatusFailed, TaskType: electrons.TaskImage,
			Model: "local-image", Provider: "local", Priority: 1, Attempts: 3, BatchID: &batchID,
			Input:     electrons.Input{Prompt: "a red fox", Size: "512x512", Options: map[string]any{"fail": "server"}},
			CreatedAt: t0.Add(time.Minute), UpdatedAt: t0.Add(2 * time.Minute), CompletedAt: ptr(t0.Add(2 * time.Minute)),
			Error: &electrons.Error{Code: electrons.CodeServerError, Message: "local: simulated server error"},
		},
		{
			ID: "req_01JB8Y6S1N5C7F2H8Q9W3E4R5W", Status: electrons.StatusQueued, TaskType: electrons.TaskAudio,
			Priority: 4, Input: electrons.Input{Prompt: "hello", Voice: "alloy"},
			CreatedAt: t0.Add(3 * time.Minute), UpdatedAt: t0.Add(3 * time.Minute),
		},
	}
}

func ptr[T any](v T) *T { return &v }

func fixtureImageRequest() *electrons.Request {
	return &electrons.Request{
		ID: "req_01JB8Y6S1N5C7F2H8Q9W3E4R5X", Status: electrons.StatusReview, TaskType: electrons.TaskImage,
		Model: "local-image", Provider: "local", Priority: 2, Attempts: 2,
		Input:     electrons.Input{Prompt: "a lighthouse at dusk", Size: "256x256"},
		CreatedAt: t0, UpdatedAt: t1,
		Result: &electrons.Result{
			Artifacts: []electrons.Artifact{{
				ID: "art_01JB8Y6T0000000000000000AA", URL: "http://127.0.0.1:8080/artifacts/art_01JB8Y6T0000000000000000AA?sig=abc&exp=1793698200",
				ContentType: "image/png", SizeBytes: 18342, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			}},
			Quality: &electrons.Quality{Score: 0.55, Verdict: electrons.VerdictReview, Reasons: []string{"low contrast", "small size"}},
		},
	}
}

func fixtureStockRequest() *electrons.Request {
	return &electrons.Request{
		ID: "req_01JB8Y6S1N5C7F2H8Q9W3E4R5Y", Status: electrons.StatusSucceeded, TaskType: electrons.TaskStockMedia,
		Model: "local-stock", Provider: "local", Priority: 2, Attempts: 1,
		Input:     electrons.Input{Query: "mountains"},
		CreatedAt: t0, UpdatedAt: t1, CompletedAt: &t1,
		Result: &electrons.Result{
			Artifacts: []electrons.Artifact{},
			Items: []electrons.StockItem{
				{ID: "local-photo-7", Kind: "photo", Title: "Alpine ridge", URL: "https://example.org/7.jpg", Width: 1920, Height: 1080, Author: "A. Painter"},
				{ID: "local-video-2", Kind: "video", URL: "https://example.org/2.mp4", DurationS: 12},
			},
		},
	}
}

func fixtureBatch() *electrons.Batch {
	return &electrons.Batch{
		ID: batchID, Status: electrons.BatchInProgress, CallbackURL: "https://client.example/hooks",
		Counts:    electrons.BatchCounts{Total: 100, Queued: 40, Running: 10, Succeeded: 45, Failed: 4, Cancelled: 1},
		CreatedAt: t0,
	}
}

func fixtureQueues() []client.Queue {
	return []client.Queue{
		{Name: "local", Provider: "local", Queued: 12, Scheduled: 3, Running: 8, Retrying: 1, Dead: 0,
			OldestAgeSeconds: 93.4, ThroughputPerMin: 480.25, Limiter: map[string]any{
				"limits": map[string]any{"rpm": nil, "tpm": nil, "concurrency": 8.0}, "remaining": map[string]any{"rpm": nil, "tpm": nil, "concurrency": 5.0},
				"cooldown_until": nil, "circuit": "closed"}},
		{Name: "openai", Provider: "openai", Paused: true, Queued: 250, Dead: 2, OldestAgeSeconds: 0.2},
		{Name: "anthropic", Provider: "anthropic"},
	}
}

func fixtureProviders() []map[string]any {
	var ps []map[string]any
	if err := json.Unmarshal([]byte(`[
		{"name": "anthropic", "enabled": true, "task_types": ["text"], "limits": {"rpm": 50, "tpm": 40000, "concurrency": null},
		 "remaining": {"rpm": 12, "tpm": 39000, "concurrency": null}, "cooldown_until": "2026-11-03T09:31:00Z", "circuit": "open"},
		{"name": "local", "enabled": true, "task_types": ["text", "image", "audio", "video", "stock_media"],
		 "limits": {"rpm": null, "tpm": null, "concurrency": 8}, "remaining": {"rpm": null, "tpm": null, "concurrency": 5},
		 "cooldown_until": null, "circuit": "closed"},
		{"name": "openai", "enabled": false, "disabled_reason": "OPENAI_API_KEY is not set", "task_types": ["text", "image", "audio"],
		 "limits": {"rpm": null, "tpm": null, "concurrency": null}, "remaining": {"rpm": null, "tpm": null, "concurrency": null},
		 "cooldown_until": null, "circuit": "closed"}
	]`), &ps); err != nil {
		panic(err)
	}
	return ps
}

func fixtureModels() []electrons.Model {
	return []electrons.Model{
		{ID: "local-text", Provider: "local", ProviderModel: "local-text-1", TaskType: electrons.TaskText, Enabled: true, Defaults: map[string]any{"max_tokens": 256.0}},
		{ID: "claude-3-5-haiku", Provider: "anthropic", ProviderModel: "claude-3-5-haiku-latest", TaskType: electrons.TaskText, Enabled: false},
	}
}

func TestRenderGolden(t *testing.T) {
	reqs := fixtureRequests()
	cases := []struct {
		name  string
		value any
		table func(io.Writer) error
	}{
		{"requests_list", client.Page[electrons.Request]{Data: reqs, NextCursor: "c_01JB8Y6S1N5C7F2H8Q9W3E4R5W"},
			func(w io.Writer) error { return renderRequests(w, reqs) }},
		{"requests_list_empty", client.Page[electrons.Request]{Data: []electrons.Request{}},
			func(w io.Writer) error { return renderRequests(w, nil) }},
		{"request_text", &reqs[0], func(w io.Writer) error { return renderRequest(w, &reqs[0], false) }},
		{"request_failed", &reqs[1], func(w io.Writer) error { return renderRequest(w, &reqs[1], false) }},
		{"request_queued", &reqs[2], func(w io.Writer) error { return renderRequest(w, &reqs[2], false) }},
		{"request_image", fixtureImageRequest(), func(w io.Writer) error { return renderRequest(w, fixtureImageRequest(), false) }},
		{"request_stock", fixtureStockRequest(), func(w io.Writer) error { return renderRequest(w, fixtureStockRequest(), false) }},
		{"batch", fixtureBatch(), func(w io.Writer) error { return renderBatch(w, fixtureBatch()) }},
		{"queues", client.Page[client.Queue]{Data: fixtureQueues()}, func(w io.Writer) error { return renderQueues(w, fixtureQueues()) }},
		{"providers", client.Page[map[string]any]{Data: fixtureProviders()}, func(w io.Writer) error { return renderProviders(w, fixtureProviders()) }},
		{"models", client.Page[electrons.Model]{Data: fixtureModels()}, func(w io.Writer) error { return renderModels(w, fixtureModels()) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, output := range []string{"table", "json"} {
				var out bytes.Buffer
				a := &app{output: output, stdout: &out}
				if err := a.show(tc.value, tc.table); err != nil {
					t.Fatal(err)
				}
				golden(t, tc.name+"."+output+".golden", out.Bytes())
			}
		})
	}
}

// The text streamed by --wait is not repeated under the final request.
func TestRenderRequestOmitText(t *testing.T) {
	t.Parallel()
	r := fixtureRequests()[0]
	var with, without bytes.Buffer
	if err := renderRequest(&with, &r, false); err != nil {
		t.Fatal(err)
	}
	if err := renderRequest(&without, &r, true); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(with.Bytes(), []byte(r.Result.Text)) || bytes.Contains(without.Bytes(), []byte("Messages wait")) {
		t.Errorf("omitText not honoured:\n%s\n---\n%s", with.String(), without.String())
	}
}

func TestEventHelpers(t *testing.T) {
	t.Parallel()
	if got := eventError(json.RawMessage(`{"type":"https://electrons.dev/problems/unavailable","title":"Unavailable","status":503,"detail":"event stream interrupted","code":"unavailable"}`)); got != "Unavailable: event stream interrupted (unavailable)" {
		t.Errorf("eventError: %q", got)
	}
	if got := eventError(json.RawMessage(`oops`)); got != "oops" {
		t.Errorf("eventError of non-JSON: %q", got)
	}
	if got := eventStatus(json.RawMessage(`{"id":"req_1","status":"running"}`)); got != "running" {
		t.Errorf("eventStatus: %q", got)
	}
	if got := deltaText(json.RawMessage(`{"text":"Queues hum"}`)); got != "Queues hum" {
		t.Errorf("deltaText: %q", got)
	}
}

func TestWriteEventLine(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	events := []client.Event{
		{Type: "delta", Data: json.RawMessage(`{"text":"Hi"}`)},
		{Type: "message", Data: json.RawMessage("not json")},
		{Type: "done"},
	}
	for _, e := range events {
		if err := writeEventLine(&out, e); err != nil {
			t.Fatal(err)
		}
	}
	want := `{"type":"delta","data":{"text":"Hi"}}` + "\n" + `{"type":"message","data":"not json"}` + "\n" + `{"type":"done"}` + "\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestFormatAge(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{0: "", -1: "", 0.2: "<1s", 1.4: "1s", 93.4: "1m33s", 7322: "2h2m2s"} {
		if got := formatAge(in); got != want {
			t.Errorf("formatAge(%v) = %q, want %q", in, got, want)
		}
	}
}
