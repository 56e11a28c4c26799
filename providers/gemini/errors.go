package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"google.golang.org/genai"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// googleError is Google's error status, as the API sends it in {"error": {...}} and as a failed
// operation carries it in "error".
type googleError struct {
	Code    int              `json:"code"`
	Message string           `json:"message"`
	Status  string           `json:"status"`
	Details []map[string]any `json:"details"`
}

// classify turns any error of a call into an *electrons.Error: the API's own error statuses
// by their code, deadlines and cancellations as timeouts, undecodable answers as malformed,
// and the rest of the transport's failures as server errors.
func classify(err error) *electrons.Error {
	var e *electrons.Error
	if errors.As(err, &e) {
		return e
	}
	var apiErr genai.APIError
	if errors.As(err, &apiErr) {
		return fromStatus(googleError{Code: apiErr.Code, Message: apiErr.Message, Status: apiErr.Status, Details: apiErr.Details}, err)
	}
	var apiErrPtr *genai.APIError
	if errors.As(err, &apiErrPtr) && apiErrPtr != nil {
		a := *apiErrPtr
		return fromStatus(googleError{Code: a.Code, Message: a.Message, Status: a.Status, Details: a.Details}, err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return providers.TransportError(ProviderName, err)
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &typ) || errors.Is(err, io.ErrUnexpectedEOF) {
		return providers.ErrMalformed(ProviderName, err)
	}
	return providers.TransportError(ProviderName, err)
}

// fromStatus classifies one of Google's error statuses. The canonical status name decides; the
// HTTP code does when the body had none (a proxy's plain-text error, where the SDK puts the
// HTTP status line in Status).
func fromStatus(g googleError, cause error) *electrons.Error {
	info := readDetails(g.Details)
	msg := strings.TrimSpace(g.Message)
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	out := &electrons.Error{Message: "gemini: " + msg, RetryAfter: info.retryDelay, Err: cause}
	if msg == "" {
		out.Message = fmt.Sprintf("gemini: error %d %s", g.Code, g.Status)
	}
	switch g.Status {
	case "RESOURCE_EXHAUSTED":
		out.Code = electrons.CodeRateLimited
		if info.perDay {
			out.Code = electrons.CodeQuotaExhausted
		}
	case "UNAVAILABLE":
		out.Code = electrons.CodeOverloaded
	case "INTERNAL", "UNKNOWN", "DATA_LOSS", "ABORTED", "CANCELLED":
		out.Code = electrons.CodeServerError
	case "DEADLINE_EXCEEDED":
		out.Code = electrons.CodeTimeout
	case "UNAUTHENTICATED", "PERMISSION_DENIED":
		out.Code = electrons.CodeAuthFailed
	case "INVALID_ARGUMENT":
		out.Code = electrons.CodeInvalidRequest
		// A bad key is a 400 INVALID_ARGUMENT at Google, told apart only by its reason.
		switch {
		case info.keyInvalid || strings.Contains(msg, "API key not valid") || strings.Contains(msg, "API key expired"):
			out.Code = electrons.CodeAuthFailed
		case refusal(msg):
			// Veo ends an operation this way when its safety filters reject the prompt.
			out.Code = electrons.CodeContentPolicy
		}
	case "FAILED_PRECONDITION", "NOT_FOUND", "OUT_OF_RANGE", "ALREADY_EXISTS", "UNIMPLEMENTED":
		out.Code = electrons.CodeInvalidRequest
	default:
		out.Code = providers.CodeForStatus(g.Code)
		if g.Code == 0 {
			out.Code = electrons.CodeServerError
		}
	}
	return out
}

// refusal reports whether an INVALID_ARGUMENT message is a safety refusal rather than a
// malformed request; Google gives no reason code for it, only the words.
func refusal(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "usage guidelines") || strings.Contains(m, "safety filter") ||
		strings.Contains(m, "responsible ai")
}

// errorDetails is what the adapter reads from an error's details.
type errorDetails struct {
	retryDelay time.Duration // google.rpc.RetryInfo
	perDay     bool          // a google.rpc.QuotaFailure names a daily quota: waiting minutes will not help
	keyInvalid bool          // a google.rpc.ErrorInfo says the API key is invalid or expired
}

// readDetails reads the google.rpc details of an error. Unknown types and shapes are skipped.
func readDetails(details []map[string]any) errorDetails {
	var out errorDetails
	for _, d := range details {
		typ, _ := d["@type"].(string)
		switch {
		case strings.HasSuffix(typ, "google.rpc.RetryInfo"):
			if s, ok := d["retryDelay"].(string); ok {
				if delay, ok := parseDuration(s); ok {
					out.retryDelay = delay
				}
			}
		case strings.HasSuffix(typ, "google.rpc.QuotaFailure"):
			vs, _ := d["violations"].([]any)
			for _, v := range vs {
				m, _ := v.(map[string]any)
				id, _ := m["quotaId"].(string)
				metric, _ := m["quotaMetric"].(string)
				if strings.Contains(id, "PerDay") || strings.Contains(metric, "per_day") {
					out.perDay = true
				}
			}
		case strings.HasSuffix(typ, "google.rpc.ErrorInfo"):
			reason, _ := d["reason"].(string)
			if reason == "API_KEY_INVALID" || reason == "API_KEY_EXPIRED" {
				out.keyInvalid = true
			}
		}
	}
	return out
}

// maxDelay bounds a parsed delay, far above any real retryDelay, so that arithmetic on it
// cannot overflow.
const maxDelay = 24 * time.Hour

// parseDuration reads a protobuf JSON duration ("30s", "1.5s", "0.000000001s"): decimal
// seconds with at most nine fractional digits, then "s". Negative, malformed or missing values
// are refused; values beyond a day are capped at a day.
func parseDuration(s string) (time.Duration, bool) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "s")
	if !ok || num == "" {
		return 0, false
	}
	whole, frac, dotted := strings.Cut(num, ".")
	if whole == "" || len(frac) > 9 || (dotted && frac == "") {
		return 0, false
	}
	var secs int64
	for _, c := range whole {
		if c < '0' || c > '9' {
			return 0, false
		}
		if secs > int64(maxDelay/time.Second) {
			continue // already past the cap: keep validating, stop accumulating
		}
		secs = secs*10 + int64(c-'0')
	}
	var nanos int64
	for i := range 9 {
		nanos *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			nanos += int64(c - '0')
		}
	}
	if secs > int64(maxDelay/time.Second) {
		return maxDelay, true
	}
	d := time.Duration(secs)*time.Second + time.Duration(nanos)
	return min(d, maxDelay), true
}

// parseErrorBody reads Google's error envelope from a non-2xx body. It returns false when the
// body is not one.
func parseErrorBody(body []byte) (googleError, bool) {
	var env struct {
		Error *googleError `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Error == nil {
		return googleError{}, false
	}
	return *env.Error, true
}

// operationError reads a failed operation's "error" (a google.rpc.Status as a map).
func operationError(m map[string]any) googleError {
	var g googleError
	if c, ok := m["code"].(float64); ok && !math.IsNaN(c) && c >= 0 && c < 1000 {
		g.Code = int(c)
	}
	g.Message, _ = m["message"].(string)
	g.Status, _ = m["status"].(string)
	if g.Status == "" {
		g.Status = rpcCodeName(g.Code)
	}
	if ds, ok := m["details"].([]any); ok {
		for _, d := range ds {
			if dm, ok := d.(map[string]any); ok {
				g.Details = append(g.Details, dm)
			}
		}
	}
	return g
}

// rpcCodeName names a google.rpc.Code, as operation errors carry the number (8) where HTTP
// errors carry the HTTP status and the name.
func rpcCodeName(code int) string {
	names := []string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
		"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
		"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}
	if code > 0 && code < len(names) {
		return names[code]
	}
	return "UNKNOWN"
}
