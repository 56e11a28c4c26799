package pexels

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The real formats, as Pexels' documentation shows them.
const (
	seedPhotos = `{"total_results":10000,"page":1,"per_page":1,"photos":[{"id":3573351,"width":3066,"height":3968,` +
		`"url":"https://www.pexels.com/photo/trees-during-day-3573351/","photographer":"Lukas Rodriguez",` +
		`"photographer_url":"https://www.pexels.com/@lukas-rodriguez-1845331","photographer_id":1845331,"avg_color":"#374824",` +
		`"src":{"original":"https://images.pexels.com/photos/3573351/pexels-photo-3573351.png",` +
		`"large2x":"https://images.pexels.com/photos/3573351/pexels-photo-3573351.png?auto=compress&cs=tinysrgb&dpr=2&h=650&w=940",` +
		`"large":"https://images.pexels.com/photos/3573351/pexels-photo-3573351.png?auto=compress&cs=tinysrgb&h=650&w=940",` +
		`"medium":"https://images.pexels.com/photos/3573351/pexels-photo-3573351.png?auto=compress&cs=tinysrgb&h=350",` +
		`"small":"https://images.pexels.com/photos/3573351/pexels-photo-3573351.png?auto=compress&cs=tinysrgb&h=130",` +
		`"portrait":"https://images.pexels.com/photos/3573351/pexels-photo-3573351.png?auto=compress&cs=tinysrgb&fit=crop&h=1200&w=800",` +
		`"landscape":"https://images.pexels.com/photos/3573351/pexels-photo-3573351.png?auto=compress&cs=tinysrgb&fit=crop&h=627&w=1200",` +
		`"tiny":"https://images.pexels.com/photos/3573351/pexels-photo-3573351.png?auto=compress&cs=tinysrgb&dpr=1&fit=crop&h=200&w=280"},` +
		`"liked":false,"alt":"Brown Rocks During Golden Hour"}],"next_page":"https://api.pexels.com/v1/search/?page=2&per_page=1&query=nature"}`
	seedVideos = `{"page":1,"per_page":1,"total_results":20475,"url":"https://www.pexels.com/videos/","videos":[{"id":1448735,` +
		`"width":4096,"height":2160,"duration":32,"full_res":null,"tags":[],"url":"https://www.pexels.com/video/video-of-forest-1448735/",` +
		`"image":"https://images.pexels.com/videos/1448735/free-video-1448735.jpg?fit=crop&w=1200&h=630&auto=compress&cs=tinysrgb",` +
		`"avg_color":null,"user":{"id":574687,"name":"Ruvim Miksanskiy","url":"https://www.pexels.com/@digitech"},` +
		`"video_files":[{"id":58649,"quality":"sd","file_type":"video/mp4","width":640,"height":338,"fps":23.976,"link":"https://player.vimeo.com/external/291648067.sd.mp4"},` +
		`{"id":58650,"quality":"hd","file_type":"video/mp4","width":2048,"height":1080,"fps":23.976,"link":"https://player.vimeo.com/external/291648067.hd.mp4"},` +
		`{"id":58651,"quality":"hd","file_type":"video/mp4","width":1920,"height":1012,"fps":23.976,"link":"https://player.vimeo.com/external/291648067.hd2.mp4"},` +
		`{"id":58652,"quality":null,"file_type":"video/mp4","width":4096,"height":2160,"fps":23.976,"link":"https://player.vimeo.com/external/291648067.4k.mp4"},` +
		`{"id":58653,"quality":"hls","file_type":"application/x-mpegURL","width":null,"height":null,"fps":null,"link":"https://player.vimeo.com/external/291648067.m3u8"}],` +
		`"video_pictures":[{"id":133236,"nr":0,"picture":"https://static-videos.pexels.com/videos/1448735/pictures/preview-0.jpg"}]}],` +
		`"next_page":"https://api.pexels.com/v1/videos/search/?page=2&per_page=1&query=nature"}`
)

func FuzzParseSearchResponse(f *testing.F) {
	f.Add(KindPhoto, []byte(seedPhotos), true, "large")
	f.Add(KindPhoto, []byte(seedPhotos), false, "original")
	f.Add(KindVideo, []byte(seedVideos), true, "")
	f.Add(KindVideo, []byte(seedVideos), false, "")
	f.Add(KindVideo, []byte(`{"videos":[]}`), true, "")
	f.Add(KindPhoto, []byte(`{"photos":[{"id":1,"src":{}}]}`), true, "tiny")
	f.Add(KindPhoto, []byte(`{"error":"Unauthorized"}`), false, "")
	f.Fuzz(func(t *testing.T, kind string, body []byte, download bool, src string) {
		items, files, err := parseSearchResponse(kind, body, download, src)
		if err != nil {
			if items != nil || files != nil {
				t.Fatalf("error %v with results", err)
			}
			return
		}
		if items == nil {
			t.Fatal("nil items without an error")
		}
		if download && len(files) != len(items) {
			t.Fatalf("%d items, %d files", len(items), len(files))
		}
		if !download && len(files) != 0 {
			t.Fatalf("%d files without download", len(files))
		}
		for i, it := range items {
			if !strings.HasPrefix(it.ID, "pexels-photo-") && !strings.HasPrefix(it.ID, "pexels-video-") {
				t.Fatalf("item id %q", it.ID)
			}
			if it.Kind != KindPhoto && it.Kind != KindVideo || it.ContentType == "" || !utf8.ValidString(it.Title) {
				t.Fatalf("item %+v", it)
			}
			if download && (files[i].URL == "" || files[i].ContentType != it.ContentType) {
				t.Fatalf("file %d %+v for item %+v", i, files[i], it)
			}
		}
	})
}

func FuzzParseLimits(f *testing.F) {
	f.Add("20000", "19684", "1590529646")
	f.Add("200", "0", "")
	f.Add("", "", "")
	f.Add("-1", "x", "-99999999999999999999")
	f.Fuzz(func(t *testing.T, limit, remaining, reset string) {
		h := http.Header{}
		h.Set("X-Ratelimit-Limit", limit)
		h.Set("X-Ratelimit-Remaining", remaining)
		h.Set("X-Ratelimit-Reset", reset)
		l := parseLimits(h)
		if l == nil {
			return
		}
		if l.Limit < 0 || l.Remaining < 0 || (!l.Reset.IsZero() && l.Reset.Year() > 9999) {
			t.Fatalf("limits %+v", l)
		}
		// The wait the adapter derives must not overflow either way.
		_ = statusError(http.StatusTooManyRequests, h, nil, l, time.Now())
	})
}

func FuzzErrorMessage(f *testing.F) {
	f.Add([]byte(`{"error":"Rate limit exceeded"}`))
	f.Add([]byte(`{"status":401,"code":"Unauthorized"}`))
	f.Add([]byte(`<html>Bad gateway</html>`))
	f.Add([]byte("plain\ntext\xff"))
	f.Fuzz(func(t *testing.T, body []byte) {
		msg := errorMessage(body)
		if !utf8.ValidString(msg) || len(msg) > maxMessage+len("…") || strings.ContainsAny(msg, "\n\r\t") {
			t.Fatalf("message %q", msg)
		}
	})
}
