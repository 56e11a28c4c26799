package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/distributed-electrons/electrons"
)

// Problem is an RFC 9457 problem document with our stable code.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
	Param  string `json:"param,omitempty"`
}

var codeStatus = map[electrons.Code]int{
	electrons.CodeInvalidRequest:   http.StatusBadRequest,
	electrons.CodeProviderDisabled: http.StatusBadRequest,
	electrons.CodeUnauthorized:     http.StatusUnauthorized,
	electrons.CodeForbidden:        http.StatusForbidden,
	electrons.CodeNotFound:         http.StatusNotFound,
	electrons.CodeConflict:         http.StatusConflict,
	electrons.CodePayloadTooLarge:  http.StatusRequestEntityTooLarge,
	electrons.CodeRateLimited:      http.StatusTooManyRequests,
	electrons.CodeUnavailable:      http.StatusServiceUnavailable,
}

var codeTitle = map[electrons.Code]string{
	electrons.CodeInvalidRequest:   "Invalid request",
	electrons.CodeProviderDisabled: "Provider disabled",
	electrons.CodeUnauthorized:     "Unauthorized",
	electrons.CodeForbidden:        "Forbidden",
	electrons.CodeNotFound:         "Not found",
	electrons.CodeConflict:         "Conflict",
	electrons.CodePayloadTooLarge:  "Payload too large",
	electrons.CodeRateLimited:      "Rate limited",
	electrons.CodeUnavailable:      "Unavailable",
	electrons.CodeInternal:         "Internal error",
}

// problem writes err as problem+json; errors without a code are internal, logged, and not shown.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) {
	var e *electrons.Error
	if !errors.As(err, &e) || codeStatus[e.Code] == 0 {
		if r.Context().Err() == nil {
			s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		writeProblem(w, http.StatusInternalServerError, string(electrons.CodeInternal), codeTitle[electrons.CodeInternal], "an internal error occurred", "")
		return
	}
	writeProblem(w, codeStatus[e.Code], string(e.Code), codeTitle[e.Code], e.Message, e.Param)
}

func writeProblem(w http.ResponseWriter, status int, code, title, detail, param string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{Type: "https://electrons.dev/problems/" + code, Title: title, Status: status, Detail: detail, Code: code, Param: param})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// List is the shape of every list answer.
type List[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}
