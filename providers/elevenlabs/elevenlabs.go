// Package elevenlabs is the adapter to ElevenLabs' text-to-speech API: POST
// /v1/text-to-speech/{voice_id}?output_format=…, whose answer is the audio itself, and GET
// /v1/voices. ElevenLabs limits how many requests run at once rather than how many start per
// minute: a 429 says which limit was hit in detail.code (or the legacy detail.status), and every
// answer carries current-concurrent-requests and maximum-concurrent-requests headers, which the
// adapter reports as the limit state.
package elevenlabs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// ProviderName is the name ElevenLabs models carry in the model table.
const ProviderName = "elevenlabs"

// DefaultBaseURL is ElevenLabs' API.
const DefaultBaseURL = "https://api.elevenlabs.io"

// DefaultVoice is the voice used when a request names none: "Rachel", one of ElevenLabs'
// premade voices, which every account has.
const DefaultVoice = "21m00Tcm4TlvDq8ikWAM"

// DefaultOutputFormat is the output format asked for when input.options.output_format is not
// given: MP3 at 44.1 kHz, 128 kbit/s.
const DefaultOutputFormat = "mp3_44100_128"

// DefaultTimeout bounds a whole call when Config.HTTPClient is not given.
const DefaultTimeout = providers.DefaultHTTPTimeout

// Bounds on what the adapter reads. The longest text ElevenLabs accepts (40,000 characters) is
// about 40 minutes of speech, under 100 MB even as 48 kHz PCM.
const (
	maxAudioBytes = 256 << 20
	maxJSONBytes  = 16 << 20
	maxErrorBytes = 64 << 10
)

// Config configures the adapter.
type Config struct {
	// APIKey is sent in the xi-api-key header.
	APIKey string
	// BaseURL is the root of the API. Default DefaultBaseURL.
	BaseURL string
	// HTTPClient makes the calls. Default: a client with a DefaultTimeout timeout.
	HTTPClient *http.Client
	// DefaultVoice is the voice id used when input.voice is empty. Default DefaultVoice.
	DefaultVoice string
}

// Provider is the ElevenLabs adapter. It is safe for concurrent use.
type Provider struct {
	key   string
	base  string
	hc    *http.Client
	voice string
}

var _ providers.Provider = (*Provider)(nil)

// New returns an ElevenLabs adapter.
func New(cfg Config) *Provider {
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = providers.DefaultHTTPClient()
	}
	voice := cfg.DefaultVoice
	if voice == "" {
		voice = DefaultVoice
	}
	return &Provider{key: cfg.APIKey, base: base, hc: hc, voice: voice}
}

// Name returns "elevenlabs".
func (p *Provider) Name() string { return ProviderName }

// voiceSettingNames are the options that go into voice_settings, when the request does not give
// a whole voice_settings object.
var voiceSettingNames = []string{"stability", "similarity_boost", "style", "use_speaker_boost", "speed"}

// ttsRequest is the JSON body of text-to-speech.
type ttsRequest struct {
	Text          string         `json:"text"`
	ModelID       string         `json:"model_id,omitempty"`
	LanguageCode  string         `json:"language_code,omitempty"`
	Seed          *int64         `json:"seed,omitempty"`
	VoiceSettings map[string]any `json:"voice_settings,omitempty"`
}

// Generate speaks input.prompt with the voice input.voice (a voice id; Config.DefaultVoice when
// empty) and the model call.Model (ElevenLabs' default when empty). input.options may carry
// output_format (default DefaultOutputFormat), language_code, seed, and voice_settings (an object)
// or its fields stability, similarity_boost, style, use_speaker_boost and speed.
//
// The audio comes back as File.Data: MP3 as audio/mpeg, Opus as audio/ogg, μ-law as audio/basic,
// and raw PCM and A-law wrapped in a WAV header (audio/wav) so that the stored artifact says its
// own sample rate. Usage.InputTokens counts the characters billed (the character-cost header, or
// the characters of the text).
func (p *Provider) Generate(ctx context.Context, call providers.Call) (*providers.Output, error) {
	if call.TaskType != electrons.TaskAudio {
		return nil, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "task_type",
			Message: fmt.Sprintf("%s: task type %q is not served (audio only)", ProviderName, call.TaskType)}
	}
	text := strings.TrimSpace(call.Input.Prompt)
	if text == "" {
		return nil, invalid("input.prompt", "input.prompt is required: it is the text to speak")
	}
	voice := strings.TrimSpace(call.Input.Voice)
	if voice == "" {
		voice = p.voice
	}
	opts := call.Input.Options
	format := DefaultOutputFormat
	if s, ok, err := providers.OptionString(opts, "output_format"); err != nil {
		return nil, providers.Named(ProviderName, err)
	} else if ok {
		format = s
	}
	af, err := parseFormat(format)
	if err != nil {
		return nil, err
	}
	body := ttsRequest{Text: text, ModelID: call.Model}
	if v, ok := opts["language_code"].(string); ok {
		body.LanguageCode = v
	}
	seed, hasSeed, err := providers.OptionNumber(opts, "seed")
	if err != nil || hasSeed && (seed < 0 || seed > math.MaxUint32 || seed != math.Trunc(seed)) {
		return nil, invalid("input.options.seed", "input.options.seed must be an integer from 0 to 4294967295")
	}
	if hasSeed {
		s := int64(seed)
		body.Seed = &s
	}
	if body.VoiceSettings, err = voiceSettings(opts); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, invalid("input.options", "the options cannot be sent as JSON: %v", err)
	}

	u := p.base + "/v1/text-to-speech/" + url.PathEscape(voice) + "?output_format=" + url.QueryEscape(format)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("elevenlabs: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", af.accept)
	req.Header.Set("xi-api-key", p.key)

	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, providers.TransportError(ProviderName, err)
	}
	defer resp.Body.Close()
	limits := limitsOf(resp.Header)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		return nil, errorFrom(resp.StatusCode, resp.Header, data, time.Now())
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAudioBytes+1))
	if err != nil {
		// A body cut short of its Content-Length is the truncated answer of a dropped connection.
		return nil, providers.TransportError(ProviderName, fmt.Errorf("read audio: %w", err))
	}
	if len(data) > maxAudioBytes {
		return nil, providers.ErrMalformed(ProviderName, fmt.Errorf("audio larger than %d bytes", maxAudioBytes))
	}
	file, err := decodeAudio(af, resp.Header.Get("Content-Type"), data)
	if err != nil {
		return nil, err
	}
	chars := utf8.RuneCountInString(text)
	if n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("character-cost"))); err == nil && n >= 0 {
		chars = n
	}
	return &providers.Output{Files: []providers.File{file}, Usage: &electrons.Usage{InputTokens: chars}, Limits: limits}, nil
}

// voiceSettings builds voice_settings from the options: the voice_settings object as given, or
// the individual settings; nil when there are none, so that the voice's own settings apply.
func voiceSettings(opts map[string]any) (map[string]any, error) {
	if v, ok := opts["voice_settings"]; ok && v != nil {
		m, isObj := v.(map[string]any)
		if !isObj {
			return nil, invalid("input.options.voice_settings", "input.options.voice_settings must be an object")
		}
		return m, nil
	}
	var vs map[string]any
	for _, k := range voiceSettingNames {
		v, ok := opts[k]
		if !ok || v == nil {
			continue
		}
		switch v.(type) {
		case float64, bool:
		default:
			return nil, invalid("input.options."+k, "input.options.%s must be a number or a boolean", k)
		}
		if vs == nil {
			vs = map[string]any{}
		}
		vs[k] = v
	}
	return vs, nil
}

// limitsOf reads ElevenLabs' concurrency headers. Limit is the concurrent requests allowed,
// Remaining those still free as this answer was sent; Reset stays zero, as a concurrency limit
// frees up when requests end rather than at a time. Nil when the headers are absent.
func limitsOf(h http.Header) *providers.LimitState {
	maxS, curS := strings.TrimSpace(h.Get("maximum-concurrent-requests")), strings.TrimSpace(h.Get("current-concurrent-requests"))
	if maxS == "" {
		return nil
	}
	limit, err := strconv.Atoi(maxS)
	if err != nil || limit < 0 {
		return nil
	}
	cur, err := strconv.Atoi(curS)
	if err != nil || cur < 0 {
		cur = 0
	}
	return &providers.LimitState{Limit: limit, Remaining: max(limit-cur, 0)}
}

// Voice is one voice of the account's voice list.
type Voice struct {
	ID          string            `json:"voice_id"`
	Name        string            `json:"name"`
	Category    string            `json:"category,omitempty"` // premade, cloned, generated, professional
	Description string            `json:"description,omitempty"`
	PreviewURL  string            `json:"preview_url,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"` // accent, gender, age, use case, …
}

// Voices lists the voices the account can use (GET /v1/voices). Errors are classified as
// Generate's are.
func (p *Provider) Voices(ctx context.Context) ([]Voice, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/v1/voices", nil)
	if err != nil {
		return nil, fmt.Errorf("elevenlabs: build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("xi-api-key", p.key)
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, providers.TransportError(ProviderName, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		return nil, errorFrom(resp.StatusCode, resp.Header, data, time.Now())
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBytes+1))
	if err != nil {
		return nil, providers.TransportError(ProviderName, fmt.Errorf("read voices: %w", err))
	}
	if len(data) > maxJSONBytes {
		return nil, providers.ErrMalformed(ProviderName, fmt.Errorf("voice list larger than %d bytes", maxJSONBytes))
	}
	return decodeVoices(data)
}

func invalid(param, format string, args ...any) *electrons.Error {
	e := electrons.Errorf(electrons.CodeInvalidRequest, ProviderName+": "+format, args...)
	e.Param = param
	return e
}
