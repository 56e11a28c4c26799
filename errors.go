package electrons

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable, machine-readable error code. The API puts it in problem+json bodies,
// requests carry it in their error, and provider adapters translate their failures into it.
type Code string

// Error codes of the API.
const (
	CodeInvalidRequest  Code = "invalid_request"
	CodeUnauthorized    Code = "unauthorized"
	CodeForbidden       Code = "forbidden"
	CodeNotFound        Code = "not_found"
	CodeConflict        Code = "conflict"
	CodePayloadTooLarge Code = "payload_too_large"
	CodeRateLimited     Code = "rate_limited"
	CodeInternal        Code = "internal"
	CodeUnavailable     Code = "unavailable"
)

// Error codes of providers and of request outcomes.
const (
	CodeQuotaExhausted     Code = "quota_exhausted"
	CodeConcurrencyLimited Code = "concurrency_limited"
	CodeOverloaded         Code = "overloaded"
	CodeServerError        Code = "server_error"
	CodeTimeout            Code = "timeout"
	CodeAuthFailed         Code = "auth_failed"
	CodeContentPolicy      Code = "content_policy"
	CodeBadOutput          Code = "bad_output"
	CodeQualityRejected    Code = "quality_rejected"
	CodeProviderDisabled   Code = "provider_disabled"
)

// Error is an error with a code. Requests carry one when they fail.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	// Param names the input field at fault, where there is one.
	Param string `json:"param,omitempty"`
	// RetryAfter is how long the caller should wait before trying again, where known.
	RetryAfter time.Duration `json:"-"`
	// Err is the underlying cause; it is never shown to clients.
	Err error `json:"-"`
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or CodeInternal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Retryable reports whether a provider failure with this code may succeed if tried again later.
func (c Code) Retryable() bool {
	switch c {
	case CodeRateLimited, CodeConcurrencyLimited, CodeOverloaded, CodeServerError, CodeTimeout, CodeBadOutput:
		return true
	}
	return false
}
