package fake

// ElevenLabs: text-to-speech (POST /v1/text-to-speech/{voice_id}?output_format=…, JSON body,
// raw audio answer) and the voice list (GET /v1/voices). Errors are {"detail": {"type", "code",
// "status", "message", "request_id"}}, and request validation errors FastAPI's {"detail": [{"loc",
// "msg", "type"}]} with 422. ElevenLabs has no requests-per-minute headers: it limits requests in
// flight and reports current-concurrent-requests and maximum-concurrent-requests, which the fake
// sends when the route's Limit has a Concurrency. A refusal for concurrency is 429
// concurrent_limit_exceeded; for the route's request or token window, 429 rate_limit_exceeded
// with a Retry-After; FaultOverloaded is ElevenLabs' 429 system_busy.
//
// Audio is deterministic from the text and voice: MP3 as silent MPEG-1 Layer III frames (44.1 kHz,
// 128 kbit/s, mono, whatever mp3_* rate is asked), raw 16-bit PCM for pcm_*, WAV for wav_*, raw
// 8-bit μ-law and A-law, and Ogg Opus (silent 20 ms packets) for opus_*, about 60 ms per character.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

func init() {
	registrations = append(registrations, func(s *Server) {
		s.Handle("elevenlabs.tts", "POST /v1/text-to-speech/{voice_id}", elevenDialect{s: s, route: "elevenlabs.tts"}, elevenTTS)
		s.Handle("elevenlabs.voices", "GET /v1/voices", elevenDialect{s: s, route: "elevenlabs.voices"}, elevenVoices)
	})
}

// elevenDialect writes ElevenLabs' errors and its concurrency headers, which it reads from the
// route's own limit and in-flight count.
type elevenDialect struct {
	s     *Server
	route string
}

func (d elevenDialect) LimitHeaders(h http.Header, _ Snapshot) {
	d.s.mu.Lock()
	rt := d.s.routes[d.route]
	var limit, cur int
	if rt != nil && rt.cfg.Limit != nil {
		limit, cur = rt.cfg.Limit.Concurrency, int(rt.stats.InFlight)
	}
	d.s.mu.Unlock()
	if limit > 0 {
		h.Set("maximum-concurrent-requests", strconv.Itoa(limit))
		h.Set("current-concurrent-requests", strconv.Itoa(cur))
	}
}

func (elevenDialect) WriteError(w http.ResponseWriter, fault string, s Snapshot) {
	switch fault {
	case FaultRateLimit:
		w.Header().Set("Retry-After", ideogramRetryAfter(s.Reset))
		elevenError(w, http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded",
			"You have exceeded the rate limit for this endpoint. Please slow down.")
	case FaultConcurrency:
		elevenError(w, http.StatusTooManyRequests, "rate_limit_error", "concurrent_limit_exceeded",
			"You have exceeded the concurrency limit of your subscription. Wait for running requests to finish.")
	case FaultOverloaded:
		elevenError(w, http.StatusTooManyRequests, "service_unavailable", "system_busy",
			"We are experiencing high traffic. Please try again later.")
	case FaultQuota:
		elevenError(w, http.StatusUnauthorized, "authentication_error", "quota_exceeded",
			"This request exceeds your quota. You have 0 credits remaining, while 120 credits are required for this request.")
	case FaultAuth:
		elevenError(w, http.StatusUnauthorized, "authentication_error", "invalid_api_key", "Invalid API key")
	case FaultInvalid:
		elevenError(w, http.StatusBadRequest, "validation_error", "invalid_parameters", "The request parameters are invalid.")
	case FaultContentPolicy:
		// Not a documented code: ElevenLabs' moderation refuses prohibited text with a 4xx whose
		// message names the policy.
		elevenError(w, http.StatusBadRequest, "validation_error", "content_moderation",
			"The text was blocked by moderation: it violates the Prohibited Content and Uses Policy.")
	default:
		elevenError(w, http.StatusInternalServerError, "internal_error", "internal_server_error", "An internal server error occurred.")
	}
}

func elevenError(w http.ResponseWriter, status int, typ, code, msg string) {
	id := sha256.Sum256([]byte(code + msg))
	WriteJSON(w, status, map[string]any{"detail": map[string]any{
		"type": typ, "code": code, "status": code, "message": msg, "request_id": hex.EncodeToString(id[:16])}})
}

// elevenValidation writes FastAPI's 422 for one bad field.
func elevenValidation(w http.ResponseWriter, loc []string, typ, msg string) {
	WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []map[string]any{{"loc": loc, "msg": msg, "type": typ}}})
}

// elevenCodec is the codec and sample rate of an output_format, or ok false.
func elevenCodec(f string) (codec string, rate int, ok bool) {
	known := map[string]bool{
		"mp3_22050_32": true, "mp3_24000_48": true, "mp3_44100_32": true, "mp3_44100_64": true, "mp3_44100_96": true,
		"mp3_44100_128": true, "mp3_44100_192": true, "pcm_8000": true, "pcm_16000": true, "pcm_22050": true,
		"pcm_24000": true, "pcm_32000": true, "pcm_44100": true, "pcm_48000": true, "ulaw_8000": true, "alaw_8000": true,
		"opus_48000_32": true, "opus_48000_64": true, "opus_48000_96": true, "opus_48000_128": true, "opus_48000_192": true,
		"wav_8000": true, "wav_16000": true, "wav_22050": true, "wav_24000": true, "wav_32000": true, "wav_44100": true, "wav_48000": true,
	}
	if !known[f] {
		return "", 0, false
	}
	parts := strings.Split(f, "_")
	rate, _ = strconv.Atoi(parts[1])
	return parts[0], rate, true
}

func elevenTTS(w http.ResponseWriter, r *http.Request, dec *Decision) {
	voice := r.PathValue("voice_id")
	format := r.URL.Query().Get("output_format")
	if format == "" {
		format = "mp3_44100_128"
	}
	codec, rate, ok := elevenCodec(format)
	if !ok {
		elevenValidation(w, []string{"query", "output_format"}, "enum", "Input should be one of mp3_22050_32, mp3_44100_128, pcm_16000, ulaw_8000, opus_48000_64, …")
		return
	}
	var body struct {
		Text    *string `json:"text"`
		ModelID string  `json:"model_id"`
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(raw, &body) != nil {
		elevenValidation(w, []string{"body"}, "json_invalid", "JSON decode error")
		return
	}
	if body.Text == nil {
		elevenValidation(w, []string{"body", "text"}, "missing", "Field required")
		return
	}
	text := strings.TrimSpace(*body.Text)
	if text == "" {
		elevenError(w, http.StatusBadRequest, "validation_error", "invalid_parameters", "Text must not be empty.")
		return
	}
	if n := utf8.RuneCountInString(text); n > 40000 {
		elevenError(w, http.StatusBadRequest, "validation_error", "max_character_limit_exceeded",
			"This request's text has "+strconv.Itoa(n)+" characters and exceeds the character limit of 40000 characters.")
		return
	}
	// About 60 ms of speech a character, from half a second to half a minute.
	dur := min(max(time.Duration(utf8.RuneCountInString(text))*60*time.Millisecond, 500*time.Millisecond), 30*time.Second)
	seed := sha256.Sum256([]byte(voice + "\x00" + text))

	var audio []byte
	ctype := "application/octet-stream"
	switch codec {
	case "mp3":
		audio, ctype = elevenMP3(dur), "audio/mpeg"
	case "opus":
		audio, ctype = elevenOpus(dur, binary.BigEndian.Uint32(seed[:4])), "audio/ogg"
	case "pcm":
		audio = elevenPCM(dur, rate, seed)
	case "wav":
		pcm := elevenPCM(dur, rate, seed)
		audio, ctype = append(elevenWAVHeader(len(pcm), rate), pcm...), "audio/wav"
	case "ulaw":
		audio = bytes.Repeat([]byte{0xFF}, int(dur*time.Duration(rate)/time.Second)) // μ-law silence
	case "alaw":
		audio = bytes.Repeat([]byte{0xD5}, int(dur*time.Duration(rate)/time.Second)) // A-law silence
	}

	h := w.Header()
	h.Set("character-cost", strconv.Itoa(utf8.RuneCountInString(text)))
	h.Set("request-id", hex.EncodeToString(seed[4:14]))
	h.Set("history-item-id", hex.EncodeToString(seed[14:24]))
	switch dec.Fault {
	case FaultMalformed:
		h.Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
	case FaultTruncate:
		h.Set("Content-Type", ctype)
		h.Set("Content-Length", strconv.Itoa(len(audio)))
		_, _ = w.Write(audio[:len(audio)/2])
	default:
		h.Set("Content-Type", ctype)
		h.Set("Content-Length", strconv.Itoa(len(audio)))
		_, _ = w.Write(audio)
	}
}

// elevenMP3 is dur of silence as MPEG-1 Layer III frames: 44.1 kHz, 128 kbit/s, mono, no CRC,
// 417 bytes and 1152 samples a frame. All-zero side information decodes as silence.
func elevenMP3(dur time.Duration) []byte {
	const frameLen = 144 * 128000 / 44100
	n := int(math.Ceil(dur.Seconds() * 44100 / 1152))
	out := make([]byte, n*frameLen)
	for i := 0; i < n; i++ {
		copy(out[i*frameLen:], []byte{0xFF, 0xFB, 0x90, 0xC4})
	}
	return out
}

// elevenPCM is dur of 16-bit little-endian mono tone at rate, its pitch from seed.
func elevenPCM(dur time.Duration, rate int, seed [32]byte) []byte {
	n := int(dur * time.Duration(rate) / time.Second)
	freq := 180 + float64(seed[0])
	out := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		v := int16(0.25 * math.MaxInt16 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
		binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
	}
	return out
}

func elevenWAVHeader(dataLen, rate int) []byte {
	h := make([]byte, 44)
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], uint32(36+dataLen))
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], 1)
	le.PutUint16(h[22:], 1)
	le.PutUint32(h[24:], uint32(rate))
	le.PutUint32(h[28:], uint32(rate*2))
	le.PutUint16(h[32:], 2)
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], uint32(dataLen))
	return h
}

// elevenOpus is dur of silence as Ogg Opus: an OpusHead page, an OpusTags page, then pages of
// 20 ms CELT silence packets (TOC 0xF8 and two bytes), 50 to a page.
func elevenOpus(dur time.Duration, serial uint32) []byte {
	const preSkip = 312
	head := []byte("OpusHead\x01\x01")
	head = binary.LittleEndian.AppendUint16(head, preSkip)
	head = binary.LittleEndian.AppendUint32(head, 48000)
	head = append(head, 0, 0, 0) // output gain 0, channel mapping family 0
	tags := []byte("OpusTags")
	vendor := "electrons-fake"
	tags = binary.LittleEndian.AppendUint32(tags, uint32(len(vendor)))
	tags = append(tags, vendor...)
	tags = binary.LittleEndian.AppendUint32(tags, 0)

	var out []byte
	seq := uint32(0)
	page := func(flags byte, granule uint64, packets [][]byte) {
		var lacing, data []byte
		for _, p := range packets {
			for n := len(p); ; n -= 255 {
				if n < 255 {
					lacing = append(lacing, byte(n))
					break
				}
				lacing = append(lacing, 255)
			}
			data = append(data, p...)
		}
		pg := []byte("OggS\x00")
		pg = append(pg, flags)
		pg = binary.LittleEndian.AppendUint64(pg, granule)
		pg = binary.LittleEndian.AppendUint32(pg, serial)
		pg = binary.LittleEndian.AppendUint32(pg, seq)
		pg = append(pg, 0, 0, 0, 0, byte(len(lacing)))
		pg = append(pg, lacing...)
		pg = append(pg, data...)
		binary.LittleEndian.PutUint32(pg[22:], elevenOggCRC(pg))
		out = append(out, pg...)
		seq++
	}
	page(0x02, 0, [][]byte{head})
	page(0x00, 0, [][]byte{tags})
	total := max(int(dur/(20*time.Millisecond)), 1)
	granule := uint64(preSkip)
	for done := 0; done < total; {
		k := min(50, total-done)
		packets := make([][]byte, k)
		for i := range packets {
			packets[i] = []byte{0xF8, 0xFF, 0xFE}
		}
		done += k
		granule += uint64(k * 960)
		flags := byte(0)
		if done == total {
			flags = 0x04
		}
		page(flags, granule, packets)
	}
	return out
}

// elevenOggCRC is Ogg's page checksum: CRC-32 with polynomial 0x04C11DB7, not reflected, zero
// initial value and no final XOR.
func elevenOggCRC(b []byte) uint32 {
	var crc uint32
	for _, c := range b {
		crc ^= uint32(c) << 24
		for i := 0; i < 8; i++ {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04C11DB7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// elevenVoiceList are premade voices, as GET /v1/voices lists them.
var elevenVoiceList = []map[string]any{
	{"voice_id": "21m00Tcm4TlvDq8ikWAM", "name": "Rachel", "category": "premade",
		"labels": map[string]string{"accent": "american", "description": "calm", "age": "young", "gender": "female", "use_case": "narration"}},
	{"voice_id": "pNInz6obpgDQGcFmaJgB", "name": "Adam", "category": "premade",
		"labels": map[string]string{"accent": "american", "description": "deep", "age": "middle aged", "gender": "male", "use_case": "narration"}},
	{"voice_id": "EXAVITQu4vr4xnSDxMaL", "name": "Sarah", "category": "premade",
		"labels": map[string]string{"accent": "american", "description": "soft", "age": "young", "gender": "female", "use_case": "news"}},
}

func elevenVoices(w http.ResponseWriter, r *http.Request, dec *Decision) {
	voices := make([]map[string]any, 0, len(elevenVoiceList))
	for _, v := range elevenVoiceList {
		c := map[string]any{"description": nil, "settings": nil, "samples": nil,
			"preview_url": "https://storage.googleapis.com/eleven-public-prod/premade/voices/" + v["voice_id"].(string) + "/preview.mp3"}
		for k, x := range v {
			c[k] = x
		}
		voices = append(voices, c)
	}
	body, _ := json.Marshal(map[string]any{"voices": voices})
	w.Header().Set("Content-Type", "application/json")
	switch dec.Fault {
	case FaultMalformed:
		_, _ = w.Write([]byte(`{"voices": "not a list"`))
	case FaultTruncate:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body[:len(body)/2])
	default:
		_, _ = w.Write(body)
	}
}
