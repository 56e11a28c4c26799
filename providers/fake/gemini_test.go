package fake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func geminiServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s := New()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	s.BaseURL = ts.URL
	return s, ts
}

func geminiPost(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-goog-api-key", "k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestGeminiWire(t *testing.T) {
	t.Parallel()
	s, ts := geminiServer(t)
	for _, name := range []string{"gemini.generate", "gemini.stream", "gemini.video", "gemini.operation"} {
		if _, ok := s.Stats()[name]; !ok {
			t.Fatalf("route %s is not registered", name)
		}
	}
	const req = `{"contents": [{"role": "user", "parts": [{"text": "hello there"}]}]}`

	// The stream is SSE with CRLF-framed data events, the last one with the finish reason.
	resp, body := geminiPost(t, ts.URL+"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", req)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	events := strings.Split(strings.TrimSuffix(body, "\r\n\r\n"), "\r\n\r\n")
	if len(events) < 2 || !strings.Contains(events[len(events)-1], `"finishReason":"STOP"`) {
		t.Fatalf("events %q", events)
	}
	for _, ev := range events {
		var v map[string]any
		if data, ok := strings.CutPrefix(ev, "data: "); !ok || json.Unmarshal([]byte(data), &v) != nil {
			t.Fatalf("event %q is not `data: {json}`", ev)
		}
	}

	// A rate limit is Google's envelope with a QuotaFailure and a RetryInfo, and no headers.
	s.Configure("gemini.generate", RouteConfig{Faults: map[string]float64{FaultRateLimit: 1}})
	resp, body = geminiPost(t, ts.URL+"/v1beta/models/gemini-2.5-flash:generateContent", req)
	var env struct {
		Error struct {
			Code    int              `json:"code"`
			Status  string           `json:"status"`
			Details []map[string]any `json:"details"`
		} `json:"error"`
	}
	if resp.StatusCode != 429 || json.Unmarshal([]byte(body), &env) != nil || env.Error.Status != "RESOURCE_EXHAUSTED" || env.Error.Code != 429 {
		t.Fatalf("rate limit: %s %s", resp.Status, body)
	}
	var retry string
	for _, d := range env.Error.Details {
		if d["@type"] == "type.googleapis.com/google.rpc.RetryInfo" {
			retry, _ = d["retryDelay"].(string)
		}
	}
	if retry != "2s" {
		t.Fatalf("retryDelay = %q in %s", retry, body)
	}
	for h := range resp.Header {
		if strings.Contains(strings.ToLower(h), "ratelimit") {
			t.Fatalf("Gemini sends no rate-limit headers, the fake sent %s", h)
		}
	}

	// Unknown actions and operations are Google's NOT_FOUND.
	resp, _ = geminiPost(t, ts.URL+"/v1beta/models/gemini-2.5-flash:countSheep", req)
	if resp.StatusCode != 404 {
		t.Fatalf("unknown action: %s", resp.Status)
	}
	r, err := http.Get(ts.URL + "/v1beta/models/veo-3.1-generate-preview/operations/nope")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 404 {
		t.Fatalf("unknown operation: %s", r.Status)
	}
}

func TestGeminiVideoOperation(t *testing.T) {
	t.Parallel()
	s, ts := geminiServer(t)
	s.Configure("gemini.operation", RouteConfig{PollsUntilDone: 2})
	_, body := geminiPost(t, ts.URL+"/v1beta/models/veo-3.1-generate-preview:predictLongRunning", `{"instances": [{"prompt": "waves"}], "parameters": {}}`)
	var op struct {
		Name     string `json:"name"`
		Done     bool   `json:"done"`
		Response struct {
			GenerateVideoResponse struct {
				GeneratedSamples []struct {
					Video struct {
						URI string `json:"uri"`
					} `json:"video"`
				} `json:"generatedSamples"`
			} `json:"generateVideoResponse"`
		} `json:"response"`
	}
	if json.Unmarshal([]byte(body), &op) != nil || !strings.HasPrefix(op.Name, "models/veo-3.1-generate-preview/operations/") || op.Done {
		t.Fatalf("predictLongRunning: %s", body)
	}
	for i := range 2 {
		r, err := http.Get(ts.URL + "/v1beta/" + op.Name)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if err := json.Unmarshal(b, &op); err != nil {
			t.Fatalf("poll %d: %s", i, b)
		}
		if op.Done != (i == 1) {
			t.Fatalf("poll %d: done = %v", i, op.Done)
		}
	}
	uri := op.Response.GenerateVideoResponse.GeneratedSamples[0].Video.URI
	r, err := http.Get(uri)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "video/mp4" || string(b[4:8]) != "ftyp" || string(b[36:40]) != "moov" {
		t.Fatalf("video: %s %s %q", r.Status, r.Header.Get("Content-Type"), b[:min(len(b), 48)])
	}
}
