package elevenlabs

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// audioFormat is a parsed output_format: codec_samplerate[_bitrate].
type audioFormat struct {
	name   string
	codec  string // mp3, opus, pcm, wav, ulaw, alaw
	rate   int    // samples per second
	accept string // the Accept header for it
}

// parseFormat reads an output_format such as mp3_44100_128, pcm_24000, ulaw_8000 or
// opus_48000_64. It checks the shape, not the exact list, which ElevenLabs grows over time; the
// API rejects what it does not offer.
func parseFormat(s string) (audioFormat, error) {
	parts := strings.Split(strings.TrimSpace(s), "_")
	bad := invalid("input.options.output_format",
		"output_format %q is not one of mp3_RATE_KBPS, opus_48000_KBPS, pcm_RATE, wav_RATE, ulaw_8000, alaw_8000", s)
	if len(parts) < 2 || len(parts) > 3 {
		return audioFormat{}, bad
	}
	rate, err := strconv.Atoi(parts[1])
	if err != nil || rate < 8000 || rate > 48000 {
		return audioFormat{}, bad
	}
	f := audioFormat{name: s, codec: parts[0], rate: rate}
	withBitrate := len(parts) == 3
	if withBitrate {
		if kbps, err := strconv.Atoi(parts[2]); err != nil || kbps < 8 || kbps > 512 {
			return audioFormat{}, bad
		}
	}
	switch f.codec {
	case "mp3":
		f.accept = "audio/mpeg"
	case "opus":
		f.accept = "audio/ogg"
	case "pcm", "wav", "ulaw", "alaw":
		if withBitrate {
			return audioFormat{}, bad
		}
		f.accept = "*/*"
	default:
		return audioFormat{}, bad
	}
	if (f.codec == "mp3" || f.codec == "opus") != withBitrate {
		return audioFormat{}, bad
	}
	return f, nil
}

// decodeAudio checks that a 2xx body is audio of the asked format and makes the File of it. Raw
// PCM and A-law have no header of their own, so they are wrapped in one (WAV) that records the
// sample rate; MP3, Opus (Ogg) and WAV must start with their signature, which a JSON or HTML body
// never has.
func decodeAudio(f audioFormat, contentType string, data []byte) (providers.File, error) {
	if len(data) == 0 {
		return providers.File{}, providers.ErrMalformed(ProviderName, errors.New("empty audio"))
	}
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "application/json" || strings.HasPrefix(mt, "text/") {
		return providers.File{}, providers.ErrMalformed(ProviderName, fmt.Errorf("answer is %s, not audio: %s", mt, providers.Excerpt(string(data), 300)))
	}
	isWAV := len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WAVE"
	switch f.codec {
	case "mp3":
		id3 := len(data) >= 3 && string(data[:3]) == "ID3"
		sync := len(data) >= 2 && data[0] == 0xFF && data[1]&0xE0 == 0xE0
		if !id3 && !sync {
			return providers.File{}, providers.ErrMalformed(ProviderName, errors.New("audio is not MP3 (no ID3 tag or frame sync)"))
		}
		return providers.File{ContentType: "audio/mpeg", Data: data}, nil
	case "opus":
		if len(data) < 4 || string(data[:4]) != "OggS" {
			return providers.File{}, providers.ErrMalformed(ProviderName, errors.New("audio is not Ogg Opus (no OggS page)"))
		}
		return providers.File{ContentType: "audio/ogg", Data: data}, nil
	case "wav":
		if !isWAV {
			return providers.File{}, providers.ErrMalformed(ProviderName, errors.New("audio is not WAV (no RIFF/WAVE header)"))
		}
		return providers.File{ContentType: "audio/wav", Data: data}, nil
	case "pcm":
		if isWAV {
			return providers.File{ContentType: "audio/wav", Data: data}, nil
		}
		if len(data)%2 != 0 {
			return providers.File{}, providers.ErrMalformed(ProviderName, errors.New("16-bit PCM audio with an odd number of bytes"))
		}
		return providers.File{ContentType: "audio/wav", Data: wav(data, f.rate, 1, 16)}, nil
	case "alaw":
		return providers.File{ContentType: "audio/wav", Data: wav(data, f.rate, 6, 8)}, nil
	case "ulaw":
		// Raw 8 kHz μ-law is exactly audio/basic.
		return providers.File{ContentType: "audio/basic", Data: data}, nil
	}
	return providers.File{}, providers.ErrMalformed(ProviderName, fmt.Errorf("unknown codec %q", f.codec))
}

// wav puts a RIFF/WAVE header of one mono channel in front of samples. formatTag is 1 for PCM, 6
// for A-law.
func wav(samples []byte, rate, formatTag, bits int) []byte {
	const headerSize = 44
	out := make([]byte, headerSize, headerSize+len(samples))
	le := binary.LittleEndian
	blockAlign := bits / 8
	copy(out[0:], "RIFF")
	le.PutUint32(out[4:], uint32(36+len(samples)))
	copy(out[8:], "WAVEfmt ")
	le.PutUint32(out[16:], 16)
	le.PutUint16(out[20:], uint16(formatTag))
	le.PutUint16(out[22:], 1)
	le.PutUint32(out[24:], uint32(rate))
	le.PutUint32(out[28:], uint32(rate*blockAlign))
	le.PutUint16(out[32:], uint16(blockAlign))
	le.PutUint16(out[34:], uint16(bits))
	copy(out[36:], "data")
	le.PutUint32(out[40:], uint32(len(samples)))
	return append(out, samples...)
}

// apiError is what an ElevenLabs error body says. The body is {"detail": {…}} with type, code,
// message, param, request_id and the legacy status (which older errors carry instead of code);
// request validation errors are {"detail": [{"loc": […], "msg": "…", "type": "…"}]}.
type apiError struct {
	Kind    string // code, or status when there is no code
	Message string
	Param   string
}

func parseAPIError(body []byte) apiError {
	var env struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Detail) == 0 {
		if utf8.Valid(body) && !bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
			return apiError{Message: providers.Excerpt(string(body), 300)}
		}
		return apiError{}
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(env.Detail, &obj) == nil {
		// Field by field, so that one field of an unexpected type does not lose the others.
		str := func(k string) string {
			var s string
			_ = json.Unmarshal(obj[k], &s)
			return strings.TrimSpace(s)
		}
		kind := str("code")
		if kind == "" {
			kind = str("status")
		}
		return apiError{Kind: kind, Message: providers.Excerpt(str("message"), 300), Param: str("param")}
	}
	var list []struct {
		Loc  []any  `json:"loc"`
		Msg  string `json:"msg"`
		Type string `json:"type"`
	}
	if json.Unmarshal(env.Detail, &list) == nil {
		var msgs []string
		var ae apiError
		for _, v := range list {
			loc := make([]string, 0, len(v.Loc))
			for _, l := range v.Loc {
				loc = append(loc, fmt.Sprint(l))
			}
			msgs = append(msgs, strings.Join(loc, ".")+": "+v.Msg)
			if ae.Param == "" && len(loc) > 0 {
				ae.Param = loc[len(loc)-1]
			}
			if ae.Kind == "" {
				ae.Kind = v.Type
			}
		}
		ae.Message = providers.Excerpt(strings.Join(msgs, "; "), 300)
		return ae
	}
	var s string
	if json.Unmarshal(env.Detail, &s) == nil {
		return apiError{Message: providers.Excerpt(s, 300)}
	}
	return apiError{}
}

// params maps ElevenLabs' parameter names to the fields of our input.
var params = map[string]string{
	"text": "input.prompt", "voice_id": "input.voice", "output_format": "input.options.output_format",
	"model_id": "model", "voice_settings": "input.options.voice_settings", "seed": "input.options.seed",
	"language_code": "input.options.language_code",
}

// errorFrom classifies a non-2xx answer:
//
//	429 concurrent_limit_exceeded, too_many_concurrent_requests  concurrency_limited
//	429 system_busy                                              overloaded
//	429 otherwise (rate_limit_exceeded)                          rate_limited
//	401 quota_exceeded, 402                                      quota_exhausted
//	401, 403                                                     auth_failed
//	4xx that names moderation or prohibited content              content_policy
//	400, 404, 422 and other 4xx                                  invalid_request
//	5xx                                                          server_error (503 overloaded, 504 timeout)
//
// RetryAfter comes from a Retry-After header when there is one.
func errorFrom(status int, h http.Header, body []byte, now time.Time) *electrons.Error {
	ae := parseAPIError(body)
	kind := strings.ToLower(ae.Kind)
	var code electrons.Code
	switch {
	case kind == "concurrent_limit_exceeded" || kind == "too_many_concurrent_requests":
		code = electrons.CodeConcurrencyLimited
	case kind == "system_busy":
		code = electrons.CodeOverloaded
	case kind == "quota_exceeded" || status == http.StatusPaymentRequired:
		code = electrons.CodeQuotaExhausted
	case status == http.StatusTooManyRequests:
		code = electrons.CodeRateLimited
	case status == http.StatusUnauthorized:
		code = electrons.CodeAuthFailed
	case status >= 400 && status < 500 && mentionsPolicy(kind+" "+ae.Message):
		code = electrons.CodeContentPolicy
	case status == http.StatusForbidden:
		code = electrons.CodeAuthFailed
	case status >= 400 && status < 500 && status != http.StatusRequestTimeout:
		code = electrons.CodeInvalidRequest
	default:
		code = providers.CodeForStatus(status)
	}
	msg := fmt.Sprintf("%s: HTTP %d", ProviderName, status)
	if ae.Kind != "" {
		msg += " " + providers.Excerpt(ae.Kind, 300)
	}
	if ae.Message != "" {
		msg += ": " + ae.Message
	}
	e := &electrons.Error{Code: code, Message: msg, RetryAfter: providers.ParseRetryAfter(h.Get("Retry-After"), now)}
	if code == electrons.CodeInvalidRequest {
		e.Param = params[ae.Param]
		if kind == "voice_not_found" {
			e.Param = "input.voice"
		}
	}
	return e
}

// mentionsPolicy reports whether an error is a refusal of the content rather than of its form.
func mentionsPolicy(s string) bool {
	s = strings.ToLower(s)
	for _, w := range []string{"moderation", "prohibited", "content_policy", "content policy", "terms of service", "safety"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// decodeVoices reads GET /v1/voices: {"voices": [{"voice_id", "name", "category", "labels", …}]}.
func decodeVoices(data []byte) ([]Voice, error) {
	var raw struct {
		Voices *[]struct {
			VoiceID     string                     `json:"voice_id"`
			Name        string                     `json:"name"`
			Category    string                     `json:"category"`
			Description *string                    `json:"description"`
			PreviewURL  *string                    `json:"preview_url"`
			Labels      map[string]json.RawMessage `json:"labels"`
		} `json:"voices"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, providers.ErrMalformed(ProviderName, err)
	}
	if raw.Voices == nil {
		return nil, providers.ErrMalformed(ProviderName, errors.New("no voices in the answer"))
	}
	out := make([]Voice, 0, len(*raw.Voices))
	for i, v := range *raw.Voices {
		if v.VoiceID == "" {
			return nil, providers.ErrMalformed(ProviderName, fmt.Errorf("voice %d has no voice_id", i))
		}
		vo := Voice{ID: v.VoiceID, Name: v.Name, Category: v.Category}
		if v.Description != nil {
			vo.Description = *v.Description
		}
		if v.PreviewURL != nil {
			vo.PreviewURL = *v.PreviewURL
		}
		for k, rv := range v.Labels {
			var s string
			if json.Unmarshal(rv, &s) != nil {
				if string(rv) == "null" {
					continue
				}
				s = string(rv) // a number or a flag: keep its JSON text
			}
			if vo.Labels == nil {
				vo.Labels = map[string]string{}
			}
			vo.Labels[k] = s
		}
		out = append(out, vo)
	}
	return out, nil
}
