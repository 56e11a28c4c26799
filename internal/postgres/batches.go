package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/distributed-electrons/electrons"
)

// BatchRow is a batch with the columns clients do not see.
type BatchRow struct {
	electrons.Batch
	InstanceID string
	Done       int
}

// InsertBatchTx inserts a batch, its requests and their outbox messages with COPY.
func InsertBatchTx(ctx context.Context, tx pgx.Tx, b *BatchRow, reqs []*RequestRow, msgs []OutboxMessage) error {
	meta, _ := jsonOrNil(b.Metadata)
	_, err := tx.Exec(ctx, `INSERT INTO batches (id, instance_id, status, callback_url, metadata, total, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		b.ID, b.InstanceID, b.Status, nullable(b.CallbackURL), meta, len(reqs), b.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert batch %s: %w", b.ID, err)
	}
	rows := make([][]any, len(reqs))
	for i, r := range reqs {
		input, err := json.Marshal(r.Input)
		if err != nil {
			return err
		}
		m, _ := jsonOrNil(r.Metadata)
		rows[i] = []any{r.ID, r.InstanceID, r.BatchID, nullable(r.CustomID), string(r.Status), string(r.TaskType), nullable(r.Model), nullable(r.Provider),
			int16(r.Priority), input, m, nullable(r.CallbackURL), r.CreatedAt, r.CreatedAt}
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"requests"},
		[]string{"id", "instance_id", "batch_id", "custom_id", "status", "task_type", "model", "provider", "priority", "input", "metadata", "callback_url", "created_at", "updated_at"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("copy batch requests: %w", err)
	}
	if err := InsertOutboxTx(ctx, tx, msgs...); err != nil {
		return err
	}
	return nil
}

// GetBatch returns the instance's batch with its counts, or ErrNotFound.
func (s *Store) GetBatch(ctx context.Context, instanceID, id string) (*BatchRow, error) {
	b, err := GetBatchTx(ctx, s.Pool, id)
	if errors.Is(err, ErrNotFound) {
		return nil, electrons.Errorf(electrons.CodeNotFound, "batch %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	if b.InstanceID != instanceID {
		return nil, electrons.Errorf(electrons.CodeNotFound, "batch %s not found", id)
	}
	return b, nil
}

// CountBatchDoneTx counts one more finished request of a batch, under the batch row's lock, and
// marks the batch completed when it was the last. It reports whether this call completed it.
func CountBatchDoneTx(ctx context.Context, tx pgx.Tx, batchID string) (completed bool, err error) {
	var done, total int
	var status string
	err = tx.QueryRow(ctx, `UPDATE batches SET done = done + 1 WHERE id = $1 RETURNING done, total, status`, batchID).Scan(&done, &total, &status)
	if err != nil {
		return false, fmt.Errorf("count batch %s: %w", batchID, err)
	}
	if done >= total && status == electrons.BatchInProgress {
		_, err = tx.Exec(ctx, `UPDATE batches SET status = 'completed', completed_at = $2 WHERE id = $1`, batchID, time.Now())
		if err != nil {
			return false, fmt.Errorf("complete batch %s: %w", batchID, err)
		}
		return true, nil
	}
	return false, nil
}

// GetBatchTx returns a batch by id (of any instance) inside q, without counts.
func GetBatchTx(ctx context.Context, q Querier, id string) (*BatchRow, error) {
	var b BatchRow
	var cb *string
	var meta []byte
	err := q.QueryRow(ctx, `SELECT id, instance_id, status, callback_url, metadata, total, done, created_at, completed_at FROM batches WHERE id = $1`, id).
		Scan(&b.ID, &b.InstanceID, &b.Status, &cb, &meta, &b.Counts.Total, &b.Done, &b.CreatedAt, &b.CompletedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("select batch %s: %w", id, err)
	}
	b.CallbackURL = deref(cb)
	if len(meta) > 0 {
		b.Metadata = meta
	}
	if err := countBatch(ctx, q, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

func countBatch(ctx context.Context, q Querier, b *BatchRow) error {
	rows, err := q.Query(ctx, `SELECT status, count(*) FROM requests WHERE batch_id = $1 GROUP BY status`, b.ID)
	if err != nil {
		return fmt.Errorf("count batch %s: %w", b.ID, err)
	}
	defer rows.Close()
	b.Counts = electrons.BatchCounts{Total: b.Counts.Total}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return err
		}
		switch electrons.Status(st) {
		case electrons.StatusQueued, electrons.StatusDispatched:
			b.Counts.Queued += n
		case electrons.StatusRunning, electrons.StatusReview:
			b.Counts.Running += n
		case electrons.StatusSucceeded:
			b.Counts.Succeeded += n
		case electrons.StatusFailed:
			b.Counts.Failed += n
		case electrons.StatusCancelled:
			b.Counts.Cancelled += n
		}
	}
	return rows.Err()
}

// EachBatchRequest calls fn with every request of a batch, in submission order.
func (s *Store) EachBatchRequest(ctx context.Context, batchID string, fn func(*RequestRow) error) error {
	after := ""
	for {
		rows, err := s.Pool.Query(ctx, `SELECT `+requestColumns+` FROM requests WHERE batch_id = $1 AND id > $2 ORDER BY id LIMIT 1000`, batchID, after)
		if err != nil {
			return fmt.Errorf("list batch %s: %w", batchID, err)
		}
		page, err := collectRequests(rows)
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < 1000 {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// CancelBatchTx marks a batch cancelled and cancels its unfinished requests, returning their ids.
func CancelBatchTx(ctx context.Context, tx pgx.Tx, batchID string) ([]string, error) {
	tag, err := tx.Exec(ctx, `UPDATE batches SET status = 'cancelled', completed_at = now() WHERE id = $1 AND status = 'in_progress'`, batchID)
	if err != nil {
		return nil, fmt.Errorf("cancel batch %s: %w", batchID, err)
	}
	if tag.RowsAffected() == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `UPDATE requests SET status = 'cancelled', updated_at = now(), completed_at = now()
		WHERE batch_id = $1 AND status IN ('queued','dispatched','running','review') RETURNING id`, batchID)
	if err != nil {
		return nil, fmt.Errorf("cancel requests of batch %s: %w", batchID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
