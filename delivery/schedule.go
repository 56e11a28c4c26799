package delivery

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Schedule is a webhook retry schedule: element i is the wait before attempt i+1, so a
// schedule of n elements allows n attempts in all.
type Schedule []time.Duration

// DefaultSchedule is the product's schedule: the first attempt at once, then retries after
// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; eight attempts in all, then the dead letter.
var DefaultSchedule = Schedule{
	0,
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
}

// Jitter is the fraction by which Next moves a delay either way.
const Jitter = 0.2

// ParseSchedule parses a comma-separated list of Go durations such as "0s,5s,5m".
// Spaces around the elements are ignored; negative and empty elements are refused.
func ParseSchedule(s string) (Schedule, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("parse schedule: empty")
	}
	parts := strings.Split(s, ",")
	out := make(Schedule, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		d, err := time.ParseDuration(p)
		if err != nil {
			return nil, fmt.Errorf("parse schedule element %d: %w", i+1, err)
		}
		if d < 0 {
			return nil, fmt.Errorf("parse schedule element %d: negative duration %s", i+1, p)
		}
		out = append(out, d)
	}
	return out, nil
}

// String formats s as ParseSchedule reads it.
func (s Schedule) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}

// Attempts is the number of attempts the schedule allows.
func (s Schedule) Attempts() int { return len(s) }

// Next returns how long to wait before the next attempt once attempts attempts have been made,
// moved at random by up to ±20% (never below zero), and false when the schedule is exhausted
// and the delivery should be dead-lettered. rnd returns numbers in [0, 1); nil means
// math/rand/v2's Float64. A negative attempts counts as zero.
func (s Schedule) Next(attempts int, rnd func() float64) (time.Duration, bool) {
	if attempts < 0 {
		attempts = 0
	}
	if attempts >= len(s) {
		return 0, false
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	d := s[attempts]
	j := time.Duration(float64(d) * Jitter * (2*rnd() - 1))
	return max(d+j, 0), true
}
