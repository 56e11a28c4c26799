package local

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"math"
	"strings"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// The video the local provider renders: a small animated GIF, which every browser and image
// library can show without a codec, standing in for the MP4 a real render service returns.
const (
	videoWidth  = 160
	videoHeight = 90
	videoFPS    = 5
	// frameDelay is in GIF's hundredths of a second.
	frameDelay          = 100 / videoFPS
	minFramesPerClip    = 2
	maxFramesPerClip    = 25
	maxVideoFrames      = 300
	maxClips            = 100
	defaultClipDuration = 2.0
	promptClipDuration  = 1.5
	minClipDuration     = 0.2
	maxClipDuration     = 30.0
)

// clip is one scene of a timeline: its caption and how long it lasts, in seconds.
type clip struct {
	text     string
	duration float64
}

// generateVideo renders the timeline, or the prompt's sentences, as an animated GIF.
func generateVideo(in electrons.Input, bad bool) (*providers.Output, error) {
	clips, err := timelineClips(in.Timeline, in.Prompt)
	if err != nil {
		return nil, err
	}
	var anim *gif.GIF
	if bad {
		// One 1x1 frame: the quality gate must see there is no video in it.
		anim = &gif.GIF{
			Image: []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.Black})},
			Delay: []int{frameDelay},
		}
	} else {
		anim = renderClips(clips, videoWidth, videoHeight)
	}
	data, err := encodeGIF(anim)
	if err != nil {
		return nil, err
	}
	return &providers.Output{Files: []providers.File{{ContentType: "image/gif", Data: data}}}, nil
}

// timelineClips finds the clips of a timeline. It takes our own {"clips": [{"text", "duration"}]},
// Shotstack's {"timeline": {"tracks": [{"clips": [{"asset": {"text"}, "length"}]}]}}, or a bare
// array of clips or captions, since clients bring timelines written for other services; without
// any clip it falls back to one clip per sentence of the prompt.
func timelineClips(raw json.RawMessage, prompt string) ([]clip, error) {
	var clips []clip
	if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && !bytes.Equal(trimmed, []byte("null")) {
		var v any
		if err := json.Unmarshal(trimmed, &v); err != nil {
			return nil, invalid("input.timeline", "input.timeline is not valid JSON: %v", err)
		}
		clips = collectClips(v, 0, clips)
	}
	if len(clips) == 0 {
		for _, s := range sentences(prompt) {
			clips = append(clips, clip{text: s, duration: promptClipDuration})
		}
	}
	if len(clips) == 0 {
		return nil, invalid("input.timeline", "input.timeline has no clips and input.prompt is empty: nothing to render")
	}
	return clips[:min(len(clips), maxClips)], nil
}

// maxTimelineDepth bounds the recursion into nested timelines, so hostile input cannot make it deep.
const maxTimelineDepth = 4

func collectClips(v any, depth int, clips []clip) []clip {
	if depth > maxTimelineDepth || len(clips) >= maxClips {
		return clips
	}
	switch t := v.(type) {
	case []any:
		for _, c := range t {
			if len(clips) >= maxClips {
				break
			}
			clips = append(clips, parseClip(c, len(clips)))
		}
	case map[string]any:
		if cs, ok := t["clips"].([]any); ok {
			clips = collectClips(cs, depth+1, clips)
		}
		if tracks, ok := t["tracks"].([]any); ok {
			for _, tr := range tracks {
				clips = collectClips(tr, depth+1, clips)
			}
		}
		if inner, ok := t["timeline"]; ok {
			clips = collectClips(inner, depth+1, clips)
		}
	}
	return clips
}

// parseClip reads one clip, leniently: a caption string, or an object with a caption and a length
// under any of the names the usual render services use.
func parseClip(v any, index int) clip {
	c := clip{text: fmt.Sprintf("clip %d", index+1), duration: defaultClipDuration}
	switch t := v.(type) {
	case string:
		if strings.TrimSpace(t) != "" {
			c.text = t
		}
	case map[string]any:
		asset, _ := t["asset"].(map[string]any)
		for _, s := range []any{t["text"], t["title"], t["caption"], asset["text"], asset["title"], asset["html"], asset["src"]} {
			if s, ok := s.(string); ok && strings.TrimSpace(s) != "" {
				c.text = s
				break
			}
		}
		for _, d := range []any{t["duration"], t["length"]} {
			if d, ok := d.(float64); ok && d > 0 && !math.IsInf(d, 0) {
				c.duration = min(max(d, minClipDuration), maxClipDuration)
				break
			}
		}
	}
	return c
}

// sentences splits text at sentence ends and line breaks.
func sentences(text string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(text, func(c rune) bool {
		return c == '.' || c == '!' || c == '?' || c == '\n'
	}) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// renderClips draws a few frames per clip: the clip's colour brightening, its words appearing as
// blocks one after another, and a progress bar, so a viewer can tell the clips and frames apart.
func renderClips(clips []clip, w, h int) *gif.GIF {
	anim := &gif.GIF{Config: image.Config{Width: w, Height: h}}
	for _, c := range clips {
		n := min(max(int(math.Round(c.duration*videoFPS)), minFramesPerClip), maxFramesPerClip)
		base := randomColour(newRNG("clip", c.text))
		words := strings.Fields(c.text)
		for k := range n {
			if len(anim.Image) >= maxVideoFrames {
				return anim
			}
			anim.Image = append(anim.Image, renderFrame(base, words, k, n, w, h))
			anim.Delay = append(anim.Delay, frameDelay)
		}
	}
	return anim
}

// Palette indices of a video frame.
const (
	frameBackground = iota
	frameWord
	frameBar
	frameTrack
)

func renderFrame(base color.RGBA, words []string, k, n, w, h int) *image.Paletted {
	black := color.RGBA{A: 255}
	white := color.RGBA{R: 255, G: 255, B: 255, A: 255}
	progress := float64(k+1) / float64(n)
	pal := color.Palette{
		frameBackground: mix(black, base, 0.6+0.4*progress),
		frameWord:       mix(base, white, 0.75),
		frameBar:        white,
		frameTrack:      mix(base, black, 0.6),
	}
	img := image.NewPaletted(image.Rect(0, 0, w, h), pal) // all frameBackground

	// Words appear one after another as the clip plays, laid out in lines like a caption.
	visible := int(math.Ceil(progress * float64(len(words))))
	const margin, blockHeight, lineHeight, gap, charWidth = 8, 8, 14, 4, 4
	x, y := margin, h/4
	for _, word := range words[:visible] {
		bw := min(len([]rune(word))*charWidth, w-2*margin)
		if x+bw > w-margin {
			x, y = margin, y+lineHeight
		}
		if y+blockHeight > h-2*margin {
			break
		}
		fillRect(img, image.Rect(x, y, x+bw, y+blockHeight), frameWord)
		x += bw + gap
	}

	barTop := h - margin - 4
	fillRect(img, image.Rect(0, barTop, w, barTop+4), frameTrack)
	fillRect(img, image.Rect(0, barTop, int(progress*float64(w)), barTop+4), frameBar)
	return img
}

func encodeGIF(anim *gif.GIF) ([]byte, error) {
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, anim); err != nil {
		return nil, encodeError("gif", err)
	}
	return buf.Bytes(), nil
}
