package cache

import (
	"slices"
	"testing"
	"time"
)

// Peeks fetch exactly the blocks they cover, wherever they jump, with no
// read-ahead, and a copy in progress keeps its mode.
func TestPeek(t *testing.T) {
	src := &fakeSource{}
	c := newCache(t, Config{Size: 64 << 20}, src)
	obj := Object{ID: 1, Size: 25 << 20}
	c.copying.Store(true)
	for _, r := range []struct {
		off int64
		n   int
	}{{0, 64 << 10}, {8, 12}, {2_100_000, 200}, {2_100_300, 4096}, {330_000, 100_000}} {
		p := make([]byte, r.n)
		n, err := c.Peek(t.Context(), obj, p, r.off)
		checkRead(t, obj, r.off, p[:n], n, err)
	}
	time.Sleep(50 * time.Millisecond) // let any read-ahead show
	// The last peek spans two blocks: one fetch.
	want := []call{{1, 0, BlockUnit}, {1, 2_097_152, BlockUnit}, {1, 262_144, 2 * BlockUnit}}
	got := src.Calls()
	slices.SortFunc(got, func(a, b call) int { return int(a.off - b.off) })
	slices.SortFunc(want, func(a, b call) int { return int(a.off - b.off) })
	if !slices.Equal(got, want) {
		t.Errorf("camera saw %v, want %v", got, want)
	}
	if !c.copying.Load() {
		t.Error("peeks ended copy mode")
	}
	src.check(t)
}
