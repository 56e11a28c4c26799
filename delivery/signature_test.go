package delivery

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The Standard Webhooks test vector.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func webhookHeader(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set(HeaderWebhookID, id)
	h.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderWebhookSignature, sig)
	return h
}

func TestSignVector(t *testing.T) {
	t.Parallel()
	got, err := Sign(vecSecret, vecID, time.Unix(vecTS, 0), []byte(vecBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != vecSig {
		t.Fatalf("Sign = %q, want %q", got, vecSig)
	}
	// The prefix is optional.
	got, err = Sign(strings.TrimPrefix(vecSecret, SecretPrefix), vecID, time.Unix(vecTS, 0), []byte(vecBody))
	if err != nil || got != vecSig {
		t.Fatalf("Sign without prefix = %q, %v", got, err)
	}
}

func TestSignMatchesReference(t *testing.T) {
	t.Parallel()
	for range 20 {
		secret := NewSecret()
		ts := time.Unix(1700000000, 0)
		body := []byte(`{"type":"request.succeeded","data":{"id":"req_1"}}`)
		ours, err := Sign(secret, "msg_1", ts, body)
		if err != nil {
			t.Fatal(err)
		}
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := wh.Sign("msg_1", ts, body)
		if err != nil {
			t.Fatal(err)
		}
		if ours != theirs {
			t.Fatalf("ours %q, reference %q", ours, theirs)
		}
		if err := wh.VerifyIgnoringTimestamp(body, webhookHeader("msg_1", ts.Unix(), ours)); err != nil {
			t.Fatalf("reference rejects our signature: %v", err)
		}
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, b := NewSecret(), NewSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	key, err := secretKey(a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, SecretPrefix) || len(key) != 24 {
		t.Fatalf("secret %q: key of %d bytes", a, len(key))
	}
}

func TestSignAll(t *testing.T) {
	t.Parallel()
	old := NewSecret()
	sig, err := SignAll([]string{vecSecret, old}, vecID, time.Unix(vecTS, 0), []byte(vecBody))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(sig, " ")
	if len(parts) != 2 || parts[0] != vecSig {
		t.Fatalf("SignAll = %q", sig)
	}
	// A receiver that knows only the old secret still verifies, with ours and the reference.
	h := webhookHeader(vecID, vecTS, sig)
	if err := Verify([]string{old}, h, []byte(vecBody), time.Minute, time.Unix(vecTS, 0)); err != nil {
		t.Fatal(err)
	}
	wh, _ := standardwebhooks.NewWebhook(old)
	if err := wh.VerifyIgnoringTimestamp([]byte(vecBody), h); err != nil {
		t.Fatal(err)
	}

	if _, err := SignAll(nil, vecID, time.Unix(vecTS, 0), nil); !errors.Is(err, ErrInvalidSecret) {
		t.Fatalf("no secrets: %v", err)
	}
	if _, err := SignAll([]string{vecSecret, "whsec_!!"}, vecID, time.Unix(vecTS, 0), nil); !errors.Is(err, ErrInvalidSecret) {
		t.Fatalf("bad secret: %v", err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(vecTS, 0)
	body := []byte(vecBody)
	tests := []struct {
		name    string
		secrets []string
		header  http.Header
		body    []byte
		now     time.Time
		want    error
	}{
		{"vector", []string{vecSecret}, webhookHeader(vecID, vecTS, vecSig), body, now, nil},
		{"second secret", []string{NewSecret(), vecSecret}, webhookHeader(vecID, vecTS, vecSig), body, now, nil},
		{"among others", []string{vecSecret}, webhookHeader(vecID, vecTS, "v2,abc v1,Zm9v "+vecSig), body, now, nil},
		{"within tolerance", []string{vecSecret}, webhookHeader(vecID, vecTS, vecSig), body, now.Add(4 * time.Minute), nil},
		{"too old", []string{vecSecret}, webhookHeader(vecID, vecTS, vecSig), body, now.Add(6 * time.Minute), ErrTimestampTooOld},
		{"too new", []string{vecSecret}, webhookHeader(vecID, vecTS, vecSig), body, now.Add(-6 * time.Minute), ErrTimestampTooNew},
		{"other body", []string{vecSecret}, webhookHeader(vecID, vecTS, vecSig), []byte(`{"test": 2432232315}`), now, ErrNoMatchingSignature},
		{"other id", []string{vecSecret}, webhookHeader("msg_other", vecTS, vecSig), body, now, ErrNoMatchingSignature},
		{"other secret", []string{NewSecret()}, webhookHeader(vecID, vecTS, vecSig), body, now, ErrNoMatchingSignature},
		{"v2 only", []string{vecSecret}, webhookHeader(vecID, vecTS, strings.Replace(vecSig, "v1", "v2", 1)), body, now, ErrNoMatchingSignature},
		{"garbage signature", []string{vecSecret}, webhookHeader(vecID, vecTS, "nonsense"), body, now, ErrNoMatchingSignature},
		{"bad timestamp", []string{vecSecret}, func() http.Header {
			h := webhookHeader(vecID, vecTS, vecSig)
			h.Set(HeaderWebhookTimestamp, "soon")
			return h
		}(), body, now, ErrInvalidTimestamp},
		{"missing id", []string{vecSecret}, webhookHeader("", vecTS, vecSig), body, now, ErrMissingHeaders},
		{"missing signature", []string{vecSecret}, webhookHeader(vecID, vecTS, ""), body, now, ErrMissingHeaders},
		{"no usable secret", []string{"whsec_%%%"}, webhookHeader(vecID, vecTS, vecSig), body, now, ErrInvalidSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(tt.secrets, tt.header, tt.body, 5*time.Minute, tt.now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyDefaultTolerance(t *testing.T) {
	t.Parallel()
	h := webhookHeader(vecID, vecTS, vecSig)
	if err := Verify([]string{vecSecret}, h, []byte(vecBody), 0, time.Unix(vecTS+299, 0)); err != nil {
		t.Fatal(err)
	}
	if err := Verify([]string{vecSecret}, h, []byte(vecBody), 0, time.Unix(vecTS+301, 0)); !errors.Is(err, ErrTimestampTooOld) {
		t.Fatal(err)
	}
}

// FuzzVerify checks that Verify never panics on any header and body, and that it accepts what
// Sign produced for exactly that message and nothing else.
func FuzzVerify(f *testing.F) {
	f.Add(vecID, int64(vecTS), []byte(vecBody), vecSig, int64(0))
	f.Add("", int64(0), []byte{}, "v1,", int64(-1))
	f.Add("msg_x", int64(-62135596800), []byte("\x00\xff"), "v1,a v1,b", int64(1<<40))
	f.Fuzz(func(t *testing.T, id string, ts int64, body []byte, sigHeader string, skew int64) {
		now := time.Unix(ts, 0).Add(time.Duration(skew%600) * time.Second)
		// Arbitrary headers must never panic.
		_ = Verify([]string{vecSecret}, webhookHeader(id, ts, sigHeader), body, 5*time.Minute, now)

		sig, err := Sign(vecSecret, id, time.Unix(ts, 0), body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h[http.CanonicalHeaderKey(HeaderWebhookID)] = []string{id}
		h[http.CanonicalHeaderKey(HeaderWebhookTimestamp)] = []string{strconv.FormatInt(ts, 10)}
		h[http.CanonicalHeaderKey(HeaderWebhookSignature)] = []string{sig}
		err = Verify([]string{vecSecret}, h, body, 5*time.Minute, time.Unix(ts, 0))
		if id == "" {
			if !errors.Is(err, ErrMissingHeaders) {
				t.Fatalf("empty id: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Verify rejects its own signature: %v", err)
		}
		// One changed body byte must be refused.
		other := append([]byte(nil), body...)
		if len(other) == 0 {
			other = []byte{0}
		} else {
			other[len(other)/2] ^= 1
		}
		if err := Verify([]string{vecSecret}, h, other, 5*time.Minute, time.Unix(ts, 0)); !errors.Is(err, ErrNoMatchingSignature) {
			t.Fatalf("Verify accepts a changed body: %v", err)
		}
		// As must a signature meant for another message.
		if sigHeader != sig {
			h[http.CanonicalHeaderKey(HeaderWebhookSignature)] = []string{sigHeader}
			if err := Verify([]string{vecSecret}, h, body, 5*time.Minute, time.Unix(ts, 0)); err == nil && !strings.Contains(sigHeader, sig[3:]) {
				t.Fatalf("Verify accepts %q for %q", sigHeader, sig)
			}
		}
	})
}
