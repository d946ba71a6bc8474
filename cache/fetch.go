package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/airnef-mount/airnef-mount/sched"
)

// fetch is one camera request filling n consecutive blocks from first, or
// (direct) a seek's bytes at off, uncached. Its fields after done are
// guarded by Cache.mu.
type fetch struct {
	obj    Object
	first  int64
	n      int
	off    int64       // direct: the bytes' offset
	direct []byte      // direct: the bytes, nil for a fetch of blocks
	origin sched.Class // the class it was started in, for the stats
	owner  sched.Owner // the process it is for

	done chan struct{} // closed when err is set and the blocks are cached
	err  error

	// Blocks are cached as they arrive (publish): published counts them
	// from first on; arrived holds a channel per block a reader waits for,
	// closed when it is cached.
	published int
	arrived   map[int64]chan struct{}

	class     sched.Class // its class now: sched.Demand once a reader waits for it
	need      int         // a Demand fetch with read-ahead in it: its first need blocks are the read's (0: all are)
	wanted    []*Reader   // read-ahead: the readers whose windows it is in
	queued    bool        // in Cache.queues
	running   bool        // handed to the Source; its blocks count in Cache.running
	forgotten bool        // Forget dropped the object meanwhile: do not cache
}

// want records that r's window wants f (nil r: nobody's).
func (f *fetch) want(r *Reader) {
	if r != nil && !slices.Contains(f.wanted, r) {
		f.wanted = append(f.wanted, r)
	}
}

// startLocked queues a fetch of class class for owner of block i of obj and
// the blocks after it, up to size blocks or the first cached or coming one;
// within the stretch of size it takes the rest of the object, which a
// short last request would cost a round trip for. c.mu is held.
func (c *Cache) startLocked(obj Object, i int64, size int, class sched.Class, owner sched.Owner) *fetch {
	bs := int64(c.cfg.BlockSize)
	blocks := (obj.Size + bs - 1) / bs
	if rest := blocks - i; rest <= int64(c.stretch(size)) {
		size = int(rest)
	}
	f := &fetch{obj: obj, first: i, origin: class, class: class, owner: owner, done: make(chan struct{})}
	for j := i; j < blocks && f.n < size; j++ {
		k := key{obj.ID, j}
		if j > i && (c.lru.Contains(k) || c.inflight[k] != nil) {
			break
		}
		c.inflight[k] = f
		f.n++
	}
	c.queueLocked(f)
	return f
}

// directLocked queues a fetch of the n bytes of obj at off for owner,
// uncached, that a reader waits for. c.mu is held.
func (c *Cache) directLocked(obj Object, off int64, n int, owner sched.Owner) *fetch {
	f := &fetch{obj: obj, off: off, direct: make([]byte, n), origin: sched.Demand, class: sched.Demand,
		owner: owner, done: make(chan struct{})}
	c.queueLocked(f)
	return f
}

// queueLocked adds f, new, to the queue of its class and makes sure a
// worker will run it. c.mu is held.
func (c *Cache) queueLocked(f *fetch) {
	f.queued = true
	c.queues[f.class] = append(c.queues[f.class], f)
	c.fetching++
	c.raiseLocked(f.class)
	if c.workers < c.cfg.Concurrency {
		c.workers++
		c.wg.Add(1)
		go c.work()
	}
}

// raiseLocked makes the turns the workers wait for at least as urgent as
// class: a fetch of it is queued. c.mu is held.
func (c *Cache) raiseLocked(class sched.Class) {
	for _, t := range c.turns {
		t.Raise(class)
	}
}

// noteLocked tells the scheduler that a reader of owner waits in class
// (for sched.Scheduler.Contended); the mount's own Background reads do not
// count. c.mu is held.
func (c *Cache) noteLocked(owner sched.Owner, class sched.Class) {
	if s := c.sched.Load(); s != nil && class == sched.Demand {
		s.Note(sched.Demand, owner)
	}
}

// stretch returns the most blocks a fetch of size blocks may grow to when
// that takes the rest of the object.
func (c *Cache) stretch(size int) int { return size + size/2 }

// urgeLocked makes f, if less urgent than class, a fetch a reader of class
// waits for: queued, it moves to the end of that class's queue, ahead of
// all less urgent ones. c.mu is held.
func (c *Cache) urgeLocked(f *fetch, class sched.Class) {
	if f.class <= class {
		return
	}
	if f.queued {
		c.dequeueLocked(f)
		f.class = class
		c.queues[f.class] = append(c.queues[f.class], f)
		c.raiseLocked(f.class)
		return
	}
	f.class = class
}

// dequeueLocked takes the queued f out of its queue. c.mu is held.
func (c *Cache) dequeueLocked(f *fetch) {
	c.queues[f.class] = slices.DeleteFunc(c.queues[f.class], func(g *fetch) bool { return g == f })
	f.queued = false
}

// headLocked returns the class and owner of the fetch nextLocked would
// pop; ok is false when none is queued. c.mu is held.
func (c *Cache) headLocked() (class sched.Class, owner sched.Owner, ok bool) {
	for class, q := range c.queues {
		if len(q) > 0 {
			return sched.Class(class), q[0].owner, true
		}
	}
	return 0, 0, false
}

// nextLocked pops the next fetch to run: the oldest of the most urgent
// class. c.mu is held.
func (c *Cache) nextLocked() *fetch {
	for class, q := range c.queues {
		if len(q) == 0 {
			continue
		}
		f := q[0]
		q[0] = nil
		c.queues[class] = q[1:]
		f.queued = false
		return f
	}
	return nil
}

// work runs queued fetches until none is left, each in a turn of the
// session's scheduler when there is one.
func (c *Cache) work() {
	defer c.wg.Done()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		class, owner, ok := c.headLocked()
		if !ok {
			c.workers--
			return
		}
		s := c.sched.Load()
		var turn *sched.Turn
		if s != nil {
			turn = s.Enter(class, owner)
			c.turns = append(c.turns, turn)
			c.mu.Unlock()
			err := turn.Wait(c.ctx)
			c.mu.Lock()
			c.turns = slices.DeleteFunc(c.turns, func(t *sched.Turn) bool { return t == turn })
			if err != nil {
				continue // closed: the queues are empty
			}
		}
		f := c.nextLocked()
		if f == nil {
			turn.Done() // what it waited for went meanwhile
			continue
		}
		switch {
		case f.direct != nil:
		case f.origin.Speculative():
			// Capped even when its reader now waits for it: a copy
			// waits for its read-ahead all the time.
			if s != nil && s.Contended(f.owner) {
				c.capLocked(f, c.capBlocks())
			}
		default:
			c.coalesceLocked(f)
			// A copy's link-sized first request of a file is mostly
			// read-ahead: capped the same, its read's blocks kept.
			if f.need > 0 && s != nil && s.Contended(f.owner) {
				c.capLocked(f, max(f.need, c.capBlocks()))
			}
		}
		c.makeRoomLocked(f.n)
		f.running = true
		c.running += f.n
		c.mu.Unlock()
		ctx := c.ctx
		if turn != nil {
			ctx = sched.Holding(ctx, turn)
		}
		blocks, err := c.fetch(ctx, f)
		c.mu.Lock()
		c.finishLocked(f, blocks, err)
		turn.Done()
	}
}

// speculativeTime is the link time a request started as speculative is
// capped to while another process's request waits, or did lately
// (sched.Scheduler.Contended): it
// trades a copy's share of the link then (T/(T+RTT): 92% on WiFi) against
// how long a user's request waits behind one.
const speculativeTime = 250 * time.Millisecond

// capBlocks returns the blocks of a speculative request of speculativeTime
// at the measured rate (a quarter of Config.RequestSize before a
// measurement), at least one.
func (c *Cache) capBlocks() int {
	n := float64(c.cfg.RequestSize / 4)
	if _, rate, ok := c.link.get(); ok {
		n = rate * speculativeTime.Seconds()
	}
	return max(1, int(n)/c.cfg.BlockSize)
}

// capLocked cuts f, a fetch about to run that was started as speculative
// or holds read-ahead (need), to k blocks (all of it within their
// stretch); the rest goes first in the queue of f's first class
// (ReadAhead for a Demand fetch's read-ahead), as wanted as f, or behind
// the fetches readers wait for when a reader waits for one of its blocks.
// c.mu is held.
func (c *Cache) capLocked(f *fetch, k int) {
	if f.n <= c.stretch(k) {
		return
	}
	class := f.origin
	if !class.Speculative() {
		class = sched.ReadAhead
	}
	g := &fetch{obj: f.obj, first: f.first + int64(k), n: f.n - k, origin: class, class: class,
		owner: f.owner, wanted: slices.Clone(f.wanted), done: make(chan struct{})}
	for j := range g.n {
		b := g.first + int64(j)
		c.inflight[key{f.obj.ID, b}] = g
		if ch := f.arrived[b]; ch != nil {
			if g.arrived == nil {
				g.arrived = make(map[int64]chan struct{})
			}
			g.arrived[b] = ch
			delete(f.arrived, b)
		}
	}
	f.n, f.need = k, 0
	g.queued = true
	c.queues[g.class] = slices.Insert(c.queues[g.class], 0, g)
	c.fetching++
	if len(g.arrived) > 0 {
		c.urgeLocked(g, sched.Demand)
	}
	c.stats.capped.Add(1)
}

// coalesceLocked merges into f, a fetch a reader waits for and about to
// run, the queued fetches readers wait for right after it (the kernel's
// reads of one file sent together), within the stretch of a request.
// c.mu is held.
func (c *Cache) coalesceLocked(f *fetch) {
	limit := c.stretch(c.requestSize() / c.cfg.BlockSize)
	for {
		g := c.inflight[key{f.obj.ID, f.first + int64(f.n)}]
		if g == nil || g == f || !g.queued || g.class != sched.Demand || g.first != f.first+int64(f.n) || f.n+g.n > limit {
			return
		}
		c.dequeueLocked(g)
		for j := range g.n {
			c.inflight[key{g.obj.ID, g.first + int64(j)}] = f
		}
		for b, ch := range g.arrived {
			if f.arrived == nil {
				f.arrived = make(map[int64]chan struct{})
			}
			f.arrived[b] = ch
		}
		f.n += g.n
		f.need = 0 // a reader waits past what f read ahead
		c.fetching--
		close(g.done)
	}
}

// withdraw takes r out of the windows of the queued read-ahead and drops
// the fetches no other reader wants: r closed, or sought elsewhere.
// Running fetches finish.
func (c *Cache) withdraw(r *Reader) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range slices.Clone(c.queues[sched.ReadAhead]) {
		i := slices.Index(f.wanted, r)
		if i < 0 {
			continue
		}
		f.wanted = slices.Delete(f.wanted, i, i+1)
		if len(f.wanted) == 0 {
			c.dropLocked(f, errWithdrawn)
			c.stats.withdrawn.Add(1)
		}
	}
}

// dropLocked ends f, queued, without running it: err for whoever looks.
// c.mu is held.
func (c *Cache) dropLocked(f *fetch, err error) {
	c.dequeueLocked(f)
	c.finishLocked(f, nil, err)
}

// readDirect waits for the direct fetch f and copies its bytes to p. When
// ctx ends first f is dropped, if it has not started.
func (c *Cache) readDirect(ctx context.Context, f *fetch, p []byte) (int, error) {
	select {
	case <-f.done:
	case <-ctx.Done():
		c.mu.Lock()
		if f.queued {
			c.dropLocked(f, ctx.Err())
		}
		c.mu.Unlock()
		return 0, ctx.Err()
	}
	if f.err != nil {
		return 0, f.err
	}
	return copy(p, f.direct), nil
}

// makeRoomLocked evicts the least recently used blocks until n more fit
// beside those of the running fetches, so memory stays within Config.Size
// however large the requests. c.mu is held.
func (c *Cache) makeRoomLocked(n int) {
	capacity := int(c.cfg.Size / int64(c.cfg.BlockSize))
	for c.lru.Len() > 0 && c.lru.Len()+c.running+n > capacity {
		c.lru.RemoveOldest()
		c.stats.evictions.Add(1)
	}
}

// finishLocked caches f's blocks not published yet (blocks[j] is block
// f.first+j) unless f failed or was forgotten, and wakes its waiters. c.mu
// is held.
func (c *Cache) finishLocked(f *fetch, blocks []*block, err error) {
	for j := range f.n {
		k := key{f.obj.ID, f.first + int64(j)}
		if c.inflight[k] == f {
			delete(c.inflight, k)
		}
	}
	c.fetching--
	if f.running {
		c.running -= f.n - f.published
	}
	if f.forgotten || c.closed {
		for _, b := range blocks {
			if b != nil {
				c.release(b)
			}
		}
		blocks = nil
	}
	for j, b := range blocks {
		if b != nil && c.lru.Add(key{f.obj.ID, f.first + int64(j)}, b) {
			c.stats.evictions.Add(1)
		}
	}
	f.err = err
	close(f.done)
}

// publishBytes is how many bytes of a running fetch are cached at once as
// they arrive: it trades the CPU of waking a reader per block against how
// soon a reader gets the start of a large request.
const publishBytes = 1 << 20

// publish caches blocks from to to-1 of the running fetch f, arrived whole
// in w's buffers (taking them from w), and wakes their readers; not if f
// was forgotten or the cache closed.
func (c *Cache) publish(f *fetch, w *blockWriter, from, to int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.forgotten || c.closed {
		return
	}
	for j := from; j < to; j++ {
		k := key{f.obj.ID, f.first + int64(j)}
		if c.inflight[k] != f {
			continue
		}
		delete(c.inflight, k)
		b := &block{data: w.bufs[j][:w.blockLen(j)]}
		b.refs.Store(1)
		w.bufs[j] = nil
		c.running--
		f.published++
		if c.lru.Add(k, b) {
			c.stats.evictions.Add(1)
		}
		if ch := f.arrived[k.block]; ch != nil {
			close(ch)
			delete(f.arrived, k.block)
		}
	}
}

// arrivalLocked returns a channel closed when block i of f is cached while
// f runs; f.done is closed at its end in any case. c.mu is held.
func (f *fetch) arrivalLocked(i int64) <-chan struct{} {
	ch := f.arrived[i]
	if ch == nil {
		if f.arrived == nil {
			f.arrived = make(map[int64]chan struct{})
		}
		ch = make(chan struct{})
		f.arrived[i] = ch
	}
	return ch
}

// fetch asks the camera for f's blocks (or its direct bytes) on ctx.
func (c *Cache) fetch(ctx context.Context, f *fetch) ([]*block, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, ErrClosed
	}
	bs := int64(c.cfg.BlockSize)
	off := f.first * bs
	want := min(int64(f.n)*bs, f.obj.Size-off)
	if f.direct != nil {
		off, want = f.off, int64(len(f.direct))
	}
	// Buffers are taken as the bytes arrive, overlapping the round trip.
	bufs := make([][]byte, f.n)

	c.stats.fetches.Add(1)
	c.stats.fetchSizes[fetchSizeBucket(want)].Add(1)
	switch {
	case f.direct != nil:
		c.stats.directFetches.Add(1)
	case f.origin == sched.Prefetch:
		c.stats.prefetches.Add(1)
		c.stats.readAheadFetches.Add(1)
	case f.origin == sched.ReadAhead:
		c.stats.readAheadFetches.Add(1)
	}
	t0 := time.Now()
	var got int64
	var err error
	if f.direct != nil {
		got, err = c.fetchDirect(ctx, f)
	} else {
		got, err = c.fetchInto(ctx, f, off, want, bufs)
	}
	dur := time.Since(t0)
	c.stats.bytesFromCamera.Add(uint64(max(got, 0)))
	if got == want && errors.Is(err, io.EOF) {
		err = nil
	}
	if err == nil && got != want {
		err = io.ErrUnexpectedEOF
	}
	c.log.Debug("cache fetch", "obj", f.obj.ID, "off", off, "len", want, "got", got,
		"blocks", f.n, "class", f.origin, "owner", f.owner, "dur", dur, "err", err)
	if err != nil {
		c.stats.fetchErrors.Add(1)
		for _, b := range bufs {
			if b != nil {
				c.bufs.put(b)
			}
		}
		if c.ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ErrClosed, err)
		}
		return nil, fmt.Errorf("cache: fetch object %#x bytes %d+%d: got %d: %w", f.obj.ID, off, want, got, err)
	}
	c.link.add(want, dur)

	blocks := make([]*block, f.n)
	for j := range blocks {
		if bufs[j] == nil {
			continue // published as it arrived
		}
		lo := int64(j) * bs
		hi := min(lo+bs, want)
		blocks[j] = &block{data: bufs[j][:hi-lo]}
		blocks[j].refs.Store(1)
	}
	return blocks, nil
}

// fetchDirect reads the direct fetch f's bytes with one request.
func (c *Cache) fetchDirect(ctx context.Context, f *fetch) (int64, error) {
	if c.wsrc != nil {
		w := &sliceWriter{buf: f.direct}
		got, err := c.wsrc.FetchTo(ctx, f.obj, f.off, int64(len(f.direct)), w)
		return min(got, int64(w.n)), err
	}
	got, err := c.src.Fetch(ctx, f.obj, f.off, f.direct)
	return int64(got), err
}

// sliceWriter is the io.Writer of a direct fetch: writing past its buffer
// is an error, never a reallocation.
type sliceWriter struct {
	buf []byte
	n   int
}

func (w *sliceWriter) Write(p []byte) (int, error) {
	m := copy(w.buf[w.n:], p)
	w.n += m
	if m < len(p) {
		return m, errOverrun
	}
	return m, nil
}

// fetchInto reads want bytes at off into bufs with one request and returns
// how many arrived. From a WriterSource whole blocks are published as they
// arrive (and cleared in bufs), and stay valid if the request fails later.
func (c *Cache) fetchInto(ctx context.Context, f *fetch, off, want int64, bufs [][]byte) (int64, error) {
	obj := f.obj
	if c.wsrc != nil {
		w := &blockWriter{bufs: bufs, bs: int64(c.cfg.BlockSize), limit: want, pool: &c.bufs}
		group := max(1, publishBytes/c.cfg.BlockSize)
		from := 0 // the first block not published yet
		w.full = func(j int) {
			if j+1-from >= group || j == len(bufs)-1 {
				c.publish(f, w, from, j+1)
				from = j + 1
			}
		}
		got, err := c.wsrc.FetchTo(ctx, obj, off, want, w)
		return min(got, w.n), err
	}
	for j := range bufs {
		bufs[j] = c.bufs.get()
	}
	if len(bufs) == 1 {
		got, err := c.src.Fetch(ctx, obj, off, bufs[0][:want])
		return int64(got), err
	}
	// A Source that cannot stream: one buffer, copied out.
	dst := make([]byte, want)
	got, err := c.src.Fetch(ctx, obj, off, dst)
	bs := int64(c.cfg.BlockSize)
	for j := range bufs {
		lo := int64(j) * bs
		if lo >= want {
			break
		}
		copy(bufs[j], dst[lo:min(lo+bs, want)])
	}
	return int64(got), err
}

// errOverrun is a WriterSource writing more than it was asked for.
var errOverrun = errors.New("cache: source wrote more than asked")

// blockWriter is the io.Writer a WriterSource fills: block buffers taken
// from pool as their first byte arrives; writing past limit is an error.
type blockWriter struct {
	bufs  [][]byte
	bs    int64
	limit int64
	pool  *bufferPool
	full  func(j int) // called when block j holds all its bytes; may take bufs[j]
	n     int64       // bytes written
}

// blockLen is how many bytes block j of the request holds.
func (w *blockWriter) blockLen(j int) int64 {
	lo := int64(j) * w.bs
	return min(lo+w.bs, w.limit) - lo
}

func (w *blockWriter) Write(p []byte) (int, error) {
	done := 0
	for len(p) > 0 {
		if w.n >= w.limit {
			return done, errOverrun
		}
		i, at := w.n/w.bs, w.n%w.bs
		if w.bufs[i] == nil {
			w.bufs[i] = w.pool.get()
		}
		m := copy(w.bufs[i][at:min(w.bs, w.limit-i*w.bs)], p)
		p = p[m:]
		done += m
		w.n += int64(m)
		if at+int64(m) == w.blockLen(int(i)) && w.full != nil {
			w.full(int(i))
		}
	}
	return done, nil
}
