package gemini

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
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

// maxPollAfter bounds input.options.poll_after_ms: a Veo job takes minutes, not hours.
const maxPollAfter = time.Hour

// pollAfter is input.options.poll_after_ms, or DefaultPollAfter.
func pollAfter(m map[string]any) (time.Duration, error) {
	d, ok, err := providers.OptionMillis(m, "poll_after_ms", maxPollAfter)
	if err != nil {
		return 0, providers.Named(ProviderName, err)
	}
	if !ok {
		return DefaultPollAfter, nil
	}
	return d, nil
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
