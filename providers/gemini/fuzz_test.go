package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// canned answers every request with one response, so that fuzzing needs no network.
type canned struct {
	status int
	ct     string
	body   []byte
}

func (c canned) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: c.status, Status: http.StatusText(c.status),
		Header:        http.Header{"Content-Type": {c.ct}},
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)),
		Request:       r,
	}, nil
}

var fuzzStatuses = []int{200, 200, 200, 400, 403, 429, 500, 503, 504}

func cannedProvider(status uint8, ct string, body []byte) *Provider {
	st := fuzzStatuses[int(status)%len(fuzzStatuses)]
	return New(Config{APIKey: "k", BaseURL: "https://generativelanguage.googleapis.com/",
		HTTPClient: &http.Client{Transport: canned{status: st, ct: ct, body: body}}})
}

// checkError fails unless err is a well-formed *electrons.Error.
func checkError(t *testing.T, err error) {
	t.Helper()
	var e *electrons.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *electrons.Error", err, err)
	}
	if e.Code == "" || !strings.HasPrefix(e.Message, "gemini: ") {
		t.Fatalf("error without a code or the provider's name: %+v", e)
	}
	if e.RetryAfter < 0 || e.RetryAfter > maxDelay {
		t.Fatalf("retry after %v out of range", e.RetryAfter)
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30s", "1.5s", "20.044661790s", "0s", "0.000000001s", "-1s", "1e3s", "s", "", "99999999999999999999s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseDuration(s)
		if !ok {
			if d != 0 {
				t.Fatalf("refused %q but returned %v", s, d)
			}
			return
		}
		if d < 0 || d > maxDelay {
			t.Fatalf("parseDuration(%q) = %v, out of range", s, d)
		}
		if !strings.HasSuffix(strings.TrimSpace(s), "s") {
			t.Fatalf("accepted %q without its unit", s)
		}
		// The canonical form of what was read reads back the same.
		if d < maxDelay {
			back, ok := parseDuration(protoDuration(d))
			if !ok || back != d {
				t.Fatalf("%q → %v → %q → %v, %v", s, d, protoDuration(d), back, ok)
			}
		}
	})
}

// protoDuration formats d as protobuf JSON may: seconds and nine fractional digits.
func protoDuration(d time.Duration) string {
	return fmt.Sprintf("%d.%09ds", d/time.Second, d%time.Second)
}

func FuzzErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"error": {"code": 429, "message": "You exceeded your current quota.", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"}, "quotaValue": "10"}]}, {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Learn more", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]}, {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "20s"}]}}`,
		`{"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel"}]}]}}`,
		`{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}`,
		`{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}`,
		`{"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}`,
		`{"error": {"details": [{"@type": 3}, {"retryDelay": 5}, {"@type": "x.google.rpc.RetryInfo", "retryDelay": "-3s"}]}}`,
		`{"error": null}`, `[]`, `<html>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		g, ok := parseErrorBody(body)
		if !ok {
			return
		}
		e := fromStatus(g, nil)
		checkError(t, e)
		// A failed operation's error has the same shape.
		var m map[string]any
		if json.Unmarshal(body, &struct {
			Error *map[string]any `json:"error"`
		}{&m}) == nil && m != nil {
			checkError(t, fromStatus(operationError(m), nil))
		}
	})
}

func FuzzGenerateResponse(f *testing.F) {
	for _, s := range []string{
		`{"candidates": [{"content": {"parts": [{"text": "Paris."}], "role": "model"}, "finishReason": "STOP", "index": 0}], "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 2, "totalTokenCount": 10}, "modelVersion": "gemini-2.5-flash", "responseId": "abc"}`,
		`{"candidates": [{"content": {"parts": [{"text": "Here it is."}, {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}], "role": "model"}, "finishReason": "STOP"}]}`,
		`{"candidates": [{"content": {"parts": [{"text": "a b"}]}, "finishReason": "MAX_TOKENS"}]}`,
		`{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}`,
		`{"candidates": [{"finishReason": "SAFETY"}]}`,
		`{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}]}}`,
		`{"candidates": "x"}`, `{"candidates": [{"content": {"parts": [{"inlineData": {"data": "!!"}}]}}]}`, ``, `<html>`,
	} {
		f.Add(uint8(0), []byte(s), false)
	}
	f.Fuzz(func(t *testing.T, status uint8, body []byte, image bool) {
		p := cannedProvider(status, "application/json", body)
		call := providers.Call{TaskType: electrons.TaskText, Model: textModel, Input: electrons.Input{Prompt: "x"}}
		if image {
			call.TaskType, call.Model = electrons.TaskImage, imageModel
		}
		out, err := p.Generate(context.Background(), call)
		if err != nil {
			if out != nil {
				t.Fatal("output and error together")
			}
			checkError(t, err)
			return
		}
		switch out.FinishReason {
		case "", providers.FinishStop, providers.FinishLength:
		default:
			t.Fatalf("finish reason %q", out.FinishReason)
		}
		if image && (len(out.Files) == 0 || len(out.Files[0].Data) == 0) {
			t.Fatal("an image answer without an image")
		}
	})
}

func FuzzStream(f *testing.F) {
	for _, s := range []string{
		`data: {"candidates": [{"content": {"parts": [{"text": "Hel"}], "role": "model"}}]}` + "\r\n\r\n" +
			`data: {"candidates": [{"content": {"parts": [{"text": "lo"}], "role": "model"}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 2}}` + "\r\n\r\n",
		`data: {"candidates": [{"content": {"parts": [{"text": "Hi"}]}}]}` + "\n\n",
		`data: {"error": {"code": 503, "status": "UNAVAILABLE", "message": "overloaded"}}` + "\r\n\r\n",
		`data: {"promptFeedback": {"blockReason": "SAFETY"}}` + "\r\n\r\n",
		`data: {"candidates": [{"content": {"parts": [{"te`,
		`event: x` + "\n\n", `data: {"candidates": "x"}` + "\n\n", ``,
	} {
		f.Add(uint8(0), []byte(s))
	}
	f.Fuzz(func(t *testing.T, status uint8, body []byte) {
		p := cannedProvider(status, "text/event-stream", body)
		var deltas strings.Builder
		call := providers.Call{TaskType: electrons.TaskText, Model: textModel, Input: electrons.Input{Prompt: "x"},
			OnDelta: func(s string) { deltas.WriteString(s) }}
		out, err := p.Generate(context.Background(), call)
		if err != nil {
			checkError(t, err)
			return
		}
		if out.Text != deltas.String() {
			t.Fatalf("text %q, deltas %q", out.Text, deltas.String())
		}
		if out.FinishReason != providers.FinishStop && out.FinishReason != providers.FinishLength {
			t.Fatalf("a stream succeeded with finish reason %q", out.FinishReason)
		}
	})
}

func FuzzOperation(f *testing.F) {
	for _, s := range []string{
		`{"name": "models/veo-3.1-generate-preview/operations/abc123"}`,
		`{"name": "models/veo-3.1-generate-preview/operations/abc123", "done": true, "response": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse", "generateVideoResponse": {"generatedSamples": [{"video": {"uri": "https://example.com/v.mp4"}}]}}}`,
		`{"name": "models/veo/operations/a", "done": true, "response": {"generateVideoResponse": {"generatedSamples": [{"video": {"uri": "https://generativelanguage.googleapis.com/v1beta/files/x:download?alt=media"}}]}}}`,
		`{"name": "models/veo/operations/a", "done": true, "error": {"code": 8, "message": "quota"}}`,
		`{"name": "models/veo/operations/a", "done": true, "response": {"generateVideoResponse": {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["x"]}}}`,
		`{"name": "models/veo/operations/a", "done": true, "response": {"generateVideoResponse": "x"}}`,
		`{"done": "yes"}`, `{}`, ``,
	} {
		f.Add(uint8(0), []byte(s), false)
	}
	f.Fuzz(func(t *testing.T, status uint8, body []byte, start bool) {
		p := cannedProvider(status, "application/json", body)
		call := providers.Call{TaskType: electrons.TaskVideo, Model: videoModel, Input: electrons.Input{Prompt: "x"}}
		var out *providers.Output
		var err error
		if start {
			out, err = p.Generate(context.Background(), call)
		} else {
			out, err = p.Poll(context.Background(), call, "models/veo/operations/a")
		}
		if err != nil {
			checkError(t, err)
			return
		}
		switch {
		case out.Pending != nil:
			if !validHandle(out.Pending.Handle) || len(out.Files) != 0 {
				t.Fatalf("pending output %+v", out)
			}
		case len(out.Files) == 1:
			if f := out.Files[0]; (f.URL == "") == (len(f.Data) == 0) || f.ContentType == "" {
				t.Fatalf("file %+v", f)
			}
		default:
			t.Fatalf("output %+v is neither pending nor a video", out)
		}
	})
}
