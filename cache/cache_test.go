package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The fake camera's bytes repeat with a prime period, so that no block size
// lines up with it and a block misplaced by any whole number of blocks reads
// wrong. Object IDs shift the pattern.
const period = 65521

var table = func() []byte {
	rng := rand.New(rand.NewPCG(5, 6))
	b := make([]byte, 2*period)
	for i := range period {
		b[i] = byte(rng.Uint32())
	}
	copy(b[period:], b[:period])
	return b
}()

// fill sets dst to the bytes of object id at off.
func fill(dst []byte, id uint64, off int64) {
	at := int((uint64(off) + id*7919) % period)
	for len(dst) > 0 {
		n := copy(dst, table[at:at+period])
		dst = dst[n:]
	}
}

// call is one Fetch seen by fakeSource.
type call struct {
	obj uint64
	off int64
	n   int
}

// fakeSource is a deterministic camera. Fetch records each call, then waits
// for gate (if set) and fails with fail's error (if set).
type fakeSource struct {
	started chan call // if not nil, each call is sent here when it starts

	mu       sync.Mutex
	calls    []call
	gate     chan struct{}
	fail     func(call) error
	short    int // bytes to withhold from every fetch
	bad      []string
	ctxErrs  int // calls that saw their ctx done after the gate
	fetching int
	maxBusy  int
}

func (s *fakeSource) Fetch(ctx context.Context, obj Object, off int64, dst []byte) (int, error) {
	c := call{obj.ID, off, len(dst)}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	if off < 0 || off+int64(len(dst)) > obj.Size || len(dst) == 0 {
		s.bad = append(s.bad, fmt.Sprintf("fetch %+v of object size %d", c, obj.Size))
	}
	s.fetching++
	s.maxBusy = max(s.maxBusy, s.fetching)
	gate, fail, short := s.gate, s.fail, s.short
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.fetching--
		s.mu.Unlock()
	}()

	if s.started != nil {
		s.started <- c
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if ctx.Err() != nil {
		s.mu.Lock()
		s.ctxErrs++
		s.mu.Unlock()
		return 0, ctx.Err()
	}
	if fail != nil {
		if err := fail(c); err != nil {
			return 0, err
		}
	}
	n := len(dst) - short
	fill(dst[:n], obj.ID, off)
	return n, nil
}

func (s *fakeSource) Calls() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

func (s *fakeSource) setGate(g chan struct{}) {
	s.mu.Lock()
	s.gate = g
	s.mu.Unlock()
}

// check fails t if the cache asked for anything outside an object.
func (s *fakeSource) check(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.bad {
		t.Error(b)
	}
}

// coverage counts how many fetches covered each block of obj.
func coverage(calls []call, obj uint64, blockSize int) map[int64]int {
	m := make(map[int64]int)
	for _, c := range calls {
		if c.obj != obj {
			continue
		}
		for b := c.off / int64(blockSize); b*int64(blockSize) < c.off+int64(c.n); b++ {
			m[b]++
		}
	}
	return m
}

func newCache(t testing.TB, cfg Config, src Source) *Cache {
	t.Helper()
	c, err := New(cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond until it holds, failing t after 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// result is a ReadAt's outcome delivered from a goroutine.
type result struct {
	n   int
	err error
	p   []byte
}

func goRead(ctx context.Context, c *Cache, obj Object, off int64, n int) <-chan result {
	ch := make(chan result, 1)
	go func() {
		p := make([]byte, n)
		got, err := c.ReadAt(ctx, obj, p, off)
		ch <- result{got, err, p}
	}()
	return ch
}

func receive(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("read did not return")
		return result{}
	}
}

// checkRead checks the outcome of reading len(p) bytes at off of obj.
// readChecked reads n bytes of obj at off with r and checks them.
func readChecked(t *testing.T, r *Reader, obj Object, off int64, n int) {
	t.Helper()
	p := make([]byte, n)
	got, err := r.ReadAt(t.Context(), p, off)
	checkRead(t, obj, off, p, got, err)
}

func checkRead(t *testing.T, obj Object, off int64, p []byte, n int, err error) {
	t.Helper()
	wantN := int(max(0, min(int64(len(p)), obj.Size-off)))
	var wantErr error
	if wantN < len(p) && len(p) > 0 {
		wantErr = io.EOF
	}
	if n != wantN || err != wantErr {
		t.Fatalf("read %d at %d of size %d: got %d, %v; want %d, %v", len(p), off, obj.Size, n, err, wantN, wantErr)
	}
	if !matches(p[:n], obj.ID, off) {
		t.Fatalf("read %d at %d of size %d: wrong bytes", len(p), off, obj.Size)
	}
}

// matches reports whether p holds the bytes of object id at off.
func matches(p []byte, id uint64, off int64) bool {
	at := int((uint64(off) + id*7919) % period)
	for len(p) > 0 {
		n := min(len(p), period)
		if !bytes.Equal(p[:n], table[at:at+n]) {
			return false
		}
		p = p[n:]
	}
	return true
}

func TestReadAtRandom(t *testing.T) {
	tests := map[string]Config{
		"one block per fetch":    {BlockSize: BlockUnit, Size: 6 * BlockUnit},
		"two units per block":    {BlockSize: 2 * BlockUnit, RequestSize: 6 * BlockUnit, Size: 20 * BlockUnit},
		"four blocks per fetch":  {BlockSize: BlockUnit, RequestSize: 4 * BlockUnit, Size: 12 * BlockUnit, MaxFetches: 1},
		"cache larger than file": {BlockSize: BlockUnit, RequestSize: 2 * BlockUnit, Size: 64 * BlockUnit},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			src := &fakeSource{}
			c := newCache(t, cfg, src)
			bs := c.cfg.BlockSize
			ctx := t.Context()
			objs := []Object{
				{ID: 1, Size: 10*int64(bs) + 12345}, // short last block
				{ID: 2, Size: 3 * int64(bs)},        // exact blocks
				{ID: 3, Size: 100},                  // less than a block
				{ID: 4, Size: 0},
			}
			rng := rand.New(rand.NewPCG(3, 4))
			readers := make([]*Reader, len(objs))
			for i, obj := range objs {
				readers[i] = c.NewReader(obj)
			}
			buf := make([]byte, 3*bs)
			for i := range 600 {
				k := rng.IntN(len(objs))
				obj := objs[k]
				off := rng.Int64N(obj.Size + 2*int64(bs))
				if i%3 == 0 {
					off = rng.Int64N(obj.Size+1) / BlockUnit * BlockUnit // aligned like the kernel
				}
				p := buf[:rng.IntN(3*bs)]
				var n int
				var err error
				if i%2 == 0 {
					n, err = readers[k].ReadAt(ctx, p, off)
				} else {
					n, err = c.ReadAt(ctx, obj, p, off)
				}
				checkRead(t, obj, off, p, n, err)
			}
			// Sequential reads through a Reader, including the end.
			obj := objs[0]
			r := c.NewReader(obj)
			for off := int64(0); off < obj.Size+BlockUnit; off += BlockUnit {
				p := make([]byte, BlockUnit)
				n, err := r.ReadAt(ctx, p, off)
				checkRead(t, obj, off, p, n, err)
			}
			// Edges.
			for _, tc := range []struct {
				off int64
				n   int
			}{{0, 0}, {obj.Size - 1, 1}, {obj.Size - 1, 2}, {obj.Size, 1}, {obj.Size + 1, 1}, {obj.Size, 0}, {0, int(obj.Size)}, {0, int(obj.Size) + 1}} {
				p := make([]byte, tc.n)
				n, err := c.ReadAt(ctx, obj, p, tc.off)
				checkRead(t, obj, tc.off, p, n, err)
			}
			if _, err := c.ReadAt(ctx, obj, make([]byte, 1), -1); err == nil {
				t.Error("read at -1: no error")
			}

			src.check(t)
			waitFor(t, "fetches to finish", func() bool { return c.Stats().InFlight == 0 })
			st := c.Stats()
			if limit := int(c.cfg.Size) / bs; st.Blocks > limit || st.Bytes > c.cfg.Size {
				t.Errorf("%d blocks, %d bytes held; limit %d blocks, %d bytes", st.Blocks, st.Bytes, limit, c.cfg.Size)
			}
			if st.Hits == 0 || st.Misses == 0 {
				t.Errorf("stats %+v: want hits and misses", st)
			}
		})
	}
}

// TestConcurrentReaders checks that 16 readers of one file cause one fetch
// of each block.
func TestConcurrentReaders(t *testing.T) {
	for _, req := range []int{1, 3} {
		t.Run(fmt.Sprintf("request %d blocks", req), func(t *testing.T) {
			src := &fakeSource{}
			const bs = BlockUnit
			c := newCache(t, Config{BlockSize: bs, RequestSize: req * bs, Size: 64 * bs}, src)
			obj := Object{ID: 7, Size: 40*bs + 1000}
			gate := make(chan struct{})
			src.setGate(gate)

			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for i := range 16 {
				wg.Go(func() {
					r := c.NewReader(obj)
					chunk := BlockUnit / (1 + i%4)
					p := make([]byte, chunk)
					for off := int64(0); off < obj.Size; off += int64(chunk) {
						n, err := r.ReadAt(t.Context(), p, off)
						if err != nil && err != io.EOF {
							errs <- err
							return
						}
						if !matches(p[:n], obj.ID, off) {
							errs <- fmt.Errorf("reader %d: wrong bytes at %d", i, off)
							return
						}
					}
				})
			}
			// Let all sixteen pile up on the first block, then release.
			waitFor(t, "readers to wait", func() bool { return c.Stats().Waits >= 15 })
			close(gate)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}

			src.check(t)
			cov := coverage(src.Calls(), obj.ID, bs)
			for b := range int64(41) {
				if cov[b] != 1 {
					t.Errorf("block %d fetched %d times, want 1", b, cov[b])
				}
			}
			if st := c.Stats(); st.BytesFromCamera != uint64(obj.Size) {
				t.Errorf("%d bytes from camera, want %d", st.BytesFromCamera, obj.Size)
			}
		})
	}
}

// TestInterruptedReader checks that a reader whose ctx ends returns at once
// and that the fetch it started completes for another reader.
func TestInterruptedReader(t *testing.T) {
	src := &fakeSource{started: make(chan call, 10)}
	c := newCache(t, Config{BlockSize: BlockUnit, RequestSize: BlockUnit, Size: 8 * BlockUnit}, src)
	obj := Object{ID: 9, Size: 3 * BlockUnit}
	gate := make(chan struct{})
	src.setGate(gate)

	ctx, cancel := context.WithCancel(t.Context())
	first := goRead(ctx, c, obj, 10, 100)
	select {
	case <-src.started:
	case <-time.After(10 * time.Second):
		t.Fatal("fetch did not start")
	}
	second := goRead(t.Context(), c, obj, 20, 100)
	waitFor(t, "second reader to wait", func() bool { return c.Stats().Waits == 1 })

	cancel()
	r := receive(t, first)
	if r.n != 0 || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("interrupted read: got %d, %v; want 0, context.Canceled", r.n, r.err)
	}
	select {
	case r := <-second:
		t.Fatalf("second reader returned %d, %v before the camera answered", r.n, r.err)
	default:
	}

	close(gate)
	r = receive(t, second)
	checkRead(t, obj, 20, r.p, r.n, r.err)
	if calls := src.Calls(); len(calls) != 1 {
		t.Errorf("camera saw %v, want one fetch", calls)
	}
	src.mu.Lock()
	if src.ctxErrs != 0 {
		t.Error("the fetch's ctx was cancelled with the reader's")
	}
	src.mu.Unlock()
	// The interrupted reader's block is cached now.
	p := make([]byte, 100)
	n, err := c.ReadAt(t.Context(), obj, p, 10)
	checkRead(t, obj, 10, p, n, err)
	if st := c.Stats(); st.Fetches != 1 || st.Hits != 1 || st.Misses != 1 || st.Waits != 1 {
		t.Errorf("stats %+v: want 1 fetch, 1 hit, 1 miss, 1 wait", st)
	}
}

var errCamera = errors.New("camera says no")

// TestFetchError checks that a failed fetch reaches every waiter, is not
// cached, and that the next read retries.
func TestFetchError(t *testing.T) {
	src := &fakeSource{}
	c := newCache(t, Config{BlockSize: BlockUnit, RequestSize: BlockUnit, Size: 8 * BlockUnit}, src)
	obj := Object{ID: 11, Size: 2 * BlockUnit}
	gate := make(chan struct{})
	src.setGate(gate)
	src.fail = func(call) error { return errCamera }

	var results []<-chan result
	for i := range 8 {
		results = append(results, goRead(t.Context(), c, obj, int64(i*1000), 500))
	}
	waitFor(t, "readers to join", func() bool { return c.Stats().Waits == 7 })
	close(gate)
	for _, ch := range results {
		if r := receive(t, ch); r.n != 0 || !errors.Is(r.err, errCamera) {
			t.Errorf("got %d, %v; want 0, %v", r.n, r.err, errCamera)
		}
	}
	st := c.Stats()
	if st.Fetches != 1 || st.FetchErrors != 1 || st.Blocks != 0 {
		t.Errorf("stats %+v: want 1 failed fetch, nothing cached", st)
	}

	src.mu.Lock()
	src.fail = nil
	src.mu.Unlock()
	p := make([]byte, 500)
	n, err := c.ReadAt(t.Context(), obj, p, 1000)
	checkRead(t, obj, 1000, p, n, err)
	if st := c.Stats(); st.Fetches != 2 || st.Blocks != 1 {
		t.Errorf("stats %+v: want a second fetch and one block", st)
	}
}

// TestShortFetch checks that a camera returning less than asked is an error
// and caches nothing.
func TestShortFetch(t *testing.T) {
	src := &fakeSource{short: 1}
	c := newCache(t, Config{BlockSize: BlockUnit, RequestSize: BlockUnit, Size: 8 * BlockUnit}, src)
	obj := Object{ID: 12, Size: 2 * BlockUnit}
	n, err := c.ReadAt(t.Context(), obj, make([]byte, 10), 0)
	if n != 0 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %d, %v; want 0, io.ErrUnexpectedEOF", n, err)
	}
	if st := c.Stats(); st.Blocks != 0 {
		t.Errorf("%d blocks cached after a short fetch", st.Blocks)
	}
}

// TestEviction checks the byte bound, the LRU order and buffer recycling.
func TestEviction(t *testing.T) {
	src := &fakeSource{}
	const bs = BlockUnit
	c := newCache(t, Config{BlockSize: bs, RequestSize: bs, Size: 4 * bs, ReadAhead: -1, MaxFetches: 2}, src)
	obj := Object{ID: 13, Size: 30 * bs}
	ctx := t.Context()
	read := func(b int64) {
		t.Helper()
		p := make([]byte, 10)
		n, err := c.ReadAt(ctx, obj, p, b*bs+5)
		checkRead(t, obj, b*bs+5, p, n, err)
	}

	for b := range int64(4) {
		read(b)
	}
	read(0) // now 1 is the oldest
	read(4)
	cov := coverage(src.Calls(), obj.ID, bs)
	read(0)
	read(2)
	read(3)
	if got := coverage(src.Calls(), obj.ID, bs); got[0] != 1 || got[2] != 1 || got[3] != 1 {
		t.Errorf("recently used blocks were evicted: fetches per block %v", got)
	}
	read(1)
	if got := coverage(src.Calls(), obj.ID, bs); got[1] != cov[1]+1 {
		t.Errorf("oldest block was not evicted: fetches per block %v", got)
	}

	for b := range int64(30) {
		read(b)
		if st := c.Stats(); st.Blocks > 4 || st.Bytes > 4*bs {
			t.Fatalf("after block %d: %d blocks, %d bytes held; limit 4 blocks", b, st.Blocks, st.Bytes)
		}
	}
	st := c.Stats()
	if st.Evictions != st.Fetches-4 {
		t.Errorf("%d evictions after %d fetches into 4 blocks", st.Evictions, st.Fetches)
	}
	if limit := uint64(4 + 1 + c.bufs.reserve); st.Buffers > limit {
		t.Errorf("%d buffers allocated for 4 blocks, 1 fetch at a time and a reserve of %d: not recycled", st.Buffers, c.bufs.reserve)
	}
}

// TestReadAhead checks that a sequential reader has read-ahead only once
// it has read all that was fetched for it, then windows doubling up to the
// request size, each queued as it reads into the last, and that it then
// hits them.
func TestReadAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{}
		const bs = BlockUnit
		c, err := New(Config{BlockSize: bs, RequestSize: 4 * bs, Size: 32 * bs}, src)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		obj := Object{ID: 21, Size: 20*bs + 7}
		r := c.NewReader(obj)
		ctx := t.Context()
		read := func(b int64) {
			t.Helper()
			p := make([]byte, bs)
			n, err := r.ReadAt(ctx, p, b*bs)
			checkRead(t, obj, b*bs, p, n, err)
		}
		fetched := func() map[int64]int { return coverage(src.Calls(), obj.ID, bs) }

		read(0)
		synctest.Wait()
		if got := fetched(); len(got) != 1 {
			t.Fatalf("first read fetched blocks %v, want only block 0", got)
		}
		read(1) // all of block 0 read: 2 and 3 ahead
		synctest.Wait()
		if got := fetched(); len(got) != 4 || got[2] != 1 || got[3] != 1 {
			t.Fatalf("after reading block 1, fetched %v; want blocks 0-3", got)
		}
		st := c.Stats()
		read(2) // into the window: the next, 4 blocks, is queued
		synctest.Wait()
		if st2 := c.Stats(); st2.Hits != st.Hits+1 || st2.Misses != st.Misses || len(fetched()) != 8 {
			t.Errorf("block 2 was not a hit, or 4-7 not fetched: before %+v, after %+v, fetched %v", st, st2, fetched())
		}
		for b := int64(3); b <= 20; b++ {
			read(b)
			synctest.Wait()
		}
		st = c.Stats()
		if st.Misses != 2 || st.Hits != 19 || st.Fetches != 7 || st.ReadAheadFetches != 5 {
			t.Errorf("stats %+v: want 2 misses, 19 hits, 7 fetches, 5 by read-ahead", st)
		}
		for b, n := range fetched() {
			if n != 1 {
				t.Errorf("block %d fetched %d times", b, n)
			}
		}
		src.check(t)
	})
}

// TestReadAheadQueues checks that a sequential reader queues read-ahead
// behind its own fetch while the camera is busy, so that the camera moves on
// to it as soon as it answers.
func TestReadAheadQueues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{}
		const bs = BlockUnit
		c, err := New(Config{BlockSize: bs, RequestSize: 4 * bs, Size: 16 * bs}, src)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		obj := Object{ID: 22, Size: 20 * bs}
		r := c.NewReader(obj)
		if _, err := r.ReadAt(t.Context(), make([]byte, bs/2), 0); err != nil {
			t.Fatal(err)
		}
		gate := make(chan struct{})
		src.setGate(gate)
		done := make(chan error)
		go func() {
			_, err := r.ReadAt(t.Context(), make([]byte, bs), bs/2)
			done <- err
		}()
		// The reader waits for block 1; 2 and 3 are queued behind it.
		synctest.Wait()
		if st := c.Stats(); st.InFlight != 2 {
			t.Errorf("%d fetches in flight, want block 1 and read-ahead of 2 and 3", st.InFlight)
		}
		close(gate)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		want := []call{{22, 0, bs}, {22, bs, bs}, {22, 2 * bs, 2 * bs}}
		if calls := src.Calls(); !slices.Equal(calls, want) {
			t.Errorf("camera saw %v, want %v", calls, want)
		}
		if st := c.Stats(); st.InFlight != 0 || st.ReadAheadFetches != 1 || st.Blocks != 4 {
			t.Errorf("%d in flight, %d read-ahead fetches, %d blocks; want 0, 1, 4", st.InFlight, st.ReadAheadFetches, st.Blocks)
		}
	})
}

// TestFetchOrder checks that fetches a reader waits for go to the camera
// before read-ahead, oldest first, and read-ahead before the prefetch of a
// copy's next file; read-ahead a reader comes to wait for goes with the
// fetches readers wait for.
func TestFetchOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{}
		const bs = BlockUnit
		c, err := New(Config{BlockSize: bs, RequestSize: bs, Size: 32 * bs, ReadAhead: 4 * bs, MaxFetches: 8}, src)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		a := Object{ID: 61, Size: 20 * bs}
		b := Object{ID: 62, Size: 20 * bs}
		d := Object{ID: 64, Size: 20 * bs}
		ra := c.NewReader(a)
		rd := c.NewReader(d)
		var wg sync.WaitGroup
		read := func(rd func(p []byte, off int64) (int, error), obj Object, off int64, n int) {
			wg.Go(func() {
				p := make([]byte, n)
				got, err := rd(p, off)
				checkRead(t, obj, off, p, got, err)
			})
			synctest.Wait()
		}
		readA := func(p []byte, off int64) (int, error) { return ra.ReadAt(t.Context(), p, off) }
		readD := func(p []byte, off int64) (int, error) { return rd.ReadAt(t.Context(), p, off) }
		readB := func(p []byte, off int64) (int, error) { return c.ReadAt(t.Context(), b, p, off) }
		readA3 := func(p []byte, off int64) (int, error) { return c.ReadAt(t.Context(), a, p, off) }

		read(readA, a, 0, bs) // a0, before the camera is held
		read(readD, d, 0, bs) // d0
		wg.Wait()
		gate := make(chan struct{})
		src.setGate(gate)
		read(readA, a, bs, bs) // a1 runs, held at the gate; a2-a3 queued ahead
		read(readD, d, bs, bs) // d1 queued for a reader, d2-d3 ahead
		if !c.Prefetch(Object{ID: 63, Size: 20 * bs}, 9) {
			t.Fatal("prefetch refused")
		}
		read(readB, b, 5, 10)       // b0 queued for a reader, after d1
		read(readA3, a, 3*bs+5, 10) // a2-a3 promoted behind b0
		close(gate)
		wg.Wait()
		synctest.Wait() // read-ahead nobody waits for, the prefetch last

		var got []string
		for _, cl := range src.Calls() {
			got = append(got, fmt.Sprintf("%d/%d", cl.obj, cl.off/bs))
		}
		want := []string{"61/0", "64/0", "61/1", "64/1", "62/0", "61/2", "64/2", "63/0"}
		if !slices.Equal(got, want) {
			t.Errorf("camera saw blocks %v, want %v", got, want)
		}
		if st := c.Stats(); st.Prefetches != 1 || st.ReadAheadFetches != 3 {
			t.Errorf("stats %+v: want 1 prefetch among 3 read-ahead fetches", st)
		}
	})
}

// TestRandomReaderNoReadAhead checks that jumping around in reads smaller
// than the kernel's fetches only what is read.
func TestRandomReaderNoReadAhead(t *testing.T) {
	src := &fakeSource{}
	const bs = BlockUnit
	c := newCache(t, Config{BlockSize: bs, RequestSize: bs, Size: 16 * bs}, src)
	obj := Object{ID: 23, Size: 40 * bs}
	r := c.NewReader(obj)
	for _, b := range []int64{0, 10, 3, 30, 20, 7} {
		p := make([]byte, bs/2)
		n, err := r.ReadAt(t.Context(), p, b*bs)
		checkRead(t, obj, b*bs, p, n, err)
	}
	if st := c.Stats(); st.ReadAheadFetches != 0 || st.Fetches != 6 || st.DirectFetches != 5 || st.Blocks != 1 {
		t.Errorf("stats %+v: want 6 fetches, none ahead, 5 of the read's bytes alone and uncached", st)
	}
}

// TestRequestSpansBlocks checks that a fetch fills several blocks, is
// trimmed to the blocks missing, and stops at the end of the object.
func TestRequestSpansBlocks(t *testing.T) {
	src := &fakeSource{}
	const bs = BlockUnit
	c := newCache(t, Config{BlockSize: bs, RequestSize: 4 * bs, Size: 16 * bs, ReadAhead: -1}, src)
	obj := Object{ID: 31, Size: 10*bs + 1000} // 11 blocks, the last short
	read := func(b int64) {
		t.Helper()
		p := make([]byte, 3)
		n, err := c.ReadAt(t.Context(), obj, p, b*bs+1)
		checkRead(t, obj, b*bs+1, p, n, err)
	}
	steps := []struct {
		block int64
		want  []call // fetches after the read
	}{
		{0, []call{{31, 0, 4 * bs}}},
		{3, nil},
		{1, nil},
		{6, []call{{31, 6 * bs, 4*bs + 1000}}}, // the rest, within 1.5 requests, in one
		{5, []call{{31, 5 * bs, bs}}},          // 6 is cached
		{10, nil},
		{4, []call{{31, 4 * bs, bs}}}, // 5 is cached
		{9, nil},
	}
	var all []call
	for _, s := range steps {
		read(s.block)
		all = append(all, s.want...)
		if got := src.Calls(); fmt.Sprint(got) != fmt.Sprint(all) {
			t.Fatalf("after reading block %d: camera saw %v, want %v", s.block, got, all)
		}
	}
	st := c.Stats()
	if st.FetchSizes[0] != 2 || st.FetchSizes[2] != 1 || st.FetchSizes[3] != 1 || st.Hits != 4 || st.Misses != 4 {
		t.Errorf("stats %+v: want 2 fetches <= 128 KiB, 1 of 512 KiB, 1 of 513 KiB, 4 hits, 4 misses", st)
	}
	src.check(t)
}

func TestForget(t *testing.T) {
	src := &fakeSource{}
	const bs = BlockUnit
	c := newCache(t, Config{BlockSize: bs, RequestSize: bs, Size: 16 * bs, ReadAhead: -1}, src)
	a := Object{ID: 41, Size: 2 * bs}
	b := Object{ID: 42, Size: 2 * bs}
	for _, obj := range []Object{a, b} {
		for off := int64(0); off < obj.Size; off += bs {
			if _, err := c.ReadAt(t.Context(), obj, make([]byte, 10), off); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.Forget(a.ID)
	if st := c.Stats(); st.Blocks != 2 || st.Evictions != 0 {
		t.Errorf("stats %+v after Forget: want b's 2 blocks, no evictions counted", st)
	}
	p := make([]byte, 10)
	n, err := c.ReadAt(t.Context(), a, p, 0)
	checkRead(t, a, 0, p, n, err)
	if st := c.Stats(); st.Fetches != 5 {
		t.Errorf("%d fetches; want a's block 0 fetched again", st.Fetches)
	}

	// Forget during a fetch: its result is not cached, so the waiting
	// reader fetches again.
	d := Object{ID: 43, Size: 2 * bs}
	gate := make(chan struct{})
	src.setGate(gate)
	ch := goRead(t.Context(), c, d, 20, 10)
	waitFor(t, "fetch to start", func() bool { return c.Stats().Fetches == 6 })
	c.Forget(d.ID)
	close(gate)
	r := receive(t, ch)
	checkRead(t, d, 20, r.p, r.n, r.err)
	if got := coverage(src.Calls(), d.ID, bs); got[0] != 2 {
		t.Errorf("block 0 of a forgotten object fetched %d times, want 2", got[0])
	}
	if st := c.Stats(); st.Blocks != 4 {
		t.Errorf("%d blocks held, want 4", st.Blocks)
	}
}

func TestClose(t *testing.T) {
	src := &fakeSource{started: make(chan call, 10)}
	c, err := New(Config{BlockSize: BlockUnit, RequestSize: BlockUnit, Size: 8 * BlockUnit}, src)
	if err != nil {
		t.Fatal(err)
	}
	obj := Object{ID: 51, Size: 4 * BlockUnit}
	src.setGate(make(chan struct{})) // never opens: only Close ends the fetch
	ch := goRead(t.Context(), c, obj, 0, 10)
	<-src.started
	queued := goRead(t.Context(), c, obj, 2*BlockUnit, 10) // behind the first
	waitFor(t, "second fetch to queue", func() bool { return c.Stats().InFlight == 2 })
	closed := make(chan struct{})
	go func() {
		c.Close()
		close(closed)
	}()
	if r := receive(t, ch); !errors.Is(r.err, ErrClosed) {
		t.Errorf("read during Close: got %d, %v; want ErrClosed", r.n, r.err)
	}
	if r := receive(t, queued); !errors.Is(r.err, ErrClosed) {
		t.Errorf("queued read during Close: got %d, %v; want ErrClosed", r.n, r.err)
	}
	if calls := src.Calls(); len(calls) != 1 {
		t.Errorf("camera saw %v; the queued fetch should not have reached it", calls)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if _, err := c.ReadAt(t.Context(), obj, make([]byte, 10), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("read after Close: %v, want ErrClosed", err)
	}
}

func TestConfig(t *testing.T) {
	tests := map[string]struct {
		cfg  Config
		want Config // checked fields when err is nil
		err  error
	}{
		"defaults": {cfg: Config{}, want: Config{Size: 256 << 20, BlockSize: BlockUnit, RequestSize: DefaultRequestSize, MaxRequestSize: 16 << 20, MaxFetches: 4, Concurrency: 1}},
		"request set: fixed": {cfg: Config{RequestSize: 4 << 20},
			want: Config{Size: 256 << 20, BlockSize: BlockUnit, RequestSize: 4 << 20, MaxRequestSize: 4 << 20, MaxFetches: 4, Concurrency: 1}},
		"request and max set": {cfg: Config{RequestSize: 4 << 20, MaxRequestSize: 8 << 20},
			want: Config{Size: 256 << 20, BlockSize: BlockUnit, RequestSize: 4 << 20, MaxRequestSize: 8 << 20, MaxFetches: 4, Concurrency: 1}},
		"read-ahead off": {cfg: Config{ReadAhead: -1},
			want: Config{Size: 256 << 20, BlockSize: BlockUnit, RequestSize: DefaultRequestSize, MaxRequestSize: 16 << 20, ReadAhead: -1, MaxFetches: 4, Concurrency: 1}},
		"size rounded down, requests a quarter": {cfg: Config{Size: 5<<20 + 3, BlockSize: 1 << 20},
			want: Config{Size: 5 << 20, BlockSize: 1 << 20, RequestSize: 1 << 20, MaxRequestSize: 1 << 20, MaxFetches: 4, Concurrency: 1}},
		"small cache": {cfg: Config{Size: 16 * BlockUnit},
			want: Config{Size: 16 * BlockUnit, BlockSize: BlockUnit, RequestSize: 4 * BlockUnit, MaxRequestSize: 4 * BlockUnit, MaxFetches: 4, Concurrency: 1}},
		"smallest": {cfg: Config{Size: BlockUnit, BlockSize: BlockUnit, ReadAhead: -1, MaxFetches: 1},
			want: Config{Size: BlockUnit, BlockSize: BlockUnit, RequestSize: BlockUnit, MaxRequestSize: BlockUnit, ReadAhead: -1, MaxFetches: 1, Concurrency: 1}},
		"block not a multiple of 128 KiB": {cfg: Config{BlockSize: 100_000}, err: ErrInvalidConfig},
		"block 64 KiB":                    {cfg: Config{BlockSize: 64 << 10}, err: ErrInvalidConfig},
		"block negative":                  {cfg: Config{BlockSize: -BlockUnit}, err: ErrInvalidConfig},
		"request not a multiple of block": {cfg: Config{BlockSize: 2 * BlockUnit, RequestSize: 3 * BlockUnit}, err: ErrInvalidConfig},
		"request negative":                {cfg: Config{RequestSize: -1 << 20}, err: ErrInvalidConfig},
		"size negative":                   {cfg: Config{Size: -1}, err: ErrInvalidConfig},
		"size below a block":              {cfg: Config{Size: 1000, BlockSize: BlockUnit}, err: ErrInvalidConfig},
		"size below read-ahead":           {cfg: Config{Size: 2 << 20, RequestSize: 1 << 20}, err: ErrInvalidConfig},
		"max below a block":               {cfg: Config{MaxRequestSize: 1000}, err: ErrInvalidConfig},
		"max fetches negative":            {cfg: Config{MaxFetches: -1}, err: ErrInvalidConfig},
		"concurrency negative":            {cfg: Config{Concurrency: -1}, err: ErrInvalidConfig},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := New(tc.cfg, &fakeSource{})
			if !errors.Is(err, tc.err) {
				t.Fatalf("New: %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			defer c.Close()
			got := c.cfg
			if got.Logger == nil {
				t.Error("no default logger")
			}
			got.Logger = nil
			if got != tc.want {
				t.Errorf("config %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestStatsString(t *testing.T) {
	s := Stats{Hits: 3, Misses: 2, Waits: 1, Fetches: 5, BytesFromCamera: 1 << 20, Evictions: 4, Blocks: 7,
		RTT: 20500 * time.Microsecond, Rate: 3e6, RequestSize: 2 << 20, Prefetches: 6}
	s.FetchSizes[0] = 9
	s.FetchSizes[FetchSizeBuckets-1] = 8
	got := map[string]uint64{}
	for line := range strings.Lines(s.String()) {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("line %q is not `name value`", line)
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if _, dup := got[f[0]]; dup {
			t.Fatalf("name %s repeated", f[0])
		}
		got[f[0]] = v
	}
	for name, want := range map[string]uint64{
		"hits": 3, "misses": 2, "waits": 1, "fetches": 5, "bytes_from_camera": 1 << 20,
		"evictions": 4, "blocks": 7, "readahead_fetches": 0, "prefetches": 6,
		"link_rtt_us": 20500, "link_rate_bytes_per_s": 3e6, "request_size": 2 << 20,
		"fetch_size_le_131072": 9, "fetch_size_le_262144": 0, "fetch_size_gt_33554432": 8,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %d (present %v), want %d", name, v, ok, want)
		}
	}
}

func TestFetchSizeBucket(t *testing.T) {
	tests := map[int64]int{
		1: 0, BlockUnit: 0, BlockUnit + 1: 1, 2 * BlockUnit: 1, 2*BlockUnit + 1: 2,
		1 << 20: 3, 1<<20 + 1: 4, 32 << 20: 8, 32<<20 + 1: 9, 1 << 40: 9,
	}
	for n, want := range tests {
		if got := fetchSizeBucket(n); got != want {
			t.Errorf("fetchSizeBucket(%d) = %d, want %d", n, got, want)
		}
	}
}

// instant is a camera that answers at once without touching the bytes.
type instant struct{}

func (instant) Fetch(_ context.Context, _ Object, _ int64, dst []byte) (int, error) {
	return len(dst), nil
}

func BenchmarkSequentialRead(b *testing.B) {
	c, err := New(Config{Size: 64 << 20}, instant{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	obj := Object{ID: 1, Size: 1 << 40}
	r := c.NewReader(obj)
	p := make([]byte, BlockUnit)
	ctx := context.Background()
	b.SetBytes(int64(len(p)))
	var off int64
	for b.Loop() {
		if _, err := r.ReadAt(ctx, p, off); err != nil {
			b.Fatal(err)
		}
		off += int64(len(p))
	}
}

func BenchmarkConcurrentHits(b *testing.B) {
	c, err := New(Config{Size: 64 << 20}, instant{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	obj := Object{ID: 1, Size: 32 << 20}
	ctx := context.Background()
	if _, err := c.ReadAt(ctx, obj, make([]byte, obj.Size), 0); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(BlockUnit)
	b.RunParallel(func(pb *testing.PB) {
		p := make([]byte, BlockUnit)
		rng := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			off := rng.Int64N(obj.Size/BlockUnit) * BlockUnit
			if _, err := c.ReadAt(ctx, obj, p, off); err != nil {
				b.Fatal(err)
			}
		}
	})
	if st := c.Stats(); st.Fetches != 32 {
		b.Errorf("%d fetches, want 32", st.Fetches)
	}
}
