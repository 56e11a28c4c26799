// Package openai adapts OpenAI's API, through its official Go SDK: chat completions for text
// (streamed when the caller wants deltas), image generations (DALL-E and GPT Image) and audio
// speech. Its Chat is also the text surface of the OpenAI-compatible servers (see
// providers/openaicompat).
//
// The SDK is configured so that the platform owns retries and configuration: it makes one
// attempt per call (option.WithMaxRetries(0)) and reads nothing from the environment
// (OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_ORG_ID, …), because the services are built from
// explicit options rather than through openai.NewClient, which would read them.
package openai

import (
	"context"
	"net/http"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// ProviderName is the name the OpenAI provider registers under.
const ProviderName = "openai"

// DefaultBaseURL is OpenAI's API root.
const DefaultBaseURL = "https://api.openai.com/v1"

// Config configures the OpenAI provider.
type Config struct {
	// APIKey is OpenAI's secret key, sent as a bearer token.
	APIKey string
	// BaseURL is the API root. Default DefaultBaseURL.
	BaseURL string
	// HTTPClient makes the calls. Default: a client with a 5-minute timeout.
	HTTPClient *http.Client
}

// Provider is the OpenAI adapter. Create it with New; it is safe for concurrent use.
type Provider struct {
	chat   *Chat
	images sdk.ImageService
	speech sdk.AudioSpeechService
}

var _ providers.Provider = (*Provider)(nil)

// New returns the OpenAI provider for cfg.
func New(cfg Config) *Provider {
	opts := clientOptions(cfg.APIKey, cfg.BaseURL, cfg.HTTPClient)
	return &Provider{
		chat:   NewChat(ChatConfig{Provider: ProviderName, APIKey: cfg.APIKey, BaseURL: cfg.BaseURL, HTTPClient: cfg.HTTPClient}),
		images: sdk.NewImageService(opts...),
		speech: sdk.NewAudioSpeechService(opts...),
	}
}

// Name returns "openai".
func (p *Provider) Name() string { return ProviderName }

// Generate serves text (chat completions), image (image generations) and audio (speech).
// Every error is an *electrons.Error.
func (p *Provider) Generate(ctx context.Context, call providers.Call) (*providers.Output, error) {
	switch call.TaskType {
	case electrons.TaskText:
		return p.chat.Generate(ctx, call)
	case electrons.TaskImage:
		return p.image(ctx, call)
	case electrons.TaskAudio:
		return p.audio(ctx, call)
	}
	return nil, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "task_type",
		Message: "openai: task type " + string(call.TaskType) + " is not served (text, image and audio are)"}
}

// clientOptions configures the SDK: our HTTP client, no retries (the platform owns them), the
// key when there is one, and the base URL last so that nothing before it can override it.
func clientOptions(apiKey, baseURL string, hc *http.Client) []option.RequestOption {
	if hc == nil {
		hc = providers.DefaultHTTPClient()
	}
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	opts := []option.RequestOption{option.WithHTTPClient(hc), option.WithMaxRetries(0)}
	if apiKey != "" {
		opts = append(opts, option.WithAPIKey(apiKey))
	}
	return append(opts, option.WithBaseURL(baseURL))
}
