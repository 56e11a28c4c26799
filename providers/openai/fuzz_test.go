package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
	sdk "github.com/openai/openai-go/v3"
)

// Real answers, as the API sends them, to seed the fuzz targets.
const (
	seedCompletion = `{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I assist you today?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default"}`
	seedStream     = "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n" +
		"data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n" +
		"data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n" +
		"data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1,\"total_tokens\":10}}\n\n" +
		"data: [DONE]\n\n"
	seedImagesURL = `{"created":1713833628,"data":[{"revised_prompt":"A cute baby sea otter","url":"https://oaidalleapiprodscus.blob.core.windows.net/private/img-abc.png?st=2024"}]}`
	seedImagesB64 = `{"created":1713833628,"data":[{"b64_json":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="}],"output_format":"png"}`
	seedError     = `{"error":{"message":"Rate limit reached for gpt-4o in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`
)

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"1s", "6m0s", "120ms", "1h2m3.5s", "8.64s", "0s", "2d", "20", "0.5", "1.5µs", "10ns", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDuration(s)
		if !ok {
			if d != 0 {
				t.Fatalf("ParseDuration(%q) = %v but not ok", s, d)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
		// Where the standard library reads the same text (Go's notation, no days, no bare
		// number), the two must agree.
		trimmed := strings.TrimSpace(s)
		if !strings.Contains(trimmed, "d") && !isDecimal(trimmed) {
			std, err := time.ParseDuration(trimmed)
			if err != nil || std != d {
				t.Fatalf("ParseDuration(%q) = %v; time.ParseDuration = %v, %v", s, d, std, err)
			}
		}
	})
}

func FuzzRateLimitHeaders(f *testing.F) {
	f.Add("5000", "4999", "12ms", "0", "6m0s", "", "", "Please try again in 20s.")
	f.Add("3", "0", "20s", "150000", "1m0.5s", "20", "1500", "")
	f.Add("-1", "-1", "0", "x", "1h", "Wed, 21 Oct 2015 07:28:00 GMT", "nan", "try again in 1e9h")
	f.Fuzz(func(t *testing.T, limit, remaining, reset, remTok, resetTok, retry, retryMS, msg string) {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		h := http.Header{}
		set := func(k, v string) {
			if v != "" {
				h.Set(k, v)
			}
		}
		set("x-ratelimit-limit-requests", limit)
		set("x-ratelimit-remaining-requests", remaining)
		set("x-ratelimit-reset-requests", reset)
		set("x-ratelimit-remaining-tokens", remTok)
		set("x-ratelimit-reset-tokens", resetTok)
		set("retry-after", retry)
		set("retry-after-ms", retryMS)
		if l := parseLimits(h, now); l != nil {
			if l.Limit < 0 || l.Remaining < 0 || (!l.Reset.IsZero() && l.Reset.Before(now)) {
				t.Fatalf("limits %+v", l)
			}
		}
		if d := rateLimitWait(h, msg, now); d < 0 {
			t.Fatalf("wait %v", d)
		}
		if d := messageWait(msg); d < 0 {
			t.Fatalf("message wait %v", d)
		}
	})
}

func FuzzErrorBody(f *testing.F) {
	f.Add(429, []byte(seedError))
	f.Add(400, []byte(`{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","param":null,"code":"content_policy_violation"}}`))
	f.Add(400, []byte(`{"object":"error","message":"too long","type":"BadRequestError","param":null,"code":400}`))
	f.Add(404, []byte(`{"error":"model not found"}`))
	f.Add(502, []byte(`<html>Bad Gateway</html>`))
	f.Add(0, []byte(`{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := classify("openai", status, parseErrorBody(body), nil, time.Now(), nil)
		if e.Code == "" || !strings.HasPrefix(e.Message, "openai: ") || e.RetryAfter < 0 {
			t.Fatalf("classify(%d, %q) = %+v", status, body, e)
		}
	})
}

func FuzzCompletion(f *testing.F) {
	f.Add([]byte(seedCompletion))
	f.Add([]byte(`{"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}`))
	f.Add([]byte(`{"choices":[{"index":0,"message":{"content":"cut"},"finish_reason":"length"}]}`))
	f.Add([]byte(`{"choices":[{"index":0,"message":{"content":""},"finish_reason":"content_filter"}]}`))
	f.Add([]byte(`{"object":"list","data":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := parseCompletionBody("openai", bytes.NewReader(body))
		if err != nil {
			var e *electrons.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *electrons.Error", err)
			}
			return
		}
		var res sdk.ChatCompletion
		if json.Unmarshal(body, &res) != nil || len(res.Choices) == 0 {
			t.Fatalf("accepted %q", body)
		}
		checkFinish(t, out)
	})
}

func FuzzStream(f *testing.F) {
	f.Add([]byte(seedStream))
	f.Add([]byte(seedStream[:len(seedStream)/2]))
	f.Add([]byte("data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"))
	f.Add([]byte(": keep-alive\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("event: error\ndata: {\"message\":\"boom\"}\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		var deltas strings.Builder
		out, err := readStream("openai", bytes.NewReader(body), func(s string) { deltas.WriteString(s) })
		if err != nil {
			return
		}
		if !bytes.Contains(body, []byte("[DONE]")) {
			t.Fatalf("a stream without [DONE] succeeded: %q", body)
		}
		if out.Text != deltas.String() {
			t.Fatalf("text %q != deltas %q", out.Text, deltas.String())
		}
		checkFinish(t, out)
	})
}

func FuzzImages(f *testing.F) {
	f.Add([]byte(seedImagesURL))
	f.Add([]byte(seedImagesB64))
	f.Add([]byte(`{"created":1,"data":[{"revised_prompt":"x"}]}`))
	f.Add([]byte(`{"created":1,"data":[{"url":"ftp://x"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var res sdk.ImagesResponse
		if json.Unmarshal(body, &res) != nil {
			return
		}
		out, err := imagesOutput("openai", &res)
		if err != nil {
			return
		}
		if len(out.Files) != len(res.Data) || len(out.Files) == 0 {
			t.Fatalf("%d files from %d images", len(out.Files), len(res.Data))
		}
		for _, f := range out.Files {
			if (f.URL == "") == (len(f.Data) == 0) || !strings.HasPrefix(f.ContentType, "image/") {
				t.Fatalf("file %+v", f)
			}
		}
	})
}

func FuzzSpeech(f *testing.F) {
	f.Add("audio/mpeg", []byte{0xff, 0xfb, 0x90, 0x64})
	f.Add("application/json", []byte(`{"error":"x"}`))
	f.Add("application/octet-stream", []byte("RIFF"))
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, contentType string, data []byte) {
		out, err := speechOutput("openai", contentType, "audio/mpeg", data)
		if err != nil {
			return
		}
		if len(out.Files) != 1 || !bytes.Equal(out.Files[0].Data, data) || !strings.HasPrefix(out.Files[0].ContentType, "audio/") {
			t.Fatalf("output %+v", out)
		}
	})
}

func checkFinish(t *testing.T, out *providers.Output) {
	t.Helper()
	switch out.FinishReason {
	case "", providers.FinishStop, providers.FinishLength:
	default:
		t.Fatalf("finish reason %q", out.FinishReason)
	}
}
