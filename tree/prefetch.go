package tree

import (
	"sync"

	"github.com/airnef-mount/airnef-mount/cache"
)

// ReadOrder guesses which file of a folder is read after the one being
// read, so the cache can prefetch it (cache.Reader.SetNext). Copies read a
// folder by inode number (GNU cp -r: gnulib's savedir sorts by d_ino) or
// by name (rsync, file managers). The order is learnt from the last move
// between two files of a folder; inode order is assumed before any, and
// nothing is guessed after a move in neither order, since a wrong guess
// spends the link on a file not wanted yet.
type ReadOrder struct {
	mu    sync.Mutex
	prev  *Object             // the file opened last
	order order               // of the last move in prev's folder
	read  map[uint64]struct{} // files of prev's folder opened so far
}

// order is a guess of how a program walks a folder.
type order uint8

const (
	orderIno  order = iota // by inode number: cp -r
	orderName              // by name: rsync, file managers
	orderNone              // neither: make no guess
)

// Opened records that o was opened for reading.
func (r *ReadOrder) Opened(t *Tree, o *Object) {
	sibs := t.siblings(o)
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.prev
	if prev == nil || prev.parent != o.parent {
		r.read = make(map[uint64]struct{})
	} else if prev != o {
		byIno := nextByIno(sibs, prev, r.read) == o
		byName := nextByName(sibs, prev, r.read) == o
		switch {
		case byIno && byName: // both fit: keep the guess
			if r.order == orderNone {
				r.order = orderIno
			}
		case byIno:
			r.order = orderIno
		case byName:
			r.order = orderName
		default:
			r.order = orderNone
		}
	}
	r.read[o.Ino] = struct{}{}
	r.prev = o
}

// Next returns the file most likely read after o: the following file of
// o's folder in the learnt order that has not been opened yet.
func (r *ReadOrder) Next(t *Tree, o *Object) (cache.Object, bool) {
	sibs := t.siblings(o)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.prev == nil || r.prev.parent != o.parent {
		return cache.Object{}, false
	}
	var n *Object
	switch r.order {
	case orderIno:
		n = nextByIno(sibs, o, r.read)
	case orderName:
		n = nextByName(sibs, o, r.read)
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
