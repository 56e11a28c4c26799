package local

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// The audio the local provider speaks: 16 kHz 16-bit mono PCM, the format speech models are
// usually asked for, with one tone per character of text.
const (
	sampleRate    = 16000
	noteDuration  = 60 * time.Millisecond
	minAudio      = 500 * time.Millisecond
	maxAudio      = 60 * time.Second
	wavHeaderSize = 44
	amplitude     = 0.3 * math.MaxInt16
	// fadeSamples ramps every note in and out, so notes join without clicks.
	fadeSamples = sampleRate * 5 / 1000
)

// pentatonic steps, in semitones, keep any sequence of notes pleasant enough for a demo.
var pentatonic = [...]float64{0, 2, 4, 7, 9}

// generateAudio "speaks" input.prompt as a tone sequence whose length follows the text.
func generateAudio(in electrons.Input, bad bool) (*providers.Output, error) {
	text := strings.TrimSpace(in.Prompt)
	if text == "" {
		return nil, invalid("input.prompt", "input.prompt is required for audio: it is the text to speak")
	}
	usage := &electrons.Usage{InputTokens: utf8.RuneCountInString(text)}
	var samples []int16
	if !bad {
		samples = synthesize(text, in.Voice)
	}
	return &providers.Output{
		Files: []providers.File{{ContentType: "audio/wav", Data: encodeWAV(samples)}},
		Usage: usage,
	}, nil
}

// audioDuration is how long text takes to speak: a note per character, within bounds.
func audioDuration(text string) time.Duration {
	d := time.Duration(utf8.RuneCountInString(text)) * noteDuration
	return min(max(d, minAudio), maxAudio)
}

// synthesize plays a note per character of text, cycling through the text when it is too short to
// fill the minimum duration. Spaces and punctuation are pauses, as in speech; the voice picks the
// base pitch, so different voices sound different.
func synthesize(text, voice string) []int16 {
	runes := []rune(text)
	total := int(audioDuration(text) * sampleRate / time.Second)
	perNote := int(noteDuration * sampleRate / time.Second)
	base := 160 + float64(newRNG("voice", voice).intn(160))
	offset := newRNG("audio", text).intn(len(pentatonic))

	samples := make([]int16, total)
	for start, i := 0, 0; start < total; start, i = start+perNote, i+1 {
		c := runes[i%len(runes)]
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			continue // silence
		}
		step := (int(unicode.ToLower(c)) + offset) % (2 * len(pentatonic))
		semitones := pentatonic[step%len(pentatonic)] + 12*float64(step/len(pentatonic))
		freq := base * math.Pow(2, semitones/12)
		end := min(start+perNote, total)
		n := end - start
		for j := range n {
			env := min(1, float64(j)/fadeSamples, float64(n-j)/fadeSamples)
			t := float64(j) / sampleRate
			// A fundamental and a softer octave sound more like a voice than a pure sine.
			v := 0.75*math.Sin(2*math.Pi*freq*t) + 0.25*math.Sin(4*math.Pi*freq*t)
			samples[start+j] = int16(amplitude * env * v)
		}
	}
	return samples
}

// encodeWAV writes samples as a canonical 44-byte-header RIFF/WAVE PCM file.
func encodeWAV(samples []int16) []byte {
	dataSize := uint32(len(samples) * 2)
	var buf bytes.Buffer
	buf.Grow(wavHeaderSize + int(dataSize))
	le := binary.LittleEndian
	buf.WriteString("RIFF")
	buf.Write(le.AppendUint32(nil, 36+dataSize))
	buf.WriteString("WAVE")
	buf.WriteString("fmt ")
	buf.Write(le.AppendUint32(nil, 16))           // fmt chunk size
	buf.Write(le.AppendUint16(nil, 1))            // PCM
	buf.Write(le.AppendUint16(nil, 1))            // mono
	buf.Write(le.AppendUint32(nil, sampleRate))   // sample rate
	buf.Write(le.AppendUint32(nil, sampleRate*2)) // byte rate
	buf.Write(le.AppendUint16(nil, 2))            // block align
	buf.Write(le.AppendUint16(nil, 16))           // bits per sample
	buf.WriteString("data")
	buf.Write(le.AppendUint32(nil, dataSize))
	pcm := make([]byte, 0, dataSize)
	for _, s := range samples {
		pcm = le.AppendUint16(pcm, uint16(s))
	}
	buf.Write(pcm)
	return buf.Bytes()
}
