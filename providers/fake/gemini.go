package fake

// The Gemini API (generativelanguage.googleapis.com, v1beta) as the google.golang.org/genai SDK
// and the REST reference see it:
//
//	POST /v1beta/models/{model}:generateContent            route gemini.generate (text and images)
//	POST /v1beta/models/{model}:streamGenerateContent      route gemini.stream (alt=sse: SSE data events)
//	POST /v1beta/models/{model}:predictLongRunning         route gemini.video (Veo: a long-running operation)
//	GET  /v1beta/models/{model}/operations/{id}            route gemini.operation (the operation's state)
//
// Errors are Google's JSON error envelope ({"error": {"code", "message", "status", "details"}});
// a rate limit carries a google.rpc.QuotaFailure and a google.rpc.RetryInfo, as the real API's do.
// Gemini sends no rate-limit headers, so neither does the fake. The key comes in x-goog-api-key
// (or ?key=); a key the server does not accept gets the real API's 400 "API key not valid".

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// geminiKind says which body shape a Gemini route answers with, because a safety refusal is a
// 200 in the route's own format, not an HTTP error.
type geminiKind int

const (
	geminiUnary geminiKind = iota
	geminiStream
	geminiOperation
)

// geminiDialect writes Google's error envelope and, for content-policy faults, the refusal in
// the route's own success format.
type geminiDialect struct{ kind geminiKind }

// geminiRetryDelay is the RetryInfo delay of an injected rate limit when no Limit gives a reset.
const geminiRetryDelay = 2 * time.Second

func (d geminiDialect) WriteError(w http.ResponseWriter, fault string, s Snapshot) {
	switch fault {
	case FaultRateLimit, FaultConcurrency:
		delay := geminiRetryDelay
		if !s.Reset.IsZero() {
			delay = time.Until(s.Reset)
		}
		violation := map[string]any{
			"quotaMetric":     "generativelanguage.googleapis.com/generate_content_paid_tier_requests",
			"quotaId":         "GenerateRequestsPerMinutePerProjectPerModel",
			"quotaDimensions": map[string]string{"location": "global"},
		}
		if s.LimitRequests > 0 {
			violation["quotaValue"] = strconv.Itoa(s.LimitRequests)
		}
		geminiError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED",
			"You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
			map[string]any{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []any{violation}},
			geminiHelp(),
			map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": geminiDuration(delay)})
	case FaultQuota:
		geminiError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED",
			"You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
			map[string]any{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []any{map[string]any{
				"quotaMetric":     "generativelanguage.googleapis.com/generate_requests_per_model_per_day",
				"quotaId":         "GenerateRequestsPerDayPerProjectPerModel",
				"quotaDimensions": map[string]string{"location": "global"},
			}}},
			geminiHelp())
	case FaultOverloaded:
		geminiError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "The model is overloaded. Please try again later.")
	case FaultServer:
		geminiError(w, http.StatusInternalServerError, "INTERNAL",
			"An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting")
	case FaultTimeout:
		geminiError(w, http.StatusGatewayTimeout, "DEADLINE_EXCEEDED", "The request timed out. Please try again.")
	case FaultAuth:
		geminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
			map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
				"domain": "googleapis.com", "metadata": map[string]string{"service": "generativelanguage.googleapis.com"}},
			map[string]any{"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
				"message": "API key not valid. Please pass a valid API key."})
	case FaultContentPolicy:
		d.writeRefusal(w)
	default: // FaultInvalid, and any fault kind this dialect does not know
		geminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n")
	}
}

// writeRefusal answers a content-policy fault as Gemini does: a 200 whose prompt feedback (or,
// for Veo, whose finished operation) says the content was blocked.
func (d geminiDialect) writeRefusal(w http.ResponseWriter) {
	blocked := map[string]any{
		"promptFeedback": map[string]any{"blockReason": "PROHIBITED_CONTENT"},
		"usageMetadata":  map[string]any{"promptTokenCount": 8, "totalTokenCount": 8},
		"modelVersion":   "gemini-2.5-flash",
	}
	switch d.kind {
	case geminiStream:
		geminiSSEHeaders(w)
		geminiEvent(w, blocked)
	case geminiOperation:
		geminiJSON(w, http.StatusOK, map[string]any{
			"name": "models/veo-3.1-generate-preview/operations/filtered",
			"done": true,
			"response": map[string]any{
				"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
				"generateVideoResponse": map[string]any{
					"raiMediaFilteredCount":   1,
					"raiMediaFilteredReasons": []string{"We encountered an issue with the content of your prompt. Please rephrase it and try again."},
				},
			},
		})
	default:
		geminiJSON(w, http.StatusOK, blocked)
	}
}

// LimitHeaders sets nothing: the Gemini API reports its limits only in 429 bodies.
func (geminiDialect) LimitHeaders(http.Header, Snapshot) {}

func geminiHelp() map[string]any {
	return map[string]any{"@type": "type.googleapis.com/google.rpc.Help", "links": []any{map[string]string{
		"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}}}
}

// geminiError writes Google's error envelope, pretty-printed as the real API does.
func geminiError(w http.ResponseWriter, status int, code, message string, details ...any) {
	body := map[string]any{"code": status, "message": message, "status": code}
	if len(details) > 0 {
		body["details"] = details
	}
	geminiJSON(w, status, map[string]any{"error": body})
}

func geminiJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// geminiDuration formats d as a protobuf JSON duration: whole seconds ("20s"), rounded up so
// that a client waiting that long finds the window reset.
func geminiDuration(d time.Duration) string {
	return strconv.FormatInt(max(int64(math.Ceil(d.Seconds())), 1), 10) + "s"
}

func geminiSSEHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Content-Disposition", "attachment")
	w.WriteHeader(http.StatusOK)
}

// geminiEvent writes one SSE event as the real API frames them: "data: {json}" and a CRLF pair.
func geminiEvent(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	_, _ = fmt.Fprintf(w, "data: %s\r\n\r\n", b)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// geminiRequest is the part of a generateContent request the fake reads.
type geminiRequest struct {
	Contents []struct {
		Role  string `json:"role"`
		Parts []struct {
			Text string `json:"text"`
		} `json:"parts"`
	} `json:"contents"`
	SystemInstruction *struct {
		Parts []struct {
			Text string `json:"text"`
		} `json:"parts"`
	} `json:"systemInstruction"`
	GenerationConfig struct {
		MaxOutputTokens    int      `json:"maxOutputTokens"`
		ResponseModalities []string `json:"responseModalities"`
		ImageConfig        struct {
			AspectRatio string `json:"aspectRatio"`
		} `json:"imageConfig"`
	} `json:"generationConfig"`
}

func (q *geminiRequest) prompt() string {
	var b strings.Builder
	for _, c := range q.Contents {
		for _, p := range c.Parts {
			if b.Len() > 0 && p.Text != "" {
				b.WriteByte(' ')
			}
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func (q *geminiRequest) wantsImage(model string) bool {
	for _, m := range q.GenerationConfig.ResponseModalities {
		if strings.EqualFold(m, "IMAGE") {
			return true
		}
	}
	return strings.Contains(model, "-image")
}

// geminiFake holds the state of the Gemini routes: the video operations it started.
type geminiFake struct {
	mu  sync.Mutex
	seq int
	ops map[string]string // operation id → prompt
}

func init() {
	registrations = append(registrations, registerGemini)
}

func registerGemini(s *Server) {
	g := &geminiFake{ops: map[string]string{}}
	generate := s.geminiRoute("gemini.generate", geminiDialect{kind: geminiUnary}, g.generate)
	stream := s.geminiRoute("gemini.stream", geminiDialect{kind: geminiStream}, g.stream)
	video := s.geminiRoute("gemini.video", geminiDialect{kind: geminiOperation}, g.predict)
	// The action follows a ':' inside the last segment, which a ServeMux wildcard cannot split,
	// so one pattern takes every model action and dispatches on the part after the colon.
	s.mux.HandleFunc("POST /v1beta/models/{action}", func(w http.ResponseWriter, r *http.Request) {
		_, action, _ := strings.Cut(r.PathValue("action"), ":")
		switch action {
		case "generateContent":
			generate(w, r)
		case "streamGenerateContent":
			stream(w, r)
		case "predictLongRunning":
			video(w, r)
		default:
			geminiError(w, http.StatusNotFound, "NOT_FOUND", "Method not found.")
		}
	})
	s.Handle("gemini.operation", "GET /v1beta/models/{model}/operations/{id}", geminiDialect{kind: geminiOperation}, g.operation)
}

// geminiRoute makes a route like Handle does, but returns its handler for the caller to
// dispatch to, because several Gemini routes share one ServeMux pattern.
func (s *Server) geminiRoute(name string, d Dialect, h func(http.ResponseWriter, *http.Request, *Decision)) http.HandlerFunc {
	rt := &route{name: name, dialect: d, polls: map[string]int{}}
	s.routes[name] = rt
	return func(w http.ResponseWriter, r *http.Request) {
		// Keep the body: admit drains it (so that net/http notices a client that hangs up while
		// the fake waits), and the handler still needs it.
		body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		dec, release, ok := s.admit(rt, w, r)
		defer release()
		if !ok {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r, dec)
	}
}

// geminiDecode reads a request body into v, answering INVALID_ARGUMENT as the real API does when it
// cannot.
func geminiDecode(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		geminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error())
		return false
	}
	return true
}

// geminiAnswer composes the fake's deterministic answer: words of the prompt, cut at
// maxOutputTokens (one word is one token here).
func geminiAnswer(q *geminiRequest) (words []string, finish string, promptTokens int) {
	in := strings.Fields(q.prompt())
	promptTokens = len(in)
	if q.SystemInstruction != nil {
		for _, p := range q.SystemInstruction.Parts {
			promptTokens += len(strings.Fields(p.Text))
		}
	}
	words = append([]string{"Gemini", "says:"}, in[:min(len(in), 48)]...)
	finish = "STOP"
	if n := q.GenerationConfig.MaxOutputTokens; n > 0 && len(words) > n {
		words, finish = words[:n], "MAX_TOKENS"
	}
	return words, finish, max(promptTokens, 1)
}

func geminiUsage(promptTokens, outTokens int) map[string]any {
	return map[string]any{
		"promptTokenCount":     promptTokens,
		"candidatesTokenCount": outTokens,
		"totalTokenCount":      promptTokens + outTokens,
		"promptTokensDetails":  []any{map[string]any{"modality": "TEXT", "tokenCount": promptTokens}},
	}
}

func geminiCandidate(parts []any, finish string) map[string]any {
	c := map[string]any{"content": map[string]any{"parts": parts, "role": "model"}, "index": 0}
	if finish != "" {
		c["finishReason"] = finish
	}
	return c
}

// geminiMalformed answers 200 with a body that is not a GenerateContentResponse, as a broken
// proxy in front of the API might.
func geminiMalformed(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "<html><body>502 Bad Gateway</body></html>\n")
}

// geminiTruncated answers 200 with the first half of a real body, as a connection dropped
// mid-answer would leave it.
func geminiTruncated(w http.ResponseWriter, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b[:len(b)/2])
}

func (g *geminiFake) generate(w http.ResponseWriter, r *http.Request, dec *Decision) {
	if dec.Fault == FaultMalformed {
		geminiMalformed(w)
		return
	}
	var q geminiRequest
	if !geminiDecode(w, r, &q) {
		return
	}
	if len(q.Contents) == 0 {
		geminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n")
		return
	}
	model, _, _ := strings.Cut(r.PathValue("action"), ":")
	var body map[string]any
	if q.wantsImage(model) {
		img := geminiPNG(q.prompt(), q.GenerationConfig.ImageConfig.AspectRatio)
		_, _, pt := geminiAnswer(&q)
		body = map[string]any{
			"candidates": []any{geminiCandidate([]any{
				map[string]any{"text": "Here is the image you asked for."},
				map[string]any{"inlineData": map[string]any{"mimeType": "image/png", "data": base64.StdEncoding.EncodeToString(img)}},
			}, "STOP")},
			"usageMetadata": geminiUsage(pt, 1290),
			"modelVersion":  model,
			"responseId":    geminiID(q.prompt()),
		}
	} else {
		words, finish, pt := geminiAnswer(&q)
		body = map[string]any{
			"candidates":    []any{geminiCandidate([]any{map[string]any{"text": strings.Join(words, " ")}}, finish)},
			"usageMetadata": geminiUsage(pt, len(words)),
			"modelVersion":  model,
			"responseId":    geminiID(q.prompt()),
		}
	}
	if dec.Fault == FaultTruncate {
		geminiTruncated(w, body)
		return
	}
	geminiJSON(w, http.StatusOK, body)
}

func (g *geminiFake) stream(w http.ResponseWriter, r *http.Request, dec *Decision) {
	var q geminiRequest
	if !geminiDecode(w, r, &q) {
		return
	}
	if len(q.Contents) == 0 {
		geminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n")
		return
	}
	model, _, _ := strings.Cut(r.PathValue("action"), ":")
	words, finish, pt := geminiAnswer(&q)
	// Two words an event; every event after the first starts with the space that separates it
	// from the one before, so the deltas concatenate to the text.
	var chunks []map[string]any
	for i := 0; i < len(words); i += 2 {
		text := strings.Join(words[i:min(i+2, len(words))], " ")
		if i > 0 {
			text = " " + text
		}
		chunks = append(chunks, map[string]any{
			"candidates":    []any{geminiCandidate([]any{map[string]any{"text": text}}, "")},
			"usageMetadata": geminiUsage(pt, 0),
			"modelVersion":  model,
			"responseId":    geminiID(q.prompt()),
		})
	}
	if len(chunks) == 0 {
		chunks = append(chunks, map[string]any{"candidates": []any{geminiCandidate([]any{map[string]any{"text": ""}}, "")}})
	}
	last := chunks[len(chunks)-1]
	last["candidates"].([]any)[0].(map[string]any)["finishReason"] = finish
	last["usageMetadata"] = geminiUsage(pt, len(words))

	if r.URL.Query().Get("alt") != "sse" {
		// Without alt=sse the API streams one JSON array of the same responses.
		if dec.Fault == FaultTruncate {
			geminiTruncated(w, chunks)
			return
		}
		geminiJSON(w, http.StatusOK, chunks)
		return
	}
	geminiSSEHeaders(w)
	switch dec.Fault {
	case FaultMalformed:
		_, _ = io.WriteString(w, "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Gem\r\n\r\ndata: <html>\r\n\r\n")
		return
	case FaultTruncate:
		// Half the events, and never the one with the finish reason: the connection just ends.
		chunks = chunks[:len(chunks)/2]
		for _, c := range chunks {
			geminiEvent(w, c)
		}
		return
	}
	for _, c := range chunks {
		geminiEvent(w, c)
	}
}

// geminiVideoRequest is the body of predictLongRunning for Veo.
type geminiVideoRequest struct {
	Instances []struct {
		Prompt string `json:"prompt"`
	} `json:"instances"`
}

func (g *geminiFake) predict(w http.ResponseWriter, r *http.Request, dec *Decision) {
	if dec.Fault == FaultMalformed {
		geminiMalformed(w)
		return
	}
	var q geminiVideoRequest
	if !geminiDecode(w, r, &q) {
		return
	}
	if len(q.Instances) == 0 || strings.TrimSpace(q.Instances[0].Prompt) == "" {
		geminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "A prompt or an image is required.")
		return
	}
	model, _, _ := strings.Cut(r.PathValue("action"), ":")
	g.mu.Lock()
	g.seq++
	id := fmt.Sprintf("%s%d", geminiID(q.Instances[0].Prompt)[:8], g.seq)
	g.ops[id] = q.Instances[0].Prompt
	g.mu.Unlock()
	body := map[string]any{"name": "models/" + model + "/operations/" + id}
	if dec.Fault == FaultTruncate {
		geminiTruncated(w, body)
		return
	}
	geminiJSON(w, http.StatusOK, body)
}

func (g *geminiFake) operation(w http.ResponseWriter, r *http.Request, dec *Decision) {
	if dec.Fault == FaultMalformed {
		geminiMalformed(w)
		return
	}
	id, model := r.PathValue("id"), r.PathValue("model")
	g.mu.Lock()
	prompt, ok := g.ops[id]
	g.mu.Unlock()
	name := "models/" + model + "/operations/" + id
	if !ok {
		geminiError(w, http.StatusNotFound, "NOT_FOUND", "Operation "+name+" not found.")
		return
	}
	body := map[string]any{"name": name}
	if dec.Poll(id) {
		url := dec.Host("gemini-"+id+".mp4", "video/mp4", geminiMP4(prompt))
		body["done"] = true
		body["response"] = map[string]any{
			"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
			"generateVideoResponse": map[string]any{
				"generatedSamples": []any{map[string]any{"video": map[string]any{"uri": url}}},
			},
		}
	}
	if dec.Fault == FaultTruncate {
		geminiTruncated(w, body)
		return
	}
	geminiJSON(w, http.StatusOK, body)
}

func geminiID(s string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return fmt.Sprintf("%016x", h.Sum64())
}

// geminiPNG draws a small PNG whose colour follows the prompt and whose shape follows the
// aspect ratio asked for ("16:9"; square by default).
func geminiPNG(prompt, aspect string) []byte {
	w, h := 64, 64
	if a, b, ok := strings.Cut(aspect, ":"); ok {
		x, err1 := strconv.Atoi(a)
		y, err2 := strconv.Atoi(b)
		if err1 == nil && err2 == nil && x > 0 && y > 0 && x <= 64 && y <= 64 {
			w = max(1, 64*x/y)
			if w > 128 {
				w, h = 128, max(1, 128*y/x)
			}
		}
	}
	f := fnv.New32a()
	_, _ = f.Write([]byte(prompt))
	sum := f.Sum32()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(sum) ^ uint8(x*4), G: uint8(sum>>8) ^ uint8(y*4), B: uint8(sum >> 16), A: 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// geminiMP4 builds a minimal MP4: an ftyp box and a moov box holding an mvhd whose duration
// (8 s at 1000 units a second) is the length Veo produces by default. The prompt goes into a
// free box so that different prompts give different files.
func geminiMP4(prompt string) []byte {
	box := func(typ string, payload []byte) []byte {
		b := make([]byte, 8, 8+len(payload))
		binary.BigEndian.PutUint32(b, uint32(8+len(payload)))
		copy(b[4:], typ)
		return append(b, payload...)
	}
	ftyp := box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2avc1mp41"))
	mvhd := make([]byte, 100)                   // version 0, flags, times and the fields after
	binary.BigEndian.PutUint32(mvhd[12:], 1000) // timescale
	binary.BigEndian.PutUint32(mvhd[16:], 8000) // duration
	binary.BigEndian.PutUint32(mvhd[20:], 0x00010000)
	binary.BigEndian.PutUint16(mvhd[24:], 0x0100)
	for i, v := range []uint32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000} {
		binary.BigEndian.PutUint32(mvhd[36+4*i:], v)
	}
	binary.BigEndian.PutUint32(mvhd[96:], 2) // next track id
	moov := box("moov", box("mvhd", mvhd))
	free := box("free", []byte(prompt[:min(len(prompt), 256)]))
	return append(append(ftyp, moov...), free...)
}
