package postgres

import (
	"context"
	"fmt"
)

// Webhook is a subscription of an instance to event types.
type Webhook struct {
	ID         string   `json:"id"`
	InstanceID string   `json:"-"`
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types"`
	Secret     string   `json:"-"`
	Enabled    bool     `json:"enabled"`
}

// MatchingWebhooksTx lists the enabled subscriptions of an instance that want evType.
func MatchingWebhooksTx(ctx context.Context, q Querier, instanceID, evType string) ([]Webhook, error) {
	rows, err := q.Query(ctx, `SELECT id, url FROM webhooks WHERE instance_id = $1 AND enabled AND $2 = ANY(event_types)`, instanceID, evType)
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

// WebhookSecret returns the signing secret of subscription id.
func (s *Store) WebhookSecret(ctx context.Context, id string) (string, error) {
	var sec string
	if err := s.Pool.QueryRow(ctx, `SELECT secret FROM webhooks WHERE id = $1`, id).Scan(&sec); err != nil {
		return "", fmt.Errorf("select webhook secret %s: %w", id, err)
	}
	return s.open(sec)
}
