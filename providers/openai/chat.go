package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
)

// ChatConfig configures a Chat: the chat-completions surface that OpenAI and the
// OpenAI-compatible servers (Ollama, vLLM, llama.cpp) share.
type ChatConfig struct {
	// Provider names the provider in error messages. Default "openai".
	Provider string
	// APIKey is sent as a bearer token. Default: none is sent (local servers need none).
	APIKey string
	// BaseURL is the API root that "/chat/completions" is appended to. Default DefaultBaseURL.
	BaseURL string
	// HTTPClient makes the calls. Default: a client with a 5-minute timeout.
	HTTPClient *http.Client
	// DefaultModel is used when a call's Model is empty or "default". Default: none, and such
	// a call is an invalid request.
	DefaultModel string
	// LegacyMaxTokens sends input.max_tokens as "max_tokens" rather than OpenAI's current
	// "max_completion_tokens", which older OpenAI-compatible servers do not know. Default false.
	LegacyMaxTokens bool
}

// Chat generates text through chat completions, streamed when the call wants deltas. Create
// it with NewChat; it is safe for concurrent use.
type Chat struct {
	cfg ChatConfig
	svc sdk.ChatCompletionService
}

// NewChat returns a Chat for cfg.
func NewChat(cfg ChatConfig) *Chat {
	if cfg.Provider == "" {
		cfg.Provider = ProviderName
	}
	return &Chat{cfg: cfg, svc: sdk.NewChatCompletionService(clientOptions(cfg.APIKey, cfg.BaseURL, cfg.HTTPClient)...)}
}

// Generate answers a text call: the system and user messages from call.Input, input.max_tokens
// as the answer's cap, input.options.temperature and top_p when given. When call.OnDelta is
// set the answer is streamed, and a stream that ends before "data: [DONE]" is an error.
func (c *Chat) Generate(ctx context.Context, call providers.Call) (*providers.Output, error) {
	name := c.cfg.Provider
	if call.TaskType != electrons.TaskText {
		return nil, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "task_type",
			Message: fmt.Sprintf("%s: chat completions serve text, not %q", name, call.TaskType)}
	}
	params, err := c.params(call)
	if err != nil {
		return nil, err
	}
	if call.OnDelta != nil {
		return c.stream(ctx, params, call.OnDelta)
	}
	var raw *http.Response
	res, err := c.svc.New(ctx, params, option.WithResponseInto(&raw))
	if err != nil {
		return nil, responseError(ctx, name, err, raw)
	}
	out, err := completionOutput(name, res)
	if err != nil {
		return nil, err
	}
	out.Limits = parseLimits(raw.Header, time.Now())
	return out, nil
}

// params builds the request from the call.
func (c *Chat) params(call providers.Call) (sdk.ChatCompletionNewParams, error) {
	name := c.cfg.Provider
	in := call.Input
	model := call.Model
	if model == "" || model == "default" {
		model = c.cfg.DefaultModel
	}
	if model == "" {
		return sdk.ChatCompletionNewParams{}, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "model",
			Message: name + ": no model given and no default model configured"}
	}
	if strings.TrimSpace(in.Prompt) == "" && strings.TrimSpace(in.System) == "" {
		return sdk.ChatCompletionNewParams{}, invalid(name, "input.prompt", "input.prompt is required for text")
	}
	if in.MaxTokens < 0 {
		return sdk.ChatCompletionNewParams{}, invalid(name, "input.max_tokens", "input.max_tokens must not be negative")
	}
	p := sdk.ChatCompletionNewParams{Model: model}
	if in.System != "" {
		p.Messages = append(p.Messages, sdk.SystemMessage(in.System))
	}
	if in.Prompt != "" {
		p.Messages = append(p.Messages, sdk.UserMessage(in.Prompt))
	}
	if in.MaxTokens > 0 {
		if c.cfg.LegacyMaxTokens {
			p.MaxTokens = sdk.Int(int64(in.MaxTokens))
		} else {
			p.MaxCompletionTokens = sdk.Int(int64(in.MaxTokens))
		}
	}
	if v, ok, err := optFloat(name, in.Options, "temperature", 0, 2); err != nil {
		return p, err
	} else if ok {
		p.Temperature = sdk.Float(v)
	}
	if v, ok, err := optFloat(name, in.Options, "top_p", 0, 1); err != nil {
		return p, err
	} else if ok {
		p.TopP = sdk.Float(v)
	}
	return p, nil
}

// stream makes a streamed call and reads it to its end marker.
//
// The SDK's own Stream treats the end of the body like "data: [DONE]", so a stream cut off
// mid-answer would look complete; we take the raw response from the SDK (which still builds
// the request, authenticates and parses HTTP errors) and read the events ourselves.
func (c *Chat) stream(ctx context.Context, params sdk.ChatCompletionNewParams, onDelta func(string)) (*providers.Output, error) {
	name := c.cfg.Provider
	params.StreamOptions = sdk.ChatCompletionStreamOptionsParam{IncludeUsage: sdk.Bool(true)}
	var raw *http.Response
	_, err := c.svc.New(ctx, params,
		option.WithJSONSet("stream", true),
		option.WithHeader("Accept", "text/event-stream"),
		option.WithResponseBodyInto(&raw))
	if err != nil {
		return nil, callError(ctx, name, err, raw, time.Now())
	}
	if raw == nil || raw.Body == nil {
		return nil, providers.ErrMalformed(name, errors.New("no response body"))
	}
	defer raw.Body.Close()
	limits := parseLimits(raw.Header, time.Now())

	var out *providers.Output
	if mt, _, _ := mime.ParseMediaType(raw.Header.Get("Content-Type")); mt == "application/json" {
		// Some OpenAI-compatible servers answer a streamed request with one completion.
		out, err = parseCompletionBody(name, raw.Body)
		if err == nil && out.Text != "" {
			onDelta(out.Text)
		}
	} else {
		out, err = readStream(name, raw.Body, onDelta)
	}
	if err != nil {
		var de *electrons.Error
		if errors.As(err, &de) {
			return nil, de
		}
		if ctx.Err() != nil {
			return nil, providers.TransportError(name, ctx.Err())
		}
		e := providers.ErrTruncated(name)
		e.Err = err
		return nil, e
	}
	out.Limits = limits
	return out, nil
}

// readStream reads a chat-completions event stream, passing each text delta to onDelta. It
// returns an *electrons.Error for what the stream said (an error event, a malformed chunk, an
// end without "data: [DONE]") and the read error itself when the body could not be read.
func readStream(name string, body io.Reader, onDelta func(string)) (*providers.Output, error) {
	dec := ssestream.NewDecoder(&http.Response{Body: io.NopCloser(body),
		Header: http.Header{"Content-Type": []string{"text/event-stream"}}})
	var (
		text, refusal strings.Builder
		finish        string
		usage         *electrons.Usage
	)
	for dec.Next() {
		ev := dec.Event()
		data := bytes.TrimSpace(ev.Data)
		if string(data) == "[DONE]" {
			return streamOutput(name, text.String(), refusal.String(), finish, usage)
		}
		if ev.Type == "error" {
			return nil, classify(name, 0, parseErrorBody(data), nil, time.Now(), nil)
		}
		var probe struct {
			Error json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(data, &probe); err != nil {
			return nil, providers.ErrMalformed(name, fmt.Errorf("stream event: %w", err))
		}
		if len(probe.Error) > 0 && string(probe.Error) != "null" {
			return nil, classify(name, 0, parseErrorBody(data), nil, time.Now(), nil)
		}
		var chunk sdk.ChatCompletionChunk
		if err := json.Unmarshal(data, &chunk); err != nil {
			return nil, providers.ErrMalformed(name, fmt.Errorf("stream chunk: %w", err))
		}
		if !chunk.JSON.Choices.Valid() && !chunk.JSON.Usage.Valid() {
			return nil, providers.ErrMalformed(name, errors.New("stream chunk without choices or usage"))
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue // we ask for one choice; others are not ours to show
			}
			if s := ch.Delta.Content; s != "" {
				text.WriteString(s)
				if onDelta != nil {
					onDelta(s)
				}
			}
			refusal.WriteString(ch.Delta.Refusal)
			if ch.FinishReason != "" {
				finish = ch.FinishReason
			}
		}
		if chunk.JSON.Usage.Valid() {
			usage = &electrons.Usage{InputTokens: int(chunk.Usage.PromptTokens), OutputTokens: int(chunk.Usage.CompletionTokens)}
		}
	}
	if err := dec.Err(); err != nil {
		return nil, err
	}
	return nil, providers.ErrTruncated(name)
}

// streamOutput is the output of a stream that reached its end marker.
func streamOutput(name, text, refusal, finish string, usage *electrons.Usage) (*providers.Output, error) {
	fr, err := finishReason(name, finish, text, refusal)
	if err != nil {
		return nil, err
	}
	return &providers.Output{Text: text, FinishReason: fr, Usage: usage}, nil
}

// parseCompletionBody reads a chat completion body.
func parseCompletionBody(name string, body io.Reader) (*providers.Output, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	var res sdk.ChatCompletion
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, providers.ErrMalformed(name, err)
	}
	return completionOutput(name, &res)
}

// completionOutput checks a chat completion and turns it into an Output.
func completionOutput(name string, res *sdk.ChatCompletion) (*providers.Output, error) {
	if res == nil || len(res.Choices) == 0 {
		return nil, providers.ErrMalformed(name, errors.New("a chat completion without choices"))
	}
	ch := res.Choices[0]
	for _, c := range res.Choices {
		if c.Index == 0 {
			ch = c
			break
		}
	}
	if !ch.JSON.Message.Valid() {
		return nil, providers.ErrMalformed(name, errors.New("a choice without a message"))
	}
	fr, err := finishReason(name, ch.FinishReason, ch.Message.Content, ch.Message.Refusal)
	if err != nil {
		return nil, err
	}
	out := &providers.Output{Text: ch.Message.Content, FinishReason: fr}
	if res.JSON.Usage.Valid() {
		out.Usage = &electrons.Usage{InputTokens: int(res.Usage.PromptTokens), OutputTokens: int(res.Usage.CompletionTokens)}
	}
	return out, nil
}

// finishReason maps OpenAI's finish_reason; a content filter or a refusal without an answer
// is the content_policy failure.
func finishReason(name, finish, text, refusal string) (string, error) {
	switch {
	case finish == "content_filter":
		return "", electrons.Errorf(electrons.CodeContentPolicy, "%s: the answer was withheld by the content filter", name)
	case refusal != "" && text == "":
		return "", electrons.Errorf(electrons.CodeContentPolicy, "%s: the model refused: %s", name, truncate(refusal, 500))
	case finish == "length":
		return providers.FinishLength, nil
	case finish == "":
		return "", nil
	}
	// "stop", and "tool_calls" or "function_call", which we never ask for, all mean the model
	// ended its answer.
	return providers.FinishStop, nil
}

// responseError classifies the error of a non-streamed call: a 2xx whose body the SDK could
// not decode is malformed; everything else is classified from the status and body.
func responseError(ctx context.Context, name string, err error, raw *http.Response) *electrons.Error {
	if ctx.Err() == nil && raw != nil && raw.StatusCode >= 200 && raw.StatusCode < 300 {
		return providers.ErrMalformed(name, err)
	}
	return callError(ctx, name, err, raw, time.Now())
}

// invalid is an invalid_request error about one input field.
func invalid(provider, param, msg string) *electrons.Error {
	return &electrons.Error{Code: electrons.CodeInvalidRequest, Message: provider + ": " + msg, Param: param}
}

// optFloat reads a number option within [lo, hi].
func optFloat(provider string, opts map[string]any, key string, lo, hi float64) (float64, bool, error) {
	f, ok, err := providers.OptionNumber(opts, key)
	if err != nil {
		return 0, false, providers.Named(provider, err)
	}
	if ok && (f < lo || f > hi) {
		return 0, false, providers.Named(provider, providers.InvalidOption(key, "must be between %g and %g", lo, hi))
	}
	return f, ok, nil
}

// optString reads a string option; "" when it is not given.
func optString(provider string, opts map[string]any, key string) (string, error) {
	s, _, err := providers.OptionString(opts, key)
	return s, providers.Named(provider, err)
}
