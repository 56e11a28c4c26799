package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
)

// decodeJSON decodes the -o json output of a command into v, refusing unknown
// members and trailing data.
func decodeJSON(t *testing.T, out string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, out)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value in output:\n%s", out)
	}
}

// getRequest fetches a request through `requests get -o json`.
func (s *e2eServer) getRequest(t *testing.T, id string) *electrons.Request {
	t.Helper()
	var r electrons.Request
	decodeJSON(t, s.ok(t, e2eAdminKey, "-o", "json", "requests", "get", id).Stdout, &r)
	return &r
}

// waitStatus polls `requests get` until the request reaches want.
func (s *e2eServer) waitStatus(t *testing.T, id string, want electrons.Status) *electrons.Request {
	t.Helper()
	var r *electrons.Request
	poll(t, 30*time.Second, fmt.Sprintf("%s to be %s", id, want), func() bool {
		r = s.getRequest(t, id)
		if r.Status.Terminal() && r.Status != want {
			t.Fatalf("%s ended %s (error %+v), want %s", id, r.Status, r.Error, want)
		}
		return r.Status == want
	})
	return r
}

func listIDs(rows []map[string]string) map[string]string {
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[r["ID"]] = r["STATUS"]
	}
	return m
}

// Submit in both output formats, follow one with --wait, get and list them.
func TestCtlRequests(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	// Table output: one row, the new request.
	res := s.ok(t, e2eAdminKey, "requests", "submit", "--prompt", "Say hello to the queue", "--option", "latency_ms=0")
	rows := tableRows(t, res.Stdout)
	if len(rows) != 1 {
		t.Fatalf("submit shows %d rows, want 1:\n%s", len(rows), res.Stdout)
	}
	tableID := rows[0]["ID"]
	if !strings.HasPrefix(tableID, "req_") {
		t.Errorf("submit: id %q, want req_…", tableID)
	}
	if st := electrons.Status(rows[0]["STATUS"]); !st.Valid() {
		t.Errorf("submit: status %q is not a status", st)
	}
	if !regexp.MustCompile(`(?m)^priority:\s+2$`).MatchString(res.Stdout) {
		t.Errorf("submit: no default priority 2 among the details:\n%s", res.Stdout)
	}

	// JSON output: the request object.
	res = s.ok(t, e2eAdminKey, "-o", "json", "requests", "submit", "--prompt", "Say hello again",
		"--option", "latency_ms=0", "--metadata", `{"ticket":42}`, "--priority", "1")
	var jr electrons.Request
	decodeJSON(t, res.Stdout, &jr)
	if !strings.HasPrefix(jr.ID, "req_") || !jr.Status.Valid() || jr.Priority != 1 || jr.CreatedAt.IsZero() {
		t.Errorf("submit -o json: %+v", jr)
	}
	var meta map[string]any
	if err := json.Unmarshal(jr.Metadata, &meta); err != nil || len(meta) != 1 || meta["ticket"] != 42.0 {
		t.Errorf("submit -o json: metadata %s, want {\"ticket\": 42}", jr.Metadata)
	}
	if jr.ID == tableID {
		t.Errorf("two submissions got the same id %s", jr.ID)
	}

	// --wait: the text streams, then the finished request is shown.
	res = s.ok(t, e2eAdminKey, "requests", "submit", "--wait", "--prompt", "Write a haiku about queues",
		"--max-tokens", "32", "--option", "latency_ms=0")
	rows = tableRows(t, res.Stdout)
	if len(rows) != 1 || rows[0]["STATUS"] != "succeeded" {
		t.Fatalf("submit --wait: rows %v, want one succeeded\nstdout:\n%s\nstderr:\n%s", rows, res.Stdout, res.Stderr)
	}
	waitID := rows[0]["ID"]
	if rows[0]["PROVIDER"] != "local" || rows[0]["TASK"] != "text" {
		t.Errorf("submit --wait: row %v, want task text on provider local", rows[0])
	}
	if !strings.Contains(res.Stderr, "status: succeeded") {
		t.Errorf("submit --wait: stderr does not report the final status:\n%s", res.Stderr)
	}
	waited := s.getRequest(t, waitID)
	if waited.Status != electrons.StatusSucceeded || waited.Result == nil || waited.Result.Text == "" {
		t.Fatalf("after --wait: %+v", waited)
	}
	if !strings.Contains(res.Stdout, strings.TrimRight(waited.Result.Text, "\n")) {
		t.Errorf("submit --wait: stdout does not hold the result text %q:\n%s", waited.Result.Text, res.Stdout)
	}
	// The text comes once: streamed, or (if nothing streamed) after the table.
	if n := strings.Count(res.Stdout, strings.TrimRight(waited.Result.Text, "\n")); n != 1 {
		t.Errorf("submit --wait: result text appears %d times in stdout:\n%s", n, res.Stdout)
	}

	// --wait -o json: stdout holds only the final request.
	res = s.ok(t, e2eAdminKey, "-o", "json", "requests", "submit", "--wait", "--prompt", "Another haiku",
		"--max-tokens", "16", "--option", "latency_ms=0")
	var wj electrons.Request
	decodeJSON(t, res.Stdout, &wj)
	if wj.Status != electrons.StatusSucceeded || wj.Result == nil || wj.Result.Text == "" {
		t.Errorf("submit --wait -o json: %+v", wj)
	}

	// get: the table shows it succeeded, with its completion time and text.
	res = s.ok(t, e2eAdminKey, "requests", "get", waitID)
	rows = tableRows(t, res.Stdout)
	if len(rows) != 1 || rows[0]["ID"] != waitID || rows[0]["STATUS"] != "succeeded" || rows[0]["ATTEMPTS"] != "1" {
		t.Errorf("get: rows %v", rows)
	}
	if !strings.Contains(res.Stdout, "completed:") || !strings.Contains(res.Stdout, strings.TrimRight(waited.Result.Text, "\n")) {
		t.Errorf("get: no completion time or text:\n%s", res.Stdout)
	}

	all := []string{tableID, jr.ID, waitID, wj.ID}
	for _, id := range all {
		s.waitStatus(t, id, electrons.StatusSucceeded)
	}

	// A cancelled one, for the status filter to leave out.
	res = s.ok(t, e2eAdminKey, "-o", "json", "requests", "submit", "--prompt", "too slow", "--option", "latency_ms=5000")
	var slow electrons.Request
	decodeJSON(t, res.Stdout, &slow)
	s.ok(t, e2eAdminKey, "requests", "cancel", slow.ID)
	all = append(all, slow.ID)

	// list: every request, newest first or not, each once.
	res = s.ok(t, e2eAdminKey, "requests", "list")
	got := listIDs(tableRows(t, res.Stdout))
	if len(got) != len(all) {
		t.Errorf("list: %d requests, want %d:\n%s", len(got), len(all), res.Stdout)
	}
	for _, id := range all[:4] {
		if got[id] != "succeeded" {
			t.Errorf("list: %s has status %q, want succeeded", id, got[id])
		}
	}
	if got[slow.ID] != "cancelled" {
		t.Errorf("list: %s has status %q, want cancelled", slow.ID, got[slow.ID])
	}

	// --status filters.
	res = s.ok(t, e2eAdminKey, "requests", "list", "--status", "succeeded")
	rows = tableRows(t, res.Stdout)
	got = listIDs(rows)
	if len(rows) != 4 || len(got) != 4 {
		t.Errorf("list --status succeeded: %d rows, want 4:\n%s", len(rows), res.Stdout)
	}
	for id, st := range got {
		if st != "succeeded" {
			t.Errorf("list --status succeeded: %s is %s", id, st)
		}
	}
	if _, ok := got[slow.ID]; ok {
		t.Errorf("list --status succeeded shows the cancelled %s", slow.ID)
	}
	var cancelled client.Page[electrons.Request]
	decodeJSON(t, s.ok(t, e2eAdminKey, "-o", "json", "requests", "list", "--status", "cancelled").Stdout, &cancelled)
	if len(cancelled.Data) != 1 || cancelled.Data[0].ID != slow.ID {
		t.Errorf("list --status cancelled -o json: %+v, want only %s", cancelled.Data, slow.ID)
	}

	// --limit 1: one page and a hint at the cursor; --all follows the cursors.
	res = s.ok(t, e2eAdminKey, "requests", "list", "--limit", "1")
	if rows := tableRows(t, res.Stdout); len(rows) != 1 {
		t.Errorf("list --limit 1: %d rows:\n%s", len(rows), res.Stdout)
	}
	if !strings.Contains(res.Stderr, "more: --cursor ") {
		t.Errorf("list --limit 1: stderr %q does not give the next cursor", res.Stderr)
	}
	res = s.ok(t, e2eAdminKey, "requests", "list", "--limit", "1", "--all")
	rows = tableRows(t, res.Stdout)
	got = listIDs(rows)
	if len(rows) != len(all) || len(got) != len(all) {
		t.Errorf("list --limit 1 --all: %d rows (%d distinct), want %d:\n%s", len(rows), len(got), len(all), res.Stdout)
	}
	for _, id := range all {
		if _, ok := got[id]; !ok {
			t.Errorf("list --limit 1 --all: %s missing", id)
		}
	}
	if res.Stderr != "" {
		t.Errorf("list --all: stderr %q, want nothing", res.Stderr)
	}
	var page client.Page[electrons.Request]
	decodeJSON(t, s.ok(t, e2eAdminKey, "-o", "json", "requests", "list", "--limit", "2", "--all").Stdout, &page)
	if len(page.Data) != len(all) || page.NextCursor != "" {
		t.Errorf("list --limit 2 --all -o json: %d requests, next_cursor %q; want %d and none", len(page.Data), page.NextCursor, len(all))
	}
}

// Cancelling a request in flight ends it cancelled; cancelling a finished one
// is a conflict.
func TestCtlCancel(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	res := s.ok(t, e2eAdminKey, "-o", "json", "requests", "submit", "--prompt", "take your time", "--option", "latency_ms=5000")
	var slow electrons.Request
	decodeJSON(t, res.Stdout, &slow)
	res = s.ok(t, e2eAdminKey, "requests", "cancel", slow.ID)
	rows := tableRows(t, res.Stdout)
	if len(rows) != 1 || rows[0]["ID"] != slow.ID || rows[0]["STATUS"] != "cancelled" {
		t.Fatalf("cancel: rows %v\n%s", rows, res.Stdout)
	}
	r := s.getRequest(t, slow.ID)
	if r.Status != electrons.StatusCancelled {
		t.Errorf("get after cancel: status %s", r.Status)
	}
	if r.CompletedAt == nil {
		t.Errorf("cancelled request has no completed_at: %+v", r)
	}
	// Cancelling again is harmless: it is already cancelled.
	res = s.ok(t, e2eAdminKey, "-o", "json", "requests", "cancel", slow.ID)
	var again electrons.Request
	decodeJSON(t, res.Stdout, &again)
	if again.Status != electrons.StatusCancelled {
		t.Errorf("second cancel: status %s", again.Status)
	}

	// A finished request cannot be cancelled.
	res = s.ok(t, e2eAdminKey, "requests", "submit", "--wait", "--prompt", "quick", "--option", "latency_ms=0")
	done := tableRows(t, res.Stdout)[0]["ID"]
	res = s.ctl(t, e2eAdminKey, "requests", "cancel", done)
	if res.Code() != 1 {
		t.Fatalf("cancel of a finished request: exit %d (%v), want 1", res.Code(), res.Err)
	}
	want := fmt.Sprintf("error: Conflict: request %s is already succeeded (conflict)\n", done)
	if res.Stderr != want || res.Stdout != "" {
		t.Errorf("cancel of a finished request: stdout %q, stderr %q; want stderr %q", res.Stdout, res.Stderr, want)
	}
	if got := s.getRequest(t, done); got.Status != electrons.StatusSucceeded {
		t.Errorf("the refused cancel changed %s to %s", done, got.Status)
	}

	// --wait on a request that is cancelled meanwhile exits 1 and says so.
	waited := make(chan ctlResult, 1)
	go func() {
		waited <- s.ctl(t, e2eAdminKey, "requests", "submit", "--wait", "--prompt", "slow again", "--option", "latency_ms=5000")
	}()
	var slow2 string
	poll(t, 20*time.Second, "the waited request to be listed", func() bool {
		var page client.Page[electrons.Request]
		decodeJSON(t, s.ok(t, e2eAdminKey, "-o", "json", "requests", "list").Stdout, &page)
		for _, r := range page.Data {
			if r.ID != slow.ID && r.ID != done {
				slow2 = r.ID
			}
		}
		return slow2 != ""
	})
	s.ok(t, e2eAdminKey, "requests", "cancel", slow2)
	select {
	case res = <-waited:
	case <-time.After(30 * time.Second):
		t.Fatalf("submit --wait did not return within 30s of the cancel of %s", slow2)
	}
	if res.Code() != 1 || !strings.Contains(res.Stderr, "error: request "+slow2+" cancelled") {
		t.Errorf("submit --wait of a cancelled request: exit %d, stderr %q", res.Code(), res.Stderr)
	}
	if rows := tableRows(t, res.Stdout); len(rows) != 1 || rows[0]["STATUS"] != "cancelled" {
		t.Errorf("submit --wait of a cancelled request: stdout\n%s", res.Stdout)
	}
}

// queues list shows the local queue, and its throughput once work is done.
func TestCtlQueues(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	res := s.ok(t, e2eAdminKey, "queues", "list")
	local := findRow(tableRows(t, res.Stdout), "NAME", "local")
	if local == nil {
		t.Fatalf("queues list has no local queue:\n%s", res.Stdout)
	}
	if local["PAUSED"] != "false" {
		t.Errorf("queue local: %v, want not paused", local)
	}

	for i := 0; i < 3; i++ {
		s.ok(t, e2eAdminKey, "requests", "submit", "--wait", "--prompt", fmt.Sprintf("work item %d", i), "--option", "latency_ms=0")
	}

	var q *client.Queue
	poll(t, 30*time.Second, "the local queue to show throughput", func() bool {
		var page client.Page[client.Queue]
		decodeJSON(t, s.ok(t, e2eAdminKey, "-o", "json", "queues", "list").Stdout, &page)
		q = nil
		for i := range page.Data {
			if page.Data[i].Name == "local" {
				q = &page.Data[i]
			}
		}
		if q == nil {
			t.Fatalf("queues list -o json has no local queue: %+v", page.Data)
		}
		return q.ThroughputPerMin > 0
	})
	if q.Paused || q.Dead != 0 || q.Queued != 0 || q.Running != 0 {
		t.Errorf("queue local after work: %+v", q)
	}

	res = s.ok(t, e2eAdminKey, "queues", "list")
	local = findRow(tableRows(t, res.Stdout), "NAME", "local")
	if local == nil {
		t.Fatalf("queues list has no local queue:\n%s", res.Stdout)
	}
	tp, err := strconv.ParseFloat(strings.TrimSuffix(local["THROUGHPUT"], "/min"), 64)
	if err != nil || tp <= 0 {
		t.Errorf("queue local: throughput %q, want a positive rate per minute", local["THROUGHPUT"])
	}
}

func findRow(rows []map[string]string, col, val string) map[string]string {
	for _, r := range rows {
		if r[col] == val {
			return r
		}
	}
	return nil
}

// A JSON batch of five runs to completion; get and results show it.
func TestCtlBatches(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	file := writeBatchFile(t, 5, map[string]any{"latency_ms": 0})

	res := s.ok(t, e2eAdminKey, "batches", "submit", file)
	rows := tableRows(t, res.Stdout)
	if len(rows) != 1 || !strings.HasPrefix(rows[0]["ID"], "bat_") || rows[0]["TOTAL"] != "5" {
		t.Fatalf("batches submit: rows %v\n%s", rows, res.Stdout)
	}
	id := rows[0]["ID"]

	var row map[string]string
	poll(t, 45*time.Second, "the batch to complete", func() bool {
		row = tableRows(t, s.ok(t, e2eAdminKey, "batches", "get", id).Stdout)[0]
		return row["STATUS"] != electrons.BatchInProgress
	})
	if row["ID"] != id || row["STATUS"] != electrons.BatchCompleted || row["TOTAL"] != "5" || row["SUCCEEDED"] != "5" ||
		row["FAILED"] != "0" || row["CANCELLED"] != "0" || row["QUEUED"] != "0" || row["RUNNING"] != "0" {
		t.Errorf("batches get: %v, want completed with 5 succeeded", row)
	}

	var got electrons.Batch
	decodeJSON(t, s.ok(t, e2eAdminKey, "-o", "json", "batches", "get", id).Stdout, &got)
	if got.ID != id || got.Status != electrons.BatchCompleted || got.Counts != (electrons.BatchCounts{Total: 5, Succeeded: 5}) || got.CompletedAt == nil {
		t.Errorf("batches get -o json: %+v", got)
	}

	// The batch's requests are listed by --batch, and its results are JSONL.
	res = s.ok(t, e2eAdminKey, "requests", "list", "--batch", id)
	if rows := tableRows(t, res.Stdout); len(rows) != 5 {
		t.Errorf("requests list --batch: %d rows, want 5:\n%s", len(rows), res.Stdout)
	}
}

// API errors reach stderr as the problem's title, detail and code, with exit
// status 1 and nothing on stdout.
func TestCtlErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	tests := []struct {
		name   string
		key    string
		args   []string
		golden string // the whole of stderr, where it is deterministic
		want   []string
	}{
		{
			name:   "unknown model",
			key:    e2eAdminKey,
			args:   []string{"requests", "submit", "--model", "nope", "--prompt", "hi"},
			golden: "e2e_unknown_model.stderr.golden",
			want:   []string{`unknown model "nope"`, "(invalid_request)"},
		},
		{
			name:   "unknown model json",
			key:    e2eAdminKey,
			args:   []string{"-o", "json", "requests", "submit", "--model", "nope", "--prompt", "hi"},
			golden: "e2e_unknown_model.stderr.golden",
		},
		{
			name:   "wrong key",
			key:    "de_not_a_key",
			args:   []string{"requests", "list"},
			golden: "e2e_wrong_key.stderr.golden",
			want:   []string{"(unauthorized)"},
		},
		{
			name:   "wrong key submit",
			key:    "de_not_a_key",
			args:   []string{"requests", "submit", "--prompt", "hi"},
			golden: "e2e_wrong_key.stderr.golden",
		},
		{
			name:   "wrong key queues",
			key:    "de_not_a_key",
			args:   []string{"queues", "list"},
			golden: "e2e_wrong_key.stderr.golden",
		},
		{
			name:   "no key",
			key:    "",
			args:   []string{"requests", "list"},
			golden: "e2e_no_key.stderr.golden",
			want:   []string{"(unauthorized)"},
		},
		{
			name: "unknown request",
			key:  e2eAdminKey,
			args: []string{"requests", "get", "req_01JB8Y6S1N5C7F2H8Q9W3E4R5T"},
			want: []string{"Not found", "(not_found)"},
		},
		{
			name: "unknown batch",
			key:  e2eAdminKey,
			args: []string{"batches", "get", "bat_01JB8Y6RZ6V2B9Q4X0M3KCFT7D"},
			want: []string{"Not found", "(not_found)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.ctl(t, tt.key, tt.args...)
			if res.Code() != 1 {
				t.Fatalf("exit %d (%v), want 1\nstderr: %s", res.Code(), res.Err, res.Stderr)
			}
			if res.Stdout != "" {
				t.Errorf("stdout %q, want nothing", res.Stdout)
			}
			if !strings.HasPrefix(res.Stderr, "error: ") || strings.Count(res.Stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one error line", res.Stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Stderr, w) {
					t.Errorf("stderr %q lacks %q", res.Stderr, w)
				}
			}
			if tt.golden != "" {
				golden(t, tt.golden, []byte(res.Stderr))
			}
		})
	}

	// The refused submissions changed nothing.
	var page client.Page[electrons.Request]
	decodeJSON(t, s.ok(t, e2eAdminKey, "-o", "json", "requests", "list").Stdout, &page)
	if len(page.Data) != 0 {
		t.Errorf("after refused submissions, %d requests exist: %+v", len(page.Data), page.Data)
	}
}
