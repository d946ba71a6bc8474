package fusefs

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/airnef-mount/airnef-mount/renamed"
	"github.com/airnef-mount/airnef-mount/tree"
)

// NewRenamedRoot returns the root node of a mount that shows the renamed
// tree rt. The camera tree of cfg.Tree stays reachable at /.camera and the
// control directory at /.airnef; neither is listed. A renamed file is the
// camera's file under another name: it is read through cfg.Cache under
// the camera object's key, so both names share cached blocks.
func NewRenamedRoot(cfg Config, rt *renamed.Tree) fs.InodeEmbedder {
	cam := NewRoot(cfg).(*dirNode)
	cam.fsys.cameraPrefix = tree.CameraDirName + "/"
	cam.fsys.ren = &renamedView{}
	cam.fsys.ren.tree.Store(rt)
	root := &renDirNode{fsys: cam.fsys, last: rt.Root(), camera: cam}
	cam.fsys.root = root
	return root
}

// renamedView is the renamed tree the mount shows now: built again after
// each change the camera reports (filesystem.changed), swapped whole, so
// that a reader sees one tree or the next, never a mix.
type renamedView struct {
	mu   sync.Mutex // one rebuild at a time
	tree atomic.Pointer[renamed.Tree]
}

// renDirNode is a directory of the renamed tree, known by its path: the
// node behind it is the current tree's, so a directory the kernel holds
// follows the rebuilds. Every answer comes from memory.
type renDirNode struct {
	fs.Inode
	readOnlyDir
	fsys *filesystem
	path string        // "" for the top
	last *renamed.Node // the node when looked up: its attributes once gone
	// camera is the camera tree's root, shown at /.camera; set on the
	// root only.
	camera *dirNode
}

// node is the directory in the current tree; false (and the node it was)
// when a rebuild has taken it out.
func (d *renDirNode) node() (*renamed.Node, bool) {
	if n, ok := d.fsys.ren.tree.Load().Dir(d.path); ok {
		return n, true
	}
	return d.last, false
}

// renFileNode is a file of the renamed tree: the camera's file node with
// the renamed entry's inode number.
type renFileNode struct {
	fileNode
	ino uint64
}

// cameraRootNode is the camera tree's root at /.camera: the camera tree's
// root directory under an inode number of its own (the camera tree's root
// is inode 1, which is the renamed root's here).
type cameraRootNode struct {
	dirNode
}

func (f *filesystem) renDirAttr(n *renamed.Node, out *fuse.Attr) {
	out.Ino = n.Ino
	out.Uid, out.Gid = f.uid, f.gid
	out.SetTimes(&n.Mtime, &n.Mtime, &n.Mtime)
	out.Blksize = 128 << 10
	out.Mode = f.dirMode
	out.Size = 4096
	out.Nlink = uint32(2 + n.Subdirs())
}

// newRenChild makes (or finds, by inode number) the inode of entry n of
// parent and fills out.
func (f *filesystem) newRenChild(ctx context.Context, parent *fs.Inode, n *renamed.Node, out *fuse.EntryOut) *fs.Inode {
	if n.IsDir() {
		f.renDirAttr(n, &out.Attr)
		return parent.NewInode(ctx, &renDirNode{fsys: f, path: n.Path(), last: n}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: n.Ino})
	}
	f.fillAttr(n.Object, &out.Attr)
	out.Attr.Ino, out.Attr.Nlink = n.Ino, 1 // its own inode, not the camera file's
	node := &renFileNode{fileNode: fileNode{fsys: f, obj: n.Object}, ino: n.Ino}
	return parent.NewInode(ctx, node, fs.StableAttr{Mode: syscall.S_IFREG, Ino: n.Ino, Gen: n.Object.Gen()})
}

func (d *renDirNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n, _ := d.node()
	d.fsys.renDirAttr(n, &out.Attr)
	return 0
}

// Lookup answers from the renamed tree; at the root also the hidden
// /.airnef and /.camera.
func (d *renDirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if d.camera != nil {
		switch name {
		case tree.ControlDirName:
			return d.fsys.controlDir(ctx, &d.Inode, out), 0
		case tree.SelectionDirName:
			if d.fsys.selectionShown() {
				return d.fsys.selectionDir(ctx, &d.Inode, out), 0
			}
		case tree.CameraDirName:
			ino := controlIno(tree.CameraDirName)
			node := &cameraRootNode{dirNode: dirNode{fsys: d.fsys, obj: d.camera.obj}}
			node.fillAttr(&out.Attr)
			return d.NewInode(ctx, node, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino}), 0
		}
	}
	n, ok := d.node()
	if !ok {
		return nil, syscall.ENOENT
	}
	c, ok := n.Lookup(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	return d.fsys.newRenChild(ctx, &d.Inode, c, out), 0
}

// Readdir lists the directory sorted by name; /.camera and /.airnef are
// not listed.
func (d *renDirNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	var children []*renamed.Node
	if n, ok := d.node(); ok {
		children = n.Children()
	}
	entries := make([]fuse.DirEntry, len(children))
	var files []ListedFile
	for i, c := range children {
		mode := uint32(syscall.S_IFREG)
		if c.IsDir() {
			mode = syscall.S_IFDIR
		} else if d.fsys.listed != nil {
			files = append(files, ListedFile{Path: c.Path(), Object: c.Object})
		}
		entries[i] = fuse.DirEntry{Name: c.Name, Ino: c.Ino, Mode: mode}
	}
	if d.camera != nil {
		entries = d.fsys.withSelection(entries)
	}
	d.fsys.reportListed(files)
	return fs.NewListDirStream(entries), 0
}

func (d *renDirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return d.fsys.statfs(ctx, out)
}

func (n *renFileNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.fsys.fillAttr(n.obj, &out.Attr)
	out.Attr.Ino, out.Attr.Nlink = n.ino, 1
	return 0
}

func (n *cameraRootNode) fillAttr(out *fuse.Attr) {
	n.fsys.fillAttr(n.obj, out)
	out.Ino = controlIno(tree.CameraDirName)
}

func (n *cameraRootNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.fsys.awaitDates(ctx, n.obj)
	n.fillAttr(&out.Attr)
	out.SetTimeout(dirDateTimeout)
	return 0
}
