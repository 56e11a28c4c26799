// Package fake is one HTTP server that speaks the wire format of every provider we adapt —
// OpenAI (and OpenAI-compatible servers), Anthropic, Gemini, Ideogram, ElevenLabs, Pexels and
// Shotstack — for tests, benchmarks and chaos runs. Each route can be given a latency
// distribution, error ratios of each kind, truncated streams, malformed bodies, and a limit that
// the fake enforces itself and reports in that provider's own headers, counting every request it
// had to refuse.
package fake

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Fault kinds a route can be told to produce.
const (
	FaultRateLimit     = "rate_limit"     // 429 with the provider's rate-limit headers
	FaultQuota         = "quota"          // the provider's quota / billing error
	FaultConcurrency   = "concurrency"    // too many concurrent requests (ElevenLabs)
	FaultOverloaded    = "overloaded"     // 529 (Anthropic) or 503
	FaultServer        = "server"         // 500
	FaultTimeout       = "timeout"        // hangs until the client gives up
	FaultInvalid       = "invalid"        // 400
	FaultAuth          = "auth"           // 401
	FaultContentPolicy = "content_policy" // the provider's safety refusal
	FaultMalformed     = "malformed"      // 200 with a body that is not the provider's format
	FaultTruncate      = "truncate"       // a stream cut off mid-answer
)

// Faults lists every fault kind.
var Faults = []string{FaultRateLimit, FaultQuota, FaultConcurrency, FaultOverloaded, FaultServer, FaultTimeout,
	FaultInvalid, FaultAuth, FaultContentPolicy, FaultMalformed, FaultTruncate}

// RouteConfig is how one route behaves.
type RouteConfig struct {
	// LatencyMinMS and LatencyMaxMS bound a uniform latency added to every answer.
	LatencyMinMS int `json:"latency_min_ms,omitempty"`
	LatencyMaxMS int `json:"latency_max_ms,omitempty"`
	// Faults gives, per fault kind, the probability that a request gets it.
	Faults map[string]float64 `json:"faults,omitempty"`
	// Limit is enforced by the fake itself and reported in the provider's headers.
	Limit *Limit `json:"limit,omitempty"`
	// PollsUntilDone is how many status polls a long-running job (Veo, Shotstack) takes. Default 2.
	PollsUntilDone int `json:"polls_until_done,omitempty"`
}

// Limit is a provider-side limit: requests and tokens per window, and requests in flight.
type Limit struct {
	Requests    int `json:"requests,omitempty"`    // per Window
	Tokens      int `json:"tokens,omitempty"`      // per Window (estimated from the request body)
	Concurrency int `json:"concurrency,omitempty"` // in flight at once
	// WindowMS is the length of the limit window. Default 60000.
	WindowMS int `json:"window_ms,omitempty"`
}

// Stats counts what a route saw.
type Stats struct {
	Requests int64 `json:"requests"`
	Refused  int64 `json:"refused"` // refused by the route's Limit
	Faults   int64 `json:"faults"`  // answered with an injected fault
	InFlight int64 `json:"in_flight"`
	MaxInFl  int64 `json:"max_in_flight"`
}

// Snapshot is a limit's state at one answer, for the provider's rate-limit headers.
type Snapshot struct {
	LimitRequests, RemainingRequests int
	LimitTokens, RemainingTokens     int
	Reset                            time.Time
}

// Decision is what the fake decided for one request, handed to the provider's handler.
type Decision struct {
	Route string
	// Fault is the fault to produce, or "" for a normal answer. The handler produces
	// FaultMalformed, FaultTruncate and FaultTimeout itself (it knows its body format); the
	// server answers every other fault with the dialect's error before the handler runs.
	Fault    string
	Snapshot Snapshot
	Config   RouteConfig
	server   *Server
}

// Dialect writes one provider's errors and rate-limit headers.
type Dialect interface {
	// WriteError answers with the provider's error for a fault kind.
	WriteError(w http.ResponseWriter, fault string, s Snapshot)
	// LimitHeaders sets the provider's rate-limit headers (if it has any).
	LimitHeaders(h http.Header, s Snapshot)
}

type route struct {
	name    string
	dialect Dialect
	cfg     RouteConfig
	stats   Stats
	window  time.Time
	reqs    int
	tokens  int
	polls   map[string]int
}

// Server is the fake provider server.
type Server struct {
	mu     sync.Mutex
	mux    *http.ServeMux
	routes map[string]*route
	// Keys, when not empty, are the API keys accepted; any other key is a FaultAuth.
	keys map[string]bool
	rnd  *rand.Rand
	// BaseURL is where the server is reachable, for URLs it hands out (hosted images, videos).
	BaseURL string
	files   map[string]hosted
}

type hosted struct {
	contentType string
	data        []byte
}

// New returns a server with every provider's routes registered.
func New() *Server {
	s := &Server{mux: http.NewServeMux(), routes: map[string]*route{}, rnd: rand.New(rand.NewPCG(1, 2)), files: map[string]hosted{}}
	s.mux.HandleFunc("GET /_fake/stats", s.serveStats)
	s.mux.HandleFunc("POST /_fake/config", s.serveConfig)
	s.mux.HandleFunc("GET /_fake/files/{name}", s.serveFile)
	for _, reg := range registrations {
		reg(s)
	}
	return s
}

// registrations are the providers' route registrations, added by each provider's file.
var registrations []func(*Server)

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Handle registers a route: name (e.g. "openai.chat"), a ServeMux pattern, the provider's
// dialect and the handler that answers when the fake lets the request through.
func (s *Server) Handle(name, pattern string, d Dialect, h func(w http.ResponseWriter, r *http.Request, dec *Decision)) {
	rt := &route{name: name, dialect: d, polls: map[string]int{}}
	s.routes[name] = rt
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		dec, release, ok := s.admit(rt, w, r)
		defer release()
		if !ok {
			return
		}
		h(w, r, dec)
	})
}

// SetKeys makes the server accept only these API keys (how each provider sends its key is
// the dialect's business: see Key).
func (s *Server) SetKeys(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = map[string]bool{}
	for _, k := range keys {
		s.keys[k] = true
	}
}

// Configure sets the behaviour of the routes whose name starts with prefix ("openai." for
// every OpenAI route, "" for all).
func (s *Server) Configure(prefix string, cfg RouteConfig) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, rt := range s.routes {
		if strings.HasPrefix(n, prefix) {
			rt.cfg = cfg
			rt.reqs, rt.tokens, rt.window = 0, 0, time.Time{}
		}
	}
}

// Stats returns the counters of every route.
func (s *Server) Stats() map[string]Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Stats{}
	for n, rt := range s.routes {
		out[n] = rt.stats
	}
	return out
}

// RouteNames lists the registered routes.
func (s *Server) RouteNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.routes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// keyOf finds the API key of a request in any of the providers' places.
func keyOf(r *http.Request) string {
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return a
	}
	for _, h := range []string{"x-api-key", "x-goog-api-key", "Api-Key", "xi-api-key", "x-api-key"} {
		if v := r.Header.Get(h); v != "" {
			return v
		}
	}
	if v := r.Header.Get("Authorization"); v != "" {
		return v // Pexels sends the bare key
	}
	return r.URL.Query().Get("key")
}

// estimateTokens guesses a request's tokens from its size, as a limiter must before it runs.
func estimateTokens(r *http.Request) int {
	if r.ContentLength > 0 {
		return int(r.ContentLength/4) + 1
	}
	return 1
}

// admit applies latency, the key check, the route's limit and its fault ratios.
func (s *Server) admit(rt *route, w http.ResponseWriter, r *http.Request) (*Decision, func(), bool) {
	s.mu.Lock()
	cfg := rt.cfg
	rt.stats.Requests++
	rt.stats.InFlight++
	rt.stats.MaxInFl = max(rt.stats.MaxInFl, rt.stats.InFlight)
	release := func() {
		s.mu.Lock()
		rt.stats.InFlight--
		s.mu.Unlock()
	}
	var lat time.Duration
	if cfg.LatencyMaxMS > 0 {
		lo := cfg.LatencyMinMS
		lat = time.Duration(lo+s.rnd.IntN(max(cfg.LatencyMaxMS-lo, 0)+1)) * time.Millisecond
	}
	dec := &Decision{Route: rt.name, Config: cfg, server: s}
	now := time.Now()
	refused := ""
	if l := cfg.Limit; l != nil {
		win := time.Duration(l.WindowMS) * time.Millisecond
		if win <= 0 {
			win = time.Minute
		}
		if now.Sub(rt.window) >= win {
			rt.window, rt.reqs, rt.tokens = now, 0, 0
		}
		tok := estimateTokens(r)
		switch {
		case l.Concurrency > 0 && rt.stats.InFlight > int64(l.Concurrency):
			refused = FaultConcurrency
		case l.Requests > 0 && rt.reqs >= l.Requests:
			refused = FaultRateLimit
		case l.Tokens > 0 && rt.tokens+tok > l.Tokens:
			refused = FaultRateLimit
		default:
			rt.reqs++
			rt.tokens += tok
		}
		dec.Snapshot = Snapshot{LimitRequests: l.Requests, RemainingRequests: max(l.Requests-rt.reqs, 0),
			LimitTokens: l.Tokens, RemainingTokens: max(l.Tokens-rt.tokens, 0), Reset: rt.window.Add(win)}
		if refused != "" {
			rt.stats.Refused++
		}
	}
	if refused == "" && len(s.keys) > 0 && !s.keys[keyOf(r)] {
		refused = FaultAuth
	}
	if refused == "" {
		x := s.rnd.Float64()
		for _, k := range Faults {
			p := cfg.Faults[k]
			if x < p {
				dec.Fault = k
				rt.stats.Faults++
				break
			}
			x -= p
		}
	}
	s.mu.Unlock()

	if lat > 0 {
		// Read the body first (the server notices a client that gave up only once it has),
		// and keep it for the handler.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-time.After(lat):
		case <-r.Context().Done():
			return nil, release, false
		}
	}
	if refused != "" {
		rt.dialect.LimitHeaders(w.Header(), dec.Snapshot)
		rt.dialect.WriteError(w, refused, dec.Snapshot)
		return nil, release, false
	}
	switch dec.Fault {
	case "", FaultMalformed, FaultTruncate:
	case FaultTimeout:
		// Read the body first: the server notices a client that gave up only once it has.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done() // hang until the client gives up
		return nil, release, false
	default:
		rt.dialect.LimitHeaders(w.Header(), dec.Snapshot)
		rt.dialect.WriteError(w, dec.Fault, dec.Snapshot)
		return nil, release, false
	}
	if cfg.Limit != nil {
		rt.dialect.LimitHeaders(w.Header(), dec.Snapshot)
	}
	return dec, release, true
}

// Poll counts a status poll of a long-running job and reports whether it is now done.
func (d *Decision) Poll(jobID string) bool {
	s := d.server
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.routes[d.Route]
	rt.polls[jobID]++
	n := d.Config.PollsUntilDone
	if n <= 0 {
		n = 2
	}
	return rt.polls[jobID] >= n
}

// Host keeps a file at a URL of this server (as providers host their outputs) and returns the URL.
func (d *Decision) Host(name, contentType string, data []byte) string {
	s := d.server
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[name] = hosted{contentType: contentType, data: data}
	return strings.TrimRight(s.BaseURL, "/") + "/_fake/files/" + name
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f, ok := s.files[r.PathValue("name")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	_, _ = w.Write(f.data)
}

func (s *Server) serveStats(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.Stats())
}

// serveConfig takes {"route prefix": RouteConfig, …}.
func (s *Server) serveConfig(w http.ResponseWriter, r *http.Request) {
	var in map[string]RouteConfig
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for prefix, cfg := range in {
		s.Configure(prefix, cfg)
	}
	w.WriteHeader(http.StatusNoContent)
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// contentText is the text of a chat message's content, which both OpenAI and Anthropic accept
// either as a string or as a list of typed blocks (only the text blocks count).
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var blocks []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &blocks) != nil {
		return ""
	}
	var parts []string
	for _, b := range blocks {
		if b.Type == "text" {
			parts = append(parts, b.Text)
		}
	}
	return strings.Join(parts, " ")
}
