package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/distributed-electrons/electrons"
)

// CreateBatch is the JSON body of POST /v1/batches.
type CreateBatch struct {
	Requests    []CreateRequest `json:"requests"`
	CallbackURL string          `json:"callback_url,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
}

// SubmitBatch submits a batch of requests as JSON.
func (c *Client) SubmitBatch(ctx context.Context, b CreateBatch) (*electrons.Batch, error) {
	out := new(electrons.Batch)
	if _, err := c.doJSON(ctx, call{method: http.MethodPost, path: "/v1/batches", in: b}, out); err != nil {
		return nil, err
	}
	return out, nil
}

// SubmitBatchJSONL submits a batch as JSONL (application/x-ndjson): each line is
// {"custom_id", "body": <request body>} or an OpenAI Batch API line. The body is
// streamed from r as is.
func (c *Client) SubmitBatchJSONL(ctx context.Context, r io.Reader) (*electrons.Batch, error) {
	out := new(electrons.Batch)
	cl := call{method: http.MethodPost, path: "/v1/batches", in: r, contentType: "application/x-ndjson"}
	if _, err := c.doJSON(ctx, cl, out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetBatch fetches a batch with its counts.
func (c *Client) GetBatch(ctx context.Context, id string) (*electrons.Batch, error) {
	return c.batchCall(ctx, http.MethodGet, id, "")
}

// CancelBatch cancels the requests of a batch that have not finished.
func (c *Client) CancelBatch(ctx context.Context, id string) (*electrons.Batch, error) {
	return c.batchCall(ctx, http.MethodPost, id, "/cancel")
}

func (c *Client) batchCall(ctx context.Context, method, id, action string) (*electrons.Batch, error) {
	p, err := pathID(id)
	if err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	out := new(electrons.Batch)
	if _, err := c.doJSON(ctx, call{method: method, path: "/v1/batches/" + p + action}, out); err != nil {
		return nil, err
	}
	return out, nil
}

// BatchResults streams the results of a batch as JSONL, one line per item
// (custom_id, request_id, status, result, error). The caller closes it.
func (c *Client) BatchResults(ctx context.Context, id string) (io.ReadCloser, error) {
	p, err := pathID(id)
	if err != nil {
		return nil, fmt.Errorf("batch results: %w", err)
	}
	resp, err := c.do(ctx, call{
		method: http.MethodGet,
		path:   "/v1/batches/" + p + "/results",
		header: http.Header{"Accept": {"application/x-ndjson, application/jsonl, application/json"}},
	})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
