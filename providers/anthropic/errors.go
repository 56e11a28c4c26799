package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// quotaErrorCodes are the error.details.error_code values that mean the organisation may not
// spend more (some arrive with 429 or 402): waiting a minute does not help.
var quotaErrorCodes = map[string]bool{
	"contract_spend_limit_reached":            true,
	"enforced_spend_limit_reached":            true,
	"linked_organization_spend_limit_reached": true,
	"linked_organization_billing_unavailable": true,
}

// classify turns an error of the SDK into the domain's. raw is the HTTP response, when there
// was one.
func (p *Provider) classify(err error, raw *http.Response) *electrons.Error {
	var ae *sdk.Error
	if errors.As(err, &ae) {
		return apiError(ae, p.now())
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.As(err, &ne) && ne.Timeout():
		return providers.TransportError(ProviderName, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The connection dropped before the body was complete.
		e := providers.ErrTruncated(ProviderName)
		e.Err = err
		return e
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.As(err, &typ) || (raw != nil && raw.StatusCode < 300) {
		// The API answered, but not with its format (a proxy's page, a broken event).
		return providers.ErrMalformed(ProviderName, err)
	}
	return providers.TransportError(ProviderName, err)
}

// apiError classifies an error the API sent: a status with an error body, or an error event in a
// stream (whose status is the stream's 200). The error type decides, then the status when the
// type is missing or unknown (a proxy's 502, a future type).
func apiError(ae *sdk.Error, now time.Time) *electrons.Error {
	typ := string(ae.Type())
	var code electrons.Code
	switch typ {
	case "rate_limit_error":
		code = electrons.CodeRateLimited
	case "overloaded_error":
		code = electrons.CodeOverloaded
	case "api_error":
		code = electrons.CodeServerError
	case "timeout_error":
		code = electrons.CodeTimeout
	case "authentication_error", "permission_error":
		code = electrons.CodeAuthFailed
	case "billing_error":
		code = electrons.CodeQuotaExhausted
	case "invalid_request_error", "not_found_error", "request_too_large":
		code = electrons.CodeInvalidRequest
	default:
		code = providers.CodeForStatus(ae.StatusCode)
		if ae.StatusCode < 400 {
			code = electrons.CodeServerError // an error event of an unknown type
		}
	}
	switch ec := string(ae.ErrorCode()); {
	case quotaErrorCodes[ec]:
		code = electrons.CodeQuotaExhausted
	case ec == "ramp_limit_exceeded":
		code = electrons.CodeRateLimited
	}
	// The API reports an exhausted prepaid balance as a 400 invalid_request_error; only its
	// message tells it apart, and retrying does not help until someone pays.
	if code == electrons.CodeInvalidRequest && strings.Contains(strings.ToLower(ae.Message), "credit balance") {
		code = electrons.CodeQuotaExhausted
	}

	what := typ
	if what == "" {
		what = "error"
	}
	var msg string
	if ae.StatusCode >= 400 {
		msg = fmt.Sprintf("anthropic: %s (HTTP %d)", what, ae.StatusCode)
	} else {
		msg = fmt.Sprintf("anthropic: %s in the stream", what)
	}
	if ae.Message != "" {
		msg += ": " + ae.Message
	}
	e := &electrons.Error{Code: code, Message: msg, Err: ae}
	if ae.Response != nil {
		e.RetryAfter = retryAfter(ae.Response.Header, code, now)
	}
	return e
}

// The families of anthropic-ratelimit-* headers, each with -limit, -remaining and -reset.
var limitFamilies = []string{"requests", "tokens", "input-tokens", "output-tokens"}

// retryAfter is how long the API asks the caller to wait: retry-after-ms or retry-after when it
// sends one; for a rate limit without either, the reset of the limits it reports exhausted (the
// latest of them, since all must have reset), else the earliest reset ahead.
func retryAfter(h http.Header, code electrons.Code, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("retry-after-ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < float64(24*time.Hour/time.Millisecond) {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	if d := providers.ParseRetryAfter(h.Get("retry-after"), now); d > 0 {
		return d
	}
	if code != electrons.CodeRateLimited {
		return 0
	}
	var exhausted, soonest time.Duration
	for _, fam := range limitFamilies {
		reset, ok := parseReset(h.Get("anthropic-ratelimit-" + fam + "-reset"))
		if !ok || !reset.After(now) {
			continue
		}
		d := reset.Sub(now)
		if rem, err := strconv.Atoi(strings.TrimSpace(h.Get("anthropic-ratelimit-" + fam + "-remaining"))); err == nil && rem <= 0 {
			exhausted = max(exhausted, d)
		}
		if soonest == 0 || d < soonest {
			soonest = d
		}
	}
	if exhausted > 0 {
		return exhausted
	}
	return soonest
}

// limitsOf reads the limit state of an answer: the requests family of anthropic-ratelimit-*
// headers, or the tokens family when the requests one is absent. Nil when there is none.
func limitsOf(res *http.Response) *providers.LimitState {
	if res == nil {
		return nil
	}
	return parseLimits(res.Header)
}

func parseLimits(h http.Header) *providers.LimitState {
	for _, fam := range []string{"requests", "tokens"} {
		limit, err := strconv.Atoi(strings.TrimSpace(h.Get("anthropic-ratelimit-" + fam + "-limit")))
		if err != nil || limit < 0 {
			continue
		}
		remaining, err := strconv.Atoi(strings.TrimSpace(h.Get("anthropic-ratelimit-" + fam + "-remaining")))
		if err != nil || remaining < 0 {
			continue
		}
		reset, _ := parseReset(h.Get("anthropic-ratelimit-" + fam + "-reset"))
		return &providers.LimitState{Limit: limit, Remaining: remaining, Reset: reset}
	}
	return nil
}

// parseReset reads a reset header: an RFC 3339 timestamp.
func parseReset(v string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
