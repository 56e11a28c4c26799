package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Pexels: GET /v1/search (photos) and GET /videos/search (videos), answered from a small
// deterministic catalogue, with the X-Ratelimit-* headers Pexels sends on every answer and the
// files hosted by this server.
func init() {
	registrations = append(registrations, func(s *Server) {
		s.Handle("pexels.photos", "GET /v1/search", pexelsDialect{}, servePexelsPhotos)
		s.Handle("pexels.videos", "GET /videos/search", pexelsDialect{}, servePexelsVideos)
	})
}

// Pexels' default allowance is 20,000 requests a month; the fake reports it when no Limit is
// configured, since Pexels always sends its headers.
const (
	pexelsMonthlyLimit = 20000
	pexelsDefaultPage  = 15
	pexelsMaxPerPage   = 80
)

// pexelsDialect writes Pexels' errors ({"error": "…"}) and its rate-limit headers.
type pexelsDialect struct{}

// pexelsNextMonth is when Pexels' monthly allowance resets after now.
func pexelsNextMonth(now time.Time) time.Time {
	y, m, _ := now.UTC().Date()
	return time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
}

// LimitHeaders sets X-Ratelimit-Limit, -Remaining and -Reset (Unix seconds).
func (pexelsDialect) LimitHeaders(h http.Header, s Snapshot) {
	limit, remaining, reset := s.LimitRequests, s.RemainingRequests, s.Reset
	if limit <= 0 {
		limit, remaining, reset = pexelsMonthlyLimit, pexelsMonthlyLimit-1, pexelsNextMonth(time.Now())
	}
	h.Set("X-Ratelimit-Limit", strconv.Itoa(limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(reset.Unix(), 10))
}

// WriteError answers as Pexels does.
func (pexelsDialect) WriteError(w http.ResponseWriter, fault string, s Snapshot) {
	h := w.Header()
	status, msg := http.StatusInternalServerError, "Internal Server Error"
	switch fault {
	case FaultRateLimit, FaultConcurrency:
		status, msg = http.StatusTooManyRequests, "Rate limit exceeded"
		reset := s.Reset
		if s.LimitRequests <= 0 || reset.IsZero() {
			reset = time.Now().Add(time.Minute)
		}
		h.Set("X-Ratelimit-Remaining", "0")
		h.Set("X-Ratelimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	case FaultQuota:
		// The monthly allowance is spent: a 429 whose reset is the start of next month.
		status, msg = http.StatusTooManyRequests, "Monthly rate limit exceeded"
		h.Set("X-Ratelimit-Remaining", "0")
		h.Set("X-Ratelimit-Reset", strconv.FormatInt(pexelsNextMonth(time.Now()).Unix(), 10))
	case FaultAuth:
		status, msg = http.StatusUnauthorized, "Unauthorized"
	case FaultInvalid, FaultContentPolicy:
		status, msg = http.StatusBadRequest, "Bad Request"
	case FaultOverloaded:
		status, msg = http.StatusServiceUnavailable, "Service Unavailable"
	}
	WriteJSON(w, status, map[string]string{"error": msg})
}

// pexelsEntry is one item of the fake's catalogue.
type pexelsEntry struct {
	id       int64
	title    string
	tags     []string
	w, h     int
	author   string
	color    color.RGBA
	duration int // videos only
}

var pexelsPhotoCatalogue = []pexelsEntry{
	{3031075, "Grey cliff beside the ocean", []string{"ocean", "sea", "cliff", "coast", "nature", "water"}, 3686, 4607, "Simon Clayton", color.RGBA{0x5b, 0x6e, 0x7a, 255}, 0},
	{1032650, "Sandy beach at sunset", []string{"beach", "sunset", "sand", "sea", "summer", "nature"}, 6000, 4000, "Asad Photo", color.RGBA{0xd9, 0x8a, 0x4e, 255}, 0},
	{417173, "Snow-capped mountain peak", []string{"mountain", "snow", "peak", "landscape", "nature", "winter"}, 4872, 3248, "Pixabay", color.RGBA{0x8f, 0xa6, 0xbf, 255}, 0},
	{1578750, "Pine forest in the morning mist", []string{"forest", "trees", "mist", "nature", "green"}, 5184, 3456, "Lum3n", color.RGBA{0x3e, 0x5a, 0x3c, 255}, 0},
	{2246476, "City skyline at night", []string{"city", "skyline", "night", "lights", "urban", "buildings"}, 5472, 3648, "Pixabay", color.RGBA{0x1c, 0x22, 0x3a, 255}, 0},
	{45201, "Kitten on a blanket", []string{"cat", "kitten", "pet", "animal", "cute"}, 3000, 3000, "Kaboompics", color.RGBA{0xb8, 0xa8, 0x98, 255}, 0},
	{1805164, "Dog running on the grass", []string{"dog", "pet", "animal", "grass", "running"}, 4000, 6000, "Valeria Boltneva", color.RGBA{0x7d, 0x8c, 0x4a, 255}, 0},
	{312418, "Cup of coffee on a wooden table", []string{"coffee", "cup", "cafe", "morning", "drink", "table"}, 4608, 3072, "Chevanon Photography", color.RGBA{0x6b, 0x4a, 0x33, 255}, 0},
	{1287145, "Field of wild flowers", []string{"flowers", "field", "spring", "nature", "bloom"}, 5472, 3648, "Pixabay", color.RGBA{0xc4, 0x5a, 0x8e, 255}, 0},
	{374074, "Laptop on an office desk", []string{"office", "desk", "laptop", "work", "business", "computer"}, 5000, 3333, "Pixabay", color.RGBA{0xd0, 0xd0, 0xcc, 255}, 0},
	{1166209, "Waves crashing on rocks", []string{"ocean", "waves", "rocks", "sea", "water", "storm"}, 4000, 2667, "Emiliano Arano", color.RGBA{0x2f, 0x5d, 0x7c, 255}, 0},
	{1323550, "Desert dunes under a blue sky", []string{"desert", "dunes", "sand", "sky", "landscape"}, 6000, 4000, "Pixabay", color.RGBA{0xd8, 0xb0, 0x7a, 255}, 0},
}

var pexelsVideoCatalogue = []pexelsEntry{
	{2169880, "Aerial view of a beautiful resort", []string{"ocean", "beach", "resort", "aerial", "drone", "sea", "water"}, 3840, 2160, "Taryn Elliott", color.RGBA{0x3a, 0x8c, 0xa8, 255}, 14},
	{856973, "Waves rolling onto the shore", []string{"ocean", "waves", "sea", "beach", "water", "nature"}, 1920, 1080, "Pixabay", color.RGBA{0x2f, 0x5d, 0x7c, 255}, 25},
	{1409899, "Time lapse of a city at night", []string{"city", "night", "timelapse", "traffic", "urban", "lights"}, 4096, 2160, "Pressmaster", color.RGBA{0x1c, 0x22, 0x3a, 255}, 18},
	{3571264, "Clouds drifting over mountains", []string{"mountain", "clouds", "sky", "landscape", "nature"}, 3840, 2160, "Ruvim Miksanskiy", color.RGBA{0x8f, 0xa6, 0xbf, 255}, 20},
	{854982, "Pouring coffee into a cup", []string{"coffee", "cup", "cafe", "drink", "morning"}, 1280, 720, "Pixabay", color.RGBA{0x6b, 0x4a, 0x33, 255}, 9},
	{4434242, "Person typing on a laptop", []string{"office", "laptop", "work", "typing", "business", "computer"}, 2160, 3840, "Cottonbro Studio", color.RGBA{0xd0, 0xd0, 0xcc, 255}, 12},
}

// pexelsSlug is the URL form of a title: "Sandy beach at sunset" → "sandy-beach-at-sunset".
func pexelsSlug(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	return strings.Join(f, "-")
}

// pexelsWords splits a query into lower-case words, singular where a trailing s makes a plural.
func pexelsWords(q string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		out = append(out, strings.TrimSuffix(w, "s"))
	}
	return out
}

// pexelsSearch ranks the catalogue by how many query words each entry matches (tags and title
// words). A query that matches nothing gets the whole catalogue, as Pexels' fuzzy search
// nearly always finds something.
func pexelsSearch(cat []pexelsEntry, query, orientation string) []pexelsEntry {
	words := pexelsWords(query)
	type scored struct {
		e     pexelsEntry
		score int
	}
	var hits []scored
	for _, e := range cat {
		vocab := map[string]bool{}
		for _, t := range append(append([]string{}, e.tags...), pexelsWords(e.title)...) {
			vocab[strings.TrimSuffix(t, "s")] = true
		}
		n := 0
		for _, w := range words {
			if vocab[w] {
				n++
			}
		}
		if n > 0 {
			hits = append(hits, scored{e, n})
		}
	}
	var out []pexelsEntry
	if len(hits) == 0 {
		out = append(out, cat...)
	} else {
		// A stable insertion sort by score keeps catalogue order among equals.
		for i := 1; i < len(hits); i++ {
			for j := i; j > 0 && hits[j].score > hits[j-1].score; j-- {
				hits[j], hits[j-1] = hits[j-1], hits[j]
			}
		}
		for _, h := range hits {
			out = append(out, h.e)
		}
	}
	if orientation == "" {
		return out
	}
	var kept []pexelsEntry
	for _, e := range out {
		switch {
		case orientation == "landscape" && e.w > e.h,
			orientation == "portrait" && e.h > e.w,
			orientation == "square" && e.w == e.h,
			orientation != "landscape" && orientation != "portrait" && orientation != "square":
			kept = append(kept, e)
		}
	}
	return kept
}

// pexelsPage reads the paging parameters as Pexels does: defaults for anything unreadable.
func pexelsPage(q url.Values) (page, perPage int) {
	page, perPage = 1, pexelsDefaultPage
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		page = n
	}
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 {
		perPage = min(n, pexelsMaxPerPage)
	}
	return page, perPage
}

// pexelsPNGs caches the rendered images: they depend on the catalogue entry only.
var pexelsPNGs sync.Map // int64 → []byte

// pexelsPNG is a small real PNG in the entry's aspect ratio and average colour, with a
// gradient so that it is not a flat fill.
func pexelsPNG(e pexelsEntry) []byte {
	if b, ok := pexelsPNGs.Load(e.id); ok {
		return b.([]byte)
	}
	w, h := 64, 64
	if e.w > e.h {
		h = max(16, 64*e.h/e.w)
	} else if e.h > e.w {
		w = max(16, 64*e.w/e.h)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			k := uint8((x + y) * 64 / (w + h))
			img.Set(x, y, color.RGBA{e.color.R/2 + k, e.color.G/2 + k, e.color.B/2 + k, 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory cannot fail
	b, _ := pexelsPNGs.LoadOrStore(e.id, buf.Bytes())
	return b.([]byte)
}

// pexelsPhotoSrcs are the renditions of a photo and the query strings Pexels' CDN gives them.
var pexelsPhotoSrcs = []struct{ name, query string }{
	{"original", ""},
	{"large2x", "?auto=compress&cs=tinysrgb&dpr=2&h=650&w=940"},
	{"large", "?auto=compress&cs=tinysrgb&h=650&w=940"},
	{"medium", "?auto=compress&cs=tinysrgb&h=350"},
	{"small", "?auto=compress&cs=tinysrgb&h=130"},
	{"portrait", "?auto=compress&cs=tinysrgb&fit=crop&h=1200&w=800"},
	{"landscape", "?auto=compress&cs=tinysrgb&fit=crop&h=627&w=1200"},
	{"tiny", "?auto=compress&cs=tinysrgb&dpr=1&fit=crop&h=200&w=280"},
}

func pexelsAuthorURL(name string) string { return "https://www.pexels.com/@" + pexelsSlug(name) }

// pexelsAuthorID is a stable id for a photographer, from their name.
func pexelsAuthorID(name string) int64 {
	var h int64 = 17
	for _, r := range name {
		h = (h*31 + int64(r)) % 10_000_000
	}
	return h
}

// pexelsLinks builds prev_page and next_page as Pexels does, on this server's address.
func pexelsLinks(out map[string]any, r *http.Request, total, page, perPage int) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	link := func(p int) string {
		q := url.Values{"page": {strconv.Itoa(p)}, "per_page": {strconv.Itoa(perPage)}, "query": {r.URL.Query().Get("query")}}
		return scheme + "://" + r.Host + strings.TrimRight(r.URL.Path, "/") + "/?" + q.Encode()
	}
	if page > 1 {
		out["prev_page"] = link(page - 1)
	}
	if page*perPage < total {
		out["next_page"] = link(page + 1)
	}
}

// pexelsSlice is one page of hits.
func pexelsSlice(hits []pexelsEntry, page, perPage int) []pexelsEntry {
	from := (page - 1) * perPage
	if from >= len(hits) || from < 0 {
		return nil
	}
	return hits[from:min(from+perPage, len(hits))]
}

// pexelsWrite answers with body, or produces the fault the decision asks of the handler.
func pexelsWrite(w http.ResponseWriter, dec *Decision, body map[string]any) {
	pexelsDialect{}.LimitHeaders(w.Header(), dec.Snapshot)
	switch dec.Fault {
	case FaultMalformed:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<html><body><h1>Pexels</h1><p>Something went wrong.</p></body></html>"))
		return
	case FaultTruncate:
		b, _ := json.Marshal(body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b[:len(b)/2])
		return
	}
	WriteJSON(w, http.StatusOK, body)
}

// pexelsQuery checks the query parameter, which Pexels requires.
func pexelsQuery(w http.ResponseWriter, r *http.Request, dec *Decision) (string, bool) {
	q := strings.TrimSpace(r.URL.Query().Get("query"))
	if q == "" {
		pexelsDialect{}.LimitHeaders(w.Header(), dec.Snapshot)
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "query is required"})
		return "", false
	}
	return q, true
}

func servePexelsPhotos(w http.ResponseWriter, r *http.Request, dec *Decision) {
	query, ok := pexelsQuery(w, r, dec)
	if !ok {
		return
	}
	page, perPage := pexelsPage(r.URL.Query())
	hits := pexelsSearch(pexelsPhotoCatalogue, query, r.URL.Query().Get("orientation"))
	photos := []map[string]any{}
	for _, e := range pexelsSlice(hits, page, perPage) {
		file := dec.Host(fmt.Sprintf("pexels-photo-%d.png", e.id), "image/png", pexelsPNG(e))
		src := map[string]string{}
		for _, s := range pexelsPhotoSrcs {
			src[s.name] = file + s.query
		}
		photos = append(photos, map[string]any{
			"id":               e.id,
			"width":            e.w,
			"height":           e.h,
			"url":              fmt.Sprintf("https://www.pexels.com/photo/%s-%d/", pexelsSlug(e.title), e.id),
			"photographer":     e.author,
			"photographer_url": pexelsAuthorURL(e.author),
			"photographer_id":  pexelsAuthorID(e.author),
			"avg_color":        fmt.Sprintf("#%02X%02X%02X", e.color.R, e.color.G, e.color.B),
			"src":              src,
			"liked":            false,
			"alt":              e.title,
		})
	}
	out := map[string]any{"total_results": len(hits), "page": page, "per_page": perPage, "photos": photos}
	pexelsLinks(out, r, len(hits), page, perPage)
	pexelsWrite(w, dec, out)
}

// pexelsRenditions are the widths Pexels transcodes a video to (never wider than the source).
var pexelsRenditions = []struct {
	quality string
	width   int
}{{"uhd", 3840}, {"hd", 1920}, {"hd", 1280}, {"sd", 960}, {"sd", 640}}

func servePexelsVideos(w http.ResponseWriter, r *http.Request, dec *Decision) {
	query, ok := pexelsQuery(w, r, dec)
	if !ok {
		return
	}
	page, perPage := pexelsPage(r.URL.Query())
	hits := pexelsSearch(pexelsVideoCatalogue, query, r.URL.Query().Get("orientation"))
	videos := []map[string]any{}
	for _, e := range pexelsSlice(hits, page, perPage) {
		picture := dec.Host(fmt.Sprintf("pexels-video-%d-preview.png", e.id), "image/png", pexelsPNG(e))
		long, short := max(e.w, e.h), min(e.w, e.h)
		files := []map[string]any{}
		for i, rd := range pexelsRenditions {
			if rd.width > long {
				continue
			}
			fw, fh := rd.width, rd.width*short/long
			if e.h > e.w {
				fw, fh = fh, fw
			}
			data := shotstackMP4(fw, fh, float64(e.duration))
			files = append(files, map[string]any{
				"id":        e.id*10 + int64(i),
				"quality":   rd.quality,
				"file_type": "video/mp4",
				"width":     fw,
				"height":    fh,
				"fps":       25,
				"link":      dec.Host(fmt.Sprintf("pexels-video-%d-%d.mp4", e.id, fw), "video/mp4", data),
				"size":      len(data),
			})
		}
		// The adaptive stream Pexels lists too: no width, and not an MP4.
		files = append(files, map[string]any{
			"id": e.id*10 + 9, "quality": "hls", "file_type": "application/x-mpegURL",
			"width": nil, "height": nil, "fps": nil,
			"link": fmt.Sprintf("https://player.vimeo.com/external/%d.m3u8", e.id),
		})
		videos = append(videos, map[string]any{
			"id":             e.id,
			"width":          e.w,
			"height":         e.h,
			"duration":       e.duration,
			"full_res":       nil,
			"tags":           []string{},
			"url":            fmt.Sprintf("https://www.pexels.com/video/%s-%d/", pexelsSlug(e.title), e.id),
			"image":          picture,
			"avg_color":      nil,
			"user":           map[string]any{"id": pexelsAuthorID(e.author), "name": e.author, "url": pexelsAuthorURL(e.author)},
			"video_files":    files,
			"video_pictures": []map[string]any{{"id": e.id * 100, "nr": 0, "picture": picture}},
		})
	}
	out := map[string]any{"page": page, "per_page": perPage, "total_results": len(hits),
		"url": "https://www.pexels.com/videos/", "videos": videos}
	pexelsLinks(out, r, len(hits), page, perPage)
	pexelsWrite(w, dec, out)
}
