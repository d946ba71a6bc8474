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

	// The blocks are cached as their bytes arrive (a megabyte at a time,
	// see publishBytes), so a reader waiting for the first block of a
	// large request (or a copy reading the last file) gets it without
	// waiting for the whole request. published counts the blocks cached
	// so far, from first on; arrived holds a channel per block a reader
	// waits for, closed when that block is cached (one wake-up per
	// waiting reader, not one per block for all of them).
	published int
	arrived   map[int64]chan struct{}

	queued    bool // in Cache.urgent or Cache.ahead
	running   bool // handed to the Source; its blocks count in Cache.running
	urgent    bool // a reader waits for it
	forgotten bool // Forget dropped the object meanwhile: do not cache
}

// startLocked queues a fetch of block i of obj, which is neither cached nor
// being fetched, and of the blocks after it up to size blocks in all, the end
// of the object, or the first block cached or being fetched. When the rest
// of the object is at most c.stretch(size) blocks the fetch takes all of it:
// a last request of a few blocks would cost a whole round trip for little.
// A worker is started if fewer than Config.Concurrency run. c.mu is held.
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
// size the link calls for now: read-ahead queued before the first
// measurement was sized by the default. It takes the blocks after f's that
// are neither cached nor being fetched, absorbing the queued read-ahead
// fetches that hold them, up to the rest of the object when that is within
// the stretch. c.mu is held.
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

// companionWait is how long the fetch of a reader's first read at an
// object's start may wait for the reader's second read. The kernel sends
// the first two reads of a file tens of microseconds apart (as measured
// here) when the program reads sequentially (cp's posix_fadvise doubles
// the read-ahead window, and a read of 256 KiB or more spans two), but only
// one for a peek at a header. The second read's request then joins the
// first's (coalesceLocked), which saves a copy's first file a round trip:
// 2 ms on a LAN, 20 on WiFi. The wait ends as soon as the second read is
// queued; a lone peek waits it out (Go's timers round it up to about a
// millisecond on an idle process), and after one such peek no first read
// waits until a file has been read to its end again, so a thumbnailer
// going through a folder pays it once.
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
// f, which is about to run, when f stays within size blocks, and reports
// whether it did. Readers waiting for g wake when its done is closed
// without an error, look again and find its blocks in f, which runs no
// later than g would have. c.mu is held.
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

// makeRoomLocked evicts the least recently used blocks until the cache
// holds room for n more blocks besides those of the fetches running, so
// that the buffers a fetch fills come from evicted blocks: memory stays
// within Config.Size however large the requests, instead of Size plus the
// requests in flight. c.mu is held.
func (c *Cache) makeRoomLocked(n int) {
	capacity := int(c.cfg.Size / int64(c.cfg.BlockSize))
	for c.lru.Len() > 0 && c.lru.Len()+c.running+n > capacity {
		c.lru.RemoveOldest()
		c.stats.evictions.Add(1)
	}
}

// finishLocked publishes the outcome of f: caches its blocks not cached
// yet (blocks[j] is block f.first+j, nil for those published while it
// ran) unless it failed or was forgotten, and wakes its waiters. c.mu is
// held.
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

// publishBytes is how many bytes of a running fetch are cached at once
// as they arrive. Block by block would wake a waiting reader (and through
// the kernel the copying program) once per block: on a LAN that costs
// about half as much CPU again as the whole transfer. Per megabyte a
// reader still gets the start of a large request long before its end, and
// a copy's last file is written out while its last megabyte arrives.
const publishBytes = 1 << 20

// publish caches blocks f.first+from to f.first+to-1 of the running fetch
// f, whose bytes have all arrived in w's buffers, and wakes the readers
// waiting for them. The fetch gives up those buffers (w.bufs[j] = nil)
// unless it was forgotten or the cache closed meanwhile: then they stay
// the fetch's, released when it ends.
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
	// The buffers are taken as the bytes arrive (blockWriter), so the
	// request goes out first and allocating overlaps the round trip.
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

// fetchInto reads the want bytes of f's object at off into the
// consecutive block buffers bufs with one request, and returns how many
// arrived. From a WriterSource the blocks are published as their bytes
// arrive (publishBytes at a time), and their entries in bufs cleared: the bytes the camera sent
// for a range are that range's bytes even if the request fails later, so
// the blocks that arrived whole are served while the rest is retried.
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
	// One request, several blocks, and a Source that cannot stream: read
	// into one buffer and copy out.
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

// blockWriter is the io.Writer a WriterSource fills: consecutive block
// buffers, taken from pool as the first byte of each arrives, limit bytes
// in all. Writing past limit is an error, never a reallocation.
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
