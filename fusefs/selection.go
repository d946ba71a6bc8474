package fusefs

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/airnef-mount/airnef-mount/tree"
)

// selDirNode is /Selected on camera: the photos the user marked on the
// camera (tree.Tree.Selection). Its files are the card tree's own nodes,
// found by inode number, so a photo has one inode in both folders (link
// count 2) and one set of cached blocks. It is shown at the mount's root
// (the renamed one too) only while the camera has a list.
type selDirNode struct {
	fs.Inode
	readOnlyDir
	fsys *filesystem
}

// selIno is the selection folder's inode number.
var selIno = controlIno(tree.SelectionDirName)

// selectionShown reports whether the root shows the selection folder.
func (f *filesystem) selectionShown() bool {
	_, on := f.tree.Selection()
	return on
}

// selectionDir makes (or finds) the selection folder's inode under the
// mount's root.
func (f *filesystem) selectionDir(ctx context.Context, root *fs.Inode, out *fuse.EntryOut) *fs.Inode {
	f.selAttr(&out.Attr)
	return root.NewInode(ctx, &selDirNode{fsys: f}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: selIno})
}

// selAttr is the selection folder's attributes: dated by its newest photo.
func (f *filesystem) selAttr(out *fuse.Attr) {
	entries, _ := f.tree.Selection()
	mtime := f.started
	var newest time.Time
	for _, e := range entries {
		if e.Obj.Mtime.After(newest) {
			newest = e.Obj.Mtime
		}
	}
	if !newest.IsZero() {
		mtime = newest
	}
	out.Ino = selIno
	out.Uid, out.Gid = f.uid, f.gid
	out.SetTimes(&mtime, &mtime, &mtime)
	out.Blksize = ioBlockSize
	out.Mode = f.dirMode
	out.Size = 4096
	out.Nlink = 2
}

// withSelection adds the selection folder, when shown, to the root's
// entries, keeping them sorted by name.
func (f *filesystem) withSelection(entries []fuse.DirEntry) []fuse.DirEntry {
	if !f.selectionShown() {
		return entries
	}
	i := 0
	for i < len(entries) && entries[i].Name < tree.SelectionDirName {
		i++
	}
	e := fuse.DirEntry{Name: tree.SelectionDirName, Ino: selIno, Mode: syscall.S_IFDIR}
	return append(entries[:i], append([]fuse.DirEntry{e}, entries[i:]...)...)
}

func (d *selDirNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fsys.selAttr(&out.Attr)
	out.SetTimeout(dirDateTimeout)
	return 0
}

// Lookup finds a marked photo: the card tree's file node.
func (d *selDirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	o, ok := d.fsys.tree.SelectionLookup(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	return d.fsys.newChild(ctx, &d.Inode, o, out), 0
}

// Readdir lists the marked photos sorted by name.
func (d *selDirNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	sel, _ := d.fsys.tree.Selection()
	entries := make([]fuse.DirEntry, len(sel))
	var files []ListedFile
	for i, e := range sel {
		entries[i] = fuse.DirEntry{Name: e.Name, Ino: e.Obj.Ino, Mode: syscall.S_IFREG}
		if d.fsys.listed != nil {
			files = append(files, ListedFile{Path: tree.SelectionDirName + "/" + e.Name, Object: e.Obj})
		}
	}
	d.fsys.reportListed(files)
	return fs.NewListDirStream(entries), 0
}

func (d *selDirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return d.fsys.statfs(ctx, out)
}

// selectionChanged is told of the selection's changes
// (tree.Tree.OnSelection): the kernel forgets the folder's name when it
// comes or goes, the names that changed in it, and the attributes (link
// count) of the photos marked or unmarked. It runs on the watcher's
// goroutine, outside any FUSE request.
func (f *filesystem) selectionChanged(before, after []tree.Selected, wasOn, isOn bool) {
	if f.root == nil {
		return
	}
	root := f.root.EmbeddedInode()
	if root.StableAttr().Ino == 0 {
		return // not mounted: no kernel to tell
	}
	dir := root.GetChild(tree.SelectionDirName)
	if wasOn != isOn {
		if dir != nil && !isOn {
			root.NotifyDelete(tree.SelectionDirName, dir)
		} else {
			root.NotifyEntry(tree.SelectionDirName)
		}
	}
	now := map[string]*tree.Object{}
	for _, e := range after {
		now[e.Name] = e.Obj
	}
	was := map[string]*tree.Object{}
	for _, e := range before {
		was[e.Name] = e.Obj
		if dir == nil || now[e.Name] == e.Obj {
			continue
		}
		if child := dir.GetChild(e.Name); child != nil && now[e.Name] == nil {
			dir.NotifyDelete(e.Name, child)
		} else {
			dir.NotifyEntry(e.Name)
		}
	}
	if dir != nil {
		for _, e := range after {
			if was[e.Name] == nil {
				dir.NotifyEntry(e.Name) // the kernel may remember it as absent
			}
		}
		dir.NotifyContent(0, 0)
	}
	// The link count of a photo marked or unmarked: attributes only (a
	// negative offset), its cached pages stay.
	marked := map[*tree.Object]bool{}
	for _, e := range after {
		marked[e.Obj] = true
	}
	for _, e := range before {
		if !marked[e.Obj] {
			f.notifyAttr(e.Obj)
		}
		delete(marked, e.Obj)
	}
	for _, e := range after {
		if marked[e.Obj] {
			f.notifyAttr(e.Obj)
		}
	}
}

// notifyAttr makes the kernel ask again for file o's attributes, if it
// holds its inode.
func (f *filesystem) notifyAttr(o *tree.Object) {
	if dir := f.inode(o.Parent()); dir != nil {
		if n := dir.GetChild(o.Name); n != nil {
			n.NotifyContent(-1, 0)
		}
	}
}
