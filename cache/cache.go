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
)

// ErrClosed is returned by reads after Close, and by reads whose fetch Close
// cancelled.
var ErrClosed = errors.New("cache: closed")

// errNegativeOffset is returned for a read at a negative offset.
var errNegativeOffset = errors.New("cache: negative offset")

// Source reads objects from the camera.
type Source interface {
	// Fetch reads len(dst) bytes of obj at off into dst with one camera
	// request. The cache never asks for bytes past obj.Size, so a short
	// count is an error. ctx is the cache's own, cancelled only by Close.
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

	// copying is set when a reader read its object sequentially to the end
	// (a copy is running) and taken by the next reader's first read, which
	// then fetches full-size requests from the start.
	copying atomic.Bool

	ctx    context.Context // fetches run on it; Close cancels it
	cancel context.CancelFunc
	wg     sync.WaitGroup // workers
	bufs   bufferPool     // block buffers
	stats  counters

	mu        sync.Mutex
	lru       *simplelru.LRU[key, *block]
	inflight  map[key]*fetch // blocks queued or being fetched
	urgent    []*fetch       // queued fetches that a reader waits for, oldest first
	ahead     []*fetch       // queued read-ahead fetches nobody waits for yet
	fetching  int            // fetches queued or running
	held      *fetch         // a first read's fetch waiting for its companion (holdLocked)
	companion chan struct{}  // closed when held's companion is queued
	peeking   atomic.Bool    // the last held fetch waited in vain: first reads do not wait until a file is read to its end
	running   int            // blocks of the fetches running
	workers   int            // goroutines running fetches
	closed    bool
}

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
	c.lru, err = simplelru.NewLRU(int(cfg.Size/int64(cfg.BlockSize)), func(_ key, b *block) {
		c.release(b)
	})
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return c, nil
}

// ReadAt reads len(p) bytes of obj at off, like io.ReaderAt (io.EOF at the
// object's end). If ctx ends while it waits, it returns ctx.Err() at once
// and the fetch goes on for other readers.
func (c *Cache) ReadAt(ctx context.Context, obj Object, p []byte, off int64) (int, error) {
	return c.read(ctx, obj, p, off, plan{blocks: c.requestSize() / c.cfg.BlockSize}, nil)
}

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
	for _, f := range append(c.urgent, c.ahead...) {
		c.finishLocked(f, nil, ErrClosed)
	}
	c.urgent, c.ahead = nil, nil
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	c.mu.Lock()
	c.lru.Purge()
	c.mu.Unlock()
	return nil
}

// plan says how a read fetches what it misses.
type plan struct {
	blocks int   // blocks per fetch started for a missing block; at least those the read needs
	ahead  int64 // bytes beyond the read to fetch in the background
}

// requestSize returns the bytes of a sequential reader's requests now:
// from the link estimate, or Config.RequestSize.
func (c *Cache) requestSize() int {
	if c.cfg.MaxRequestSize <= c.cfg.RequestSize {
		return c.cfg.RequestSize
	}
	return c.link.requestSize(c.cfg.RequestSize, c.cfg.MaxRequestSize, c.cfg.BlockSize)
}

// readAhead returns the read-ahead window of a sequential reader whose
// requests are req bytes.
func (c *Cache) readAhead(req int) int64 {
	switch {
	case c.cfg.ReadAhead < 0:
		return 0
	case c.cfg.ReadAhead > 0:
		return c.cfg.ReadAhead
	}
	return 2 * int64(req)
}

// read is ReadAt under plan pl. When a sequential plan's fetches reach the
// object's last block, atEnd (if not nil) is called once they are queued,
// without the cache's locks: a reader queues the next object there.
func (c *Cache) read(ctx context.Context, obj Object, p []byte, off int64, pl plan, atEnd func()) (int, error) {
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
	end, err := c.start(obj, off, n, pl)
	if err != nil {
		return 0, err
	}
	if end && atEnd != nil {
		atEnd()
	}
	done := 0
	for s := range spans(off, n, c.cfg.BlockSize) {
		b, err := c.acquire(ctx, obj, s.block)
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
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// start counts the blocks of the n > 0 bytes at off as hits, misses or
// waits and queues their fetches and the read-ahead beyond them. It reports
// whether a sequential plan's fetches reach the object's last block.
func (c *Cache) start(obj Object, off int64, n int, pl plan) (atEnd bool, err error) {
	bs := int64(c.cfg.BlockSize)
	first, last := off/bs, (off+int64(n)-1)/bs
	lastBlock := (obj.Size - 1) / bs
	reach := func(f *fetch) {
		if f.first+int64(f.n)-1 >= lastBlock {
			atEnd = true
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false, ErrClosed
	}
	var mine *fetch
	for i := first; i <= last; i++ {
		k := key{obj.ID, i}
		if c.lru.Contains(k) {
			c.stats.hits.Add(1)
			continue
		}
		switch f := c.inflight[k]; f {
		case nil:
			mine = c.startLocked(obj, i, max(pl.blocks, int(last-i+1)), false)
			// A reader's first read (no plan) at an object's start.
			mine.hold = pl.blocks == 0 && i == 0
			reach(mine)
			c.stats.misses.Add(1)
		case mine:
			c.stats.misses.Add(1)
		default:
			c.urgeLocked(f)
			c.stats.waits.Add(1)
		}
	}

	end := off + int64(n)
	// Also at the end when the window reaches a last block cached or coming.
	if max(end, min(end+pl.ahead, obj.Size)) >= obj.Size && pl.blocks > 0 {
		k := key{obj.ID, lastBlock}
		if c.lru.Contains(k) || c.inflight[k] != nil {
			atEnd = true
		}
	}
	if pl.ahead <= 0 || end >= obj.Size {
		return atEnd, nil
	}
	aheadLast := (min(end+pl.ahead, obj.Size) - 1) / bs
	for i := end / bs; i <= aheadLast && c.fetching < c.cfg.MaxFetches; i++ {
		k := key{obj.ID, i}
		if !c.lru.Contains(k) && c.inflight[k] == nil {
			f := c.startLocked(obj, i, max(pl.blocks, 1), true)
			reach(f)
			i += int64(f.n) - 1
		}
	}
	return atEnd, nil
}

// acquire returns block i of obj with a reference the caller must release,
// waiting for its fetch or starting one if needed.
func (c *Cache) acquire(ctx context.Context, obj Object, i int64) (*block, error) {
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
			f = c.startLocked(obj, i, 1, false)
			c.stats.misses.Add(1)
		}
		c.urgeLocked(f)
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
