package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
	sdk "github.com/openai/openai-go/v3"
)

// apiError is OpenAI's error object, the value of "error" in an error body or a stream event.
type apiError struct {
	Message string
	Type    string
	Param   string
	Code    string
}

// contentPolicyCodes are the error codes by which OpenAI (and Azure OpenAI, which speaks the
// same dialect) refuse a prompt or an output on safety grounds.
var contentPolicyCodes = map[string]bool{
	"content_policy_violation": true,
	"content_filter":           true,
	"moderation_blocked":       true,
}

// maxErrorBody bounds how much of an error body is read when the SDK could not parse it.
const maxErrorBody = 64 << 10

// callError turns an error of the SDK's round trip into an *electrons.Error. raw is the
// response the SDK saw (option.WithResponseInto), nil when there was none.
func callError(ctx context.Context, provider string, err error, raw *http.Response, now time.Time) *electrons.Error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return providers.TransportError(provider, ctxErr)
	}
	var ae *sdk.Error
	if errors.As(err, &ae) {
		h := http.Header{}
		if ae.Response != nil {
			h = ae.Response.Header
		}
		e := apiError{Message: ae.Message, Type: ae.Type, Param: ae.Param, Code: ae.Code}
		if e.Message == "" && ae.Response != nil && ae.Response.Body != nil {
			// The SDK keeps the body; servers that speak a looser dialect (vLLM's top-level
			// "message", llama.cpp's numeric code) leave the typed fields empty.
			body, _ := io.ReadAll(io.LimitReader(ae.Response.Body, maxErrorBody))
			e = parseErrorBody(body)
		}
		return classify(provider, ae.StatusCode, e, h, now, err)
	}
	if raw != nil && raw.StatusCode >= 400 {
		// The SDK answers with a plain error when the error body is not OpenAI's JSON; the
		// status and headers still say what happened.
		var e apiError
		if raw.Body != nil {
			body, _ := io.ReadAll(io.LimitReader(raw.Body, maxErrorBody))
			e = parseErrorBody(body)
		}
		return classify(provider, raw.StatusCode, e, raw.Header, now, err)
	}
	return providers.TransportError(provider, err)
}

// parseErrorBody reads an error body in OpenAI's shape ({"error": {"message", "type", "param",
// "code"}}) or the looser shapes of OpenAI-compatible servers ({"error": "text"}, or the fields
// at the top level). What it cannot read stays empty.
func parseErrorBody(body []byte) apiError {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return apiError{Message: strings.TrimSpace(truncate(string(body), 500))}
	}
	if raw, ok := top["error"]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return apiError{Message: s}
		}
		var inner map[string]json.RawMessage
		if json.Unmarshal(raw, &inner) == nil {
			return errorFields(inner)
		}
	}
	return errorFields(top)
}

// errorFields picks OpenAI's error fields out of an object, accepting a code given as a number.
func errorFields(m map[string]json.RawMessage) apiError {
	return apiError{Message: jsonText(m["message"]), Type: jsonText(m["type"]), Param: jsonText(m["param"]), Code: jsonText(m["code"])}
}

// jsonText is a JSON string's value, a number's text, or "" for anything else.
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// classify maps an OpenAI error to a domain code. status is the HTTP status, or 0 for an
// error event inside a stream, where only the error's type and code speak.
func classify(provider string, status int, e apiError, h http.Header, now time.Time, cause error) *electrons.Error {
	code := errorCode(status, e)
	msg := e.Message
	if msg == "" {
		if status != 0 {
			msg = fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
		} else {
			msg = "error event in the stream"
		}
	}
	out := &electrons.Error{Code: code, Message: provider + ": " + truncate(msg, 1000), Param: e.Param, Err: cause}
	if h == nil {
		h = http.Header{}
	}
	switch code {
	case electrons.CodeRateLimited:
		out.RetryAfter = rateLimitWait(h, e.Message, now)
	case electrons.CodeOverloaded, electrons.CodeServerError, electrons.CodeConcurrencyLimited:
		out.RetryAfter = retryAfter(h, now)
	}
	return out
}

// errorCode decides the domain code of an OpenAI error.
func errorCode(status int, e apiError) electrons.Code {
	code, typ := strings.ToLower(e.Code), strings.ToLower(e.Type)
	switch {
	case code == "insufficient_quota" || typ == "insufficient_quota" || code == "billing_hard_limit_reached":
		return electrons.CodeQuotaExhausted
	case contentPolicyCodes[code] || contentPolicyCodes[typ]:
		return electrons.CodeContentPolicy
	}
	switch status {
	case 0:
		return streamErrorCode(code, typ)
	case http.StatusTooManyRequests:
		return electrons.CodeRateLimited
	case http.StatusUnauthorized, http.StatusForbidden:
		return electrons.CodeAuthFailed
	case http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity:
		return electrons.CodeInvalidRequest
	case http.StatusInternalServerError:
		return electrons.CodeServerError
	case http.StatusServiceUnavailable:
		return electrons.CodeOverloaded
	}
	return providers.CodeForStatus(status)
}

// streamErrorCode classifies an error event that arrived after the 200, from its code and type.
func streamErrorCode(code, typ string) electrons.Code {
	switch {
	case code == "rate_limit_exceeded" || typ == "requests" || typ == "tokens" || typ == "rate_limit_error":
		return electrons.CodeRateLimited
	case code == "invalid_api_key" || typ == "authentication_error" || typ == "permission_error":
		return electrons.CodeAuthFailed
	case strings.Contains(code, "overloaded") || strings.Contains(typ, "overloaded"):
		return electrons.CodeOverloaded
	case strings.Contains(code, "timeout") || strings.Contains(typ, "timeout"):
		return electrons.CodeTimeout
	case typ == "invalid_request_error" || code == "context_length_exceeded":
		return electrons.CodeInvalidRequest
	}
	return electrons.CodeServerError
}

// retryAfter reads retry-after-ms (OpenAI's, in milliseconds) and then retry-after.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("retry-after-ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < float64(math.MaxInt64/int64(time.Millisecond)) {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	return providers.ParseRetryAfter(h.Get("retry-after"), now)
}

// rateLimitWait is how long a 429 asks us to wait: retry-after-ms or retry-after where given;
// else the reset of the exhausted limit (requests or tokens); else the "try again in …" of the
// message. The reset headers say when a window refills, which is exactly the wait when that
// window is the one at zero.
func rateLimitWait(h http.Header, message string, now time.Time) time.Duration {
	if d := retryAfter(h, now); d > 0 {
		return d
	}
	reqReset, reqOK := ParseDuration(h.Get("x-ratelimit-reset-requests"))
	tokReset, tokOK := ParseDuration(h.Get("x-ratelimit-reset-tokens"))
	reqLeft, reqLeftOK := headerInt(h, "x-ratelimit-remaining-requests")
	tokLeft, tokLeftOK := headerInt(h, "x-ratelimit-remaining-tokens")
	switch {
	case reqOK && reqLeftOK && reqLeft == 0:
		return reqReset
	case tokOK && tokLeftOK && tokLeft == 0:
		return tokReset
	case reqOK || tokOK:
		return max(reqReset, tokReset)
	}
	return messageWait(message)
}

// messageWait reads OpenAI's "Please try again in 20s." (or "in 350ms", "in 1m2.5s") from a
// rate-limit message.
func messageWait(message string) time.Duration {
	i := strings.LastIndex(message, "try again in ")
	if i < 0 {
		return 0
	}
	rest := message[i+len("try again in "):]
	n := 0
	for n < len(rest) && (rest[n] == '.' || (rest[n] >= '0' && rest[n] <= '9') || (rest[n] >= 'a' && rest[n] <= 'z')) {
		n++
	}
	// The sentence's full stop is not part of the duration.
	rest = strings.TrimSuffix(rest[:n], ".")
	d, _ := ParseDuration(rest)
	return d
}

// headerInt reads a non-negative integer header.
func headerInt(h http.Header, name string) (int, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// parseLimits reads the request limit OpenAI reports on every answer
// (x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests). It
// returns nil when the answer carries none, as OpenAI-compatible servers' answers do.
func parseLimits(h http.Header, now time.Time) *providers.LimitState {
	limit, ok1 := headerInt(h, "x-ratelimit-limit-requests")
	left, ok2 := headerInt(h, "x-ratelimit-remaining-requests")
	if !ok1 || !ok2 {
		return nil
	}
	ls := &providers.LimitState{Limit: limit, Remaining: left}
	if d, ok := ParseDuration(h.Get("x-ratelimit-reset-requests")); ok {
		ls.Reset = now.Add(d)
	}
	return ls
}

// ParseDuration reads the durations of OpenAI's x-ratelimit-reset-* headers: Go-style
// sequences of decimal numbers with units ("1s", "6m0s", "120ms", "1h2m3.5s", "8.64s"), with
// "d" for days as well, and a bare number as seconds (as Azure OpenAI sends). It reports false
// for anything else, including negative and overflowing values.
func ParseDuration(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if isDecimal(s) {
		secs, err := strconv.ParseFloat(s, 64)
		if err != nil || secs < 0 || secs >= float64(math.MaxInt64)/float64(time.Second) {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	var total time.Duration
	for s != "" {
		// number
		i := 0
		for i < len(s) && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9')) {
			i++
		}
		if i == 0 {
			return 0, false
		}
		num := s[:i]
		s = s[i:]
		// unit
		j := 0
		for j < len(s) && s[j] != '.' && (s[j] < '0' || s[j] > '9') {
			j++
		}
		unit := s[:j]
		s = s[j:]
		var d time.Duration
		switch unit {
		case "d":
			h, err := time.ParseDuration(num + "h")
			if err != nil || h > math.MaxInt64/24 {
				return 0, false
			}
			d = h * 24
		case "h", "m", "s", "ms", "us", "µs", "μs", "ns":
			var err error
			d, err = time.ParseDuration(num + unit)
			if err != nil {
				return 0, false
			}
		default:
			return 0, false
		}
		if d < 0 || total > math.MaxInt64-d {
			return 0, false
		}
		total += d
	}
	return total, true
}

// isDecimal reports whether s is an unsigned decimal number without a unit.
func isDecimal(s string) bool {
	dots := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '.':
			dots++
		case s[i] < '0' || s[i] > '9':
			return false
		}
	}
	return dots <= 1 && s != "."
}
