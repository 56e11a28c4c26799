package delivery

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons/internal/testenv"
)

// fetch GETs u and returns the status, the body and the headers.
func fetch(t *testing.T, method, u string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body, resp.Header
}

// testStore is what every Store must do.
func testStore(t *testing.T, s Store) {
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	data := bytes.Repeat([]byte("\x89PNG\r\n\x1a\n artifact bytes "), 1000)
	key := "req_01/art_01 é.png"
	if err := s.Put(ctx, key, "image/png", data); err != nil {
		t.Fatalf("Put: %v", err)
	}

	rc, info, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("Get returned %d bytes, want %d", len(got), len(data))
	}
	if info.Key != key || info.ContentType != "image/png" || info.Size != int64(len(data)) || info.LastModified.IsZero() {
		t.Fatalf("info = %+v", info)
	}

	u, err := s.URL(ctx, key, time.Hour)
	if err != nil {
		t.Fatalf("URL: %v", err)
	}
	status, body, h := fetch(t, http.MethodGet, u)
	if status != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("GET %s: %d, %d bytes", u, status, len(body))
	}
	if ct := h.Get("Content-Type"); ct != "image/png" {
		t.Fatalf("content type %q", ct)
	}

	// Put replaces; an empty content type is stored as octet-stream.
	if err := s.Put(ctx, key, "", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	rc, info, err = s.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(rc)
	rc.Close()
	if string(got) != "v2" || info.ContentType != "application/octet-stream" || info.Size != 2 {
		t.Fatalf("after replace: %q, %+v", got, info)
	}
	// An empty object is an object.
	if err := s.Put(ctx, "empty", "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	if rc, info, err := s.Get(ctx, "empty"); err != nil || info.Size != 0 {
		t.Fatalf("empty object: %+v, %v", info, err)
	} else {
		rc.Close()
	}

	for _, missing := range []string{"req_01/none.png", "req_01", "req_01/art_01 é.png/below"} {
		if _, _, err := s.Get(ctx, missing); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get(%q) = %v, want ErrNotFound", missing, err)
		}
	}
	for _, bad := range []string{"", "../x", "a/../../x", "/abs", "a//b", ".hidden", "a/./b", "a\\b", "a\x00b", strings.Repeat("k", MaxKeyLength+1)} {
		if err := s.Put(ctx, bad, "text/plain", []byte("x")); !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("Put(%q) = %v, want ErrInvalidKey", bad, err)
		}
		if _, _, err := s.Get(ctx, bad); !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("Get(%q) = %v, want ErrInvalidKey", bad, err)
		}
		if _, err := s.URL(ctx, bad, time.Hour); !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("URL(%q) = %v, want ErrInvalidKey", bad, err)
		}
	}
}

// localStore starts a LocalStore served by an httptest server.
func localStore(t *testing.T) (*LocalStore, string) {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	dir := filepath.Join(t.TempDir(), "artifacts")
	s := NewLocalStore(dir, srv.URL+"/", []byte("test signing key"))
	h = s.Handler()
	return s, dir
}

func TestLocalStore(t *testing.T) {
	t.Parallel()
	s, _ := localStore(t)
	testStore(t, s)
}

func TestLocalStoreURLs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := localStore(t)
	data := []byte("RIFF....WAVEfmt ")
	if err := s.Put(ctx, "req_1/speech.wav", "audio/wav", data); err != nil {
		t.Fatal(err)
	}
	good, err := s.URL(ctx, "req_1/speech.wav", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	status, body, h := fetch(t, http.MethodGet, good)
	if status != http.StatusOK || string(body) != string(data) || h.Get("Content-Length") != "16" || h.Get("Content-Type") != "audio/wav" {
		t.Fatalf("GET: %d %q %v", status, body, h)
	}
	if status, body, h := fetch(t, http.MethodHead, good); status != http.StatusOK || len(body) != 0 || h.Get("Content-Length") != "16" {
		t.Fatalf("HEAD: %d %q %v", status, body, h)
	}

	u, _ := url.Parse(good)
	with := func(mod func(u *url.URL, q url.Values)) string {
		c := *u
		q := c.Query()
		mod(&c, q)
		c.RawQuery = q.Encode()
		return c.String()
	}
	sig := u.Query().Get("sig")
	flipped := string(sig[0]^1) + sig[1:]
	forbidden := map[string]string{
		"tampered signature": with(func(_ *url.URL, q url.Values) { q.Set("sig", flipped) }),
		"no signature":       with(func(_ *url.URL, q url.Values) { q.Del("sig") }),
		"non-hex signature":  with(func(_ *url.URL, q url.Values) { q.Set("sig", "zz") }),
		"longer expiry":      with(func(_ *url.URL, q url.Values) { q.Set("expires", q.Get("expires")+"0") }),
		"no expiry":          with(func(_ *url.URL, q url.Values) { q.Del("expires") }),
		"other key":          with(func(c *url.URL, _ url.Values) { c.Path = "/artifacts/req_1/other.wav" }),
		"signed by another": func() string {
			other := NewLocalStore(t.TempDir(), "http://"+u.Host, []byte("another key"))
			o, _ := other.URL(ctx, "req_1/speech.wav", time.Minute)
			return o
		}(),
	}
	for name, bad := range forbidden {
		if status, _, _ := fetch(t, http.MethodGet, bad); status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, status)
		}
	}

	// A valid signature for a missing object: 404.
	missing, _ := s.URL(ctx, "req_1/missing.wav", time.Minute)
	if status, _, _ := fetch(t, http.MethodGet, missing); status != http.StatusNotFound {
		t.Errorf("missing: status %d, want 404", status)
	}

	// Expiry: the same URL a little over a minute later.
	s.now = func() time.Time { return time.Now().Add(61 * time.Second) }
	if status, _, _ := fetch(t, http.MethodGet, good); status != http.StatusForbidden {
		t.Errorf("expired: status %d, want 403", status)
	}
	if _, err := s.URL(ctx, "req_1/speech.wav", 0); err == nil {
		t.Error("URL with ttl 0 succeeded")
	}
}

func TestLocalStoreStaysInsideDir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, dir := localStore(t)
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "req_1/a.txt", "text/plain", []byte("a")); err != nil {
		t.Fatal(err)
	}
	// A symbolic link planted in the tree must not lead out of it.
	if err := os.Symlink(outside, filepath.Join(dir, localObjects, "req_1", "link.txt")); err != nil {
		t.Fatal(err)
	}
	if rc, _, err := s.Get(ctx, "req_1/link.txt"); err == nil {
		rc.Close()
		t.Fatal("Get followed a symbolic link out of the store")
	}
	// Encoded traversal in a request path never reaches the file system.
	u, _ := s.URL(ctx, "req_1/a.txt", time.Minute)
	for _, p := range []string{"/artifacts/..%2f..%2fsecret.txt", "/artifacts/req_1/..%2F..%2F..%2Fsecret.txt"} {
		bad := strings.Replace(u, "/artifacts/req_1/a.txt", p, 1)
		if status, body, _ := fetch(t, http.MethodGet, bad); status == http.StatusOK || strings.Contains(string(body), "secret") {
			t.Fatalf("%s: %d %q", p, status, body)
		}
	}
	// No temporary files are left behind.
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestS3Store(t *testing.T) {
	t.Parallel()
	env := testenv.S3(t)
	ctx := context.Background()
	s, err := NewS3Store(ctx, S3Config{
		Endpoint:  env.Endpoint,
		AccessKey: env.AccessKey,
		SecretKey: env.SecretKey,
		Bucket:    env.Bucket,
		Region:    env.Region,
	})
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, s)
}

func TestS3StoreCreatesBucket(t *testing.T) {
	t.Parallel()
	env := testenv.S3(t)
	ctx := context.Background()
	cfg := S3Config{
		Endpoint:  "http://" + env.Endpoint,
		AccessKey: env.AccessKey,
		SecretKey: env.SecretKey,
		Bucket:    env.Bucket + "-new",
		Region:    env.Region,
	}
	s, err := NewS3Store(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.client.RemoveBucket(context.Background(), cfg.Bucket); err != nil {
			t.Errorf("remove bucket %s: %v", cfg.Bucket, err)
		}
	})
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// A second store finds the bucket there.
	if _, err := NewS3Store(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	bad := cfg
	bad.SecretKey = "wrong"
	bad.Bucket = env.Bucket
	if _, err := NewS3Store(ctx, bad); err == nil {
		t.Fatal("wrong credentials accepted")
	}
}
