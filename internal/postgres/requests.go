package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/distributed-electrons/electrons"
)

// RequestRow is a request with the columns clients do not see.
type RequestRow struct {
	electrons.Request
	InstanceID     string
	IdempotencyKey string
	BodyHash       []byte
	CustomID       string
}

const requestColumns = `id, instance_id, batch_id, custom_id, status, task_type, model, provider, priority, attempts,
	input, metadata, callback_url, idempotency_key, body_hash, result, error, created_at, updated_at, completed_at`

// scanRequest scans requestColumns, then any extra columns into extra.
func scanRequest(row pgx.Row, extra ...any) (*RequestRow, error) {
	var r RequestRow
	var model, provider, callback, idem, custom *string
	var input, metadata, result, errj []byte
	dest := append([]any{&r.ID, &r.InstanceID, &r.BatchID, &custom, &r.Status, &r.TaskType, &model, &provider, &r.Priority, &r.Attempts,
		&input, &metadata, &callback, &idem, &r.BodyHash, &result, &errj, &r.CreatedAt, &r.UpdatedAt, &r.CompletedAt}, extra...)
	err := row.Scan(dest...)
	if err != nil {
		return nil, err
	}
	r.Model, r.Provider, r.CallbackURL, r.IdempotencyKey, r.CustomID = deref(model), deref(provider), deref(callback), deref(idem), deref(custom)
	if err := json.Unmarshal(input, &r.Input); err != nil {
		return nil, fmt.Errorf("decode input of %s: %w", r.ID, err)
	}
	if len(metadata) > 0 {
		r.Metadata = json.RawMessage(metadata)
	}
	if len(result) > 0 {
		r.Result = new(electrons.Result)
		if err := json.Unmarshal(result, r.Result); err != nil {
			return nil, fmt.Errorf("decode result of %s: %w", r.ID, err)
		}
	}
	if len(errj) > 0 {
		r.Error = new(electrons.Error)
		if err := json.Unmarshal(errj, r.Error); err != nil {
			return nil, fmt.Errorf("decode error of %s: %w", r.ID, err)
		}
	}
	return &r, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func jsonOrNil(v any) ([]byte, error) {
	switch x := v.(type) {
	case json.RawMessage:
		if len(x) == 0 {
			return nil, nil
		}
		return x, nil
	case *electrons.Result:
		if x == nil {
			return nil, nil
		}
	case *electrons.Error:
		if x == nil {
			return nil, nil
		}
	}
	return json.Marshal(v)
}

// OutboxMessage is a NATS message committed with the rows it announces.
type OutboxMessage struct {
	Subject string
	MsgID   string
	Payload []byte
}

// InsertRequestTx inserts a request and its outbox message. If the instance already used the
// idempotency key within the last 24 hours it inserts nothing and returns the earlier request
// with existing set to true.
func (s *Store) InsertRequestTx(ctx context.Context, tx pgx.Tx, r *RequestRow, msg OutboxMessage) (existing *RequestRow, err error) {
	if r.IdempotencyKey != "" {
		// An old key (beyond 24 h) is released so that it may be used again.
		if _, err := tx.Exec(ctx, `UPDATE requests SET idempotency_key = NULL WHERE instance_id = $1 AND idempotency_key = $2 AND created_at < now() - interval '24 hours'`,
			r.InstanceID, r.IdempotencyKey); err != nil {
			return nil, fmt.Errorf("release idempotency key: %w", err)
		}
	}
	input, err := json.Marshal(r.Input)
	if err != nil {
		return nil, err
	}
	meta, _ := jsonOrNil(r.Metadata)
	tag, err := tx.Exec(ctx, `INSERT INTO requests (id, instance_id, batch_id, custom_id, status, task_type, model, provider, priority,
		input, metadata, callback_url, idempotency_key, body_hash, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$15)
		ON CONFLICT (instance_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
		r.ID, r.InstanceID, r.BatchID, nullable(r.CustomID), r.Status, r.TaskType, nullable(r.Model), nullable(r.Provider), r.Priority,
		input, meta, nullable(r.CallbackURL), nullable(r.IdempotencyKey), r.BodyHash, r.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("insert request %s: %w", r.ID, err)
	}
	if tag.RowsAffected() == 0 {
		row := tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM requests WHERE instance_id = $1 AND idempotency_key = $2`, r.InstanceID, r.IdempotencyKey)
		ex, err := scanRequest(row)
		if err != nil {
			return nil, fmt.Errorf("select idempotent request: %w", err)
		}
		return ex, nil
	}
	if err := InsertOutboxTx(ctx, tx, msg); err != nil {
		return nil, err
	}
	return nil, nil
}

// InsertOutboxTx adds messages to the outbox.
func InsertOutboxTx(ctx context.Context, tx pgx.Tx, msgs ...OutboxMessage) error {
	if len(msgs) == 1 {
		m := msgs[0]
		_, err := tx.Exec(ctx, `INSERT INTO outbox (subject, msg_id, payload) VALUES ($1, $2, $3)`, m.Subject, m.MsgID, m.Payload)
		if err != nil {
			return fmt.Errorf("insert outbox %s: %w", m.MsgID, err)
		}
		return nil
	}
	rows := make([][]any, len(msgs))
	for i, m := range msgs {
		rows[i] = []any{m.Subject, m.MsgID, m.Payload}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"outbox"}, []string{"subject", "msg_id", "payload"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy outbox: %w", err)
	}
	return nil
}

// GetRequest returns the instance's request id, or ErrNotFound.
func (s *Store) GetRequest(ctx context.Context, instanceID, id string) (*RequestRow, error) {
	r, err := scanRequest(s.Pool.QueryRow(ctx, `SELECT `+requestColumns+` FROM requests WHERE id = $1 AND instance_id = $2`, id, instanceID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, electrons.Errorf(electrons.CodeNotFound, "request %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("select request %s: %w", id, err)
	}
	return r, nil
}

// LoadRequest returns request id of any instance; q may be a transaction. forUpdate locks the row.
func LoadRequest(ctx context.Context, q Querier, id string, forUpdate bool) (*RequestRow, error) {
	sql := `SELECT ` + requestColumns + ` FROM requests WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	r, err := scanRequest(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("select request %s: %w", id, err)
	}
	return r, nil
}

// RequestFilter selects requests of one instance, newest first.
type RequestFilter struct {
	InstanceID string
	Status     string
	TaskType   string
	Provider   string
	BatchID    string
	// Before, when set, lists only ids that sort before it (the cursor).
	Before string
	Limit  int
}

// ListRequests lists requests matching f, newest first; it returns up to f.Limit rows.
func (s *Store) ListRequests(ctx context.Context, f RequestFilter) ([]*RequestRow, error) {
	where := []string{"instance_id = $1"}
	args := []any{f.InstanceID}
	add := func(col, v string) {
		if v != "" {
			args = append(args, v)
			where = append(where, fmt.Sprintf("%s = $%d", col, len(args)))
		}
	}
	add("status", f.Status)
	add("task_type", f.TaskType)
	add("provider", f.Provider)
	add("batch_id", f.BatchID)
	if f.Before != "" {
		args = append(args, f.Before)
		where = append(where, fmt.Sprintf("id < $%d", len(args)))
	}
	args = append(args, f.Limit)
	rows, err := s.Pool.Query(ctx, `SELECT `+requestColumns+` FROM requests WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return collectRequests(rows)
}

// SetStatusTx moves a request to status `to` if it is in one of `from`; it reports whether it moved.
func SetStatusTx(ctx context.Context, q Querier, id string, to electrons.Status, from ...electrons.Status) (bool, error) {
	fs := make([]string, len(from))
	for i, f := range from {
		fs[i] = string(f)
	}
	var completed any
	if to.Terminal() {
		completed = time.Now()
	}
	tag, err := q.Exec(ctx, `UPDATE requests SET status = $2, updated_at = now(), completed_at = COALESCE($4, completed_at) WHERE id = $1 AND status = ANY($3)`,
		id, to, fs, completed)
	if err != nil {
		return false, fmt.Errorf("set status of %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// DispatchTx records the routing decision of a queued request and moves it to dispatched.
func DispatchTx(ctx context.Context, q Querier, id, model, provider string) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE requests SET status = 'dispatched', model = $2, provider = $3, updated_at = now() WHERE id = $1 AND status = 'queued'`,
		id, model, provider)
	if err != nil {
		return false, fmt.Errorf("dispatch %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ClaimAttempt moves a dispatched (or running, when its job is run again) request to running
// and returns it with the long-running provider job it waits on, if any. A new attempt is
// counted unless the request is only polling its provider job. It returns nil when the request
// is in no state to run (cancelled, or already finished).
func ClaimAttempt(ctx context.Context, q Querier, id string) (*RequestRow, string, error) {
	var handle *string
	r, err := scanRequest(q.QueryRow(ctx, `UPDATE requests SET status = 'running', updated_at = now(),
		attempts = attempts + CASE WHEN provider_job IS NULL THEN 1 ELSE 0 END
		WHERE id = $1 AND status IN ('dispatched', 'running') RETURNING `+requestColumns+`, provider_job`, id), &handle)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("claim attempt of %s: %w", id, err)
	}
	return r, deref(handle), nil
}

// FinishTx records the outcome of a running request: status, result and error. It reports false,
// and changes nothing, if the request is no longer running (cancelled, or already finished by
// another attempt).
func FinishTx(ctx context.Context, q Querier, id string, status electrons.Status, result *electrons.Result, rerr *electrons.Error) (bool, error) {
	res, err := jsonOrNil(result)
	if err != nil {
		return false, err
	}
	ej, err := jsonOrNil(rerr)
	if err != nil {
		return false, err
	}
	tag, err := q.Exec(ctx, `UPDATE requests SET status = $2, result = $3, error = $4, updated_at = now(), provider_job = NULL,
		completed_at = CASE WHEN $2 IN ('succeeded','failed','cancelled') THEN now() ELSE NULL END
		WHERE id = $1 AND status = 'running'`, id, status, res, ej)
	if err != nil {
		return false, fmt.Errorf("finish %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// FailTx fails a request that has not finished (queued, dispatched or running), recording err.
func FailTx(ctx context.Context, q Querier, id string, rerr *electrons.Error) (bool, error) {
	ej, err := jsonOrNil(rerr)
	if err != nil {
		return false, err
	}
	tag, err := q.Exec(ctx, `UPDATE requests SET status = 'failed', error = $2, updated_at = now(), completed_at = now(), provider_job = NULL
		WHERE id = $1 AND status IN ('queued','dispatched','running')`, id, ej)
	if err != nil {
		return false, fmt.Errorf("fail %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// QueuedRequestsTx returns those of ids that are still queued, locking them.
func QueuedRequestsTx(ctx context.Context, q Querier, ids []string) ([]*RequestRow, error) {
	rows, err := q.Query(ctx, `SELECT `+requestColumns+` FROM requests WHERE id = ANY($1) AND status = 'queued' ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return nil, fmt.Errorf("select queued requests: %w", err)
	}
	return collectRequests(rows)
}

// Dispatch is a routing decision.
type Dispatch struct {
	ID, Model, Provider string
}

// DispatchManyTx records routing decisions of queued requests and moves them to dispatched.
func DispatchManyTx(ctx context.Context, q Querier, ds []Dispatch) error {
	if len(ds) == 0 {
		return nil
	}
	ids, models, provs := make([]string, len(ds)), make([]string, len(ds)), make([]string, len(ds))
	for i, d := range ds {
		ids[i], models[i], provs[i] = d.ID, d.Model, d.Provider
	}
	_, err := q.Exec(ctx, `UPDATE requests r SET status = 'dispatched', model = v.model, provider = v.provider, updated_at = now()
		FROM unnest($1::text[], $2::text[], $3::text[]) AS v(id, model, provider) WHERE r.id = v.id AND r.status = 'queued'`, ids, models, provs)
	if err != nil {
		return fmt.Errorf("dispatch %d requests: %w", len(ds), err)
	}
	return nil
}

// RequeueTx puts a failed or cancelled request back in the queue for another run, clearing its
// result and error. It reports whether the request was failed or cancelled.
func RequeueTx(ctx context.Context, q Querier, id string) (bool, error) {
	var batchID *string
	err := q.QueryRow(ctx, `UPDATE requests SET status = 'queued', result = NULL, error = NULL, completed_at = NULL, provider_job = NULL, updated_at = now()
		WHERE id = $1 AND status IN ('failed', 'cancelled') RETURNING batch_id`, id).Scan(&batchID)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("requeue %s: %w", id, err)
	}
	if batchID != nil {
		// The request counts as unfinished again, and so does its batch.
		_, err = q.Exec(ctx, `UPDATE batches SET done = done - 1, status = CASE WHEN status = 'completed' THEN 'in_progress' ELSE status END,
			completed_at = CASE WHEN status = 'completed' THEN NULL ELSE completed_at END WHERE id = $1`, *batchID)
		if err != nil {
			return false, fmt.Errorf("reopen batch %s: %w", *batchID, err)
		}
	}
	return true, nil
}

// DecideReviewTx settles a request in review: approved → succeeded, else failed with rerr.
func DecideReviewTx(ctx context.Context, q Querier, id string, approve bool, rerr *electrons.Error) (bool, error) {
	status := electrons.StatusSucceeded
	var ej []byte
	if !approve {
		status = electrons.StatusFailed
		var err error
		if ej, err = json.Marshal(rerr); err != nil {
			return false, err
		}
	}
	tag, err := q.Exec(ctx, `UPDATE requests SET status = $2, error = $3, updated_at = now(), completed_at = now(),
		result = CASE WHEN result IS NULL THEN NULL ELSE jsonb_set(result, '{quality,verdict}', to_jsonb($4::text)) END
		WHERE id = $1 AND status = 'review'`, id, status, ej, map[bool]string{true: "approved", false: "rejected"}[approve])
	if err != nil {
		return false, fmt.Errorf("decide review of %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// collectRequests scans and closes rows of requestColumns.
func collectRequests(rows pgx.Rows) ([]*RequestRow, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*RequestRow, error) { return scanRequest(r) })
}

// SetProviderJob records (or, with "", clears) the long-running provider job a request waits on.
func SetProviderJob(ctx context.Context, q Querier, id, handle string) error {
	if _, err := q.Exec(ctx, `UPDATE requests SET provider_job = $2, updated_at = now() WHERE id = $1`, id, nullable(handle)); err != nil {
		return fmt.Errorf("set provider job of %s: %w", id, err)
	}
	return nil
}
