package shotstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Render statuses, as Shotstack reports them.
const (
	StatusQueued    = "queued"    // waiting to be rendered
	StatusFetching  = "fetching"  // assets are being fetched
	StatusRendering = "rendering" // the asset is being rendered
	StatusSaving    = "saving"    // the final asset is being saved to storage
	StatusDone      = "done"      // ready to download
	StatusFailed    = "failed"    // there was an error rendering the asset
)

func knownStatus(s string) bool {
	switch s {
	case StatusQueued, StatusFetching, StatusRendering, StatusSaving, StatusDone, StatusFailed:
		return true
	}
	return false
}

// envelope is the wrapping of every Shotstack answer: {"success", "message", "response"}.
type envelope struct {
	Success  *bool           `json:"success"`
	Message  string          `json:"message"`
	Response json.RawMessage `json:"response"`
}

// renderData is the response of a status answer (and most of a callback's body).
type renderData struct {
	ID     string `json:"id"`
	Owner  string `json:"owner"`
	Status string `json:"status"`
	Error  string `json:"error"`
	URL    string `json:"url"`
}

// parseQueued reads the answer to POST /render:
// {"success": true, "message": "Created", "response": {"message": "…", "id": "…"}}.
func parseQueued(body []byte) (string, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return "", fmt.Errorf("decode render answer: %w", err)
	}
	if env.Success != nil && !*env.Success {
		return "", fmt.Errorf("render answer says success false: %q", cleanMessage(env.Message))
	}
	var r struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(env.Response, &r); err != nil {
		return "", fmt.Errorf("decode render answer's response: %w", err)
	}
	if err := checkID(r.ID); err != nil {
		return "", err
	}
	return r.ID, nil
}

// parseStatus reads the answer to GET /render/{id}. It admits only the known statuses, and a
// done render only with the URL of its output.
func parseStatus(body []byte) (renderData, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return renderData{}, fmt.Errorf("decode status answer: %w", err)
	}
	var r renderData
	if err := json.Unmarshal(env.Response, &r); err != nil {
		return renderData{}, fmt.Errorf("decode status answer's response: %w", err)
	}
	if err := checkRender(r); err != nil {
		return renderData{}, err
	}
	return r, nil
}

// checkRender checks the status and, for a done render, the URL.
func checkRender(r renderData) error {
	if !knownStatus(r.Status) {
		return fmt.Errorf("unknown render status %q", r.Status)
	}
	if r.Status == StatusDone {
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("a done render without a valid url (%q)", r.URL)
		}
	}
	return nil
}

// checkID checks a render id is one we can put in a URL path.
func checkID(id string) error {
	if id == "" {
		return errors.New("no render id")
	}
	if len(id) > 200 || strings.ContainsAny(id, "/?#%") || strings.TrimSpace(id) != id {
		return fmt.Errorf("implausible render id %q", id)
	}
	return nil
}

// ParseCallback reads the body Shotstack POSTs to an edit's callback URL when a render ends:
//
//	{"type": "edit", "action": "render", "id": "…", "owner": "…", "status": "done",
//	 "url": "https://…/….mp4", "error": null, "completed": "2026-11-25T20:04:43.000Z"}
//
// It returns the render id, its status (StatusDone or StatusFailed in practice) and, when done,
// the output's URL. The error is for a body that is not a render callback (Shotstack also calls
// back for its hosting and destinations: type "serve", action "copy"), a render without an id,
// or a done render without a URL. A failed render is not an error here: Poll the id to get
// the failure classified with its message.
func ParseCallback(body []byte) (id string, status string, url string, err error) {
	var cb struct {
		Type   string `json:"type"`
		Action string `json:"action"`
		renderData
	}
	if err := json.Unmarshal(body, &cb); err != nil {
		return "", "", "", fmt.Errorf("shotstack callback: decode: %w", err)
	}
	if cb.Type != "edit" || cb.Action != "render" {
		return "", "", "", fmt.Errorf("shotstack callback: type %q, action %q is not a render callback", cb.Type, cb.Action)
	}
	if err := checkID(cb.ID); err != nil {
		return "", "", "", fmt.Errorf("shotstack callback: %w", err)
	}
	if err := checkRender(cb.renderData); err != nil {
		return "", "", "", fmt.Errorf("shotstack callback: %w", err)
	}
	if cb.Status != StatusDone {
		cb.URL = ""
	}
	return cb.ID, cb.Status, cb.URL, nil
}

// contentTypeOf is the content type of a rendered output by its URL's extension; Shotstack
// renders MP4 unless the edit's output asks otherwise.
func contentTypeOf(link string) string {
	p := link
	if u, err := url.Parse(link); err == nil {
		p = u.Path
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".gif":
		return "image/gif"
	case ".webm":
		return "video/webm"
	case ".mov":
		return "video/quicktime"
	case ".mp3":
		return "audio/mpeg"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	}
	return "video/mp4"
}

// maxMessage bounds the provider's text carried into an error message.
const maxMessage = 500

// errorMessage finds the human-readable part of an error answer. Shotstack answers
//
//	{"success": false, "message": "Bad Request", "response": {"error": {"name": "ValidationError",
//	 "details": [{"message": "\"tracks\" is required", …}]}}}
//
// for an edit it cannot take, {"success": false, "message": "…", "response": "…"} for others,
// and its gateway {"message": "Forbidden"} for a bad key or {"message": "Too Many Requests"}.
func errorMessage(body []byte) string {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		t := strings.TrimSpace(string(body))
		if strings.HasPrefix(t, "<") {
			return ""
		}
		return cleanMessage(t)
	}
	parts := []string{}
	add := func(s string) {
		if s = cleanMessage(s); s != "" {
			for _, p := range parts {
				if p == s {
					return
				}
			}
			parts = append(parts, s)
		}
	}
	add(env.Message)
	var s string
	if json.Unmarshal(env.Response, &s) == nil {
		add(s)
	}
	var obj struct {
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(env.Response, &obj) == nil {
		add(obj.Message)
		var es string
		var ev struct {
			Name    string `json:"name"`
			Message string `json:"message"`
			Details []struct {
				Message string `json:"message"`
			} `json:"details"`
		}
		if json.Unmarshal(obj.Error, &es) == nil {
			add(es)
		} else if json.Unmarshal(obj.Error, &ev) == nil {
			add(ev.Name)
			add(ev.Message)
			for _, d := range ev.Details {
				add(d.Message)
			}
		}
	}
	return cleanMessage(strings.Join(parts, ": "))
}

// cleanMessage collapses whitespace, drops invalid UTF-8 and bounds the length.
func cleanMessage(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "")), " ")
	if len(s) > maxMessage {
		s = strings.ToValidUTF8(s[:maxMessage], "") + "…"
	}
	return s
}
