package fake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Anthropic Messages API: POST /v1/messages, answered as JSON or, with "stream": true, as
// server-sent events (message_start, content_block_start, ping, content_block_delta…,
// content_block_stop, message_delta, message_stop). Errors are
// {"type":"error","error":{"type":…,"message":…},"request_id":…} with the API's statuses (429
// rate_limit_error, 529 overloaded_error, 500 api_error, 401 authentication_error, 400
// invalid_request_error); rate limits are reported in anthropic-ratelimit-* headers whose resets
// are RFC 3339 timestamps, and every 429 carries retry-after.
func init() {
	registrations = append(registrations, func(s *Server) {
		s.handleAnthropic("anthropic.messages", "POST /v1/messages", serveAnthropicMessages)
	})
}

// anthropicVersionHeader is the header the API refuses requests without.
const anthropicVersionHeader = "anthropic-version"

// anthropicCreditMessage is the API's wording when the organisation has run out of credit.
const anthropicCreditMessage = "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."

// anthropicRequest is the part of a Messages request body the fake reads.
type anthropicRequest struct {
	Model         string             `json:"model"`
	MaxTokens     *int               `json:"max_tokens"`
	Messages      []anthropicMessage `json:"messages"`
	System        json.RawMessage    `json:"system"`
	Stream        bool               `json:"stream"`
	StopSequences []string           `json:"stop_sequences"`
}

type anthropicMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// anthropicWriter carries the parsed request to the dialect: whether a fault is answered before
// the stream (a 529) or inside it (an error event after some text) depends on the request, as
// it does on the real API, and Dialect.WriteError is not given the request.
type anthropicWriter struct {
	http.ResponseWriter
	req     *anthropicRequest // nil when the body is not a Messages request
	body    []byte
	bodyErr error
}

// Flush passes through, so that events reach the client as they are written.
func (w *anthropicWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *anthropicWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *anthropicWriter) streaming() bool { return w.req != nil && w.req.Stream }

// handleAnthropic is Handle with the request body read first, so that the dialect can answer a
// fault the way the request's form (stream or not) calls for.
func (s *Server) handleAnthropic(name, pattern string, h func(w *anthropicWriter, r *http.Request, dec *Decision)) {
	rt := &route{name: name, dialect: anthropicDialect{}, polls: map[string]int{}}
	s.routes[name] = rt
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		aw := &anthropicWriter{ResponseWriter: w}
		aw.body, aw.bodyErr = io.ReadAll(http.MaxBytesReader(w, r.Body, 32<<20))
		if aw.bodyErr == nil {
			var req anthropicRequest
			if json.Unmarshal(aw.body, &req) == nil {
				aw.req = &req
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(aw.body))
		dec, release, ok := s.admit(rt, aw, r)
		defer release()
		if !ok {
			return
		}
		h(aw, r, dec)
	})
}

// anthropicDialect writes Anthropic's errors and anthropic-ratelimit-* headers.
type anthropicDialect struct{}

// LimitHeaders sets the requests and tokens families of anthropic-ratelimit-* headers (the
// fake's token limit is estimated from the input, so input-tokens mirrors tokens).
func (anthropicDialect) LimitHeaders(h http.Header, s Snapshot) {
	reset := ceilSecond(s.Reset).UTC().Format(time.RFC3339)
	if s.LimitRequests > 0 {
		h.Set("anthropic-ratelimit-requests-limit", strconv.Itoa(s.LimitRequests))
		h.Set("anthropic-ratelimit-requests-remaining", strconv.Itoa(s.RemainingRequests))
		h.Set("anthropic-ratelimit-requests-reset", reset)
	}
	if s.LimitTokens > 0 {
		for _, fam := range []string{"tokens", "input-tokens"} {
			h.Set("anthropic-ratelimit-"+fam+"-limit", strconv.Itoa(s.LimitTokens))
			h.Set("anthropic-ratelimit-"+fam+"-remaining", strconv.Itoa(s.RemainingTokens))
			h.Set("anthropic-ratelimit-"+fam+"-reset", reset)
		}
	}
}

// WriteError answers with the API's error for fault. On a streaming request an overload arrives
// as an error event after some text, and a safety refusal is a complete answer whose stop_reason
// is "refusal" (the API's way), streamed or not.
func (anthropicDialect) WriteError(w http.ResponseWriter, fault string, s Snapshot) {
	aw, _ := w.(*anthropicWriter)
	switch fault {
	case FaultRateLimit, FaultConcurrency:
		// Anthropic has no separate concurrency error: too many requests at once is a 429 too.
		wait := 1
		if !s.Reset.IsZero() {
			wait = max(int(math.Ceil(time.Until(s.Reset).Seconds())), 1)
		}
		w.Header().Set("retry-after", strconv.Itoa(wait))
		writeAnthropicError(w, http.StatusTooManyRequests, "rate_limit_error",
			"This request would exceed your organization's rate limit. Please reduce the prompt length or the maximum tokens requested, or try again later.")
	case FaultQuota:
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", anthropicCreditMessage)
	case FaultOverloaded:
		if aw != nil && aw.streaming() {
			anthropicStream(aw, newAnthropicAnswer(aw.req, aw.body), streamOverloaded)
			return
		}
		writeAnthropicError(w, 529, "overloaded_error", "Overloaded")
	case FaultInvalid:
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "messages: at least one message is required")
	case FaultAuth:
		writeAnthropicError(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
	case FaultContentPolicy:
		if aw != nil && aw.req != nil {
			a := newAnthropicAnswer(aw.req, aw.body)
			if aw.streaming() {
				anthropicStream(aw, a, streamRefusal)
			} else {
				a.refuse()
				writeAnthropicMessage(aw, a)
			}
			return
		}
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "Output blocked by content filtering policy")
	default: // FaultServer and anything a dialect has no better answer for
		writeAnthropicError(w, http.StatusInternalServerError, "api_error", "Internal server error")
	}
}

// writeAnthropicError writes the API's error body. x-should-retry tells the official SDKs
// whether to retry, as the real API does.
func writeAnthropicError(w http.ResponseWriter, status int, typ, msg string) {
	retry := status == http.StatusTooManyRequests || status >= 500
	w.Header().Set("x-should-retry", strconv.FormatBool(retry))
	WriteJSON(w, status, map[string]any{
		"type":       "error",
		"error":      map[string]string{"type": typ, "message": msg},
		"request_id": "req_fake_error",
	})
}

// anthropicAnswer is the deterministic answer to a request: the prompt's words echoed back.
type anthropicAnswer struct {
	id, model    string
	chunks       []string // the text as it streams: words, each after the first with its space
	stopReason   string
	stopSequence string
	inputTokens  int
	refusal      bool
}

func newAnthropicAnswer(req *anthropicRequest, body []byte) *anthropicAnswer {
	sum := sha256.Sum256(body)
	a := &anthropicAnswer{id: "msg_fake" + hex.EncodeToString(sum[:12]), model: req.Model, stopReason: "end_turn"}
	var prompt string
	var all []string
	all = append(all, contentText(req.System))
	for _, m := range req.Messages {
		t := contentText(m.Content)
		all = append(all, t)
		if m.Role == "user" {
			prompt = t
		}
	}
	a.inputTokens = max(len(strings.Fields(strings.Join(all, " "))), 1)
	words := append([]string{"Echo:"}, strings.Fields(prompt)...)
	text := strings.Join(words, " ")
	for _, seq := range req.StopSequences {
		if i := strings.Index(text, seq); seq != "" && i >= 0 {
			text, a.stopReason, a.stopSequence = text[:i], "stop_sequence", seq
		}
	}
	for i, w := range strings.Fields(text) {
		if req.MaxTokens != nil && i >= *req.MaxTokens {
			a.stopReason, a.stopSequence = "max_tokens", ""
			break
		}
		if i > 0 {
			w = " " + w
		}
		a.chunks = append(a.chunks, w)
	}
	return a
}

// refuse turns the answer into a safety refusal with no text, as the API stops a refused turn.
func (a *anthropicAnswer) refuse() {
	a.refusal, a.chunks, a.stopReason, a.stopSequence = true, nil, "refusal", ""
}

func (a *anthropicAnswer) text() string { return strings.Join(a.chunks, "") }

func (a *anthropicAnswer) outputTokens() int { return max(len(a.chunks), 1) }

func (a *anthropicAnswer) usage(output int) map[string]any {
	return map[string]any{
		"input_tokens": a.inputTokens, "output_tokens": output,
		"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "service_tier": "standard",
	}
}

func (a *anthropicAnswer) stopDetails() any {
	if !a.refusal {
		return nil
	}
	return map[string]any{"type": "refusal", "category": nil, "explanation": nil}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func serveAnthropicMessages(w *anthropicWriter, r *http.Request, dec *Decision) {
	sum := sha256.Sum256(w.body)
	w.Header().Set("request-id", "req_fake"+hex.EncodeToString(sum[:12]))
	switch {
	case w.bodyErr != nil:
		writeAnthropicError(w, http.StatusRequestEntityTooLarge, "request_too_large", "Request exceeds the maximum allowed number of bytes.")
		return
	case r.Header.Get(anthropicVersionHeader) == "":
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")
		return
	case w.req == nil:
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "There was an error parsing the body of your request: it is not a JSON object")
		return
	case w.req.Model == "":
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "model: Field required")
		return
	case w.req.MaxTokens == nil:
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "max_tokens: Field required")
		return
	case *w.req.MaxTokens < 0:
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "max_tokens: Input should be greater than or equal to 0")
		return
	case len(w.req.Messages) == 0:
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "messages: Field required")
		return
	}
	a := newAnthropicAnswer(w.req, w.body)
	switch {
	case dec.Fault == FaultMalformed && w.req.Stream:
		anthropicStream(w, a, streamMalformed)
	case dec.Fault == FaultMalformed:
		// What a proxy in front of the API answers when the API is not there.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>\n")
	case dec.Fault == FaultTruncate && w.req.Stream:
		anthropicStream(w, a, streamTruncated)
	case dec.Fault == FaultTruncate:
		// The connection drops halfway through the body.
		b, _ := json.Marshal(anthropicMessageBody(a))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b[:len(b)/2])
	case w.req.Stream:
		anthropicStream(w, a, streamComplete)
	default:
		writeAnthropicMessage(w, a)
	}
}

func anthropicMessageBody(a *anthropicAnswer) map[string]any {
	content := []any{}
	if t := a.text(); t != "" || !a.refusal {
		content = append(content, map[string]any{"type": "text", "text": t})
	}
	return map[string]any{
		"id": a.id, "type": "message", "role": "assistant", "model": a.model, "content": content,
		"stop_reason": a.stopReason, "stop_sequence": nullable(a.stopSequence), "stop_details": a.stopDetails(),
		"container": nil, "usage": a.usage(a.outputTokens()),
	}
}

func writeAnthropicMessage(w http.ResponseWriter, a *anthropicAnswer) {
	WriteJSON(w, http.StatusOK, anthropicMessageBody(a))
}

// How a stream ends.
type streamEnd int

const (
	streamComplete   streamEnd = iota
	streamTruncated            // cut after some deltas, without message_stop
	streamOverloaded           // an error event (overloaded_error) after some deltas
	streamRefusal              // no text; message_delta says stop_reason "refusal"
	streamMalformed            // an event whose data is not JSON
)

// anthropicStream writes the answer as the API's server-sent events, flushing each one.
func anthropicStream(w *anthropicWriter, a *anthropicAnswer, end streamEnd) {
	if end == streamRefusal {
		a.refuse()
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	event := func(typ string, data any) {
		b, _ := json.Marshal(data)
		_, _ = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b)
		w.Flush()
	}
	start := map[string]any{
		"id": a.id, "type": "message", "role": "assistant", "model": a.model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "stop_details": nil, "container": nil, "usage": a.usage(1),
	}
	event("message_start", map[string]any{"type": "message_start", "message": start})
	if end == streamMalformed {
		_, _ = io.WriteString(w, "event: content_block_start\ndata: {\"type\": \"content_block_start\", \"index\": 0, \"content_block\": {\n\n")
		w.Flush()
		return
	}
	if !a.refusal {
		event("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "text", "text": ""}})
		event("ping", map[string]any{"type": "ping"})
		chunks := a.chunks
		if end == streamTruncated || end == streamOverloaded {
			chunks = chunks[:(len(chunks)+1)/2]
		}
		for _, c := range chunks {
			event("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]any{"type": "text_delta", "text": c}})
		}
		switch end {
		case streamTruncated:
			return
		case streamOverloaded:
			event("error", map[string]any{"type": "error",
				"error": map[string]string{"type": "overloaded_error", "message": "Overloaded"}})
			return
		}
		event("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	}
	event("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": a.stopReason, "stop_sequence": nullable(a.stopSequence), "stop_details": a.stopDetails()},
		"usage": map[string]any{"output_tokens": a.outputTokens()}})
	event("message_stop", map[string]any{"type": "message_stop"})
}

// ceilSecond rounds t up to a whole second, as the API's resets are whole seconds: rounding
// down would tell a client to come back before the window has reset.
func ceilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); r.Before(t) {
		return r.Add(time.Second)
	}
	return t
}
