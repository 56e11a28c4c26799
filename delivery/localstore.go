package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Subdirectories of a LocalStore: object bytes and their content types live in parallel
// trees, so that no key can collide with another key's metadata.
const (
	localObjects = "objects"
	localMeta    = "meta"
)

// LocalStore keeps artifacts in a local directory and serves them through its Handler at
// signed, expiring URLs. It is the store of `electrons dev` and of setups without S3.
// Every replica that serves URLs must share the directory and the signing key.
type LocalStore struct {
	dir     string
	baseURL string
	key     []byte
	now     func() time.Time
}

var _ Store = (*LocalStore)(nil)

// NewLocalStore returns a store keeping files under dir (created when first needed), whose
// URLs begin with baseURL (such as "http://127.0.0.1:8080") and are signed with signingKey.
// An empty signingKey is replaced by a random one, so that URLs are valid only for the life
// of this process.
func NewLocalStore(dir string, baseURL string, signingKey []byte) *LocalStore {
	if len(signingKey) == 0 {
		signingKey = make([]byte, 32)
		if _, err := rand.Read(signingKey); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
	}
	return &LocalStore{
		dir:     dir,
		baseURL: strings.TrimSuffix(baseURL, "/"),
		key:     append([]byte(nil), signingKey...),
		now:     time.Now,
	}
}

// root opens the store's directory, creating it if needed. Every file operation goes through
// an os.Root, so that even a symbolic link planted in the tree cannot lead outside it.
func (s *LocalStore) root() (*os.Root, error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	r, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, fmt.Errorf("open store directory: %w", err)
	}
	return r, nil
}

func localName(tree, key string) string {
	return filepath.FromSlash(path.Join(tree, key))
}

// Put stores data under key: it writes a temporary file and renames it into place, so that
// readers never see a partial object.
func (s *LocalStore) Put(ctx context.Context, key, contentType string, data []byte) error {
	if err := ValidKey(key); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	root, err := s.root()
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	defer root.Close()
	// The content type goes first: an object that exists always has its own.
	if err := writeAtomic(root, localName(localMeta, key), []byte(contentType)); err != nil {
		return fmt.Errorf("put %s: content type: %w", key, err)
	}
	if err := writeAtomic(root, localName(localObjects, key), data); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

func writeAtomic(root *os.Root, name string, data []byte) (err error) {
	dir := filepath.Dir(name)
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	// Keys have no segment beginning with a dot, so the temporary name cannot be a key.
	tmp := filepath.Join(dir, ".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = root.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return root.Rename(tmp, name)
}

// Get opens the object under key.
func (s *LocalStore) Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	f, info, err := s.open(ctx, key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	return f, info, nil
}

func (s *LocalStore) open(ctx context.Context, key string) (*os.File, ObjectInfo, error) {
	if err := ValidKey(key); err != nil {
		return nil, ObjectInfo{}, fmt.Errorf("get %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, ObjectInfo{}, fmt.Errorf("get %s: %w", key, err)
	}
	root, err := s.root()
	if err != nil {
		return nil, ObjectInfo{}, fmt.Errorf("get %s: %w", key, err)
	}
	defer root.Close()
	f, err := root.Open(localName(localObjects, key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return nil, ObjectInfo{}, fmt.Errorf("get %s: %w", key, ErrNotFound)
		}
		return nil, ObjectInfo{}, fmt.Errorf("get %s: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, ObjectInfo{}, fmt.Errorf("get %s: %w", key, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, ObjectInfo{}, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	ct := "application/octet-stream"
	if b, err := root.ReadFile(localName(localMeta, key)); err == nil && len(b) > 0 {
		ct = string(b)
	}
	return f, ObjectInfo{Key: key, ContentType: ct, Size: st.Size(), LastModified: st.ModTime()}, nil
}

// isNotDir reports whether err says a path component is a file, as when "a/b" is looked up
// while "a" is an object: the object "a/b" does not exist.
func isNotDir(err error) bool {
	return errors.Is(err, syscall.ENOTDIR)
}

// URL returns baseURL + "/artifacts/" + key + "?expires=<unix>&sig=<hex HMAC-SHA256>", valid
// for ttl. It does not check that the object exists.
func (s *LocalStore) URL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", fmt.Errorf("url %s: %w", key, err)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("url %s: ttl %s is not positive", key, ttl)
	}
	expires := s.now().Add(ttl).Unix()
	q := url.Values{}
	q.Set("expires", strconv.FormatInt(expires, 10))
	q.Set("sig", hex.EncodeToString(s.sign(key, expires)))
	return s.baseURL + "/artifacts/" + escapeKey(key) + "?" + q.Encode(), nil
}

func (s *LocalStore) sign(key string, expires int64) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte("GET\n"))
	h.Write([]byte(key))
	h.Write([]byte("\n"))
	h.Write(strconv.AppendInt(nil, expires, 10))
	return h.Sum(nil)
}

func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// Ping checks that the directory exists or can be created.
func (s *LocalStore) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ping local store: %w", err)
	}
	root, err := s.root()
	if err != nil {
		return fmt.Errorf("ping local store: %w", err)
	}
	return root.Close()
}

// Handler serves GET (and HEAD) /artifacts/{key...}: 403 unless the URL carries a valid,
// unexpired signature from URL, 404 if there is no such object, else the object with its
// stored content type, Content-Length and range support. Mount it at "/artifacts/" without
// stripping the prefix.
func (s *LocalStore) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /artifacts/{key...}", s.serve)
	return mux
}

func (s *LocalStore) serve(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	q := r.URL.Query()
	expires, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	if err != nil {
		http.Error(w, "missing or invalid expires", http.StatusForbidden)
		return
	}
	now := s.now().Unix()
	if now > expires {
		http.Error(w, "link expired", http.StatusForbidden)
		return
	}
	sig, err := hex.DecodeString(q.Get("sig"))
	if err != nil || !hmac.Equal(sig, s.sign(key, expires)) {
		http.Error(w, "invalid signature", http.StatusForbidden)
		return
	}
	f, info, err := s.open(r.Context(), key)
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalidKey) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "cannot read artifact", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", info.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	// Artifacts come from providers: never let one run as a page of our origin.
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Cache-Control", "private, max-age="+strconv.FormatInt(expires-now, 10))
	http.ServeContent(w, r, "", info.LastModified, f)
}
