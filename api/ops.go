package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/riverqueue/river"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/internal/postgres"
)

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{}
	ok := true
	check := func(name string, err error) {
		if err != nil {
			checks[name] = err.Error()
			ok = false
			return
		}
		checks[name] = "ok"
	}
	check("postgres", s.store.Pool.Ping(ctx))
	check("nats", s.nc.Ping(ctx))
	if s.artStore != nil {
		check("store", s.artStore.Ping(ctx))
	}
	status := http.StatusOK
	st := "ready"
	if !ok {
		status, st = http.StatusServiceUnavailable, "unavailable"
	}
	writeJSON(w, status, map[string]any{"status": st, "checks": checks})
}

func (s *Server) getInstance(w http.ResponseWriter, r *http.Request) {
	inst, err := s.store.GetInstance(r.Context(), principal(r).InstanceID)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inst)
}

func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request) {
	// The old secret keeps signing beside the new one for a day, so receivers can switch over.
	inst, err := s.store.RotateWebhookSecret(r.Context(), principal(r).InstanceID, 24*time.Hour)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inst)
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	ms, err := s.store.ListModels(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if ms == nil {
		ms = []electrons.Model{}
	}
	writeJSON(w, http.StatusOK, List[electrons.Model]{Data: ms})
}

// Limits are a provider's limits; nil means no limit of that kind.
type Limits struct {
	RPM         *int `json:"rpm"`
	TPM         *int `json:"tpm"`
	Concurrency *int `json:"concurrency"`
}

// LimiterState is a provider's limiter as operators see it.
type LimiterState struct {
	Limits        Limits     `json:"limits"`
	Remaining     Limits     `json:"remaining"`
	CooldownUntil *time.Time `json:"cooldown_until"`
	Circuit       string     `json:"circuit"`
}

// ProviderState is one provider as GET /v1/providers shows it.
type ProviderState struct {
	Name      string               `json:"name"`
	Enabled   bool                 `json:"enabled"`
	Reason    string               `json:"reason,omitempty"`
	TaskTypes []electrons.TaskType `json:"task_types"`
	LimiterState
}

// KnownProviders are every provider the platform knows, enabled or not.
var KnownProviders = []string{"anthropic", "elevenlabs", "gemini", "ideogram", "local", "openai", "openaicompat", "pexels", "shotstack"}

// limiterState is the limiter's state of a provider: no limits of ours are configured yet, so
// limits are null; remaining and cooldown_until are what the provider itself last reported.
// states holds every provider's recorded state, read once per answer.
func limiterState(states map[string]postgres.ProviderState, name string) LimiterState {
	ls := LimiterState{Circuit: "closed"}
	if st, ok := states[name]; ok {
		if st.RemainingRequests != nil && (st.ResetAt == nil || st.ResetAt.After(time.Now())) {
			ls.Remaining.RPM = st.RemainingRequests
		}
		if st.CooldownUntil != nil && st.CooldownUntil.After(time.Now()) {
			ls.CooldownUntil = st.CooldownUntil
		}
	}
	return ls
}

func (s *Server) listProviders(w http.ResponseWriter, r *http.Request) {
	cat, err := s.store.Catalog(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	states, err := s.store.ProviderStates(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	out := List[ProviderState]{Data: []ProviderState{}}
	for _, n := range KnownProviders {
		_, ok := s.provs.Get(n)
		ps := ProviderState{Name: n, Enabled: ok, TaskTypes: []electrons.TaskType{}, LimiterState: limiterState(states, n)}
		if !ok {
			ps.Reason = "not configured: no API key"
			if set := s.provSet[n]; set != "" {
				ps.Reason = "not configured: set " + set
			}
		}
		for _, t := range electrons.TaskTypes {
			for _, m := range cat.Models {
				if m.Provider == n && m.TaskType == t {
					ps.TaskTypes = append(ps.TaskTypes, t)
					break
				}
			}
		}
		out.Data = append(out.Data, ps)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	limit, before, err := pageParams(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	q := r.URL.Query()
	ds, err := s.store.ListDeliveries(r.Context(), principal(r).InstanceID, q.Get("status"), q.Get("entity_id"), before, limit+1)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	out := List[*postgres.Delivery]{Data: []*postgres.Delivery{}}
	for i, d := range ds {
		if i == limit {
			out.NextCursor = cursorOf(ds[i-1].ID)
			break
		}
		out.Data = append(out.Data, d)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listAttempts(w http.ResponseWriter, r *http.Request) {
	d, err := s.store.GetDelivery(r.Context(), mux.Vars(r)["id"])
	if err != nil || d.InstanceID != principal(r).InstanceID {
		s.problem(w, r, postgres.ErrNotFound)
		return
	}
	as, err := s.store.Attempts(r.Context(), d.ID)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if as == nil {
		as = []postgres.AttemptRow{}
	}
	writeJSON(w, http.StatusOK, List[postgres.AttemptRow]{Data: as})
}

// Queue is a River queue with its provider's limiter state.
type Queue struct {
	postgres.QueueStats
	Provider string        `json:"provider,omitempty"`
	Limiter  *LimiterState `json:"limiter,omitempty"`
}

func (s *Server) queue(states map[string]postgres.ProviderState, q postgres.QueueStats) Queue {
	out := Queue{QueueStats: q}
	if _, ok := s.provs.Get(q.Name); ok {
		l := limiterState(states, q.Name)
		out.Provider, out.Limiter = q.Name, &l
	}
	return out
}

func (s *Server) listQueues(w http.ResponseWriter, r *http.Request) {
	qs, err := s.store.Queues(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	states, err := s.store.ProviderStates(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	out := List[Queue]{Data: []Queue{}}
	for _, q := range qs {
		out.Data = append(out.Data, s.queue(states, q))
	}
	writeJSON(w, http.StatusOK, out)
}

// pauseQueue stops (or resumeQueue restarts) a queue's work on every replica; jobs keep their places.
func (s *Server) pauseQueue(w http.ResponseWriter, r *http.Request)  { s.setPaused(w, r, true) }
func (s *Server) resumeQueue(w http.ResponseWriter, r *http.Request) { s.setPaused(w, r, false) }

func (s *Server) setPaused(w http.ResponseWriter, r *http.Request, pause bool) {
	name := mux.Vars(r)["name"]
	var err error
	if pause {
		err = s.riverCli.QueuePause(r.Context(), name, nil)
	} else {
		err = s.riverCli.QueueResume(r.Context(), name, nil)
	}
	if errors.Is(err, river.ErrNotFound) {
		s.problem(w, r, electrons.Errorf(electrons.CodeNotFound, "queue %q not found", name))
		return
	}
	if err != nil {
		s.problem(w, r, err)
		return
	}
	qs, err := s.store.Queues(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	states, err := s.store.ProviderStates(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	for _, q := range qs {
		if q.Name == name {
			writeJSON(w, http.StatusOK, s.queue(states, q))
			return
		}
	}
	s.problem(w, r, electrons.Errorf(electrons.CodeNotFound, "queue %q not found", name))
}
