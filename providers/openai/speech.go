package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/distributed-electrons/electrons/providers"
	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// maxSpeechBytes bounds a speech answer: 4096 characters of speech are minutes of audio, far
// below this even as WAV.
const maxSpeechBytes = 256 << 20

// speechContentTypes are the media types of the speech formats.
var speechContentTypes = map[string]string{
	"mp3":  "audio/mpeg",
	"opus": "audio/opus",
	"aac":  "audio/aac",
	"flac": "audio/flac",
	"wav":  "audio/wav",
	"pcm":  "audio/pcm", // raw 24 kHz 16-bit little-endian mono
}

// audio speaks input.prompt with input.voice (default "alloy"); input.options.response_format
// (default "mp3"), speed and instructions pass through. The answer is the audio's bytes.
func (p *Provider) audio(ctx context.Context, call providers.Call) (*providers.Output, error) {
	in := call.Input
	if strings.TrimSpace(in.Prompt) == "" {
		return nil, invalid(ProviderName, "input.prompt", "input.prompt is the text to speak and is required")
	}
	if call.Model == "" {
		return nil, invalid(ProviderName, "model", "a model is required for speech")
	}
	voice := in.Voice
	if voice == "" {
		voice = "alloy"
	}
	format, err := optString(ProviderName, in.Options, "response_format")
	if err != nil {
		return nil, err
	}
	if format == "" {
		format = "mp3"
	}
	ct, ok := speechContentTypes[format]
	if !ok {
		return nil, invalid(ProviderName, "input.options.response_format", "response_format must be one of mp3, opus, aac, flac, wav, pcm")
	}
	params := sdk.AudioSpeechNewParams{
		Input:          in.Prompt,
		Model:          call.Model,
		Voice:          sdk.AudioSpeechNewParamsVoiceUnion{OfString: sdk.String(voice)},
		ResponseFormat: sdk.AudioSpeechNewParamsResponseFormat(format),
	}
	if v, ok, err := optFloat(ProviderName, in.Options, "speed", 0.25, 4); err != nil {
		return nil, err
	} else if ok {
		params.Speed = sdk.Float(v)
	}
	if v, err := optString(ProviderName, in.Options, "instructions"); err != nil {
		return nil, err
	} else if v != "" {
		params.Instructions = sdk.String(v)
	}

	var raw *http.Response
	res, err := p.speech.New(ctx, params, option.WithResponseInto(&raw))
	if err != nil {
		return nil, callError(ctx, ProviderName, err, raw, time.Now())
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxSpeechBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, providers.TransportError(ProviderName, ctx.Err())
		}
		e := providers.ErrTruncated(ProviderName)
		e.Err = err
		return nil, e
	}
	out, err := speechOutput(ProviderName, res.Header.Get("Content-Type"), ct, data)
	if err != nil {
		return nil, err
	}
	out.Limits = parseLimits(res.Header, time.Now())
	return out, nil
}

// speechOutput checks a speech answer: audio bytes, not an error page or JSON that came with a
// 200. The server's audio media type wins over the one of the format we asked for.
func speechOutput(name, contentType, requested string, data []byte) (*providers.Output, error) {
	if len(data) > maxSpeechBytes {
		return nil, providers.ErrMalformed(name, fmt.Errorf("the audio exceeds %d bytes", maxSpeechBytes))
	}
	if len(data) == 0 {
		return nil, providers.ErrMalformed(name, errors.New("an empty audio answer"))
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/json" || strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") {
		return nil, providers.ErrMalformed(name, fmt.Errorf("a %s answer where audio was expected", mt))
	}
	ct := requested
	if strings.HasPrefix(mt, "audio/") {
		ct = mt
	}
	return &providers.Output{Files: []providers.File{{ContentType: ct, Data: data}}}, nil
}
