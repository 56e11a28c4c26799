package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Webhook is a subscription to event types. Secret is shown only in the answer to its creation.
type Webhook struct {
	ID             string    `json:"id"`
	URL            string    `json:"url"`
	EventTypes     []string  `json:"event_types"`
	Description    string    `json:"description,omitempty"`
	Enabled        bool      `json:"enabled"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	Secret         string    `json:"secret,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// CreateWebhook is the body of POST /v1/webhooks; no event types means all of them.
type CreateWebhook struct {
	URL         string   `json:"url"`
	EventTypes  []string `json:"event_types,omitempty"`
	Description string   `json:"description,omitempty"`
}

// Delivery is one webhook event to one destination (GET /v1/webhook-deliveries).
type Delivery struct {
	ID             string    `json:"id"`
	WebhookID      *string   `json:"webhook_id"`
	EventType      string    `json:"event_type"`
	EntityID       string    `json:"entity_id"`
	URL            string    `json:"url"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	LastStatusCode *int      `json:"last_status_code"`
	LastError      *string   `json:"last_error"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// CreateWebhook subscribes the caller's instance to events; the answer holds the secret once.
func (c *Client) CreateWebhook(ctx context.Context, in CreateWebhook) (*Webhook, error) {
	out := new(Webhook)
	if _, err := c.doJSON(ctx, call{method: http.MethodPost, path: "/v1/webhooks", in: in}, out); err != nil {
		return nil, err
	}
	return out, nil
}

// ListWebhooks lists the instance's subscriptions (first page).
func (c *Client) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	return list[Webhook](ctx, c, "/v1/webhooks?limit=100")
}

// DeleteWebhook deletes a subscription.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	p, err := pathID(id)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	resp, err := c.do(ctx, call{method: http.MethodDelete, path: "/v1/webhooks/" + p})
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// ListDeliveries lists the instance's deliveries, newest first; status "dead" lists dead letters.
func (c *Client) ListDeliveries(ctx context.Context, status, entityID string) ([]Delivery, error) {
	q := url.Values{"limit": {"100"}}
	if status != "" {
		q.Set("status", status)
	}
	if entityID != "" {
		q.Set("entity_id", entityID)
	}
	return list[Delivery](ctx, c, "/v1/webhook-deliveries?"+q.Encode())
}

// ReplayDelivery sends a dead (or succeeded) delivery again, with the same webhook-id.
func (c *Client) ReplayDelivery(ctx context.Context, id string) (*Delivery, error) {
	p, err := pathID(id)
	if err != nil {
		return nil, fmt.Errorf("replay delivery: %w", err)
	}
	out := new(Delivery)
	if _, err := c.doJSON(ctx, call{method: http.MethodPost, path: "/v1/webhook-deliveries/" + p + "/replay"}, out); err != nil {
		return nil, err
	}
	return out, nil
}
