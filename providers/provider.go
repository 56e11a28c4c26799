// Package providers defines the one interface every provider adapter implements, and the
// registry the router and the worker pools look providers up in.
package providers

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/distributed-electrons/electrons"
)

// Call is one generation asked of a provider.
type Call struct {
	RequestID string
	TaskType  electrons.TaskType
	// Model is the provider's own name for the model (electrons.Model.ProviderModel).
	Model string
	Input electrons.Input
	// OnDelta, when not nil, receives text as a streaming provider produces it.
	OnDelta func(text string)
}

// File is one output file: either its bytes, or a provider-hosted URL to fetch them from.
type File struct {
	ContentType string
	Data        []byte
	URL         string
}

// LimitState is what a provider said of its own rate limits on its last answer.
type LimitState struct {
	Limit     int
	Remaining int
	Reset     time.Time
}

// Finish reasons of text outputs.
const (
	FinishStop   = "stop"   // the model ended its answer
	FinishLength = "length" // the answer was cut at max_tokens, as asked
)

// Output is what a provider produced.
type Output struct {
	Text string
	// FinishReason says why a text ended (FinishStop, FinishLength); empty when unknown.
	FinishReason string
	Files        []File
	Items        []electrons.StockItem
	Usage        *electrons.Usage
	Limits       *LimitState
	// Pending, when set, means the provider accepted a long-running job (a Veo video, a
	// Shotstack render) that is not done: the worker releases its slot and asks the provider's
	// Poller again after Pending.PollAfter. The other fields are then empty.
	Pending *Pending
}

// Pending is a long-running provider job still in progress.
type Pending struct {
	// Handle identifies the job at the provider (an operation name, a render id).
	Handle string
	// PollAfter is how long to wait before asking again. Default 5s.
	PollAfter time.Duration
}

// Poller is implemented by providers with long-running jobs. Poll asks once about the job
// Handle that Generate (or an earlier Poll) returned in Output.Pending; it returns an Output
// with Pending set again while the job runs, the finished Output when it is done, or an error.
type Poller interface {
	Poll(ctx context.Context, call Call, handle string) (*Output, error)
}

// Provider is an adapter to one AI or media provider. Generate returns an *electrons.Error whose
// code classifies any failure (rate_limited, server_error, timeout, invalid_request, …).
type Provider interface {
	Name() string
	Generate(ctx context.Context, call Call) (*Output, error)
}

// Registry holds the enabled providers by name. It is safe for concurrent use.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Provider
}

// NewRegistry returns a registry holding ps.
func NewRegistry(ps ...Provider) *Registry {
	r := &Registry{m: map[string]Provider{}}
	for _, p := range ps {
		r.m[p.Name()] = p
	}
	return r
}

// Register adds or replaces p.
func (r *Registry) Register(p Provider) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[p.Name()] = p
}

// Get returns the provider called name, if it is enabled.
func (r *Registry) Get(name string) (Provider, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.m[name]
	return p, ok
}

// Names lists the enabled providers, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
