package elevenlabs

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
	"github.com/distributed-electrons/electrons/providers/fake"
)

// seen is a request as the fake received it.
type seen struct {
	path, query, key string
	body             map[string]any
}

type bundle struct {
	fake *fake.Server
	p    *Provider
	mu   sync.Mutex
	reqs []seen
}

func (b *bundle) last(t *testing.T) seen {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.reqs) == 0 {
		t.Fatal("no request reached the fake")
	}
	return b.reqs[len(b.reqs)-1]
}

// setup starts a fake behind a recorder of the requests it receives.
func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{fake: fake.New()}
	h := b.fake.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		b.mu.Lock()
		b.reqs = append(b.reqs, seen{path: r.URL.Path, query: r.URL.RawQuery, key: r.Header.Get("xi-api-key"), body: m})
		b.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(raw))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	b.fake.BaseURL = ts.URL
	b.p = New(Config{APIKey: "xi-test", BaseURL: ts.URL, HTTPClient: ts.Client()})
	return b
}

func speech(text, voice, model string, opts map[string]any) providers.Call {
	return providers.Call{RequestID: "req_1", TaskType: electrons.TaskAudio, Model: model,
		Input: electrons.Input{Prompt: text, Voice: voice, Options: opts}}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	const text = "Hello from the fake, twenty-eight."
	tests := []struct {
		format string
		ctype  string
		check  func(t *testing.T, data []byte)
	}{
		{"", "audio/mpeg", func(t *testing.T, d []byte) {
			if d[0] != 0xFF || d[1] != 0xFB || len(d)%417 != 0 {
				t.Errorf("not MPEG-1 Layer III frames: % x…, %d bytes", d[:4], len(d))
			}
		}},
		{"mp3_22050_32", "audio/mpeg", nil},
		{"pcm_16000", "audio/wav", wantWAV(1, 16000, 16)},
		{"pcm_44100", "audio/wav", wantWAV(1, 44100, 16)},
		{"wav_22050", "audio/wav", wantWAV(1, 22050, 16)},
		{"alaw_8000", "audio/wav", wantWAV(6, 8000, 8)},
		{"ulaw_8000", "audio/basic", func(t *testing.T, d []byte) {
			if len(d) < 4000 || d[0] != 0xFF {
				t.Errorf("μ-law: %d bytes starting % x", len(d), d[:1])
			}
		}},
		{"opus_48000_64", "audio/ogg", func(t *testing.T, d []byte) {
			if string(d[:4]) != "OggS" || !bytes.Contains(d[:64], []byte("OpusHead")) {
				t.Errorf("not Ogg Opus: %q", d[:40])
			}
		}},
	}
	for _, tc := range tests {
		t.Run("format="+tc.format, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var opts map[string]any
			if tc.format != "" {
				opts = map[string]any{"output_format": tc.format}
			}
			out, err := b.p.Generate(context.Background(), speech(text, "", "eleven_multilingual_v2", opts))
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if len(out.Files) != 1 || out.Files[0].ContentType != tc.ctype || len(out.Files[0].Data) == 0 || out.Files[0].URL != "" {
				t.Fatalf("files = %d, want one %s with data", len(out.Files), tc.ctype)
			}
			if out.Usage == nil || out.Usage.InputTokens != len([]rune(text)) {
				t.Errorf("usage = %+v, want %d characters", out.Usage, len([]rune(text)))
			}
			if out.Limits != nil {
				t.Errorf("Limits = %+v without a concurrency limit", out.Limits)
			}
			if tc.check != nil {
				tc.check(t, out.Files[0].Data)
			}
			format := tc.format
			if format == "" {
				format = DefaultOutputFormat
			}
			got := b.last(t)
			if got.path != "/v1/text-to-speech/"+DefaultVoice || got.query != "output_format="+format || got.key != "xi-test" {
				t.Errorf("request = %+v", got)
			}
		})
	}
}

func wantWAV(formatTag, rate, bits int) func(*testing.T, []byte) {
	return func(t *testing.T, d []byte) {
		t.Helper()
		le := binary.LittleEndian
		if len(d) < 44 || string(d[:4]) != "RIFF" || string(d[8:16]) != "WAVEfmt " || string(d[36:40]) != "data" {
			t.Fatalf("not a WAV: %q", d[:min(len(d), 44)])
		}
		if int(le.Uint16(d[20:])) != formatTag || int(le.Uint32(d[24:])) != rate || int(le.Uint16(d[34:])) != bits {
			t.Errorf("WAV format %d, %d Hz, %d bits; want %d, %d, %d", le.Uint16(d[20:]), le.Uint32(d[24:]), le.Uint16(d[34:]), formatTag, rate, bits)
		}
		if int(le.Uint32(d[40:])) != len(d)-44 || int(le.Uint32(d[4:])) != len(d)-8 {
			t.Errorf("WAV sizes do not match the %d bytes", len(d))
		}
	}
}

func TestRequestBody(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.p.Generate(context.Background(), speech("Bonjour", "pNInz6obpgDQGcFmaJgB", "eleven_turbo_v2_5",
		map[string]any{"stability": 0.4, "similarity_boost": 0.8, "use_speaker_boost": true, "language_code": "fr", "seed": float64(12)}))
	if err != nil {
		t.Fatal(err)
	}
	got := b.last(t)
	if got.path != "/v1/text-to-speech/pNInz6obpgDQGcFmaJgB" {
		t.Errorf("path = %s", got.path)
	}
	want := map[string]any{"text": "Bonjour", "model_id": "eleven_turbo_v2_5", "language_code": "fr", "seed": float64(12),
		"voice_settings": map[string]any{"stability": 0.4, "similarity_boost": 0.8, "use_speaker_boost": true}}
	gotJSON, _ := json.Marshal(got.body)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("body = %s, want %s", gotJSON, wantJSON)
	}

	// A whole voice_settings object is sent as it is; no model means ElevenLabs' default.
	vs := map[string]any{"stability": 0.1, "style": 0.5}
	if _, err := b.p.Generate(context.Background(), speech("Hi", "", "", map[string]any{"voice_settings": vs, "speed": 1.1})); err != nil {
		t.Fatal(err)
	}
	got = b.last(t)
	if _, ok := got.body["model_id"]; ok {
		t.Errorf("model_id sent without a model: %v", got.body)
	}
	if s, _ := json.Marshal(got.body["voice_settings"]); string(s) != `{"stability":0.1,"style":0.5}` {
		t.Errorf("voice_settings = %s", s)
	}
}

func TestConfigDefaultVoice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := New(Config{APIKey: "xi-test", BaseURL: b.fake.BaseURL, DefaultVoice: "EXAVITQu4vr4xnSDxMaL"})
	if _, err := p.Generate(context.Background(), speech("Hi", "", "", nil)); err != nil {
		t.Fatal(err)
	}
	if got := b.last(t).path; got != "/v1/text-to-speech/EXAVITQu4vr4xnSDxMaL" {
		t.Errorf("path = %s", got)
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name  string
		call  providers.Call
		param string
	}{
		{"image task", providers.Call{TaskType: electrons.TaskImage, Input: electrons.Input{Prompt: "x"}}, "task_type"},
		{"no text", speech(" \n", "", "", nil), "input.prompt"},
		{"format not a string", speech("x", "", "", map[string]any{"output_format": 3.0}), "input.options.output_format"},
		{"unknown codec", speech("x", "", "", map[string]any{"output_format": "flac_44100"}), "input.options.output_format"},
		{"mp3 without bitrate", speech("x", "", "", map[string]any{"output_format": "mp3_44100"}), "input.options.output_format"},
		{"pcm with bitrate", speech("x", "", "", map[string]any{"output_format": "pcm_16000_16"}), "input.options.output_format"},
		{"rate out of range", speech("x", "", "", map[string]any{"output_format": "pcm_96000"}), "input.options.output_format"},
		{"voice_settings not an object", speech("x", "", "", map[string]any{"voice_settings": "calm"}), "input.options.voice_settings"},
		{"stability a string", speech("x", "", "", map[string]any{"stability": "high"}), "input.options.stability"},
		{"negative seed", speech("x", "", "", map[string]any{"seed": -1.0}), "input.options.seed"},
	}
	for _, tc := range tests {
		_, err := b.p.Generate(context.Background(), tc.call)
		var e *electrons.Error
		if !errors.As(err, &e) || e.Code != electrons.CodeInvalidRequest || e.Param != tc.param {
			t.Errorf("%s: err = %v, want invalid_request on %s", tc.name, err, tc.param)
		}
	}
	if n := b.fake.Stats()["elevenlabs.tts"].Requests; n != 0 {
		t.Errorf("invalid input reached the provider %d times", n)
	}
}

// TestProviderValidation covers the refusals of ElevenLabs itself: a format of the right shape
// it does not offer (FastAPI's 422 with a list detail).
func TestProviderValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.p.Generate(context.Background(), speech("x", "", "", map[string]any{"output_format": "mp3_44100_100"}))
	var e *electrons.Error
	if !errors.As(err, &e) || e.Code != electrons.CodeInvalidRequest || e.Param != "input.options.output_format" {
		t.Fatalf("err = %v (%+v), want invalid_request on input.options.output_format", err, e)
	}
	if !strings.Contains(e.Message, "query.output_format") {
		t.Errorf("message %q does not say which field", e.Message)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault      string
		code       electrons.Code
		retryAfter bool
	}{
		{fake.FaultRateLimit, electrons.CodeRateLimited, true},
		{fake.FaultConcurrency, electrons.CodeConcurrencyLimited, false},
		{fake.FaultOverloaded, electrons.CodeOverloaded, false},
		{fake.FaultQuota, electrons.CodeQuotaExhausted, false},
		{fake.FaultAuth, electrons.CodeAuthFailed, false},
		{fake.FaultInvalid, electrons.CodeInvalidRequest, false},
		{fake.FaultContentPolicy, electrons.CodeContentPolicy, false},
		{fake.FaultServer, electrons.CodeServerError, false},
		{fake.FaultMalformed, electrons.CodeServerError, false},
		{fake.FaultTruncate, electrons.CodeServerError, false},
		{fake.FaultTimeout, electrons.CodeTimeout, false},
	}
	for _, tc := range tests {
		for _, route := range []string{"tts", "voices"} {
			t.Run(tc.fault+"/"+route, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				b.fake.Configure("elevenlabs.", fake.RouteConfig{Faults: map[string]float64{tc.fault: 1}})
				ctx := context.Background()
				if tc.fault == fake.FaultTimeout {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
					defer cancel()
				}
				var err error
				if route == "tts" {
					var out *providers.Output
					out, err = b.p.Generate(ctx, speech("Some words to say.", "", "eleven_flash_v2_5", nil))
					if out != nil {
						t.Fatalf("output on a fault: %+v", out.Files)
					}
				} else {
					var vs []Voice
					vs, err = b.p.Voices(ctx)
					if vs != nil {
						t.Fatalf("voices on a fault: %+v", vs)
					}
				}
				var e *electrons.Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v, want *electrons.Error", err)
				}
				if e.Code != tc.code {
					t.Errorf("code = %s, want %s (%v)", e.Code, tc.code, e)
				}
				if got := e.RetryAfter > 0; got != tc.retryAfter {
					t.Errorf("RetryAfter = %v, want set: %v", e.RetryAfter, tc.retryAfter)
				}
				if !strings.Contains(e.Error(), "elevenlabs") {
					t.Errorf("message %q does not name the provider", e.Error())
				}
			})
		}
	}
}

func TestWrongKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetKeys("another-key")
	_, err := b.p.Generate(context.Background(), speech("Hi", "", "", nil))
	if code := electrons.ErrorCode(err); code != electrons.CodeAuthFailed {
		t.Errorf("code = %s (%v), want auth_failed", code, err)
	}
}

func TestLimitState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Configure("elevenlabs.tts", fake.RouteConfig{Limit: &fake.Limit{Concurrency: 3}})
	out, err := b.p.Generate(context.Background(), speech("Hi", "", "", nil))
	if err != nil {
		t.Fatal(err)
	}
	if out.Limits == nil || out.Limits.Limit != 3 || out.Limits.Remaining != 2 || !out.Limits.Reset.IsZero() {
		t.Errorf("Limits = %+v, want 3 allowed, 2 free, no reset", out.Limits)
	}
}

func TestRequestWindow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Configure("elevenlabs.tts", fake.RouteConfig{Limit: &fake.Limit{Requests: 1, WindowMS: 20000}})
	if _, err := b.p.Generate(context.Background(), speech("Hi", "", "", nil)); err != nil {
		t.Fatal(err)
	}
	_, err := b.p.Generate(context.Background(), speech("Hi", "", "", nil))
	var e *electrons.Error
	if !errors.As(err, &e) || e.Code != electrons.CodeRateLimited {
		t.Fatalf("err = %v, want rate_limited", err)
	}
	if e.RetryAfter <= 0 || e.RetryAfter > 20*time.Second {
		t.Errorf("RetryAfter = %v, want within the 20 s window", e.RetryAfter)
	}
	if st := b.fake.Stats()["elevenlabs.tts"]; st.Refused != 1 {
		t.Errorf("stats = %+v, want 1 refused", st)
	}
}

// TestConcurrencyLimit holds one request in flight (the fake's latency) while a second one asks:
// ElevenLabs refuses it with concurrent_limit_exceeded.
func TestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Configure("elevenlabs.tts", fake.RouteConfig{LatencyMinMS: 1000, LatencyMaxMS: 1000, Limit: &fake.Limit{Concurrency: 1}})
	type result struct {
		out *providers.Output
		err error
	}
	first := make(chan result, 1)
	go func() {
		out, err := b.p.Generate(context.Background(), speech("first", "", "", nil))
		first <- result{out, err}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for b.fake.Stats()["elevenlabs.tts"].InFlight < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the first request never got in flight")
		}
		time.Sleep(time.Millisecond)
	}
	_, err := b.p.Generate(context.Background(), speech("second", "", "", nil))
	if code := electrons.ErrorCode(err); code != electrons.CodeConcurrencyLimited {
		t.Fatalf("second: code = %s (%v), want concurrency_limited", code, err)
	}
	r := <-first
	if r.err != nil {
		t.Fatalf("first: %v", r.err)
	}
	if r.out.Limits == nil || r.out.Limits.Limit != 1 || r.out.Limits.Remaining != 0 {
		t.Errorf("first Limits = %+v, want 1 allowed, 0 free", r.out.Limits)
	}
	if st := b.fake.Stats()["elevenlabs.tts"]; st.Refused != 1 || st.MaxInFl < 2 {
		t.Errorf("stats = %+v, want 1 refused with 2 in flight", st)
	}
}

func TestVoices(t *testing.T) {
	t.Parallel()
	b := setup(t)
	vs, err := b.p.Voices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 || vs[0].ID != DefaultVoice || vs[0].Name != "Rachel" || vs[0].Category != "premade" ||
		vs[0].Labels["gender"] != "female" || !strings.HasPrefix(vs[0].PreviewURL, "https://") {
		t.Errorf("voices = %+v", vs)
	}
	if got := b.last(t); got.path != "/v1/voices" || got.key != "xi-test" {
		t.Errorf("request = %+v", got)
	}
}

func TestErrorFrom(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		status     int
		retryAfter string
		body       string
		code       electrons.Code
		param      string
		wait       time.Duration
	}{
		{429, "", `{"detail":{"type":"rate_limit_error","code":"concurrent_limit_exceeded","message":"…","status":"concurrent_limit_exceeded"}}`, electrons.CodeConcurrencyLimited, "", 0},
		{429, "", `{"detail":{"status":"too_many_concurrent_requests","message":"Too many concurrent requests"}}`, electrons.CodeConcurrencyLimited, "", 0},
		{429, "", `{"detail":{"status":"system_busy","message":"busy"}}`, electrons.CodeOverloaded, "", 0},
		{429, "4", `{"detail":{"code":"rate_limit_exceeded","message":"slow down"}}`, electrons.CodeRateLimited, "", 4 * time.Second},
		{429, "", ``, electrons.CodeRateLimited, "", 0},
		{401, "", `{"detail":{"status":"quota_exceeded","message":"You have insufficient quota"}}`, electrons.CodeQuotaExhausted, "", 0},
		{401, "", `{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}`, electrons.CodeAuthFailed, "", 0},
		{402, "", `{"detail":{"status":"payment_required","message":"pay"}}`, electrons.CodeQuotaExhausted, "", 0},
		{403, "", `{"detail":{"status":"missing_permissions","message":"no"}}`, electrons.CodeAuthFailed, "", 0},
		{400, "", `{"detail":{"type":"validation_error","code":"invalid_parameters","message":"bad","param":"model_id"}}`, electrons.CodeInvalidRequest, "model", 0},
		{400, "", `{"detail":{"status":"max_character_limit_exceeded","message":"This request's text has 627 characters"}}`, electrons.CodeInvalidRequest, "", 0},
		{400, "", `{"detail":{"status":"voice_not_found","message":"Voice not found"}}`, electrons.CodeInvalidRequest, "input.voice", 0},
		{404, "", `{"detail":{"status":"voice_not_found","message":"A voice with the voice_id x was not found."}}`, electrons.CodeInvalidRequest, "input.voice", 0},
		{422, "", `{"detail":[{"loc":["body","text"],"msg":"Field required","type":"missing"}]}`, electrons.CodeInvalidRequest, "input.prompt", 0},
		{400, "", `{"detail":{"code":"content_moderation","message":"blocked by moderation"}}`, electrons.CodeContentPolicy, "", 0},
		{500, "", `<html>Internal Server Error</html>`, electrons.CodeServerError, "", 0},
		{503, "2", `upstream unavailable`, electrons.CodeOverloaded, "", 2 * time.Second},
		{504, "", ``, electrons.CodeTimeout, "", 0},
	}
	for _, tc := range tests {
		h := http.Header{}
		if tc.retryAfter != "" {
			h.Set("Retry-After", tc.retryAfter)
		}
		e := errorFrom(tc.status, h, []byte(tc.body), now)
		if e.Code != tc.code || e.Param != tc.param || e.RetryAfter != tc.wait {
			t.Errorf("%d %s: got %s/%q/%v, want %s/%q/%v", tc.status, tc.body, e.Code, e.Param, e.RetryAfter, tc.code, tc.param, tc.wait)
		}
	}
}

func TestLimitsOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		max, cur string
		want     *providers.LimitState
	}{
		{"", "", nil},
		{"3", "1", &providers.LimitState{Limit: 3, Remaining: 2}},
		{"3", "5", &providers.LimitState{Limit: 3, Remaining: 0}},
		{"10", "", &providers.LimitState{Limit: 10, Remaining: 10}},
		{"many", "1", nil},
	}
	for _, tc := range tests {
		h := http.Header{}
		if tc.max != "" {
			h.Set("maximum-concurrent-requests", tc.max)
		}
		if tc.cur != "" {
			h.Set("current-concurrent-requests", tc.cur)
		}
		got := limitsOf(h)
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("limitsOf(%q, %q) = %+v, want %+v", tc.max, tc.cur, got, tc.want)
		}
	}
}

// Seeds of the fuzz targets: the real formats (ElevenLabs' documented error bodies, its voice
// list, the starts of its audio) and near misses.
var (
	seedErrors = []string{
		`{"detail":{"type":"validation_error","code":"invalid_parameters","message":"The 'keyterms' parameter is only supported with the 'scribe_v2' model.","status":"invalid_parameters","request_id":"3c807fc4c3a1705f9638ecc764a91c01","param":"keyterms"}}`,
		`{"detail":{"status":"quota_exceeded","message":"You have insufficient quota to complete this request"}}`,
		`{"detail":{"status":"too_many_concurrent_requests"}}`,
		`{"detail":[{"loc":["body","text"],"msg":"Field required","type":"missing"}]}`,
		`{"detail":"Not Found"}`,
		`{"detail":{"status":429}}`,
		`<html></html>`,
	}
	seedVoices = []string{
		`{"voices":[{"voice_id":"21m00Tcm4TlvDq8ikWAM","name":"Rachel","category":"premade","labels":{"accent":"american","age":"young"},"description":null,"preview_url":"https://storage.googleapis.com/x.mp3","settings":null}]}`,
		`{"voices":[]}`,
		`{"voices":[{"name":"no id"}]}`,
		`{"voices":[{"voice_id":"a","labels":{"n":1,"b":true,"z":null}}]}`,
		`{"voices":null}`,
		`[]`,
	}
	seedAudio = [][]byte{
		{0xFF, 0xFB, 0x90, 0xC4, 0, 0},
		[]byte("ID3\x04\x00\x00\x00\x00\x00\x00"),
		[]byte("OggS\x00\x02"),
		[]byte("RIFF\x24\x00\x00\x00WAVEfmt "),
		{0x01, 0x00, 0xFF, 0x7F},
		[]byte(`{"detail":{"status":"system_busy"}}`),
	}
	fuzzFormats = []string{"mp3_44100_128", "opus_48000_64", "wav_16000", "pcm_24000", "ulaw_8000", "alaw_8000"}
)

func FuzzErrorFrom(f *testing.F) {
	for i, s := range seedErrors {
		f.Add(400+i, "", []byte(s))
	}
	f.Add(429, "1.5", []byte(seedErrors[2]))
	f.Add(401, "Wed, 21 Oct 2015 07:28:00 GMT", []byte(seedErrors[1]))
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		e := errorFrom(status, h, body, time.Now())
		if e == nil || e.Code == "" || !strings.HasPrefix(e.Message, "elevenlabs: HTTP ") || e.RetryAfter < 0 {
			t.Fatalf("errorFrom(%d, %q) = %+v", status, body, e)
		}
		if e.Param != "" && e.Code != electrons.CodeInvalidRequest {
			t.Fatalf("param %q on a %s", e.Param, e.Code)
		}
	})
}

func FuzzDecodeVoices(f *testing.F) {
	for _, s := range seedVoices {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vs, err := decodeVoices(data)
		if err != nil {
			if electrons.ErrorCode(err) != electrons.CodeServerError || vs != nil {
				t.Fatalf("error %v with %v", err, vs)
			}
			return
		}
		if vs == nil {
			t.Fatal("nil list without an error")
		}
		for _, v := range vs {
			if v.ID == "" {
				t.Fatalf("voice without an id: %+v", v)
			}
		}
	})
}

func FuzzDecodeAudio(f *testing.F) {
	for i, a := range seedAudio {
		for j := range fuzzFormats {
			f.Add(uint8(i+j), "audio/mpeg", a)
		}
	}
	f.Add(uint8(0), "application/json", []byte(`{"detail":{}}`))
	f.Add(uint8(3), "text/html; charset=utf-8", []byte(`<html>`))
	f.Fuzz(func(t *testing.T, which uint8, ctype string, data []byte) {
		af, err := parseFormat(fuzzFormats[int(which)%len(fuzzFormats)])
		if err != nil {
			t.Fatal(err)
		}
		file, err := decodeAudio(af, ctype, data)
		if err != nil {
			if electrons.ErrorCode(err) != electrons.CodeServerError {
				t.Fatalf("error %v is not server_error", err)
			}
			return
		}
		if len(file.Data) < len(data) || len(data) == 0 {
			t.Fatalf("%d bytes of audio from %d", len(file.Data), len(data))
		}
		switch file.ContentType {
		case "audio/mpeg", "audio/ogg", "audio/basic":
			if !bytes.Equal(file.Data, data) {
				t.Fatal("audio changed")
			}
		case "audio/wav":
			if string(file.Data[:4]) != "RIFF" || string(file.Data[8:12]) != "WAVE" {
				t.Fatalf("audio/wav without a WAV header: %q", file.Data[:12])
			}
		default:
			t.Fatalf("content type %q", file.ContentType)
		}
	})
}

func FuzzParseFormat(f *testing.F) {
	for _, s := range append(fuzzFormats, "mp3_44100", "pcm_16000_16", "flac_44100", "", "_", "mp3__") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		af, err := parseFormat(s)
		if err != nil {
			if e := (*electrons.Error)(nil); !errors.As(err, &e) || e.Param != "input.options.output_format" {
				t.Fatalf("error %v", err)
			}
			return
		}
		if af.rate < 8000 || af.rate > 48000 || af.accept == "" || af.name != s {
			t.Fatalf("parseFormat(%q) = %+v", s, af)
		}
	})
}

func FuzzLimitsOf(f *testing.F) {
	f.Add("3", "1")
	f.Add("15", "15")
	f.Add("x", "-1")
	f.Fuzz(func(t *testing.T, maxV, cur string) {
		h := http.Header{}
		h.Set("maximum-concurrent-requests", maxV)
		h.Set("current-concurrent-requests", cur)
		if l := limitsOf(h); l != nil && (l.Limit < 0 || l.Remaining < 0 || l.Remaining > l.Limit) {
			t.Fatalf("limitsOf(%q, %q) = %+v", maxV, cur, l)
		}
	})
}
