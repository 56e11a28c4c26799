package api

import (
	"fmt"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/internal/postgres"
	"github.com/distributed-electrons/electrons/jobs"
)

// retryRequest runs a failed or cancelled request again, with a fresh result.
func (s *Server) retryRequest(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	id := mux.Vars(r)["id"]
	row, err := s.store.GetRequest(r.Context(), p.InstanceID, id)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var moved bool
	err = s.store.InTx(r.Context(), func(tx pgx.Tx) error {
		ok, err := postgres.RequeueTx(r.Context(), tx, id)
		if err != nil || !ok {
			return err
		}
		moved = true
		// A new message id: the stream's duplicate window must not swallow the retry.
		msg := s.intakeMessage(id)
		msg.MsgID = fmt.Sprintf("%s.retry.%s", id, electrons.NewID("r"))
		return postgres.InsertOutboxTx(r.Context(), tx, msg)
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if !moved {
		s.problem(w, r, electrons.Errorf(electrons.CodeConflict, "request %s is %s; only failed or cancelled requests can be retried", id, row.Status))
		return
	}
	s.relay.Nudge()
	s.nc.Publish(id, "status", map[string]any{"status": electrons.StatusQueued})
	s.answerRequest(w, r, http.StatusAccepted, id)
}

func (s *Server) approveRequest(w http.ResponseWriter, r *http.Request) { s.decide(w, r, true) }
func (s *Server) rejectRequest(w http.ResponseWriter, r *http.Request)  { s.decide(w, r, false) }

// decide settles a request in review: approve makes it succeeded, reject makes it failed with
// code quality_rejected. Either fires the final webhook.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, approve bool) {
	p := principal(r)
	id := mux.Vars(r)["id"]
	row, err := s.store.GetRequest(r.Context(), p.InstanceID, id)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var moved bool
	err = s.store.InTx(r.Context(), func(tx pgx.Tx) error {
		ok, err := postgres.DecideReviewTx(r.Context(), tx, id, approve,
			&electrons.Error{Code: electrons.CodeQualityRejected, Message: "rejected in review"})
		if err != nil || !ok {
			return err
		}
		moved = true
		return jobs.RecordOutcomeTx(r.Context(), tx, s.deps, id)
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if !moved {
		s.problem(w, r, electrons.Errorf(electrons.CodeConflict, "request %s is %s, not in review", id, row.Status))
		return
	}
	row, _ = s.store.GetRequest(r.Context(), p.InstanceID, id)
	if row != nil {
		s.nc.Publish(id, "status", map[string]any{"status": row.Status})
	}
	s.answerRequest(w, r, http.StatusOK, id)
}

func (s *Server) answerRequest(w http.ResponseWriter, r *http.Request, status int, id string) {
	row, err := s.store.GetRequest(r.Context(), principal(r).InstanceID, id)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, status, jobs.Present(r.Context(), s.deps.Artifacts, row, s.deps.ArtifactURLTTL))
}
