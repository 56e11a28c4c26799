package pexels

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
	"github.com/distributed-electrons/electrons/providers/fake"
)

const testKey = "pexels-test-key"

// setup starts a fake server and a provider pointed at it.
func setup(t *testing.T) (*fake.Server, *httptest.Server, *Provider) {
	t.Helper()
	fs := fake.New()
	ts := httptest.NewServer(fs.Handler())
	t.Cleanup(ts.Close)
	fs.BaseURL = ts.URL
	return fs, ts, New(Config{APIKey: testKey, BaseURL: ts.URL, HTTPClient: ts.Client()})
}

func stockCall(in electrons.Input) providers.Call {
	return providers.Call{RequestID: "req_test", TaskType: electrons.TaskStockMedia, Model: "pexels-search", Input: in}
}

func wantCode(t *testing.T, err error, code electrons.Code) *electrons.Error {
	t.Helper()
	var e *electrons.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want an *electrons.Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s, want %s (%v)", e.Code, code, err)
	}
	if !strings.Contains(e.Error(), "pexels") {
		t.Fatalf("error %q does not name the provider", e.Error())
	}
	return e
}

func fetch(t *testing.T, client *http.Client, url string) ([]byte, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, resp.Header.Get("Content-Type")
}

func TestName(t *testing.T) {
	t.Parallel()
	if got := New(Config{}).Name(); got != "pexels" {
		t.Fatalf("Name() = %q", got)
	}
}

func TestSearchPhotos(t *testing.T) {
	t.Parallel()
	_, _, p := setup(t)
	out, err := p.Generate(context.Background(), stockCall(electrons.Input{Query: "ocean cliff", Options: map[string]any{"per_page": float64(3)}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) == 0 || len(out.Items) > 3 {
		t.Fatalf("got %d items, want 1..3", len(out.Items))
	}
	if len(out.Files) != 0 {
		t.Fatalf("got %d files without download", len(out.Files))
	}
	want := electrons.StockItem{ID: "pexels-photo-3031075", Kind: "photo", Title: "Grey cliff beside the ocean",
		URL: "https://www.pexels.com/photo/grey-cliff-beside-the-ocean-3031075/", Width: 3686, Height: 4607,
		Author: "Simon Clayton", AuthorURL: "https://www.pexels.com/@simon-clayton", ContentType: "image/png"}
	if out.Items[0] != want {
		t.Fatalf("first item = %+v\nwant %+v", out.Items[0], want)
	}
	if out.Limits == nil || out.Limits.Limit != 20000 || out.Limits.Remaining <= 0 || !out.Limits.Reset.After(time.Now()) {
		t.Fatalf("limits = %+v, want Pexels' monthly allowance", out.Limits)
	}
}

func TestSearchPromptWhenNoQuery(t *testing.T) {
	t.Parallel()
	_, _, p := setup(t)
	out, err := p.Generate(context.Background(), stockCall(electrons.Input{Prompt: "a cup of coffee", Options: map[string]any{"per_page": 1}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 || out.Items[0].ID != "pexels-photo-312418" {
		t.Fatalf("items = %+v, want the coffee photo", out.Items)
	}
}

func TestSearchPhotosDownload(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src, wantQuery string
	}{
		{"", "h=650&w=940"},       // large by default
		{"original", ""},          // the file itself
		{"tiny", "w=280"},         // any named rendition
		{"landscape", "w=1200"},   // …
		{"large2x", "dpr=2&h=65"}, // …
	} {
		t.Run("src="+tc.src, func(t *testing.T) {
			t.Parallel()
			_, ts, p := setup(t)
			opts := map[string]any{"per_page": 4}
			if tc.src != "" {
				opts["photo_src"] = tc.src
			}
			out, err := p.Generate(context.Background(), stockCall(electrons.Input{Query: "beach", Download: true, Options: opts}))
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Items) == 0 || len(out.Files) != len(out.Items) {
				t.Fatalf("%d items, %d files: want one file per item", len(out.Items), len(out.Files))
			}
			for i, f := range out.Files {
				if f.ContentType != out.Items[i].ContentType || f.ContentType != "image/png" {
					t.Fatalf("file %d content type %q, item's %q", i, f.ContentType, out.Items[i].ContentType)
				}
				if !strings.Contains(f.URL, tc.wantQuery) || (tc.wantQuery == "" && strings.Contains(f.URL, "?")) {
					t.Fatalf("file %d URL %s, want the %q rendition", i, f.URL, tc.src)
				}
				data, ct := fetch(t, ts.Client(), f.URL)
				if ct != "image/png" {
					t.Fatalf("hosted content type %q", ct)
				}
				img, err := png.Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("hosted photo is not a PNG: %v", err)
				}
				if b := img.Bounds(); b.Dx() < 16 || b.Dy() < 16 {
					t.Fatalf("hosted photo is %v", b)
				}
			}
		})
	}
}

func TestSearchVideosDownload(t *testing.T) {
	t.Parallel()
	_, ts, p := setup(t)
	out, err := p.Generate(context.Background(), stockCall(electrons.Input{
		Query: "ocean waves", Download: true, Options: map[string]any{"kind": "video", "per_page": float64(80)}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) < 2 || len(out.Files) != len(out.Items) {
		t.Fatalf("%d items, %d files", len(out.Items), len(out.Files))
	}
	first := out.Items[0]
	want := electrons.StockItem{ID: "pexels-video-856973", Kind: "video", Title: "Waves rolling onto the shore",
		URL: "https://www.pexels.com/video/waves-rolling-onto-the-shore-856973/", Width: 1920, Height: 1080, DurationS: 25,
		Author: "Pixabay", AuthorURL: "https://www.pexels.com/@pixabay", ContentType: "video/mp4"}
	if first != want {
		t.Fatalf("first item = %+v\nwant %+v", first, want)
	}
	// The widest MP4 no wider than 1920: the full-HD rendition of the 4K resort video as well.
	for i, it := range out.Items {
		f := out.Files[i]
		if f.ContentType != "video/mp4" {
			t.Fatalf("file %d content type %q", i, f.ContentType)
		}
		switch it.ID {
		case "pexels-video-856973", "pexels-video-2169880":
			if !strings.HasSuffix(f.URL, "-1920.mp4") {
				t.Fatalf("%s: chose %s, want the 1920-wide file", it.ID, f.URL)
			}
		}
		data, _ := fetch(t, ts.Client(), f.URL)
		if len(data) < 12 || string(data[4:8]) != "ftyp" || !bytes.Contains(data, []byte("moov")) {
			t.Fatalf("hosted video %s is not an MP4", f.URL)
		}
	}
}

func TestSearchPortraitVideo(t *testing.T) {
	t.Parallel()
	_, _, p := setup(t)
	out, err := p.Generate(context.Background(), stockCall(electrons.Input{
		Query: "typing", Download: true, Options: map[string]any{"kind": "videos", "orientation": "portrait", "per_page": 1}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 || out.Items[0].ID != "pexels-video-4434242" {
		t.Fatalf("items = %+v", out.Items)
	}
	// 2160x3840: its renditions are 2160, 1080, 720, … wide; 1080 is the widest within 1920.
	if !strings.HasSuffix(out.Files[0].URL, "-1080.mp4") {
		t.Fatalf("chose %s", out.Files[0].URL)
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	_, _, p := setup(t)
	for _, tc := range []struct {
		name  string
		call  providers.Call
		param string
	}{
		{"task", providers.Call{TaskType: electrons.TaskText, Input: electrons.Input{Prompt: "x"}}, "task_type"},
		{"no query", stockCall(electrons.Input{Query: "  "}), "input.query"},
		{"kind", stockCall(electrons.Input{Query: "x", Options: map[string]any{"kind": "gif"}}), "input.options.kind"},
		{"kind type", stockCall(electrons.Input{Query: "x", Options: map[string]any{"kind": 3}}), "input.options.kind"},
		{"per_page zero", stockCall(electrons.Input{Query: "x", Options: map[string]any{"per_page": 0}}), "input.options.per_page"},
		{"per_page text", stockCall(electrons.Input{Query: "x", Options: map[string]any{"per_page": "many"}}), "input.options.per_page"},
		{"per_page fraction", stockCall(electrons.Input{Query: "x", Options: map[string]any{"per_page": 2.5}}), "input.options.per_page"},
		{"page", stockCall(electrons.Input{Query: "x", Options: map[string]any{"page": -1}}), "input.options.page"},
		{"photo_src", stockCall(electrons.Input{Query: "x", Options: map[string]any{"photo_src": "huge"}}), "input.options.photo_src"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := p.Generate(context.Background(), tc.call)
			if e := wantCode(t, err, electrons.CodeInvalidRequest); e.Param != tc.param {
				t.Fatalf("param = %q, want %q", e.Param, tc.param)
			}
		})
	}
}

func TestParseSearchParams(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   electrons.Input
		path string
		want string
	}{
		{"defaults", electrons.Input{Query: "sea"}, "/v1/search", "page=1&per_page=5&query=sea"},
		{"clamped", electrons.Input{Query: "sea", Options: map[string]any{"per_page": 500, "page": "2"}}, "/v1/search", "page=2&per_page=80&query=sea"},
		{"filters", electrons.Input{Query: "sea", Options: map[string]any{"orientation": "square", "size": "large", "color": "blue", "locale": "de-DE"}},
			"/v1/search", "color=blue&locale=de-DE&orientation=square&page=1&per_page=5&query=sea&size=large"},
		{"video", electrons.Input{Prompt: "city night", Options: map[string]any{"kind": "video"}}, "/videos/search", "page=1&per_page=5&query=city+night"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := parseSearch(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if s.path() != tc.path || s.values.Encode() != tc.want {
				t.Fatalf("got %s?%s, want %s?%s", s.path(), s.values.Encode(), tc.path, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fault    string
		code     electrons.Code
		minRetry time.Duration
		maxRetry time.Duration
	}{
		{fake.FaultRateLimit, electrons.CodeRateLimited, time.Second, 61 * time.Second},
		{fake.FaultConcurrency, electrons.CodeRateLimited, time.Second, 61 * time.Second},
		// The monthly allowance spent: still a 429, whose reset is the start of next month.
		{fake.FaultQuota, electrons.CodeRateLimited, time.Second, 32 * 24 * time.Hour},
		{fake.FaultAuth, electrons.CodeAuthFailed, 0, 0},
		{fake.FaultInvalid, electrons.CodeInvalidRequest, 0, 0},
		{fake.FaultContentPolicy, electrons.CodeInvalidRequest, 0, 0},
		{fake.FaultServer, electrons.CodeServerError, 0, 0},
		{fake.FaultOverloaded, electrons.CodeServerError, 0, 0},
		{fake.FaultMalformed, electrons.CodeServerError, 0, 0},
		{fake.FaultTruncate, electrons.CodeServerError, 0, 0},
		{fake.FaultTimeout, electrons.CodeTimeout, 0, 0},
	} {
		for _, kind := range []string{"photo", "video"} {
			t.Run(tc.fault+"/"+kind, func(t *testing.T) {
				t.Parallel()
				fs, _, p := setup(t)
				fs.Configure("pexels.", fake.RouteConfig{Faults: map[string]float64{tc.fault: 1}})
				ctx := context.Background()
				if tc.fault == fake.FaultTimeout {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
					defer cancel()
				}
				_, err := p.Generate(ctx, stockCall(electrons.Input{Query: "ocean", Download: true, Options: map[string]any{"kind": kind}}))
				e := wantCode(t, err, tc.code)
				if e.RetryAfter < tc.minRetry || e.RetryAfter > tc.maxRetry {
					t.Fatalf("RetryAfter = %v, want %v..%v", e.RetryAfter, tc.minRetry, tc.maxRetry)
				}
				if got := fs.Stats()["pexels."+kind+"s"].Faults; got != 1 {
					t.Fatalf("fake counted %d faults, want 1", got)
				}
			})
		}
	}
}

func TestLimit(t *testing.T) {
	t.Parallel()
	fs, _, p := setup(t)
	fs.Configure("pexels.photos", fake.RouteConfig{Limit: &fake.Limit{Requests: 2, WindowMS: 60_000}})
	call := stockCall(electrons.Input{Query: "mountain"})
	for i, remaining := range []int{1, 0} {
		out, err := p.Generate(context.Background(), call)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		l := out.Limits
		if l == nil || l.Limit != 2 || l.Remaining != remaining {
			t.Fatalf("call %d: limits = %+v, want limit 2, remaining %d", i, l, remaining)
		}
		if wait := time.Until(l.Reset); wait <= 0 || wait > 61*time.Second {
			t.Fatalf("call %d: reset in %v", i, wait)
		}
	}
	_, err := p.Generate(context.Background(), call)
	e := wantCode(t, err, electrons.CodeRateLimited)
	if e.RetryAfter <= 0 || e.RetryAfter > 61*time.Second {
		t.Fatalf("RetryAfter = %v, want the rest of the window", e.RetryAfter)
	}
	if st := fs.Stats()["pexels.photos"]; st.Refused != 1 || st.Requests != 3 {
		t.Fatalf("stats = %+v, want 3 requests, 1 refused", st)
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	fs, ts, p := setup(t)
	fs.SetKeys(testKey)
	if _, err := p.Generate(context.Background(), stockCall(electrons.Input{Query: "dog"})); err != nil {
		t.Fatalf("right key: %v", err)
	}
	wrong := New(Config{APIKey: "wrong", BaseURL: ts.URL, HTTPClient: ts.Client()})
	_, err := wrong.Generate(context.Background(), stockCall(electrons.Input{Query: "dog"}))
	wantCode(t, err, electrons.CodeAuthFailed)
}

func TestTransportError(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.NotFoundHandler())
	base := ts.URL
	ts.Close()
	_, err := New(Config{BaseURL: base}).Generate(context.Background(), stockCall(electrons.Input{Query: "x"}))
	wantCode(t, err, electrons.CodeServerError)
}

func TestStatusMapping(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		status int
		header http.Header
		body   string
		code   electrons.Code
		retry  time.Duration
		msg    string
	}{
		{429, http.Header{"X-Ratelimit-Limit": {"200"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1700000042"}}, `{"error":"Rate limit exceeded"}`, electrons.CodeRateLimited, 42 * time.Second, "Rate limit exceeded"},
		{429, http.Header{"Retry-After": {"7"}, "X-Ratelimit-Reset": {"1700000042"}}, ``, electrons.CodeRateLimited, 7 * time.Second, "Too Many Requests"},
		{429, http.Header{"X-Ratelimit-Limit": {"200"}, "X-Ratelimit-Reset": {"1600000000"}}, ``, electrons.CodeRateLimited, 0, ""},
		{401, nil, `{"status":401,"code":"Unauthorized"}`, electrons.CodeAuthFailed, 0, "Unauthorized"},
		{403, nil, `Forbidden`, electrons.CodeAuthFailed, 0, "Forbidden"},
		{400, nil, `{"error":"query is required"}`, electrons.CodeInvalidRequest, 0, "query is required"},
		{404, nil, `<html>nope</html>`, electrons.CodeInvalidRequest, 0, "Not Found"},
		{500, nil, ``, electrons.CodeServerError, 0, "Internal Server Error"},
		{503, nil, ``, electrons.CodeServerError, 0, ""},
		{504, nil, ``, electrons.CodeServerError, 0, ""},
	} {
		e := statusError(tc.status, tc.header, []byte(tc.body), parseLimits(tc.header), now)
		if e.Code != tc.code || e.RetryAfter != tc.retry || !strings.Contains(e.Message, tc.msg) || !strings.HasPrefix(e.Message, "pexels: ") {
			t.Errorf("%d %s: got %s %v %q", tc.status, tc.body, e.Code, e.RetryAfter, e.Message)
		}
	}
}

func TestParseLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		h    http.Header
		want *providers.LimitState
	}{
		{"none", http.Header{}, nil},
		{"all", http.Header{"X-Ratelimit-Limit": {"20000"}, "X-Ratelimit-Remaining": {"19684"}, "X-Ratelimit-Reset": {"1590529646"}},
			&providers.LimitState{Limit: 20000, Remaining: 19684, Reset: time.Unix(1590529646, 0)}},
		{"no reset", http.Header{"X-Ratelimit-Limit": {"200"}, "X-Ratelimit-Remaining": {"3"}}, &providers.LimitState{Limit: 200, Remaining: 3}},
		{"bad reset", http.Header{"X-Ratelimit-Remaining": {"3"}, "X-Ratelimit-Reset": {"soon"}}, &providers.LimitState{Remaining: 3}},
		{"absurd reset", http.Header{"X-Ratelimit-Remaining": {"3"}, "X-Ratelimit-Reset": {"99999999999999"}}, &providers.LimitState{Remaining: 3}},
		{"negative", http.Header{"X-Ratelimit-Limit": {"-5"}, "X-Ratelimit-Remaining": {"-1"}}, &providers.LimitState{}},
		{"garbage", http.Header{"X-Ratelimit-Limit": {"lots"}, "X-Ratelimit-Remaining": {"1e9"}}, nil},
	} {
		got := parseLimits(tc.h)
		switch {
		case (got == nil) != (tc.want == nil):
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		case got != nil && (got.Limit != tc.want.Limit || got.Remaining != tc.want.Remaining || !got.Reset.Equal(tc.want.Reset)):
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestChooseVideoFile(t *testing.T) {
	t.Parallel()
	w := func(n int) *int { return &n }
	for _, tc := range []struct {
		name  string
		files []videoFile
		want  string
	}{
		{"widest within 1920", []videoFile{{FileType: "video/mp4", Width: w(3840), Link: "a"}, {FileType: "video/mp4", Width: w(1920), Link: "b"}, {FileType: "video/mp4", Width: w(1280), Link: "c"}}, "b"},
		{"only wider", []videoFile{{FileType: "video/mp4", Width: w(4096), Link: "a"}, {FileType: "video/mp4", Width: w(2560), Link: "b"}}, "b"},
		{"no width", []videoFile{{FileType: "application/x-mpegURL", Link: "h"}, {FileType: "video/mp4", Link: "m"}}, "m"},
		{"not mp4", []videoFile{{FileType: "video/webm", Width: w(640), Link: "x"}}, ""},
		{"no link", []videoFile{{FileType: "video/mp4", Width: w(640)}}, ""},
	} {
		f, ok := chooseVideoFile(tc.files)
		if f.Link != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: got %q %v, want %q", tc.name, f.Link, ok, tc.want)
		}
	}
}

func TestTitleFromPage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://www.pexels.com/video/aerial-view-of-beautiful-resort-2169880/": "Aerial view of beautiful resort",
		"https://www.pexels.com/photo/417173/":                                  "",
		"https://www.pexels.com/photo/trees/":                                   "Trees",
		"":                                                                      "",
		"::bad":                                                                 "",
	} {
		if got := titleFromPage(in); got != want {
			t.Errorf("titleFromPage(%q) = %q, want %q", in, got, want)
		}
	}
}
