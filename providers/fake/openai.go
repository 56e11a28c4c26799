package fake

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The OpenAI API, as OpenAI-compatible servers (Ollama, vLLM, llama.cpp) speak it too:
//
//   - POST /v1/chat/completions ("openai.chat"): a chat.completion, or with "stream": true
//     server-sent "data:" events of chat.completion.chunk objects ending in "data: [DONE]" (with
//     stream_options.include_usage, a last chunk with empty choices carries the usage);
//   - POST /v1/images/generations ("openai.images"): {"created", "data": [{"url"} | {"b64_json"}]},
//     URLs pointing at files hosted by this server;
//   - POST /v1/audio/speech ("openai.speech"): the audio's bytes (mp3, wav, flac or pcm).
//
// Errors are {"error": {"message", "type", "param", "code"}} with the API's statuses (429
// rate_limit_exceeded or insufficient_quota, 401 invalid_api_key, 400 invalid_request_error or
// content_policy_violation, 500 server_error, 503 overloaded); rate limits are reported on every
// answer in x-ratelimit-{limit,remaining,reset}-{requests,tokens}, the resets as Go-style
// durations ("1s", "6m0s", "120ms"), and every 429 carries retry-after. The answers are
// deterministic: chat echoes the prompt's words (cut at max_completion_tokens / max_tokens with
// finish_reason "length"), images are PNGs coloured from the prompt, speech is silence whose
// length follows the text.
func init() {
	registrations = append(registrations, func(s *Server) {
		s.handleOpenAI("openai.chat", "POST /v1/chat/completions", serveOpenAIChat)
		s.handleOpenAI("openai.images", "POST /v1/images/generations", serveOpenAIImages)
		s.handleOpenAI("openai.speech", "POST /v1/audio/speech", serveOpenAISpeech)
	})
}

// openaiWriter carries the request to the dialect: a chat refused on safety grounds is a
// completion that ends with finish_reason "content_filter", and a server error on a streamed
// chat arrives as an error event after some text, which the dialect can only write knowing the
// request.
type openaiWriter struct {
	http.ResponseWriter
	route   string
	body    []byte
	bodyErr error
	chat    *openaiChatRequest // nil unless the route is chat and the body is a chat request
}

// Flush passes through, so that events reach the client as they are written.
func (w *openaiWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *openaiWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// handleOpenAI is Handle with the request body read first, for the dialect's sake.
func (s *Server) handleOpenAI(name, pattern string, h func(w *openaiWriter, r *http.Request, dec *Decision)) {
	rt := &route{name: name, dialect: openaiDialect{}, polls: map[string]int{}}
	s.routes[name] = rt
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ow := &openaiWriter{ResponseWriter: w, route: name}
		ow.body, ow.bodyErr = io.ReadAll(http.MaxBytesReader(w, r.Body, 32<<20))
		if ow.bodyErr == nil && name == "openai.chat" {
			var req openaiChatRequest
			if json.Unmarshal(ow.body, &req) == nil {
				ow.chat = &req
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(ow.body))
		sum := sha256.Sum256(ow.body)
		w.Header().Set("x-request-id", "req_"+hex.EncodeToString(sum[:16]))
		w.Header().Set("openai-processing-ms", "1")
		dec, release, ok := s.admit(rt, ow, r)
		defer release()
		if !ok {
			return
		}
		h(ow, r, dec)
	})
}

// openaiDialect writes OpenAI's errors and x-ratelimit-* headers.
type openaiDialect struct{}

// LimitHeaders sets x-ratelimit-{limit,remaining,reset}-{requests,tokens} for the dimensions the
// route limits. OpenAI's resets are durations until the window refills, in Go's notation.
func (openaiDialect) LimitHeaders(h http.Header, s Snapshot) {
	reset := openaiDuration(time.Until(s.Reset))
	if s.LimitRequests > 0 {
		h.Set("x-ratelimit-limit-requests", strconv.Itoa(s.LimitRequests))
		h.Set("x-ratelimit-remaining-requests", strconv.Itoa(s.RemainingRequests))
		h.Set("x-ratelimit-reset-requests", reset)
	}
	if s.LimitTokens > 0 {
		h.Set("x-ratelimit-limit-tokens", strconv.Itoa(s.LimitTokens))
		h.Set("x-ratelimit-remaining-tokens", strconv.Itoa(s.RemainingTokens))
		h.Set("x-ratelimit-reset-tokens", reset)
	}
}

// openaiDuration formats a wait as OpenAI does ("1s", "6m0s", "120ms"): Go's notation, to the
// millisecond, never negative.
func openaiDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return d.Round(time.Millisecond).String()
}

// WriteError answers with the API's error for fault.
func (openaiDialect) WriteError(w http.ResponseWriter, fault string, s Snapshot) {
	ow, _ := w.(*openaiWriter)
	switch fault {
	case FaultRateLimit, FaultConcurrency:
		wait := time.Second
		if !s.Reset.IsZero() {
			wait = max(time.Until(s.Reset), 0)
		}
		w.Header().Set("retry-after", strconv.Itoa(max(int(math.Ceil(wait.Seconds())), 1)))
		kind, limit := "requests per min (RPM)", s.LimitRequests
		typ := "requests"
		if s.LimitTokens > 0 && (s.LimitRequests == 0 || s.RemainingRequests > 0) {
			kind, limit, typ = "tokens per min (TPM)", s.LimitTokens, "tokens"
		}
		msg := fmt.Sprintf("Rate limit reached for default-model in organization org-fake on %s: Limit %d, Used %d, Requested 1. Please try again in %s. Visit https://platform.openai.com/account/rate-limits to learn more.",
			kind, limit, limit, openaiDuration(wait))
		if fault == FaultConcurrency {
			msg = "Too many concurrent requests for this model. Please try again in " + openaiDuration(wait) + "."
		}
		writeOpenAIError(w, http.StatusTooManyRequests, msg, typ, "", "rate_limit_exceeded")
	case FaultQuota:
		writeOpenAIError(w, http.StatusTooManyRequests,
			"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
			"insufficient_quota", "", "insufficient_quota")
	case FaultOverloaded:
		writeOpenAIError(w, http.StatusServiceUnavailable, "The engine is currently overloaded, please try again later.", "server_error", "", "")
	case FaultInvalid:
		writeOpenAIError(w, http.StatusBadRequest,
			"We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
			"invalid_request_error", "", "")
	case FaultAuth:
		writeOpenAIError(w, http.StatusUnauthorized,
			"Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
			"invalid_request_error", "", "invalid_api_key")
	case FaultContentPolicy:
		if ow != nil && ow.chat != nil {
			a := newOpenAIAnswer(ow.chat, ow.body)
			a.filter()
			if ow.chat.Stream {
				openaiStream(ow, a, openaiStreamComplete)
			} else {
				WriteJSON(w, http.StatusOK, a.completion())
			}
			return
		}
		writeOpenAIError(w, http.StatusBadRequest,
			"Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.",
			"invalid_request_error", "", "content_policy_violation")
	default: // FaultServer and anything without a better answer
		if ow != nil && ow.chat != nil && ow.chat.Stream {
			openaiStream(ow, newOpenAIAnswer(ow.chat, ow.body), openaiStreamError)
			return
		}
		writeOpenAIError(w, http.StatusInternalServerError, "The server had an error while processing your request. Sorry about that!", "server_error", "", "")
	}
}

// writeOpenAIError writes the API's error body; empty param and code are null, as the API has them.
func writeOpenAIError(w http.ResponseWriter, status int, msg, typ, param, code string) {
	WriteJSON(w, status, map[string]any{"error": openaiErrorObject(msg, typ, param, code)})
}

func openaiErrorObject(msg, typ, param, code string) map[string]any {
	return map[string]any{"message": msg, "type": typ, "param": openaiNullable(param), "code": openaiNullable(code)}
}

func openaiNullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// openaiChatRequest is the part of a chat completions request the fake reads.
type openaiChatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           *int `json:"max_tokens"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	N                   *int `json:"n"`
}

// openaiAnswer is the deterministic answer to a chat request: the prompt's words echoed back.
type openaiAnswer struct {
	id, model    string
	created      int64
	chunks       []string // the text as it streams: words, each after the first with its space
	finish       string
	promptTokens int
	includeUsage bool
}

func newOpenAIAnswer(req *openaiChatRequest, body []byte) *openaiAnswer {
	sum := sha256.Sum256(body)
	a := &openaiAnswer{id: "chatcmpl-" + hex.EncodeToString(sum[:12]), model: req.Model, created: time.Now().Unix(), finish: "stop",
		includeUsage: req.StreamOptions != nil && req.StreamOptions.IncludeUsage}
	var prompt string
	var all []string
	for _, m := range req.Messages {
		t := contentText(m.Content)
		all = append(all, t)
		if m.Role == "user" || prompt == "" {
			prompt = t
		}
	}
	a.promptTokens = max(len(strings.Fields(strings.Join(all, " "))), 1)
	limit := -1
	if req.MaxCompletionTokens != nil {
		limit = *req.MaxCompletionTokens
	} else if req.MaxTokens != nil {
		limit = *req.MaxTokens
	}
	words := append([]string{"Echo:"}, strings.Fields(prompt)...)
	for i, w := range words {
		if limit >= 0 && i >= limit {
			a.finish = "length"
			break
		}
		if i > 0 {
			w = " " + w
		}
		a.chunks = append(a.chunks, w)
	}
	return a
}

// filter withholds the answer as OpenAI's content filter does: what was said stops early and
// finish_reason is "content_filter".
func (a *openaiAnswer) filter() {
	a.chunks, a.finish = a.chunks[:len(a.chunks)/2], "content_filter"
}

func (a *openaiAnswer) text() string { return strings.Join(a.chunks, "") }

func (a *openaiAnswer) usage() map[string]any {
	return map[string]any{
		"prompt_tokens": a.promptTokens, "completion_tokens": len(a.chunks), "total_tokens": a.promptTokens + len(a.chunks),
		"prompt_tokens_details":     map[string]int{"cached_tokens": 0, "audio_tokens": 0},
		"completion_tokens_details": map[string]int{"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
	}
}

func (a *openaiAnswer) completion() map[string]any {
	return map[string]any{
		"id": a.id, "object": "chat.completion", "created": a.created, "model": a.model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": a.text(), "refusal": nil, "annotations": []any{}},
			"logprobs":      nil,
			"finish_reason": a.finish,
		}},
		"usage": a.usage(), "service_tier": "default", "system_fingerprint": "fp_fake",
	}
}

func serveOpenAIChat(w *openaiWriter, _ *http.Request, dec *Decision) {
	req := w.chat
	switch {
	case w.bodyErr != nil:
		writeOpenAIError(w, http.StatusRequestEntityTooLarge, "Request too large.", "invalid_request_error", "", "")
		return
	case req == nil:
		writeOpenAIError(w, http.StatusBadRequest, "We could not parse the JSON body of your request.", "invalid_request_error", "", "")
		return
	case req.Model == "":
		writeOpenAIError(w, http.StatusBadRequest, "you must provide a model parameter", "invalid_request_error", "", "")
		return
	case len(req.Messages) == 0:
		writeOpenAIError(w, http.StatusBadRequest, "[] is too short - 'messages'", "invalid_request_error", "messages", "")
		return
	case req.MaxTokens != nil && req.MaxCompletionTokens != nil:
		writeOpenAIError(w, http.StatusBadRequest, "max_tokens and max_completion_tokens cannot both be set", "invalid_request_error", "max_tokens", "")
		return
	case (req.MaxTokens != nil && *req.MaxTokens < 1) || (req.MaxCompletionTokens != nil && *req.MaxCompletionTokens < 1):
		writeOpenAIError(w, http.StatusBadRequest, "Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= 1.", "invalid_request_error", "max_completion_tokens", "integer_below_min_value")
		return
	case req.N != nil && *req.N != 1:
		writeOpenAIError(w, http.StatusBadRequest, "the fake answers n=1 only", "invalid_request_error", "n", "")
		return
	}
	a := newOpenAIAnswer(req, w.body)
	switch {
	case dec.Fault == FaultMalformed && req.Stream:
		openaiStream(w, a, openaiStreamMalformed)
	case dec.Fault == FaultMalformed:
		// JSON, but not a completion: what a misrouted proxy may answer.
		WriteJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []any{}})
	case dec.Fault == FaultTruncate && req.Stream:
		openaiStream(w, a, openaiStreamTruncated)
	case dec.Fault == FaultTruncate:
		openaiCutBody(w, "application/json", mustJSON(a.completion()))
	case req.Stream:
		openaiStream(w, a, openaiStreamComplete)
	default:
		WriteJSON(w, http.StatusOK, a.completion())
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// openaiCutBody declares the whole body and sends half: the connection drops mid-answer.
func openaiCutBody(w http.ResponseWriter, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b[:len(b)/2])
}

// How a chat stream ends.
type openaiStreamEnd int

const (
	openaiStreamComplete  openaiStreamEnd = iota
	openaiStreamTruncated                 // cut after some deltas, mid-event, without [DONE]
	openaiStreamError                     // an error event after some deltas, without [DONE]
	openaiStreamMalformed                 // an event whose data is not JSON
)

// openaiStream writes the answer as chat.completion.chunk events, flushing each one.
func openaiStream(w *openaiWriter, a *openaiAnswer, end openaiStreamEnd) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	data := func(v any) {
		_, _ = fmt.Fprintf(w, "data: %s\n\n", mustJSON(v))
		w.Flush()
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		c := map[string]any{
			"id": a.id, "object": "chat.completion.chunk", "created": a.created, "model": a.model,
			"system_fingerprint": "fp_fake", "service_tier": "default",
			"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
		}
		if a.includeUsage {
			c["usage"] = nil
		}
		return c
	}
	data(chunk(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil))
	if end == openaiStreamMalformed {
		_, _ = io.WriteString(w, "data: <html><body>502 Bad Gateway</body></html>\n\ndata: [DONE]\n\n")
		return
	}
	chunks := a.chunks
	if end != openaiStreamComplete {
		chunks = chunks[:(len(chunks)+1)/2]
	}
	for _, c := range chunks {
		data(chunk(map[string]any{"content": c}, nil))
	}
	switch end {
	case openaiStreamTruncated:
		// The connection drops in the middle of the next event.
		_, _ = io.WriteString(w, `data: {"id":"`+a.id+`","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" `)
		w.Flush()
		return
	case openaiStreamError:
		data(map[string]any{"error": openaiErrorObject("The server had an error while processing your request. Sorry about that!", "server_error", "", "")})
		return
	}
	data(chunk(map[string]any{}, a.finish))
	if a.includeUsage {
		data(map[string]any{
			"id": a.id, "object": "chat.completion.chunk", "created": a.created, "model": a.model,
			"system_fingerprint": "fp_fake", "service_tier": "default", "choices": []any{}, "usage": a.usage(),
		})
	}
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
	w.Flush()
}

// openaiImageRequest is the part of an image generations request the fake reads.
type openaiImageRequest struct {
	Prompt         string `json:"prompt"`
	Model          string `json:"model"`
	N              *int   `json:"n"`
	Size           string `json:"size"`
	ResponseFormat string `json:"response_format"`
	Quality        string `json:"quality"`
	Style          string `json:"style"`
	OutputFormat   string `json:"output_format"`
}

// openaiImageSizes are the sizes each image model accepts.
var openaiImageSizes = map[string][]string{
	"dall-e-2":    {"256x256", "512x512", "1024x1024"},
	"dall-e-3":    {"1024x1024", "1792x1024", "1024x1792"},
	"gpt-image-1": {"1024x1024", "1536x1024", "1024x1536", "auto"},
}

func serveOpenAIImages(w *openaiWriter, _ *http.Request, dec *Decision) {
	var req openaiImageRequest
	if w.bodyErr != nil || json.Unmarshal(w.body, &req) != nil {
		writeOpenAIError(w, http.StatusBadRequest, "We could not parse the JSON body of your request.", "invalid_request_error", "", "")
		return
	}
	if req.Model == "" {
		req.Model = "dall-e-2" // the API's default
	}
	gptImage := strings.HasPrefix(req.Model, "gpt-image")
	sizes := openaiImageSizes[req.Model]
	if gptImage {
		sizes = openaiImageSizes["gpt-image-1"]
	}
	if req.Size == "" {
		req.Size = "1024x1024"
	}
	n := 1
	if req.N != nil {
		n = *req.N
	}
	switch {
	case strings.TrimSpace(req.Prompt) == "":
		writeOpenAIError(w, http.StatusBadRequest, "Missing required parameter: 'prompt'.", "invalid_request_error", "prompt", "missing_required_parameter")
		return
	case sizes == nil:
		writeOpenAIError(w, http.StatusBadRequest, fmt.Sprintf("Invalid value for 'model' = %s.", req.Model), "invalid_request_error", "model", "invalid_value")
		return
	case !openaiContains(sizes, req.Size):
		writeOpenAIError(w, http.StatusBadRequest, fmt.Sprintf("'%s' is not one of %s - 'size'", req.Size, strings.Join(sizes, ", ")), "invalid_request_error", "size", "")
		return
	case n < 1 || n > 10 || (req.Model == "dall-e-3" && n != 1):
		writeOpenAIError(w, http.StatusBadRequest, "Invalid 'n': dall-e-3 takes n=1, other models 1 to 10.", "invalid_request_error", "n", "")
		return
	case gptImage && req.ResponseFormat != "":
		writeOpenAIError(w, http.StatusBadRequest, "Unknown parameter: 'response_format'.", "invalid_request_error", "response_format", "unknown_parameter")
		return
	case req.ResponseFormat != "" && req.ResponseFormat != "url" && req.ResponseFormat != "b64_json":
		writeOpenAIError(w, http.StatusBadRequest, fmt.Sprintf("'%s' is not one of ['url', 'b64_json'] - 'response_format'", req.ResponseFormat), "invalid_request_error", "response_format", "")
		return
	}
	if req.Size == "auto" {
		req.Size = "1024x1024"
	}
	var width, height int
	_, _ = fmt.Sscanf(req.Size, "%dx%d", &width, &height)
	b64 := gptImage || req.ResponseFormat == "b64_json"

	var data []any
	for i := range n {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%s|%d", req.Model, req.Size, req.Prompt, i)))
		img := openaiPNG(width, height, sum)
		entry := map[string]any{}
		if b64 {
			entry["b64_json"] = base64.StdEncoding.EncodeToString(img)
		} else {
			entry["url"] = dec.Host("openai-"+hex.EncodeToString(sum[:12])+".png", "image/png", img)
		}
		if req.Model == "dall-e-3" {
			entry["revised_prompt"] = "A detailed rendering of: " + req.Prompt
		}
		data = append(data, entry)
	}
	body := map[string]any{"created": time.Now().Unix(), "data": data}
	if gptImage {
		words := len(strings.Fields(req.Prompt))
		body["background"], body["output_format"], body["size"], body["quality"] = "opaque", "png", req.Size, "high"
		body["usage"] = map[string]any{"input_tokens": words, "output_tokens": 1056 * n, "total_tokens": words + 1056*n,
			"input_tokens_details": map[string]int{"text_tokens": words, "image_tokens": 0}}
	}
	switch dec.Fault {
	case FaultMalformed:
		// JSON, but the images are missing: entries without url or b64_json.
		WriteJSON(w, http.StatusOK, map[string]any{"created": time.Now().Unix(), "data": []any{map[string]any{"revised_prompt": req.Prompt}}})
	case FaultTruncate:
		openaiCutBody(w, "application/json", mustJSON(body))
	default:
		WriteJSON(w, http.StatusOK, body)
	}
}

func openaiContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// openaiPNG draws a real PNG of the size: a vertical gradient between two colours taken from
// seed. It is paletted, one byte a pixel, so that large sizes stay cheap to make.
func openaiPNG(width, height int, seed [32]byte) []byte {
	pal := make(color.Palette, 256)
	for i := range pal {
		t := float64(i) / 255
		pal[i] = color.NRGBA{
			R: uint8(float64(seed[0])*(1-t) + float64(seed[3])*t),
			G: uint8(float64(seed[1])*(1-t) + float64(seed[4])*t),
			B: uint8(float64(seed[2])*(1-t) + float64(seed[5])*t),
			A: 255,
		}
	}
	img := image.NewPaletted(image.Rect(0, 0, width, height), pal)
	for y := range height {
		row := img.Pix[y*img.Stride : y*img.Stride+width]
		if len(row) == 0 {
			continue
		}
		row[0] = uint8(y * 255 / max(height-1, 1))
		for n := 1; n < len(row); n *= 2 {
			copy(row[n:], row[:n])
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	_ = enc.Encode(&buf, img)
	return buf.Bytes()
}

// openaiVoices are the API's built-in voices.
var openaiVoices = []string{"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse", "marin", "cedar"}

// openaiSpeechTypes are the content types of the speech formats the fake produces. The API
// also speaks opus and aac, which the fake does not encode and refuses with a clear message.
var openaiSpeechTypes = map[string]string{"mp3": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac", "pcm": "audio/pcm"}

func serveOpenAISpeech(w *openaiWriter, _ *http.Request, dec *Decision) {
	var req struct {
		Model          string          `json:"model"`
		Input          string          `json:"input"`
		Voice          json.RawMessage `json:"voice"`
		ResponseFormat string          `json:"response_format"`
		Speed          *float64        `json:"speed"`
	}
	if w.bodyErr != nil || json.Unmarshal(w.body, &req) != nil {
		writeOpenAIError(w, http.StatusBadRequest, "We could not parse the JSON body of your request.", "invalid_request_error", "", "")
		return
	}
	var voice string
	if json.Unmarshal(req.Voice, &voice) != nil {
		var custom struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(req.Voice, &custom) == nil && custom.ID != "" {
			voice = "alloy" // a custom voice: the fake speaks every voice alike
		}
	}
	if req.ResponseFormat == "" {
		req.ResponseFormat = "mp3"
	}
	speed := 1.0
	if req.Speed != nil {
		speed = *req.Speed
	}
	switch {
	case req.Model == "":
		writeOpenAIError(w, http.StatusBadRequest, "Missing required parameter: 'model'.", "invalid_request_error", "model", "missing_required_parameter")
		return
	case strings.TrimSpace(req.Input) == "":
		writeOpenAIError(w, http.StatusBadRequest, "Missing required parameter: 'input'.", "invalid_request_error", "input", "missing_required_parameter")
		return
	case len([]rune(req.Input)) > 4096:
		writeOpenAIError(w, http.StatusBadRequest, "Invalid 'input': string too long. Expected a string with maximum length 4096.", "invalid_request_error", "input", "string_above_max_length")
		return
	case !openaiContains(openaiVoices, voice):
		writeOpenAIError(w, http.StatusBadRequest, fmt.Sprintf("Invalid value for 'voice': %s.", string(req.Voice)), "invalid_request_error", "voice", "invalid_value")
		return
	case speed < 0.25 || speed > 4:
		writeOpenAIError(w, http.StatusBadRequest, "Invalid 'speed': expected a value between 0.25 and 4.0.", "invalid_request_error", "speed", "")
		return
	case openaiSpeechTypes[req.ResponseFormat] == "":
		writeOpenAIError(w, http.StatusBadRequest, fmt.Sprintf("response_format %q is not produced by this fake server (mp3, wav, flac and pcm are)", req.ResponseFormat), "invalid_request_error", "response_format", "")
		return
	}
	// About 60 ms a character at speed 1, as speech runs near 15 characters a second.
	secs := min(max(float64(len([]rune(req.Input)))*0.06/speed, 0.3), 30)
	var audio []byte
	switch req.ResponseFormat {
	case "mp3":
		audio = openaiMP3(secs)
	case "wav":
		audio = openaiWAV(openaiPCM(secs))
	case "pcm":
		audio = openaiPCM(secs)
	case "flac":
		audio = openaiFLAC(secs)
	}
	ct := openaiSpeechTypes[req.ResponseFormat]
	switch dec.Fault {
	case FaultMalformed:
		// A 200 that is not audio.
		WriteJSON(w, http.StatusOK, map[string]any{"object": "audio.speech", "status": "queued"})
	case FaultTruncate:
		openaiCutBody(w, ct, audio)
	default:
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(audio)
	}
}

// openaiMP3 is silence as MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, joint stereo): a
// 4-byte header and zeroed side information and main data, which decoders play as silence.
func openaiMP3(secs float64) []byte {
	const frameLen = 417 // 144 * 128000 / 44100, without padding
	frames := max(int(math.Ceil(secs*44100/1152)), 1)
	out := make([]byte, 0, frames*frameLen)
	frame := make([]byte, frameLen)
	copy(frame, []byte{0xFF, 0xFB, 0x90, 0x64})
	for range frames {
		out = append(out, frame...)
	}
	return out
}

// openaiPCM is the API's raw pcm format (24 kHz, 16-bit signed little-endian, mono): a quiet
// 220 Hz tone, so that the audio is not all zeros.
func openaiPCM(secs float64) []byte {
	n := int(secs * 24000)
	out := make([]byte, 2*n)
	for i := range n {
		v := int16(800 * math.Sin(2*math.Pi*220*float64(i)/24000))
		binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
	}
	return out
}

// openaiWAV wraps 24 kHz 16-bit mono PCM in a RIFF/WAVE header.
func openaiWAV(pcm []byte) []byte {
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + len(pcm)))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))         // PCM
	le(uint16(1))         // mono
	le(uint32(24000))     // sample rate
	le(uint32(24000 * 2)) // byte rate
	le(uint16(2))         // block align
	le(uint16(16))        // bits per sample
	b.WriteString("data")
	le(uint32(len(pcm)))
	b.Write(pcm)
	return b.Bytes()
}

// openaiFLAC is a FLAC stream of the duration with its STREAMINFO block only (no audio frames):
// enough for a reader to see its format, rate and length.
func openaiFLAC(secs float64) []byte {
	samples := uint64(secs * 24000)
	var b bytes.Buffer
	b.WriteString("fLaC")
	b.Write([]byte{0x80, 0, 0, 34}) // last metadata block, STREAMINFO, 34 bytes
	info := make([]byte, 34)
	binary.BigEndian.PutUint16(info[0:], 4096) // min block size
	binary.BigEndian.PutUint16(info[2:], 4096) // max block size
	// bytes 4..9: min and max frame size unknown (0)
	// 20 bits sample rate, 3 bits channels-1, 5 bits bits-per-sample-1, 36 bits total samples
	packed := uint64(24000)<<44 | uint64(0)<<41 | uint64(15)<<36 | (samples & (1<<36 - 1))
	binary.BigEndian.PutUint64(info[10:], packed)
	// bytes 18..33: MD5 of the audio, zero when unknown
	b.Write(info)
	return b.Bytes()
}
