package delivery

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// SecretPrefix begins every webhook secret.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a webhook timestamp may be from the verifier's clock when Verify
// is given no tolerance of its own; it is the Standard Webhooks recommendation.
const DefaultTolerance = 5 * time.Minute

// secretBytes is the length of the random key behind a new secret (Standard Webhooks asks for
// 24 to 64 bytes).
const secretBytes = 24

// Verification errors. Verify wraps one of them.
var (
	ErrMissingHeaders      = errors.New("missing webhook headers")
	ErrInvalidTimestamp    = errors.New("invalid webhook timestamp")
	ErrTimestampTooOld     = errors.New("webhook timestamp too old")
	ErrTimestampTooNew     = errors.New("webhook timestamp too new")
	ErrNoMatchingSignature = errors.New("no matching webhook signature")
	ErrInvalidSecret       = errors.New("invalid webhook secret")
)

// NewSecret returns a new webhook signing secret: "whsec_" followed by the base64 encoding of
// 24 random bytes.
func NewSecret() string {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey decodes a secret into its HMAC key. The "whsec_" prefix is optional, as in the
// reference libraries.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSecret, err)
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("%w: empty key", ErrInvalidSecret)
	}
	return key, nil
}

func mac(key []byte, msgID string, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msgID))
	h.Write([]byte{'.'})
	h.Write(strconv.AppendInt(nil, ts, 10))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Sign returns the Standard Webhooks signature "v1,<base64 HMAC-SHA256>" of the message msgID
// sent at ts (whole Unix seconds) with the given body.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, msgID, ts.Unix(), body)), nil
}

// SignAll signs with every secret and joins the signatures with spaces, the value of the
// webhook-signature header while a rotated secret is still live. It fails if there is no
// secret or any secret is invalid.
func SignAll(secrets []string, msgID string, ts time.Time, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", fmt.Errorf("%w: no secret", ErrInvalidSecret)
	}
	sigs := make([]string, 0, len(secrets))
	for i, s := range secrets {
		sig, err := Sign(s, msgID, ts, body)
		if err != nil {
			return "", fmt.Errorf("secret %d: %w", i, err)
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// Verify checks a received webhook: the webhook-id, webhook-timestamp and webhook-signature
// headers must be present, the timestamp within tolerance of now (DefaultTolerance when
// tolerance ≤ 0), and at least one v1 signature of the header must match one of the secrets.
// Signatures of other versions are ignored. The error wraps one of the Err… sentinels above.
func Verify(secrets []string, header http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	msgID := header.Get(HeaderWebhookID)
	tsText := header.Get(HeaderWebhookTimestamp)
	sigText := header.Get(HeaderWebhookSignature)
	if msgID == "" || tsText == "" || sigText == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrInvalidTimestamp, tsText)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	// Compare in seconds so that far-away timestamps cannot overflow a time.Duration.
	tol := int64(tolerance / time.Second)
	nowS := now.Unix()
	if ts < nowS-tol {
		return fmt.Errorf("%w: %d is more than %s before %d", ErrTimestampTooOld, ts, tolerance, nowS)
	}
	if ts > nowS+tol {
		return fmt.Errorf("%w: %d is more than %s after %d", ErrTimestampTooNew, ts, tolerance, nowS)
	}

	var given [][]byte
	for _, vs := range strings.Fields(sigText) {
		version, sig, ok := strings.Cut(vs, ",")
		if !ok || version != "v1" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || len(b) != sha256.Size {
			continue
		}
		given = append(given, b)
	}
	if len(given) == 0 {
		return fmt.Errorf("%w: no v1 signature in header", ErrNoMatchingSignature)
	}
	valid := 0
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			continue
		}
		valid++
		want := mac(key, msgID, ts, body)
		for _, g := range given {
			if hmac.Equal(want, g) {
				return nil
			}
		}
	}
	if valid == 0 {
		return fmt.Errorf("%w: no usable secret", ErrInvalidSecret)
	}
	return ErrNoMatchingSignature
}
