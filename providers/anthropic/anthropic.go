// Package anthropic is the provider adapter for Anthropic's Messages API, through the official
// Go SDK (anthropic-sdk-go v2) with its own retries off: the platform owns retries. It serves
// text, streamed as deltas when the caller asks for them, and classifies every failure into the
// domain's error codes, with the wait the API asks for and the rate-limit state it reports.
package anthropic

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// ProviderName is the name the adapter registers under, as the model table names it.
const ProviderName = "anthropic"

// DefaultBaseURL is the real API.
const DefaultBaseURL = "https://api.anthropic.com"

// DefaultMaxTokens is the max_tokens sent when the input sets none: the API requires one.
const DefaultMaxTokens = 1024

// Config configures the adapter.
type Config struct {
	// APIKey is the Anthropic API key, sent the way the SDK sends it (Authorization: Bearer).
	// When empty no key is sent and the API answers authentication_error.
	APIKey string
	// BaseURL is where the API is. Default DefaultBaseURL. ANTHROPIC_BASE_URL and the SDK's
	// other environment variables and profiles are never read: this is the only setting.
	BaseURL string
	// HTTPClient makes the calls. Default: a client with a 5-minute timeout.
	HTTPClient *http.Client
	// MaxTokens is the max_tokens sent when input.max_tokens is 0. Default DefaultMaxTokens.
	MaxTokens int
}

// Provider is the Anthropic adapter. Create it with New; it is safe for concurrent use.
type Provider struct {
	client    sdk.Client
	maxTokens int
	now       func() time.Time
}

var _ providers.Provider = (*Provider)(nil)

// New returns an adapter configured by cfg.
func New(cfg Config) *Provider {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = providers.DefaultHTTPClient()
	}
	maxTokens := cfg.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	// WithoutEnvironmentDefaults keeps the SDK from reading ANTHROPIC_* variables and profile
	// files, so that the configured key and base URL are the ones used; the base URL still goes
	// last so that no earlier option can replace it.
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	opts = append(opts, option.WithBaseURL(base))
	return &Provider{client: sdk.NewClient(opts...), maxTokens: maxTokens, now: time.Now}
}

// Name returns "anthropic".
func (p *Provider) Name() string { return ProviderName }

// Generate serves text tasks with messages.create: the input's system prompt, one user message
// with its prompt, and max_tokens (Config.MaxTokens when unset). It streams when call.OnDelta is
// set (and when the answer may be too long for the API to give it unstreamed); input.options
// may carry stop_sequences. Every failure is an *electrons.Error.
func (p *Provider) Generate(ctx context.Context, call providers.Call) (*providers.Output, error) {
	if call.TaskType != electrons.TaskText {
		return nil, &electrons.Error{
			Code:    electrons.CodeInvalidRequest,
			Message: fmt.Sprintf("anthropic: task type %q is not served (text only)", call.TaskType),
			Param:   "task_type",
		}
	}
	params, err := p.params(call)
	if err != nil {
		return nil, err
	}
	// The SDK refuses to send, unstreamed, a request whose answer may take longer than its
	// ten-minute limit; such a request is streamed instead, as the SDK advises.
	_, tooLong := sdk.CalculateNonStreamingTimeout(int(params.MaxTokens), params.Model, nil)
	if call.OnDelta != nil || tooLong != nil {
		return p.stream(ctx, params, call.OnDelta)
	}
	return p.create(ctx, params)
}

// params builds the Messages request of call.
func (p *Provider) params(call providers.Call) (sdk.MessageNewParams, error) {
	in := call.Input
	switch {
	case call.Model == "":
		return sdk.MessageNewParams{}, invalid("model", "anthropic: no model given")
	case strings.TrimSpace(in.Prompt) == "":
		return sdk.MessageNewParams{}, invalid("prompt", "anthropic: the prompt is empty")
	case in.MaxTokens < 0:
		return sdk.MessageNewParams{}, invalid("max_tokens", "anthropic: max_tokens is negative")
	}
	maxTokens := in.MaxTokens
	if maxTokens == 0 {
		maxTokens = p.maxTokens
	}
	params := sdk.MessageNewParams{
		Model:     sdk.Model(call.Model),
		MaxTokens: int64(maxTokens),
		Messages:  []sdk.MessageParam{sdk.NewUserMessage(sdk.NewTextBlock(in.Prompt))},
	}
	if in.System != "" {
		params.System = []sdk.TextBlockParam{{Text: in.System}}
	}
	if v, ok := in.Options["stop_sequences"]; ok {
		seqs, err := stringList(v)
		if err != nil {
			return sdk.MessageNewParams{}, invalid("options.stop_sequences", "anthropic: stop_sequences must be a list of strings")
		}
		params.StopSequences = seqs
	}
	return params, nil
}

// create makes one unstreamed call.
func (p *Provider) create(ctx context.Context, params sdk.MessageNewParams) (*providers.Output, error) {
	var raw *http.Response
	msg, err := p.client.Messages.New(ctx, params, option.WithResponseInto(&raw))
	if err != nil {
		return nil, p.classify(err, raw)
	}
	// A body that decodes as JSON but is not a message (an empty object, another API's answer)
	// leaves these unset; it is not an answer.
	if msg == nil || msg.Type != "message" || msg.StopReason == "" {
		return nil, providers.ErrMalformed(ProviderName, fmt.Errorf("the body is not a message"))
	}
	var text strings.Builder
	for _, b := range msg.Content {
		if b.Type == "text" {
			text.WriteString(b.Text)
		}
	}
	finish, err := finishReason(string(msg.StopReason))
	if err != nil {
		return nil, err
	}
	u := msg.Usage
	return &providers.Output{
		Text:         text.String(),
		FinishReason: finish,
		Usage: &electrons.Usage{
			InputTokens:  int(u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens),
			OutputTokens: int(u.OutputTokens),
		},
		Limits: limitsOf(raw),
	}, nil
}

// stream makes one streamed call, handing each text delta to onDelta (when not nil) as it
// arrives. Only a stream that reaches message_stop is an answer.
func (p *Provider) stream(ctx context.Context, params sdk.MessageNewParams, onDelta func(string)) (*providers.Output, error) {
	var raw *http.Response
	s := p.client.Messages.NewStreaming(ctx, params, option.WithResponseInto(&raw))
	defer s.Close()

	var (
		text                strings.Builder
		stopReason          string
		started, stopped    bool
		inputTokens, output int64
	)
	for !stopped && s.Next() {
		ev := s.Current()
		switch ev.Type {
		case "message_start":
			started = true
			u := ev.Message.Usage
			inputTokens = u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens
			output = u.OutputTokens
		case "content_block_delta":
			if ev.Delta.Type == "text_delta" && ev.Delta.Text != "" {
				text.WriteString(ev.Delta.Text)
				if onDelta != nil {
					onDelta(ev.Delta.Text)
				}
			}
		case "message_delta":
			stopReason = string(ev.Delta.StopReason)
			u := ev.Usage
			// message_delta's counts are cumulative; input tokens appear there only when the
			// API revises them (server tools), so a missing or zero count keeps message_start's.
			if u.JSON.OutputTokens.Valid() {
				output = u.OutputTokens
			}
			if in := u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens; in > 0 {
				inputTokens = in
			}
		case "message_stop":
			stopped = true
		}
	}
	if err := s.Err(); err != nil {
		return nil, p.classify(err, raw)
	}
	if !stopped {
		return nil, providers.ErrTruncated(ProviderName)
	}
	if !started || stopReason == "" {
		return nil, providers.ErrMalformed(ProviderName, fmt.Errorf("the stream ended without message_start or a stop_reason"))
	}
	finish, err := finishReason(stopReason)
	if err != nil {
		return nil, err
	}
	return &providers.Output{
		Text:         text.String(),
		FinishReason: finish,
		Usage:        &electrons.Usage{InputTokens: int(inputTokens), OutputTokens: int(output)},
		Limits:       limitsOf(raw),
	}, nil
}

// finishReason maps a stop_reason to the domain's finish reason. A refusal is the API's safety
// stop, a failure; a reason this adapter does not know ends the text for an unknown reason.
func finishReason(stop string) (string, error) {
	switch stop {
	case "end_turn", "stop_sequence", "tool_use":
		return providers.FinishStop, nil
	case "max_tokens", "model_context_window_exceeded":
		return providers.FinishLength, nil
	case "refusal":
		return "", electrons.Errorf(electrons.CodeContentPolicy, "anthropic: the model refused the request (stop_reason refusal)")
	}
	return "", nil
}

// stringList reads an option that must be a list of strings, as JSON decoding leaves it.
func stringList(v any) ([]string, error) {
	switch l := v.(type) {
	case []string:
		return l, nil
	case []any:
		out := make([]string, 0, len(l))
		for _, x := range l {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%T is not a string", x)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%T is not a list", v)
}

func invalid(param, msg string) *electrons.Error {
	return &electrons.Error{Code: electrons.CodeInvalidRequest, Message: msg, Param: param}
}
