package delivery

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/distributed-electrons/electrons"
)

// received is what a test receiver saw.
type received struct {
	header http.Header
	body   []byte
}

// receiver starts an httptest server that records each webhook and answers status.
func receiver(t *testing.T, status int) (*httptest.Server, <-chan received) {
	t.Helper()
	ch := make(chan received, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ch <- received{header: r.Header.Clone(), body: body}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func TestSendSignedWebhook(t *testing.T) {
	t.Parallel()
	srv, got := receiver(t, http.StatusNoContent)
	secret, old := NewSecret(), NewSecret()
	body := []byte(`{"type":"request.succeeded","timestamp":"2026-01-01T00:00:00Z","data":{"id":"req_1"}}`)
	s := NewSender(SenderConfig{AllowPrivate: true, UserAgent: "test-agent"})

	before := time.Now().Unix()
	a := s.Send(context.Background(), srv.URL+"/hook", "msg_1", body, []string{secret, old})
	if !a.OK() || a.StatusCode != http.StatusNoContent || a.Err != nil {
		t.Fatalf("attempt = %+v", a)
	}
	if a.Duration <= 0 {
		t.Fatalf("duration %s", a.Duration)
	}
	r := <-got
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content-type %q", ct)
	}
	if ua := r.header.Get("User-Agent"); ua != "test-agent" {
		t.Fatalf("user-agent %q", ua)
	}
	if id := r.header.Get("webhook-id"); id != "msg_1" {
		t.Fatalf("webhook-id %q", id)
	}
	ts, err := strconv.ParseInt(r.header.Get("webhook-timestamp"), 10, 64)
	if err != nil || ts < before || ts > time.Now().Unix() {
		t.Fatalf("webhook-timestamp %q", r.header.Get("webhook-timestamp"))
	}
	if n := len(strings.Fields(r.header.Get("webhook-signature"))); n != 2 {
		t.Fatalf("%d signatures", n)
	}
	if string(r.body) != string(body) {
		t.Fatalf("body %q", r.body)
	}
	// Each secret verifies with the reference library, and with ours.
	for _, sec := range []string{secret, old} {
		wh, err := standardwebhooks.NewWebhook(sec)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(r.body, r.header); err != nil {
			t.Fatalf("reference library: %v", err)
		}
		if err := Verify([]string{sec}, r.header, r.body, 0, time.Now()); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
}

func TestSendFailures(t *testing.T) {
	t.Parallel()
	s := NewSender(SenderConfig{AllowPrivate: true})
	for _, status := range []int{http.StatusBadRequest, http.StatusGone, http.StatusInternalServerError} {
		srv, _ := receiver(t, status)
		a := s.Send(context.Background(), srv.URL, "msg_1", []byte(`{}`), []string{NewSecret()})
		if a.OK() || a.StatusCode != status || a.Err == nil {
			t.Fatalf("status %d: attempt = %+v", status, a)
		}
		if a.ResponseSnippet != `{"ok":true}` {
			t.Fatalf("snippet %q", a.ResponseSnippet)
		}
		if a.Gone() != (status == http.StatusGone) {
			t.Fatalf("status %d: Gone = %v", status, a.Gone())
		}
	}
	// No secret: nothing is sent.
	srv, got := receiver(t, http.StatusOK)
	if a := s.Send(context.Background(), srv.URL, "msg_1", []byte(`{}`), nil); a.OK() || !errors.Is(a.Err, ErrInvalidSecret) {
		t.Fatalf("no secret: %+v", a)
	}
	select {
	case <-got:
		t.Fatal("an unsigned webhook was sent")
	default:
	}
	// Nobody listening.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	if a := s.Send(context.Background(), dead.URL, "msg_1", []byte(`{}`), []string{NewSecret()}); a.OK() || a.StatusCode != 0 || a.Err == nil {
		t.Fatalf("closed server: %+v", a)
	}
}

func TestSendSnippetIsBounded(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("é", 1<<20))
	}))
	t.Cleanup(srv.Close)
	a := NewSender(SenderConfig{AllowPrivate: true}).Send(context.Background(), srv.URL, "msg_1", []byte(`{}`), []string{NewSecret()})
	if !a.OK() {
		t.Fatalf("attempt = %+v", a)
	}
	if len(a.ResponseSnippet) > snippetBytes+3 || len(a.ResponseSnippet) < snippetBytes/2 {
		t.Fatalf("snippet of %d bytes", len(a.ResponseSnippet))
	}
}

func TestSendDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var followed atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Store(true)
	}))
	t.Cleanup(target.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)

	a := NewSender(SenderConfig{AllowPrivate: true}).Send(context.Background(), srv.URL, "msg_1", []byte(`{}`), []string{NewSecret()})
	if a.OK() || a.StatusCode != http.StatusTemporaryRedirect || a.Err == nil {
		t.Fatalf("attempt = %+v", a)
	}
	if followed.Load() {
		t.Fatal("the redirect was followed")
	}
}

func TestSendTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })

	s := NewSender(SenderConfig{AllowPrivate: true, Timeout: 200 * time.Millisecond})
	a := s.Send(context.Background(), srv.URL, "msg_1", []byte(`{}`), []string{NewSecret()})
	if a.OK() || a.StatusCode != 0 || a.Err == nil {
		t.Fatalf("attempt = %+v", a)
	}
	var ne interface{ Timeout() bool }
	if !errors.As(a.Err, &ne) || !ne.Timeout() {
		t.Fatalf("error %v is not a timeout", a.Err)
	}

	// The caller's context also bounds an attempt.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a = NewSender(SenderConfig{AllowPrivate: true}).Send(ctx, srv.URL, "msg_1", []byte(`{}`), []string{NewSecret()})
	if a.OK() || !errors.Is(a.Err, context.Canceled) {
		t.Fatalf("cancelled: %+v", a)
	}
}

func TestSendRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	srv, got := receiver(t, http.StatusOK)
	s := NewSender(SenderConfig{})
	for _, u := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		a := s.Send(context.Background(), u, "msg_1", []byte(`{}`), []string{NewSecret()})
		if a.OK() || a.StatusCode != 0 || !errors.Is(a.Err, ErrForbiddenAddress) {
			t.Fatalf("%s: attempt = %+v", u, a)
		}
	}
	select {
	case <-got:
		t.Fatal("the receiver was reached")
	default:
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://93.184.215.14/hooks", false, true},
		{"http://93.184.215.14:8443/hooks?x=1", false, true},
		{"https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hooks", false, true},
		{"http://127.0.0.1:8080/hooks", true, true},
		{"http://localhost/hooks", true, true},
		{"http://127.0.0.1:8080/hooks", false, false},
		{"http://localhost/hooks", false, false},
		{"http://10.1.2.3/hooks", false, false},
		{"http://172.16.0.1/hooks", false, false},
		{"http://192.168.1.1/hooks", false, false},
		{"http://100.64.0.1/hooks", false, false},
		{"http://169.254.169.254/latest/meta-data", false, false},
		{"http://0.0.0.0/", false, false},
		{"http://[::1]/hooks", false, false},
		{"http://[::ffff:127.0.0.1]/hooks", false, false},
		{"http://[fd00:ec2::254]/", false, false},
		{"http://[fe80::1]/", false, false},
		{"", true, false},
		{"/hooks", true, false},
		{"ftp://example.com/hooks", true, false},
		{"javascript:alert(1)", true, false},
		{"https:opaque", true, false},
		{"https:///hooks", true, false},
		{"https://user:pass@93.184.215.14/hooks", true, false},
		{"https://93.184.215.14:99999/hooks", true, false},
		{"https://93.184.215.14/" + strings.Repeat("a", MaxURLLength), true, false},
		{"https://exa mple.com/", true, false},
		{"https://does-not-exist.invalid/hooks", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			err := CheckURL(context.Background(), tt.url, tt.allowPrivate)
			if tt.ok {
				if err != nil {
					t.Fatalf("CheckURL = %v", err)
				}
				return
			}
			var e *electrons.Error
			if !errors.As(err, &e) || e.Code != electrons.CodeInvalidRequest || e.Param != "callback_url" || e.Message == "" {
				t.Fatalf("CheckURL = %#v", err)
			}
		})
	}
	err := CheckURL(context.Background(), "http://127.0.0.1/", false)
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("loopback: %v", err)
	}
}

func TestDialControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		network, address string
		ok               bool
	}{
		{"tcp4", "93.184.215.14:443", true},
		{"tcp4", "93.184.215.14:8443", true},
		{"tcp6", "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:80", true},
		{"tcp4", "127.0.0.1:443", false},
		{"tcp4", "10.0.0.1:443", false},
		{"tcp4", "100.100.100.100:443", false},
		{"tcp4", "169.254.169.254:80", false},
		{"tcp6", "[::1]:443", false},
		{"tcp6", "[fd00:ec2::254]:80", false},
		{"udp4", "93.184.215.14:443", false},
	}
	for _, tt := range tests {
		err := dialControl(tt.network, tt.address, nil)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrForbiddenAddress)) {
			t.Errorf("dialControl(%s, %s) = %v", tt.network, tt.address, err)
		}
	}
}
