package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/airnef-mount/airnef-mount/sched"
)

// ErrClosed is returned by reads after Close, and by reads whose fetch Close
// cancelled.
var ErrClosed = errors.New("cache: closed")

// errNegativeOffset is returned for a read at a negative offset.
var errNegativeOffset = errors.New("cache: negative offset")

// errWithdrawn ends a queued read-ahead fetch that no reader wants any
// more; no reader waits for it.
var errWithdrawn = errors.New("cache: read-ahead withdrawn")

// Source reads objects from the camera.
type Source interface {
	// Fetch reads len(dst) bytes of obj at off into dst with one camera
	// request. The cache never asks for bytes past obj.Size, so a short
	// count is an error. ctx is the cache's own, cancelled only by Close;
	// it holds the session's turn (sched.Holding) when the cache has a
	// scheduler.
	Fetch(ctx context.Context, obj Object, off int64, dst []byte) (int, error)
}

// WriterSource is a Source that streams a request's bytes into an
// io.Writer as they arrive, straight into the cache's block buffers.
type WriterSource interface {
	Source
	// FetchTo writes the n bytes of obj at off to w with one camera
	// request and returns how many it wrote, under Fetch's rules.
	FetchTo(ctx context.Context, obj Object, off, n int64, w io.Writer) (int64, error)
}

// Object names the thing read: ID keys its blocks (one per distinct content,
// given by the caller), Size finds its end.
type Object struct {
	ID   uint64
	Size int64
}

// Cache is a byte-bounded LRU cache of fixed-size blocks of objects read
// through a Source. It is safe for concurrent use.
type Cache struct {
	cfg  Config
	src  Source
	wsrc WriterSource // src, if it streams; else nil
	log  *slog.Logger
	link linkEstimate
	// sched is the session's scheduler: each fetch waits for its turn
	// there, by class. Nil: fetches go to the Source as they come.
	sched atomic.Pointer[sched.Scheduler]

	ctx    context.Context // fetches run on it; Close cancels it
	cancel context.CancelFunc
	wg     sync.WaitGroup // workers
	bufs   bufferPool     // block buffers
	stats  counters

	mu       sync.Mutex
	lru      *simplelru.LRU[key, *block]
	inflight map[key]*fetch // blocks queued or being fetched
	// queues holds the queued fetches by class (sched.Demand, ReadAhead,
	// Prefetch), oldest first: a reader's go before read-ahead.
	queues   [queueClasses][]*fetch
	turns    []*sched.Turn // the turns workers wait for, raised with what they will run
	fetching int           // fetches queued or running
	running  int           // blocks of the fetches running
	workers  int           // goroutines running fetches
	closed   bool
}

// queueClasses is the size of Cache.queues: fetches are of the classes
// sched.Demand to sched.Prefetch.
const queueClasses = sched.Prefetch + 1

// key names one block of one object.
type key struct {
	obj   uint64
	block int64
}

// block is one cached block, referenced by the LRU and by each reader
// copying out of it; its buffer is recycled after the last reference.
type block struct {
	data []byte // shorter than the block size only for an object's last block
	refs atomic.Int32
}

// New returns a cache reading from src. It validates cfg (errors wrap
// ErrInvalidConfig) after applying defaults.
func New(cfg Config, src Source) (*Cache, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cache{
		cfg:      cfg,
		src:      src,
		log:      cfg.Logger,
		inflight: make(map[key]*fetch),
	}
	c.wsrc, _ = src.(WriterSource)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.bufs = bufferPool{
		size: cfg.BlockSize,
		// Spare buffers for the largest fetch.
		max:   cfg.Concurrency * c.stretch(cfg.MaxRequestSize/cfg.BlockSize),
		count: func() { c.stats.buffers.Add(1) },
	}
	c.bufs.reserve = min(c.bufs.max, max(1, reserveBytes/cfg.BlockSize))
	c.bufs.limit = int(cfg.Size/int64(cfg.BlockSize)) + c.bufs.reserve
	c.lru, err = simplelru.NewLRU(int(cfg.Size/int64(cfg.BlockSize)), func(_ key, b *block) {
		c.release(b)
	})
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	c.bufs.fill()
	return c, nil
}

// ReadAt reads len(p) bytes of obj at off, like io.ReaderAt (io.EOF at the
// object's end); a block it misses starts a request of the link's size.
// If ctx ends while it waits, it returns ctx.Err() at once and the fetch
// goes on for other readers.
func (c *Cache) ReadAt(ctx context.Context, obj Object, p []byte, off int64) (int, error) {
	return c.read(ctx, obj, p, off, plan{blocks: c.requestSize() / c.cfg.BlockSize}, nil)
}

// SetScheduler makes s, the scheduler of the camera session (a new one at
// each reconnection), the one the cache's fetches take turns in; nil sends
// them to the Source as they come.
func (c *Cache) SetScheduler(s *sched.Scheduler) { c.sched.Store(s) }

// Forget drops the blocks of the object with the given ID (deleted or
// changed on the camera), also those of fetches in flight.
func (c *Cache) Forget(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.lru.Keys() {
		if k.obj == id {
			c.lru.Remove(k)
		}
	}
	for k, f := range c.inflight {
		if k.obj == id {
			f.forgotten = true
			delete(c.inflight, k)
		}
	}
	for _, q := range c.queues {
		for _, f := range q {
			if f.obj.ID == id && f.direct != nil {
				f.forgotten = true
			}
		}
	}
}

// ObserveRoundTrip tells the cache of an exchange with the camera other
// than a fetch (n bytes in d): small ones give the link estimate its round
// trip from the first fetch on.
func (c *Cache) ObserveRoundTrip(n int64, d time.Duration) { c.link.addRoundTrip(n, d) }

// Stats returns a snapshot of the cache's counters.
func (c *Cache) Stats() Stats {
	s := c.stats.snapshot()
	c.mu.Lock()
	s.Blocks = c.lru.Len()
	for _, b := range c.lru.Values() {
		s.Bytes += int64(len(b.data))
	}
	s.InFlight = c.fetching
	c.mu.Unlock()
	if rtt, rate, ok := c.link.get(); ok {
		s.RTT, s.Rate = rtt, rate
	}
	s.RequestSize = c.requestSize()
	return s
}

// Close fails the queued fetches, cancels the running ones and waits for
// them; reads then return ErrClosed.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.closed = true
	for i, q := range c.queues {
		for _, f := range q {
			c.finishLocked(f, nil, ErrClosed)
		}
		c.queues[i] = nil
	}
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	c.bufs.close()
	c.mu.Lock()
	c.lru.Purge()
	c.mu.Unlock()
	return nil
}

// plan says how a read fetches what it misses.
type plan struct {
	blocks int // blocks per fetch started for a missing block; at least those the read needs
	// direct: a missing block makes the read fetch its own bytes alone,
	// uncached (a seek: the kernel's page cache keeps them).
	direct bool
	// ahead bytes of read-ahead are queued beyond what is cached or
	// coming from aheadFrom on: one window (aheadLocked).
	ahead     int64
	aheadFrom int64
	owner     sched.Owner
	reader    *Reader // whose window the read-ahead is; nil for none
	// background: the read is the mount's own (the thumbnailer's): its
	// fetches wait in class Background, not Demand, and no user counts as
	// waiting.
	background bool
}

// waitClass is the class of the fetches pl's read waits for.
func (pl plan) waitClass() sched.Class {
	if pl.background {
		return sched.Background
	}
	return sched.Demand
}

// requestSize returns the bytes of a sequential reader's requests now:
// from the link estimate, or Config.RequestSize.
func (c *Cache) requestSize() int {
	if c.cfg.MaxRequestSize <= c.cfg.RequestSize {
		return c.cfg.RequestSize
	}
	return c.link.requestSize(c.cfg.RequestSize, c.cfg.MaxRequestSize, c.cfg.BlockSize)
}

// maxWindow returns the largest read-ahead window when requests are req
// bytes: Config.ReadAhead, else req; 0 for none.
func (c *Cache) maxWindow(req int) int64 {
	switch {
	case c.cfg.ReadAhead < 0:
		return 0
	case c.cfg.ReadAhead > 0:
		return c.cfg.ReadAhead
	}
	return int64(req)
}

// read is ReadAt under plan pl. Once pl's fetches are queued, atEnd (if
// not nil) is called without the cache's locks.
func (c *Cache) read(ctx context.Context, obj Object, p []byte, off int64, pl plan, atEnd func()) (int, error) {
	var after func(queued)
	if atEnd != nil {
		after = func(queued) { atEnd() }
	}
	return c.readAfter(ctx, obj, p, off, pl, after)
}

// queued is where a plan's read-ahead went: bytes [from, to) of the
// object, queued; not ok when too many fetches are in flight already.
type queued struct {
	from, to int64
	ok       bool
}

// readAfter is read; after is told, once pl's fetches are queued and
// before the read waits for its bytes, where pl's read-ahead went (a
// reader places its window there, and queues the next object).
func (c *Cache) readAfter(ctx context.Context, obj Object, p []byte, off int64, pl plan, after func(queued)) (int, error) {
	if off < 0 {
		return 0, errNegativeOffset
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= obj.Size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), obj.Size-off))
	direct, q, err := c.start(obj, off, n, pl)
	if err != nil {
		if after != nil {
			after(queued{})
		}
		return 0, err
	}
	if after != nil {
		after(q)
	}
	var done int
	if direct != nil {
		done, err = c.readDirect(ctx, direct, p[:n])
	} else {
		done, err = c.copyOut(ctx, obj, p[:n], off, pl.owner, pl.waitClass())
	}
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return done, err
}

// copyOut copies the n > 0 bytes of obj at off into p from the blocks,
// waiting for those on their way.
func (c *Cache) copyOut(ctx context.Context, obj Object, p []byte, off int64, owner sched.Owner, class sched.Class) (int, error) {
	done := 0
	for s := range spans(off, len(p), c.cfg.BlockSize) {
		b, err := c.acquire(ctx, obj, s.block, owner, class)
		if err != nil {
			return done, err
		}
		held := len(b.data)
		m := copy(p[s.pos:s.pos+s.n], b.data[min(s.off, held):])
		c.release(b)
		done += m
		if m < s.n {
			// Cached under a smaller size: the caller's Object disagrees
			// with the one that filled the cache.
			return done, fmt.Errorf("cache: object %#x block %d holds %d bytes: %w", obj.ID, s.block, held, io.ErrUnexpectedEOF)
		}
	}
	return done, nil
}

// start counts the blocks of the n > 0 bytes at off as hits, misses or
// waits and queues their fetches and pl's read-ahead. For a direct plan
// missing a block it queues and returns one uncached fetch of the read's
// bytes instead. It reports where the read-ahead was queued.
func (c *Cache) start(obj Object, off int64, n int, pl plan) (direct *fetch, q queued, err error) {
	bs := int64(c.cfg.BlockSize)
	first, last := off/bs, (off+int64(n)-1)/bs

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, queued{}, ErrClosed
	}
	if pl.direct {
		for i := first; i <= last; i++ {
			if k := (key{obj.ID, i}); !c.lru.Contains(k) && c.inflight[k] == nil {
				c.stats.misses.Add(1)
				c.noteLocked(pl.owner, pl.waitClass())
				return c.directLocked(obj, off, n, pl.owner), queued{}, nil
			}
		}
	}
	var mine *fetch
	demand := false
	for i := first; i <= last; i++ {
		k := key{obj.ID, i}
		if c.lru.Contains(k) {
			c.stats.hits.Add(1)
			continue
		}
		demand = true
		switch f := c.inflight[k]; f {
		case nil:
			need := int(last - i + 1)
			mine = c.startLocked(obj, i, max(pl.blocks, need), pl.waitClass(), pl.owner)
			if mine.n > need {
				// Read-ahead in a demand fetch: the reader's window,
				// withdrawn with it once capped off (capLocked).
				mine.need = need
				mine.want(pl.reader)
			}
			c.stats.misses.Add(1)
		case mine:
			c.stats.misses.Add(1)
		default:
			c.urgeLocked(f, pl.waitClass())
			c.stats.waits.Add(1)
		}
	}
	if demand {
		c.noteLocked(pl.owner, pl.waitClass())
	}
	return nil, c.aheadLocked(obj, pl), nil
}

// aheadLocked queues pl.ahead bytes of read-ahead, in one fetch, from the
// first block at or after pl.aheadFrom neither cached nor coming (a
// speculative fetch on the way there is now also wanted by pl's reader),
// and reports where. c.mu is held.
func (c *Cache) aheadLocked(obj Object, pl plan) queued {
	if pl.ahead <= 0 {
		return queued{}
	}
	bs := int64(c.cfg.BlockSize)
	blocks := (obj.Size + bs - 1) / bs
	i := pl.aheadFrom / bs
	for ; i < blocks; i++ {
		k := key{obj.ID, i}
		if c.lru.Contains(k) {
			continue
		}
		f := c.inflight[k]
		if f == nil {
			break
		}
		if f.class.Speculative() {
			f.want(pl.reader)
		}
		i = f.first + int64(f.n) - 1
	}
	if i >= blocks {
		return queued{from: obj.Size, to: obj.Size, ok: true}
	}
	if c.fetching >= c.cfg.MaxFetches {
		return queued{}
	}
	f := c.startLocked(obj, i, int((pl.ahead+bs-1)/bs), sched.ReadAhead, pl.owner)
	f.want(pl.reader)
	return queued{from: i * bs, to: min((i+int64(f.n))*bs, obj.Size), ok: true}
}

// acquire returns block i of obj with a reference the caller must release,
// waiting for its fetch or starting one for owner if needed; class is the
// waiter's (Demand, or Background for the mount's own reads).
func (c *Cache) acquire(ctx context.Context, obj Object, i int64, owner sched.Owner, class sched.Class) (*block, error) {
	k := key{obj.ID, i}
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClosed
		}
		if b, ok := c.lru.Get(k); ok {
			b.refs.Add(1)
			c.mu.Unlock()
			return b, nil
		}
		f := c.inflight[k]
		if f == nil {
			// Evicted or forgotten since start looked, or its fetch
			// finished uncached: fetch again.
			f = c.startLocked(obj, i, 1, class, owner)
			c.stats.misses.Add(1)
			c.noteLocked(owner, class)
		}
		c.urgeLocked(f, class)
		arrived := f.arrivalLocked(i)
		c.mu.Unlock()

		select {
		case <-f.done:
			if f.err != nil {
				return nil, f.err
			}
			// Look again: the block may be gone already.
		case <-arrived:
			// Cached: look again (it may even be evicted already).
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// release drops a reference to b, recycling its buffer after the last.
func (c *Cache) release(b *block) {
	if b.refs.Add(-1) == 0 {
		c.bufs.put(b.data)
		b.data = nil
	}
}
