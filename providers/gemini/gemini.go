// Package gemini is the provider adapter for Google's Gemini API (generativelanguage.googleapis.com)
// through the official google.golang.org/genai SDK: text with models.generateContent (streamed
// with :streamGenerateContent?alt=sse when the caller wants deltas), images from
// gemini-2.5-flash-image through inlineData parts, and Veo videos through the long-running
// operation that :predictLongRunning returns, which the Provider polls as a providers.Poller.
//
// Gemini sends no rate-limit headers: Output.Limits stays nil, and a refusal's wait comes from
// the google.rpc.RetryInfo in its 429 body.
package gemini

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/genai"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// ProviderName is the name the adapter registers under, as in the model table.
const ProviderName = "gemini"

// DefaultBaseURL is the Gemini API.
const DefaultBaseURL = "https://generativelanguage.googleapis.com/"

// DefaultPollAfter is how long a Veo job is left alone between polls unless
// input.options.poll_after_ms says otherwise.
const DefaultPollAfter = 5 * time.Second

// Config configures the adapter.
type Config struct {
	// APIKey is the Gemini API key, sent in x-goog-api-key. Without one every call fails with
	// auth_failed (the SDK's own fallback to GEMINI_API_KEY / GOOGLE_API_KEY is not used).
	APIKey string
	// BaseURL is where the API lives. Default DefaultBaseURL. It is always passed to the SDK
	// explicitly, so GOOGLE_GEMINI_BASE_URL in the environment cannot redirect the calls.
	BaseURL string
	// HTTPClient makes the calls. Default: a client with a 5-minute timeout.
	HTTPClient *http.Client
}

// Provider is the Gemini adapter. Create it with New; it is safe for concurrent use.
type Provider struct {
	client  *genai.Client
	err     *electrons.Error // why client is nil
	http    *http.Client
	apiKey  string
	apiHost string // host of BaseURL: video URIs there need the key to download
}

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Poller   = (*Provider)(nil)
)

// New returns a Gemini adapter. A configuration the SDK refuses (no key, a bad base URL) does
// not panic: every call then returns the reason as an *electrons.Error.
func New(cfg Config) *Provider {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = providers.DefaultHTTPClient()
	}
	p := &Provider{http: cfg.HTTPClient, apiKey: cfg.APIKey}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Host == "" {
		p.err = electrons.Errorf(electrons.CodeInvalidRequest, "gemini: base URL %q is not an absolute URL", cfg.BaseURL)
		return p
	}
	p.apiHost = u.Host
	if cfg.APIKey == "" {
		// Left empty, the SDK would pick a key out of the environment on its own.
		p.err = electrons.Errorf(electrons.CodeAuthFailed, "gemini: no API key configured")
		return p
	}
	client, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:     cfg.APIKey,
		Backend:    genai.BackendGeminiAPI,
		HTTPClient: cfg.HTTPClient,
		HTTPOptions: genai.HTTPOptions{
			BaseURL:    cfg.BaseURL,
			APIVersion: "v1beta",
			// RetryOptions stays nil: genai then sends each request exactly once. The platform
			// owns retries.
		},
	})
	if err != nil {
		p.err = &electrons.Error{Code: electrons.CodeInvalidRequest, Message: "gemini: configure the client", Err: err}
		return p
	}
	p.client = client
	return p
}

// Name returns "gemini".
func (p *Provider) Name() string { return ProviderName }

// Generate serves call by task type: text (streamed when call.OnDelta is set), image and video.
// A video is a long-running job: the Output carries Pending with the operation's name, and Poll
// finishes it. Every error is an *electrons.Error.
func (p *Provider) Generate(ctx context.Context, call providers.Call) (out *providers.Output, err error) {
	if p.err != nil {
		return nil, p.err
	}
	defer recoverMalformed(&out, &err)
	switch call.TaskType {
	case electrons.TaskText:
		if call.OnDelta != nil {
			return p.stream(ctx, call)
		}
		return p.text(ctx, call)
	case electrons.TaskImage:
		return p.image(ctx, call)
	case electrons.TaskVideo:
		return p.video(ctx, call)
	}
	return nil, &electrons.Error{
		Code:    electrons.CodeInvalidRequest,
		Message: fmt.Sprintf("gemini: task type %q is not supported (text, image and video are)", call.TaskType),
		Param:   "task_type",
	}
}

// Poll asks once about the Veo operation handle (its name, as Generate returned it).
func (p *Provider) Poll(ctx context.Context, call providers.Call, handle string) (out *providers.Output, err error) {
	if p.err != nil {
		return nil, p.err
	}
	defer recoverMalformed(&out, &err)
	return p.poll(ctx, call, handle)
}

// recoverMalformed turns a panic into a malformed-response error. The SDK converts response
// maps with unchecked type assertions ("candidates": "x" panics inside it), and a provider's
// bad answer must fail the call, not the worker.
func recoverMalformed(out **providers.Output, err *error) {
	if r := recover(); r != nil {
		if cp, ok := r.(callerPanic); ok {
			panic(cp.v) // the caller's own bug, not the provider's answer
		}
		*out = nil
		*err = providers.ErrMalformed(ProviderName, fmt.Errorf("the SDK panicked decoding the response: %v", r))
	}
}

// callerPanic carries a panic of the caller's OnDelta through recoverMalformed untouched.
type callerPanic struct{ v any }

// deliver hands a delta to the caller's OnDelta, marking a panic in it as the caller's.
func deliver(onDelta func(string), text string) {
	defer func() {
		if r := recover(); r != nil {
			panic(callerPanic{r})
		}
	}()
	onDelta(text)
}

// prompt returns call's prompt, or the invalid_request error of a call without one.
func prompt(call providers.Call) (string, error) {
	if strings.TrimSpace(call.Input.Prompt) == "" {
		return "", &electrons.Error{Code: electrons.CodeInvalidRequest, Message: "gemini: a prompt is required", Param: "prompt"}
	}
	return call.Input.Prompt, nil
}
