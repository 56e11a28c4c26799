package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryDead      = "dead"
)

// Delivery is one webhook event to one target; its id is the webhook-id of every attempt.
type Delivery struct {
	ID             string    `json:"id"`
	InstanceID     string    `json:"-"`
	WebhookID      *string   `json:"webhook_id"`
	EventType      string    `json:"event_type"`
	EntityID       string    `json:"entity_id"`
	URL            string    `json:"url"`
	Payload        []byte    `json:"-"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	LastStatusCode *int      `json:"last_status_code"`
	LastError      *string   `json:"last_error"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// InsertDeliveryTx records a delivery to make.
func InsertDeliveryTx(ctx context.Context, q Querier, d Delivery) error {
	_, err := q.Exec(ctx, `INSERT INTO webhook_deliveries (id, instance_id, webhook_id, event_type, entity_id, url, payload) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		d.ID, d.InstanceID, d.WebhookID, d.EventType, d.EntityID, d.URL, d.Payload)
	if err != nil {
		return fmt.Errorf("insert delivery %s: %w", d.ID, err)
	}
	return nil
}

const deliveryColumns = `id, instance_id, webhook_id, event_type, entity_id, url, payload, status, attempts, last_status_code, last_error, created_at, updated_at`

func scanDelivery(row pgx.Row) (*Delivery, error) {
	var d Delivery
	err := row.Scan(&d.ID, &d.InstanceID, &d.WebhookID, &d.EventType, &d.EntityID, &d.URL, &d.Payload, &d.Status, &d.Attempts, &d.LastStatusCode, &d.LastError, &d.CreatedAt, &d.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &d, err
}

// GetDelivery returns delivery id of any instance.
func (s *Store) GetDelivery(ctx context.Context, id string) (*Delivery, error) {
	return scanDelivery(s.Pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = $1`, id))
}

// ListDeliveries lists an instance's deliveries, newest first, optionally of one status or entity.
func (s *Store) ListDeliveries(ctx context.Context, instanceID, status, entityID, before string, limit int) ([]*Delivery, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE instance_id = $1 AND ($2 = '' OR status = $2) AND ($3 = '' OR entity_id = $3) AND ($4 = '' OR id < $4)
		ORDER BY id DESC LIMIT $5`, instanceID, status, entityID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []*Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// AttemptRow is one recorded delivery attempt.
type AttemptRow struct {
	Attempt    int       `json:"attempt"`
	StatusCode *int      `json:"status_code"`
	Error      *string   `json:"error"`
	DurationMS int       `json:"duration_ms"`
	CreatedAt  time.Time `json:"created_at"`
}

// RecordAttempt records one attempt and moves the delivery to status (pending, succeeded or dead).
func (s *Store) RecordAttempt(ctx context.Context, id string, statusCode int, errText string, d time.Duration, status string) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var attempt int
		var code *int
		if statusCode != 0 {
			code = &statusCode
		}
		if err := tx.QueryRow(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, status = $2, last_status_code = $3, last_error = $4, updated_at = now()
			WHERE id = $1 RETURNING attempts`, id, status, code, nullable(errText)).Scan(&attempt); err != nil {
			return fmt.Errorf("update delivery %s: %w", id, err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms) VALUES ($1,$2,$3,$4,$5)`,
			id, attempt, code, nullable(errText), int(d.Milliseconds()))
		if err != nil {
			return fmt.Errorf("insert attempt of %s: %w", id, err)
		}
		return nil
	})
}

// Attempts lists the recorded attempts of a delivery.
func (s *Store) Attempts(ctx context.Context, id string) ([]AttemptRow, error) {
	rows, err := s.Pool.Query(ctx, `SELECT attempt, status_code, error, duration_ms, created_at FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt`, id)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[AttemptRow])
}
