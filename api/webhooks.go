package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/delivery"
	"github.com/distributed-electrons/electrons/internal/postgres"
	"github.com/distributed-electrons/electrons/jobs"
)

// CreateWebhook is the body of POST /v1/webhooks.
type CreateWebhook struct {
	URL         string   `json:"url"`
	EventTypes  []string `json:"event_types,omitempty"`
	Description string   `json:"description,omitempty"`
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in CreateWebhook
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		s.problem(w, r, err)
		return
	}
	if in.URL == "" {
		s.problem(w, r, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "url", Message: "url is required"})
		return
	}
	if err := delivery.CheckURL(r.Context(), in.URL, s.cfg.AllowPrivateWebhooks); err != nil {
		var e *electrons.Error
		if errors.As(err, &e) {
			e.Param = "url"
		}
		s.problem(w, r, err)
		return
	}
	if len(in.Description) > 500 {
		s.problem(w, r, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "description", Message: "description is limited to 500 characters"})
		return
	}
	types := in.EventTypes
	if types == nil {
		types = electrons.EventTypes
	}
	if len(types) == 0 {
		s.problem(w, r, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "event_types", Message: "event_types needs at least one event type (or leave it out for all)"})
		return
	}
	seen := map[string]bool{}
	for i, t := range types {
		known := false
		for _, k := range electrons.EventTypes {
			known = known || k == t
		}
		if !known || seen[t] {
			s.problem(w, r, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: fmt.Sprintf("event_types[%d]", i),
				Message: fmt.Sprintf("%q is not an event type, or is listed twice; event types are %v", t, electrons.EventTypes)})
			return
		}
		seen[t] = true
	}
	wh := &postgres.Webhook{ID: electrons.NewID(electrons.PrefixWebhook), InstanceID: principal(r).InstanceID, URL: in.URL,
		EventTypes: types, Description: in.Description, Secret: delivery.NewSecret()}
	if err := s.store.CreateWebhook(r.Context(), wh); err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/webhooks/"+wh.ID)
	writeJSON(w, http.StatusCreated, wh)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	limit, before, err := pageParams(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	ws, err := s.store.ListWebhooks(r.Context(), principal(r).InstanceID, before, limit+1)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	out := List[postgres.Webhook]{Data: []postgres.Webhook{}}
	for i, wh := range ws {
		if i == limit {
			out.NextCursor = cursorOf(ws[i-1].ID)
			break
		}
		out.Data = append(out.Data, wh)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	ok, err := s.store.DeleteWebhook(r.Context(), principal(r).InstanceID, id)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if !ok {
		s.problem(w, r, electrons.Errorf(electrons.CodeNotFound, "webhook %s not found", id))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// replayDelivery sends a finished delivery again with the same webhook-id and body, on a fresh
// schedule of attempts.
func (s *Server) replayDelivery(w http.ResponseWriter, r *http.Request) {
	var d *postgres.Delivery
	err := s.store.InTx(r.Context(), func(tx pgx.Tx) error {
		var err error
		if d, err = postgres.ReplayDeliveryTx(r.Context(), tx, principal(r).InstanceID, mux.Vars(r)["id"]); err != nil {
			return err
		}
		_, err = s.riverCli.InsertTx(r.Context(), tx, jobs.DeliverArgs{DeliveryID: d.ID}, jobs.DeliverInsertOpts(s.deps))
		return err
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, d)
}
