package ideogram

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// answer is Ideogram's generation response; the 3.0 and legacy endpoints share it.
type answer struct {
	Created string  `json:"created"`
	Data    []image `json:"data"`
}

// image is one generated image. URL is null when the image failed Ideogram's safety check.
type image struct {
	URL         *string `json:"url"`
	Prompt      string  `json:"prompt"`
	Resolution  string  `json:"resolution"`
	IsImageSafe *bool   `json:"is_image_safe"`
	Seed        *int64  `json:"seed"`
	StyleType   string  `json:"style_type"`
}

// decodeAnswer turns a 2xx body into the output: one File per safe image, with its
// provider-hosted URL. No safe image at all is content_policy (Ideogram withholds the URL of an
// image that failed its check); a body that is not the format is server_error.
func decodeAnswer(body []byte) (*providers.Output, error) {
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, providers.ErrMalformed(ProviderName, err)
	}
	if len(a.Data) == 0 {
		return nil, providers.ErrMalformed(ProviderName, errors.New("no images in the answer"))
	}
	out := &providers.Output{}
	unsafe := 0
	for i, im := range a.Data {
		if im.IsImageSafe == nil {
			return nil, providers.ErrMalformed(ProviderName, fmt.Errorf("image %d: no is_image_safe", i))
		}
		if !*im.IsImageSafe {
			unsafe++
			continue
		}
		if im.URL == nil || *im.URL == "" {
			return nil, providers.ErrMalformed(ProviderName, fmt.Errorf("image %d: no url", i))
		}
		u, err := url.Parse(*im.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, providers.ErrMalformed(ProviderName, fmt.Errorf("image %d: url %q is not an http(s) URL", i, *im.URL))
		}
		// Ideogram serves PNG; the worker still reads the download's own Content-Type.
		out.Files = append(out.Files, providers.File{ContentType: "image/png", URL: u.String()})
	}
	if len(out.Files) == 0 {
		return nil, electrons.Errorf(electrons.CodeContentPolicy,
			"%s: the generated image failed Ideogram's safety check (is_image_safe false) (%d of %d)", ProviderName, unsafe, len(a.Data))
	}
	return out, nil
}

// errorFrom classifies a non-2xx answer. Ideogram documents 400 invalid input, 401 not
// authorized, 422 "Prompt failed the safety check" ({"error": "…"}) and 429 too many requests;
// its other errors are problem details ({"detail": "…", "title", "status"}). A 402 is a billing
// refusal (no credits left).
func errorFrom(status int, h http.Header, body []byte, now time.Time) *electrons.Error {
	msg := errorMessage(body)
	code := providers.CodeForStatus(status)
	switch {
	case status == http.StatusUnprocessableEntity || status == http.StatusBadRequest:
		code = electrons.CodeInvalidRequest
		if mentionsSafety(msg) {
			code = electrons.CodeContentPolicy
		}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		code = electrons.CodeAuthFailed
	case status == http.StatusPaymentRequired:
		code = electrons.CodeQuotaExhausted
	case status == http.StatusTooManyRequests:
		code = electrons.CodeRateLimited
	}
	text := fmt.Sprintf("%s: HTTP %d", ProviderName, status)
	if msg != "" {
		text += ": " + msg
	}
	e := &electrons.Error{Code: code, Message: text, RetryAfter: providers.ParseRetryAfter(h.Get("Retry-After"), now)}
	if code == electrons.CodeInvalidRequest && strings.Contains(strings.ToLower(msg), "prompt") {
		e.Param = "input.prompt"
	}
	return e
}

// mentionsSafety reports whether an error message is a safety refusal rather than a plain
// validation error; Ideogram says "Prompt failed the safety check".
func mentionsSafety(msg string) bool {
	m := strings.ToLower(msg)
	for _, w := range []string{"safety", "unsafe", "moderation", "content policy"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// errorMessage finds the human message of an error body: {"error": "…"}, {"detail": "…"} or
// {"detail": {"message": "…"}}, {"message": "…"}, {"title": "…"}; otherwise the start of the body
// when it is text.
func errorMessage(body []byte) string {
	body = bytes.TrimSpace(body)
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) == nil {
		for _, k := range []string{"error", "detail", "message", "title"} {
			if s := messageIn(obj[k]); s != "" {
				return providers.Excerpt(s, 300)
			}
		}
		return ""
	}
	if !utf8.Valid(body) || bytes.HasPrefix(body, []byte("<")) {
		return "" // an HTML error page says nothing the status does not
	}
	return providers.Excerpt(string(body), 300)
}

// messageIn reads a message that is either a string or an object with a message of its own.
func messageIn(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		for _, k := range []string{"message", "detail", "error"} {
			var s string
			if json.Unmarshal(obj[k], &s) == nil && strings.TrimSpace(s) != "" {
				return strings.TrimSpace(s)
			}
		}
	}
	return ""
}
