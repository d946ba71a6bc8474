package cache

import (
	"context"
	"errors"
	"io"
	"sync"
)

// Reader reads one object for one open file, and fetches ahead when it sees
// the file read sequentially, so that the camera is already sending the next
// blocks while the current ones are copied out (rclone's vfs/read.go detects
// sequential reads the same way). It is safe for concurrent use.
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
// of a folder being copied). When a sequential reader's fetches reach its
// object's end, r asks next once and queues the first request of the
// object it names right behind them (before the read waits for its own
// bytes), so the camera goes on to the next file the moment it sends this
// one's last byte, while the copying program is still writing this file
// out and then closes it and opens the next. next runs without the cache's
// locks.
func (r *Reader) SetNext(next func() (Object, bool)) {
	r.mu.Lock()
	r.next = next
	r.mu.Unlock()
}

// ReadAt is Cache.ReadAt of r's object. A read counts as sequential when it
// starts within one request of where the previous read ended (the kernel's
// concurrent read-ahead may deliver reads slightly out of order).
//
// The first read fetches only the blocks it needs, so opening a file to
// peek at its header (a file manager making thumbnails) costs one small
// request, unless the previous reader read its object sequentially to the
// end: then a copy is running and the first read already fetches a
// link-sized request (the whole of a photo, often) with read-ahead. A
// sequential read fetches link-sized requests and starts background fetches
// of the read-ahead window beyond it. A random read fetches what it needs.
func (r *Reader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	c := r.c
	req := c.requestSize()
	end := off + int64(len(p))

	r.mu.Lock()
	first := r.reads == 0
	if first {
		// The kernel's read-ahead sends the first reads of a file
		// concurrently, and they may arrive out of order: a first read
		// within one request of the start still starts a sequential
		// read.
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
