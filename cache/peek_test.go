package cache

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/sched"
)

// Peeks fetch exactly the blocks they cover, wherever they jump, with no
// read-ahead.
func TestPeek(t *testing.T) {
	src := &fakeSource{}
	c := newCache(t, Config{Size: 64 << 20}, src)
	obj := Object{ID: 1, Size: 25 << 20}
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
	src.check(t)
}

// classSource records the scheduler class each fetch runs in.
type classSource struct {
	fakeSource
	mu      sync.Mutex
	classes []sched.Class
}

func (s *classSource) Fetch(ctx context.Context, obj Object, off int64, dst []byte) (int, error) {
	c, _ := sched.From(ctx)
	s.mu.Lock()
	s.classes = append(s.classes, c)
	s.mu.Unlock()
	return s.fakeSource.Fetch(ctx, obj, off, dst)
}

// A peek is the mount's own work: it waits behind what users wait on.
func TestPeekBackground(t *testing.T) {
	src := &classSource{}
	c := newCache(t, Config{Size: 64 << 20}, src)
	c.SetScheduler(sched.New())
	obj := Object{ID: 1, Size: 4 << 20}
	p := make([]byte, 4096)
	n, err := c.Peek(t.Context(), obj, p, 300_000)
	checkRead(t, obj, 300_000, p[:n], n, err)
	n, err = c.ReadAt(t.Context(), Object{ID: 2, Size: 4 << 20}, p, 0)
	checkRead(t, Object{ID: 2, Size: 4 << 20}, 0, p[:n], n, err)
	src.mu.Lock()
	defer src.mu.Unlock()
	if want := []sched.Class{sched.Background, sched.Demand}; !slices.Equal(src.classes, want) {
		t.Errorf("fetches ran in classes %v, want %v", src.classes, want)
	}
}
