// Package client is the Go client of the Distributed Electrons HTTP API (v1).
// electronsctl and the end-to-end tests speak to the server through it.
//
// Every method takes a context first and returns domain types from package
// electrons. A non-2xx answer becomes an *APIError, decoded from the server's
// RFC 9457 problem+json body; use errors.As to inspect it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/distributed-electrons/electrons"
)

// DefaultUserAgent is sent when WithUserAgent is not given.
const DefaultUserAgent = "electrons-go-client/1"

// Client calls the HTTP API of one server with one API key. It is safe for
// concurrent use.
type Client struct {
	baseURL   string
	apiKey    string
	http      *http.Client
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc. Note that a
// non-zero hc.Timeout also cuts long-lived event streams (WatchRequest).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithUserAgent sets the User-Agent header (default DefaultUserAgent).
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client of the server at baseURL (for example
// "http://127.0.0.1:8080") that authenticates with apiKey (no header when empty).
//
// The default HTTP client has no overall timeout, because event streams stay open
// for as long as a request runs; the caller's context bounds each call, and the
// transport gives up on a server that sends no response headers within a minute.
func New(baseURL, apiKey string, opts ...Option) *Client {
	c := &Client{
		baseURL:   strings.TrimRight(baseURL, "/"),
		apiKey:    apiKey,
		userAgent: DefaultUserAgent,
	}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = time.Minute
		c.http = &http.Client{Transport: t}
	}
	return c
}

// APIError is a non-2xx answer of the API, decoded from its problem+json body.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the stable machine-readable code (the problem's "code" member). When
	// the body was not problem+json it is derived from Status.
	Code   electrons.Code
	Title  string
	Detail string
	// Param names the input field at fault, where the server said which.
	Param string
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Title)
	if e.Detail != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Detail)
	}
	fmt.Fprintf(&b, " (%s)", e.Code)
	return b.String()
}

// problem is the wire form of an RFC 9457 problem details body.
type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail"`
	Code   electrons.Code `json:"code"`
	Param  string         `json:"param"`
}

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 64 << 10

// decodeError turns a non-2xx response into an *APIError. It reads (a bounded part
// of) the body but does not close it.
func decodeError(resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{Status: resp.StatusCode}
	var p problem
	if err := json.Unmarshal(body, &p); err == nil {
		e.Code, e.Title, e.Detail, e.Param = p.Code, p.Title, p.Detail, p.Param
	} else if s := strings.TrimSpace(string(body)); s != "" {
		// Not problem+json (a proxy's page, say): keep the start of it as the detail.
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		e.Detail = s
	}
	if e.Title == "" {
		e.Title = http.StatusText(resp.StatusCode)
		if e.Title == "" {
			e.Title = "HTTP " + strconv.Itoa(resp.StatusCode)
		}
	}
	if e.Code == "" {
		e.Code = codeForStatus(resp.StatusCode)
	}
	return e
}

// codeForStatus guesses the code of an error answer that did not say.
func codeForStatus(status int) electrons.Code {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return electrons.CodeInvalidRequest
	case http.StatusUnauthorized:
		return electrons.CodeUnauthorized
	case http.StatusForbidden:
		return electrons.CodeForbidden
	case http.StatusNotFound:
		return electrons.CodeNotFound
	case http.StatusConflict:
		return electrons.CodeConflict
	case http.StatusRequestEntityTooLarge:
		return electrons.CodePayloadTooLarge
	case http.StatusTooManyRequests:
		return electrons.CodeRateLimited
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return electrons.CodeUnavailable
	}
	return electrons.CodeInternal
}

// call describes one HTTP exchange for do.
type call struct {
	method string
	path   string // starts with "/"; ids already escaped
	query  url.Values
	// in is the request body: an io.Reader is sent as is with contentType,
	// anything else non-nil is encoded as JSON.
	in          any
	contentType string
	header      http.Header
}

// do sends c and returns the response of a 2xx answer with its body open: the
// caller closes it. Any other answer becomes an *APIError.
func (cl *Client) do(ctx context.Context, c call) (*http.Response, error) {
	u := cl.baseURL + c.path
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	var body io.Reader
	contentType := c.contentType
	switch in := c.in.(type) {
	case nil:
	case io.Reader:
		body = in
	default:
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", c.method, c.path, err)
		}
		body = bytes.NewReader(b)
		if contentType == "" {
			contentType = "application/json"
		}
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.method, c.path, err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if cl.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+cl.apiKey)
	}
	if cl.userAgent != "" {
		req.Header.Set("User-Agent", cl.userAgent)
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		// *url.Error repeats the method and URL in its own words; say them once.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("%s %s: %w", c.method, u, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp, nil
}

// doJSON sends c and decodes a 2xx answer's JSON body into out (skipped when out
// is nil or the body is empty). It returns the status code.
func (cl *Client) doJSON(ctx context.Context, c call, out any) (int, error) {
	resp, err := cl.do(ctx, c)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("read %s %s: %w", c.method, c.path, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return resp.StatusCode, fmt.Errorf("decode %s %s: %w", c.method, c.path, err)
	}
	return resp.StatusCode, nil
}

// Page is one page of a list: {"data": [...], "next_cursor": "..."}. An empty
// NextCursor means there is no next page.
type Page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// list fetches a list endpoint that is not paginated by the caller, accepting
// the {"data": [...]} envelope (or, leniently, a bare array).
func list[T any](ctx context.Context, cl *Client, path string) ([]T, error) {
	var raw json.RawMessage
	if _, err := cl.doJSON(ctx, call{method: http.MethodGet, path: path}, &raw); err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	if raw[0] == '[' {
		var out []T
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf("decode GET %s: %w", path, err)
		}
		return out, nil
	}
	var p Page[T]
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("decode GET %s: %w", path, err)
	}
	return p.Data, nil
}

// pathID escapes an id for use as one path segment, refusing an empty one so
// that a missing id does not silently address a collection.
func pathID(id string) (string, error) {
	if id == "" {
		return "", errors.New("empty id")
	}
	return url.PathEscape(id), nil
}
