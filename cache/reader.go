package cache

import (
	"context"
	"sync"
)

// Reader reads one object for one open file, and fetches ahead when it sees
// the file read sequentially, so that the camera is already sending the next
// blocks while the current ones are copied out (rclone's vfs/read.go detects
// sequential reads the same way). It is safe for concurrent use.
type Reader struct {
	c   *Cache
	obj Object

	mu    sync.Mutex
	reads int   // reads so far
	next  int64 // where a sequential read would start
}

// NewReader returns a Reader of obj through c.
func (c *Cache) NewReader(obj Object) *Reader {
	return &Reader{c: c, obj: obj}
}

// Object returns the object r reads.
func (r *Reader) Object() Object { return r.obj }

// ReadAt is Cache.ReadAt of r's object. A read counts as sequential when it
// starts within one request of where the previous read ended (the kernel's
// concurrent read-ahead may deliver reads slightly out of order); the first
// read never does, so opening a file to peek at its header fetches no more
// than the request it needs. A sequential read also starts background fetches
// of the read-ahead window beyond it.
func (r *Reader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	window := int64(r.c.cfg.RequestSize)
	end := off + int64(len(p))

	r.mu.Lock()
	seq := r.reads > 0 && off >= r.next-window && off <= r.next+window
	r.reads++
	if !seq || end > r.next {
		r.next = end
	}
	r.mu.Unlock()

	var ahead int64
	if seq {
		ahead = r.c.cfg.ReadAhead
	}
	return r.c.read(ctx, r.obj, p, off, ahead)
}
