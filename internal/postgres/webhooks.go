package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/distributed-electrons/electrons"
)

// Webhook is a subscription of an instance to event types.
type Webhook struct {
	ID             string   `json:"id"`
	InstanceID     string   `json:"-"`
	URL            string   `json:"url"`
	EventTypes     []string `json:"event_types"`
	Description    string   `json:"description,omitempty"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabled_reason,omitempty"`
	// Secret is shown only in the answer to the subscription's creation.
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateWebhook stores a subscription (its secret sealed).
func (s *Store) CreateWebhook(ctx context.Context, w *Webhook) error {
	err := s.Pool.QueryRow(ctx, `INSERT INTO webhooks (id, instance_id, url, event_types, secret, description) VALUES ($1,$2,$3,$4,$5,$6) RETURNING created_at`,
		w.ID, w.InstanceID, w.URL, w.EventTypes, s.seal(w.Secret), nullable(w.Description)).Scan(&w.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert webhook: %w", err)
	}
	w.Enabled = true
	return nil
}

// ListWebhooks lists an instance's subscriptions (not deleted), newest first, without secrets.
func (s *Store) ListWebhooks(ctx context.Context, instanceID, before string, limit int) ([]Webhook, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, url, event_types, coalesce(description, ''), enabled, coalesce(disabled_reason, ''), created_at
		FROM webhooks WHERE instance_id = $1 AND deleted_at IS NULL AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`, instanceID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	var out []Webhook
	for rows.Next() {
		w := Webhook{InstanceID: instanceID}
		if err := rows.Scan(&w.ID, &w.URL, &w.EventTypes, &w.Description, &w.Enabled, &w.DisabledReason, &w.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// DeleteWebhook deletes an instance's subscription; its pending deliveries are dropped when
// their turn comes. It reports whether there was one to delete.
func (s *Store) DeleteWebhook(ctx context.Context, instanceID, id string) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE webhooks SET deleted_at = now(), enabled = false WHERE id = $1 AND instance_id = $2 AND deleted_at IS NULL`, id, instanceID)
	if err != nil {
		return false, fmt.Errorf("delete webhook %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// WebhookTarget returns the signing secret of a subscription and whether it still receives.
func (s *Store) WebhookTarget(ctx context.Context, id string) (secret string, live bool, err error) {
	var sec string
	if err := s.Pool.QueryRow(ctx, `SELECT secret, enabled AND deleted_at IS NULL FROM webhooks WHERE id = $1`, id).Scan(&sec, &live); err != nil {
		return "", false, fmt.Errorf("select webhook %s: %w", id, err)
	}
	secret, err = s.open(sec)
	return secret, live, err
}

// DisableWebhook stops a subscription, saying why.
func (s *Store) DisableWebhook(ctx context.Context, id, reason string) error {
	if _, err := s.Pool.Exec(ctx, `UPDATE webhooks SET enabled = false, disabled_reason = $2 WHERE id = $1`, id, reason); err != nil {
		return fmt.Errorf("disable webhook %s: %w", id, err)
	}
	return nil
}

// WebhookOutcome records whether an attempt to a subscription succeeded, and returns since when
// it has been failing (zero when it is not).
func (s *Store) WebhookOutcome(ctx context.Context, id string, ok bool) (time.Time, error) {
	var since *time.Time
	err := s.Pool.QueryRow(ctx, `UPDATE webhooks SET failing_since = CASE WHEN $2 THEN NULL ELSE coalesce(failing_since, now()) END
		WHERE id = $1 RETURNING failing_since`, id, ok).Scan(&since)
	if err != nil {
		return time.Time{}, fmt.Errorf("record webhook outcome %s: %w", id, err)
	}
	if since == nil {
		return time.Time{}, nil
	}
	return *since, nil
}

// MatchingWebhooksTx lists the live subscriptions of an instance that want evType.
func MatchingWebhooksTx(ctx context.Context, q Querier, instanceID, evType string) ([]Webhook, error) {
	rows, err := q.Query(ctx, `SELECT id, url FROM webhooks WHERE instance_id = $1 AND enabled AND deleted_at IS NULL AND $2 = ANY(event_types)`, instanceID, evType)
	if err != nil {
		return nil, fmt.Errorf("match webhooks: %w", err)
	}
	defer rows.Close()
	var out []Webhook
	for rows.Next() {
		w := Webhook{InstanceID: instanceID, Enabled: true}
		if err := rows.Scan(&w.ID, &w.URL); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// DropDelivery dead-letters a delivery without an attempt (its subscription is gone).
func (s *Store) DropDelivery(ctx context.Context, id, reason string) error {
	if _, err := s.Pool.Exec(ctx, `UPDATE webhook_deliveries SET status = 'dead', last_error = $2, updated_at = now() WHERE id = $1`, id, reason); err != nil {
		return fmt.Errorf("drop delivery %s: %w", id, err)
	}
	return nil
}

// ReplayDeliveryTx makes an instance's finished (dead or succeeded) delivery pending again.
// It returns ErrNotFound for another instance's delivery and a conflict for a pending one.
func ReplayDeliveryTx(ctx context.Context, tx pgx.Tx, instanceID, id string) (*Delivery, error) {
	d, err := scanDelivery(tx.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = $1 AND instance_id = $2 FOR UPDATE`, id, instanceID))
	if errors.Is(err, ErrNotFound) {
		return nil, electrons.Errorf(electrons.CodeNotFound, "delivery %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	if d.Status == DeliveryPending {
		return nil, electrons.Errorf(electrons.CodeConflict, "delivery %s is still pending", id)
	}
	if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET status = 'pending', updated_at = now() WHERE id = $1`, id); err != nil {
		return nil, fmt.Errorf("replay delivery %s: %w", id, err)
	}
	d.Status = DeliveryPending
	return d, nil
}
