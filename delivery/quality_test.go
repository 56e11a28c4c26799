package delivery

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/distributed-electrons/electrons"
)

func pngOf(t *testing.T, w, h int, flatColour bool) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(x * 7), uint8(y * 13), uint8(x ^ y), 255}
			if flatColour {
				c = color.NRGBA{10, 20, 30, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 31)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gifOf(t *testing.T, w, h, frames int) []byte {
	t.Helper()
	g := &gif.GIF{}
	for f := range frames {
		img := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		for i := range img.Pix {
			img.Pix[i] = uint8(i + f*17)
		}
		g.Image = append(g.Image, img)
		g.Delay = append(g.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// wavOf returns a 16-bit mono PCM WAV of n samples at rate Hz.
func wavOf(n int, rate uint32) []byte {
	var b bytes.Buffer
	data := make([]byte, 2*n)
	for i := range n {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(int16(3000*math.Sin(float64(i)/8))))
	}
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), rate, rate * 2, uint16(2), uint16(16)} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

// box returns an ISO BMFF box.
func box(typ string, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint32(b, uint32(8+len(payload)))
	copy(b[4:], typ)
	return append(b, payload...)
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// webpVP8L returns the header of a lossless WebP of w×h.
func webpVP8L(w, h int) []byte {
	bits := uint32(w-1) | uint32(h-1)<<14
	payload := []byte{0x2f, byte(bits), byte(bits >> 8), byte(bits >> 16), byte(bits >> 24), 0, 0, 0, 0, 0}
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(4+8+len(payload)))
	b.WriteString("WEBPVP8L")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(payload)))
	b.Write(payload)
	return b.Bytes()
}

func TestAssess(t *testing.T) {
	t.Parallel()
	const (
		approved = electrons.VerdictApproved
		review   = electrons.VerdictReview
		rejected = electrons.VerdictRejected
	)
	prose := "Distributed systems fail in partial ways. A queue decouples the producer from the consumer, " +
		"so that a slow provider does not stall intake, and retries with jitter keep a recovering service from a thundering herd."
	bigPNG := pngOf(t, 64, 48, false)
	mp4 := concat(box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2mp41")), box("moov", make([]byte, 64)), box("mdat", make([]byte, 256)))
	img := func(ct string, data []byte) []ArtifactData { return []ArtifactData{{ContentType: ct, Data: data}} }

	tests := []struct {
		name      string
		task      electrons.TaskType
		text      string
		files     []ArtifactData
		items     int
		want      electrons.Verdict
		wantScore float64 // checked when not zero
		reason    string  // a substring of some reason, when not empty
	}{
		// text
		{"text prose", electrons.TaskText, prose, nil, 0, approved, 1, ""},
		{"text empty", electrons.TaskText, "", nil, 0, rejected, 0, "empty"},
		{"text blank", electrons.TaskText, " \n\t ", nil, 0, rejected, 0, "empty"},
		{"text two words", electrons.TaskText, "Paris, France.", nil, 0, review, 0, "only 2 word"},
		{"text short sentence", electrons.TaskText, "The capital is Paris.", nil, 0, approved, 1, ""},
		{"text no final punctuation", electrons.TaskText, "The capital is Paris", nil, 0, approved, 0.95, "punctuation"},
		{"text trailing comma", electrons.TaskText, prose + " Moreover,", nil, 0, review, 0, "mid-sentence"},
		{"text dangling word", electrons.TaskText, "Retries use jitter and the", nil, 0, review, 0, "dangling"},
		{"text open code block", electrons.TaskText, "Here is the code:\n```go\nfunc main() {\n\tfmt.Println(1)\n}", nil, 0, review, 0, "code block"},
		{"text closed code block", electrons.TaskText, "Here is the code:\n```go\nfunc main() {}\n```", nil, 0, approved, 0, ""},
		{"text loop", electrons.TaskText, strings.Repeat("I am a helpful assistant. ", 20), nil, 0, review, 0, "repeats itself"},
		{"text one word thrice", electrons.TaskText, "ok ok ok", nil, 0, review, 0, "one word"},
		{"text invalid utf8", electrons.TaskText, prose + " caf\xc3", nil, 0, review, 0, "UTF-8"},

		// image
		{"image png", electrons.TaskImage, "", img("image/png", bigPNG), 0, approved, 1, ""},
		{"image png with params", electrons.TaskImage, "", img("image/png; charset=binary", bigPNG), 0, approved, 1, ""},
		{"image jpeg", electrons.TaskImage, "", img("image/jpeg", jpegOf(t, 32, 32)), 0, approved, 1, ""},
		{"image gif", electrons.TaskImage, "", img("image/gif", gifOf(t, 20, 20, 1)), 0, approved, 1, ""},
		{"image webp", electrons.TaskImage, "", img("image/webp", webpVP8L(512, 256)), 0, approved, 1, ""},
		{"image mislabelled", electrons.TaskImage, "", img("image/jpeg", bigPNG), 0, approved, 0.9, "labelled"},
		{"image flat", electrons.TaskImage, "", img("image/png", pngOf(t, 32, 32, true)), 0, approved, 0.7, "flat"},
		{"image none", electrons.TaskImage, "", nil, 0, rejected, 0, "no image"},
		{"image empty", electrons.TaskImage, "", img("image/png", nil), 0, rejected, 0, "empty"},
		{"image garbage", electrons.TaskImage, "", img("image/png", []byte("<html>quota exceeded</html>")), 0, rejected, 0, "does not decode"},
		{"image tiny", electrons.TaskImage, "", img("image/png", pngOf(t, 8, 8, false)), 0, rejected, 0, "smaller than 16x16"},
		{"image thin", electrons.TaskImage, "", img("image/png", pngOf(t, 200, 15, false)), 0, rejected, 0, "smaller"},
		{"image tiny webp", electrons.TaskImage, "", img("image/webp", webpVP8L(8, 8)), 0, rejected, 0, "smaller"},
		{"image truncated png", electrons.TaskImage, "", img("image/png", bigPNG[:len(bigPNG)/2]), 0, rejected, 0, "truncated"},
		{"image truncated gif", electrons.TaskImage, "", img("image/gif", func() []byte { g := gifOf(t, 32, 32, 1); return g[:len(g)-40] }()), 0, rejected, 0, "truncated"},
		{"image one bad of two", electrons.TaskImage, "", []ArtifactData{{"image/png", bigPNG}, {"image/png", []byte("x")}}, 0, rejected, 0, "file 2:"},

		// audio
		{"audio wav", electrons.TaskAudio, "", img("audio/wav", wavOf(8000, 16000)), 0, approved, 1, ""},
		{"audio wav sniffed", electrons.TaskAudio, "", img("application/octet-stream", wavOf(8000, 16000)), 0, approved, 1, ""},
		{"audio wav no samples", electrons.TaskAudio, "", img("audio/wav", wavOf(0, 16000)), 0, rejected, 0, "no samples"},
		{"audio wav very short", electrons.TaskAudio, "", img("audio/wav", wavOf(100, 16000)), 0, review, 0, "lasts only"},
		{"audio wav truncated", electrons.TaskAudio, "", img("audio/wav", wavOf(8000, 16000)[:8000]), 0, approved, 0.9, "shorter than its header"},
		{"audio wav header only", electrons.TaskAudio, "", img("audio/wav", wavOf(8000, 16000)[:20]), 0, rejected, 0, "not a valid WAV"},
		{"audio wav not riff", electrons.TaskAudio, "", img("audio/wav", []byte("not a wav file at all")), 0, rejected, 0, "not a valid WAV"},
		{"audio mp3", electrons.TaskAudio, "", img("audio/mpeg", append([]byte("ID3\x04\x00"), make([]byte, 4000)...)), 0, approved, 1, ""},
		{"audio mp3 frames", electrons.TaskAudio, "", img("audio/mpeg", append([]byte{0xff, 0xfb, 0x90, 0x64}, make([]byte, 4000)...)), 0, approved, 1, ""},
		{"audio mp3 not mp3", electrons.TaskAudio, "", img("audio/mpeg", bytes.Repeat([]byte("{json}"), 100)), 0, review, 0, "no ID3"},
		{"audio mp3 tiny", electrons.TaskAudio, "", img("audio/mpeg", []byte("ID3")), 0, rejected, 0, "implausibly small"},
		{"audio ogg", electrons.TaskAudio, "", img("audio/ogg", append([]byte("OggS"), make([]byte, 500)...)), 0, approved, 1, ""},
		{"audio unknown", electrons.TaskAudio, "", img("audio/x-custom", make([]byte, 500)), 0, approved, 0.9, "not verified"},
		{"audio empty", electrons.TaskAudio, "", img("audio/mpeg", nil), 0, rejected, 0, "empty"},
		{"audio none", electrons.TaskAudio, "", nil, 0, rejected, 0, "no audio"},

		// video
		{"video gif", electrons.TaskVideo, "", img("image/gif", gifOf(t, 32, 24, 4)), 0, approved, 1, ""},
		{"video gif one frame", electrons.TaskVideo, "", img("image/gif", gifOf(t, 32, 24, 1)), 0, review, 0, "single frame"},
		{"video gif tiny", electrons.TaskVideo, "", img("image/gif", gifOf(t, 8, 8, 3)), 0, rejected, 0, "smaller"},
		{"video gif truncated", electrons.TaskVideo, "", img("image/gif", func() []byte { g := gifOf(t, 32, 32, 3); return g[:len(g)/2] }()), 0, rejected, 0, "truncated"},
		{"video mp4", electrons.TaskVideo, "", img("video/mp4", mp4), 0, approved, 1, ""},
		{"video mp4 no moov", electrons.TaskVideo, "", img("video/mp4", concat(box("ftyp", []byte("isom\x00\x00\x02\x00")), box("mdat", make([]byte, 256)))), 0, review, 0, "no moov"},
		{"video mp4 truncated", electrons.TaskVideo, "", img("video/mp4", mp4[:len(mp4)-100]), 0, review, 0, "runs past the end"},
		{"video mp4 malformed", electrons.TaskVideo, "", img("video/mp4", concat(box("ftyp", []byte("isom")), []byte{0, 0, 0, 3, 'b', 'a', 'd', '!'})), 0, rejected, 0, "malformed"},
		{"video mp4 no ftyp", electrons.TaskVideo, "", img("video/mp4", make([]byte, 1000)), 0, rejected, 0, "no ftyp"},
		{"video webm", electrons.TaskVideo, "", img("video/webm", append([]byte{0x1a, 0x45, 0xdf, 0xa3}, make([]byte, 500)...)), 0, approved, 1, ""},
		{"video unknown", electrons.TaskVideo, "", img("video/x-custom", make([]byte, 1000)), 0, review, 0, "not verified"},
		{"video empty", electrons.TaskVideo, "", img("video/mp4", nil), 0, rejected, 0, "empty"},
		{"video none", electrons.TaskVideo, "", nil, 0, rejected, 0, "no video"},

		// stock media
		{"stock items", electrons.TaskStockMedia, "", nil, 5, approved, 1, ""},
		{"stock none", electrons.TaskStockMedia, "", nil, 0, review, 0, "no items"},
		{"stock with downloads", electrons.TaskStockMedia, "", []ArtifactData{{"image/jpeg", jpegOf(t, 40, 30)}, {"video/mp4", mp4}}, 2, approved, 1, ""},
		{"stock bad download", electrons.TaskStockMedia, "", img("image/jpeg", []byte("nope")), 1, rejected, 0, "file 1:"},

		{"unknown task", electrons.TaskType("poem"), "a b c", nil, 0, review, 0, "unknown task type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := Assess(tt.task, tt.text, tt.files, tt.items)
			if q.Verdict != tt.want {
				t.Fatalf("verdict %s, want %s (score %.2f, reasons %q)", q.Verdict, tt.want, q.Score, q.Reasons)
			}
			if q.Score < 0 || q.Score > 1 {
				t.Fatalf("score %v out of [0, 1]", q.Score)
			}
			if tt.wantScore != 0 && math.Abs(q.Score-tt.wantScore) > 1e-9 {
				t.Fatalf("score %.2f, want %.2f (reasons %q)", q.Score, tt.wantScore, q.Reasons)
			}
			if q.Reasons == nil {
				t.Fatal("nil reasons")
			}
			if tt.want != approved && len(q.Reasons) == 0 {
				t.Fatal("a deduction without a reason")
			}
			if tt.want == approved && tt.wantScore == 1 && len(q.Reasons) != 0 {
				t.Fatalf("reasons %q for a perfect score", q.Reasons)
			}
			if tt.reason != "" && !strings.Contains(strings.Join(q.Reasons, "\n"), tt.reason) {
				t.Fatalf("reasons %q do not mention %q", q.Reasons, tt.reason)
			}
			if tt.want == rejected && q.Score != 0 {
				t.Fatalf("rejected with score %.2f", q.Score)
			}
		})
	}
}

// FuzzAssess checks that no file, however malformed, makes the quality gate panic.
func FuzzAssess(f *testing.F) {
	f.Add([]byte("GIF89a\x10\x00\x10\x00\x80\x00\x00"), "image/gif")
	f.Add(wavOf(10, 8000), "audio/wav")
	f.Add(box("ftyp", []byte("isom")), "video/mp4")
	f.Add(webpVP8L(20, 20), "image/webp")
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8X"), "image/webp")
	f.Fuzz(func(t *testing.T, data []byte, ct string) {
		files := []ArtifactData{{ContentType: ct, Data: data}}
		for _, task := range electrons.TaskTypes {
			q := Assess(task, string(data), files, 1)
			if q.Score < 0 || q.Score > 1 || q.Reasons == nil {
				t.Fatalf("%s: %+v", task, q)
			}
		}
	})
}

func TestAssessCutAtLimit(t *testing.T) {
	t.Parallel()
	text := "The lighthouse keeper counted the waves and the"
	if q := Assess(electrons.TaskText, text, nil, 0); q.Verdict != electrons.VerdictReview {
		t.Fatalf("uncut dangling text: %s, want review", q.Verdict)
	}
	if q := AssessCut(electrons.TaskText, text, nil, 0, true); q.Verdict != electrons.VerdictApproved || q.Score < 0.9 {
		t.Fatalf("text cut at max_tokens: %+v, want approved", q)
	}
	if q := AssessCut(electrons.TaskText, "", nil, 0, true); q.Verdict != electrons.VerdictRejected {
		t.Fatalf("empty text cut at max_tokens: %s, want rejected", q.Verdict)
	}
}
