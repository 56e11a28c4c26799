package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"

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

// ProviderState is one provider as GET /v1/providers shows it.
type ProviderState struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	Reason  string `json:"reason,omitempty"`
}

// KnownProviders are every provider the platform knows, enabled or not.
var KnownProviders = []string{"anthropic", "elevenlabs", "gemini", "ideogram", "local", "openai", "openaicompat", "pexels", "shotstack"}

func (s *Server) listProviders(w http.ResponseWriter, r *http.Request) {
	out := List[ProviderState]{Data: []ProviderState{}}
	for _, n := range KnownProviders {
		_, ok := s.provs.Get(n)
		ps := ProviderState{Name: n, Enabled: ok}
		if !ok {
			ps.Reason = "not configured: no API key"
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

func (s *Server) listQueues(w http.ResponseWriter, r *http.Request) {
	qs, err := s.store.Queues(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if qs == nil {
		qs = []postgres.QueueStats{}
	}
	writeJSON(w, http.StatusOK, List[postgres.QueueStats]{Data: qs})
}
