package pexels

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/distributed-electrons/electrons"
	"github.com/distributed-electrons/electrons/providers"
)

// Stock item kinds.
const (
	KindPhoto = "photo"
	KindVideo = "video"
)

// maxVideoWidth is the widest video file downloaded: full HD is plenty for every use we know
// of, and Pexels' 4K files run to hundreds of megabytes.
const maxVideoWidth = 1920

// searchResult is Pexels' answer to /v1/search and /videos/search. The pointers tell a missing
// list (not a Pexels answer) from an empty one (no hits).
type searchResult struct {
	Page         int      `json:"page"`
	PerPage      int      `json:"per_page"`
	TotalResults int      `json:"total_results"`
	Photos       *[]photo `json:"photos"`
	Videos       *[]video `json:"videos"`
}

type photo struct {
	ID              int64             `json:"id"`
	Width           int               `json:"width"`
	Height          int               `json:"height"`
	URL             string            `json:"url"`
	Photographer    string            `json:"photographer"`
	PhotographerURL string            `json:"photographer_url"`
	Alt             string            `json:"alt"`
	Src             map[string]string `json:"src"`
}

type video struct {
	ID         int64       `json:"id"`
	Width      int         `json:"width"`
	Height     int         `json:"height"`
	URL        string      `json:"url"`
	Duration   float64     `json:"duration"`
	User       videoUser   `json:"user"`
	VideoFiles []videoFile `json:"video_files"`
}

type videoUser struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type videoFile struct {
	Quality  string `json:"quality"`
	FileType string `json:"file_type"`
	// Width is null for streaming (HLS) entries.
	Width  *int   `json:"width"`
	Height *int   `json:"height"`
	Link   string `json:"link"`
}

// parseSearchResponse reads a search answer of the given kind into stock items and, when
// download is set, one file per item in the same order (items without a downloadable file are
// left out then, so that the worker can pair items and files by position). photoSrc names the
// photo size to download.
func parseSearchResponse(kind string, body []byte, download bool, photoSrc string) ([]electrons.StockItem, []providers.File, error) {
	var r searchResult
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, nil, fmt.Errorf("decode search result: %w", err)
	}
	items := []electrons.StockItem{}
	var files []providers.File
	if download {
		files = []providers.File{}
	}
	switch kind {
	case KindVideo:
		if r.Videos == nil {
			return nil, nil, fmt.Errorf("%w: no videos list", errBadShape)
		}
		for _, v := range *r.Videos {
			if v.ID <= 0 {
				return nil, nil, fmt.Errorf("%w: a video without an id", errBadShape)
			}
			f, ok := chooseVideoFile(v.VideoFiles)
			if download && !ok {
				continue
			}
			ct := f.FileType
			if ct == "" {
				ct = "video/mp4"
			}
			items = append(items, electrons.StockItem{
				ID:          "pexels-video-" + strconv.FormatInt(v.ID, 10),
				Kind:        KindVideo,
				Title:       titleFromPage(v.URL),
				URL:         v.URL,
				Width:       v.Width,
				Height:      v.Height,
				DurationS:   durationSeconds(v.Duration),
				Author:      v.User.Name,
				AuthorURL:   v.User.URL,
				ContentType: ct,
			})
			if download {
				files = append(files, providers.File{URL: f.Link, ContentType: ct})
			}
		}
	default:
		if r.Photos == nil {
			return nil, nil, fmt.Errorf("%w: no photos list", errBadShape)
		}
		for _, ph := range *r.Photos {
			if ph.ID <= 0 {
				return nil, nil, fmt.Errorf("%w: a photo without an id", errBadShape)
			}
			link := choosePhotoSrc(ph.Src, photoSrc)
			if download && link == "" {
				continue
			}
			ct := imageType(link)
			title := strings.TrimSpace(ph.Alt)
			if title == "" {
				title = titleFromPage(ph.URL)
			}
			items = append(items, electrons.StockItem{
				ID:          "pexels-photo-" + strconv.FormatInt(ph.ID, 10),
				Kind:        KindPhoto,
				Title:       title,
				URL:         ph.URL,
				Width:       ph.Width,
				Height:      ph.Height,
				Author:      ph.Photographer,
				AuthorURL:   ph.PhotographerURL,
				ContentType: ct,
			})
			if download {
				files = append(files, providers.File{URL: link, ContentType: ct})
			}
		}
	}
	return items, files, nil
}

// choosePhotoSrc picks the wanted size of a photo, falling back to the original and then to
// the large rendition.
func choosePhotoSrc(src map[string]string, want string) string {
	for _, k := range []string{want, "original", "large"} {
		if v := strings.TrimSpace(src[k]); v != "" {
			return v
		}
	}
	return ""
}

// chooseVideoFile picks the widest MP4 no wider than maxVideoWidth; failing that the narrowest
// wider MP4; failing that any MP4 at all.
func chooseVideoFile(files []videoFile) (videoFile, bool) {
	best, bestOK := videoFile{}, false
	over, overOK := videoFile{}, false
	first, firstOK := videoFile{}, false
	for _, f := range files {
		if f.Link == "" || !strings.EqualFold(strings.TrimSpace(f.FileType), "video/mp4") {
			continue
		}
		if !firstOK {
			first, firstOK = f, true
		}
		if f.Width == nil {
			continue
		}
		w := *f.Width
		switch {
		case w <= maxVideoWidth:
			if !bestOK || w > *best.Width {
				best, bestOK = f, true
			}
		default:
			if !overOK || w < *over.Width {
				over, overOK = f, true
			}
		}
	}
	switch {
	case bestOK:
		return best, true
	case overOK:
		return over, true
	}
	return first, firstOK
}

// imageType is the content type of a Pexels image URL, from its extension. Pexels serves
// JPEG for almost everything, PNG for the rest.
func imageType(link string) string {
	p := link
	if u, err := url.Parse(link); err == nil {
		p = u.Path
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".png":
		return "image/png"
	case ".webp":
		return "image/webp"
	case ".gif":
		return "image/gif"
	}
	return "image/jpeg"
}

// titleFromPage makes a title from a Pexels page URL, whose last segment is the media's
// description followed by its id ("…/video/aerial-view-of-a-beach-2169880/"): videos have no
// alt text, and this is the description Pexels shows for them.
func titleFromPage(page string) string {
	u, err := url.Parse(page)
	if err != nil {
		return ""
	}
	seg := path.Base(strings.TrimRight(u.Path, "/"))
	if seg == "." || seg == "/" {
		return ""
	}
	words := strings.Split(seg, "-")
	if n := len(words); n > 1 {
		if _, err := strconv.ParseInt(words[n-1], 10, 64); err == nil {
			words = words[:n-1]
		}
	} else if _, err := strconv.ParseInt(seg, 10, 64); err == nil {
		return "" // a bare id
	}
	title := strings.TrimSpace(strings.Join(words, " "))
	if !utf8.ValidString(title) {
		return ""
	}
	if r, size := utf8.DecodeRuneInString(title); size > 0 {
		title = strings.ToUpper(string(r)) + title[size:]
	}
	return title
}

// durationSeconds rounds a duration to whole seconds, guarding the conversion.
func durationSeconds(d float64) int {
	if !(d > 0) || d > 1e9 {
		return 0
	}
	return int(math.Round(d))
}

// maxUnix bounds a reset timestamp at the year 9999: anything later is nonsense, and the bound
// keeps time arithmetic from overflowing.
const maxUnix = 253402300799

// parseLimits reads Pexels' X-Ratelimit-Limit, X-Ratelimit-Remaining and X-Ratelimit-Reset (a
// Unix time in seconds). It returns nil when the answer carries neither limit nor remaining.
func parseLimits(h http.Header) *providers.LimitState {
	limit, okL := headerInt(h, "X-Ratelimit-Limit")
	remaining, okR := headerInt(h, "X-Ratelimit-Remaining")
	if !okL && !okR {
		return nil
	}
	ls := &providers.LimitState{Limit: max(limit, 0), Remaining: max(remaining, 0)}
	if v := strings.TrimSpace(h.Get("X-Ratelimit-Reset")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 && secs <= maxUnix {
			ls.Reset = time.Unix(secs, 0)
		}
	}
	return ls
}

func headerInt(h http.Header, key string) (int, bool) {
	v := strings.TrimSpace(h.Get(key))
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, false
	}
	return int(n), true
}

// maxMessage bounds the provider's text we carry into an error message.
const maxMessage = 300

// errorMessage finds the human-readable part of an error answer: Pexels answers JSON with an
// "error" (or "code"/"message") member, or plain text from its edge.
func errorMessage(body []byte) string {
	var j struct {
		Error   any    `json:"error"`
		Code    any    `json:"code"`
		Message string `json:"message"`
	}
	msg := ""
	if err := json.Unmarshal(body, &j); err == nil {
		for _, v := range []any{j.Error, j.Message, j.Code} {
			if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
				msg = s
				break
			}
		}
	} else if t := strings.TrimSpace(string(body)); t != "" && !strings.HasPrefix(t, "<") {
		msg = t
	}
	msg = strings.Join(strings.Fields(strings.ToValidUTF8(msg, "")), " ")
	if len(msg) > maxMessage {
		msg = strings.ToValidUTF8(msg[:maxMessage], "") + "…"
	}
	return msg
}
