package client

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/distributed-electrons/electrons"
)

// GetInstance shows the caller's instance, with the secret that signs its
// callback webhooks (admin keys).
func (c *Client) GetInstance(ctx context.Context) (*electrons.Instance, error) {
	out := new(electrons.Instance)
	if _, err := c.doJSON(ctx, call{method: http.MethodGet, path: "/v1/instance"}, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Queue is the state of one provider queue (GET /v1/queues).
type Queue struct {
	Name             string         `json:"name"`
	Provider         string         `json:"provider"`
	Paused           bool           `json:"paused"`
	Queued           int            `json:"queued"`
	Scheduled        int            `json:"scheduled"`
	Running          int            `json:"running"`
	Retrying         int            `json:"retrying"`
	Dead             int            `json:"dead"`
	OldestAgeSeconds float64        `json:"oldest_age_seconds"`
	ThroughputPerMin float64        `json:"throughput_per_min"`
	Limiter          map[string]any `json:"limiter,omitempty"`
}

// ListQueues lists the provider queues (admin keys).
func (c *Client) ListQueues(ctx context.Context) ([]Queue, error) {
	return list[Queue](ctx, c, "/v1/queues")
}

// PauseQueue stops workers on every replica from taking new jobs off a queue
// (admin keys) and returns the queue. Pausing a paused queue is a no-op.
func (c *Client) PauseQueue(ctx context.Context, name string) (*Queue, error) {
	return c.queueCall(ctx, name, "/pause")
}

// ResumeQueue lets workers take jobs off a paused queue again (admin keys) and
// returns the queue.
func (c *Client) ResumeQueue(ctx context.Context, name string) (*Queue, error) {
	return c.queueCall(ctx, name, "/resume")
}

func (c *Client) queueCall(ctx context.Context, name, action string) (*Queue, error) {
	p, err := pathID(name)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q := new(Queue)
	if _, err := c.doJSON(ctx, call{method: http.MethodPost, path: "/v1/queues/" + p + action}, q); err != nil {
		return nil, err
	}
	return q, nil
}

// ListProviders lists the providers and their live state: name, enabled,
// disabled_reason, task_types, limits, remaining, cooldown_until, circuit (admin
// keys). The maps are the server's JSON objects as decoded by encoding/json.
func (c *Client) ListProviders(ctx context.Context) ([]map[string]any, error) {
	return list[map[string]any](ctx, c, "/v1/providers")
}

// ListModels lists the routable models (admin keys).
func (c *Client) ListModels(ctx context.Context) ([]electrons.Model, error) {
	return list[electrons.Model](ctx, c, "/v1/models")
}

// Key is an API key. Secret is the key itself, to put in Authorization: Bearer;
// the server shows it only once, in the answer to its creation.
type Key struct {
	ID         string     `json:"id"`
	Instance   string     `json:"instance"`
	Admin      bool       `json:"admin"`
	Name       string     `json:"name,omitempty"`
	Secret     string     `json:"key,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateKey creates an API key for instance (created if needed), an admin key
// when admin is true (admin keys).
func (c *Client) CreateKey(ctx context.Context, instance string, admin bool) (*Key, error) {
	in := struct {
		Instance string `json:"instance"`
		Admin    bool   `json:"admin"`
	}{instance, admin}
	out := new(Key)
	if _, err := c.doJSON(ctx, call{method: http.MethodPost, path: "/v1/keys", in: in}, out); err != nil {
		return nil, err
	}
	return out, nil
}
