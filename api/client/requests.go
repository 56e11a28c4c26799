package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/distributed-electrons/electrons"
)

// CreateRequest is the body of POST /v1/requests, and one item of a JSON batch.
type CreateRequest struct {
	TaskType    electrons.TaskType `json:"task_type,omitempty"`
	Model       string             `json:"model,omitempty"`
	Input       electrons.Input    `json:"input,omitzero"`
	Priority    int                `json:"priority,omitempty"`
	CallbackURL string             `json:"callback_url,omitempty"`
	Metadata    json.RawMessage    `json:"metadata,omitempty"`
	// IdempotencyKey makes a retried submission return the original request.
	// SubmitRequest sends it as the Idempotency-Key header (and not in the body);
	// inside a batch it travels in the body as idempotency_key.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// SubmitRequest submits one request. replayed is true when the server answered
// 200 for an idempotency key it had already seen (the original request is
// returned) rather than 202 for a new request.
func (c *Client) SubmitRequest(ctx context.Context, r CreateRequest) (req *electrons.Request, replayed bool, err error) {
	cl := call{method: http.MethodPost, path: "/v1/requests"}
	if r.IdempotencyKey != "" {
		cl.header = http.Header{"Idempotency-Key": {r.IdempotencyKey}}
		r.IdempotencyKey = ""
	}
	cl.in = r
	req = new(electrons.Request)
	status, err := c.doJSON(ctx, cl, req)
	if err != nil {
		return nil, false, err
	}
	return req, status == http.StatusOK, nil
}

// GetRequest fetches one request.
func (c *Client) GetRequest(ctx context.Context, id string) (*electrons.Request, error) {
	return c.requestCall(ctx, http.MethodGet, id, "")
}

// CancelRequest cancels a request that has not finished.
func (c *Client) CancelRequest(ctx context.Context, id string) (*electrons.Request, error) {
	return c.requestCall(ctx, http.MethodPost, id, "/cancel")
}

// RetryRequest runs a failed or cancelled request again.
func (c *Client) RetryRequest(ctx context.Context, id string) (*electrons.Request, error) {
	return c.requestCall(ctx, http.MethodPost, id, "/retry")
}

// ApproveRequest accepts the result of a request in review.
func (c *Client) ApproveRequest(ctx context.Context, id string) (*electrons.Request, error) {
	return c.requestCall(ctx, http.MethodPost, id, "/approve")
}

// RejectRequest rejects the result of a request in review.
func (c *Client) RejectRequest(ctx context.Context, id string) (*electrons.Request, error) {
	return c.requestCall(ctx, http.MethodPost, id, "/reject")
}

func (c *Client) requestCall(ctx context.Context, method, id, action string) (*electrons.Request, error) {
	p, err := pathID(id)
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	req := new(electrons.Request)
	if _, err := c.doJSON(ctx, call{method: method, path: "/v1/requests/" + p + action}, req); err != nil {
		return nil, err
	}
	return req, nil
}

// ListRequestsParams filters and pages GET /v1/requests. Zero fields are not sent.
type ListRequestsParams struct {
	Status   string
	TaskType string
	Provider string
	BatchID  string
	Limit    int
	Cursor   string
}

func (p ListRequestsParams) values() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("status", p.Status)
	set("task_type", p.TaskType)
	set("provider", p.Provider)
	set("batch_id", p.BatchID)
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	set("cursor", p.Cursor)
	return q
}

// ListRequests fetches one page of requests, newest first as the server orders
// them. Pass the page's NextCursor as Cursor to fetch the next one.
func (c *Client) ListRequests(ctx context.Context, p ListRequestsParams) (*Page[electrons.Request], error) {
	page := new(Page[electrons.Request])
	if _, err := c.doJSON(ctx, call{method: http.MethodGet, path: "/v1/requests", query: p.values()}, page); err != nil {
		return nil, err
	}
	return page, nil
}

// Event is one Server-Sent Event of a request's stream: Type is the event name
// ("status", "delta", "done", "error"; "message" when the server named none) and
// Data its data (JSON), multi-line data joined with newlines.
type Event struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// The event types of GET /v1/requests/{id}/events.
const (
	EventStatus = "status"
	EventDelta  = "delta"
	EventDone   = "done"
	EventError  = "error"
)

// WatchRequest follows the live events of a request, calling fn for each one in
// order. It returns nil when the stream ends: after a "done" or "error" event
// (the server's last) or when the server closes it; it returns fn's error if fn
// fails, and the context's error if ctx ends first.
func (c *Client) WatchRequest(ctx context.Context, id string, fn func(Event) error) error {
	p, err := pathID(id)
	if err != nil {
		return fmt.Errorf("watch request: %w", err)
	}
	resp, err := c.do(ctx, call{
		method: http.MethodGet,
		path:   "/v1/requests/" + p + "/events",
		header: http.Header{"Accept": {"text/event-stream"}, "Cache-Control": {"no-cache"}},
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	err = readEvents(resp.Body, func(e Event) error {
		if err := fn(e); err != nil {
			return err
		}
		if e.Type == EventDone || e.Type == EventError {
			return errStreamEnd
		}
		return nil
	})
	if errors.Is(err, errStreamEnd) {
		return nil
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// errStreamEnd stops readEvents after the final event.
var errStreamEnd = errors.New("end of stream")

// readEvents parses a text/event-stream body per the WHATWG HTML "server-sent
// events" rules (comments, id and retry fields are ignored) and calls fn with
// each dispatched event. It returns nil at the end of r, or fn's error.
func readEvents(r io.Reader, fn func(Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	var (
		typ     string
		data    strings.Builder
		hasData bool
	)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if hasData {
				t := typ
				if t == "" {
					t = "message"
				}
				if err := fn(Event{Type: t, Data: json.RawMessage(data.String())}); err != nil {
					return err
				}
			}
			typ, hasData = "", false
			data.Reset()
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			typ = value
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			hasData = true
		}
	}
	// An event not followed by a blank line at the end of the stream is
	// discarded, as the standard says.
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read event stream: %w", err)
	}
	return nil
}
