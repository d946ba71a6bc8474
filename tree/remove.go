package tree

// remove takes object h, which the camera reports deleted, out of the
// tree: a lookup of it answers ENOENT, an open file of it fails to read.
func (w *watcher) remove(h uint32) {
	t := w.t
	delete(w.seen, h)
	t.mu.Lock()
	if t.gen != w.gen {
		t.mu.Unlock()
		return
	}
	var o *Object
	for _, x := range t.byIno {
		if (x.Kind == KindFile || x.Kind == KindFolder) && x.cur.handle == h && !x.gone {
			o = x
			break
		}
	}
	if o == nil {
		t.mu.Unlock()
		return // not listed
	}
	dir := t.removeLocked(o)
	t.mu.Unlock()
	t.changed(Change{Dir: dir, Obj: o, Removed: true})
}

// removeLocked takes o out of its directory and marks it and what is
// below it gone; it returns the directory. t.mu must be held.
func (t *Tree) removeLocked(o *Object) *Object {
	dir := o.parent
	kept := make([]*Object, 0, len(dir.children))
	for _, c := range dir.children {
		if c != o {
			kept = append(kept, c)
		}
	}
	t.installLocked(dir, kept)
	t.forgetLocked(o)
	return dir
}

// removeObject removes o if it is still in the tree of this session.
func (w *watcher) removeObject(o *Object) {
	t := w.t
	t.mu.Lock()
	if t.gen != w.gen || o.gone {
		t.mu.Unlock()
		return
	}
	dir := t.removeLocked(o)
	t.mu.Unlock()
	t.changed(Change{Dir: dir, Obj: o, Removed: true})
}
