package fusefs

import (
	"github.com/hanwen/go-fuse/v2/fs"
)

// changed is told of each change the camera reported (Tree.Watch): it
// makes the kernel forget what it cached of the directory and the name,
// drops the cached blocks of a deleted file, and for a new file updates
// /.airnef/latest and tells OnNew.
//
// The kernel is told through go-fuse's notify calls, which must not be
// made from inside a FUSE request: changed runs on the watcher's
// goroutine, outside the tree's lock.
func (f *filesystem) changed(c Change) {
	path := f.cameraPrefix + c.Obj.Path()
	if c.Removed {
		if c.Obj.Kind == KindFile && f.cache != nil {
			f.cache.Forget(cacheID(c.Obj))
		}
		if p := f.latest.Load(); p != nil && *p == path {
			f.latest.Store(nil)
		}
	}
	if dir := f.inode(c.Dir); dir != nil {
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
	if !c.Removed && c.Obj.Kind == KindFile {
		f.latest.Store(&path)
		// The kernel may remember /.airnef/latest as absent.
		if root := f.root.EmbeddedInode(); root.StableAttr().Ino != 0 {
			if ctl := root.GetChild(controlDirName); ctl != nil {
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
func (f *filesystem) inode(o *Object) *fs.Inode {
	if f.root == nil {
		return nil
	}
	n := f.root.EmbeddedInode()
	if n.StableAttr().Ino == 0 {
		return nil // not mounted: no kernel to tell
	}
	if f.cameraPrefix != "" {
		if n = n.GetChild(cameraDirName); n == nil {
			return nil
		}
	}
	var names []string
	for p := o; p != nil && p.Kind != KindRoot; p = p.parent {
		names = append(names, p.Name)
	}
	for i := len(names) - 1; i >= 0 && n != nil; i-- {
		n = n.GetChild(names[i])
	}
	return n
}
