package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrNotFound is wrapped by Store.Get when no object has the key.
var ErrNotFound = errors.New("object not found")

// ErrInvalidKey is wrapped by the stores when a key is not acceptable.
var ErrInvalidKey = errors.New("invalid object key")

// MaxKeyLength is the longest object key the stores accept (S3's own limit).
const MaxKeyLength = 1024

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key          string
	ContentType  string
	Size         int64
	LastModified time.Time
}

// Store keeps artifacts and hands out expiring URLs to them. Implementations are safe for
// concurrent use.
type Store interface {
	// Put stores data under key, replacing what was there.
	Put(ctx context.Context, key, contentType string, data []byte) error
	// Get opens the object under key; the caller closes it. A missing object gives an error
	// wrapping ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error)
	// URL returns a URL from which anyone may GET the object until ttl has passed.
	URL(ctx context.Context, key string, ttl time.Duration) (string, error)
	// Ping checks that the store is reachable, for readiness probes.
	Ping(ctx context.Context) error
}

// ValidKey reports why key is not a safe object key, or nil. Keys are slash-separated paths
// of non-empty segments (such as "req_…/art_….png") in printable UTF-8 with no backslash;
// no segment begins with a dot, which also rules out "." and "..". Both stores apply the same
// rules, so a key that works on one works on the other.
func ValidKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLength {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyLength)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("%w: not UTF-8", ErrInvalidKey)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || r == '\\' || r == utf8.RuneError {
			return fmt.Errorf("%w: %q contains a control character or backslash", ErrInvalidKey, key)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return fmt.Errorf("%w: %q has an empty path segment", ErrInvalidKey, key)
		}
		if seg[0] == '.' {
			return fmt.Errorf("%w: %q has a path segment beginning with a dot", ErrInvalidKey, key)
		}
	}
	return nil
}
