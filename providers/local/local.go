package local

import (
	"context"
	"sync"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// ProviderName is the name the local provider registers under.
const ProviderName = "local"

// The models the local provider serves. Calls carry one of them in providers.Call.Model, but the
// output depends on the task type only, so that a route may point any local model at any task
// without surprises.
const (
	ModelText  = "local-text"
	ModelImage = "local-image"
	ModelAudio = "local-audio"
	ModelVideo = "local-video"
	ModelStock = "local-stock"
)

// The attempt counters behind input.options.fail_times live in memory; these bound how long an
// idle counter is kept and how large the map may grow before idle counters are swept, so that a
// long-running dev server does not accumulate one entry per request for ever.
const (
	counterIdleTTL    = time.Hour
	counterSweepAbove = 1024
	counterSweepEvery = time.Minute
)

// Provider is the local provider. Create it with New; it is safe for concurrent use.
type Provider struct {
	mu        sync.Mutex
	attempts  map[string]*attemptCounter
	lastSweep time.Time
	renders   map[string]int // polls seen per pending render
}

// attemptCounter counts the simulated failures already served for one request.
type attemptCounter struct {
	failed   int
	lastSeen time.Time
}

// New returns a local provider.
func New() *Provider {
	return &Provider{attempts: map[string]*attemptCounter{}}
}

var _ providers.Provider = (*Provider)(nil)

// Name returns "local".
func (p *Provider) Name() string { return ProviderName }

// Generate produces the output for call from its input alone. Options in call.Input.Options
// (latency_ms, fail, fail_times, retry_after_ms, stream_chunk_delay_ms, and for stock media kind and
// per_page) shape how it behaves; the package documentation lists them. Every error is an
// *electrons.Error.
func (p *Provider) Generate(ctx context.Context, call providers.Call) (*providers.Output, error) {
	opts, err := parseOptions(call.Input.Options)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxError(err)
	}
	if err := wait(ctx, opts.latency); err != nil {
		return nil, err
	}

	if out, err := p.startRender(call); out != nil || err != nil {
		return out, err
	}

	bad := false
	if opts.fail != "" && p.shouldFail(call.RequestID, opts) {
		if opts.fail != failBadOutput {
			return nil, opts.failError()
		}
		bad = true
	}

	switch call.TaskType {
	case electrons.TaskText:
		return generateText(ctx, call, opts, bad)
	case electrons.TaskImage:
		return generateImage(call.Input, bad)
	case electrons.TaskAudio:
		return generateAudio(call.Input, bad)
	case electrons.TaskVideo:
		return generateVideo(call.Input, bad)
	case electrons.TaskStockMedia:
		return searchStock(call.Input, bad)
	}
	return nil, &electrons.Error{
		Code:    electrons.CodeInvalidRequest,
		Message: "the local provider does not serve task type " + quote(string(call.TaskType)),
		Param:   "task_type",
	}
}

// shouldFail reports whether this call is one of the simulated failures. Without fail_times every
// call fails; with it, only the first fail_times calls for the request do, so retries can be seen
// to recover.
func (p *Provider) shouldFail(requestID string, opts options) bool {
	if !opts.hasFailTimes {
		return true
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.attempts[requestID]
	if c == nil {
		p.sweepLocked(now)
		c = &attemptCounter{}
		p.attempts[requestID] = c
	}
	c.lastSeen = now
	if c.failed < opts.failTimes {
		c.failed++
		return true
	}
	return false
}

// sweepLocked drops idle counters once the map has grown; sweeping at most once a minute keeps
// inserts cheap when many requests are genuinely live.
func (p *Provider) sweepLocked(now time.Time) {
	if len(p.attempts) < counterSweepAbove || now.Sub(p.lastSweep) < counterSweepEvery {
		return
	}
	p.lastSweep = now
	for id, c := range p.attempts {
		if now.Sub(c.lastSeen) > counterIdleTTL {
			delete(p.attempts, id)
		}
	}
}

// wait sleeps for d unless ctx ends first, in which case the caller gets a timeout error, as it
// would from a real provider that did not answer in time.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctxError(ctx.Err())
	}
}

// ctxError turns the end of the caller's context into the timeout every adapter reports for a call
// that did not finish in time, keeping the context error in the chain for errors.Is.
func ctxError(err error) error {
	return &electrons.Error{
		Code:    electrons.CodeTimeout,
		Message: "the call ended before the local provider finished",
		Err:     err,
	}
}

// invalid builds the invalid_request error for the input field param.
func invalid(param, format string, args ...any) error {
	e := electrons.Errorf(electrons.CodeInvalidRequest, format, args...)
	e.Param = param
	return e
}

// encodeError reports a failure to encode our own output, which only a bug can cause; it is a
// server error so that the platform treats it like any provider's internal failure.
func encodeError(what string, err error) error {
	return &electrons.Error{
		Code:    electrons.CodeServerError,
		Message: "the local provider could not encode the " + what,
		Err:     err,
	}
}

func quote(s string) string { return `"` + s + `"` }
