package cache

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/airnef-mount/airnef-mount/sched"
)

// TestCloseWithdraws checks that closing a reader drops its queued
// read-ahead, unless another reader's window wants it too, and lets a
// running fetch finish.
func TestCloseWithdraws(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(map[bool]string{false: "alone", true: "shared"}[shared], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := &fakeSource{}
				const bs = BlockUnit
				c := newCache(t, Config{BlockSize: bs, RequestSize: 4 * bs, Size: 32 * bs}, src)
				obj := Object{ID: 5, Size: 40 * bs}
				readers := []*Reader{c.NewReader(obj), c.NewReader(obj)}
				for _, r := range readers {
					if _, err := r.ReadAt(t.Context(), make([]byte, bs), 0); err != nil {
						t.Fatal(err)
					}
				}
				gate := make(chan struct{})
				src.setGate(gate)
				done := make(chan error, 2)
				n := 1
				if shared {
					n = 2
				}
				for _, r := range readers[:n] {
					// Block 1 runs; the window 2-3 is queued.
					go func() { _, err := r.ReadAt(t.Context(), make([]byte, bs), bs); done <- err }()
					synctest.Wait()
				}
				readers[0].Close()
				close(gate)
				for range n {
					if err := <-done; err != nil {
						t.Fatal(err)
					}
				}
				synctest.Wait()
				cov := coverage(src.Calls(), obj.ID, bs)
				st := c.Stats()
				switch {
				case !shared && (cov[2] != 0 || st.Withdrawn != 1 || st.InFlight != 0):
					t.Errorf("closed alone: fetched %v, %d withdrawn; want blocks 2-3 never asked, 1 withdrawn", cov, st.Withdrawn)
				case shared && (cov[2] != 1 || st.Withdrawn != 0):
					t.Errorf("closed, the other reader still wanting: fetched %v, %d withdrawn; want blocks 2-3 asked", cov, st.Withdrawn)
				}
				if cov[1] != 1 {
					t.Errorf("the running fetch of block 1: fetched %d times", cov[1])
				}
			})
		})
	}
}

// TestSeek checks that a read outside the window fetches its own bytes
// alone, uncached, withdraws the read-ahead queued before it, and that
// reading on from there opens a window again.
func TestSeek(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{}
		const bs = BlockUnit
		c := newCache(t, Config{BlockSize: bs, RequestSize: 4 * bs, Size: 32 * bs}, src)
		obj := Object{ID: 6, Size: 100 * bs}
		r := c.NewReader(obj)
		read := func(off int64, n int) { t.Helper(); readChecked(t, r, obj, off, n) }
		read(0, bs)
		gate := make(chan struct{})
		src.setGate(gate)
		done := make(chan struct{}, 2)
		go func() { read(bs, bs); done <- struct{}{} }() // block 1 runs, 2-3 queued
		synctest.Wait()
		go func() { read(50*bs+100, 4096); done <- struct{}{} }() // the kernel's next read: a seek
		synctest.Wait()
		close(gate)
		<-done
		<-done
		synctest.Wait()
		calls := src.Calls()
		want := []call{{6, 0, bs}, {6, bs, bs}, {6, 50*bs + 100, 4096}}
		if !slices.Equal(calls, want) {
			t.Fatalf("camera saw %v, want %v: the seek's bytes alone, the read-ahead before it withdrawn", calls, want)
		}
		if st := c.Stats(); st.DirectFetches != 1 || st.Withdrawn != 1 || st.Blocks != 2 {
			t.Errorf("stats %+v: want 1 direct fetch, 1 withdrawn, 2 blocks cached", st)
		}
		// Reading on from the seek: the blocks of the read (it straddles
		// two) and a window of two, then the next window of four.
		read(50*bs+100+4096, bs)
		read(51*bs+100+4096, bs)
		synctest.Wait()
		got := src.Calls()[3:]
		want = []call{{6, 50 * bs, 2 * bs}, {6, 52 * bs, 2 * bs}, {6, 54 * bs, 4 * bs}}
		if !slices.Equal(got, want) {
			t.Errorf("reading on after the seek: camera saw %v, want %v", got, want)
		}
	})
}

// TestDirectInterrupted checks that a seek's fetch whose reader is
// interrupted before it runs never reaches the camera.
func TestDirectInterrupted(t *testing.T) {
	src := &fakeSource{started: make(chan call, 4)}
	const bs = BlockUnit
	c := newCache(t, Config{BlockSize: bs, RequestSize: bs, Size: 8 * bs}, src)
	obj := Object{ID: 7, Size: 40 * bs}
	r := c.NewReader(obj)
	if _, err := r.ReadAt(t.Context(), make([]byte, 10), 0); err != nil {
		t.Fatal(err)
	}
	<-src.started
	gate := make(chan struct{})
	src.setGate(gate)
	busy := goRead(t.Context(), c, Object{ID: 8, Size: bs}, 0, 10)
	<-src.started
	ctx, cancel := context.WithCancel(t.Context())
	seek := make(chan error, 1)
	go func() { _, err := r.ReadAt(ctx, make([]byte, 10), 30*bs); seek <- err }()
	waitFor(t, "the seek to queue", func() bool { return c.Stats().InFlight == 2 })
	cancel()
	if err := <-seek; !errors.Is(err, context.Canceled) {
		t.Errorf("interrupted seek: %v", err)
	}
	close(gate)
	receive(t, busy)
	waitFor(t, "nothing in flight", func() bool { return c.Stats().InFlight == 0 })
	if calls := src.Calls(); len(calls) != 2 {
		t.Errorf("camera saw %v; the interrupted seek's fetch should not have reached it", calls)
	}
}

// TestScheduled checks the cache's fetches in the session's scheduler:
// a reader's fetch waits while a user's request holds the session; a
// speculative request (and a copy's first request of a file, read-ahead
// but for its read's blocks) is cut to speculativeTime of the link while
// another process's request was seen within sched.Memory, and is
// link-sized again after.
func TestScheduled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rate = 8 << 20 // 250 ms is 2 MiB: 16 blocks
		src := &linkSource{rtt: 20 * time.Millisecond, rate: rate}
		c := newCache(t, Config{}, src)
		s := sched.New()
		c.SetScheduler(s)
		readAll(t, c.NewReader(Object{ID: 1, Size: 12 << 20})) // measure the link
		link := c.Stats().RequestSize
		if link <= 16*BlockUnit {
			t.Fatalf("request size %d, want more than the cap", link)
		}

		busy, err := s.Acquire(t.Context(), sched.User, 5)
		if err != nil {
			t.Fatal(err)
		}
		before := len(src.Calls())
		res := goRead(t.Context(), c, Object{ID: 2, Size: BlockUnit}, 0, 10)
		time.Sleep(time.Second)
		if n := len(src.Calls()); n != before {
			t.Fatalf("a fetch reached the camera while a user's request held the session")
		}
		busy.Done()
		receive(t, res)

		// Another process's demand: the copy's read-ahead is capped.
		s.Note(sched.Demand, 99)
		obj := Object{ID: 3, Size: 64 << 20}
		r := c.NewReader(obj)
		r.SetOwner(7)
		r.SetCopy(func() (Object, bool) { return Object{}, false })
		start := time.Now()
		readAll(t, r)
		var capped, full int
		for _, cl := range src.Calls() {
			if cl.obj != obj.ID {
				continue
			}
			if cl.off == 0 && cl.n != 16*BlockUnit {
				// A copy's first request of a file is read-ahead
				// but for its read's blocks: capped too.
				t.Errorf("the copy's first request %v, want it capped to %d", cl, 16*BlockUnit)
			}
			switch {
			case cl.n == 16*BlockUnit:
				capped++
			case cl.n >= link:
				full++
				if capped == 0 {
					t.Errorf("a full-size request %v before the capped ones", cl)
				}
			}
		}
		if capped == 0 || full == 0 || c.Stats().Capped == 0 {
			t.Errorf("%d capped and %d full requests over %v; want capped ones while contended, then full ones", capped, full, time.Since(start))
		}
		if got := coverage(src.Calls(), obj.ID, BlockUnit); len(got) != int(obj.Size/BlockUnit) {
			t.Errorf("%d blocks fetched, want %d", len(got), obj.Size/BlockUnit)
		} else {
			for b, n := range got {
				if n != 1 {
					t.Errorf("block %d fetched %d times", b, n)
				}
			}
		}
	})
}

// TestRandomReads checks what a random reader costs the camera: a first
// read elsewhere than the start, and every read not exactly where the last
// one ended (one landing just past it included), fetch their own bytes
// alone; only a read exactly there opens a window.
func TestRandomReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{}
		const bs = BlockUnit
		c := newCache(t, Config{BlockSize: bs, RequestSize: 4 * bs, Size: 64 * bs}, src)
		obj := Object{ID: 7, Size: 200 * bs}
		r := c.NewReader(obj)
		read := func(off int64) { t.Helper(); readChecked(t, r, obj, off, 4096) }
		read(90*bs + 512)      // first read, not at the start
		read(90*bs + 8192)     // just past the last one's end
		read(10*bs + 3)        // back
		read(10*bs + 3 + 8192) // just past again
		synctest.Wait()
		want := []call{{7, 90*bs + 512, 4096}, {7, 90*bs + 8192, 4096}, {7, 10*bs + 3, 4096}, {7, 10*bs + 3 + 8192, 4096}}
		if got := src.Calls(); !slices.Equal(got, want) {
			t.Fatalf("camera saw %v, want %v: each read's own bytes", got, want)
		}

		// fio's pattern: 200 reads of 4 KiB anywhere cost the camera
		// their own bytes, one request each.
		rng := rand.New(rand.NewPCG(1, 2))
		before := len(src.Calls())
		for range 200 {
			read(rng.Int64N(obj.Size/4096-1) * 4096)
		}
		synctest.Wait()
		var bytes int64
		calls := src.Calls()[before:]
		for _, cl := range calls {
			bytes += int64(cl.n)
		}
		if len(calls) > 200 || bytes > 200*4096 {
			t.Errorf("200 random reads of 4 KiB: %d requests of %d bytes, want at most 200 of 800 KiB", len(calls), bytes)
		}
	})
}

// TestSeekWholeKernelRead checks that a seek of a whole kernel read (a
// program's larger read, which the kernel cuts in two sent together)
// costs one request: its block and the next, cached, which the second
// read finds coming; alone, it costs one request of two blocks.
func TestSeekWholeKernelRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{}
		const bs = BlockUnit
		c := newCache(t, Config{BlockSize: bs, RequestSize: 8 * bs, Size: 64 * bs}, src)
		obj := Object{ID: 8, Size: 200 * bs}
		r := c.NewReader(obj)
		read := func(off int64) { t.Helper(); readChecked(t, r, obj, off, bs) }
		read(0) // the header
		gate := make(chan struct{})
		src.setGate(gate)
		done := make(chan struct{}, 2)
		go func() { read(100 * bs); done <- struct{}{} }() // the seek
		synctest.Wait()
		go func() { read(101 * bs); done <- struct{}{} }() // the kernel's second read
		synctest.Wait()
		close(gate)
		<-done
		<-done
		read(150 * bs) // a lone one
		synctest.Wait()
		want := []call{{8, 0, bs}, {8, 100 * bs, 2 * bs}, {8, 150 * bs, 2 * bs}}
		if got := src.Calls(); !slices.Equal(got, want) {
			t.Errorf("camera saw %v, want %v", got, want)
		}
	})
}
