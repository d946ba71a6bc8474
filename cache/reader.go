package cache

import (
	"context"
	"errors"
	"io"
	"sync"
)

// Reader reads one object for one open file and fetches ahead of a
// sequential reader (as rclone's vfs/read.go detects one). It is safe for
// concurrent use.
type Reader struct {
	c   *Cache
	obj Object

	mu         sync.Mutex
	reads      int   // reads so far
	pos        int64 // where a sequential read would start
	sequential bool  // every read so far continued the one before, from offset 0
	copying    bool  // the previous reader copied its object: this one likely does too
	hinted     bool  // the next object was prefetched
	next       func() (Object, bool)
}

// NewReader returns a Reader of obj through c.
func (c *Cache) NewReader(obj Object) *Reader {
	return &Reader{c: c, obj: obj}
}

// Object returns the object r reads.
func (r *Reader) Object() Object { return r.obj }

// SetNext gives r a guess of the object read after this one (the next file
// of a folder being copied): when a sequential reader's fetches reach the
// end, r queues that object's first request behind them, so the session
// does not idle between files. next runs without the cache's locks.
func (r *Reader) SetNext(next func() (Object, bool)) {
	r.mu.Lock()
	r.next = next
	r.mu.Unlock()
}

// ReadAt is Cache.ReadAt of r's object. A read within one request of where
// the last ended is sequential (the kernel's reads may arrive out of
// order) and fetches link-sized requests with read-ahead; a first read
// fetches only what it needs (a peek costs one small request) unless a copy
// is running; a random read fetches what it needs.
func (r *Reader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	c := r.c
	req := c.requestSize()
	end := off + int64(len(p))

	r.mu.Lock()
	first := r.reads == 0
	if first {
		// The kernel's first reads may arrive out of order.
		start := off < int64(req)
		r.copying = c.copying.Swap(false) && start
		r.sequential = start
	}
	seq := !first && off >= r.pos-int64(req) && off <= r.pos+int64(req)
	if !first && !seq {
		r.sequential = false
	}
	r.reads++
	if !seq || end > r.pos {
		r.pos = end
	}
	full := seq || (first && r.copying)
	next := r.next
	if !full || r.hinted {
		next = nil
	}
	r.mu.Unlock()

	var pl plan
	if full {
		pl = plan{blocks: req / c.cfg.BlockSize, ahead: c.readAhead(req)}
	}
	var atEnd func()
	if next != nil {
		atEnd = func() { r.prefetchNext(next) }
	}
	n, err := c.read(ctx, r.obj, p, off, pl, atEnd)
	if off+int64(n) >= r.obj.Size && (err == nil || errors.Is(err, io.EOF)) {
		r.mu.Lock()
		if r.sequential {
			c.copying.Store(true)
			c.peeking.Store(false)
		}
		r.mu.Unlock()
	}
	return n, err
}

// prefetchNext asks next for the object read after r's, once.
func (r *Reader) prefetchNext(next func() (Object, bool)) {
	r.mu.Lock()
	done := r.hinted
	r.hinted = true
	r.mu.Unlock()
	if done {
		return
	}
	if obj, ok := next(); ok && obj.ID != r.obj.ID {
		r.c.Prefetch(obj)
	}
}
