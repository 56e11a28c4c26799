package fake

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Shotstack: POST /edit/{env}/render queues a render, GET /edit/{env}/render/{id} walks it
// queued → rendering → done over RouteConfig.PollsUntilDone polls, the finished MP4 being hosted
// by this server. An edit whose timeline has no clips is queued and then fails, as Shotstack's
// renderer fails it.
func init() {
	registrations = append(registrations, func(s *Server) {
		st := &shotstackState{renders: map[string]*shotstackRender{}}
		s.Handle("shotstack.render", "POST /edit/{env}/render", shotstackDialect{}, st.serveRender)
		s.Handle("shotstack.status", "GET /edit/{env}/render/{id}", shotstackDialect{}, st.serveStatus)
	})
}

// shotstackDialect writes Shotstack's errors. Shotstack sends no rate-limit headers; its gateway
// answers a 429, to which the fake adds the Retry-After the adapter honours.
type shotstackDialect struct{}

// LimitHeaders does nothing: Shotstack reports no limit state.
func (shotstackDialect) LimitHeaders(http.Header, Snapshot) {}

// WriteError answers as Shotstack (and its API gateway) does.
func (shotstackDialect) WriteError(w http.ResponseWriter, fault string, s Snapshot) {
	switch fault {
	case FaultRateLimit, FaultConcurrency:
		wait := 1
		if !s.Reset.IsZero() {
			wait = max(1, int(math.Ceil(time.Until(s.Reset).Seconds())))
		}
		w.Header().Set("Retry-After", strconv.Itoa(wait))
		WriteJSON(w, http.StatusTooManyRequests, map[string]string{"message": "Too Many Requests"})
	case FaultQuota:
		WriteJSON(w, http.StatusPaymentRequired, map[string]any{"success": false, "message": "Payment Required",
			"response": "You have insufficient credits to render: upgrade your plan or top up your account."})
	case FaultAuth:
		WriteJSON(w, http.StatusForbidden, map[string]string{"message": "Forbidden"})
	case FaultInvalid, FaultContentPolicy:
		shotstackValidation(w, "timeline", `"timeline.tracks[0].clips[0].asset" does not match any of the allowed types`)
	case FaultOverloaded:
		WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "Service Unavailable"})
	default:
		WriteJSON(w, http.StatusInternalServerError, map[string]any{"success": false, "message": "Internal Server Error",
			"response": "An unexpected error occurred, please try again."})
	}
}

// shotstackValidation is Shotstack's 400 for an edit it cannot take (a Joi validation error).
func shotstackValidation(w http.ResponseWriter, key, msg string) {
	WriteJSON(w, http.StatusBadRequest, map[string]any{"success": false, "message": "Bad Request",
		"response": map[string]any{"error": map[string]any{"name": "ValidationError", "details": []map[string]any{{
			"message": msg, "path": []string{key}, "type": "any.required", "context": map[string]string{"key": key, "label": key},
		}}}}})
}

// shotstackFailure is the renderer's message for an edit with nothing to render.
const shotstackFailure = "Invalid edit: the timeline has no tracks with clips to render"

// shotstackState holds one server's renders.
type shotstackState struct {
	mu      sync.Mutex
	seq     int
	renders map[string]*shotstackRender
}

type shotstackRender struct {
	edit    json.RawMessage
	seconds float64
	w, h    int
	fail    string // why the render will fail, if it will
	polls   int
	created time.Time
}

// shotstackEdit is what the fake reads of an edit.
type shotstackEdit struct {
	Timeline *struct {
		Tracks *[]struct {
			Clips []struct {
				Start  float64 `json:"start"`
				Length any     `json:"length"` // seconds, or "auto" / "end"
			} `json:"clips"`
		} `json:"tracks"`
	} `json:"timeline"`
	Output *struct {
		Format      string `json:"format"`
		Resolution  string `json:"resolution"`
		AspectRatio string `json:"aspectRatio"`
		Size        *struct {
			Width  int `json:"width"`
			Height int `json:"height"`
		} `json:"size"`
	} `json:"output"`
}

// shotstackResolutions are the sizes of Shotstack's output resolutions at 16:9.
var shotstackResolutions = map[string][2]int{
	"preview": {512, 288}, "mobile": {640, 360}, "sd": {1024, 576}, "hd": {1280, 720},
	"1080": {1920, 1080}, "4k": {3840, 2160},
}

func (st *shotstackState) serveRender(w http.ResponseWriter, r *http.Request, dec *Decision) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		shotstackValidation(w, "body", "the request body could not be read")
		return
	}
	var e shotstackEdit
	if err := json.Unmarshal(body, &e); err != nil {
		shotstackValidation(w, "body", "the request body is not valid JSON")
		return
	}
	switch {
	case e.Timeline == nil:
		shotstackValidation(w, "timeline", `"timeline" is required`)
		return
	case e.Timeline.Tracks == nil:
		shotstackValidation(w, "tracks", `"timeline.tracks" is required`)
		return
	case e.Output == nil:
		shotstackValidation(w, "output", `"output" is required`)
		return
	case e.Output.Format == "":
		shotstackValidation(w, "format", `"output.format" is required`)
		return
	}
	rd := &shotstackRender{edit: body, created: time.Now().UTC()}
	clips := 0
	for _, t := range *e.Timeline.Tracks {
		for _, c := range t.Clips {
			clips++
			length := 3.0 // what "auto" and "end" come to for the fake's purposes
			if f, ok := c.Length.(float64); ok && f > 0 {
				length = f
			}
			rd.seconds = max(rd.seconds, c.Start+length)
		}
	}
	if clips == 0 {
		rd.fail = shotstackFailure
	}
	rd.w, rd.h = 1024, 576
	if wh, ok := shotstackResolutions[e.Output.Resolution]; ok {
		rd.w, rd.h = wh[0], wh[1]
	}
	switch e.Output.AspectRatio {
	case "9:16":
		rd.w, rd.h = rd.h, rd.w
	case "1:1":
		rd.w = rd.h
	}
	if sz := e.Output.Size; sz != nil && sz.Width > 0 && sz.Height > 0 {
		rd.w, rd.h = sz.Width, sz.Height
	}

	st.mu.Lock()
	st.seq++
	sum := sha256.Sum256(append(binary.BigEndian.AppendUint64(nil, uint64(st.seq)), body...))
	sum[6] = sum[6]&0x0f | 0x40 // a version 4 UUID, as Shotstack's ids are
	sum[8] = sum[8]&0x3f | 0x80
	id := fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	if dec.Fault != FaultMalformed && dec.Fault != FaultTruncate {
		st.renders[id] = rd
	}
	st.mu.Unlock()

	shotstackWrite(w, dec, http.StatusCreated, map[string]any{"success": true, "message": "Created",
		"response": map[string]any{"message": "Render Successfully Queued", "id": id}})
}

func (st *shotstackState) serveStatus(w http.ResponseWriter, r *http.Request, dec *Decision) {
	id := r.PathValue("id")
	st.mu.Lock()
	rd, ok := st.renders[id]
	polls := 0
	if ok {
		rd.polls++
		polls = rd.polls
	}
	st.mu.Unlock()
	if !ok {
		WriteJSON(w, http.StatusNotFound, map[string]any{"success": false, "message": "Not Found",
			"response": "The render " + id + " was not found"})
		return
	}
	resp := map[string]any{
		"id": id, "owner": "fakeowner1", "plan": "sandbox", "error": "",
		"duration": rd.seconds, "billable": math.Ceil(rd.seconds), "renderTime": 0,
		"url": nil, "poster": nil, "thumbnail": nil, "data": rd.edit,
		"created": rd.created.Format("2006-01-02T15:04:05.000Z"),
		"updated": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	done := dec.Poll(id)
	switch {
	case !done && polls <= 1:
		resp["status"] = "queued"
	case !done:
		resp["status"] = "rendering"
	case rd.fail != "":
		resp["status"], resp["error"] = "failed", rd.fail
	default:
		resp["status"] = "done"
		resp["renderTime"] = 1000 * rd.seconds / 4
		resp["url"] = dec.Host("shotstack-"+id+".mp4", "video/mp4", shotstackMP4(rd.w, rd.h, rd.seconds))
	}
	shotstackWrite(w, dec, http.StatusOK, map[string]any{"success": true, "message": "OK", "response": resp})
}

// shotstackWrite answers with body, or produces the fault the decision asks of the handler.
func shotstackWrite(w http.ResponseWriter, dec *Decision, status int, body any) {
	switch dec.Fault {
	case FaultMalformed:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
		return
	case FaultTruncate:
		b, _ := json.Marshal(body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(b[:len(b)/2])
		return
	}
	WriteJSON(w, status, body)
}

// shotstackMP4 is a minimal valid MP4 of the given size and length: an ftyp box, then a moov
// box holding the movie header and one video track header. It has no media data: enough for
// anything that checks the container, which is all a fake's output is for.
func shotstackMP4(width, height int, seconds float64) []byte {
	box := func(typ string, payload ...[]byte) []byte {
		n := 8
		for _, p := range payload {
			n += len(p)
		}
		b := binary.BigEndian.AppendUint32(make([]byte, 0, n), uint32(n))
		b = append(b, typ...)
		for _, p := range payload {
			b = append(b, p...)
		}
		return b
	}
	u32 := func(vs ...uint32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.BigEndian.AppendUint32(b, v)
		}
		return b
	}
	const timescale = 1000
	width, height = min(max(width, 0), 0xffff), min(max(height, 0), 0xffff) // 16.16 fixed point
	duration := uint32(min(max(seconds, 0), 86400) * timescale)
	matrix := u32(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)

	ftyp := box("ftyp", []byte("isom"), u32(0x200), []byte("isomiso2avc1mp41"))
	mvhd := box("mvhd",
		u32(0, 0, 0, timescale, duration), // version+flags, creation, modification, timescale, duration
		u32(0x00010000),                   // rate 1.0
		[]byte{0x01, 0x00, 0, 0},          // volume 1.0, reserved
		u32(0, 0),                         // reserved
		matrix,
		make([]byte, 24), // pre-defined
		u32(2))           // next track id
	tkhd := box("tkhd",
		u32(0x00000003, 0, 0, 1, 0, duration), // version 0, flags enabled|in movie; track 1
		u32(0, 0),                             // reserved
		[]byte{0, 0, 0, 0, 0, 0, 0, 0},        // layer, alternate group, volume, reserved
		matrix,
		u32(uint32(width)<<16, uint32(height)<<16))
	return append(ftyp, box("moov", mvhd, box("trak", tkhd))...)
}
