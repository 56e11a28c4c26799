package electrons

import (
	"sort"
	"testing"
	"time"
)

func TestNewIDSortsByTime(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := 0; i < 50; i++ {
		ids = append(ids, newIDAt("req", base.Add(time.Duration(i)*time.Millisecond)))
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatalf("ids not sorted by time: %v", ids)
	}
	for _, id := range ids {
		if !ValidID("req", id) {
			t.Fatalf("ValidID(%q) = false", id)
		}
	}
	if ValidID("bat", ids[0]) || ValidID("req", "req_short") {
		t.Fatal("ValidID accepted a wrong id")
	}
}

func TestNewIDUnique(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := NewID("req")
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}
