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
	obj   Object
	first int64
	n     int
	ahead bool // started by read-ahead

	done chan struct{} // closed when err is set and the blocks are cached
	err  error

	queued    bool // in Cache.urgent or Cache.ahead
	urgent    bool // a reader waits for it
	forgotten bool // Forget dropped the object meanwhile: do not cache
}

// startLocked queues a fetch of block i of obj, which is neither cached nor
// being fetched, and of the blocks after it up to the request size, the end
// of the object, or the first block cached or being fetched. A worker is
// started if fewer than Config.Concurrency run. c.mu is held.
func (c *Cache) startLocked(obj Object, i int64, ahead bool) *fetch {
	bs := int64(c.cfg.BlockSize)
	blocks := (obj.Size + bs - 1) / bs
	f := &fetch{obj: obj, first: i, ahead: ahead, urgent: !ahead, queued: true, done: make(chan struct{})}
	for j := i; j < blocks && f.n < c.perRequest; j++ {
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
	c.fetching++
	if c.workers < c.cfg.Concurrency {
		c.workers++
		c.wg.Add(1)
		go c.work()
	}
	return f
}

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
		c.mu.Unlock()
		blocks, err := c.fetch(f)
		c.mu.Lock()
		c.finishLocked(f, blocks, err)
	}
}

// finishLocked publishes the outcome of f: caches its blocks unless it
// failed or was forgotten, and wakes its waiters. c.mu is held.
func (c *Cache) finishLocked(f *fetch, blocks []*block, err error) {
	for j := range f.n {
		k := key{f.obj.ID, f.first + int64(j)}
		if c.inflight[k] == f {
			delete(c.inflight, k)
		}
	}
	c.fetching--
	if f.forgotten || c.closed {
		for _, b := range blocks {
			c.release(b)
		}
		blocks = nil
	}
	for j, b := range blocks {
		if c.lru.Add(key{f.obj.ID, f.first + int64(j)}, b) {
			c.stats.evictions.Add(1)
		}
	}
	f.err = err
	close(f.done)
}

// fetch asks the camera for f's blocks.
func (c *Cache) fetch(f *fetch) ([]*block, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, ErrClosed
	}
	bs := int64(c.cfg.BlockSize)
	off := f.first * bs
	want := min(int64(f.n)*bs, f.obj.Size-off)
	bufs := make([][]byte, f.n)
	for j := range bufs {
		bufs[j] = c.bufs.get()
	}
	dst := bufs[0]
	if f.n > 1 {
		// One request, several blocks: read into one buffer, copy out.
		dst = c.scratch.get()
		defer c.scratch.put(dst)
	}
	dst = dst[:want]

	c.stats.fetches.Add(1)
	c.stats.fetchSizes[fetchSizeBucket(want)].Add(1)
	if f.ahead {
		c.stats.readAheadFetches.Add(1)
	}
	t0 := time.Now()
	got, err := c.src.Fetch(c.ctx, f.obj, off, dst)
	c.stats.bytesFromCamera.Add(uint64(max(got, 0)))
	if int64(got) == want && errors.Is(err, io.EOF) {
		err = nil
	}
	if err == nil && int64(got) != want {
		err = io.ErrUnexpectedEOF
	}
	c.log.Debug("cache fetch", "obj", f.obj.ID, "off", off, "len", want, "got", got,
		"blocks", f.n, "ahead", f.ahead, "dur", time.Since(t0), "err", err)
	if err != nil {
		c.stats.fetchErrors.Add(1)
		for _, b := range bufs {
			c.bufs.put(b)
		}
		if c.ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ErrClosed, err)
		}
		return nil, fmt.Errorf("cache: fetch object %#x bytes %d+%d: got %d: %w", f.obj.ID, off, want, got, err)
	}

	blocks := make([]*block, f.n)
	for j := range blocks {
		lo := int64(j) * bs
		hi := min(lo+bs, want)
		if f.n > 1 {
			copy(bufs[j], dst[lo:hi])
		}
		blocks[j] = &block{data: bufs[j][:hi-lo]}
		blocks[j].refs.Store(1)
	}
	return blocks, nil
}
