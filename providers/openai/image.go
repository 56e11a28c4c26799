package openai

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/distributed-electrons/electrons/providers"
	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// image generates images. input.size is OpenAI's "WxH"; input.options.response_format is
// "url" (default: the image stays on OpenAI's storage for an hour and the worker copies it) or
// "b64_json" (the bytes come in the answer); input.options.quality, style and n pass through.
// GPT Image models always answer in base64 and take no response_format.
func (p *Provider) image(ctx context.Context, call providers.Call) (*providers.Output, error) {
	in := call.Input
	if strings.TrimSpace(in.Prompt) == "" {
		return nil, invalid(ProviderName, "input.prompt", "input.prompt is required for an image")
	}
	if call.Model == "" {
		return nil, invalid(ProviderName, "model", "a model is required for an image")
	}
	params := sdk.ImageGenerateParams{Prompt: in.Prompt, Model: call.Model}
	if in.Size != "" {
		size := strings.ToLower(strings.TrimSpace(in.Size))
		var w, h int
		if _, err := fmt.Sscanf(size, "%dx%d", &w, &h); err != nil || w <= 0 || h <= 0 || fmt.Sprintf("%dx%d", w, h) != size {
			return nil, invalid(ProviderName, "input.size", "input.size must be WIDTHxHEIGHT, e.g. 1024x1024")
		}
		params.Size = sdk.ImageGenerateParamsSize(size)
	}
	gptImage := strings.HasPrefix(call.Model, "gpt-image")
	format, err := optString(ProviderName, in.Options, "response_format")
	if err != nil {
		return nil, err
	}
	switch format {
	case "", "url", "b64_json":
	default:
		return nil, invalid(ProviderName, "input.options.response_format", `response_format must be "url" or "b64_json"`)
	}
	if format == "" {
		format = "url"
	}
	if !gptImage {
		params.ResponseFormat = sdk.ImageGenerateParamsResponseFormat(format)
	}
	for key, set := range map[string]func(string){
		"quality":       func(v string) { params.Quality = sdk.ImageGenerateParamsQuality(v) },
		"style":         func(v string) { params.Style = sdk.ImageGenerateParamsStyle(v) },
		"output_format": func(v string) { params.OutputFormat = sdk.ImageGenerateParamsOutputFormat(v) },
	} {
		v, err := optString(ProviderName, in.Options, key)
		if err != nil {
			return nil, err
		}
		if v != "" {
			set(v)
		}
	}
	if n, ok, err := providers.OptionInt(in.Options, "n"); err != nil {
		return nil, providers.Named(ProviderName, err)
	} else if ok {
		if n < 1 || n > 10 {
			return nil, providers.Named(ProviderName, providers.InvalidOption("n", "must be between 1 and 10"))
		}
		params.N = sdk.Int(int64(n))
	}

	var raw *http.Response
	res, err := p.images.Generate(ctx, params, option.WithResponseInto(&raw))
	if err != nil {
		return nil, responseError(ctx, ProviderName, err, raw)
	}
	out, err := imagesOutput(ProviderName, res)
	if err != nil {
		return nil, err
	}
	out.Limits = parseLimits(raw.Header, time.Now())
	return out, nil
}

// imagesOutput checks an images response and turns it into files: a URL to fetch, or the
// decoded bytes.
func imagesOutput(name string, res *sdk.ImagesResponse) (*providers.Output, error) {
	if res == nil || len(res.Data) == 0 {
		return nil, providers.ErrMalformed(name, errors.New("an images response without data"))
	}
	declared := "image/png"
	switch res.OutputFormat {
	case "jpeg":
		declared = "image/jpeg"
	case "webp":
		declared = "image/webp"
	}
	out := &providers.Output{}
	for i, img := range res.Data {
		switch {
		case img.B64JSON != "":
			data, err := base64.StdEncoding.DecodeString(img.B64JSON)
			if err != nil || len(data) == 0 {
				return nil, providers.ErrMalformed(name, fmt.Errorf("image %d: b64_json is not base64: %v", i, err))
			}
			ct := declared
			if sniffed := http.DetectContentType(data); strings.HasPrefix(sniffed, "image/") {
				ct = sniffed
			}
			out.Files = append(out.Files, providers.File{ContentType: ct, Data: data})
		case img.URL != "":
			u, err := url.Parse(img.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, providers.ErrMalformed(name, fmt.Errorf("image %d: url %q is not an http(s) URL", i, truncate(img.URL, 200)))
			}
			out.Files = append(out.Files, providers.File{ContentType: declared, URL: img.URL})
		default:
			return nil, providers.ErrMalformed(name, fmt.Errorf("image %d has neither url nor b64_json", i))
		}
	}
	return out, nil
}
