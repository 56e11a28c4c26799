package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
)

// writeBatchFile writes a JSON batch of n text requests with the given
// options to a temporary file and returns its path.
func writeBatchFile(t *testing.T, n int, opts map[string]any) string {
	t.Helper()
	var body client.CreateBatch
	for i := 0; i < n; i++ {
		body.Requests = append(body.Requests, client.CreateRequest{
			Input: electrons.Input{Prompt: fmt.Sprintf("Batch item %d: a line about lighthouses", i), MaxTokens: 16, Options: opts},
		})
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "batch.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// The other commands of SPEC §3 that the CLI has and the server must answer
// (§4): watch, retry, queue pause and resume, the limiter state of a queue,
// batch results and batch cancel. Each subtest is one command.
func TestCtlSpecCommands(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	t.Run("requests watch", func(t *testing.T) {
		res := s.ok(t, e2eAdminKey, "requests", "submit", "--wait", "--prompt", "watch me", "--option", "latency_ms=0")
		id := tableRows(t, res.Stdout)[0]["ID"]
		res = s.ok(t, e2eAdminKey, "requests", "watch", id)
		if !strings.HasSuffix(res.Stdout, "done\n") {
			t.Errorf("watch of a finished request: stdout %q, want it to end with done", res.Stdout)
		}
		res = s.ok(t, e2eAdminKey, "-o", "json", "requests", "watch", id)
		lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
		var last client.Event
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Type != client.EventDone {
			t.Errorf("watch -o json: last line %q (%v), want a done event", lines[len(lines)-1], err)
		}
	})

	t.Run("requests retry", func(t *testing.T) {
		var r electrons.Request
		decodeJSON(t, s.ok(t, e2eAdminKey, "-o", "json", "requests", "submit", "--prompt", "retry me", "--option", "latency_ms=5000").Stdout, &r)
		s.ok(t, e2eAdminKey, "requests", "cancel", r.ID)
		res := s.ctl(t, e2eAdminKey, "requests", "retry", r.ID)
		if res.Err != nil {
			t.Fatalf("retry of a cancelled request: exit %d: %s", res.Code(), res.Stderr)
		}
		if st := electrons.Status(tableRows(t, res.Stdout)[0]["STATUS"]); st.Terminal() && st != electrons.StatusSucceeded {
			t.Errorf("retry: status %s", st)
		}
	})

	t.Run("queues limiter", func(t *testing.T) {
		var page client.Page[client.Queue]
		decodeJSON(t, s.ok(t, e2eAdminKey, "-o", "json", "queues", "list").Stdout, &page)
		var q *client.Queue
		for i := range page.Data {
			if page.Data[i].Name == "local" {
				q = &page.Data[i]
			}
		}
		if q == nil {
			t.Fatalf("no local queue: %+v", page.Data)
		}
		if q.Provider != "local" || len(q.Limiter) == 0 {
			t.Errorf("queue local: provider %q, limiter %v; want provider local and the limiter's state (SPEC §3 queues list)", q.Provider, q.Limiter)
		}
	})

	t.Run("queues pause resume", func(t *testing.T) {
		res := s.ctl(t, e2eAdminKey, "queues", "pause", "local")
		if res.Err != nil {
			t.Fatalf("queues pause local: exit %d: %s", res.Code(), res.Stderr)
		}
		if row := tableRows(t, res.Stdout)[0]; row["NAME"] != "local" || row["PAUSED"] != "true" {
			t.Errorf("queues pause: %v", row)
		}
		res = s.ctl(t, e2eAdminKey, "queues", "resume", "local")
		if res.Err != nil {
			t.Fatalf("queues resume local: exit %d: %s", res.Code(), res.Stderr)
		}
		if row := tableRows(t, res.Stdout)[0]; row["NAME"] != "local" || row["PAUSED"] != "false" {
			t.Errorf("queues resume: %v", row)
		}
	})

	t.Run("batches results", func(t *testing.T) {
		var b electrons.Batch
		decodeJSON(t, s.ok(t, e2eAdminKey, "-o", "json", "batches", "submit", writeBatchFile(t, 2, map[string]any{"latency_ms": 0})).Stdout, &b)
		poll(t, 30*time.Second, "the batch to complete", func() bool {
			decodeJSON(t, s.ok(t, e2eAdminKey, "-o", "json", "batches", "get", b.ID).Stdout, &b)
			return b.Status != electrons.BatchInProgress
		})
		res := s.ctl(t, e2eAdminKey, "batches", "results", b.ID)
		if res.Err != nil {
			t.Fatalf("batches results: exit %d: %s", res.Code(), res.Stderr)
		}
		lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
		if len(lines) != 2 {
			t.Fatalf("batches results: %d lines, want 2:\n%s", len(lines), res.Stdout)
		}
		for _, l := range lines {
			var item struct {
				RequestID string `json:"request_id"`
				Status    string `json:"status"`
			}
			if err := json.Unmarshal([]byte(l), &item); err != nil || !strings.HasPrefix(item.RequestID, "req_") || item.Status != "succeeded" {
				t.Errorf("batches results line %s: %+v %v", l, item, err)
			}
		}
	})

	t.Run("batches cancel", func(t *testing.T) {
		var b electrons.Batch
		decodeJSON(t, s.ok(t, e2eAdminKey, "-o", "json", "batches", "submit", writeBatchFile(t, 2, map[string]any{"latency_ms": 5000})).Stdout, &b)
		res := s.ctl(t, e2eAdminKey, "-o", "json", "batches", "cancel", b.ID)
		if res.Err != nil {
			t.Fatalf("batches cancel: exit %d: %s", res.Code(), res.Stderr)
		}
		decodeJSON(t, res.Stdout, &b)
		if b.Status != electrons.BatchCancelled {
			t.Errorf("batches cancel: %+v, want cancelled", b)
		}
	})
}
