package main

import (
	"github.com/distributed-electrons/electrons/providers"
	"github.com/distributed-electrons/electrons/providers/anthropic"
	"github.com/distributed-electrons/electrons/providers/elevenlabs"
	"github.com/distributed-electrons/electrons/providers/gemini"
	"github.com/distributed-electrons/electrons/providers/ideogram"
	"github.com/distributed-electrons/electrons/providers/local"
	"github.com/distributed-electrons/electrons/providers/openai"
	"github.com/distributed-electrons/electrons/providers/openaicompat"
	"github.com/distributed-electrons/electrons/providers/pexels"
	"github.com/distributed-electrons/electrons/providers/shotstack"
)

// providerKeys names the setting that enables each provider, for GET /v1/providers.
var providerKeys = map[string]string{
	"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY",
	"ideogram": "IDEOGRAM_API_KEY", "elevenlabs": "ELEVENLABS_API_KEY", "pexels": "PEXELS_API_KEY",
	"shotstack": "SHOTSTACK_API_KEY", "openaicompat": "OPENAI_COMPAT_BASE_URL",
}

// newRegistry builds the enabled providers: local always, every other one when configured.
func newRegistry(cfg *Config) *providers.Registry {
	r := providers.NewRegistry(local.New())
	if cfg.OpenAIKey != "" {
		r.Register(openai.New(openai.Config{APIKey: cfg.OpenAIKey, BaseURL: cfg.OpenAIBaseURL}))
	}
	if cfg.AnthropicKey != "" {
		r.Register(anthropic.New(anthropic.Config{APIKey: cfg.AnthropicKey, BaseURL: cfg.AnthropicBaseURL}))
	}
	if cfg.GeminiKey != "" {
		r.Register(gemini.New(gemini.Config{APIKey: cfg.GeminiKey, BaseURL: cfg.GeminiBaseURL}))
	}
	if cfg.IdeogramKey != "" {
		r.Register(ideogram.New(ideogram.Config{APIKey: cfg.IdeogramKey, BaseURL: cfg.IdeogramBaseURL}))
	}
	if cfg.ElevenLabsKey != "" {
		r.Register(elevenlabs.New(elevenlabs.Config{APIKey: cfg.ElevenLabsKey, BaseURL: cfg.ElevenLabsBaseURL}))
	}
	if cfg.PexelsKey != "" {
		r.Register(pexels.New(pexels.Config{APIKey: cfg.PexelsKey, BaseURL: cfg.PexelsBaseURL}))
	}
	if cfg.ShotstackKey != "" {
		r.Register(shotstack.New(shotstack.Config{APIKey: cfg.ShotstackKey, BaseURL: cfg.ShotstackBaseURL, Env: cfg.ShotstackEnv}))
	}
	if cfg.CompatBaseURL != "" {
		r.Register(openaicompat.New(openaicompat.Config{BaseURL: cfg.CompatBaseURL, APIKey: cfg.CompatKey, Model: cfg.CompatModel}))
	}
	return r
}
