package local

import (
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
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

// maxOptionDuration bounds the durations of the options: anything longer than a day is a mistake.
const maxOptionDuration = 24 * time.Hour

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
	if o.latency, _, err = providers.OptionMillis(m, "latency_ms", maxOptionDuration); err != nil {
		return o, err
	}
	if o.chunkDelay, _, err = providers.OptionMillis(m, "stream_chunk_delay_ms", maxOptionDuration); err != nil {
		return o, err
	}
	ra, ok, err := providers.OptionMillis(m, "retry_after_ms", maxOptionDuration)
	if err != nil {
		return o, err
	}
	if ok {
		o.retryAfter = ra
	}
	if o.failTimes, o.hasFailTimes, err = providers.OptionInt(m, "fail_times"); err != nil {
		return o, err
	}
	if o.hasFailTimes && o.failTimes < 0 {
		return o, providers.InvalidOption("fail_times", "must not be negative")
	}
	fail, _, err := providers.OptionString(m, "fail")
	if err != nil {
		return o, err
	}
	switch fail {
	case "", failRateLimit, failServer, failTimeout, failBadOutput:
		o.fail = fail
	default:
		return o, providers.InvalidOption("fail",
			"must be one of rate_limit, server, timeout or bad_output, not %q", fail)
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
