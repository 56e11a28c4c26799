package delivery

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	_ "image/jpeg" // registers JPEG with image.Decode
	_ "image/png"  // registers PNG with image.Decode
	"math"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/distributed-electrons/electrons"
)

// ArtifactData is one output file as the quality gate sees it.
type ArtifactData struct {
	ContentType string
	Data        []byte
}

// Quality gate thresholds.
const (
	// MinImageSide is the smallest width and height of an acceptable image or video frame.
	MinImageSide = 16
	// MinTextWords is the fewest words of a text result that is approved without review.
	MinTextWords = 3
	// minAudioSeconds is the shortest WAV that is approved without review.
	minAudioSeconds = 0.1
	// minEncodedBytes is the smallest plausible compressed audio or video file.
	minEncodedBytes = 128
	// maxDecodeBytes and maxDecodePixels bound the full decodes, against decompression bombs.
	maxDecodeBytes  = 32 << 20
	maxDecodePixels = 4096 * 4096
)

// assessment accumulates deductions. The verdict is the most severe of the deductions'.
type assessment struct {
	score   float64
	verdict electrons.Verdict
	reasons []string
}

func severity(v electrons.Verdict) int {
	switch v {
	case electrons.VerdictReview:
		return 1
	case electrons.VerdictRejected:
		return 2
	}
	return 0
}

// deduct takes amount off the score, raises the verdict to at least v and records why.
func (a *assessment) deduct(amount float64, v electrons.Verdict, format string, args ...any) {
	a.score -= amount
	if severity(v) > severity(a.verdict) {
		a.verdict = v
	}
	a.reasons = append(a.reasons, fmt.Sprintf(format, args...)+fmt.Sprintf(" (-%.2f)", amount))
}

// prefixed returns a deduct that names the file it is about.
func (a *assessment) prefixed(prefix string) func(float64, electrons.Verdict, string, ...any) {
	return func(amount float64, v electrons.Verdict, format string, args ...any) {
		a.deduct(amount, v, prefix+format, args...)
	}
}

type deductFunc = func(amount float64, v electrons.Verdict, format string, args ...any)

// Assess is the quality gate: a first, honest heuristic scorer of a result. It returns a
// score in [0, 1], a verdict and one reason per deduction (an empty list when nothing was
// deducted).
//
//   - text: empty is rejected; fewer than 3 words, or text that looks cut off (an unclosed code
//     block, a trailing comma or dangling word, invalid UTF-8) or that repeats itself, goes to
//     review; anything else is approved, with small deductions for lesser doubts.
//   - image: every file must decode as PNG, JPEG or GIF (WebP: its header) and be at least
//     16x16, else the result is rejected.
//   - audio: a WAV must parse and hold samples; other formats must be non-empty and of a
//     plausible size, else the result is rejected.
//   - video: a GIF must decode, an MP4 must begin with an ftyp box, a WebM with its EBML
//     header; else the result is rejected. A single-frame GIF or an MP4 without moov goes to
//     review.
//   - stock_media: no items goes to review; downloaded files are checked as images or videos.
func Assess(task electrons.TaskType, text string, files []ArtifactData, items int) electrons.Quality {
	return AssessCut(task, text, files, items, false)
}

// AssessCut is Assess for an output the provider says it cut at the requested max_tokens: a text
// ending mid-sentence is then what the client asked for, and costs only a small deduction.
func AssessCut(task electrons.TaskType, text string, files []ArtifactData, items int, cutAtLimit bool) electrons.Quality {
	a := &assessment{score: 1, verdict: electrons.VerdictApproved, reasons: []string{}}
	switch task {
	case electrons.TaskText:
		assessText(a, text, cutAtLimit)
	case electrons.TaskImage:
		assessFiles(a, "image", files, assessImage)
	case electrons.TaskAudio:
		assessFiles(a, "audio", files, assessAudio)
	case electrons.TaskVideo:
		assessFiles(a, "video", files, assessVideo)
	case electrons.TaskStockMedia:
		if items <= 0 {
			a.deduct(0.6, electrons.VerdictReview, "the search returned no items")
		}
		for i, f := range files {
			d := a.prefixed(fmt.Sprintf("file %d: ", i+1))
			switch {
			case strings.HasPrefix(f.ContentType, "video/"):
				assessVideo(d, f)
			default:
				assessImage(d, f)
			}
		}
	default:
		a.deduct(0.5, electrons.VerdictReview, "unknown task type %q", task)
	}
	return electrons.Quality{
		Score:   math.Round(min(max(a.score, 0), 1)*100) / 100,
		Verdict: a.verdict,
		Reasons: a.reasons,
	}
}

func assessFiles(a *assessment, what string, files []ArtifactData, check func(deductFunc, ArtifactData)) {
	if len(files) == 0 {
		a.deduct(1, electrons.VerdictRejected, "no %s file was produced", what)
		return
	}
	for i, f := range files {
		prefix := ""
		if len(files) > 1 {
			prefix = fmt.Sprintf("file %d: ", i+1)
		}
		check(a.prefixed(prefix), f)
	}
}

// --- text -----------------------------------------------------------------------------------

// danglingWords are words that a finished text almost never ends on.
var danglingWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "but": true, "of": true,
	"to": true, "with": true, "for": true, "in": true, "on": true, "at": true, "by": true,
	"from": true, "that": true, "because": true, "which": true, "is": true, "are": true,
}

func assessText(a *assessment, text string, cutAtLimit bool) {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		a.deduct(1, electrons.VerdictRejected, "the text is empty")
		return
	}
	if !utf8.ValidString(trimmed) {
		a.deduct(0.3, electrons.VerdictReview, "the text is not valid UTF-8 (cut inside a character?)")
	}
	words := strings.Fields(trimmed)
	if len(words) < MinTextWords {
		a.deduct(0.5, electrons.VerdictReview, "the text has only %d word(s)", len(words))
	}

	// Signs of a text cut off by a token limit or a broken stream.
	last, _ := utf8.DecodeLastRuneInString(trimmed)
	lastWord := strings.ToLower(strings.TrimFunc(words[len(words)-1], func(r rune) bool { return !unicode.IsLetter(r) }))
	switch {
	case cutAtLimit:
		a.deduct(0.05, electrons.VerdictApproved, "the text was cut at max_tokens")
	case strings.Count(trimmed, "```")%2 == 1:
		a.deduct(0.4, electrons.VerdictReview, "the text ends inside an unclosed code block")
	case strings.ContainsRune(",;:([{-", last):
		a.deduct(0.4, electrons.VerdictReview, "the text ends mid-sentence, on %q", last)
	case len(words) >= MinTextWords && (unicode.IsLetter(last) || unicode.IsDigit(last)) && danglingWords[lastWord]:
		a.deduct(0.4, electrons.VerdictReview, "the text ends on the dangling word %q", words[len(words)-1])
	case len(words) >= MinTextWords && (unicode.IsLetter(last) || unicode.IsDigit(last)):
		a.deduct(0.05, electrons.VerdictApproved, "the text does not end with punctuation")
	}

	// Repetition: a model stuck in a loop repeats its word triples.
	if len(words) >= 20 {
		seen := make(map[[3]string]struct{}, len(words))
		for i := 0; i+2 < len(words); i++ {
			seen[[3]string{strings.ToLower(words[i]), strings.ToLower(words[i+1]), strings.ToLower(words[i+2])}] = struct{}{}
		}
		ratio := float64(len(seen)) / float64(len(words)-2)
		switch {
		case ratio < 0.5:
			a.deduct(0.5, electrons.VerdictReview, "the text repeats itself: only %.0f%% of its word triples are distinct", ratio*100)
		case ratio < 0.8:
			a.deduct(0.1, electrons.VerdictApproved, "the text is somewhat repetitive: %.0f%% of its word triples are distinct", ratio*100)
		}
	} else if len(words) >= MinTextWords {
		distinct := map[string]struct{}{}
		for _, w := range words {
			distinct[strings.ToLower(w)] = struct{}{}
		}
		if len(distinct) == 1 {
			a.deduct(0.5, electrons.VerdictReview, "the text repeats one word")
		}
	}
}

// --- images ---------------------------------------------------------------------------------

// mediaType returns the lower-case media type of a Content-Type value, without parameters.
func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(ct))
	}
	return mt
}

var imageTypes = map[string]string{
	"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/pjpeg": "jpeg",
	"image/gif": "gif", "image/webp": "webp",
}

func assessImage(deduct deductFunc, f ArtifactData) {
	if len(f.Data) == 0 {
		deduct(1, electrons.VerdictRejected, "the image is empty")
		return
	}
	var (
		cfg    image.Config
		format string
		err    error
	)
	if isWebP(f.Data) {
		format = "webp"
		cfg, err = webpConfig(f.Data)
	} else {
		cfg, format, err = image.DecodeConfig(bytes.NewReader(f.Data))
	}
	if err != nil {
		deduct(1, electrons.VerdictRejected, "the image (%s) does not decode as PNG, JPEG, GIF or WebP: %v", f.ContentType, err)
		return
	}
	if cfg.Width < MinImageSide || cfg.Height < MinImageSide {
		deduct(1, electrons.VerdictRejected, "the image is %dx%d, smaller than %dx%d", cfg.Width, cfg.Height, MinImageSide, MinImageSide)
		return
	}
	if want, ok := imageTypes[mediaType(f.ContentType)]; !ok || want != format {
		deduct(0.1, electrons.VerdictApproved, "the image is %s but is labelled %q", format, f.ContentType)
	}
	// DecodeConfig reads headers only; a truncated file needs a closer look.
	switch {
	case format == "gif":
		if _, err := gifFrames(f.Data); err != nil {
			deduct(1, electrons.VerdictRejected, "the gif image is truncated or corrupt: %v", err)
		}
		return
	case format == "webp" || len(f.Data) > maxDecodeBytes || cfg.Width*cfg.Height > maxDecodePixels:
		return
	}
	img, _, err := image.Decode(bytes.NewReader(f.Data))
	if err != nil {
		deduct(1, electrons.VerdictRejected, "the %s image is truncated or corrupt: %v", format, err)
		return
	}
	if flat(img) {
		deduct(0.3, electrons.VerdictApproved, "the image is a single flat colour")
	}
}

// flat reports whether every pixel of a sample grid has the same colour.
func flat(img image.Image) bool {
	b := img.Bounds()
	r0, g0, b0, a0 := img.At(b.Min.X, b.Min.Y).RGBA()
	const steps = 32
	for i := 0; i <= steps; i++ {
		for j := 0; j <= steps; j++ {
			x := b.Min.X + (b.Dx()-1)*i/steps
			y := b.Min.Y + (b.Dy()-1)*j/steps
			r, g, bl, a := img.At(x, y).RGBA()
			if r != r0 || g != g0 || bl != b0 || a != a0 {
				return false
			}
		}
	}
	return true
}

func isWebP(b []byte) bool {
	return len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP"
}

// webpConfig reads a WebP image's dimensions from its first chunk (VP8, VP8L or VP8X), as the
// standard library has no WebP decoder.
func webpConfig(b []byte) (image.Config, error) {
	if len(b) < 30 {
		return image.Config{}, errors.New("webp: too short")
	}
	chunk, data := string(b[12:16]), b[20:]
	switch chunk {
	case "VP8 ":
		// Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
		if data[3] != 0x9d || data[4] != 0x01 || data[5] != 0x2a {
			return image.Config{}, errors.New("webp: bad VP8 start code")
		}
		w := int(binary.LittleEndian.Uint16(data[6:8]) & 0x3fff)
		h := int(binary.LittleEndian.Uint16(data[8:10]) & 0x3fff)
		return image.Config{Width: w, Height: h}, nil
	case "VP8L":
		if data[0] != 0x2f {
			return image.Config{}, errors.New("webp: bad VP8L signature")
		}
		bits := binary.LittleEndian.Uint32(data[1:5])
		return image.Config{Width: int(bits&0x3fff) + 1, Height: int(bits>>14&0x3fff) + 1}, nil
	case "VP8X":
		w := int(data[4]) | int(data[5])<<8 | int(data[6])<<16
		h := int(data[7]) | int(data[8])<<8 | int(data[9])<<16
		return image.Config{Width: w + 1, Height: h + 1}, nil
	}
	return image.Config{}, fmt.Errorf("webp: unknown first chunk %q", chunk)
}

// --- audio ----------------------------------------------------------------------------------

var wavTypes = map[string]bool{"audio/wav": true, "audio/x-wav": true, "audio/wave": true, "audio/vnd.wave": true}

func assessAudio(deduct deductFunc, f ArtifactData) {
	if len(f.Data) == 0 {
		deduct(1, electrons.VerdictRejected, "the audio file is empty")
		return
	}
	mt := mediaType(f.ContentType)
	if wavTypes[mt] || (len(f.Data) >= 12 && string(f.Data[0:4]) == "RIFF" && string(f.Data[8:12]) == "WAVE") {
		w, err := parseWAV(f.Data)
		if err != nil {
			deduct(1, electrons.VerdictRejected, "the audio is not a valid WAV: %v", err)
			return
		}
		if w.samples == 0 {
			deduct(1, electrons.VerdictRejected, "the WAV holds no samples")
			return
		}
		if w.truncated {
			deduct(0.1, electrons.VerdictApproved, "the WAV data chunk is shorter than its header says")
		}
		if secs := float64(w.samples) / float64(w.sampleRate); secs < minAudioSeconds {
			deduct(0.4, electrons.VerdictReview, "the audio lasts only %.3f s", secs)
		}
		return
	}
	if len(f.Data) < minEncodedBytes {
		deduct(1, electrons.VerdictRejected, "the audio file (%s) is implausibly small: %d bytes", f.ContentType, len(f.Data))
		return
	}
	switch {
	case mt == "audio/mpeg" || mt == "audio/mp3":
		if !looksMP3(f.Data) {
			deduct(0.4, electrons.VerdictReview, "the audio is labelled %s but has no ID3 tag or MPEG frame header", f.ContentType)
		}
	case looksMP3(f.Data), bytes.HasPrefix(f.Data, []byte("OggS")), bytes.HasPrefix(f.Data, []byte("fLaC")), hasFtyp(f.Data):
	default:
		deduct(0.1, electrons.VerdictApproved, "the audio format (%s) was not verified", f.ContentType)
	}
}

func looksMP3(b []byte) bool {
	return bytes.HasPrefix(b, []byte("ID3")) || (len(b) >= 2 && b[0] == 0xff && b[1]&0xe0 == 0xe0)
}

type wavInfo struct {
	sampleRate uint32
	samples    uint64
	truncated  bool
}

// parseWAV walks a RIFF/WAVE file's chunks for its format and the size of its samples.
func parseWAV(b []byte) (wavInfo, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return wavInfo{}, errors.New("no RIFF/WAVE header")
	}
	var (
		w          wavInfo
		blockAlign uint16
		haveFmt    bool
	)
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := uint64(binary.LittleEndian.Uint32(b[p+4 : p+8]))
		body := b[p+8:]
		switch id {
		case "fmt ":
			if size < 16 || len(body) < 16 {
				return wavInfo{}, errors.New("fmt chunk too short")
			}
			channels := binary.LittleEndian.Uint16(body[2:4])
			w.sampleRate = binary.LittleEndian.Uint32(body[4:8])
			blockAlign = binary.LittleEndian.Uint16(body[12:14])
			if channels == 0 || w.sampleRate == 0 || blockAlign == 0 {
				return wavInfo{}, fmt.Errorf("bad format: %d channels, %d Hz, block align %d", channels, w.sampleRate, blockAlign)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return wavInfo{}, errors.New("data chunk before fmt chunk")
			}
			n := size
			if n > uint64(len(body)) {
				n = uint64(len(body))
				w.truncated = true
			}
			w.samples = n / uint64(blockAlign)
			return w, nil
		}
		// Chunks are padded to an even size.
		next := uint64(p) + 8 + size + size%2
		if next > uint64(len(b)) {
			break
		}
		p = int(next)
	}
	if !haveFmt {
		return wavInfo{}, errors.New("no fmt chunk")
	}
	return wavInfo{}, errors.New("no data chunk")
}

// --- video ----------------------------------------------------------------------------------

func hasFtyp(b []byte) bool { return len(b) >= 12 && string(b[4:8]) == "ftyp" }

func assessVideo(deduct deductFunc, f ArtifactData) {
	if len(f.Data) == 0 {
		deduct(1, electrons.VerdictRejected, "the video file is empty")
		return
	}
	mt := mediaType(f.ContentType)
	switch {
	case bytes.HasPrefix(f.Data, []byte("GIF8")):
		assessGIF(deduct, f.Data)
	case hasFtyp(f.Data):
		assessMP4(deduct, f.Data)
	case bytes.HasPrefix(f.Data, []byte{0x1a, 0x45, 0xdf, 0xa3}):
		if len(f.Data) < minEncodedBytes {
			deduct(1, electrons.VerdictRejected, "the WebM file is implausibly small: %d bytes", len(f.Data))
		}
	case mt == "image/gif":
		deduct(1, electrons.VerdictRejected, "the video is labelled image/gif but is not a GIF")
	case mt == "video/mp4" || mt == "video/quicktime":
		deduct(1, electrons.VerdictRejected, "the video is labelled %s but has no ftyp box", f.ContentType)
	case mt == "video/webm":
		deduct(1, electrons.VerdictRejected, "the video is labelled video/webm but has no EBML header")
	case len(f.Data) < minEncodedBytes:
		deduct(1, electrons.VerdictRejected, "the video file (%s) is implausibly small: %d bytes", f.ContentType, len(f.Data))
	default:
		deduct(0.3, electrons.VerdictReview, "the video format (%s) was not verified", f.ContentType)
	}
}

func assessGIF(deduct deductFunc, data []byte) {
	cfg, err := gif.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		deduct(1, electrons.VerdictRejected, "the GIF does not decode: %v", err)
		return
	}
	if cfg.Width < MinImageSide || cfg.Height < MinImageSide {
		deduct(1, electrons.VerdictRejected, "the GIF is %dx%d, smaller than %dx%d", cfg.Width, cfg.Height, MinImageSide, MinImageSide)
		return
	}
	frames, err := gifFrames(data)
	if err != nil {
		deduct(1, electrons.VerdictRejected, "the GIF is truncated or corrupt: %v", err)
		return
	}
	if frames < 2 {
		deduct(0.4, electrons.VerdictReview, "the GIF has a single frame: a still image, not a video")
	}
}

// gifFrames counts a GIF's frames by walking its block structure, without decompressing any
// pixels (gif.DecodeAll would hold every frame in memory: a decompression bomb's delight).
func gifFrames(b []byte) (int, error) {
	if len(b) < 13 || !bytes.HasPrefix(b, []byte("GIF8")) {
		return 0, errors.New("no GIF header")
	}
	p := 13
	if flags := b[10]; flags&0x80 != 0 {
		p += 3 << (flags&7 + 1)
	}
	// skipSubBlocks skips data sub-blocks up to and including the zero-length terminator.
	skipSubBlocks := func() error {
		for {
			if p >= len(b) {
				return errors.New("unexpected end of data")
			}
			n := int(b[p])
			p += 1 + n
			if n == 0 {
				return nil
			}
		}
	}
	frames := 0
	for p < len(b) {
		switch b[p] {
		case 0x3b: // trailer
			if frames == 0 {
				return 0, errors.New("no image")
			}
			return frames, nil
		case 0x21: // extension: label, then sub-blocks
			p += 2
			if err := skipSubBlocks(); err != nil {
				return 0, err
			}
		case 0x2c: // image descriptor, optional local colour table, LZW code size, sub-blocks
			if p+10 > len(b) {
				return 0, errors.New("unexpected end of data")
			}
			flags := b[p+9]
			p += 10
			if flags&0x80 != 0 {
				p += 3 << (flags&7 + 1)
			}
			p++ // LZW minimum code size
			if err := skipSubBlocks(); err != nil {
				return 0, err
			}
			frames++
		default:
			return 0, fmt.Errorf("unknown block 0x%02x", b[p])
		}
	}
	return 0, errors.New("unexpected end of data")
}

// assessMP4 walks the top-level boxes of an ISO base media file (MP4, MOV).
func assessMP4(deduct deductFunc, b []byte) {
	haveMoov := false
	for p := uint64(0); p < uint64(len(b)); {
		if p+8 > uint64(len(b)) {
			deduct(0.4, electrons.VerdictReview, "the MP4 ends inside a box header")
			break
		}
		size := uint64(binary.BigEndian.Uint32(b[p : p+4]))
		typ := string(b[p+4 : p+8])
		switch size {
		case 0: // to the end of the file
			size = uint64(len(b)) - p
		case 1: // 64-bit size follows
			if p+16 > uint64(len(b)) {
				size = 0
			} else {
				size = binary.BigEndian.Uint64(b[p+8 : p+16])
			}
		}
		if size < 8 {
			deduct(1, electrons.VerdictRejected, "the MP4 has a malformed %q box", typ)
			return
		}
		if typ == "moov" {
			haveMoov = true
		}
		if p+size > uint64(len(b)) || p+size < p {
			deduct(0.4, electrons.VerdictReview, "the MP4 is truncated: its %q box runs past the end", typ)
			break
		}
		p += size
	}
	if !haveMoov {
		deduct(0.4, electrons.VerdictReview, "the MP4 has no moov box (incomplete file?)")
	}
}
