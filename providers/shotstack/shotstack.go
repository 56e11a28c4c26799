// Package shotstack adapts the Shotstack Edit API (https://shotstack.io/docs/api/) to the
// Provider interface: a video request's timeline is queued as a render, which the worker then
// polls (Provider implements providers.Poller) until Shotstack has it done or failed. The
// finished video is returned as a Shotstack-hosted URL for the worker to copy.
//
// Input: input.timeline is a Shotstack Edit ({"timeline": {…}, "output": {…}}) or just its
// timeline ({"tracks": […]}), which is given the output {"format": "mp4", "resolution": "sd"}
// (or {"format": "mp4", "size": {…}} when input.size is "WxH"). Without a timeline, the prompt's
// sentences become a sequence of title clips. Options:
//   - poll_after_ms: how long to wait between status polls (default Config.PollAfter);
//   - callback: a URL Shotstack POSTs the render's outcome to (see ParseCallback), when the
//     edit does not name one itself.
package shotstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// Name is the provider name of the model table.
const Name = "shotstack"

// DefaultBaseURL is the real Shotstack API.
const DefaultBaseURL = "https://api.shotstack.io"

// DefaultEnv is the Shotstack environment (the path segment after /edit/) used by default:
// "stage" is the free sandbox, "v1" production.
const DefaultEnv = "stage"

// DefaultPollAfter is the wait between status polls: Shotstack renders take tens of seconds.
const DefaultPollAfter = 5 * time.Second

// defaultRetryAfter is the wait suggested after a 429 that names none: Shotstack's limits are
// per second.
const defaultRetryAfter = time.Second

// maxBody bounds the answers we read (a status answer echoes the edit back).
const maxBody = 16 << 20

// Config configures a Provider.
type Config struct {
	// APIKey is sent in the x-api-key header.
	APIKey string
	// BaseURL is where the API lives. Default DefaultBaseURL.
	BaseURL string
	// Env is the Shotstack environment: "stage" (sandbox) or "v1" (production). Default DefaultEnv.
	Env string
	// HTTPClient makes the calls. Default: a client with a 5-minute timeout.
	HTTPClient *http.Client
	// PollAfter is how long the worker waits between status polls unless the request's
	// options.poll_after_ms says otherwise. Default DefaultPollAfter.
	PollAfter time.Duration
	// Now tells the time, to turn a Retry-After date into a wait. Default time.Now.
	Now func() time.Time
}

// Provider is the Shotstack adapter. It is safe for concurrent use.
type Provider struct {
	key       string
	base      string
	env       string
	client    *http.Client
	pollAfter time.Duration
	now       func() time.Time
}

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Poller   = (*Provider)(nil)
)

// New returns a Shotstack provider configured by cfg.
func New(cfg Config) *Provider {
	p := &Provider{key: cfg.APIKey, base: strings.TrimRight(cfg.BaseURL, "/"), env: strings.Trim(cfg.Env, "/"),
		client: cfg.HTTPClient, pollAfter: cfg.PollAfter, now: cfg.Now}
	if p.base == "" {
		p.base = DefaultBaseURL
	}
	if p.env == "" {
		p.env = DefaultEnv
	}
	if p.client == nil {
		p.client = providers.DefaultHTTPClient()
	}
	if p.pollAfter <= 0 {
		p.pollAfter = DefaultPollAfter
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p
}

// Name returns "shotstack".
func (p *Provider) Name() string { return Name }

// Generate queues a render of the request's edit and returns it as Pending, its handle being
// the render id. Every failure is an *electrons.Error.
func (p *Provider) Generate(ctx context.Context, call providers.Call) (*providers.Output, error) {
	if call.TaskType != electrons.TaskVideo {
		return nil, &electrons.Error{Code: electrons.CodeInvalidRequest, Param: "task_type",
			Message: fmt.Sprintf("shotstack serves video only, not %q", call.TaskType)}
	}
	pollAfter, err := p.pollAfterOf(call.Input)
	if err != nil {
		return nil, err
	}
	edit, err := buildEdit(call.Input)
	if err != nil {
		return nil, err
	}
	body, err := p.do(ctx, http.MethodPost, p.renderURL(""), edit)
	if err != nil {
		return nil, err
	}
	id, err := parseQueued(body)
	if err != nil {
		return nil, providers.ErrMalformed(Name, err)
	}
	return &providers.Output{Pending: &providers.Pending{Handle: id, PollAfter: pollAfter}}, nil
}

// Poll asks Shotstack once about the render handle: Pending again while it is queued,
// fetching, rendering or saving; the video's URL when it is done; the classified failure when
// it failed.
func (p *Provider) Poll(ctx context.Context, call providers.Call, handle string) (*providers.Output, error) {
	if err := checkID(handle); err != nil {
		return nil, &electrons.Error{Code: electrons.CodeInvalidRequest, Message: "shotstack: poll: not a render id", Err: err}
	}
	pollAfter, err := p.pollAfterOf(call.Input)
	if err != nil {
		return nil, err
	}
	body, err := p.do(ctx, http.MethodGet, p.renderURL(handle), nil)
	if err != nil {
		return nil, err
	}
	r, err := parseStatus(body)
	if err != nil {
		return nil, providers.ErrMalformed(Name, err)
	}
	switch r.Status {
	case StatusQueued, StatusFetching, StatusRendering, StatusSaving:
		return &providers.Output{Pending: &providers.Pending{Handle: handle, PollAfter: pollAfter}}, nil
	case StatusFailed:
		return nil, renderFailure(handle, r.Error)
	}
	// parseStatus admits no other status, and a done render has a URL.
	return &providers.Output{Files: []providers.File{{URL: r.URL, ContentType: contentTypeOf(r.URL)}}}, nil
}

func (p *Provider) renderURL(id string) string {
	u := p.base + "/edit/" + p.env + "/render"
	if id != "" {
		u += "/" + url.PathEscape(id)
	}
	return u
}

// do makes one call and returns the body of a 2xx answer (Shotstack answers 201 to a render, 200
// to a status); any other answer, or a failed round trip, is returned as the classified
// *electrons.Error.
func (p *Provider) do(ctx context.Context, method, u string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, &electrons.Error{Code: electrons.CodeInvalidRequest, Message: "shotstack: build request", Err: err}
	}
	req.Header.Set("x-api-key", p.key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, providers.TransportError(Name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, providers.TransportError(Name, fmt.Errorf("read answer: %w", err))
	}
	if resp.StatusCode/100 != 2 {
		return nil, statusError(resp.StatusCode, resp.Header, data, p.now())
	}
	return data, nil
}

// maxPollAfter bounds input.options.poll_after_ms.
const maxPollAfter = 24 * time.Hour

// pollAfterOf is the request's options.poll_after_ms, or the configured default when it is
// absent or 0.
func (p *Provider) pollAfterOf(in electrons.Input) (time.Duration, error) {
	d, ok, err := providers.OptionMillis(in.Options, "poll_after_ms", maxPollAfter)
	if err != nil {
		return 0, providers.Named(Name, err)
	}
	if !ok || d == 0 {
		return p.pollAfter, nil
	}
	return d, nil
}

// statusError classifies an answer other than 2xx.
func statusError(status int, h http.Header, body []byte, now time.Time) *electrons.Error {
	msg := errorMessage(body)
	if msg == "" {
		msg = http.StatusText(status)
	}
	e := &electrons.Error{Message: fmt.Sprintf("shotstack: HTTP %d: %s", status, msg)}
	switch {
	case status == http.StatusTooManyRequests:
		e.Code = electrons.CodeRateLimited
		e.RetryAfter = providers.ParseRetryAfter(h.Get("Retry-After"), now)
		if e.RetryAfter == 0 {
			e.RetryAfter = defaultRetryAfter
		}
	case status >= 500:
		e.Code = electrons.CodeServerError
	default:
		// 400 invalid_request, 401/403 auth_failed, 402 quota_exhausted, 404 (an unknown render) and
		// the rest of 4xx invalid_request.
		e.Code = providers.CodeForStatus(status)
		if e.Code == electrons.CodeTimeout || e.Code == electrons.CodeOverloaded {
			e.Code = electrons.CodeInvalidRequest
		}
	}
	return e
}

// renderFailure classifies a failed render by Shotstack's message: an edit it calls invalid
// will fail again as it is, anything else may be the renderer's trouble.
func renderFailure(id, msg string) *electrons.Error {
	msg = cleanMessage(msg)
	if msg == "" {
		msg = "no reason given"
	}
	code := electrons.CodeServerError
	low := strings.ToLower(msg)
	if strings.Contains(low, "invalid") || strings.Contains(low, "validation") {
		code = electrons.CodeInvalidRequest
	}
	return &electrons.Error{Code: code, Message: fmt.Sprintf("shotstack: render %s failed: %s", id, msg)}
}

func invalid(param, format string, args ...any) *electrons.Error {
	return &electrons.Error{Code: electrons.CodeInvalidRequest, Param: param, Message: fmt.Sprintf(format, args...)}
}

// defaultOutput is the output given to a bare timeline: Shotstack's smallest MP4.
var defaultOutput = json.RawMessage(`{"format":"mp4","resolution":"sd"}`)

// Clips made from a prompt: one title per sentence, a few seconds each.
const (
	promptClipSeconds = 3
	maxPromptClips    = 20
)

// buildEdit makes the Edit JSON to render from the input.
func buildEdit(in electrons.Input) ([]byte, error) {
	var edit map[string]json.RawMessage
	raw := bytes.TrimSpace(in.Timeline)
	switch {
	case len(raw) > 0 && !bytes.Equal(raw, []byte("null")):
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return nil, invalid("input.timeline", "shotstack: input.timeline must be a JSON object: a Shotstack edit or its timeline")
		}
		switch {
		case obj["timeline"] != nil:
			edit = obj
		case obj["tracks"] != nil:
			edit = map[string]json.RawMessage{"timeline": raw}
		default:
			return nil, invalid("input.timeline", `shotstack: input.timeline must be a Shotstack edit ({"timeline", "output"}) or a timeline ({"tracks"})`)
		}
	case strings.TrimSpace(in.Prompt) != "":
		tl, err := json.Marshal(promptTimeline(in.Prompt))
		if err != nil {
			return nil, fmt.Errorf("shotstack: encode timeline: %w", err)
		}
		edit = map[string]json.RawMessage{"timeline": tl}
	default:
		return nil, invalid("input.timeline", "shotstack: input.timeline (or a prompt) is required for video")
	}
	if edit["output"] == nil {
		out, err := outputFor(in.Size)
		if err != nil {
			return nil, err
		}
		edit["output"] = out
	}
	if v, ok := in.Options["callback"]; ok && v != nil && edit["callback"] == nil {
		cb, _ := v.(string)
		u, err := url.Parse(strings.TrimSpace(cb))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, invalid("input.options.callback", "shotstack: input.options.callback must be an http(s) URL")
		}
		b, _ := json.Marshal(u.String())
		edit["callback"] = b
	}
	return json.Marshal(edit)
}

// outputFor is the default output, sized when the input asks for a size.
func outputFor(size string) (json.RawMessage, error) {
	size = strings.TrimSpace(size)
	if size == "" {
		return defaultOutput, nil
	}
	ws, hs, ok := strings.Cut(strings.ToLower(size), "x")
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	// Shotstack takes even dimensions only, up to 4K.
	if !ok || errW != nil || errH != nil || w < 2 || h < 2 || w > 3840 || h > 3840 || w%2 != 0 || h%2 != 0 {
		return nil, invalid("input.size", "shotstack: input.size must be WxH with even sides of at most 3840, not %q", size)
	}
	return json.Marshal(map[string]any{"format": "mp4", "size": map[string]int{"width": w, "height": h}})
}

// promptTimeline turns a prompt into title clips, one per sentence.
func promptTimeline(prompt string) map[string]any {
	var sentences []string
	for _, s := range strings.FieldsFunc(prompt, func(r rune) bool { return r == '.' || r == '!' || r == '?' || r == '\n' }) {
		if s = strings.TrimSpace(s); s != "" {
			sentences = append(sentences, s)
		}
	}
	if len(sentences) > maxPromptClips {
		sentences = sentences[:maxPromptClips]
	}
	clips := make([]map[string]any, 0, len(sentences))
	for i, s := range sentences {
		clips = append(clips, map[string]any{
			"asset":  map[string]any{"type": "title", "text": s, "style": "minimal"},
			"start":  i * promptClipSeconds,
			"length": promptClipSeconds,
		})
	}
	return map[string]any{"background": "#000000", "tracks": []any{map[string]any{"clips": clips}}}
}
