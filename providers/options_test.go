package providers

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/distributed-electrons/electrons"
)

// checkOptionError fails unless err is the invalid_request error of input.options.<key> and its
// message says want.
func checkOptionError(t *testing.T, err error, key, want string) {
	t.Helper()
	var e *electrons.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *electrons.Error", err, err)
	}
	param := "input.options." + key
	if e.Code != electrons.CodeInvalidRequest || e.Param != param {
		t.Fatalf("err = %+v, want invalid_request on %s", e, param)
	}
	if !strings.HasPrefix(e.Message, param+" must ") || !strings.Contains(e.Message, want) {
		t.Fatalf("message %q, want %q saying %q", e.Message, param+" must …", want)
	}
}

func TestOptionNumber(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		v       any
		want    float64
		ok      bool
		wantErr string
	}{
		{"float64", 1.5, 1.5, true, ""},
		{"float32", float32(0.25), 0.25, true, ""},
		{"int", 3, 3, true, ""},
		{"int8", int8(-4), -4, true, ""},
		{"int16", int16(300), 300, true, ""},
		{"int32", int32(-7), -7, true, ""},
		{"int64", int64(1 << 40), 1 << 40, true, ""},
		{"uint", uint(8), 8, true, ""},
		{"uint8", uint8(255), 255, true, ""},
		{"uint16", uint16(9), 9, true, ""},
		{"uint32", uint32(10), 10, true, ""},
		{"uint64", uint64(11), 11, true, ""},
		{"json.Number", json.Number("2.5e3"), 2500, true, ""},
		{"string", "0.7", 0.7, true, ""},
		{"string with spaces", " 42 ", 42, true, ""},
		{"null", nil, 0, false, ""},
		{"bool", true, 0, false, "a number"},
		{"word", "hot", 0, false, "a number"},
		{"empty string", "", 0, false, "a number"},
		{"object", map[string]any{}, 0, false, "a number"},
		{"bad json.Number", json.Number("x"), 0, false, "a number"},
		{"json.Number out of range", json.Number("1e400"), 0, false, "a number"},
		{"NaN", math.NaN(), 0, false, "finite"},
		{"Inf", math.Inf(1), 0, false, "finite"},
		{"-Inf float32", float32(math.Inf(-1)), 0, false, "finite"},
		{"NaN string", "NaN", 0, false, "finite"},
		{"Inf json.Number", json.Number("Inf"), 0, false, "finite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := OptionNumber(map[string]any{"k": tc.v}, "k")
			if tc.wantErr != "" {
				checkOptionError(t, err, "k", tc.wantErr)
				if ok {
					t.Fatal("ok with an error")
				}
				return
			}
			if err != nil || got != tc.want || ok != tc.ok {
				t.Fatalf("= %v, %v, %v; want %v, %v, nil", got, ok, err, tc.want, tc.ok)
			}
		})
	}
	if _, ok, err := OptionNumber(nil, "k"); ok || err != nil {
		t.Fatalf("nil map: ok %v, err %v", ok, err)
	}
}

func TestOptionInt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		v       any
		want    int
		wantErr string
	}{
		{"float64", float64(20), 20, ""},
		{"int", -3, -3, ""},
		{"json.Number", json.Number("7"), 7, ""},
		{"string", "15", 15, ""},
		{"whole float string", "2.0", 2, ""},
		{"max", float64(math.MaxInt32), math.MaxInt32, ""},
		{"min", int64(math.MinInt32), math.MinInt32, ""},
		{"fraction", 2.5, 0, "a whole number"},
		{"word", "many", 0, "a whole number"},
		{"bool", false, 0, "a whole number"},
		{"NaN", math.NaN(), 0, "a whole number"},
		{"too large", float64(1 << 31), 0, "from -2147483648 to 2147483647"},
		{"too small", int64(-1<<31 - 1), 0, "from -2147483648 to 2147483647"},
		{"huge", 1e300, 0, "from -2147483648 to 2147483647"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := OptionInt(map[string]any{"n": tc.v}, "n")
			if tc.wantErr != "" {
				checkOptionError(t, err, "n", tc.wantErr)
				return
			}
			if err != nil || !ok || got != tc.want {
				t.Fatalf("= %v, %v, %v; want %v", got, ok, err, tc.want)
			}
		})
	}
	if _, ok, err := OptionInt(map[string]any{}, "n"); ok || err != nil {
		t.Fatalf("absent: ok %v, err %v", ok, err)
	}
}

func TestOptionMillis(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	for _, tc := range []struct {
		name    string
		v       any
		limit   time.Duration
		want    time.Duration
		wantErr string
	}{
		{"whole", float64(1500), day, 1500 * time.Millisecond, ""},
		{"fraction", 0.5, day, 500 * time.Microsecond, ""},
		{"zero", 0, day, 0, ""},
		{"int", 250, day, 250 * time.Millisecond, ""},
		{"string", "100", day, 100 * time.Millisecond, ""},
		{"at the limit", float64(86400000), day, day, ""},
		{"an hour", float64(3600000), time.Hour, time.Hour, ""},
		{"over the limit", float64(86400001), day, 0, "between 0 and 86400000 milliseconds"},
		{"over an hour", float64(3600001), time.Hour, 0, "between 0 and 3600000 milliseconds"},
		{"negative", -5, day, 0, "between 0 and 86400000 milliseconds"},
		{"huge", 1e300, day, 0, "between 0 and"},
		{"bool", true, day, 0, "a number"},
		{"Inf", math.Inf(1), day, 0, "finite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := OptionMillis(map[string]any{"latency_ms": tc.v}, "latency_ms", tc.limit)
			if tc.wantErr != "" {
				checkOptionError(t, err, "latency_ms", tc.wantErr)
				return
			}
			if err != nil || !ok || got != tc.want {
				t.Fatalf("= %v, %v, %v; want %v", got, ok, err, tc.want)
			}
		})
	}
	if _, ok, err := OptionMillis(map[string]any{"latency_ms": nil}, "latency_ms", time.Hour); ok || err != nil {
		t.Fatalf("null: ok %v, err %v", ok, err)
	}
}

func TestOptionString(t *testing.T) {
	t.Parallel()
	opts := map[string]any{"s": " as given ", "empty": "", "n": 3.0, "null": nil}
	if got, ok, err := OptionString(opts, "s"); got != " as given " || !ok || err != nil {
		t.Fatalf("s = %q, %v, %v", got, ok, err)
	}
	if got, ok, err := OptionString(opts, "empty"); got != "" || !ok || err != nil {
		t.Fatalf("empty = %q, %v, %v", got, ok, err)
	}
	for _, k := range []string{"null", "absent"} {
		if got, ok, err := OptionString(opts, k); got != "" || ok || err != nil {
			t.Fatalf("%s = %q, %v, %v", k, got, ok, err)
		}
	}
	_, _, err := OptionString(opts, "n")
	checkOptionError(t, err, "n", "a string")
}

func TestOptionBool(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v       any
		want    bool
		wantErr bool
	}{
		{true, true, false},
		{false, false, false},
		{"true", true, false},
		{" false", false, false},
		{"yes", false, true},
		{1.0, false, true},
		{"1", false, true},
	} {
		got, ok, err := OptionBool(map[string]any{"b": tc.v}, "b")
		if tc.wantErr {
			checkOptionError(t, err, "b", "true or false")
			continue
		}
		if err != nil || !ok || got != tc.want {
			t.Fatalf("%#v = %v, %v, %v; want %v", tc.v, got, ok, err, tc.want)
		}
	}
	if _, ok, err := OptionBool(map[string]any{"b": nil}, "b"); ok || err != nil {
		t.Fatalf("null: ok %v, err %v", ok, err)
	}
}

func TestInvalidOption(t *testing.T) {
	t.Parallel()
	e := InvalidOption("per_page", "must be 1 to %d", 80)
	if e.Code != electrons.CodeInvalidRequest || e.Param != "input.options.per_page" ||
		e.Message != "input.options.per_page must be 1 to 80" {
		t.Fatalf("InvalidOption = %+v", e)
	}
}

func TestNamed(t *testing.T) {
	t.Parallel()
	if Named("gemini", nil) != nil {
		t.Fatal("Named(nil) is not nil")
	}
	plain := errors.New("plain")
	if Named("gemini", plain) != plain {
		t.Fatal("Named changed an error that is not an *electrons.Error")
	}
	orig := InvalidOption("k", "must be a number")
	var e *electrons.Error
	if !errors.As(Named("gemini", orig), &e) {
		t.Fatal("Named did not return an *electrons.Error")
	}
	if e.Message != "gemini: input.options.k must be a number" || e.Param != orig.Param || e.Code != orig.Code {
		t.Fatalf("Named = %+v", e)
	}
	if orig.Message != "input.options.k must be a number" {
		t.Fatalf("Named changed the original: %q", orig.Message)
	}
}

func TestDefaultHTTPClient(t *testing.T) {
	t.Parallel()
	a, b := DefaultHTTPClient(), DefaultHTTPClient()
	if a.Timeout != DefaultHTTPTimeout || a == b {
		t.Fatalf("DefaultHTTPClient = %+v (shared: %v)", a, a == b)
	}
}

// FuzzOptions decodes a JSON value as a request body's option would be, both as encoding/json
// gives it and with UseNumber, and checks that every reader either refuses it with a well-formed
// error or returns a value within its bounds.
func FuzzOptions(f *testing.F) {
	for _, s := range []string{`1.5`, `-3`, `"42"`, `" 7 "`, `"NaN"`, `"Inf"`, `1e400`, `"1e400"`, `true`,
		`"true"`, `null`, `"x"`, `{}`, `[1]`, `2147483647`, `2147483648`, `86400000`, `86400001`, `0.0000001`,
		`"0x1p-2"`, `-0`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, useNumber := range []bool{false, true} {
			var opts map[string]any
			dec := json.NewDecoder(bytes.NewReader([]byte(`{"k":` + raw + `}`)))
			if useNumber {
				dec.UseNumber()
			}
			if dec.Decode(&opts) != nil {
				return
			}
			check := func(ok bool, err error) {
				t.Helper()
				if err != nil {
					if ok {
						t.Fatalf("%s: ok with error %v", raw, err)
					}
					checkOptionError(t, err, "k", "")
				}
			}
			n, ok, err := OptionNumber(opts, "k")
			check(ok, err)
			if ok && (math.IsNaN(n) || math.IsInf(n, 0)) {
				t.Fatalf("%s: OptionNumber = %v", raw, n)
			}
			i, ok, err := OptionInt(opts, "k")
			check(ok, err)
			if ok && (i < math.MinInt32 || i > math.MaxInt32 || float64(i) != n) {
				t.Fatalf("%s: OptionInt = %d, number %v", raw, i, n)
			}
			d, ok, err := OptionMillis(opts, "k", time.Hour)
			check(ok, err)
			if ok && (d < 0 || d > time.Hour) {
				t.Fatalf("%s: OptionMillis = %v", raw, d)
			}
			_, ok, err = OptionString(opts, "k")
			check(ok, err)
			_, ok, err = OptionBool(opts, "k")
			check(ok, err)
		}
	})
}
