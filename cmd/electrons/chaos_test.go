package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// proc is the real electrons binary running as a child process.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startProc(t *testing.T, bin string, env map[string]string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	// Only what a process needs from ours: provider keys of the machine must not leak in.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			if listenLine.MatchString(sc.Text()) {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	select {
	case <-ready:
	case <-p.done:
		t.Fatal("server process exited before listening")
	case <-time.After(60 * time.Second):
		t.Fatal("server process did not listen within 60s")
	}
	return p
}

func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSurvivesSIGKILL submits 500 requests while the server process is killed with SIGKILL and
// restarted several times. Clients retry with idempotency keys, as real clients should. Every
// accepted request must reach a terminal status, complete exactly once, and have its webhook
// arrive under one stable webhook-id.
func TestSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := newPlatform(t)
	addr := freeAddr(t)
	base := "http://" + addr
	rcv := newReceiver(t)
	var (
		seenMu sync.Mutex
		seen   = map[string]map[string]bool{} // request id → webhook-ids received
	)
	rcv.answer = func(int) int { return http.StatusOK }
	env := p.env(map[string]string{
		"ELECTRONS_HTTP_ADDR":    addr,
		"ELECTRONS_CALL_TIMEOUT": "2s",
		"ELECTRONS_RESCUE_AFTER": "12s",
	})

	var cur atomic.Pointer[proc]
	cur.Store(startProc(t, bin, env))
	t.Cleanup(func() { cur.Load().kill() })

	// The receiver needs the instance's secret.
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/instance", nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var inst struct {
		WebhookSecret string `json:"webhook_secret"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&inst)
	resp.Body.Close()
	rcv.setSecret(inst.WebhookSecret)

	const n = 500
	ids := make([]string, n)
	hc := &http.Client{Timeout: 10 * time.Second}
	submit := func(i int) {
		task := []string{"text", "image", "audio"}[i%3]
		body := fmt.Sprintf(`{"task_type":%q,"input":{"prompt":"chaos %d","size":"32x32","max_tokens":16,"options":{"latency_ms":%d}},"callback_url":%q}`,
			task, i, rand.IntN(40), rcv.srv.URL)
		for attempt := 0; ; attempt++ {
			req, _ := http.NewRequest(http.MethodPost, base+"/v1/requests", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+adminKey)
			req.Header.Set("Idempotency-Key", fmt.Sprintf("chaos-%d", i))
			resp, err := hc.Do(req)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 202 || resp.StatusCode == 200 {
					var r struct{ ID string }
					_ = json.Unmarshal(b, &r)
					ids[i] = r.ID
					return
				}
				if resp.StatusCode < 500 {
					t.Errorf("submit %d: %d %s", i, resp.StatusCode, b)
					return
				}
			}
			if attempt > 200 {
				t.Errorf("submit %d: gave up: %v", i, err)
				return
			}
			time.Sleep(100 * time.Millisecond) // the server is restarting
		}
	}

	submitted := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i := 0; i < n; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int) { defer wg.Done(); defer func() { <-sem }(); submit(i) }(i)
		}
		wg.Wait()
		close(submitted)
	}()

	// Kill and restart the server four times while requests flow.
	kills := 0
	for kills < 4 {
		time.Sleep(time.Duration(700+rand.IntN(800)) * time.Millisecond)
		cur.Load().kill()
		kills++
		cur.Store(startProc(t, bin, env))
	}
	<-submitted
	if t.Failed() {
		return
	}

	ctx := context.Background()
	waitFor(t, 3*time.Minute, "every accepted request to finish", func() bool {
		var open int
		_ = p.db.Pool.QueryRow(ctx, `SELECT count(*) FROM requests WHERE status NOT IN ('succeeded','failed','cancelled')`).Scan(&open)
		return open == 0
	})
	var total, succeeded int
	_ = p.db.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'succeeded') FROM requests`).Scan(&total, &succeeded)
	if total != n || succeeded != n {
		t.Fatalf("%d requests stored (%d succeeded), want %d accepted and succeeded", total, succeeded, n)
	}
	// Exactly once: one terminal event and one delivery per request.
	var dupEvents, dupDeliveries int
	_ = p.db.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT entity_id FROM events GROUP BY entity_id HAVING count(*) <> 1) x`).Scan(&dupEvents)
	_ = p.db.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT entity_id FROM webhook_deliveries GROUP BY entity_id HAVING count(*) <> 1) x`).Scan(&dupDeliveries)
	if dupEvents != 0 || dupDeliveries != 0 {
		t.Fatalf("%d requests with other than one event, %d with other than one delivery", dupEvents, dupDeliveries)
	}

	waitFor(t, 3*time.Minute, "a webhook for every request", func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		seenMu.Lock()
		defer seenMu.Unlock()
		for _, h := range rcv.got {
			if seen[h.Data.ID] == nil {
				seen[h.Data.ID] = map[string]bool{}
			}
			seen[h.Data.ID][h.ID] = true
		}
		for _, id := range ids {
			if len(seen[id]) == 0 {
				return false
			}
		}
		return true
	})
	rcv.mu.Lock()
	bad := append([]string(nil), rcv.bad...)
	rcv.mu.Unlock()
	for _, b := range bad {
		if !strings.HasPrefix(b, "scripted") {
			t.Fatalf("a webhook failed verification: %s", b)
		}
	}
	for _, id := range ids {
		if len(seen[id]) != 1 {
			t.Fatalf("%s: webhooks arrived under %d webhook-ids, want one", id, len(seen[id]))
		}
		var dl string
		_ = p.db.Pool.QueryRow(ctx, `SELECT id FROM webhook_deliveries WHERE entity_id = $1`, id).Scan(&dl)
		if !seen[id][dl] {
			t.Fatalf("%s: webhook-id is not the delivery's id %s", id, dl)
		}
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%d kills; all %d requests succeeded exactly once", kills, n)
	t.Log(buf.String())
}
