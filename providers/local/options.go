package local

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/distributed-electrons/electrons"
)

// The values of input.options.fail.
const (
	failRateLimit = "rate_limit"
	failServer    = "server"
	failTimeout   = "timeout"
	failBadOutput = "bad_output"
)

// defaultRetryAfter is what a simulated rate limit asks the caller to wait, short enough for
// tests and demos to see the retry happen.
const defaultRetryAfter = time.Second

// options are the parsed input.options that shape every task type.
type options struct {
	latency      time.Duration
	fail         string
	failTimes    int
	hasFailTimes bool
	retryAfter   time.Duration
	chunkDelay   time.Duration
}

// parseOptions reads the options every task type honours. Values of the wrong type are refused
// rather than ignored, so a typo in a test's options shows up as an error and not as a test that
// silently exercises nothing.
func parseOptions(m map[string]any) (options, error) {
	o := options{retryAfter: defaultRetryAfter}
	var err error
	if o.latency, _, err = optMillis(m, "latency_ms"); err != nil {
		return o, err
	}
	if o.chunkDelay, _, err = optMillis(m, "stream_chunk_delay_ms"); err != nil {
		return o, err
	}
	ra, ok, err := optMillis(m, "retry_after_ms")
	if err != nil {
		return o, err
	}
	if ok {
		o.retryAfter = ra
	}
	if o.failTimes, o.hasFailTimes, err = optInt(m, "fail_times"); err != nil {
		return o, err
	}
	if o.hasFailTimes && o.failTimes < 0 {
		return o, invalid("input.options.fail_times", "input.options.fail_times must not be negative")
	}
	fail, _, err := optString(m, "fail")
	if err != nil {
		return o, err
	}
	switch fail {
	case "", failRateLimit, failServer, failTimeout, failBadOutput:
		o.fail = fail
	default:
		return o, invalid("input.options.fail",
			"input.options.fail must be one of rate_limit, server, timeout or bad_output, not %q", fail)
	}
	return o, nil
}

// failError is the error a simulated failure returns.
func (o options) failError() error {
	switch o.fail {
	case failRateLimit:
		return &electrons.Error{
			Code:       electrons.CodeRateLimited,
			Message:    "simulated rate limit (input.options.fail)",
			RetryAfter: o.retryAfter,
		}
	case failServer:
		return electrons.Errorf(electrons.CodeServerError, "simulated server error (input.options.fail)")
	case failTimeout:
		return electrons.Errorf(electrons.CodeTimeout, "simulated timeout (input.options.fail)")
	}
	return nil
}

// optNumber reads a number. JSON decoding gives float64; Go callers may pass ints; json.Number
// and numeric strings come from decoders configured with UseNumber or from hand-written bodies.
func optNumber(m map[string]any, key string) (float64, bool, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return 0, false, nil
	}
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case int32:
		f = float64(n)
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return 0, false, invalid("input.options."+key, "input.options.%s must be a number", key)
		}
		f = x
	case string:
		x, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return 0, false, invalid("input.options."+key, "input.options.%s must be a number", key)
		}
		f = x
	default:
		return 0, false, invalid("input.options."+key, "input.options.%s must be a number", key)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, invalid("input.options."+key, "input.options.%s must be a finite number", key)
	}
	return f, true, nil
}

// maxOptionInt bounds integer options so the conversion from float64 cannot overflow.
const maxOptionInt = 1 << 31

// optInt reads a whole number.
func optInt(m map[string]any, key string) (int, bool, error) {
	f, ok, err := optNumber(m, key)
	if err != nil || !ok {
		return 0, ok, err
	}
	if f != math.Trunc(f) || math.Abs(f) > maxOptionInt {
		return 0, false, invalid("input.options."+key, "input.options.%s must be a whole number", key)
	}
	return int(f), true, nil
}

// maxOptionMillis bounds durations at a day: anything longer is a mistake, and the bound keeps the
// conversion to time.Duration from overflowing.
const maxOptionMillis = 24 * 60 * 60 * 1000

// optMillis reads a non-negative duration in milliseconds.
func optMillis(m map[string]any, key string) (time.Duration, bool, error) {
	f, ok, err := optNumber(m, key)
	if err != nil || !ok {
		return 0, ok, err
	}
	if f < 0 || f > maxOptionMillis {
		return 0, false, invalid("input.options."+key,
			"input.options.%s must be between 0 and %d milliseconds", key, maxOptionMillis)
	}
	return time.Duration(f * float64(time.Millisecond)), true, nil
}

// optString reads a string.
func optString(m map[string]any, key string) (string, bool, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, invalid("input.options."+key, "input.options.%s must be a string", key)
	}
	return s, true, nil
}
