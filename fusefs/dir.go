package fusefs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/airnef-mount/airnef-mount/tree"
)

// dirNode is a directory of the camera's tree: the root, a storage or a
// folder. The root also answers lookups of the hidden control directory.
type dirNode struct {
	fs.Inode
	readOnlyDir
	fsys *filesystem
	obj  *tree.Object
}

func (d *dirNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fsys.awaitDates(ctx, d.obj)
	d.fsys.fillAttr(d.obj, &out.Attr)
	if d.obj.DatedByEntries() {
		out.SetTimeout(dirDateTimeout)
	}
	return 0
}

// Lookup finds name in the folder, listing it from the camera the first
// time.
func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if d.obj.Kind == tree.KindRoot && name == tree.ControlDirName {
		return d.fsys.controlDir(ctx, &d.Inode, out), 0
	}
	if d.atMountRoot() && name == tree.SelectionDirName {
		if !d.fsys.selectionShown() {
			return nil, syscall.ENOENT
		}
		return d.fsys.selectionDir(ctx, &d.Inode, out), 0
	}
	o, err := d.fsys.tree.Lookup(userCtx(ctx), d.obj, name)
	if err != nil {
		return nil, d.fsys.errs.errno("lookup", err)
	}
	return d.fsys.newChild(ctx, &d.Inode, o, out), 0
}

// Opendir lists the folder, so that an unreachable camera fails the
// opendir rather than a later readdir.
func (d *dirNode) Opendir(ctx context.Context) syscall.Errno {
	_, err := d.fsys.tree.List(userCtx(ctx), d.obj)
	return d.fsys.errs.errno("opendir", err)
}

// Readdir lists the folder sorted by name. The control directory is not
// listed: `rsync -a` of the mount copies photos only.
func (d *dirNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	children, err := d.fsys.tree.List(userCtx(ctx), d.obj)
	if err != nil {
		return nil, d.fsys.errs.errno("readdir", err)
	}
	entries := make([]fuse.DirEntry, len(children))
	var files []ListedFile
	for i, c := range children {
		mode := uint32(syscall.S_IFREG)
		if c.IsDir() {
			mode = syscall.S_IFDIR
		} else if d.fsys.listed != nil {
			files = append(files, ListedFile{Path: d.fsys.cameraPrefix + c.Path(), Object: c})
		}
		entries[i] = fuse.DirEntry{Name: c.Name, Ino: c.Ino, Mode: mode}
	}
	d.fsys.reportListed(files)
	if d.atMountRoot() {
		entries = d.fsys.withSelection(entries)
	}
	return fs.NewListDirStream(entries), 0
}

// atMountRoot reports whether d is the mount's root (the camera tree's
// root, not /.camera of a renamed mount), where the selection folder is.
func (d *dirNode) atMountRoot() bool {
	return d.obj.Kind == tree.KindRoot && d.fsys.ren == nil
}

// Statfs reports the camera's storages summed, so df shows the card, from
// the last figures the camera sent (tree.Tree.Usage): it never waits for
// the camera.
func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return d.fsys.statfs(ctx, out)
}

func (f *filesystem) statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	u, err := f.tree.Usage(ctx)
	if err != nil {
		return f.errs.errno("statfs", err)
	}
	const bsize = 4096
	out.Bsize = bsize
	out.Frsize = bsize
	out.Blocks = u.Capacity / bsize
	out.Bfree = u.Free / bsize
	out.Bavail = out.Bfree
	// Inodes are the camera's objects, and the free ones the pictures that
	// still fit: df -i reads like the camera's own counter.
	objects, files, bytes := f.tree.Held()
	free := freeImages(u, files, bytes)
	out.Files = uint64(objects) + free
	out.Ffree = free
	out.NameLen = tree.MaxNameLen
	return 0
}

// freeImages is how many more pictures fit on the cards: the cameras'
// figure, else the free space over the mean size of the files listed,
// else 0.
func freeImages(u tree.Usage, files int, bytes int64) uint64 {
	switch {
	case u.FreeImagesKnown:
		return u.FreeImages
	case files > 0 && bytes >= int64(files):
		return u.Free / uint64(bytes/int64(files))
	}
	return 0
}
