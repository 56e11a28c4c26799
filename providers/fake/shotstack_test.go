package fake

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// mp4Boxes walks a box sequence, returning the box types in order (children after their
// container), or failing on any size that does not fit.
func mp4Boxes(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for p := 0; p < len(b); {
		if p+8 > len(b) {
			t.Fatalf("box header past the end at %d", p)
		}
		size := int(binary.BigEndian.Uint32(b[p:]))
		typ := string(b[p+4 : p+8])
		if size < 8 || p+size > len(b) {
			t.Fatalf("box %q at %d has size %d of %d", typ, p, size, len(b)-p)
		}
		out = append(out, typ)
		if typ == "moov" || typ == "trak" {
			out = append(out, mp4Boxes(t, b[p+8:p+size])...)
		}
		p += size
	}
	return out
}

func TestShotstackMP4(t *testing.T) {
	t.Parallel()
	b := shotstackMP4(1024, 576, 8.5)
	if got := strings.Join(mp4Boxes(t, b), " "); got != "ftyp moov mvhd trak tkhd" {
		t.Fatalf("boxes %s", got)
	}
	mvhd := b[bytes.Index(b, []byte("mvhd"))-4:]
	if size := binary.BigEndian.Uint32(mvhd); size != 108 {
		t.Fatalf("mvhd is %d bytes, want 108", size)
	}
	if ts, d := binary.BigEndian.Uint32(mvhd[20:]), binary.BigEndian.Uint32(mvhd[24:]); ts != 1000 || d != 8500 {
		t.Fatalf("timescale %d duration %d", ts, d)
	}
	tkhd := b[bytes.Index(b, []byte("tkhd"))-4:]
	if size := binary.BigEndian.Uint32(tkhd); size != 92 {
		t.Fatalf("tkhd is %d bytes, want 92", size)
	}
	if w, h := binary.BigEndian.Uint32(tkhd[84:])>>16, binary.BigEndian.Uint32(tkhd[88:])>>16; w != 1024 || h != 576 {
		t.Fatalf("track is %dx%d", w, h)
	}
}

func TestShotstackWalk(t *testing.T) {
	t.Parallel()
	s := New()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	s.BaseURL = ts.URL
	s.Configure("shotstack.", RouteConfig{PollsUntilDone: 4})
	resp, err := http.Post(ts.URL+"/edit/stage/render", "application/json",
		strings.NewReader(`{"timeline":{"tracks":[{"clips":[{"asset":{"type":"title","text":"Hi"},"start":1,"length":2.5}]}]},"output":{"format":"mp4","resolution":"hd"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var queued struct {
		Success  bool
		Response struct{ ID, Message string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&queued)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !queued.Success || queued.Response.Message != "Render Successfully Queued" {
		t.Fatalf("render: %s %+v", resp.Status, queued)
	}
	var statuses []string
	var last map[string]any
	for range 4 {
		resp, err := http.Get(ts.URL + "/edit/stage/render/" + queued.Response.ID)
		if err != nil {
			t.Fatal(err)
		}
		var st struct{ Response map[string]any }
		_ = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		statuses = append(statuses, st.Response["status"].(string))
		last = st.Response
	}
	if got := strings.Join(statuses, " "); got != "queued rendering rendering done" {
		t.Fatalf("statuses %s", got)
	}
	if last["duration"] != 3.5 || !strings.HasPrefix(last["url"].(string), ts.URL+"/_fake/files/") {
		t.Fatalf("done: %v", last)
	}
}
