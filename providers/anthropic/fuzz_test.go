package anthropic

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// canned answers every request with one response, so that a fuzz target can feed the adapter
// any status, headers and body without a network.
type canned struct {
	status      int
	contentType string
	retryAfter  string
	body        []byte
}

func (c canned) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	h := http.Header{}
	h.Set("Content-Type", c.contentType)
	if c.retryAfter != "" {
		h.Set("retry-after", c.retryAfter)
	}
	h.Set("anthropic-ratelimit-requests-limit", "50")
	h.Set("anthropic-ratelimit-requests-remaining", "0")
	h.Set("anthropic-ratelimit-requests-reset", "2030-01-01T00:00:00Z")
	return &http.Response{StatusCode: c.status, Header: h, Body: io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: -1, Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

const (
	seedMessage = `{"id":"msg_01","type":"message","role":"assistant","model":"claude-3-5-haiku-latest","content":[{"type":"text","text":"Hi there"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":3}}`
	seedStream  = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: ping\ndata: {\"type\": \"ping\"}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"!\"}}\n\n" +
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	seedStreamError = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n" +
		"event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n"
	seedError = `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"},"request_id":"req_1"}`
)

// FuzzGenerate feeds the adapter any answer, streamed or not: it must never panic, and must
// either fail with a classified *electrons.Error or succeed consistently (the deltas make the
// text, the finish reason is a known one).
func FuzzGenerate(f *testing.F) {
	f.Add(200, "application/json", "", []byte(seedMessage), false)
	f.Add(200, "text/event-stream; charset=utf-8", "", []byte(seedStream), true)
	f.Add(200, "text/event-stream", "", []byte(seedStreamError), true)
	f.Add(200, "text/event-stream", "", []byte(seedStream[:len(seedStream)/2]), true)
	f.Add(429, "application/json", "12", []byte(seedError), false)
	f.Add(529, "application/json", "", []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`), true)
	f.Add(400, "application/json", "", []byte(`{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low"}}`), false)
	f.Add(502, "text/html", "", []byte("<html>Bad Gateway</html>"), false)
	f.Add(200, "application/json", "", []byte(`{"type":"message","content":"x","stop_reason":7}`), false)
	f.Fuzz(func(t *testing.T, status int, contentType, retryAfter string, body []byte, stream bool) {
		if status < 200 || status > 599 {
			status = 200
		}
		hc := &http.Client{Transport: canned{status: status, contentType: contentType, retryAfter: retryAfter, body: body}}
		p := New(Config{APIKey: "k", BaseURL: "http://anthropic.invalid", HTTPClient: hc})
		call := providers.Call{TaskType: electrons.TaskText, Model: "claude-3-5-haiku-latest", Input: electrons.Input{Prompt: "hi"}}
		var deltas strings.Builder
		if stream {
			call.OnDelta = func(s string) { deltas.WriteString(s) }
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := p.Generate(ctx, call)
		if err != nil {
			var e *electrons.Error
			if !errors.As(err, &e) || e.Code == "" || e.RetryAfter < 0 || out != nil {
				t.Fatalf("unclassified failure: %v (%T), out %v", err, err, out)
			}
			return
		}
		if out == nil || out.Usage == nil {
			t.Fatalf("success without an output: %+v", out)
		}
		switch out.FinishReason {
		case providers.FinishStop, providers.FinishLength, "":
		default:
			t.Fatalf("finish reason %q", out.FinishReason)
		}
		if stream && deltas.String() != out.Text {
			t.Fatalf("deltas %q do not make the text %q", deltas.String(), out.Text)
		}
		if stream && !bytes.Contains(body, []byte("message_stop")) {
			t.Fatalf("a stream without message_stop succeeded: %q", body)
		}
	})
}

// FuzzHeaders feeds the rate-limit header parsers anything: no panic, no negative wait, no
// negative limit state.
func FuzzHeaders(f *testing.F) {
	f.Add("50", "49", "2026-11-01T12:00:30Z", "", "")
	f.Add("1000", "0", "2026-11-01T12:01:00Z", "30", "")
	f.Add("", "", "", "Wed, 21 Oct 2026 07:28:00 GMT", "1500")
	f.Add("x", "-1", "tomorrow", "-5", "1e300")
	f.Fuzz(func(t *testing.T, limit, remaining, reset, retry, retryMS string) {
		now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		h := http.Header{}
		for _, fam := range limitFamilies {
			h.Set("anthropic-ratelimit-"+fam+"-limit", limit)
			h.Set("anthropic-ratelimit-"+fam+"-remaining", remaining)
			h.Set("anthropic-ratelimit-"+fam+"-reset", reset)
		}
		h.Set("retry-after", retry)
		h.Set("retry-after-ms", retryMS)
		if d := retryAfter(h, electrons.CodeRateLimited, now); d < 0 {
			t.Fatalf("negative wait %v", d)
		}
		if l := parseLimits(h); l != nil && (l.Limit < 0 || l.Remaining < 0) {
			t.Fatalf("negative limit state %+v", l)
		}
	})
}
