package api

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/delivery"
	"github.com/distributed-electrons/electrons/internal/postgres"
	"github.com/distributed-electrons/electrons/jobs"
)

// CreateBatch is the JSON body of POST /v1/batches.
type CreateBatch struct {
	Requests    []CreateRequest `json:"requests"`
	CallbackURL string          `json:"callback_url,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
}

func (s *Server) createBatch(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "" && ct != "application/json" {
		writeProblem(w, http.StatusUnsupportedMediaType, string(electrons.CodeInvalidRequest), "Unsupported media type",
			fmt.Sprintf("batches are accepted as application/json, not %s", ct), "")
		return
	}
	var in CreateBatch
	if err := decodeBody(w, r, s.cfg.MaxBatchBytes, &in); err != nil {
		s.problem(w, r, err)
		return
	}
	if len(in.Requests) == 0 {
		s.problem(w, r, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "requests", Message: "a batch needs at least one request"})
		return
	}
	if len(in.Requests) > s.cfg.MaxBatchItems {
		s.problem(w, r, &electrons.Error{Code: electrons.CodePayloadTooLarge, Param: "requests", Message: fmt.Sprintf("a batch holds at most %d requests", s.cfg.MaxBatchItems)})
		return
	}
	if len(in.Metadata) > maxMetadataBytes {
		s.problem(w, r, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "metadata", Message: "metadata is limited to 16 KiB"})
		return
	}
	if in.CallbackURL != "" {
		if err := delivery.CheckURL(r.Context(), in.CallbackURL, s.cfg.AllowPrivateWebhooks); err != nil {
			s.problem(w, r, err)
			return
		}
	}
	now := time.Now().UTC()
	b := &postgres.BatchRow{Batch: electrons.Batch{ID: electrons.NewID(electrons.PrefixBatch), Status: electrons.BatchInProgress,
		CallbackURL: in.CallbackURL, Metadata: in.Metadata, CreatedAt: now}, InstanceID: p.InstanceID}
	rows := make([]*postgres.RequestRow, len(in.Requests))
	msgs := make([]postgres.OutboxMessage, len(in.Requests))
	for i := range in.Requests {
		if in.Requests[i].IdempotencyKey != "" {
			s.problem(w, r, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: fmt.Sprintf("requests[%d].idempotency_key", i), Message: "requests in a batch take no idempotency key"})
			return
		}
		row, err := s.validate(r.Context(), &in.Requests[i], p.InstanceID, fmt.Sprintf("requests[%d].", i))
		if err != nil {
			s.problem(w, r, err)
			return
		}
		row.BatchID = &b.ID
		rows[i] = row
		msgs[i] = s.intakeMessage(row.ID)
	}
	err := s.store.InTx(r.Context(), func(tx pgx.Tx) error {
		return postgres.InsertBatchTx(r.Context(), tx, b, rows, msgs)
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	s.relay.Nudge()
	b.Counts = electrons.BatchCounts{Total: len(rows), Queued: len(rows)}
	w.Header().Set("Location", "/v1/batches/"+b.ID)
	writeJSON(w, http.StatusAccepted, b.Batch)
}

func (s *Server) getBatch(w http.ResponseWriter, r *http.Request) {
	b, err := s.store.GetBatch(r.Context(), principal(r).InstanceID, mux.Vars(r)["id"])
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b.Batch)
}

// BatchResultLine is one line of GET /v1/batches/{id}/results.
type BatchResultLine struct {
	CustomID  *string           `json:"custom_id"`
	RequestID string            `json:"request_id"`
	Status    electrons.Status  `json:"status"`
	Result    *electrons.Result `json:"result"`
	Error     *electrons.Error  `json:"error"`
}

func (s *Server) batchResults(w http.ResponseWriter, r *http.Request) {
	b, err := s.store.GetBatch(r.Context(), principal(r).InstanceID, mux.Vars(r)["id"])
	if err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	err = s.store.EachBatchRequest(r.Context(), b.ID, func(row *postgres.RequestRow) error {
		req := jobs.Present(r.Context(), s.deps.Artifacts, row, s.deps.ArtifactURLTTL)
		line := BatchResultLine{RequestID: req.ID, Status: req.Status, Result: req.Result, Error: req.Error}
		if row.CustomID != "" {
			line.CustomID = &row.CustomID
		}
		return enc.Encode(line)
	})
	if err != nil && r.Context().Err() == nil {
		s.log.Error("batch results", "batch_id", b.ID, "err", err)
	}
}

// cancelBatch cancels a batch and every request of it that has not finished.
func (s *Server) cancelBatch(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	b, err := s.store.GetBatch(r.Context(), p.InstanceID, mux.Vars(r)["id"])
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var cancelled []string
	err = s.store.InTx(r.Context(), func(tx pgx.Tx) error {
		ids, err := postgres.CancelBatchTx(r.Context(), tx, b.ID)
		if err != nil {
			return err
		}
		cancelled = ids
		for _, id := range ids {
			if err := jobs.RecordOutcomeTx(r.Context(), tx, s.deps, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if b.Status == electrons.BatchCompleted {
		s.problem(w, r, electrons.Errorf(electrons.CodeConflict, "batch %s is already completed", b.ID))
		return
	}
	for _, id := range cancelled {
		s.nc.Publish(id, "status", map[string]any{"status": electrons.StatusCancelled})
	}
	b, err = s.store.GetBatch(r.Context(), p.InstanceID, b.ID)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b.Batch)
}
