// Package ideogram is the adapter to Ideogram's image generation API: the Ideogram 3.0 endpoint
// (POST /v1/ideogram-v3/generate, multipart/form-data) and the legacy endpoint of the V_1 and V_2
// models (POST /generate, JSON with an image_request). Ideogram answers synchronously with
// temporary, provider-hosted image URLs, which the adapter returns as Files with a URL for the
// worker to copy into our store.
package ideogram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// ProviderName is the name Ideogram models carry in the model table.
const ProviderName = "ideogram"

// DefaultBaseURL is Ideogram's API.
const DefaultBaseURL = "https://api.ideogram.ai"

// DefaultTimeout bounds a whole call when Config.HTTPClient is not given. Ideogram generates
// synchronously, and QUALITY renders take tens of seconds.
const DefaultTimeout = providers.DefaultHTTPTimeout

// Bounds on what the adapter reads: an answer is a small JSON document, so anything larger is
// not Ideogram's format; error bodies are only read for their message.
const (
	maxAnswerBytes = 4 << 20
	maxErrorBytes  = 64 << 10
)

// Config configures the adapter.
type Config struct {
	// APIKey is sent in the Api-Key header.
	APIKey string
	// BaseURL is the root of the API. Default DefaultBaseURL.
	BaseURL string
	// HTTPClient makes the calls. Default: a client with a DefaultTimeout timeout.
	HTTPClient *http.Client
}

// Provider is the Ideogram adapter. It is safe for concurrent use.
type Provider struct {
	key  string
	base string
	hc   *http.Client
}

var _ providers.Provider = (*Provider)(nil)

// New returns an Ideogram adapter.
func New(cfg Config) *Provider {
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = providers.DefaultHTTPClient()
	}
	return &Provider{key: cfg.APIKey, base: base, hc: hc}
}

// Name returns "ideogram".
func (p *Provider) Name() string { return ProviderName }

// Generate makes one image for call. call.Model picks the API: "V_3" (or "ideogram-v3", or empty)
// uses Ideogram 3.0; "V_1", "V_1_TURBO", "V_2", "V_2_TURBO", "V_2A", "V_2A_TURBO" use the legacy
// endpoint. input.size ("WxH") becomes the nearest aspect ratio Ideogram offers (or, for 3.0, the
// exact resolution when it is one of Ideogram's). input.options may carry aspect_ratio,
// resolution, rendering_speed, magic_prompt, negative_prompt, seed, style_type and style_preset,
// passed to Ideogram as they are.
func (p *Provider) Generate(ctx context.Context, call providers.Call) (*providers.Output, error) {
	if call.TaskType != electrons.TaskImage {
		return nil, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "task_type",
			Message: fmt.Sprintf("%s: task type %q is not served (image only)", ProviderName, call.TaskType)}
	}
	m, err := parseModel(call.Model)
	if err != nil {
		return nil, err
	}
	in, err := readInput(call.Input)
	if err != nil {
		return nil, err
	}
	var req *http.Request
	if m.legacy {
		req, err = p.legacyRequest(ctx, m, in)
	} else {
		req, err = p.v3Request(ctx, m, in)
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("Api-Key", p.key)
	req.Header.Set("Accept", "application/json")

	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, providers.TransportError(ProviderName, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		return nil, errorFrom(resp.StatusCode, resp.Header, body, time.Now())
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, providers.TransportError(ProviderName, fmt.Errorf("read answer: %w", err))
	}
	if len(body) > maxAnswerBytes {
		return nil, providers.ErrMalformed(ProviderName, errors.New("answer larger than any image list"))
	}
	return decodeAnswer(body)
}

// model is what call.Model asks for.
type model struct {
	legacy bool
	name   string // the legacy model name (V_2, …); empty for 3.0
	speed  string // a rendering speed named in the model (V_3_TURBO), if any
}

// parseModel reads the provider model name. Ideogram spells its models V_2, V_2_TURBO, …; the
// forms "ideogram-v3" and "V3" are accepted too, since operators type them.
func parseModel(s string) (model, error) {
	m := strings.ToUpper(strings.TrimSpace(s))
	m = strings.NewReplacer("-", "_", " ", "_", ".", "_").Replace(m)
	m = strings.TrimPrefix(m, "IDEOGRAM_")
	if len(m) >= 2 && m[0] == 'V' && m[1] >= '0' && m[1] <= '9' {
		m = "V_" + m[1:]
	}
	switch {
	case m == "" || m == "V_3" || m == "V_3_0":
		return model{}, nil
	case strings.HasPrefix(m, "V_3_"):
		switch speed := strings.TrimPrefix(m, "V_3_"); speed {
		case "FLASH", "TURBO", "DEFAULT", "QUALITY":
			return model{speed: speed}, nil
		}
	case strings.HasPrefix(m, "V_1") || strings.HasPrefix(m, "V_2"):
		return model{legacy: true, name: m}, nil
	}
	return model{}, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "model",
		Message: fmt.Sprintf("%s: unknown model %q (want V_3, V_2, V_2_TURBO, V_1, …)", ProviderName, s)}
}

// input is the part of electrons.Input Ideogram uses, checked.
type input struct {
	prompt string
	// w and h are the asked size, zero when none was asked.
	w, h int
	// opts are the options as form values, already checked to be scalars.
	opts map[string]string
}

// optionNames are the options passed to Ideogram. For the legacy API magic_prompt is sent as
// magic_prompt_option, its name there.
var optionNames = []string{"aspect_ratio", "resolution", "rendering_speed", "magic_prompt",
	"negative_prompt", "seed", "style_type", "style_preset"}

func readInput(in electrons.Input) (input, error) {
	out := input{prompt: strings.TrimSpace(in.Prompt), opts: map[string]string{}}
	if out.prompt == "" {
		return out, invalid("input.prompt", "input.prompt is required for an image")
	}
	if in.Size != "" {
		w, h, err := parseSize(in.Size)
		if err != nil {
			return out, err
		}
		out.w, out.h = w, h
	}
	for _, k := range optionNames {
		v, ok := in.Options[k]
		if !ok || v == nil {
			continue
		}
		s, err := scalar(v)
		if err != nil {
			return out, invalid("input.options."+k, "input.options.%s: %v", k, err)
		}
		if k == "seed" {
			if _, err := strconv.ParseUint(s, 10, 31); err != nil {
				return out, invalid("input.options.seed", "input.options.seed must be an integer from 0 to 2147483647")
			}
		}
		out.opts[k] = s
	}
	return out, nil
}

// scalar renders an option value as Ideogram's form and JSON values want it.
func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10), nil
		}
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case json.Number:
		return x.String(), nil
	}
	return "", fmt.Errorf("must be a string or a number, not %T", v)
}

// parseSize reads "WxH".
func parseSize(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	w, werr := strconv.Atoi(strings.TrimSpace(ws))
	h, herr := strconv.Atoi(strings.TrimSpace(hs))
	if !ok || werr != nil || herr != nil || w < 1 || h < 1 || w > 16384 || h > 16384 {
		return 0, 0, invalid("input.size", "input.size %q is not WIDTHxHEIGHT", s)
	}
	return w, h, nil
}

// The aspect ratios Ideogram 3.0 offers, in its "WxH" spelling; the legacy API spells the same
// ratios ASPECT_W_H (without 4x5, 5x4, 1x2 and 2x1).
var (
	v3Aspects     = []string{"1x1", "16x9", "9x16", "4x3", "3x4", "3x2", "2x3", "16x10", "10x16", "4x5", "5x4", "1x2", "2x1", "1x3", "3x1"}
	legacyAspects = []string{"1x1", "16x9", "9x16", "4x3", "3x4", "3x2", "2x3", "16x10", "10x16", "1x3", "3x1"}
)

// v3Resolutions are the resolutions Ideogram 3.0 accepts (its ResolutionV3 enum).
var v3Resolutions = map[string]bool{}

func init() {
	for _, r := range strings.Fields(`512x1536 576x1408 576x1472 576x1536 640x1344 640x1408 640x1472
		640x1536 704x1152 704x1216 704x1280 704x1344 704x1408 704x1472 736x1312 768x1088 768x1216
		768x1280 768x1344 800x1280 832x960 832x1024 832x1088 832x1152 832x1216 832x1248 864x1152
		896x960 896x1024 896x1088 896x1120 896x1152 960x832 960x896 960x1024 960x1088 1024x832
		1024x896 1024x960 1024x1024 1088x768 1088x832 1088x896 1088x960 1120x896 1152x704 1152x832
		1152x864 1152x896 1216x704 1216x768 1216x832 1248x832 1280x704 1280x768 1280x800 1312x736
		1344x640 1344x704 1344x768 1408x576 1408x640 1408x704 1472x576 1472x640 1472x704 1536x512
		1536x576 1536x640`) {
		v3Resolutions[r] = true
	}
}

// nearestAspect picks the ratio of choices closest to w:h on a log scale, so that 2:1 and 1:2
// are equally far from 1:1.
func nearestAspect(w, h int, choices []string) string {
	best, bestD := choices[0], math.Inf(1)
	want := math.Log(float64(w) / float64(h))
	for _, c := range choices {
		as, bs, _ := strings.Cut(c, "x")
		a, _ := strconv.Atoi(as)
		b, _ := strconv.Atoi(bs)
		if d := math.Abs(want - math.Log(float64(a)/float64(b))); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// v3Request builds the multipart request of Ideogram 3.0.
func (p *Provider) v3Request(ctx context.Context, m model, in input) (*http.Request, error) {
	fields := [][2]string{{"prompt", in.prompt}, {"num_images", "1"}}
	_, hasAR := in.opts["aspect_ratio"]
	_, hasRes := in.opts["resolution"]
	if in.w > 0 && !hasAR && !hasRes {
		if size := fmt.Sprintf("%dx%d", in.w, in.h); v3Resolutions[size] {
			fields = append(fields, [2]string{"resolution", size})
		} else {
			fields = append(fields, [2]string{"aspect_ratio", nearestAspect(in.w, in.h, v3Aspects)})
		}
	}
	if _, ok := in.opts["rendering_speed"]; !ok && m.speed != "" {
		fields = append(fields, [2]string{"rendering_speed", m.speed})
	}
	for _, k := range optionNames {
		if v, ok := in.opts[k]; ok {
			fields = append(fields, [2]string{k, v})
		}
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return nil, fmt.Errorf("ideogram: write form field %s: %w", f[0], err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("ideogram: close form: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/v1/ideogram-v3/generate", &buf)
	if err != nil {
		return nil, fmt.Errorf("ideogram: build request: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req, nil
}

// legacyImageRequest is the legacy API's image_request object.
type legacyImageRequest struct {
	Prompt            string `json:"prompt"`
	Model             string `json:"model"`
	AspectRatio       string `json:"aspect_ratio,omitempty"`
	Resolution        string `json:"resolution,omitempty"`
	MagicPromptOption string `json:"magic_prompt_option,omitempty"`
	NegativePrompt    string `json:"negative_prompt,omitempty"`
	Seed              *int64 `json:"seed,omitempty"`
	StyleType         string `json:"style_type,omitempty"`
	NumImages         int    `json:"num_images"`
}

// legacyRequest builds the JSON request of the V_1 and V_2 models.
func (p *Provider) legacyRequest(ctx context.Context, m model, in input) (*http.Request, error) {
	ir := legacyImageRequest{Prompt: in.prompt, Model: m.name, NumImages: 1,
		AspectRatio: in.opts["aspect_ratio"], Resolution: in.opts["resolution"],
		MagicPromptOption: in.opts["magic_prompt"], NegativePrompt: in.opts["negative_prompt"],
		StyleType: in.opts["style_type"]}
	if ir.AspectRatio == "" && ir.Resolution == "" && in.w > 0 {
		ir.AspectRatio = "ASPECT_" + strings.ReplaceAll(nearestAspect(in.w, in.h, legacyAspects), "x", "_")
	}
	if s, ok := in.opts["seed"]; ok {
		seed, _ := strconv.ParseInt(s, 10, 64) // checked in readInput
		ir.Seed = &seed
	}
	body, err := json.Marshal(map[string]any{"image_request": ir})
	if err != nil {
		return nil, fmt.Errorf("ideogram: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/generate", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("ideogram: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

func invalid(param, format string, args ...any) *electrons.Error {
	e := electrons.Errorf(electrons.CodeInvalidRequest, ProviderName+": "+format, args...)
	e.Param = param
	return e
}
