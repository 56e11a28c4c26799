package gemini

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/genai"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// maxVideoBytes bounds a downloaded video, as the worker bounds its downloads.
const maxVideoBytes = 512 << 20

// video starts a Veo job with models.generateVideos (:predictLongRunning) and returns its
// operation as Pending; the rare operation that is done at once is finished here.
func (p *Provider) video(ctx context.Context, call providers.Call) (*providers.Output, error) {
	text, err := prompt(call)
	if err != nil {
		return nil, err
	}
	after, err := pollAfter(call.Input.Options)
	if err != nil {
		return nil, err
	}
	cfg, err := videoConfig(call.Input)
	if err != nil {
		return nil, err
	}
	op, err := p.client.Models.GenerateVideosFromSource(ctx, call.Model, &genai.GenerateVideosSource{Prompt: text}, cfg)
	if err != nil {
		return nil, classify(err)
	}
	return p.operationOutput(ctx, op, after)
}

// videoConfig reads the Veo settings of in: aspect ratio and resolution (from input.size unless
// the options name them), duration and negative prompt.
func videoConfig(in electrons.Input) (*genai.GenerateVideosConfig, error) {
	cfg := &genai.GenerateVideosConfig{}
	aspect, ok, err := providers.OptionString(in.Options, "aspect_ratio")
	if err != nil {
		return nil, providers.Named(ProviderName, err)
	}
	if !ok {
		if aspect, err = aspectRatio(in.Size, videoAspects); err != nil {
			return nil, err
		}
	}
	cfg.AspectRatio = aspect
	res, ok, err := providers.OptionString(in.Options, "resolution")
	if err != nil {
		return nil, providers.Named(ProviderName, err)
	}
	if !ok {
		if w, h, sized, err := parseSize(in.Size); err != nil {
			return nil, err
		} else if sized {
			res = "720p"
			if min(w, h) >= 1080 {
				res = "1080p"
			}
		}
	}
	cfg.Resolution = res
	secs, ok, err := providers.OptionNumber(in.Options, "duration_seconds")
	if err != nil {
		return nil, providers.Named(ProviderName, err)
	}
	if ok {
		if secs < 1 || secs > 60 {
			return nil, providers.Named(ProviderName, providers.InvalidOption("duration_seconds", "must be between 1 and 60"))
		}
		cfg.DurationSeconds = genai.Ptr(int32(secs))
	}
	if cfg.NegativePrompt, _, err = providers.OptionString(in.Options, "negative_prompt"); err != nil {
		return nil, providers.Named(ProviderName, err)
	}
	return cfg, nil
}

// poll asks for the operation handle once (GET {base}/v1beta/{name}).
func (p *Provider) poll(ctx context.Context, call providers.Call, handle string) (*providers.Output, error) {
	if !validHandle(handle) {
		return nil, electrons.Errorf(electrons.CodeInvalidRequest, "gemini: %q is not a Veo operation name", handle)
	}
	after, err := pollAfter(call.Input.Options)
	if err != nil {
		return nil, err
	}
	op, err := p.client.Operations.GetVideosOperation(ctx, &genai.GenerateVideosOperation{Name: handle}, nil)
	if err != nil {
		return nil, classify(err)
	}
	return p.operationOutput(ctx, op, after)
}

// validHandle accepts operation names as the API gives them
// ("models/veo-3.1-generate-preview/operations/abc123"), because the SDK puts the name into the
// request path as it is.
func validHandle(h string) bool {
	if h == "" || len(h) > 512 || !strings.Contains(h, "operations/") || strings.HasPrefix(h, "/") {
		return false
	}
	for _, seg := range strings.Split(h, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	for _, c := range h {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._/", c)
		if !ok {
			return false
		}
	}
	return true
}

// operationOutput reads an operation: Pending while it runs, the classified error of a failed
// one, the video of a finished one.
func (p *Provider) operationOutput(ctx context.Context, op *genai.GenerateVideosOperation, after time.Duration) (*providers.Output, error) {
	if op == nil {
		return nil, providers.ErrMalformed(ProviderName, fmt.Errorf("no operation in the answer"))
	}
	if !op.Done {
		if !validHandle(op.Name) {
			return nil, providers.ErrMalformed(ProviderName, fmt.Errorf("operation name %q", op.Name))
		}
		return &providers.Output{Pending: &providers.Pending{Handle: op.Name, PollAfter: after}}, nil
	}
	if op.Error != nil {
		e := fromStatus(operationError(op.Error), nil)
		e.Message = strings.Replace(e.Message, "gemini: ", "gemini: video job failed: ", 1)
		return nil, e
	}
	r := op.Response
	if r == nil || len(r.GeneratedVideos) == 0 || r.GeneratedVideos[0] == nil || r.GeneratedVideos[0].Video == nil {
		if r != nil && (r.RAIMediaFilteredCount > 0 || len(r.RAIMediaFilteredReasons) > 0) {
			msg := "gemini: the video was filtered by the safety filters"
			if len(r.RAIMediaFilteredReasons) > 0 {
				msg += ": " + strings.Join(r.RAIMediaFilteredReasons, "; ")
			}
			return nil, &electrons.Error{Code: electrons.CodeContentPolicy, Message: msg, Param: "prompt"}
		}
		return nil, electrons.Errorf(electrons.CodeBadOutput, "gemini: the finished video job has no video")
	}
	v := r.GeneratedVideos[0].Video
	ct := v.MIMEType
	if ct == "" {
		ct = "video/mp4"
	}
	if len(v.VideoBytes) > 0 {
		return &providers.Output{Files: []providers.File{{ContentType: ct, Data: v.VideoBytes}}}, nil
	}
	if v.URI == "" {
		return nil, electrons.Errorf(electrons.CodeBadOutput, "gemini: the finished video job has no video URI")
	}
	f, err := p.fetchVideo(ctx, v.URI, ct)
	if err != nil {
		return nil, err
	}
	return &providers.Output{Files: []providers.File{f}}, nil
}

// fetchVideo gets a finished video. A URI on the API's own host (".../v1beta/files/x:download")
// needs the API key: the adapter downloads it with the key in the x-goog-api-key header, so the
// key never travels in a URL that the worker would store or log. A URI anywhere else is handed
// to the worker to download as it is.
func (p *Provider) fetchVideo(ctx context.Context, uri, ct string) (providers.File, error) {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return providers.File{}, electrons.Errorf(electrons.CodeBadOutput, "gemini: the video URI %q is not an http(s) URL", uri)
	}
	if u.Host != p.apiHost {
		return providers.File{URL: uri, ContentType: ct}, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return providers.File{}, providers.TransportError(ProviderName, err)
	}
	req.Header.Set("x-goog-api-key", p.apiKey)
	resp, err := p.http.Do(req)
	if err != nil {
		return providers.File{}, providers.TransportError(ProviderName, fmt.Errorf("download video: %w", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		g, ok := parseErrorBody(body)
		if !ok {
			g = googleError{Code: resp.StatusCode, Message: "download video: " + resp.Status}
		}
		g.Code = resp.StatusCode
		return providers.File{}, fromStatus(g, fmt.Errorf("download video: %s", resp.Status))
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(resp.Body, maxVideoBytes+1))
	if err != nil {
		return providers.File{}, providers.TransportError(ProviderName, fmt.Errorf("download video: %w", err))
	}
	if n > maxVideoBytes || n == 0 {
		return providers.File{}, electrons.Errorf(electrons.CodeBadOutput, "gemini: the video is %d bytes", n)
	}
	return providers.File{ContentType: ct, Data: buf.Bytes()}, nil
}
