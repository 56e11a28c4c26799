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
