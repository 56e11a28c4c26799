package gemini

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/distributed-electrons/electrons"
)

// The input.options the adapter reads. Values of the wrong type are refused rather than
// ignored, so that a typo shows up as an error and not as a setting silently dropped.
//
//	temperature       number  text and image sampling temperature
//	aspect_ratio      string  image or video aspect ratio ("16:9"); default from input.size
//	resolution        string  video resolution ("720p", "1080p"); default from input.size
//	duration_seconds  number  video length in seconds
//	negative_prompt   string  what a video should not show
//	poll_after_ms     number  how long to wait between polls of a video job (default 5000)

func optNumber(m map[string]any, key string) (float64, bool, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return 0, false, nil
	}
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case string:
		var err error
		if f, err = strconv.ParseFloat(n, 64); err != nil {
			return 0, false, badOption(key, "a number")
		}
	default:
		return 0, false, badOption(key, "a number")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, badOption(key, "a finite number")
	}
	return f, true, nil
}

func optString(m map[string]any, key string) (string, bool, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, badOption(key, "a string")
	}
	return s, true, nil
}

// pollAfter is input.options.poll_after_ms, or DefaultPollAfter.
func pollAfter(m map[string]any) (time.Duration, error) {
	ms, ok, err := optNumber(m, "poll_after_ms")
	if err != nil || !ok {
		return DefaultPollAfter, err
	}
	if ms < 0 || ms > float64(time.Hour/time.Millisecond) {
		return 0, badOption("poll_after_ms", "between 0 and 3600000")
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}

func badOption(key, want string) *electrons.Error {
	return &electrons.Error{
		Code:    electrons.CodeInvalidRequest,
		Message: "gemini: input.options." + key + " must be " + want,
		Param:   "input.options." + key,
	}
}

// The aspect ratios Gemini's image models and Veo accept.
var (
	imageAspects = []string{"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"}
	videoAspects = []string{"16:9", "9:16"}
)

// parseSize reads input.size ("WxH"); ok is false when it is empty.
func parseSize(size string) (w, h int, ok bool, err error) {
	if size == "" {
		return 0, 0, false, nil
	}
	a, b, found := strings.Cut(strings.ToLower(size), "x")
	w, err1 := strconv.Atoi(a)
	h, err2 := strconv.Atoi(b)
	if !found || err1 != nil || err2 != nil || w <= 0 || h <= 0 {
		return 0, 0, false, &electrons.Error{Code: electrons.CodeInvalidRequest,
			Message: "gemini: input.size must be WIDTHxHEIGHT, like 1024x1024", Param: "size"}
	}
	return w, h, true, nil
}

// aspectRatio picks, of the ratios allowed, the one closest to input.size; "" when no size is
// given, so the model's default applies.
func aspectRatio(size string, allowed []string) (string, error) {
	w, h, ok, err := parseSize(size)
	if err != nil || !ok {
		return "", err
	}
	want := math.Log(float64(w) / float64(h))
	best, bestDist := "", math.Inf(1)
	for _, r := range allowed {
		a, b, _ := strings.Cut(r, ":")
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		if d := math.Abs(math.Log(float64(x)/float64(y)) - want); d < bestDist {
			best, bestDist = r, d
		}
	}
	return best, nil
}
