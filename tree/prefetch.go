package tree

import (
	"sync"
	"time"

	"github.com/airnef-mount/airnef-mount/cache"
)

// ReadOrder learns, per process, whether it copies a folder file after
// file, so the cache can fetch the next file's start while the process
// finishes the current one (cache.Reader's next file). The evidence is the
// process's own: it read a file to its end and went on to the next file of
// that folder in listing order, by inode number (GNU cp -r: gnulib's
// savedir sorts by d_ino) or by name (rsync, file managers). Two processes
// copying at once each have their own; a process that peeks at files, or
// reads them in neither order, gets no guess, since a wrong guess spends
// the link on a file nobody reads.
type ReadOrder struct {
	mu    sync.Mutex
	procs map[uint32]*procOrder
}

// maxProcs bounds the processes ReadOrder remembers: it trades memory
// against forgetting a copy while more processes than that read at once.
const maxProcs = 64

// procIdle is how long a process's order is kept without a read: PIDs are
// reused, and a copy moves on to its next file well within it.
const procIdle = time.Minute

// procOrder is what one process has shown of its reading.
type procOrder struct {
	finished *Object             // the file it read to its end last
	read     map[uint64]struct{} // files of finished's folder read to the end
	order    order               // of its last move from a finished file to the next
	next     *Object             // the file it opened after finished, in order
	used     time.Time
}

// order is how a process walks a folder.
type order uint8

const (
	orderNone order = iota // no evidence
	orderIno               // by inode number: cp -r
	orderName              // by name: rsync, file managers
)

// procLocked returns pid's record, made if needed, dropping the records of
// processes idle for procIdle and the oldest beyond maxProcs. r.mu is held.
func (r *ReadOrder) procLocked(pid uint32) *procOrder {
	now := time.Now()
	if r.procs == nil {
		r.procs = make(map[uint32]*procOrder)
	}
	p := r.procs[pid]
	if p == nil {
		var oldest *procOrder
		var oldestPID uint32
		for id, q := range r.procs {
			if now.Sub(q.used) > procIdle {
				delete(r.procs, id)
			} else if oldest == nil || q.used.Before(oldest.used) {
				oldest, oldestPID = q, id
			}
		}
		if len(r.procs) >= maxProcs {
			delete(r.procs, oldestPID)
		}
		p = &procOrder{}
		r.procs[pid] = p
	}
	p.used = now
	return p
}

// Opened records that process pid opened file o and reports whether it
// copies: the file it read to its end last is the one before o in o's
// folder, by inode number or by name.
func (r *ReadOrder) Opened(t *Tree, pid uint32, o *Object) bool {
	sibs := t.siblings(o)
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.procLocked(pid)
	prev := p.finished
	if prev == nil || prev == o || prev.parent != o.parent {
		return p.next == o && p.order != orderNone // reopened
	}
	byIno := nextByIno(sibs, prev, p.read) == o
	byName := nextByName(sibs, prev, p.read) == o
	switch {
	case byIno && byName: // both fit: keep the order seen before
		if p.order == orderNone {
			p.order = orderIno
		}
	case byIno:
		p.order = orderIno
	case byName:
		p.order = orderName
	default:
		p.order = orderNone
	}
	p.next = nil
	if p.order != orderNone {
		p.next = o
	}
	return p.next == o
}

// Finished records that process pid read file o to its end.
func (r *ReadOrder) Finished(pid uint32, o *Object) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.procLocked(pid)
	if p.finished == nil || p.finished.parent != o.parent {
		p.read = make(map[uint64]struct{})
	}
	p.read[o.Ino] = struct{}{}
	p.finished = o
}

// Next returns the file process pid most likely reads after o, while it
// copies o's folder (Opened said so for o): the file after o in the order
// it showed, that it has not read to its end yet.
func (r *ReadOrder) Next(t *Tree, pid uint32, o *Object) (cache.Object, bool) {
	sibs := t.siblings(o)
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.procs[pid]
	if p == nil || p.next != o {
		return cache.Object{}, false
	}
	var n *Object
	switch p.order {
	case orderIno:
		n = nextByIno(sibs, o, p.read)
	case orderName:
		n = nextByName(sibs, o, p.read)
	}
	if n == nil {
		return cache.Object{}, false
	}
	return CacheObject(n), true
}

// siblings returns the entries of o's folder, sorted by name (shared: do
// not modify), or nil when the folder is not listed.
func (t *Tree) siblings(o *Object) []*Object {
	t.mu.Lock()
	defer t.mu.Unlock()
	if o.parent == nil || !o.parent.listed {
		return nil
	}
	return o.parent.children
}

// nextByName returns the first file after o in sibs (sorted by name) not in
// read, or nil.
func nextByName(sibs []*Object, o *Object, read map[uint64]struct{}) *Object {
	after := false
	for _, s := range sibs {
		if s == o {
			after = true
			continue
		}
		if _, done := read[s.Ino]; after && s.Kind == KindFile && !done {
			return s
		}
	}
	return nil
}

// nextByIno returns the file of sibs with the smallest inode number above
// o's not in read, or nil.
func nextByIno(sibs []*Object, o *Object, read map[uint64]struct{}) *Object {
	var best *Object
	for _, s := range sibs {
		if s.Kind != KindFile || s.Ino <= o.Ino || (best != nil && s.Ino >= best.Ino) {
			continue
		}
		if _, done := read[s.Ino]; !done {
			best = s
		}
	}
	return best
}
