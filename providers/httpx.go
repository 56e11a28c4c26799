package providers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/distributed-electrons/electrons"
)

const maxRetryAfter = 31 * 24 * time.Hour

// ParseRetryAfter reads a retry-after header value: delay seconds (possibly fractional) or an
// HTTP date. It returns 0 when v is empty or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		// A wait beyond a month is not a wait but a broken header; cap it rather than overflow.
		return time.Duration(min(secs, maxRetryAfter.Seconds()) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}

// CodeForStatus is the domain code of an HTTP status when the provider's body says no more.
func CodeForStatus(status int) electrons.Code {
	switch {
	case status == http.StatusTooManyRequests:
		return electrons.CodeRateLimited
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return electrons.CodeAuthFailed
	case status == http.StatusPaymentRequired:
		return electrons.CodeQuotaExhausted
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		return electrons.CodeTimeout
	case status == 529 || status == http.StatusServiceUnavailable:
		return electrons.CodeOverloaded
	case status >= 500:
		return electrons.CodeServerError
	case status >= 400:
		return electrons.CodeInvalidRequest
	}
	return electrons.CodeServerError
}

// TransportError classifies an error of the HTTP round trip itself: deadlines and timeouts are
// CodeTimeout, everything else (refused connections, resets) CodeServerError.
func TransportError(provider string, err error) *electrons.Error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &electrons.Error{Code: electrons.CodeTimeout, Message: provider + ": the call timed out", Err: err}
	}
	if errors.Is(err, context.Canceled) {
		return &electrons.Error{Code: electrons.CodeTimeout, Message: provider + ": the call was cancelled", Err: err}
	}
	return &electrons.Error{Code: electrons.CodeServerError, Message: fmt.Sprintf("%s: %v", provider, err), Err: err}
}

// ErrTruncated is the failure of a stream that ended before the provider said it was complete.
func ErrTruncated(provider string) *electrons.Error {
	return electrons.Errorf(electrons.CodeServerError, "%s: the stream ended before the answer was complete", provider)
}

// ErrMalformed is the failure of an answer that is not in the provider's format.
func ErrMalformed(provider string, err error) *electrons.Error {
	return &electrons.Error{Code: electrons.CodeServerError, Message: provider + ": malformed response", Err: err}
}

// DefaultHTTPTimeout bounds a whole provider call (connecting, waiting for the answer and
// reading it) when an adapter is given no HTTP client of its own. Generating an image, a long
// answer or a speech can take minutes.
const DefaultHTTPTimeout = 5 * time.Minute

// DefaultHTTPClient is the client an adapter uses when its config gives none: a new
// http.Client with the DefaultHTTPTimeout timeout, on a transport of its own (a copy of the
// default one), so that each provider keeps its own connection pool and nothing that closes
// the default transport's idle connections breaks a call in flight.
func DefaultHTTPClient() *http.Client {
	return &http.Client{Timeout: DefaultHTTPTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// Excerpt is s with its white space folded, cut to at most n bytes on a character boundary and
// marked with "…" when cut: a provider's error text, fit to go into an error message.
func Excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
