package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/distributed-electrons/electrons/api/client"
	"github.com/distributed-electrons/electrons/internal/oracle"
	"github.com/distributed-electrons/electrons/internal/testenv"
)

const adminKey = "de_test_bootstrap_admin_key_0001"

// platform is the services one test's servers share: a database, a NATS namespace, a bucket.
type platform struct {
	t    *testing.T
	db   *testenv.DBEnv
	nats *testenv.NATSEnv
	s3   *testenv.S3Env
}

func newPlatform(t *testing.T) *platform {
	t.Helper()
	return &platform{t: t, db: testenv.DB(t), nats: testenv.NATS(t), s3: testenv.S3(t)}
}

// env is the configuration of a server on this platform, with overrides.
func (p *platform) env(over map[string]string) map[string]string {
	e := map[string]string{
		"ELECTRONS_DATABASE_URL":           p.db.URL,
		"ELECTRONS_NATS_URL":               p.nats.URL,
		"ELECTRONS_NATS_NAMESPACE":         p.nats.Namespace,
		"ELECTRONS_S3_ENDPOINT":            p.s3.Endpoint,
		"ELECTRONS_S3_ACCESS_KEY":          p.s3.AccessKey,
		"ELECTRONS_S3_SECRET_KEY":          p.s3.SecretKey,
		"ELECTRONS_S3_BUCKET":              p.s3.Bucket,
		"ELECTRONS_S3_REGION":              p.s3.Region,
		"ELECTRONS_HTTP_ADDR":              "127.0.0.1:0",
		"ELECTRONS_DATA_DIR":               p.t.TempDir(),
		"ELECTRONS_BOOTSTRAP_KEY":          adminKey,
		"ELECTRONS_WEBHOOK_ALLOW_PRIVATE":  "true",
		"ELECTRONS_WEBHOOK_RETRY_SCHEDULE": "0s,200ms,400ms,800ms,1s,1s,1s,1s",
		"ELECTRONS_LOG_LEVEL":              "warn",
	}
	for k, v := range over {
		e[k] = v
	}
	return e
}

// server is one in-process `electrons serve`.
type server struct {
	URL    string
	cancel context.CancelFunc
	done   chan error
}

var listenLine = regexp.MustCompile(`listening on (http://\S+)`)

// start runs `electrons serve` in this process (the real run function) and waits until it listens.
func (p *platform) start(over map[string]string, args ...string) *server {
	t := p.t
	t.Helper()
	env := p.env(over)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := run(ctx, append([]string{"serve"}, args...), func(k string) string { return env[k] }, pw, testWriter{t})
		pw.CloseWithError(fmt.Errorf("server exited: %v", err))
		s.done <- err
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
		close(urlc)
	}()
	select {
	case u, ok := <-urlc:
		if !ok {
			cancel()
			t.Fatalf("server did not start: %v", <-s.done)
		}
		s.URL = u
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("server did not start within 60s")
	}
	t.Cleanup(s.stop)
	return s
}

func (s *server) stop() {
	s.cancel()
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
	}
}

// testWriter sends server logs to the test log, so that they show only when a test fails.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	defer func() { _ = recover() }() // a log line after the test ended
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// apiClient returns a client whose every answer is checked against the OpenAPI document.
func apiClient(t *testing.T, baseURL, key string) *client.Client {
	o := oracle.New(t)
	hc := &http.Client{Transport: o.Transport(t, http.DefaultTransport), Timeout: 60 * time.Second}
	return client.New(baseURL, key, client.WithHTTPClient(hc))
}

// hook is one webhook the receiver got.
type hook struct {
	ID   string
	Type string
	Data struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
}

// receiver is a webhook endpoint that verifies every signature with the Standard Webhooks
// reference library, and answers with a scripted status.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	got    []hook
	bad    []string
	answer func(n int) int // status for the n-th request (from 1); nil: 200
	notify chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, notify: make(chan struct{}, 1)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.handle))
	t.Cleanup(r.srv.Close)
	return r
}

// newInstanceReceiver returns a receiver that verifies with the secret of c's instance.
func newInstanceReceiver(t *testing.T, c *client.Client) *receiver {
	t.Helper()
	inst, err := c.GetInstance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := newReceiver(t)
	r.setSecret(inst.WebhookSecret)
	return r
}

// count is how many webhooks were accepted.
func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func (r *receiver) setSecret(s string) {
	r.mu.Lock()
	r.secret = s
	r.mu.Unlock()
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.got) + len(r.bad) + 1
	wh, err := standardwebhooks.NewWebhook(r.secret)
	if err == nil {
		err = wh.Verify(body, req.Header)
	}
	if err != nil {
		r.bad = append(r.bad, fmt.Sprintf("%s: %v", req.Header.Get("webhook-id"), err))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var d hook
	if err := json.Unmarshal(body, &d); err != nil {
		r.bad = append(r.bad, "body: "+err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	d.ID = req.Header.Get("webhook-id")
	status := http.StatusOK
	if r.answer != nil {
		status = r.answer(n)
	}
	if status/100 == 2 {
		r.got = append(r.got, d)
	} else {
		r.bad = append(r.bad, fmt.Sprintf("scripted %d", status))
	}
	select {
	case r.notify <- struct{}{}:
	default:
	}
	w.WriteHeader(status)
}

// waitFor waits until cond holds, or fails after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// buildBinary builds the electrons binary once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "electrons-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "electrons")
	out, err := exec.Command("go", "build", "-race", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})
