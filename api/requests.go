package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/delivery"
	"github.com/distributed-electrons/electrons/internal/postgres"
	"github.com/distributed-electrons/electrons/jobs"
	"github.com/distributed-electrons/electrons/router"
)

// CreateRequest is the body of POST /v1/requests (and each item of a batch).
type CreateRequest struct {
	TaskType       electrons.TaskType `json:"task_type,omitempty"`
	Model          string             `json:"model,omitempty"`
	Input          electrons.Input    `json:"input"`
	Priority       int                `json:"priority,omitempty"`
	CallbackURL    string             `json:"callback_url,omitempty"`
	Metadata       json.RawMessage    `json:"metadata,omitempty"`
	IdempotencyKey string             `json:"idempotency_key,omitempty"`
}

const (
	maxMetadataBytes  = 16 << 10
	maxIdempotencyKey = 255
	maxPromptBytes    = 512 << 10
)

// readBody reads at most limit bytes of the body; a larger body is payload_too_large.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, electrons.Errorf(electrons.CodePayloadTooLarge, "the body is larger than %d bytes", limit)
	}
	if err != nil {
		return nil, electrons.Errorf(electrons.CodeInvalidRequest, "read body: %v", err)
	}
	return b, nil
}

// decodeBody reads a body of at most limit bytes and decodes it strictly into v.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	b, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	return decodeStrict(b, v)
}

// decodeStrict decodes one JSON value, refusing unknown fields and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return &electrons.Error{Code: electrons.CodeInvalidRequest, Message: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)}
		case errors.As(err, &te):
			return &electrons.Error{Code: electrons.CodeInvalidRequest, Message: fmt.Sprintf("%s must be %s, not %s", te.Field, te.Type, te.Value), Param: te.Field}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			if path := fieldPath(b, f); path != "" {
				f = path
			}
			return &electrons.Error{Code: electrons.CodeInvalidRequest, Message: fmt.Sprintf("unknown field %q", f), Param: f}
		case errors.Is(err, io.EOF):
			return electrons.Errorf(electrons.CodeInvalidRequest, "the body is empty; a JSON object is expected")
		}
		return electrons.Errorf(electrons.CodeInvalidRequest, "malformed JSON: %v", err)
	}
	if dec.More() {
		return electrons.Errorf(electrons.CodeInvalidRequest, "malformed JSON: data after the object")
	}
	return nil
}

// fieldPath finds where an unknown field sits in a JSON document ("input.temperature"),
// searching objects breadth first; "" if it cannot tell.
func fieldPath(doc []byte, name string) string {
	type node struct {
		path string
		raw  json.RawMessage
	}
	queue := []node{{"", doc}}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		var obj map[string]json.RawMessage
		if json.Unmarshal(n.raw, &obj) != nil {
			continue
		}
		if _, ok := obj[name]; ok {
			return n.path + name
		}
		for k, v := range obj {
			if k != "options" && k != "metadata" && k != "timeline" {
				queue = append(queue, node{n.path + k + ".", v})
			}
		}
	}
	return ""
}

// validate checks a create body and builds the row to insert. prefix names the body's place
// in a batch ("requests[3]."), empty for a single request.
func (s *Server) validate(ctx context.Context, in *CreateRequest, instanceID, prefix string) (*postgres.RequestRow, error) {
	bad := func(param, format string, args ...any) error {
		return &electrons.Error{Code: electrons.CodeInvalidRequest, Message: fmt.Sprintf(format, args...), Param: prefix + param}
	}
	if in.TaskType != "" && !in.TaskType.Valid() {
		return nil, bad("task_type", "task_type must be one of text, image, audio, video, stock_media")
	}
	if in.Priority == 0 {
		in.Priority = electrons.PriorityDefault
	}
	if in.Priority < electrons.PriorityHighest || in.Priority > electrons.PriorityLowest {
		return nil, bad("priority", "priority must be 1 (highest) to 4")
	}
	inp := in.Input
	if inp.Prompt == "" && inp.Query == "" && (len(inp.Timeline) == 0 || string(inp.Timeline) == "null") {
		return nil, bad("input", "input needs a prompt, a query or a timeline")
	}
	if len(inp.Prompt) > maxPromptBytes || len(inp.System) > maxPromptBytes {
		return nil, bad("input.prompt", "prompt and system are limited to %d bytes", maxPromptBytes)
	}
	if inp.MaxTokens < 0 || inp.MaxTokens > 1_000_000 {
		return nil, bad("input.max_tokens", "max_tokens must be between 1 and 1000000")
	}
	if inp.Size != "" {
		var w, h int
		if n, _ := fmt.Sscanf(inp.Size, "%dx%d", &w, &h); n != 2 || w <= 0 || h <= 0 || fmt.Sprintf("%dx%d", w, h) != inp.Size {
			return nil, bad("input.size", "size must look like 1024x1024")
		}
	}
	if len(in.Metadata) > 0 {
		if len(in.Metadata) > maxMetadataBytes {
			return nil, bad("metadata", "metadata is limited to %d bytes", maxMetadataBytes)
		}
		if t := bytes.TrimSpace(in.Metadata); len(t) == 0 || t[0] != '{' {
			if string(t) != "null" {
				return nil, bad("metadata", "metadata must be a JSON object")
			}
			in.Metadata = nil
		}
	}
	if len(in.IdempotencyKey) > maxIdempotencyKey {
		return nil, bad("idempotency_key", "idempotency keys are limited to %d characters", maxIdempotencyKey)
	}
	task := in.TaskType
	if in.Model != "" {
		cat, err := s.store.Catalog(ctx)
		if err != nil {
			return nil, err
		}
		m, ok := cat.Models[in.Model]
		if !ok {
			return nil, bad("model", "unknown model %q; GET /v1/models lists them", in.Model)
		}
		if !m.Enabled {
			return nil, bad("model", "model %q is disabled", in.Model)
		}
		if _, ok := s.provs.Get(m.Provider); !ok {
			return nil, &electrons.Error{Code: electrons.CodeProviderDisabled, Param: prefix + "model",
				Message: fmt.Sprintf("model %q needs provider %q, which is not enabled (no API key configured)", in.Model, m.Provider)}
		}
		if task != "" && task != m.TaskType {
			return nil, bad("model", "model %q does %s, not %s", in.Model, m.TaskType, task)
		}
		task = m.TaskType
	}
	if task == "" {
		task = router.Classify(inp)
	}
	if in.CallbackURL != "" {
		if err := delivery.CheckURL(ctx, in.CallbackURL, s.cfg.AllowPrivateWebhooks); err != nil {
			var e *electrons.Error
			if errors.As(err, &e) {
				e.Param = prefix + "callback_url"
				return nil, e
			}
			return nil, bad("callback_url", "%v", err)
		}
	}
	now := time.Now().UTC()
	row := &postgres.RequestRow{
		Request: electrons.Request{
			ID:          electrons.NewID(electrons.PrefixRequest),
			Status:      electrons.StatusQueued,
			TaskType:    task,
			Model:       in.Model,
			Priority:    in.Priority,
			CallbackURL: in.CallbackURL,
			Metadata:    in.Metadata,
			Input:       inp,
			CreatedAt:   now,
			UpdatedAt:   now,
		},
		InstanceID:     instanceID,
		IdempotencyKey: in.IdempotencyKey,
	}
	// The body hash decides whether a reused idempotency key carries the same request.
	canon := *in
	canon.IdempotencyKey = ""
	cb, _ := json.Marshal(canon)
	h := sha256.Sum256(cb)
	row.BodyHash = h[:]
	return row, nil
}

func (s *Server) intakeMessage(id string) postgres.OutboxMessage {
	b, _ := json.Marshal(router.IntakeMessage{RequestID: id})
	return postgres.OutboxMessage{Subject: s.nc.IntakeSubject(), MsgID: id, Payload: b}
}

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	var in CreateRequest
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		s.problem(w, r, err)
		return
	}
	if hk := r.Header.Get("Idempotency-Key"); hk != "" {
		if in.IdempotencyKey != "" && in.IdempotencyKey != hk {
			s.problem(w, r, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "idempotency_key", Message: "the Idempotency-Key header and the idempotency_key field differ"})
			return
		}
		in.IdempotencyKey = hk
	}
	row, err := s.validate(r.Context(), &in, p.InstanceID, "")
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var existing *postgres.RequestRow
	err = s.store.InTx(r.Context(), func(tx pgx.Tx) error {
		var err error
		existing, err = s.store.InsertRequestTx(r.Context(), tx, row, s.intakeMessage(row.ID))
		return err
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if existing != nil {
		if !bytes.Equal(existing.BodyHash, row.BodyHash) {
			s.problem(w, r, &electrons.Error{Code: electrons.CodeConflict, Param: "idempotency_key",
				Message: fmt.Sprintf("idempotency key %q was used for request %s with a different body", row.IdempotencyKey, existing.ID)})
			return
		}
		writeJSON(w, http.StatusOK, jobs.Present(r.Context(), s.deps.Artifacts, existing, s.deps.ArtifactURLTTL))
		return
	}
	s.relay.Nudge()
	w.Header().Set("Location", "/v1/requests/"+row.ID)
	writeJSON(w, http.StatusAccepted, row.Request)
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) {
	row, err := s.store.GetRequest(r.Context(), principal(r).InstanceID, mux.Vars(r)["id"])
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jobs.Present(r.Context(), s.deps.Artifacts, row, s.deps.ArtifactURLTTL))
}

func pageParams(r *http.Request) (limit int, after string, err error) {
	limit = 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, "", &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "limit", Message: "limit must be a number from 1 to 100"}
		}
		limit = n
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(b) == 0 {
			return 0, "", &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "cursor", Message: "the cursor is not one this API gave"}
		}
		after = string(b)
	}
	return limit, after, nil
}

func cursorOf(id string) *string {
	c := base64.RawURLEncoding.EncodeToString([]byte(id))
	return &c
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) {
	limit, before, err := pageParams(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	q := r.URL.Query()
	if st := q.Get("status"); st != "" && !electrons.Status(st).Valid() {
		s.problem(w, r, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "status", Message: "unknown status " + strconv.Quote(st)})
		return
	}
	if tt := q.Get("task_type"); tt != "" && !electrons.TaskType(tt).Valid() {
		s.problem(w, r, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "task_type", Message: "unknown task_type " + strconv.Quote(tt)})
		return
	}
	rows, err := s.store.ListRequests(r.Context(), postgres.RequestFilter{
		InstanceID: principal(r).InstanceID, Status: q.Get("status"), TaskType: q.Get("task_type"),
		Provider: q.Get("provider"), BatchID: q.Get("batch_id"), Before: before, Limit: limit + 1,
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	out := List[electrons.Request]{Data: []electrons.Request{}}
	for i, row := range rows {
		if i == limit {
			out.NextCursor = cursorOf(rows[i-1].ID)
			break
		}
		out.Data = append(out.Data, jobs.Present(r.Context(), s.deps.Artifacts, row, s.deps.ArtifactURLTTL))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) cancelRequest(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	id := mux.Vars(r)["id"]
	if _, err := s.store.GetRequest(r.Context(), p.InstanceID, id); err != nil {
		s.problem(w, r, err)
		return
	}
	var moved bool
	err := s.store.InTx(r.Context(), func(tx pgx.Tx) error {
		ok, err := postgres.SetStatusTx(r.Context(), tx, id, electrons.StatusCancelled,
			electrons.StatusQueued, electrons.StatusDispatched, electrons.StatusRunning, electrons.StatusReview)
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
		row, err := s.store.GetRequest(r.Context(), p.InstanceID, id)
		if err != nil {
			s.problem(w, r, err)
			return
		}
		if row.Status != electrons.StatusCancelled {
			s.problem(w, r, electrons.Errorf(electrons.CodeConflict, "request %s is already %s", id, row.Status))
			return
		}
	} else {
		s.nc.Publish(id, "status", map[string]any{"status": electrons.StatusCancelled})
	}
	s.answerRequest(w, r, http.StatusOK, id)
}
