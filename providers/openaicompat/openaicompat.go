// Package openaicompat adapts servers that speak OpenAI's chat-completions API — Ollama, vLLM,
// llama.cpp's server — for text. It is the openai package's Chat under another name, so there
// is one implementation of that surface: the same request, streaming, end-of-stream check and
// error classification. It sends max_tokens rather than max_completion_tokens, which not every
// such server knows.
package openaicompat

import (
	"context"
	"net/http"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
	"github.com/distributed-electrons/electrons/providers/openai"
)

// ProviderName is the name the OpenAI-compatible provider registers under.
const ProviderName = "openaicompat"

// Config configures the OpenAI-compatible provider.
type Config struct {
	// BaseURL is the server's OpenAI API root, e.g. http://localhost:11434/v1 (Ollama),
	// http://localhost:8000/v1 (vLLM) or http://localhost:8080/v1 (llama.cpp). Required: there
	// is no default, and without it every call fails with provider_disabled.
	BaseURL string
	// APIKey is sent as a bearer token when set. Default: none is sent.
	APIKey string
	// Model is the server's model used when a call's model is empty or "default". Default:
	// none, and such a call is an invalid request.
	Model string
	// HTTPClient makes the calls. Default: a client with a 5-minute timeout.
	HTTPClient *http.Client
}

// Provider is the OpenAI-compatible adapter. Create it with New; it is safe for concurrent use.
type Provider struct {
	chat *openai.Chat
}

var _ providers.Provider = (*Provider)(nil)

// New returns the OpenAI-compatible provider for cfg.
func New(cfg Config) *Provider {
	if cfg.BaseURL == "" {
		// Never fall back to OpenAI's own URL: a local model's prompts must not leave for it.
		return &Provider{}
	}
	return &Provider{chat: openai.NewChat(openai.ChatConfig{
		Provider:        ProviderName,
		APIKey:          cfg.APIKey,
		BaseURL:         cfg.BaseURL,
		HTTPClient:      cfg.HTTPClient,
		DefaultModel:    cfg.Model,
		LegacyMaxTokens: true,
	})}
}

// Name returns "openaicompat".
func (p *Provider) Name() string { return ProviderName }

// Generate serves text through the server's chat completions, streamed when call.OnDelta is
// set. Every error is an *electrons.Error.
func (p *Provider) Generate(ctx context.Context, call providers.Call) (*providers.Output, error) {
	if p.chat == nil {
		return nil, electrons.Errorf(electrons.CodeProviderDisabled, "%s: no base URL is configured (OPENAI_COMPAT_BASE_URL)", ProviderName)
	}
	if call.TaskType != electrons.TaskText {
		return nil, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "task_type",
			Message: ProviderName + ": only text is served, not " + string(call.TaskType)}
	}
	return p.chat.Generate(ctx, call)
}
