package shotstack

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/distributed-electrons/electrons"
)

// The real formats, as Shotstack's API reference shows them.
const (
	seedQueued = `{"success":true,"message":"Created","response":{"message":"Render Successfully Queued","id":"d2b46ed6-998a-4d6b-9d91-b8cf0193a655"}}`
	seedStatus = `{"success":true,"message":"OK","response":{"status":"rendering","id":"2abd5c11-0f3d-4c6d-ba20-235fc9b8e8b7","owner":"5ca6hu7s9k",` +
		`"url":"https://shotstack-api-v1-output.s3-ap-southeast-2.amazonaws.com/5ca6hu7s9k/2abd5c11-0f3d-4c6d-ba20-235fc9b8e8b7.mp4",` +
		`"data":{"timeline":{"tracks":[{"clips":[{"asset":{"type":"title","text":"Hello World"},"start":0,"length":5}]}]},"output":{"format":"mp4","resolution":"sd"}},` +
		`"created":"2020-10-30T09:42:29.446Z","updated":"2020-10-30T09:42:39.168Z"}}`
	seedDone = `{"success":true,"message":"OK","response":{"id":"2abd5c11-0f3d-4c6d-ba20-235fc9b8e8b7","owner":"5ca6hu7s9k","plan":"basic","status":"done",` +
		`"error":"","duration":8.5,"renderTime":9433.44,"url":"https://shotstack-api-v1-output.s3-ap-southeast-2.amazonaws.com/5ca6hu7s9k/2abd5c11-0f3d-4c6d-ba20-235fc9b8e8b7.mp4",` +
		`"poster":null,"thumbnail":null,"created":"2020-10-30T09:42:29.446Z","updated":"2020-10-30T09:42:39.168Z"}}`
	seedFailed   = `{"success":true,"message":"OK","response":{"id":"2abd5c11-0f3d-4c6d-ba20-235fc9b8e8b7","owner":"5ca6hu7s9k","status":"failed","error":"Invalid edit: no tracks","url":null}}`
	seedCallback = `{"type":"edit","action":"render","id":"2abd5c11-0f3d-4c6d-ba20-235fc9b8e8b7","owner":"5ca6hu7s9k","status":"done",` +
		`"url":"https://shotstack-api-v1-output.s3-ap-southeast-2.amazonaws.com/5ca6hu7s9k/2abd5c11-0f3d-4c6d-ba20-235fc9b8e8b7.mp4","error":null,"completed":"2020-10-30T09:42:39.168Z"}`
	seedValidation = `{"success":false,"message":"Bad Request","response":{"error":{"name":"ValidationError","details":[{"message":"\"tracks\" is required","path":["timeline","tracks"],"type":"any.required","context":{"label":"tracks","key":"tracks"}}]}}}`
)

func FuzzParseQueued(f *testing.F) {
	for _, s := range []string{seedQueued, seedValidation, `{"success":true,"response":{"id":"a/b"}}`, `{"response":"x"}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := parseQueued(body)
		if err != nil {
			if id != "" {
				t.Fatalf("id %q with error %v", id, err)
			}
			return
		}
		if checkID(id) != nil {
			t.Fatalf("unusable id %q accepted", id)
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{seedStatus, seedDone, seedFailed, `{"response":{"status":"done","url":"ftp://x"}}`, `{"response":{"status":"saving"}}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseStatus(body)
		if err != nil {
			return
		}
		if !knownStatus(r.Status) {
			t.Fatalf("status %q accepted", r.Status)
		}
		if r.Status == StatusDone {
			if u, err := url.Parse(r.URL); err != nil || u.Host == "" {
				t.Fatalf("done without a usable url: %q", r.URL)
			}
			if contentTypeOf(r.URL) == "" {
				t.Fatal("no content type")
			}
		}
		if r.Status == StatusFailed {
			e := renderFailure(r.ID, r.Error)
			if e.Code != electrons.CodeInvalidRequest && e.Code != electrons.CodeServerError || !utf8.ValidString(e.Message) {
				t.Fatalf("failure %+v", e)
			}
		}
	})
}

func FuzzParseCallback(f *testing.F) {
	for _, s := range []string{seedCallback, `{"type":"edit","action":"render","id":"x","status":"failed","error":"boom"}`,
		`{"type":"serve","action":"copy","id":"x","status":"ready"}`, `{}`, `"edit"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, status, u, err := ParseCallback(body)
		if err != nil {
			if id != "" || status != "" || u != "" {
				t.Fatalf("results %q %q %q with error %v", id, status, u, err)
			}
			return
		}
		if checkID(id) != nil || !knownStatus(status) || (status == StatusDone) != (u != "") {
			t.Fatalf("inconsistent callback %q %q %q", id, status, u)
		}
	})
}

func FuzzErrorMessage(f *testing.F) {
	for _, s := range []string{seedValidation, `{"message":"Forbidden"}`, `{"success":false,"message":"Payment Required","response":"no credits"}`,
		`{"response":{"error":"plain"}}`, `<html>502</html>`, "text\x00\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msg := errorMessage(body)
		if !utf8.ValidString(msg) || len(msg) > maxMessage+len("…") || strings.ContainsAny(msg, "\n\r\t") {
			t.Fatalf("message %q", msg)
		}
	})
}

// FuzzBuildEdit checks that whatever the client sends as a timeline, the edit sent on is JSON
// with a timeline and an output, or the input is refused as invalid.
func FuzzBuildEdit(f *testing.F) {
	f.Add([]byte(`{"tracks":[]}`), "", "1920x1080")
	f.Add([]byte(`{"timeline":{"tracks":[]},"output":{"format":"mp4","resolution":"sd"}}`), "", "")
	f.Add([]byte(``), "Hello. World!", "")
	f.Add([]byte(`[`), "", "0x0")
	f.Fuzz(func(t *testing.T, timeline []byte, prompt, size string) {
		edit, err := buildEdit(electrons.Input{Timeline: timeline, Prompt: prompt, Size: size})
		if err != nil {
			if electrons.ErrorCode(err) != electrons.CodeInvalidRequest {
				t.Fatalf("error %v", err)
			}
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(edit, &m); err != nil || m["timeline"] == nil || m["output"] == nil {
			t.Fatalf("edit %s (%v)", edit, err)
		}
	})
}
