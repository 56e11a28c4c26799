package providers

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/distributed-electrons/electrons"
)

// The Option functions read one value of input.options, the free-form map that request bodies
// decode into. Each returns ok false, and no error, when the key is absent or null. A value of
// the wrong type is refused rather than ignored, so that a typo shows up as an error and not as
// a setting silently dropped; the error is an *electrons.Error (invalid_request) whose Param is
// "input.options.<key>" and whose message says what the value must be.
//
// Numbers may come as float64 (encoding/json), float32 or any Go integer type (Go callers),
// json.Number (decoders with UseNumber) or a numeric string (hand-written bodies); NaN and the
// infinities are refused.

// OptionNumber reads a finite number.
func OptionNumber(opts map[string]any, key string) (float64, bool, error) {
	v, ok := opts[key]
	if !ok || v == nil {
		return 0, false, nil
	}
	f, ok := number(v)
	if !ok {
		return 0, false, InvalidOption(key, "must be a number")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, InvalidOption(key, "must be a finite number")
	}
	return f, true, nil
}

// number converts the numeric forms an option may take.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f, err == nil
	}
	return 0, false
}

// OptionInt reads a whole number that fits in 32 bits, so that it converts to int anywhere.
func OptionInt(opts map[string]any, key string) (int, bool, error) {
	f, ok, err := OptionNumber(opts, key)
	if err != nil || (ok && f != math.Trunc(f)) {
		return 0, false, InvalidOption(key, "must be a whole number")
	}
	if !ok {
		return 0, false, nil
	}
	if f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false, InvalidOption(key, "must be a whole number from %d to %d", math.MinInt32, math.MaxInt32)
	}
	return int(f), true, nil
}

// OptionMillis reads a duration given in milliseconds, from 0 to limit. The bound (a day at most
// is sensible) is what keeps the conversion to time.Duration from overflowing.
func OptionMillis(opts map[string]any, key string, limit time.Duration) (time.Duration, bool, error) {
	f, ok, err := OptionNumber(opts, key)
	if err != nil || !ok {
		return 0, false, err
	}
	maxMillis := int64(limit / time.Millisecond)
	if f < 0 || f > float64(maxMillis) {
		return 0, false, InvalidOption(key, "must be between 0 and %d milliseconds", maxMillis)
	}
	return time.Duration(f * float64(time.Millisecond)), true, nil
}

// OptionString reads a string, as it is given.
func OptionString(opts map[string]any, key string) (string, bool, error) {
	v, ok := opts[key]
	if !ok || v == nil {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, InvalidOption(key, "must be a string")
	}
	return s, true, nil
}

// OptionBool reads a boolean: true or false, or the strings "true" and "false".
func OptionBool(opts map[string]any, key string) (bool, bool, error) {
	v, ok := opts[key]
	if !ok || v == nil {
		return false, false, nil
	}
	switch b := v.(type) {
	case bool:
		return b, true, nil
	case string:
		switch strings.TrimSpace(b) {
		case "true":
			return true, true, nil
		case "false":
			return false, true, nil
		}
	}
	return false, false, InvalidOption(key, "must be true or false")
}

// InvalidOption is the invalid_request error of input.options.<key>. The message names the
// option and goes on with format: InvalidOption("n", "must be at most %d", 10) says
// "input.options.n must be at most 10".
func InvalidOption(key, format string, args ...any) *electrons.Error {
	param := "input.options." + key
	return &electrons.Error{
		Code:    electrons.CodeInvalidRequest,
		Param:   param,
		Message: param + " " + fmt.Sprintf(format, args...),
	}
}

// Named puts the provider's name before the message of an *electrons.Error ("gemini: …"), as
// adapters name themselves in their errors. It returns a copy and leaves err alone; nil stays
// nil, and an error of another type is returned as it is.
func Named(provider string, err error) error {
	e, ok := err.(*electrons.Error)
	if !ok || e == nil {
		return err
	}
	named := *e
	named.Message = provider + ": " + e.Message
	return &named
}
