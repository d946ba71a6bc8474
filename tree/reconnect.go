package tree

import (
	"context"
	"fmt"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// A mount outlives its camera session, and the next session may number
// objects differently: on reconnection each listed object is found at its
// place (storage slot, path), so inode numbers and cached blocks stay
// valid and only the handles change.

// Disconnect detaches the tree from its camera, whose session is lost:
// from now on everything that needs the camera fails at once with
// ErrDisconnected (EIO), but reads and listings, which wait for the next
// session up to Config.ResumeWithin (resume.go), while what is listed stays
// visible. A listing in progress on the old session is dropped when it
// ends, and lists again in the next one.
func (t *Tree) Disconnect() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cam != nil {
		t.cam = nil
		t.gen++
		t.lostAt = time.Now()
		t.sessionChangedLocked()
		t.log.Info("camera disconnected: files answer EIO until it is back")
	}
}

// Connected reports whether the tree has a camera session.
func (t *Tree) Connected() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cam != nil
}

// Reconnect attaches the tree to cam, a new session with the same camera.
// Every directory listed so far is listed again in the new session and its
// entries are matched by place: a storage by its slot, a folder or file by
// its name in its parent, a file also by its size and date. A match keeps
// its Object (inode, cached blocks) with the new handle; an object not
// found again is gone (ENOENT); a new one appears in its folder.
//
// The tree stays disconnected while it re-lists, so no old handle reaches
// the new session; on error it stays disconnected.
func (t *Tree) Reconnect(ctx context.Context, cam Camera) error {
	t.Disconnect()
	t.limitCamera(cam)
	start := time.Now()
	t.mu.Lock()
	gen := t.gen
	t.mu.Unlock()

	var plan remap
	if err := plan.walk(ctx, t, cam); err != nil {
		return fmt.Errorf("reconnect: %w", err)
	}

	t.mu.Lock()
	if t.gen != gen || t.cam != nil {
		t.mu.Unlock()
		return fmt.Errorf("reconnect: %w", ErrDisconnected) // a concurrent Disconnect or Reconnect
	}
	for o, at := range plan.found {
		o.cur = at
	}
	// What changed while the camera was away is told as the watcher tells
	// its changes.
	var changes []Change
	for _, o := range plan.gone {
		changes = append(changes, Change{Dir: o.parent, Obj: o, Removed: true})
		t.forgetLocked(o)
	}
	for _, d := range plan.dirs {
		for _, c := range d.children {
			if _, ok := plan.found[c]; !ok {
				changes = append(changes, Change{Dir: d.dir, Obj: c})
			}
		}
		t.installLocked(d.dir, d.children)
	}
	if plan.infos != nil {
		t.storages = plan.infos
		t.statAt = time.Now()
	}
	t.cam = cam
	t.gen++
	t.sessionChangedLocked()
	t.mu.Unlock()
	t.reconnections.Add(1)
	t.log.Info("camera reconnected", "found", len(plan.found), "gone", len(plan.gone), "new", len(changes)-len(plan.gone), "dur", time.Since(start))
	if len(changes) > 0 {
		t.changedAll(changes)
	}
	return nil
}

// forgetLocked marks o and everything listed below it gone and drops them
// from the inode index. t.mu must be held.
func (t *Tree) forgetLocked(o *Object) {
	o.gone = true
	if cur, ok := t.byIno[o.Ino]; ok && cur == o {
		delete(t.byIno, o.Ino)
	}
	t.diedLocked(o)
	for _, c := range o.children {
		t.forgetLocked(c)
	}
}

// remap is what Reconnect found: the new address of each object found
// again, the objects gone, and the new entries of each listed directory
// (old Objects where they matched).
type remap struct {
	found map[*Object]address
	gone  []*Object
	dirs  []relisted
	infos map[uint32]*mtp.StorageInfo
}

type relisted struct {
	dir      *Object
	children []*Object
}

// walk re-lists, in cam's session, every directory of t that was listed,
// from the root down, matching entries by place.
func (r *remap) walk(ctx context.Context, t *Tree, cam Camera) error {
	r.found = map[*Object]address{}
	type job struct {
		dir *Object
		at  address
	}
	t.mu.Lock()
	rootListed := t.root.listed
	t.mu.Unlock()
	if !rootListed {
		return nil
	}
	queue := []job{{t.root, t.root.cur}}
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		var fresh []*Object
		var err error
		if j.dir.Kind == KindRoot {
			fresh, r.infos, err = t.listStorages(ctx, cam)
		} else {
			fresh, err = t.listFolder(ctx, cam, j.dir, j.at)
		}
		if err != nil {
			return fmt.Errorf("list %q: %w", "/"+j.dir.Path(), err)
		}
		t.mu.Lock()
		old := make(map[string]*Object, len(j.dir.children))
		for _, c := range j.dir.children {
			old[c.Name] = c
		}
		t.mu.Unlock()
		children := make([]*Object, 0, len(fresh))
		for _, n := range fresh {
			o, ok := old[n.Name]
			if !ok || !samePlace(o, n) {
				children = append(children, n) // new since the last session
				continue
			}
			delete(old, n.Name)
			r.found[o] = n.cur
			children = append(children, o)
			t.mu.Lock()
			listed := o.listed
			t.mu.Unlock()
			if listed {
				queue = append(queue, job{o, n.cur})
			}
		}
		for _, o := range old {
			r.gone = append(r.gone, o)
		}
		r.dirs = append(r.dirs, relisted{j.dir, children})
	}
	return nil
}

// samePlace reports whether n, listed in the new session, is the object o
// of the old one: same name in the same parent (the caller matched it),
// same kind, and for a file the same size and date; for a storage the
// same slot.
func samePlace(o, n *Object) bool {
	switch {
	case o.Kind != n.Kind:
		return false
	case o.Kind == KindStorage:
		return Slot(o.Storage) == Slot(n.Storage)
	case o.Kind == KindFile:
		return o.Size == n.Size && o.Mtime.Equal(n.Mtime)
	}
	return true
}
