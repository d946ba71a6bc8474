package fusefs

import (
	"slices"
	"strings"

	"github.com/hanwen/go-fuse/v2/fs"

	"github.com/airnef-mount/airnef-mount/renamed"
	"github.com/airnef-mount/airnef-mount/tree"
)

// changedAll is told of the changes the camera reported (Tree.OnChanges):
// it makes the kernel forget what it cached of the directory and the name,
// drops a deleted file's cached blocks, builds the renamed tree again once
// for all the changes, and for a new file updates /.airnef/latest and tells
// OnNew. It runs on the watcher's goroutine, outside the tree's lock, as
// go-fuse's notify calls must not be made from inside a FUSE request.
func (f *filesystem) changedAll(cs []tree.Change) {
	var old, now *renamed.Tree
	if f.ren != nil && slices.ContainsFunc(cs, func(c tree.Change) bool { return c.Removed || !c.Obj.IsDir() }) {
		old, now = f.rebuildRenamed()
	}
	if f.ren != nil && slices.ContainsFunc(cs, func(c tree.Change) bool { return !c.Removed && c.Obj.Kind == tree.KindStorage }) {
		// A card put in while mounted: the renamed tree shows every
		// file of the card, so the new card is listed whole, as at
		// mount, away from the watcher, and the tree built again.
		go f.listForRenamed()
	}
	for _, c := range cs {
		f.changedOne(c, old, now)
	}
}

// changedOne does changedAll's work for c; old and now are the renamed trees
// before and after the changes (nil when not rebuilt).
func (f *filesystem) changedOne(c tree.Change, old, now *renamed.Tree) {
	path := f.cameraPrefix + c.Obj.Path()
	var renamedPath string
	if n, ok := old.File(c.Obj); ok && c.Removed {
		renamedPath = n.Path()
	} else if n, ok := now.File(c.Obj); ok && !c.Removed {
		renamedPath = n.Path()
	}
	if c.Removed {
		// A folder deleted on the camera takes its files with it: their
		// blocks go, and latest if it was one of them.
		files := []*tree.Object{c.Obj}
		if c.Obj.IsDir() {
			files = f.tree.FilesBelow(c.Obj)
		}
		gone := map[string]bool{path: true}
		for _, o := range files {
			if f.cache != nil {
				f.cache.Forget(tree.CacheObject(o).ID)
			}
			gone[f.cameraPrefix+o.Path()] = true
			if n, ok := old.File(o); ok {
				gone[n.Path()] = true
			}
		}
		if p := f.latest.Load(); p != nil && (gone[*p] || *p == renamedPath) {
			f.latest.Store(nil)
		}
	} else if renamedPath != "" {
		path = renamedPath
	}
	if dir := f.inode(c.Dir); dir != nil {
		// The camera tree: at the root, or at /.camera.
		if child := dir.GetChild(c.Obj.Name); c.Removed && child != nil {
			dir.NotifyDelete(c.Obj.Name, child)
		} else {
			// A new name (the kernel may remember it as absent), or
			// a removed one the kernel has not looked up.
			dir.NotifyEntry(c.Obj.Name)
		}
		// The directory's attributes (link count) changed.
		dir.NotifyContent(0, 0)
	}
	if !c.Removed && c.Obj.Kind == tree.KindFile {
		f.latest.Store(&path)
		// The kernel may remember /.airnef/latest as absent.
		if root := f.root.EmbeddedInode(); root.StableAttr().Ino != 0 {
			if ctl := root.GetChild(tree.ControlDirName); ctl != nil {
				ctl.NotifyEntry(ctlLatest)
			}
		}
		if f.onNew != nil {
			f.onNew(path)
		}
	}
}

// inode returns the kernel-visible inode of directory o of the camera
// tree, or nil when the kernel has not looked it up (so caches nothing
// of it).
func (f *filesystem) inode(o *tree.Object) *fs.Inode {
	if f.root == nil {
		return nil
	}
	n := f.root.EmbeddedInode()
	if n.StableAttr().Ino == 0 {
		return nil // not mounted: no kernel to tell
	}
	if f.cameraPrefix != "" {
		if n = n.GetChild(tree.CameraDirName); n == nil {
			return nil
		}
	}
	var names []string
	for p := o; p != nil && p.Kind != tree.KindRoot; p = p.Parent() {
		names = append(names, p.Name)
	}
	for i := len(names) - 1; i >= 0 && n != nil; i-- {
		n = n.GetChild(names[i])
	}
	return n
}

// rebuildRenamed builds the renamed tree again after changes, shows the
// new tree and tells the kernel what changed in it. It returns the trees
// before and after.
func (f *filesystem) rebuildRenamed() (old, nt *renamed.Tree) {
	v := f.ren
	v.mu.Lock()
	defer v.mu.Unlock()
	old = v.tree.Load()
	nt = old.Renamer().Rebuild(f.tree)
	v.tree.Store(nt)
	for p, od := range old.AllDirs() {
		nd, _ := nt.Dir(p)
		f.renamedDirChanged(p, od, nd)
	}
	for p, nd := range nt.AllDirs() {
		if _, ok := old.Dir(p); !ok {
			f.renamedDirChanged(p, nil, nd)
		}
	}
	return old, nt
}

// renamedDirChanged tells the kernel, if it holds the renamed directory
// at path, what changed between its node in the old tree (od) and in the
// new one (nd); either may be nil (made or taken out by the rebuild).
func (f *filesystem) renamedDirChanged(path string, od, nd *renamed.Node) {
	dir := f.renamedInode(path)
	if dir == nil {
		return // the kernel caches nothing of it
	}
	var oldEntries, newEntries []*renamed.Node
	if od != nil {
		oldEntries = od.Children()
	}
	if nd != nil {
		newEntries = nd.Children()
	}
	changed := (od == nil) != (nd == nil) || (od != nil && (!od.Mtime.Equal(nd.Mtime) || od.Subdirs() != nd.Subdirs()))
	for _, o := range oldEntries {
		var n *renamed.Node
		ok := false
		if nd != nil {
			n, ok = nd.Lookup(o.Name)
		}
		switch {
		case !ok:
			if child := dir.GetChild(o.Name); child != nil {
				dir.NotifyDelete(o.Name, child)
			} else {
				dir.NotifyEntry(o.Name)
			}
			changed = true
		case o.IsDir() != n.IsDir() || o.Object != n.Object:
			dir.NotifyEntry(o.Name) // another object under the name
			changed = true
		}
	}
	for _, n := range newEntries {
		if od == nil {
			dir.NotifyEntry(n.Name)
			changed = true
		} else if _, ok := od.Lookup(n.Name); !ok {
			// The kernel may remember the name as absent.
			dir.NotifyEntry(n.Name)
			changed = true
		}
	}
	if changed {
		// Its listing and attributes (mtime, link count).
		dir.NotifyContent(0, 0)
	}
}

// renamedInode returns the kernel-visible inode of the renamed tree's
// directory at path, or nil when the kernel has not looked it up.
func (f *filesystem) renamedInode(path string) *fs.Inode {
	n := f.root.EmbeddedInode()
	if n.StableAttr().Ino == 0 {
		return nil // not mounted: no kernel to tell
	}
	if path == "" {
		return n
	}
	for _, name := range strings.Split(path, "/") {
		if n = n.GetChild(name); n == nil {
			return nil
		}
	}
	return n
}

// listForRenamed lists what the camera tree has not listed yet (a card put
// in while mounted), on the tree's own context, and builds the renamed
// tree again.
func (f *filesystem) listForRenamed() {
	r := f.ren.tree.Load().Renamer()
	if err := r.ListCard(f.tree.Context(), f.tree); err != nil {
		f.log.Warn("listing a new card for the renamed tree failed; its files show under /.camera", "err", err)
		return
	}
	f.rebuildRenamed()
}
