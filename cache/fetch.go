package cache

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// fetch is one camera request filling n consecutive blocks from first.
// Its fields after done are guarded by Cache.mu.
type fetch struct {
	obj      Object
	first    int64
	n        int
	ahead    bool // started by read-ahead
	hold     bool // a first read at the object's start: may wait for the next read (holdLocked)
	prefetch bool // started for the object a copy most likely reads next

	done chan struct{} // closed when err is set and the blocks are cached
	err  error

	// Blocks are cached as they arrive (publish): published counts them
	// from first on; arrived holds a channel per block a reader waits for,
	// closed when it is cached.
	published int
	arrived   map[int64]chan struct{}

	queued    bool // in Cache.urgent or Cache.ahead
	running   bool // handed to the Source; its blocks count in Cache.running
	urgent    bool // a reader waits for it
	forgotten bool // Forget dropped the object meanwhile: do not cache
}

// startLocked queues a fetch of block i of obj and the blocks after it, up
// to size blocks or the first cached or coming one; within the stretch of
// size it takes the rest of the object, which a short last request would
// cost a round trip for. c.mu is held.
func (c *Cache) startLocked(obj Object, i int64, size int, ahead bool) *fetch {
	bs := int64(c.cfg.BlockSize)
	blocks := (obj.Size + bs - 1) / bs
	if rest := blocks - i; rest <= int64(c.stretch(size)) {
		size = int(rest)
	}
	f := &fetch{obj: obj, first: i, ahead: ahead, urgent: !ahead, queued: true, done: make(chan struct{})}
	for j := i; j < blocks && f.n < size; j++ {
		k := key{obj.ID, j}
		if j > i && (c.lru.Contains(k) || c.inflight[k] != nil) {
			break
		}
		c.inflight[k] = f
		f.n++
	}
	if ahead {
		c.ahead = append(c.ahead, f)
	} else {
		c.urgent = append(c.urgent, f)
	}
	c.companionLocked(f)
	c.fetching++
	if c.workers < c.cfg.Concurrency {
		c.workers++
		c.wg.Add(1)
		go c.work()
	}
	return f
}

// stretch returns the most blocks a fetch of size blocks may grow to when
// that takes the rest of the object.
func (c *Cache) stretch(size int) int { return size + size/2 }

// urgeLocked moves f, if it is queued read-ahead, to the end of the queue of
// fetches readers wait for, ahead of all other read-ahead. c.mu is held.
func (c *Cache) urgeLocked(f *fetch) {
	if f.urgent {
		return
	}
	f.urgent = true
	if f.queued {
		c.ahead = slices.DeleteFunc(c.ahead, func(g *fetch) bool { return g == f })
		c.urgent = append(c.urgent, f)
	}
}

// nextLocked pops the next fetch to run: the oldest a reader waits for, else
// the oldest read-ahead. c.mu is held.
func (c *Cache) nextLocked() *fetch {
	q := &c.urgent
	if len(*q) == 0 {
		q = &c.ahead
	}
	if len(*q) == 0 {
		return nil
	}
	f := (*q)[0]
	(*q)[0] = nil
	*q = (*q)[1:]
	f.queued = false
	return f
}

// work runs queued fetches until none is left.
func (c *Cache) work() {
	defer c.wg.Done()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		f := c.nextLocked()
		if f == nil {
			c.workers--
			return
		}
		if f.hold {
			c.holdLocked(f)
		}
		if f.ahead {
			c.growLocked(f)
		} else {
			c.coalesceLocked(f)
		}
		c.makeRoomLocked(f.n)
		f.running = true
		c.running += f.n
		c.mu.Unlock()
		blocks, err := c.fetch(f)
		c.mu.Lock()
		c.finishLocked(f, blocks, err)
	}
}

// growLocked extends the read-ahead fetch f, about to run, to the request
// size the link calls for now (it may have been queued before the link was
// measured), absorbing queued fetches after it. c.mu is held.
func (c *Cache) growLocked(f *fetch) {
	bs := int64(c.cfg.BlockSize)
	blocks := (f.obj.Size + bs - 1) / bs
	size := c.requestSize() / c.cfg.BlockSize
	if rest := blocks - f.first; rest <= int64(c.stretch(size)) {
		size = int(rest)
	}
	for f.n < size {
		k := key{f.obj.ID, f.first + int64(f.n)}
		if c.lru.Contains(k) {
			return
		}
		if g := c.inflight[k]; g != nil {
			if !c.absorbLocked(f, g, size) {
				return
			}
			continue
		}
		c.inflight[k] = f
		f.n++
	}
}

// companionWait is how long a first read's fetch at an object's start waits
// for the kernel's second read of a sequential reader, to join it
// (coalesceLocked): it trades a peek's delay against a copy's round trip.
// After one lone peek no first read waits until a file is read to its end.
const companionWait = 200 * time.Microsecond

// holdLocked lets f, the fetch of a first read at its object's start,
// wait up to companionWait for the fetch of the block right after it, and
// notes whether it came. c.mu is held; it is released while waiting.
func (c *Cache) holdLocked(f *fetch) {
	if c.peeking.Load() || c.held != nil {
		return // a thumbnailer's peeks, or another worker holds one already
	}
	if g := c.inflight[key{f.obj.ID, f.first + int64(f.n)}]; g != nil && g.queued {
		return // here already
	}
	ch := make(chan struct{})
	c.held, c.companion = f, ch
	c.mu.Unlock()
	t := time.NewTimer(companionWait)
	select {
	case <-ch:
		t.Stop()
	case <-t.C:
	}
	c.mu.Lock()
	c.peeking.Store(c.held != nil) // nobody closed ch and cleared held
	c.held, c.companion = nil, nil
}

// companionLocked wakes the held fetch if g, just queued, is the fetch it
// waits for. c.mu is held.
func (c *Cache) companionLocked(g *fetch) {
	if h := c.held; h != nil && h.obj.ID == g.obj.ID && h.first+int64(h.n) == g.first {
		close(c.companion)
		c.held = nil
	}
}

// coalesceLocked merges into f, a fetch a reader waits for and about to
// run, the queued fetches right after it, within the stretch of a request
// (see companionWait). c.mu is held.
func (c *Cache) coalesceLocked(f *fetch) {
	limit := c.stretch(c.requestSize() / c.cfg.BlockSize)
	for {
		g := c.inflight[key{f.obj.ID, f.first + int64(f.n)}]
		if g == nil || !c.absorbLocked(f, g, limit) {
			return
		}
	}
}

// absorbLocked moves the blocks of g, the queued fetch right after f, into
// f when f stays within size blocks, and reports whether it did; g's
// readers wake and find their blocks in f. c.mu is held.
func (c *Cache) absorbLocked(f, g *fetch, size int) bool {
	if g == f || !g.queued || g.first != f.first+int64(f.n) || f.n+g.n > size {
		return false
	}
	q := &c.ahead
	if g.urgent {
		q = &c.urgent
	}
	*q = slices.DeleteFunc(*q, func(h *fetch) bool { return h == g })
	g.queued = false
	for j := range g.n {
		c.inflight[key{g.obj.ID, g.first + int64(j)}] = f
	}
	f.n += g.n
	c.fetching--
	close(g.done)
	return true
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

// fetch asks the camera for f's blocks.
func (c *Cache) fetch(f *fetch) ([]*block, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, ErrClosed
	}
	bs := int64(c.cfg.BlockSize)
	off := f.first * bs
	want := min(int64(f.n)*bs, f.obj.Size-off)
	// Buffers are taken as the bytes arrive, overlapping the round trip.
	bufs := make([][]byte, f.n)

	c.stats.fetches.Add(1)
	c.stats.fetchSizes[fetchSizeBucket(want)].Add(1)
	if f.ahead {
		c.stats.readAheadFetches.Add(1)
	}
	if f.prefetch {
		c.stats.prefetches.Add(1)
	}
	t0 := time.Now()
	got, err := c.fetchInto(f, off, want, bufs)
	dur := time.Since(t0)
	c.stats.bytesFromCamera.Add(uint64(max(got, 0)))
	if got == want && errors.Is(err, io.EOF) {
		err = nil
	}
	if err == nil && got != want {
		err = io.ErrUnexpectedEOF
	}
	c.log.Debug("cache fetch", "obj", f.obj.ID, "off", off, "len", want, "got", got,
		"blocks", f.n, "ahead", f.ahead, "prefetch", f.prefetch, "dur", dur, "err", err)
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

// fetchInto reads want bytes at off into bufs with one request and returns
// how many arrived. From a WriterSource whole blocks are published as they
// arrive (and cleared in bufs), and stay valid if the request fails later.
func (c *Cache) fetchInto(f *fetch, off, want int64, bufs [][]byte) (int64, error) {
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
		got, err := c.wsrc.FetchTo(c.ctx, obj, off, want, w)
		return min(got, w.n), err
	}
	for j := range bufs {
		bufs[j] = c.bufs.get()
	}
	if len(bufs) == 1 {
		got, err := c.src.Fetch(c.ctx, obj, off, bufs[0][:want])
		return int64(got), err
	}
	// A Source that cannot stream: one buffer, copied out.
	dst := make([]byte, want)
	got, err := c.src.Fetch(c.ctx, obj, off, dst)
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
