package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestLinkEstimate(t *testing.T) {
	const mib = 1 << 20
	model := func(rtt time.Duration, rate float64) func(n int64) time.Duration {
		return func(n int64) time.Duration { return rtt + time.Duration(float64(n)/rate*float64(time.Second)) }
	}
	wifi := model(20*time.Millisecond, 3e6)
	lan := model(2*time.Millisecond, 40e6)
	tests := map[string]struct {
		trips   []int64 // small exchanges (listing) before the fetches
		sizes   []int64
		dur     func(i int, n int64) time.Duration
		fitted  bool
		rtt     time.Duration
		rate    float64
		request int
	}{
		"no samples": {request: mib},
		"one size only": {sizes: []int64{mib, mib, mib, mib},
			dur: func(_ int, n int64) time.Duration { return wifi(n) }, request: mib},
		"wifi": {sizes: []int64{128 << 10, mib, 2 * mib, mib, 4 * mib},
			dur:    func(_ int, n int64) time.Duration { return wifi(n) },
			fitted: true, rtt: 20 * time.Millisecond, rate: 3e6,
			request: 15 * BlockUnit}, // 32 * 20 ms * 3 MB/s = 1.92 MB, rounded up to blocks
		"lan": {sizes: []int64{128 << 10, mib, 2 * mib, 4 * mib},
			dur:    func(_ int, n int64) time.Duration { return lan(n) },
			fitted: true, rtt: 2 * time.Millisecond, rate: 40e6,
			request: 20 * BlockUnit}, // 2.56 MB
		"lan with a fetch stuck behind a listing": {sizes: []int64{128 << 10, mib, 2 * mib, 4 * mib, mib, 2 * mib},
			dur: func(i int, n int64) time.Duration {
				if i == 2 {
					return lan(n) + 300*time.Millisecond
				}
				return lan(n)
			},
			fitted: true, rtt: 2 * time.Millisecond, rate: 40e6, request: 20 * BlockUnit},
		"slow round trips clamp to the maximum": {sizes: []int64{128 << 10, 4 * mib},
			dur:    func(_ int, n int64) time.Duration { return model(200*time.Millisecond, 10e6)(n) },
			fitted: true, rtt: 200 * time.Millisecond, rate: 10e6, request: 16 * mib},
		"tiny round trip: 10 ms of data": {sizes: []int64{128 << 10, 4 * mib},
			dur:    func(_ int, n int64) time.Duration { return model(time.Microsecond, 1e9)(n) },
			fitted: true, rtt: time.Microsecond, rate: 1e9, request: 77 * BlockUnit}, // 10 MB
		"lan: listing round trips and one size of fetch": {trips: []int64{8, 130, 173, 2128, 24},
			sizes:  []int64{3_000_000, 3_000_000, 3_000_000},
			dur:    func(_ int, n int64) time.Duration { return lan(n) },
			fitted: true, rtt: 2 * time.Millisecond, rate: 40e6, request: 20 * BlockUnit},
		"round trips alone fit nothing": {trips: []int64{8, 130, 173, 2128, 60000},
			dur: func(_ int, n int64) time.Duration { return lan(n) }, request: mib},
		"a large exchange is no round trip": {trips: []int64{1 << 20},
			sizes: []int64{3_000_000},
			dur:   func(_ int, n int64) time.Duration { return lan(n) }, request: mib},
		"slow and near: the minimum": {sizes: []int64{128 << 10, 4 * mib},
			dur:    func(_ int, n int64) time.Duration { return model(time.Microsecond, 10e6)(n) },
			fitted: true, rtt: time.Microsecond, rate: 10e6, request: minLinkRequest},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var l linkEstimate
			for _, n := range tc.trips {
				l.addRoundTrip(n, tc.dur(-1, n))
			}
			for i, n := range tc.sizes {
				l.add(n, tc.dur(i, n))
			}
			rtt, rate, ok := l.get()
			if ok != tc.fitted {
				t.Fatalf("fitted %v, want %v", ok, tc.fitted)
			}
			if ok && (math.Abs(float64(rtt-tc.rtt)) > 0.05*float64(tc.rtt) || math.Abs(rate-tc.rate) > 0.05*tc.rate) {
				t.Errorf("rtt %v rate %.0f, want %v %.0f", rtt, rate, tc.rtt, tc.rate)
			}
			if got := l.requestSize(mib, 16*mib, BlockUnit); got != tc.request {
				t.Errorf("request size %d, want %d", got, tc.request)
			}
		})
	}
}

// linkSource is a camera behind a simulated link: each fetch takes rtt
// plus its bytes at rate. Run it in a synctest bubble, where the sleeps
// cost no wall time and the cache measures exactly the modelled durations.
type linkSource struct {
	rtt  time.Duration
	rate float64

	mu    sync.Mutex
	calls []call
}

func (s *linkSource) Fetch(ctx context.Context, obj Object, off int64, dst []byte) (int, error) {
	s.mu.Lock()
	s.calls = append(s.calls, call{obj.ID, off, len(dst)})
	s.mu.Unlock()
	time.Sleep(s.rtt + time.Duration(float64(len(dst))/s.rate*float64(time.Second)))
	fill(dst, obj.ID, off)
	return len(dst), nil
}

func (s *linkSource) Calls() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

// readAll reads obj through r in 128 KiB reads, as the kernel does, and
// checks the bytes.
func readAll(t *testing.T, r *Reader) {
	t.Helper()
	obj := r.Object()
	p := make([]byte, BlockUnit)
	for off := int64(0); off < obj.Size; off += int64(len(p)) {
		n, err := r.ReadAt(t.Context(), p, off)
		if err != nil && err != io.EOF {
			t.Fatalf("read %d at %d: %v", len(p), off, err)
		}
		checkRead(t, obj, off, p, n, err)
	}
}

// TestRequestSizeFollowsLink checks that a sequential reader's window
// starts at what it asked for and doubles while it reads on, up to the size
// the measured link calls for, and that every block is fetched once.
func TestRequestSizeFollowsLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &linkSource{rtt: 2 * time.Millisecond, rate: 40e6}
		c := newCache(t, Config{}, src)
		obj := Object{ID: 1, Size: 64 << 20}
		readAll(t, c.NewReader(obj))

		calls := src.Calls()
		// One block for the first read, one for the second (it read all
		// that was fetched for it) with the first window of read-ahead:
		// two blocks, then four, eight...
		want := []call{{1, 0, BlockUnit}, {1, BlockUnit, BlockUnit}, {1, 2 * BlockUnit, 2 * BlockUnit}, {1, 4 * BlockUnit, 4 * BlockUnit}}
		if !slices.Equal(calls[:4], want) {
			t.Errorf("first fetches %v, want %v", calls[:4], want)
		}
		const link = 20 * BlockUnit // 32 * 2 ms * 40 MB/s = 2.56 MB, rounded up to blocks
		st := c.Stats()
		if st.RequestSize != link || st.RTT != 2*time.Millisecond || math.Abs(st.Rate-40e6) > 1e3 {
			t.Errorf("stats request %d rtt %v rate %.0f, want %d 2ms 40e6", st.RequestSize, st.RTT, st.Rate, link)
		}
		if late := calls[len(calls)-2]; late.n != link {
			t.Errorf("late fetch %v, want %d bytes", late, link)
		}
		for i := 1; i < len(calls); i++ {
			if calls[i].n > 2*calls[i-1].n && calls[i].n > link {
				t.Errorf("fetch %d %v more than doubles the one before (%v)", i, calls[i], calls[i-1])
			}
		}
		// The rest of the object within 1.5 requests comes in one.
		if tail := calls[len(calls)-1]; tail.off+int64(tail.n) != obj.Size || tail.n > link*3/2 {
			t.Errorf("last fetch %v: want the object's rest, at most 1.5 requests", tail)
		}
		if got := coverage(calls, 1, BlockUnit); len(got) != int(obj.Size/BlockUnit) {
			t.Errorf("%d blocks fetched, want %d", len(got), obj.Size/BlockUnit)
		} else {
			for b, n := range got {
				if n != 1 {
					t.Errorf("block %d fetched %d times", b, n)
				}
			}
		}
		if st.Fetches > 40 {
			t.Errorf("%d fetches for 64 MiB on a link wanting 2.5 MB requests", st.Fetches)
		}
	})
}

// TestCopying checks that a reader whose process copies (SetCopy) fetches
// link-sized requests from its first read, and that nothing is global: a
// reader opened after a copy, by the same cache, peeks with one block.
func TestCopying(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &linkSource{rtt: 20 * time.Millisecond, rate: 2 << 20 / 0.64}
		c := newCache(t, Config{}, src)
		// Measure the link first: 32 * 20 ms * 3.2 MiB/s is 2 MiB.
		readAll(t, c.NewReader(Object{ID: 1, Size: 12 << 20}))
		if got := c.Stats().RequestSize; got != 16*BlockUnit {
			t.Fatalf("request size %d after a measurement, want 2 MiB", got)
		}
		steps := []struct {
			obj   Object
			copy  bool
			peek  bool
			first int // bytes of the object's first fetch
			n     int // fetches of the object
		}{
			{Object{ID: 2, Size: 3_000_000}, true, false, 3_000_000, 1}, // the rest within 1.5 requests
			{Object{ID: 3, Size: 8_000_000}, true, false, 16 * BlockUnit, 4},
			{Object{ID: 4, Size: 25 << 20}, false, true, BlockUnit, 1}, // a peek after a copy: one block
			{Object{ID: 5, Size: 3_000_000}, false, false, BlockUnit, 6},
		}
		for _, s := range steps {
			r := c.NewReader(s.obj)
			if s.copy {
				r.SetCopy(func() (Object, bool) { return Object{}, false })
			}
			if s.peek {
				if _, err := r.ReadAt(t.Context(), make([]byte, 64<<10), 0); err != nil {
					t.Fatal(err)
				}
			} else {
				readAll(t, r)
			}
			synctest.Wait()
			var first *call
			n := 0
			for _, cl := range src.Calls() {
				if cl.obj == s.obj.ID {
					if first == nil {
						first = &cl
					}
					n++
				}
			}
			if first == nil || first.off != 0 || first.n != s.first || n != s.n {
				t.Errorf("object %d: first fetch %v of %d, want %d bytes at 0 of %d", s.obj.ID, first, n, s.first, s.n)
			}
		}
	})
}

// TestPrefetchNext checks that a copying reader whose fetches reach its
// object's end prefetches the first request of the object next names,
// once, and that a random reader prefetches nothing.
func TestPrefetchNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &linkSource{rtt: 2 * time.Millisecond, rate: 40e6}
		c := newCache(t, Config{}, src)
		a := Object{ID: 1, Size: 3_000_000}
		b := Object{ID: 2, Size: 3_000_000}
		asked := 0
		r := c.NewReader(a)
		r.SetCopy(func() (Object, bool) { asked++; return b, true })
		readAll(t, r)
		synctest.Wait()
		if asked != 1 {
			t.Errorf("next asked %d times, want once", asked)
		}
		if st := c.Stats(); st.Prefetches != 1 {
			t.Errorf("%d prefetches, want 1", st.Prefetches)
		}
		calls := src.Calls()
		if last := calls[len(calls)-1]; last.obj != b.ID || last.off != 0 {
			t.Fatalf("last fetch %v, want b's start prefetched", last)
		}
		rb := c.NewReader(b)
		rb.SetCopy(func() (Object, bool) { return Object{}, false })
		readAll(t, rb)
		for blk, n := range coverage(src.Calls(), b.ID, BlockUnit) {
			if n != 1 {
				t.Errorf("block %d of b fetched %d times, want once", blk, n)
			}
		}
		if st := c.Stats(); st.Prefetches != 1 || st.Hits == 0 {
			t.Errorf("stats %+v: want the prefetched blocks hit", st)
		}

		// A random reader never asks for its next object.
		asked = 0
		rr := c.NewReader(Object{ID: 3, Size: 8 << 20})
		rr.SetCopy(func() (Object, bool) { asked++; return Object{ID: 4, Size: 1 << 20}, true })
		for _, off := range []int64{5 << 20, 1 << 20, 3 << 20, 100} {
			if _, err := rr.ReadAt(t.Context(), make([]byte, 100), off); err != nil && err != io.EOF {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if asked != 0 {
			t.Errorf("random reader asked for its next object %d times", asked)
		}
	})
}

// TestPrefetchQueuedBeforeWait checks that the next object's prefetch is
// queued as soon as a copying reader's fetches reach its object's end,
// while the read still waits for its own bytes: the session then goes from
// the last request of one file straight to the next file's first.
func TestPrefetchQueuedBeforeWait(t *testing.T) {
	src := &fakeSource{}
	gate := make(chan struct{})
	src.setGate(gate)
	c := newCache(t, Config{Concurrency: 1}, src)
	a := Object{ID: 1, Size: 3 * BlockUnit}
	b := Object{ID: 2, Size: 3 * BlockUnit}
	var asked atomic.Int32
	r := c.NewReader(a)
	r.SetCopy(func() (Object, bool) { asked.Add(1); return b, true }) // r's first read takes all of a
	ch := make(chan error, 1)
	go func() {
		_, err := r.ReadAt(t.Context(), make([]byte, BlockUnit), 0)
		ch <- err
	}()
	waitFor(t, "b's prefetch queued behind a's fetch", func() bool { return c.Stats().InFlight == 2 })
	select {
	case err := <-ch:
		t.Fatalf("read returned (%v) before its fetch was let through", err)
	default:
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("next asked %d times, want once", n)
	}
	close(gate)
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both fetches", func() bool { return c.Stats().InFlight == 0 })
	calls := src.Calls()
	want := []call{{a.ID, 0, int(a.Size)}, {b.ID, 0, int(b.Size)}}
	if !slices.Equal(calls, want) {
		t.Errorf("fetches %v, want %v", calls, want)
	}
	src.check(t)
}

func TestPrefetchBounds(t *testing.T) {
	tests := map[string]struct {
		cfg  Config
		obj  Object
		busy int // fetches queued before the prefetch
		want bool
	}{
		"room":               {Config{}, Object{ID: 9, Size: 3 << 20}, 0, true},
		"empty object":       {Config{}, Object{ID: 9}, 0, false},
		"queue full":         {Config{MaxFetches: 2}, Object{ID: 9, Size: 3 << 20}, 2, false},
		"too big for cache":  {Config{Size: 4 << 20, RequestSize: 8 * BlockUnit}, Object{ID: 9, Size: 3 << 20}, 0, false},
		"small cache, small": {Config{Size: 4 << 20, RequestSize: 8 * BlockUnit}, Object{ID: 9, Size: 1000}, 0, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			src := &fakeSource{}
			gate := make(chan struct{})
			src.setGate(gate)
			c := newCache(t, tc.cfg, src)
			for i := range tc.busy {
				goRead(t.Context(), c, Object{ID: uint64(100 + i), Size: BlockUnit}, 0, 10)
			}
			waitFor(t, "busy fetches", func() bool { return c.Stats().InFlight == tc.busy })
			if got := c.Prefetch(tc.obj, 1); got != tc.want {
				t.Errorf("Prefetch = %v, want %v", got, tc.want)
			}
			if tc.want && c.Prefetch(tc.obj, 1) {
				t.Error("second Prefetch of the same object queued again")
			}
			close(gate)
		})
	}
}

// TestPrefetchYields checks that a reader's fetch overtakes a queued
// prefetch.
func TestPrefetchYields(t *testing.T) {
	src := &fakeSource{}
	gate := make(chan struct{})
	src.setGate(gate)
	c := newCache(t, Config{}, src)
	first := goRead(t.Context(), c, Object{ID: 1, Size: BlockUnit}, 0, 10)
	waitFor(t, "first fetch", func() bool { return len(src.Calls()) == 1 })
	if !c.Prefetch(Object{ID: 2, Size: 1 << 20}, 1) {
		t.Fatal("prefetch refused")
	}
	second := goRead(t.Context(), c, Object{ID: 3, Size: BlockUnit}, 0, 10)
	waitFor(t, "reader queued", func() bool { return c.Stats().InFlight == 3 })
	close(gate)
	receive(t, first)
	receive(t, second)
	waitFor(t, "prefetch", func() bool { return len(src.Calls()) == 3 })
	if got := fmt.Sprint(src.Calls()); got != fmt.Sprint([]call{{1, 0, BlockUnit}, {3, 0, BlockUnit}, {2, 0, 1 << 20}}) {
		t.Errorf("camera saw %s; want the reader's fetch before the prefetch", got)
	}
}

// writerSource streams into the cache's io.Writer in odd-sized chunks.
// It writes short bytes more than asked (fewer when negative). With a
// pause, it stops after pauseAt bytes of each request until pause
// is closed, and then fails the first request that got there if failAfter
// is set.
type writerSource struct {
	fakeSource
	chunk     int
	pauseAt   int64
	pause     chan struct{}
	failAfter atomic.Bool // fail the next request that reaches the pause
}

var errMidway = errors.New("link lost midway")

func (s *writerSource) FetchTo(ctx context.Context, obj Object, off, n int64, w io.Writer) (int64, error) {
	s.mu.Lock()
	s.calls = append(s.calls, call{obj.ID, off, int(n)})
	s.mu.Unlock()
	buf := make([]byte, n+int64(s.short))
	fill(buf, obj.ID, off)
	var done int64
	for done < int64(len(buf)) {
		end := min(done+int64(s.chunk), int64(len(buf)))
		if s.pause != nil && done < s.pauseAt && end > s.pauseAt {
			end = s.pauseAt
		}
		m, err := w.Write(buf[done:end])
		done += int64(m)
		if err != nil {
			return done, err
		}
		if s.pause != nil && done == s.pauseAt {
			select {
			case <-s.pause:
			case <-ctx.Done():
				return done, ctx.Err()
			}
			if s.failAfter.CompareAndSwap(true, false) {
				return done, errMidway
			}
		}
	}
	return done, nil
}

// TestStreamedBlocks checks that the blocks of a request are served as
// their bytes arrive, a megabyte at a time, not when the whole request has:
// a reader of a large request's first block, or of the last file of a
// copy, does not wait for the rest. A request failing midway keeps the
// blocks that arrived and fails the readers of the others.
func TestStreamedBlocks(t *testing.T) {
	const group = publishBytes / BlockUnit
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprint("fail=", fail), func(t *testing.T) {
			src := &writerSource{chunk: 5000, pauseAt: (group+2)*BlockUnit + 100, pause: make(chan struct{})}
			src.failAfter.Store(fail)
			c := newCache(t, Config{RequestSize: 3 * group * BlockUnit}, src)
			obj := Object{ID: 7, Size: 3 * group * BlockUnit}
			// A read within the first megabyte, which arrived, returns
			// while the request is still running.
			first := goRead(t.Context(), c, obj, 10, BlockUnit)
			r := receive(t, first)
			checkRead(t, obj, 10, r.p[:r.n], r.n, r.err)
			if st := c.Stats(); st.InFlight != 1 || st.Blocks != group {
				t.Errorf("while paused: %d fetches in flight, %d blocks cached; want 1 and %d", st.InFlight, st.Blocks, group)
			}
			// A read in the second megabyte, which has only begun, waits.
			second := goRead(t.Context(), c, obj, group*BlockUnit, 10)
			select {
			case r := <-second:
				t.Fatalf("read of a block not arrived returned %d, %v", r.n, r.err)
			case <-time.After(20 * time.Millisecond):
			}
			close(src.pause)
			r = receive(t, second)
			if fail {
				if !errors.Is(r.err, errMidway) {
					t.Errorf("read of a block the failed request did not bring: %v, want errMidway", r.err)
				}
				if st := c.Stats(); st.Blocks != group {
					t.Errorf("%d blocks cached, want the %d that arrived", st.Blocks, group)
				}
			} else {
				checkRead(t, obj, group*BlockUnit, r.p[:r.n], r.n, r.err)
			}
			// Everything reads right afterwards (fetched again if need be).
			// The read may return before its fetch has ended: the blocks
			// came as they arrived.
			p := make([]byte, obj.Size)
			n, err := c.ReadAt(t.Context(), obj, p, 0)
			checkRead(t, obj, 0, p[:n], n, err)
			waitFor(t, "the fetches to end", func() bool { return c.Stats().InFlight == 0 })
			if st := c.Stats(); st.Blocks != 3*group {
				t.Errorf("at the end: %d blocks, want %d", st.Blocks, 3*group)
			}
		})
	}
}

func TestWriterSource(t *testing.T) {
	for _, chunk := range []int{1000, BlockUnit, 3*BlockUnit + 7} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			src := &writerSource{chunk: chunk}
			c := newCache(t, Config{RequestSize: 8 * BlockUnit}, src)
			obj := Object{ID: 5, Size: 10*BlockUnit + 999}
			p := make([]byte, obj.Size)
			n, err := c.ReadAt(t.Context(), obj, p, 0)
			checkRead(t, obj, 0, p[:n], n, err)
			if len(src.Calls()) != 1 {
				t.Errorf("calls %v, want one request for the whole object", src.Calls())
			}
		})
	}
	// A source writing more than asked fails the fetch without writing
	// past the buffers; the blocks it filled whole were published as they
	// arrived. One writing less fails the fetch, and caches the blocks of
	// no megabyte it did not complete.
	for _, tc := range []struct {
		extra  int // bytes written beyond those asked for
		ok     bool
		blocks int
	}{{10, true, 3}, {-10, false, 0}} {
		src := &writerSource{chunk: 4096}
		src.short = tc.extra
		c := newCache(t, Config{RequestSize: 8 * BlockUnit}, src)
		obj := Object{ID: 6, Size: 3 * BlockUnit}
		p := make([]byte, 10)
		n, err := c.ReadAt(t.Context(), obj, p, 0)
		if tc.ok {
			checkRead(t, obj, 0, p[:n], n, err)
		} else if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%d bytes extra: read error %v, want io.ErrUnexpectedEOF", tc.extra, err)
		}
		waitFor(t, "the failed fetch", func() bool { return c.Stats().InFlight == 0 })
		if st := c.Stats(); st.FetchErrors != 1 || st.Blocks != tc.blocks {
			t.Errorf("%d bytes extra: %d fetch errors, %d blocks cached; want 1 and %d", tc.extra, st.FetchErrors, st.Blocks, tc.blocks)
		}
	}
}

// TestWindowDoubles checks the exact requests of a sequential reader on a
// link measured as wanting 6 MB requests: the first read's block, the
// second's, then windows of read-ahead doubling while it reads on, the
// last stretched to the object's end.
func TestWindowDoubles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &linkSource{rtt: 5 * time.Millisecond, rate: 40e6}
		c := newCache(t, Config{}, src)
		obj := Object{ID: 1, Size: 8_000_000}
		readAll(t, c.NewReader(obj))
		want := []call{{1, 0, BlockUnit}, {1, BlockUnit, BlockUnit}, {1, 2 * BlockUnit, 2 * BlockUnit},
			{1, 4 * BlockUnit, 4 * BlockUnit}, {1, 8 * BlockUnit, 8 * BlockUnit}, {1, 16 * BlockUnit, 16 * BlockUnit},
			{1, 32 * BlockUnit, 8_000_000 - 32*BlockUnit}}
		if got := src.Calls(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("camera saw %v, want %v", got, want)
		}
		if st := c.Stats(); st.InFlight != 0 || st.Fetches != uint64(len(want)) || st.ReadAheadFetches != uint64(len(want)-2) {
			t.Errorf("stats %+v: want %d fetches, %d of them read-ahead, none left", st, len(want), len(want)-2)
		}
	})
}

// TestPeekOneRequest checks that a peek at a file's first 64 KiB costs one
// request of one block whatever the read sizes, as the kernel sends them
// for GNU head (8 KiB reads: 16 KiB pieces), dd bs=64k (64 KiB and its
// readahead together) and a whole 64 KiB read, and that reading the rest
// of that block costs nothing more.
func TestPeekOneRequest(t *testing.T) {
	for name, reads := range map[string][][2]int64{
		"head":        {{0, 16 << 10}, {16 << 10, 16 << 10}, {32 << 10, 16 << 10}, {48 << 10, 16 << 10}, {64 << 10, 16 << 10}},
		"dd bs=64k":   {{0, 64 << 10}, {64 << 10, 64 << 10}},
		"dd reversed": {{64 << 10, 64 << 10}, {0, 64 << 10}},
		"one read":    {{0, 64 << 10}},
		"whole block": {{0, 64 << 10}, {64 << 10, 32 << 10}, {96 << 10, 32 << 10}},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := &linkSource{rtt: 20 * time.Millisecond, rate: 3e6}
				c := newCache(t, Config{}, src)
				obj := Object{ID: 1, Size: 25 << 20}
				r := c.NewReader(obj)
				var wg sync.WaitGroup
				for _, rd := range reads {
					wg.Go(func() {
						p := make([]byte, rd[1])
						n, err := r.ReadAt(t.Context(), p, rd[0])
						checkRead(t, obj, rd[0], p[:n], n, err)
					})
					if name != "dd bs=64k" && name != "dd reversed" {
						wg.Wait() // one after the other; dd's two come together
					}
				}
				wg.Wait()
				r.Close()
				synctest.Wait()
				if got, want := src.Calls(), []call{{1, 0, BlockUnit}}; !slices.Equal(got, want) {
					t.Errorf("camera saw %v, want %v", got, want)
				}
			})
		})
	}
}

// TestMemoryBound checks that a long sequential read through a small cache
// allocates no more block buffers than the cache holds and the pool's
// reserve: each fetch first evicts room for its blocks and reuses their
// buffers.
func TestMemoryBound(t *testing.T) {
	src := &writerSource{chunk: 50_000}
	const capacity = 32
	c := newCache(t, Config{Size: capacity * BlockUnit, RequestSize: 4 * BlockUnit, MaxRequestSize: 8 * BlockUnit}, src)
	readAll(t, c.NewReader(Object{ID: 1, Size: 200*BlockUnit + 5}))
	st := c.Stats()
	if limit := uint64(capacity + c.bufs.reserve); st.Buffers > limit || st.Blocks > capacity {
		t.Errorf("%d buffers allocated, %d blocks held; want at most %d and %d", st.Buffers, st.Blocks, limit, capacity)
	}
	if st.Evictions == 0 {
		t.Error("no evictions: the object did not outgrow the cache")
	}
}
