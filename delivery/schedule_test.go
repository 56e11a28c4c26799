package delivery

import (
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	t.Parallel()
	lo := func() float64 { return 0 }
	mid := func() float64 { return 0.5 }
	hi := func() float64 { return 0.999999999 }
	tests := []struct {
		name     string
		s        Schedule
		attempts int
		rnd      func() float64
		want     time.Duration
		wantOK   bool
	}{
		{"first is immediate", DefaultSchedule, 0, hi, 0, true},
		{"negative counts as zero", DefaultSchedule, -3, mid, 0, true},
		{"second unjittered", DefaultSchedule, 1, mid, 5 * time.Second, true},
		{"second low", DefaultSchedule, 1, lo, 4 * time.Second, true},
		{"second high", DefaultSchedule, 1, hi, 6 * time.Second, true},
		{"third", DefaultSchedule, 2, mid, 5 * time.Minute, true},
		{"fourth", DefaultSchedule, 3, mid, 30 * time.Minute, true},
		{"fifth", DefaultSchedule, 4, mid, 2 * time.Hour, true},
		{"sixth", DefaultSchedule, 5, mid, 5 * time.Hour, true},
		{"seventh", DefaultSchedule, 6, mid, 10 * time.Hour, true},
		{"eighth low", DefaultSchedule, 7, lo, 8 * time.Hour, true},
		{"exhausted", DefaultSchedule, 8, mid, 0, false},
		{"long exhausted", DefaultSchedule, 100, mid, 0, false},
		{"empty", Schedule{}, 0, mid, 0, false},
		{"nil", nil, 0, mid, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.s.Next(tt.attempts, tt.rnd)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			// hi is just below 1, so allow a nanosecond-scale rounding below the bound.
			if diff := got - tt.want; diff > 0 || diff < -time.Millisecond {
				t.Fatalf("Next(%d) = %s, want %s", tt.attempts, got, tt.want)
			}
		})
	}
}

func TestScheduleJitterBounds(t *testing.T) {
	t.Parallel()
	if DefaultSchedule.Attempts() != 8 {
		t.Fatalf("DefaultSchedule allows %d attempts", DefaultSchedule.Attempts())
	}
	for attempts := range DefaultSchedule {
		base := DefaultSchedule[attempts]
		for range 1000 {
			d, ok := DefaultSchedule.Next(attempts, nil)
			if !ok {
				t.Fatalf("Next(%d) exhausted", attempts)
			}
			if d < 0 || float64(d) < 0.8*float64(base) || float64(d) > 1.2*float64(base) {
				t.Fatalf("Next(%d) = %s, outside ±20%% of %s", attempts, d, base)
			}
		}
	}
}

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Schedule
		wantErr bool
	}{
		{"0s,5s,5m", Schedule{0, 5 * time.Second, 5 * time.Minute}, false},
		{" 0s , 1h30m ", Schedule{0, 90 * time.Minute}, false},
		{"0s,5s,5m,30m,2h,5h,10h,10h", DefaultSchedule, false},
		{"10ms", Schedule{10 * time.Millisecond}, false},
		{"", nil, true},
		{"   ", nil, true},
		{"0s,,5s", nil, true},
		{"5", nil, true},
		{"-1s", nil, true},
		{"1x", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSchedule(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSchedule(%q) error = %v", tt.in, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ParseSchedule(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("ParseSchedule(%q) = %v, want %v", tt.in, got, tt.want)
				}
			}
			if err == nil {
				back, err := ParseSchedule(got.String())
				if err != nil || back.String() != got.String() {
					t.Fatalf("round trip of %q: %v, %v", got.String(), back, err)
				}
			}
		})
	}
}
