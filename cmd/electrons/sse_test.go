package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
)

// watch collects a request's events until the stream ends.
func watch(t *testing.T, c *client.Client, id string) []client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var evs []client.Event
	if err := c.WatchRequest(ctx, id, func(e client.Event) error { evs = append(evs, e); return nil }); err != nil {
		t.Fatalf("watch %s: %v", id, err)
	}
	return evs
}

func TestEventsStreamDeltasThenDone(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(nil)
	c := apiClient(t, srv.URL, adminKey)
	r, _, err := c.SubmitRequest(context.Background(), client.CreateRequest{TaskType: electrons.TaskText,
		Input: electrons.Input{Prompt: "Stream a story about tides", MaxTokens: 40, Options: map[string]any{"stream_chunk_delay_ms": 25}}})
	if err != nil {
		t.Fatal(err)
	}
	evs := watch(t, c, r.ID)
	var text strings.Builder
	deltas, statusBeforeDone := 0, false
	for i, e := range evs {
		switch e.Type {
		case client.EventDelta:
			var d struct{ Text string }
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			text.WriteString(d.Text)
			deltas++
		case client.EventStatus:
			statusBeforeDone = true
		case client.EventDone, client.EventError:
			if i != len(evs)-1 {
				t.Fatalf("%s is not the last event", e.Type)
			}
		}
	}
	last := evs[len(evs)-1]
	if last.Type != client.EventDone || deltas < 2 || !statusBeforeDone {
		t.Fatalf("events: %d deltas, last %s, status seen %v", deltas, last.Type, statusBeforeDone)
	}
	var done electrons.Request
	if err := json.Unmarshal(last.Data, &done); err != nil {
		t.Fatal(err)
	}
	if done.Status != electrons.StatusSucceeded || done.Result == nil {
		t.Fatalf("done: %+v", done)
	}
	// Deltas that came before this watcher connected are not replayed; the rest end the text.
	if !strings.HasSuffix(done.Result.Text, text.String()) {
		t.Fatalf("deltas %q are not the end of the result %q", text.String(), done.Result.Text)
	}

	// A request that fails ends its stream with error.
	f, _, err := c.SubmitRequest(context.Background(), client.CreateRequest{TaskType: electrons.TaskText,
		Input: electrons.Input{Prompt: "x", Options: map[string]any{"fail": "nonsense"}}})
	if err != nil {
		t.Fatal(err)
	}
	evs = watch(t, c, f.ID)
	if last := evs[len(evs)-1]; last.Type != client.EventError || !strings.Contains(string(last.Data), "invalid_request") {
		t.Fatalf("failed request's last event: %s %s", last.Type, last.Data)
	}
}
