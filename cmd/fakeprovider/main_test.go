package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons/providers/fake"
)

// TestConfigFileAndStats starts the command with a config file that makes every OpenAI chat
// call a rate limit, and reads the refusal back from the stats endpoint.
func TestConfigFileAndStats(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "routes.json")
	if err := os.WriteFile(cfg, []byte(`{"openai.chat": {"faults": {"rate_limit": 1}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--config", cfg, "--keys", "k1"}, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q", line)
	}
	url := m[1]
	hc := &http.Client{Timeout: 10 * time.Second}
	post := func(key string) int {
		req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("k1"); got != http.StatusTooManyRequests {
		t.Fatalf("configured rate limit: %d, want 429", got)
	}
	if got := post("wrong"); got != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d, want 401", got)
	}
	resp, err := hc.Get(url + "/_fake/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st map[string]fake.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if s := st["openai.chat"]; s.Requests != 2 || s.Faults != 1 {
		t.Fatalf("openai.chat stats %+v, want 2 requests, 1 fault", s)
	}
}

func TestBadFlags(t *testing.T) {
	if err := run(context.Background(), []string{"--config", "/nonexistent.json"}, io.Discard, io.Discard); err == nil {
		t.Fatal("a missing config file was accepted")
	}
	if err := run(context.Background(), []string{"--addr", "nonsense"}, io.Discard, io.Discard); err == nil {
		t.Fatal("a bad address was accepted")
	}
}
