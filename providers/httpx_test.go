package providers

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"garbage":                       0,
		"-3":                            0,
		"2":                             2 * time.Second,
		"0.5":                           500 * time.Millisecond,
		"1e300":                         maxRetryAfter,
		"Wed, 25 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Wed, 25 Nov 2026 11:00:00 GMT": 0,
	}
	for in, want := range cases {
		if got := ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "1", "1.5", "1e300", "Wed, 25 Nov 2026 12:00:30 GMT", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d := ParseRetryAfter(s, time.Now()); d < 0 || d > maxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %s", s, d)
		}
	})
}
