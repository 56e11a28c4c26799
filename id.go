package electrons

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"time"
)

// ID prefixes.
const (
	PrefixRequest  = "req"
	PrefixBatch    = "bat"
	PrefixArtifact = "art"
	PrefixEvent    = "evt"
	PrefixMessage  = "msg"
	PrefixInstance = "ins"
	PrefixKey      = "key"
	PrefixWebhook  = "whk"
)

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns a new identifier "prefix_" followed by 26 characters: a 48-bit millisecond
// timestamp and 80 random bits in Crockford base32, so that IDs sort by creation time.
func NewID(prefix string) string {
	return newIDAt(prefix, time.Now())
}

func newIDAt(prefix string, t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	var sb strings.Builder
	sb.Grow(len(prefix) + 27)
	sb.WriteString(prefix)
	sb.WriteByte('_')
	// 128 bits as 26 base32 characters, most significant first (the first carries 3 bits).
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	sb.Write(out[:])
	return sb.String()
}

// ValidID reports whether s looks like an ID with the given prefix.
func ValidID(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok || len(rest) != 26 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(crockford, rest[i]) < 0 {
			return false
		}
	}
	return true
}
