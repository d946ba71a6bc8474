package cache

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestBufferReserve checks the pool's reserve: filled from the start, kept
// full in the background as gets take from it until limit buffers have
// been allocated, then gets allocate only when no spare buffer is left; a
// full pool drops what is put beyond max; a closed one fills nothing.
func TestBufferReserve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var allocated atomic.Int64
		p := &bufferPool{size: 3 * 4096, max: 6, reserve: 4, limit: 10, count: func() { allocated.Add(1) }}
		spare := func() int {
			p.mu.Lock()
			defer p.mu.Unlock()
			return len(p.free)
		}

		p.fill()
		synctest.Wait()
		if got, n := allocated.Load(), spare(); got != 4 || n != 4 {
			t.Fatalf("after fill: %d buffers allocated, %d spare; want the reserve of 4", got, n)
		}
		var held [][]byte
		for i := range 11 {
			b := p.get()
			if len(b) != p.size {
				t.Fatalf("get: %d bytes, want %d", len(b), p.size)
			}
			held = append(held, b)
			synctest.Wait()
			// The reserve is refilled up to the limit of 10
			// allocated (after the 6th get); then it runs down, and
			// the 11th get allocates.
			wantAllocated, wantSpare := min(4+i+1, 10), 4
			switch {
			case i >= 6 && i < 10:
				wantSpare = 4 - (i - 5)
			case i == 10:
				wantAllocated, wantSpare = 11, 0
			}
			if got, n := allocated.Load(), spare(); got != int64(wantAllocated) || n != wantSpare {
				t.Errorf("after get %d: %d buffers allocated, %d spare; want %d and %d", i+1, got, n, wantAllocated, wantSpare)
			}
		}

		// At most max spare buffers are kept.
		for _, b := range held {
			p.put(b)
		}
		if n := spare(); n != p.max {
			t.Errorf("%d spare buffers after putting 11 back, want max %d", n, p.max)
		}

		// Closed, the pool allocates only what is asked.
		p.close()
		for range p.max + 1 {
			p.get()
		}
		synctest.Wait()
		if got := allocated.Load(); got != 12 {
			t.Errorf("%d buffers allocated after close and %d gets, want 12", got, p.max+1)
		}
	})
}

// TestBufferReserveClose checks that close waits for the filling goroutine
// to end, and that it ends early.
func TestBufferReserveClose(t *testing.T) {
	var allocated atomic.Int64
	p := &bufferPool{size: 4096, max: 1 << 14, reserve: 1 << 14, limit: 1 << 14, count: func() { allocated.Add(1) }}
	p.fill()
	p.close()
	p.mu.Lock()
	refilling := p.refilling
	p.mu.Unlock()
	if refilling {
		t.Fatal("close returned while the reserve was being filled")
	}
	n := allocated.Load()
	if n >= 1<<14 {
		t.Errorf("the whole reserve of %d was allocated before close returned", n)
	}
	p.get()
	if got := allocated.Load(); got != n+1 {
		t.Errorf("%d buffers allocated after a get on a closed pool, want %d", got, n+1)
	}
}
