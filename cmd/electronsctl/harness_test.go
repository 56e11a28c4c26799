package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons/internal/testenv"
)

// The end-to-end tests run electronsctl's run function in this process against
// the real server binary (package main of cmd/electrons cannot be imported),
// built once per test run and started per test on its own database, NATS
// namespace and bucket.

// e2eAdminKey is the bootstrap admin key of every test server.
const e2eAdminKey = "de_test_ctl_bootstrap_admin_key_01"

// binDir holds the server binary for this run; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "electronsctl-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// serverBinary builds cmd/electrons once per test run, on first use, so that
// the unit tests of this package do not pay for it.
var serverBinary = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(binDir, "electrons")
	out, err := exec.Command("go", "build", "-o", bin, "../electrons").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ../electrons: %v\n%s", err, out)
	}
	return bin, nil
})

// e2eServer is one `electrons serve` subprocess.
type e2eServer struct {
	URL  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done closes
	logs *syncBuffer
}

var listeningLine = regexp.MustCompile(`^electrons serve listening on (http://\S+)$`)

// startServer starts `electrons serve` on fresh services and waits until it
// listens. It is stopped (SIGTERM, then wait) when the test ends, before the
// services are torn down.
func startServer(t *testing.T) *e2eServer {
	t.Helper()
	bin, err := serverBinary()
	if err != nil {
		t.Fatal(err)
	}
	db, nc, s3 := testenv.DB(t), testenv.NATS(t), testenv.S3(t)
	settings := map[string]string{
		"ELECTRONS_DATABASE_URL":          db.URL,
		"ELECTRONS_NATS_URL":              nc.URL,
		"ELECTRONS_NATS_NAMESPACE":        nc.Namespace,
		"ELECTRONS_S3_ENDPOINT":           s3.Endpoint,
		"ELECTRONS_S3_ACCESS_KEY":         s3.AccessKey,
		"ELECTRONS_S3_SECRET_KEY":         s3.SecretKey,
		"ELECTRONS_S3_BUCKET":             s3.Bucket,
		"ELECTRONS_S3_REGION":             s3.Region,
		"ELECTRONS_HTTP_ADDR":             "127.0.0.1:0",
		"ELECTRONS_DATA_DIR":              t.TempDir(),
		"ELECTRONS_BOOTSTRAP_KEY":         e2eAdminKey,
		"ELECTRONS_WEBHOOK_ALLOW_PRIVATE": "true",
		"ELECTRONS_LOG_LEVEL":             "warn",
	}
	// Only what a process needs from ours: provider keys or ELECTRONS_*
	// settings of the developer's shell must not reach the server.
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range settings {
		env = append(env, k+"="+v)
	}

	s := &e2eServer{done: make(chan struct{}), logs: new(syncBuffer)}
	urlc := make(chan string, 1)
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = env
	s.cmd.Stdout = &lineWriter{fn: func(line string) {
		if m := listeningLine.FindStringSubmatch(line); m != nil {
			select {
			case urlc <- m[1]:
			default:
			}
		}
		s.logs.Write([]byte("stdout: " + line + "\n"))
	}}
	s.cmd.Stderr = s.logs
	s.cmd.WaitDelay = 5 * time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("server output:\n%s", s.logs.String())
		}
	})

	select {
	case s.URL = <-urlc:
	case <-s.done:
		t.Fatalf("server exited before listening: %v\n%s", s.err, s.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not listen within 60s\n%s", s.logs.String())
	}
	return s
}

// stop sends SIGTERM and waits for the process to exit, killing it if it does
// not within 30 s.
func (s *e2eServer) stop(t *testing.T) {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		if s.err != nil {
			t.Errorf("server exited after SIGTERM: %v", s.err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("server did not exit within 30s of SIGTERM; killing it")
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a process's
// output copiers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lineWriter calls fn with every complete line written to it.
type lineWriter struct {
	mu      sync.Mutex
	partial []byte
	fn      func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.fn(strings.TrimRight(string(w.partial[:i]), "\r"))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

// ctlResult is what one electronsctl invocation did.
type ctlResult struct {
	Stdout, Stderr string
	Err            error
}

// Code is the exit status the process would have had.
func (r ctlResult) Code() int { return exitCode(r.Err) }

// ctl runs electronsctl in this process against s with key, with an empty
// environment, and returns its output.
func (s *e2eServer) ctl(t *testing.T, key string, args ...string) ctlResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	all := append([]string{"--url", s.URL, "--key", key}, args...)
	err := run(ctx, all, func(string) string { return "" }, &out, &errOut)
	return ctlResult{Stdout: out.String(), Stderr: errOut.String(), Err: err}
}

// ok runs electronsctl and fails the test unless it exits 0.
func (s *e2eServer) ok(t *testing.T, key string, args ...string) ctlResult {
	t.Helper()
	r := s.ctl(t, key, args...)
	if r.Err != nil {
		t.Fatalf("electronsctl %s: exit %d: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code(), r.Err, r.Stdout, r.Stderr)
	}
	return r
}

// tableRows parses the first table in out (a line whose first cell is "ID" or
// "NAME", then rows up to a blank line) into one map per row, keyed by header.
// Cells are separated by two or more spaces; no cell of the tables parsed here
// holds two spaces in a row.
func tableRows(t *testing.T, out string) []map[string]string {
	t.Helper()
	sep := regexp.MustCompile(`\s{2,}`)
	lines := strings.Split(out, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "ID  ") || strings.HasPrefix(l, "NAME  ") {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatalf("no table in output:\n%s", out)
	}
	header := sep.Split(strings.TrimSpace(lines[start]), -1)
	var rows []map[string]string
	for _, l := range lines[start+1:] {
		if strings.TrimSpace(l) == "" {
			break
		}
		cells := sep.Split(strings.TrimSpace(l), -1)
		if len(cells) != len(header) {
			t.Fatalf("row %q has %d cells, header %q has %d", l, len(cells), header, len(header))
		}
		r := make(map[string]string, len(header))
		for i, h := range header {
			r[h] = cells[i]
		}
		rows = append(rows, r)
	}
	return rows
}

// poll calls cond until it holds, or fails the test after timeout.
func poll(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
