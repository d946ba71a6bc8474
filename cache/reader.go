package cache

import (
	"context"
	"errors"
	"io"
	"math"
	"sync"

	"github.com/airnef-mount/airnef-mount/sched"
)

// Reader reads one object for one open file handle and fetches ahead of it
// as the kernel's readahead does, from what this handle has consumed: a
// first read at the start fetches its block (a peek costs one small
// request); a window of read-ahead opens once the reader has consumed
// everything fetched for it, and doubles, up to the link's request size,
// each time it reads into the window last queued; a read outside the
// window (a seek), or a first read elsewhere, fetches only its own bytes,
// uncached (the kernel keeps them), resets the window and withdraws the
// read-ahead queued for it. It is safe for
// concurrent use: the kernel sends a handle's reads two at a time.
type Reader struct {
	c   *Cache
	obj Object

	mu        sync.Mutex
	owner     sched.Owner
	reads     int
	runs      int // windows begun: a read's window update is for its own
	win       window
	fromStart bool // the current run began at the object's start
	done      bool // a run from the start reached the end (told once)
	finished  func()
	copying   bool                  // its process copies file after file (SetCopy)
	next      func() (Object, bool) // the object it reads next (SetCopy)
	hinted    bool                  // next was asked
}

// window is the part of the object fetched or queued for a reader's
// current run of sequential reads.
type window struct {
	start   int64 // where the run began
	end     int64 // end of what is fetched or queued for it
	trigger int64 // a read past it queues the next window (the start of the last one queued)
	size    int64 // bytes of the last window queued
	exact   bool  // it began with a seek's own bytes: end is where that read ended
}

// slack is how far past the window's end a read may begin and still be
// sequential: a kernel read's worth for a window of blocks (two reads sent
// together may arrive out of order), none after a seek's own bytes, so
// that a random reader's next read landing just past its last one is a
// seek, not a reason to read ahead. r.mu is held.
func (r *Reader) slack() int64 {
	if r.win.exact {
		return 0
	}
	return BlockUnit
}

// NewReader returns a Reader of obj through c.
func (c *Cache) NewReader(obj Object) *Reader {
	return &Reader{c: c, obj: obj}
}

// Object returns the object r reads.
func (r *Reader) Object() Object { return r.obj }

// SetOwner makes r's fetches those of owner (the process that opened the
// file), for the scheduler. Call it before the first read.
func (r *Reader) SetOwner(o sched.Owner) {
	r.mu.Lock()
	r.owner = o
	r.mu.Unlock()
}

// SetCopy tells r that its process copies file after file (it read the
// file before this one to its end): r fetches link-sized requests from its
// first read, and when its fetches reach the object's end, queues the first
// request of next()'s object as a prefetch behind them, so the session
// does not idle between files. next runs without the cache's locks. Call
// it before the first read.
func (r *Reader) SetCopy(next func() (Object, bool)) {
	r.mu.Lock()
	r.copying, r.next = true, next
	r.mu.Unlock()
}

// OnFinished makes f be called, once, when r has read its object from the
// start to the end in one run of sequential reads.
func (r *Reader) OnFinished(f func()) {
	r.mu.Lock()
	r.finished = f
	r.mu.Unlock()
}

// Close withdraws r's queued read-ahead that no other reader wants: the
// file handle was released. Fetches running finish.
func (r *Reader) Close() { r.c.withdraw(r) }

// ReadAt is Cache.ReadAt of r's object, with r's read-ahead.
func (r *Reader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	c, obj := r.c, r.obj
	if off < 0 || len(p) == 0 || off >= obj.Size {
		return c.read(ctx, obj, p, off, plan{}, nil)
	}
	end := min(off+int64(len(p)), obj.Size)
	bs := int64(c.cfg.BlockSize)
	req := c.requestSize()
	most := c.maxWindow(req)

	r.mu.Lock()
	pl := plan{blocks: 1, owner: r.owner, reader: r}
	w := &r.win
	first := r.reads == 0
	r.reads++
	seek := false
	switch {
	case first && r.copying && off < int64(req):
		r.runs++
		// Link-sized requests from the start: the first is all demand,
		// the next window is queued at once.
		*w = window{start: 0, end: min(int64(req), obj.Size), size: most}
		pl.blocks = req / c.cfg.BlockSize
		r.fromStart = true
	case first && off < bs:
		// A peek at the start: its block, kept for the next reader.
		r.runs++
		*w = window{start: 0, end: roundUp(end, bs)}
		w.trigger, w.size = w.end, w.end
		r.fromStart = true
	case (first || off < w.start || off > w.end+r.slack()) && end-off >= BlockUnit:
		// A seek, or a first read elsewhere than the start, of a whole
		// kernel read: the program's read was at least that large and
		// the kernel cut it (a read of 256 KiB comes as two of 128 KiB,
		// sent together): its blocks and the next, cached, in one
		// request, that the second read finds coming.
		r.runs++
		*w = window{start: off / bs * bs, end: min(roundUp(end+BlockUnit, bs), roundUp(obj.Size, bs))}
		w.trigger, w.size = w.end, w.end-w.start
		pl.blocks = int((w.end - w.start) / bs)
		r.fromStart = false
		seek = !first
	case first, off < w.start, off > w.end+r.slack():
		// A seek, or a first read elsewhere than the start: its own
		// bytes (a read within a kernel read of a block window's end is
		// one of two sent together, not a seek).
		r.runs++
		*w = window{start: off, end: end, trigger: end, size: max(bs, roundUp(end-off, bs)), exact: true}
		pl.direct = true
		r.fromStart = false
		seek = !first
	}
	prev, run := *w, r.runs
	if end > w.trigger && most > 0 {
		// The reader consumed what was fetched for it: the next window,
		// twice the last, beyond what is cached or coming. One window
		// at a time: the next read waits for this one's place.
		pl.ahead, pl.aheadFrom = min(2*w.size, most), roundUp(end, bs)
		if w.trigger == 0 {
			pl.ahead = most // copying: link-sized from the start
		}
		w.trigger = math.MaxInt64
	}
	r.mu.Unlock()

	if seek {
		c.withdraw(r)
	}
	after := func(q queued) {
		if pl.ahead == 0 {
			return
		}
		r.mu.Lock()
		switch {
		case r.runs != run: // a seek began another window meanwhile
		case q.ok:
			w.trigger, w.end, w.size = q.from, max(w.end, q.to), pl.ahead
			w.exact = false
		default:
			w.trigger = prev.trigger // too many fetches in flight: at the next read
		}
		var next func() (Object, bool)
		if r.next != nil && !r.hinted && w.end >= obj.Size {
			r.hinted = true
			next = r.next
		}
		r.mu.Unlock()
		if next != nil {
			r.prefetchNext(next)
		}
	}
	n, err := c.readAfter(ctx, obj, p, off, pl, after)
	if off+int64(n) >= obj.Size && (err == nil || errors.Is(err, io.EOF)) {
		r.mu.Lock()
		tell := r.fromStart && !r.done && r.finished != nil
		r.done = r.done || r.fromStart
		finished := r.finished
		r.mu.Unlock()
		if tell {
			finished()
		}
	}
	return n, err
}

// prefetchNext asks next for the object read after r's and prefetches it.
func (r *Reader) prefetchNext(next func() (Object, bool)) {
	if obj, ok := next(); ok && obj.ID != r.obj.ID {
		r.mu.Lock()
		owner := r.owner
		r.mu.Unlock()
		r.c.Prefetch(obj, owner)
	}
}
