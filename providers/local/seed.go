package local

import (
	"crypto/sha256"
	"encoding/binary"
)

// rng is a SplitMix64 generator. We carry our own rather than use math/rand because the local
// provider promises the same output for the same input across Go releases, and only an algorithm
// we own can keep that promise.
type rng struct{ state uint64 }

// newRNG seeds a generator from a hash of parts, so every distinct input gets its own sequence.
// The parts are separated by a zero byte so that ("ab", "c") and ("a", "bc") differ.
func newRNG(parts ...string) *rng {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	return &rng{state: binary.LittleEndian.Uint64(sum)}
}

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); n must be positive. The modulo bias is irrelevant here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// pick returns one of words.
func (r *rng) pick(words []string) string { return words[r.intn(len(words))] }
