package local

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image/gif"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

func generate(t *testing.T, p *Provider, call providers.Call) *providers.Output {
	t.Helper()
	out, err := p.Generate(context.Background(), call)
	if err != nil {
		t.Fatalf("Generate(%s): %v", call.TaskType, err)
	}
	return out
}

func wantCode(t *testing.T, err error, code electrons.Code, param string) *electrons.Error {
	t.Helper()
	var e *electrons.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want an *electrons.Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s, want %s (%v)", e.Code, code, err)
	}
	if e.Param != param {
		t.Fatalf("param = %q, want %q", e.Param, param)
	}
	return e
}

func oneFile(t *testing.T, out *providers.Output, contentType string) []byte {
	t.Helper()
	if len(out.Files) != 1 {
		t.Fatalf("got %d files, want 1", len(out.Files))
	}
	if got := out.Files[0].ContentType; got != contentType {
		t.Fatalf("content type = %q, want %q", got, contentType)
	}
	return out.Files[0].Data
}

func TestName(t *testing.T) {
	t.Parallel()
	if got := New().Name(); got != "local" {
		t.Fatalf("Name() = %q, want local", got)
	}
}

func TestTextDeterministic(t *testing.T) {
	t.Parallel()
	p := New()
	for _, in := range []electrons.Input{
		{Prompt: "Write a haiku about autumn rain"},
		{Prompt: "Summarise the history of distributed queues", System: "You are terse."},
		{System: "Only a system prompt"},
		{Prompt: "a b c"}, // no usable keywords: fallback topics
		{Prompt: "数据 队列 消息"},
	} {
		t.Run(in.Prompt+in.System, func(t *testing.T) {
			t.Parallel()
			call := providers.Call{TaskType: electrons.TaskText, Model: ModelText, Input: in}
			a, b := generate(t, p, call), generate(t, p, call)
			if a.Text == "" {
				t.Fatal("empty text")
			}
			if a.Text != b.Text {
				t.Fatalf("same input, different text:\n%q\n%q", a.Text, b.Text)
			}
			other := call
			other.Input.Prompt += " and more"
			if generate(t, p, other).Text == a.Text {
				t.Fatal("different input, same text")
			}
		})
	}
}

func TestTextFollowsPrompt(t *testing.T) {
	t.Parallel()
	out := generate(t, New(), providers.Call{TaskType: electrons.TaskText, Input: electrons.Input{Prompt: "Tell me about lighthouses and harbours"}})
	if !strings.Contains(out.Text, "lighthouses") || !strings.Contains(out.Text, "harbours") {
		t.Fatalf("text does not mention the prompt's subject: %q", out.Text)
	}
}

func TestTextMaxTokens(t *testing.T) {
	t.Parallel()
	prompt := "Explain how rate limiting protects providers from overload in busy distributed systems"
	for _, tc := range []struct {
		maxTokens int
		exact     bool // the natural length exceeds the cap, so the cap is reached
		limit     int
	}{
		{maxTokens: 0, limit: defaultMaxTokens},
		{maxTokens: 1, exact: true, limit: 1},
		{maxTokens: 7, exact: true, limit: 7},
		{maxTokens: 40, exact: true, limit: 40},
		{maxTokens: 5000, limit: maxNaturalWords},
	} {
		t.Run(fmt.Sprint(tc.maxTokens), func(t *testing.T) {
			t.Parallel()
			out := generate(t, New(), providers.Call{TaskType: electrons.TaskText,
				Input: electrons.Input{Prompt: prompt, MaxTokens: tc.maxTokens}})
			n := len(strings.Fields(out.Text))
			if n > tc.limit || n == 0 || (tc.exact && n != tc.limit) {
				t.Fatalf("%d words for max_tokens %d", n, tc.maxTokens)
			}
			if out.Usage == nil || out.Usage.OutputTokens != n {
				t.Fatalf("usage = %+v, want %d output tokens", out.Usage, n)
			}
			if want := len(strings.Fields(prompt)); out.Usage.InputTokens != want {
				t.Fatalf("input tokens = %d, want %d", out.Usage.InputTokens, want)
			}
		})
	}
}

func TestTextDeltas(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts map[string]any
	}{
		{"immediate", nil},
		{"paced", map[string]any{"stream_chunk_delay_ms": float64(1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var deltas []string
			call := providers.Call{TaskType: electrons.TaskText,
				Input:   electrons.Input{Prompt: "stream a story about a lighthouse keeper", System: "be vivid", MaxTokens: 60, Options: tc.opts},
				OnDelta: func(s string) { deltas = append(deltas, s) }}
			out := generate(t, New(), call)
			if len(deltas) < 10 {
				t.Fatalf("%d deltas, want many", len(deltas))
			}
			if got := strings.Join(deltas, ""); got != out.Text {
				t.Fatalf("deltas concatenate to\n%q\nnot\n%q", got, out.Text)
			}
			for _, d := range deltas {
				if n := len(strings.Fields(d)); n < 1 || n > 3 {
					t.Fatalf("delta %q has %d words", d, n)
				}
			}
			call.OnDelta = nil
			if again := generate(t, New(), call); again.Text != out.Text {
				t.Fatal("streaming changed the text")
			}
		})
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		task  electrons.TaskType
		in    electrons.Input
		param string
	}{
		{"text without prompt", electrons.TaskText, electrons.Input{Prompt: "  "}, "input.prompt"},
		{"negative max_tokens", electrons.TaskText, electrons.Input{Prompt: "x", MaxTokens: -1}, "input.max_tokens"},
		{"image without prompt", electrons.TaskImage, electrons.Input{}, "input.prompt"},
		{"audio without text", electrons.TaskAudio, electrons.Input{}, "input.prompt"},
		{"video without anything", electrons.TaskVideo, electrons.Input{Timeline: json.RawMessage(`{"clips":[]}`)}, "input.timeline"},
		{"video with broken timeline", electrons.TaskVideo, electrons.Input{Timeline: json.RawMessage(`{"clips":`)}, "input.timeline"},
		{"stock without query", electrons.TaskStockMedia, electrons.Input{Query: "the of"}, "input.query"},
		{"stock bad kind", electrons.TaskStockMedia, electrons.Input{Query: "sea", Options: map[string]any{"kind": "audio"}}, "input.options.kind"},
		{"stock bad per_page", electrons.TaskStockMedia, electrons.Input{Query: "sea", Options: map[string]any{"per_page": float64(0)}}, "input.options.per_page"},
		{"stock fractional per_page", electrons.TaskStockMedia, electrons.Input{Query: "sea", Options: map[string]any{"per_page": 2.5}}, "input.options.per_page"},
		{"unknown task", electrons.TaskType("poetry"), electrons.Input{Prompt: "x"}, "task_type"},
		{"latency not a number", electrons.TaskText, electrons.Input{Prompt: "x", Options: map[string]any{"latency_ms": true}}, "input.options.latency_ms"},
		{"negative latency", electrons.TaskText, electrons.Input{Prompt: "x", Options: map[string]any{"latency_ms": float64(-5)}}, "input.options.latency_ms"},
		{"fail not a string", electrons.TaskText, electrons.Input{Prompt: "x", Options: map[string]any{"fail": 3.0}}, "input.options.fail"},
		{"negative fail_times", electrons.TaskText, electrons.Input{Prompt: "x", Options: map[string]any{"fail": "server", "fail_times": float64(-1)}}, "input.options.fail_times"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New().Generate(context.Background(), providers.Call{TaskType: tc.task, Input: tc.in})
			wantCode(t, err, electrons.CodeInvalidRequest, tc.param)
		})
	}
}

func TestImageSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		size string
		w, h int
	}{
		{"", 1024, 1024},
		{"64x32", 64, 32},
		{"16x16", 16, 16},
		{"4096x16", 4096, 16},
		{"300X200", 300, 200},
		{"0512x0256", 512, 256},
	} {
		t.Run(tc.size, func(t *testing.T) {
			t.Parallel()
			out := generate(t, New(), providers.Call{TaskType: electrons.TaskImage, Model: ModelImage,
				Input: electrons.Input{Prompt: "a red fox in the snow", Size: tc.size}})
			img, err := png.Decode(bytes.NewReader(oneFile(t, out, "image/png")))
			if err != nil {
				t.Fatalf("decode png: %v", err)
			}
			if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Fatalf("bounds = %v, want %dx%d", b, tc.w, tc.h)
			}
		})
	}
}

func TestImageSizeInvalid(t *testing.T) {
	t.Parallel()
	for _, size := range []string{"15x16", "16x15", "4097x100", "100x4097", "abc", "10x", "x10", "-20x20",
		"+20x20", "20x20x20", "20 x 20", "1e3x100", "99999999999999999999x1"} {
		t.Run(size, func(t *testing.T) {
			t.Parallel()
			_, err := New().Generate(context.Background(), providers.Call{TaskType: electrons.TaskImage,
				Input: electrons.Input{Prompt: "x", Size: size}})
			wantCode(t, err, electrons.CodeInvalidRequest, "input.size")
		})
	}
}

func TestImageDeterministic(t *testing.T) {
	t.Parallel()
	p := New()
	call := providers.Call{TaskType: electrons.TaskImage, Input: electrons.Input{Prompt: "a lighthouse at dusk", Size: "128x96"}}
	a, b := generate(t, p, call), generate(t, p, call)
	if !bytes.Equal(a.Files[0].Data, b.Files[0].Data) {
		t.Fatal("same prompt, different images")
	}
	call.Input.Prompt = "a lighthouse at dawn"
	if bytes.Equal(a.Files[0].Data, generate(t, p, call).Files[0].Data) {
		t.Fatal("different prompts, same image")
	}
}

// wavHeader is the canonical 44-byte header encodeWAV writes.
type wavHeader struct {
	RIFF          [4]byte
	ChunkSize     uint32
	WAVE          [4]byte
	Fmt           [4]byte
	FmtSize       uint32
	Format        uint16
	Channels      uint16
	SampleRate    uint32
	ByteRate      uint32
	BlockAlign    uint16
	BitsPerSample uint16
	Data          [4]byte
	DataSize      uint32
}

func parseWAV(t *testing.T, data []byte) (wavHeader, time.Duration) {
	t.Helper()
	var h wavHeader
	if err := binary.Read(bytes.NewReader(data), binary.LittleEndian, &h); err != nil {
		t.Fatalf("read wav header: %v", err)
	}
	if string(h.RIFF[:]) != "RIFF" || string(h.WAVE[:]) != "WAVE" || string(h.Fmt[:]) != "fmt " || string(h.Data[:]) != "data" {
		t.Fatalf("not a canonical WAV header: %+v", h)
	}
	if h.Format != 1 || h.Channels != 1 || h.BitsPerSample != 16 || h.SampleRate != sampleRate ||
		h.ByteRate != sampleRate*2 || h.BlockAlign != 2 {
		t.Fatalf("not 16-bit mono PCM at %d Hz: %+v", sampleRate, h)
	}
	if int(h.ChunkSize) != len(data)-8 || int(h.DataSize) != len(data)-wavHeaderSize {
		t.Fatalf("sizes %d/%d disagree with file length %d", h.ChunkSize, h.DataSize, len(data))
	}
	samples := int(h.DataSize) / int(h.BlockAlign)
	return h, time.Duration(samples) * time.Second / time.Duration(h.SampleRate)
}

func TestAudioDuration(t *testing.T) {
	t.Parallel()
	p := New()
	last := time.Duration(0)
	for _, tc := range []struct {
		text string
		want time.Duration
	}{
		{"Hi", minAudio},
		{"Hey you", minAudio},
		{strings.Repeat("hello world ", 5), 59 * noteDuration}, // trimmed: 59 characters
		{strings.Repeat("hello world ", 20), 239 * noteDuration},
		{strings.Repeat("hello world ", 200), maxAudio},
	} {
		out := generate(t, p, providers.Call{TaskType: electrons.TaskAudio, Model: ModelAudio,
			Input: electrons.Input{Prompt: tc.text, Voice: "alloy"}})
		_, d := parseWAV(t, oneFile(t, out, "audio/wav"))
		if d != tc.want {
			t.Fatalf("%d characters: duration %v, want %v", len(tc.text), d, tc.want)
		}
		if d < last {
			t.Fatalf("duration shrank from %v to %v as the text grew", last, d)
		}
		last = d
	}
}

func TestAudioIsNotSilent(t *testing.T) {
	t.Parallel()
	p := New()
	call := providers.Call{TaskType: electrons.TaskAudio, Input: electrons.Input{Prompt: "Good morning, everyone."}}
	data := oneFile(t, generate(t, p, call), "audio/wav")
	loud := 0
	for i := wavHeaderSize; i+1 < len(data); i += 2 {
		if s := int16(binary.LittleEndian.Uint16(data[i:])); s > 1000 || s < -1000 {
			loud++
		}
	}
	if loud < len(data)/20 {
		t.Fatalf("only %d loud samples", loud)
	}
	call.Input.Voice = "onyx"
	if bytes.Equal(data, oneFile(t, generate(t, p, call), "audio/wav")) {
		t.Fatal("the voice does not change the audio")
	}
}

func decodeGIF(t *testing.T, data []byte) *gif.GIF {
	t.Helper()
	g, err := gif.DecodeAll(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode gif: %v", err)
	}
	return g
}

func TestVideo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		in        electrons.Input
		minFrames int
	}{
		{"clips", electrons.Input{Timeline: json.RawMessage(`{"clips":[{"text":"Welcome","duration":1.5},{"text":"to the show","duration":2}]}`)}, 17},
		{"shotstack", electrons.Input{Timeline: json.RawMessage(`{"timeline":{"tracks":[{"clips":[{"asset":{"type":"title","text":"Hello"},"start":0,"length":1},{"asset":{"type":"title","text":"World"},"start":1,"length":1}]}]}}`)}, 10},
		{"bare array", electrons.Input{Timeline: json.RawMessage(`["one","two","three"]`)}, 30},
		{"prompt", electrons.Input{Prompt: "A sunrise. Birds wake up! The day begins?"}, 3 * minFramesPerClip},
		{"unknown timeline shape falls back to the prompt", electrons.Input{Prompt: "One scene", Timeline: json.RawMessage(`{"scenes":42}`)}, minFramesPerClip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := generate(t, New(), providers.Call{TaskType: electrons.TaskVideo, Model: ModelVideo, Input: tc.in})
			g := decodeGIF(t, oneFile(t, out, "image/gif"))
			if len(g.Image) < tc.minFrames || len(g.Image) < 2 {
				t.Fatalf("%d frames, want at least %d", len(g.Image), tc.minFrames)
			}
			if g.Config.Width != videoWidth || g.Config.Height != videoHeight {
				t.Fatalf("size %dx%d", g.Config.Width, g.Config.Height)
			}
			for i, d := range g.Delay {
				if d <= 0 {
					t.Fatalf("frame %d has delay %d", i, d)
				}
			}
		})
	}
}

func TestVideoBounded(t *testing.T) {
	t.Parallel()
	var clips []map[string]any
	for i := range 500 {
		clips = append(clips, map[string]any{"text": fmt.Sprint("clip ", i), "duration": 1e9})
	}
	raw, _ := json.Marshal(map[string]any{"clips": clips})
	out := generate(t, New(), providers.Call{TaskType: electrons.TaskVideo, Input: electrons.Input{Timeline: raw}})
	if g := decodeGIF(t, out.Files[0].Data); len(g.Image) > maxVideoFrames {
		t.Fatalf("%d frames, cap is %d", len(g.Image), maxVideoFrames)
	}
}

func TestStockSearch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		in      electrons.Input
		count   int
		kind    string // every item is of this kind, when set
		firstID string
	}{
		{"default page", electrons.Input{Query: "mountain landscape"}, 5, "", "local-photo-01"},
		{"plural and kind", electrons.Input{Query: "mountains", Options: map[string]any{"kind": "video"}}, 1, kindVideo, "local-video-02"},
		{"photos only", electrons.Input{Query: "city night", Options: map[string]any{"kind": "photo", "per_page": float64(2)}}, 2, kindPhoto, "local-photo-05"},
		{"big page", electrons.Input{Query: "water sea forest city food", Options: map[string]any{"per_page": float64(80)}}, 17, "", ""},
		{"no match", electrons.Input{Query: "submarine"}, 0, "", ""},
		{"query from prompt", electrons.Input{Prompt: "coffee"}, 2, "", "local-photo-07"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := generate(t, New(), providers.Call{TaskType: electrons.TaskStockMedia, Model: ModelStock, Input: tc.in})
			if out.Items == nil {
				t.Fatal("items is nil, want a list")
			}
			if len(out.Items) != tc.count {
				t.Fatalf("%d items, want %d: %+v", len(out.Items), tc.count, out.Items)
			}
			if tc.firstID != "" && out.Items[0].ID != tc.firstID {
				t.Fatalf("first item %s, want %s", out.Items[0].ID, tc.firstID)
			}
			for _, it := range out.Items {
				if tc.kind != "" && it.Kind != tc.kind {
					t.Fatalf("item %s is a %s", it.ID, it.Kind)
				}
				if !strings.HasPrefix(it.URL, "https://stock.local/") || it.Width == 0 || it.Author == "" {
					t.Fatalf("incomplete item %+v", it)
				}
				if (it.Kind == kindVideo) != (it.DurationS > 0) {
					t.Fatalf("item %s: kind %s with duration %d", it.ID, it.Kind, it.DurationS)
				}
			}
			if len(out.Files) != 0 {
				t.Fatalf("%d files without download", len(out.Files))
			}
		})
	}
}

func TestStockDownload(t *testing.T) {
	t.Parallel()
	out := generate(t, New(), providers.Call{TaskType: electrons.TaskStockMedia,
		Input: electrons.Input{Query: "dog cat beach sea", Download: true, Options: map[string]any{"per_page": float64(6)}}})
	if len(out.Files) != len(out.Items) || len(out.Items) != 6 {
		t.Fatalf("%d files for %d items", len(out.Files), len(out.Items))
	}
	kinds := map[string]bool{}
	for i, it := range out.Items {
		f := out.Files[i]
		if it.ContentType != f.ContentType {
			t.Fatalf("item %s says %s, file is %s", it.ID, it.ContentType, f.ContentType)
		}
		kinds[it.Kind] = true
		switch it.Kind {
		case kindPhoto:
			img, err := png.Decode(bytes.NewReader(f.Data))
			if err != nil {
				t.Fatalf("item %s: decode png: %v", it.ID, err)
			}
			if w := img.Bounds().Dx(); w != thumbnailWidth {
				t.Fatalf("thumbnail width %d", w)
			}
		case kindVideo:
			if g := decodeGIF(t, f.Data); len(g.Image) < 2 {
				t.Fatalf("item %s: %d frames", it.ID, len(g.Image))
			}
		}
	}
	if !kinds[kindPhoto] || !kinds[kindVideo] {
		t.Fatalf("want both photos and videos, got %v", kinds)
	}
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	if len(catalogue) < 25 {
		t.Fatalf("%d catalogue items", len(catalogue))
	}
	ids := map[string]bool{}
	for _, it := range catalogue {
		if ids[it.ID] {
			t.Fatalf("duplicate id %s", it.ID)
		}
		ids[it.ID] = true
		if (it.Kind != kindPhoto && it.Kind != kindVideo) || it.Title == "" || len(it.Tags) == 0 ||
			it.Width <= 0 || it.Height <= 0 || it.Author == "" || !strings.HasPrefix(it.AuthorURL, "https://") ||
			!strings.HasPrefix(it.URL, "https://stock.local/") || (it.Kind == kindVideo) != (it.Duration > 0) {
			t.Fatalf("bad catalogue item %+v", it)
		}
	}
}

func TestFail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fail       string
		extra      map[string]any
		code       electrons.Code
		retryAfter time.Duration
	}{
		{fail: "rate_limit", code: electrons.CodeRateLimited, retryAfter: time.Second},
		{fail: "rate_limit", extra: map[string]any{"retry_after_ms": float64(2500)}, code: electrons.CodeRateLimited, retryAfter: 2500 * time.Millisecond},
		{fail: "server", code: electrons.CodeServerError},
		{fail: "timeout", code: electrons.CodeTimeout},
		{fail: "explode", code: electrons.CodeInvalidRequest},
	} {
		for _, task := range electrons.TaskTypes {
			t.Run(tc.fail+"/"+string(task), func(t *testing.T) {
				t.Parallel()
				opts := map[string]any{"fail": tc.fail}
				for k, v := range tc.extra {
					opts[k] = v
				}
				_, err := New().Generate(context.Background(), providers.Call{TaskType: task,
					Input: electrons.Input{Prompt: "x", Query: "sea", Options: opts}})
				param := ""
				if tc.code == electrons.CodeInvalidRequest {
					param = "input.options.fail"
				}
				e := wantCode(t, err, tc.code, param)
				if e.RetryAfter != tc.retryAfter {
					t.Fatalf("retry after %v, want %v", e.RetryAfter, tc.retryAfter)
				}
			})
		}
	}
}

func TestFailBadOutput(t *testing.T) {
	t.Parallel()
	bad := map[string]any{"fail": "bad_output"}
	for _, tc := range []struct {
		task  electrons.TaskType
		in    electrons.Input
		check func(t *testing.T, out *providers.Output)
	}{
		{electrons.TaskText, electrons.Input{Prompt: "hello there", Options: bad}, func(t *testing.T, out *providers.Output) {
			if out.Text != "" {
				t.Fatalf("text %q, want empty", out.Text)
			}
		}},
		{electrons.TaskImage, electrons.Input{Prompt: "a cat", Size: "512x512", Options: bad}, func(t *testing.T, out *providers.Output) {
			img, err := png.Decode(bytes.NewReader(oneFile(t, out, "image/png")))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != 1 || b.Dy() != 1 {
				t.Fatalf("bounds %v, want 1x1", b)
			}
		}},
		{electrons.TaskAudio, electrons.Input{Prompt: "say something long enough", Options: bad}, func(t *testing.T, out *providers.Output) {
			if h, d := parseWAV(t, oneFile(t, out, "audio/wav")); h.DataSize != 0 || d != 0 {
				t.Fatalf("%d data bytes", h.DataSize)
			}
		}},
		{electrons.TaskVideo, electrons.Input{Prompt: "a film", Options: bad}, func(t *testing.T, out *providers.Output) {
			g := decodeGIF(t, oneFile(t, out, "image/gif"))
			if len(g.Image) != 1 || g.Image[0].Bounds().Dx() != 1 {
				t.Fatalf("%d frames of %v", len(g.Image), g.Image[0].Bounds())
			}
		}},
		{electrons.TaskStockMedia, electrons.Input{Query: "sea", Options: bad}, func(t *testing.T, out *providers.Output) {
			if len(out.Items) != 0 {
				t.Fatalf("%d items", len(out.Items))
			}
		}},
	} {
		t.Run(string(tc.task), func(t *testing.T) {
			t.Parallel()
			tc.check(t, generate(t, New(), providers.Call{TaskType: tc.task, Input: tc.in}))
		})
	}
}

func TestFailTimes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fail  string
		times any
	}{
		{"server", float64(2)},
		{"rate_limit", 3},
		{"timeout", json.Number("1")},
		{"bad_output", float64(2)},
		{"server", float64(0)},
	} {
		t.Run(fmt.Sprint(tc.fail, tc.times), func(t *testing.T) {
			t.Parallel()
			p := New()
			times, _, err := providers.OptionInt(map[string]any{"n": tc.times}, "n")
			if err != nil {
				t.Fatal(err)
			}
			call := func(id string) (*providers.Output, error) {
				return p.Generate(context.Background(), providers.Call{RequestID: id, TaskType: electrons.TaskText,
					Input: electrons.Input{Prompt: "retry me", Options: map[string]any{"fail": tc.fail, "fail_times": tc.times}}})
			}
			failed := func(out *providers.Output, err error) bool {
				return err != nil || out.Text == ""
			}
			for i := range times {
				if !failed(call("req_a")) {
					t.Fatalf("attempt %d succeeded, want failure", i+1)
				}
			}
			// Another request keeps its own count.
			if times > 0 && !failed(call("req_b")) {
				t.Fatal("a different request shared the counter")
			}
			for i := range 2 {
				if out, err := call("req_a"); failed(out, err) {
					t.Fatalf("attempt %d after the failures: %v", times+i+1, err)
				}
			}
		})
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	start := time.Now()
	generate(t, New(), providers.Call{TaskType: electrons.TaskText,
		Input: electrons.Input{Prompt: "slow", Options: map[string]any{"latency_ms": float64(30)}}})
	if elapsed := time.Since(start); elapsed < 30*time.Millisecond {
		t.Fatalf("answered after %v, before the latency", elapsed)
	}
}

func TestLatencyContextEnds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		target error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(10*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"already done", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := tc.ctx()
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := New().Generate(ctx, providers.Call{TaskType: electrons.TaskImage,
					Input: electrons.Input{Prompt: "never", Options: map[string]any{"latency_ms": float64(time.Hour / time.Millisecond)}}})
				done <- err
			}()
			select {
			case err := <-done:
				wantCode(t, err, electrons.CodeTimeout, "")
				if !errors.Is(err, tc.target) {
					t.Fatalf("error %v does not wrap %v", err, tc.target)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Generate did not return when its context ended")
			}
		})
	}
}

func TestStreamContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	deltas := 0
	_, err := New().Generate(ctx, providers.Call{TaskType: electrons.TaskText,
		Input:   electrons.Input{Prompt: "a long story", Options: map[string]any{"stream_chunk_delay_ms": float64(time.Hour / time.Millisecond)}},
		OnDelta: func(string) { deltas++; cancel() }})
	wantCode(t, err, electrons.CodeTimeout, "")
	if deltas != 1 {
		t.Fatalf("%d deltas before the cancel took effect", deltas)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	p := New()
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			task := electrons.TaskTypes[i%len(electrons.TaskTypes)]
			_, err := p.Generate(context.Background(), providers.Call{RequestID: fmt.Sprint("req_", i%4), TaskType: task,
				Input: electrons.Input{Prompt: fmt.Sprint("prompt ", i), Query: "sea", Size: "64x64",
					Options: map[string]any{"fail": "server", "fail_times": float64(2)}}})
			if err != nil && electrons.ErrorCode(err) != electrons.CodeServerError {
				t.Errorf("task %s: %v", task, err)
			}
		})
	}
	wg.Wait()
}

func TestCounterSweep(t *testing.T) {
	t.Parallel()
	p := New()
	old := time.Now().Add(-2 * counterIdleTTL)
	for i := range counterSweepAbove {
		p.attempts[fmt.Sprint("old_", i)] = &attemptCounter{failed: 1, lastSeen: old}
	}
	p.shouldFail("new", options{fail: failServer, hasFailTimes: true, failTimes: 1})
	if len(p.attempts) != 1 {
		t.Fatalf("%d counters after the sweep, want 1", len(p.attempts))
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"", "1024x1024", "16X16", "x", "0x0", "4096x4097", "+1x1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, h, err := parseSize(s)
		if err != nil {
			wantCode(t, err, electrons.CodeInvalidRequest, "input.size")
			return
		}
		if w < minImageSide || w > maxImageSide || h < minImageSide || h > maxImageSide {
			t.Fatalf("parseSize(%q) = %dx%d", s, w, h)
		}
	})
}

func FuzzTimeline(f *testing.F) {
	for _, s := range []string{`{"clips":[{"text":"a","duration":1}]}`, `[1,"x",{"length":-1}]`,
		`{"timeline":{"tracks":[{"clips":[{"asset":{"src":"s"}}]}]}}`, `null`, `{`} {
		f.Add(s, "prompt. two")
	}
	f.Fuzz(func(t *testing.T, timeline, prompt string) {
		clips, err := timelineClips(json.RawMessage(timeline), prompt)
		if err != nil {
			wantCode(t, err, electrons.CodeInvalidRequest, "input.timeline")
			return
		}
		if len(clips) == 0 || len(clips) > maxClips {
			t.Fatalf("%d clips", len(clips))
		}
		for _, c := range clips {
			if c.duration < minClipDuration || c.duration > maxClipDuration {
				t.Fatalf("clip duration %v", c.duration)
			}
		}
	})
}

func BenchmarkImage1024(b *testing.B) {
	p := New()
	call := providers.Call{TaskType: electrons.TaskImage, Input: electrons.Input{Prompt: "a benchmark of colour", Size: "1024x1024"}}
	for b.Loop() {
		if _, err := p.Generate(context.Background(), call); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRenderPollsUntilDone(t *testing.T) {
	t.Parallel()
	p := New()
	call := providers.Call{RequestID: "req_render", TaskType: electrons.TaskVideo,
		Input: electrons.Input{Prompt: "Waves. Sun.", Options: map[string]any{"render_polls": float64(3), "poll_after_ms": float64(10)}}}
	out, err := p.Generate(context.Background(), call)
	if err != nil || out.Pending == nil || out.Pending.PollAfter != 10*time.Millisecond {
		t.Fatalf("start: %+v %v", out, err)
	}
	for i := 1; i <= 3; i++ {
		out, err = p.Poll(context.Background(), call, out.Pending.Handle)
		if err != nil {
			t.Fatal(err)
		}
		if done := out.Pending == nil; done != (i == 3) {
			t.Fatalf("poll %d: done = %v", i, done)
		}
		if out.Pending == nil {
			break
		}
	}
	if len(out.Files) != 1 || out.Files[0].ContentType != "image/gif" {
		t.Fatalf("finished render: %+v", out)
	}
}
