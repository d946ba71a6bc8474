package tree

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

const (
	// shotSettle bounds how long GetObjectInfo of a new object is retried
	// while the camera answers GeneralError: a Nikon is still writing the
	// file of a shot it has just announced.
	shotSettle = 4 * time.Second
	// settleRetry is the pause between those tries.
	settleRetry = 200 * time.Millisecond
)

// settledInfo is GetObjectInfo of h, retried while the camera answers
// GeneralError for up to shotSettle (a shot still being written).
func (w *watcher) settledInfo(ctx context.Context, cam Camera, h uint32) (*mtp.ObjectInfo, error) {
	deadline := time.Now().Add(shotSettle)
	for {
		info, err := cam.ObjectInfo(ctx, h)
		if !errors.Is(err, mtp.RespGeneralError) || time.Now().After(deadline) {
			return info, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(settleRetry):
		}
	}
}

// settledObjectInfo is GetObjectInfo of h in a listing, retried while the
// camera answers GeneralError (a shot still being written) until *until,
// which the listing's first GeneralError sets shotSettle ahead: one wait
// per listing, however many objects the camera refuses.
func (t *Tree) settledObjectInfo(ctx context.Context, cam Camera, h uint32, until *time.Time) (*mtp.ObjectInfo, error) {
	for {
		info, err := cam.ObjectInfo(ctx, h)
		if !errors.Is(err, mtp.RespGeneralError) {
			return info, err
		}
		if until.IsZero() {
			*until = time.Now().Add(shotSettle)
		}
		if !time.Now().Before(*until) {
			return info, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(settleRetry):
		}
	}
}

// add puts object h, which the camera reports as new, in its folder if
// that folder is listed.
func (w *watcher) add(ctx context.Context, h uint32) {
	t := w.t
	if h == 0 || h == storageRoot {
		return
	}
	cam := w.camera()
	if cam == nil {
		return
	}
	info, err := w.settledInfo(ctx, cam, h)
	if errors.Is(err, mtp.RespInvalidObjectHandle) {
		return // deleted again already
	}
	if err != nil {
		if ctx.Err() == nil {
			t.log.Warn("new object not described by the camera; the listed folders are listed again", "handle", fmt.Sprintf("%#x", h), "err", err)
			w.resyncDue = true
		}
		return
	}
	w.seen[h] = true
	dir, at := t.parentOf(w.gen, info)
	if dir == nil {
		var done bool
		if dir, done = w.attach(ctx, cam, h, info); dir == nil || done {
			return
		}
		// The folder was listed just now, most likely with h in it.
		t.mu.Lock()
		o := childByHandleLocked(dir, h)
		current := t.gen == w.gen
		at = dir.cur
		t.mu.Unlock()
		if !current {
			return
		}
		if o != nil {
			w.announce(ctx, dir, o)
			return
		}
	}
	if info.ObjectFormat == mtp.FormatAssociation && t.ancestorHandles(dir)[h] {
		t.skipBad(dir, at.storage, h, "parent cycle: a folder lists itself or a folder above it")
		return
	}
	o, ok, err := t.newEntry(ctx, cam, dir, at, h, info, depth(dir)+1 > MaxDepth)
	if err != nil {
		t.log.Warn("new object not added; the listed folders are listed again", "dir", "/"+dir.Path(), "handle", fmt.Sprintf("%#x", h), "err", err)
		delete(w.seen, h)
		w.resyncDue = ctx.Err() == nil
		return
	}
	if !ok {
		return
	}
	t.mu.Lock()
	switch {
	case t.gen != w.gen || !dir.listed || dir.gone:
		t.mu.Unlock()
		return
	case slices.ContainsFunc(dir.children, func(c *Object) bool { return c.cur == o.cur }):
		t.mu.Unlock()
		return // already listed
	case len(t.byIno) >= t.lim.maxObjects:
		t.mu.Unlock()
		t.skipBad(dir, at.storage, h, "too many objects (--max-objects)")
		return
	}
	taken := make(map[string]bool, len(dir.children))
	for _, c := range dir.children {
		taken[c.Name] = true
	}
	o.Name = uniqueNames([]string{sanitizeName(info.Filename)}, []entryKey{{raw: info.Filename, mtime: o.Mtime.UnixNano(), size: o.Size, handle: h}}, taken)[0]
	o.Ino = inodeOf(Slot(o.Storage), o.Path())
	t.installLocked(dir, append(slices.Clip(dir.children), o))
	t.mu.Unlock()
	t.listed.Add(1)
	w.announce(ctx, dir, o)
}

// announce reports new object o of dir; a new folder is listed at once
// and everything in it reported as new too (a camera makes a folder for
// the shots it is about to write), so that its files show without
// waiting for a reader to list it and --on-new runs for them.
func (w *watcher) announce(ctx context.Context, dir, o *Object) {
	var cs []Change
	w.collect(ctx, dir, o, &cs)
	w.t.changedAll(cs)
}

// collect appends the change of new object o of dir to cs, and for a new
// folder lists it and collects what is in it.
func (w *watcher) collect(ctx context.Context, dir, o *Object, cs *[]Change) {
	*cs = append(*cs, Change{Dir: dir, Obj: o})
	if !o.IsDir() {
		return
	}
	err := w.settledList(ctx, o)
	var children []*Object
	if err == nil {
		children, err = w.t.List(ctx, o)
	}
	if err != nil {
		if ctx.Err() == nil {
			w.t.log.Warn("new folder not listed; its files appear when it is", "dir", "/"+o.Path(), "err", err)
		}
		return
	}
	// The depth is bounded: the listing leaves out folders deeper than
	// MaxDepth.
	for _, c := range children {
		w.t.mu.Lock()
		w.seen[c.cur.handle] = true
		w.t.mu.Unlock()
		w.collect(ctx, o, c, cs)
	}
}

// attach finds the folder that new object h (described by info) is in
// when the tree has not listed it: it walks up info's ParentObject with
// GetObjectInfo to a directory the tree knows, then lists each folder on
// the way down. It returns that folder, listed; or done when it has
// reported h itself (h is in a folder the camera has just made, which was
// added and reported whole); or nil when h cannot be placed (logged).
func (w *watcher) attach(ctx context.Context, cam Camera, h uint32, info *mtp.ObjectInfo) (dir *Object, done bool) {
	t := w.t
	// chain: the folders between h and the nearest directory the tree
	// knows, h's own first.
	var chain []uint32
	visited := map[uint32]bool{h: true}
	parent := info.ParentObject
	for {
		if dir = t.knownDir(w.gen, info.StorageID, parent); dir != nil {
			break
		}
		if parent == 0 || parent == storageRoot {
			return nil, false // a storage not listed (yet)
		}
		if visited[parent] || len(chain) >= MaxDepth {
			t.log.Warn("new object not placed: its folders make a cycle or nest too deep", "handle", fmt.Sprintf("%#x", h))
			return nil, false
		}
		visited[parent] = true
		pinfo, err := cam.ObjectInfo(ctx, parent)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, mtp.RespInvalidObjectHandle) {
				t.log.Warn("folder of a new object not described by the camera; it appears at the next listing", "handle", fmt.Sprintf("%#x", h), "folder", fmt.Sprintf("%#x", parent), "err", err)
			}
			return nil, false
		}
		if pinfo.ObjectFormat != mtp.FormatAssociation || (pinfo.StorageID != 0 && info.StorageID != 0 && pinfo.StorageID != info.StorageID) {
			t.log.Warn("new object's parent is not a folder of its storage; not placed", "handle", fmt.Sprintf("%#x", h), "parent", fmt.Sprintf("%#x", parent))
			return nil, false
		}
		chain = append(chain, parent)
		parent = pinfo.ParentObject
	}
	for i := len(chain) - 1; i >= 0; i-- {
		wasListed := t.Listed(dir)
		if err := w.settledList(ctx, dir); err != nil {
			t.log.Debug("listing the folders above a new object failed", "dir", "/"+dir.Path(), "err", err)
			return nil, false
		}
		t.mu.Lock()
		next := childByHandleLocked(dir, chain[i])
		t.mu.Unlock()
		if next == nil {
			if wasListed {
				// Not in a folder listed before: the camera
				// has just made it.
				w.add(ctx, chain[i])
				return nil, true
			}
			return nil, false // deleted again already
		}
		dir = next
	}
	if err := w.settledList(ctx, dir); err != nil {
		t.log.Debug("listing the folder of a new object failed", "dir", "/"+dir.Path(), "err", err)
		return nil, false
	}
	return dir, false
}

// settledList lists dir if it is not listed, retrying for up to
// shotSettle while the camera answers GeneralError: a Nikon answers it for
// a shot it is still writing (a RAW and a JPEG of one shot arrive together).
func (w *watcher) settledList(ctx context.Context, dir *Object) error {
	deadline := time.Now().Add(shotSettle)
	for {
		err := w.t.ensureListed(ctx, dir)
		if !errors.Is(err, mtp.RespGeneralError) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(settleRetry):
		}
	}
}

// knownDir returns the directory of this session (listed or not) that
// is folder handle on storage, or the storage itself for handle 0 or
// storageRoot; nil when the tree does not know it.
func (t *Tree) knownDir(gen uint64, storage, handle uint32) *Object {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gen != gen || !t.root.listed {
		return nil
	}
	if !t.hasStorageLocked(storage) {
		storage = 0 // a StorageID the camera does not list: any storage (belongs)
	}
	onStorage := func(o *Object) bool { return storage == 0 || o.cur.storage == storage }
	if handle == 0 || handle == storageRoot {
		var found *Object
		for _, s := range t.root.children {
			if onStorage(s) && !s.gone {
				if found != nil {
					return nil // which one: no storage given
				}
				found = s
			}
		}
		return found
	}
	for _, o := range t.byIno {
		if o.Kind == KindFolder && !o.gone && o.cur.handle == handle && onStorage(o) {
			return o
		}
	}
	return nil
}

// childByHandleLocked is dir's entry of handle h, or nil. t.mu must be
// held.
func childByHandleLocked(dir *Object, h uint32) *Object {
	for _, c := range dir.children {
		if c.cur.handle == h && !c.gone {
			return c
		}
	}
	return nil
}

// parentOf returns the listed directory that object info is an entry of,
// and where it is in the session; nil when it is not listed or the
// session changed.
func (t *Tree) parentOf(gen uint64, info *mtp.ObjectInfo) (*Object, address) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gen != gen {
		return nil, address{}
	}
	var stores []*Object
	for _, s := range t.root.children {
		if s.cur.storage == info.StorageID && !s.gone {
			stores = append(stores, s)
		}
	}
	if len(stores) == 0 {
		// A StorageID the camera does not list (belongs): look in
		// every storage.
		for _, s := range t.root.children {
			if !s.gone {
				stores = append(stores, s)
			}
		}
	}
	if info.ParentObject == 0 || info.ParentObject == storageRoot {
		if len(stores) != 1 || !stores[0].listed {
			return nil, address{}
		}
		return stores[0], stores[0].cur
	}
	var find func(d *Object) *Object
	find = func(d *Object) *Object {
		for _, c := range d.children {
			if !c.IsDir() {
				continue
			}
			if c.cur.handle == info.ParentObject {
				return c
			}
			if c.listed {
				if f := find(c); f != nil {
					return f
				}
			}
		}
		return nil
	}
	var dir *Object
	for _, s := range stores {
		if dir = find(s); dir != nil {
			break
		}
	}
	if dir == nil || !dir.listed || dir.gone {
		return nil, address{}
	}
	return dir, dir.cur
}
