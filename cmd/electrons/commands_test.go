package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/api/client"
	"github.com/distributed-electrons/electrons/internal/testenv"
)

func TestConfigErrorsNameTheSetting(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"ELECTRONS_LOG_FORMAT": "xml"}, nil, "ELECTRONS_LOG_FORMAT"},
		{map[string]string{"ELECTRONS_DATABASE_URL": "mysql://x"}, nil, "ELECTRONS_DATABASE_URL"},
		{map[string]string{"ELECTRONS_WEBHOOK_ALLOW_PRIVATE": "maybe"}, nil, "ELECTRONS_WEBHOOK_ALLOW_PRIVATE"},
		{map[string]string{"ELECTRONS_WORKERS": "many"}, nil, "ELECTRONS_WORKERS"},
		{map[string]string{"ELECTRONS_CALL_TIMEOUT": "soon"}, nil, "ELECTRONS_CALL_TIMEOUT"},
		{map[string]string{"ELECTRONS_S3_ENDPOINT": "http://s3:9000", "ELECTRONS_S3_ACCESS_KEY": "a", "ELECTRONS_S3_SECRET_KEY": "b"}, nil, "ELECTRONS_S3_ENDPOINT"},
		{map[string]string{"ELECTRONS_S3_ENDPOINT": "s3:9000"}, nil, "ELECTRONS_S3_ACCESS_KEY"},
		{map[string]string{"ELECTRONS_WEBHOOK_RETRY_SCHEDULE": "5s,often"}, nil, "ELECTRONS_WEBHOOK_RETRY_SCHEDULE"},
		{nil, []string{"--roles", "api,cook"}, "ELECTRONS_ROLES"},
		{nil, []string{"--http-addr", "8080"}, "ELECTRONS_HTTP_ADDR"},
		{map[string]string{"ELECTRONS_NATS_NAMESPACE": "a.b"}, nil, "ELECTRONS_NATS_NAMESPACE"},
		{map[string]string{"OPENAI_BASE_URL": "api.openai.com"}, nil, "OPENAI_BASE_URL"},
		{nil, []string{"--shotstack-env", "prod"}, "SHOTSTACK_ENV"},
	}
	for _, c := range cases {
		var stderr bytes.Buffer
		err := run(context.Background(), append([]string{"serve"}, c.args...), func(k string) string { return c.env[k] }, io.Discard, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: error %v, want one naming %s", c.env, c.args, err, c.want)
		}
	}
	if err := run(context.Background(), []string{"bake"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Error("an unknown command ran")
	}
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	env := map[string]string{"ELECTRONS_DATABASE_URL": db.URL}
	do := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"migrate"}, args...), func(k string) string { return env[k] }, &out, io.Discard); err != nil {
			t.Fatalf("migrate %v: %v", args, err)
		}
		return out.String()
	}
	if st := do("status"); strings.Contains(st, "pending") || !strings.Contains(st, "applied") {
		t.Fatalf("status of a migrated database:\n%s", st)
	}
	if out := do("down"); !strings.Contains(out, "rolled back 5") {
		t.Fatalf("down: %s", out)
	}
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.tables WHERE table_name = 'models'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("models table after rolling back the seed: %d %v", n, err)
	}
	if st := do("status"); !strings.Contains(st, "pending") {
		t.Fatalf("status after down:\n%s", st)
	}
	do("up")
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM models`).Scan(&n); err != nil || n < 17 {
		t.Fatalf("models after up: %d %v", n, err)
	}
}

// TestDevCommand runs `electrons dev`: the embedded NATS server, the local artifact directory
// served through signed URLs, and the admin key printed on start-up.
func TestDevCommand(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	env := map[string]string{
		"ELECTRONS_DATABASE_URL": db.URL,
		"ELECTRONS_DATA_DIR":     t.TempDir(),
		"ELECTRONS_HTTP_ADDR":    "127.0.0.1:0",
		"ELECTRONS_LOG_LEVEL":    "warn",
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"dev"}, func(k string) string { return env[k] }, pw, testWriter{t})
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	t.Cleanup(func() { cancel(); <-done })
	sc := bufio.NewScanner(pr)
	var url, key string
	for sc.Scan() {
		line := sc.Text()
		if m := listenLine.FindStringSubmatch(line); m != nil {
			url = m[1]
		}
		if strings.HasPrefix(line, "de_") {
			key = line
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if url == "" || key == "" {
		t.Fatalf("dev printed url %q key %q", url, key)
	}
	c := apiClient(t, url, key)
	r, _, err := c.SubmitRequest(context.Background(), client.CreateRequest{Input: electrons.Input{Prompt: "a dev lighthouse", Size: "40x30"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.TaskType != electrons.TaskImage {
		t.Fatalf("classified as %s, want image", r.TaskType)
	}
	got := waitStatus(t, c, r.ID, electrons.StatusSucceeded)
	a := got.Result.Artifacts[0]
	if !strings.HasPrefix(a.URL, url+"/artifacts/") {
		t.Fatalf("artifact URL %s is not served by the dev server", a.URL)
	}
	resp, err := http.Get(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256(data)
	if resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != a.SHA256 {
		t.Fatalf("artifact: %s, sha256 match %v", resp.Status, hex.EncodeToString(sum[:]) == a.SHA256)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	// A tampered signature is refused.
	resp, err = http.Get(strings.Replace(a.URL, "sig=", "sig=00", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("tampered artifact URL: %s, want 403", resp.Status)
	}
}

// TestRolesSplit runs the roles in separate processes: one API, one router, one worker pool
// with delivery.
func TestRolesSplit(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	apiSrv := p.start(nil, "--roles", "api")
	p.start(nil, "--roles", "router")
	p.start(nil, "--roles", "worker,delivery")
	c := apiClient(t, apiSrv.URL, adminKey)
	rcv := newInstanceReceiver(t, c)
	ids := submitMixed(t, c, 12, rcv.srv.URL, nil)
	waitFor(t, time.Minute, "12 webhooks", func() bool { return rcv.count() == 12 })
	for _, id := range ids {
		if r, err := c.GetRequest(context.Background(), id); err != nil || r.Status != electrons.StatusSucceeded {
			t.Fatalf("%s: %v %v", id, r, err)
		}
	}
}

// TestRiverUIIsAdminOnly: River's UI answers admin keys (bearer, or basic auth from a browser)
// and nobody else.
func TestRiverUIIsAdminOnly(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	srv := p.start(nil)
	var out bytes.Buffer
	env := p.env(nil)
	if err := run(context.Background(), []string{"keys", "create", "--instance", "default"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	userKey := lines[len(lines)-1]
	get := func(path string, set func(*http.Request)) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		set(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, _ := get("/riverui/", func(*http.Request) {}); st != http.StatusUnauthorized {
		t.Fatalf("no key: %d", st)
	}
	if st, _ := get("/riverui/", func(r *http.Request) { r.SetBasicAuth("me", userKey) }); st != http.StatusForbidden {
		t.Fatalf("non-admin key: %d", st)
	}
	if st, body := get("/riverui/", func(r *http.Request) { r.SetBasicAuth("admin", adminKey) }); st != http.StatusOK || !strings.Contains(strings.ToLower(body), "<html") {
		t.Fatalf("admin over basic auth: %d", st)
	}
	if st, body := get("/riverui/api/queues", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+adminKey) }); st != http.StatusOK || !strings.Contains(body, "local") {
		t.Fatalf("admin API: %d %.200s", st, body)
	}
}
