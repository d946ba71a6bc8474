package fusefs

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/airnef-mount/airnef-mount/tree"
)

// Modes (less Config.Umask): the mount is read-only (MS_RDONLY), so the
// write bits only say what a copy of the file should get.
const (
	fileMode = syscall.S_IFREG | 0o644
	dirMode  = syscall.S_IFDIR | 0o755
)

// ioBlockSize is st_blksize, the buffer stdio and Python read with: a page
// trades a few more FUSE round trips (from memory) of such readers for not
// fetching 128 KiB, and the kernel's read-ahead of it, around each seek (at
// 128 KiB a Python seek and 4 KiB read cost 512 KiB). GNU cp and cat read
// 128 KiB or more whatever it says; the cache sizes camera requests itself.
const ioBlockSize = 4096

// dirDateTimeout is how long the kernel keeps the attributes of a folder
// dated by its entries (tree.DirTime): its date changes as more is listed
// or shot, and it is answered from memory.
const dirDateTimeout = time.Second

// dateWait bounds how long a card root's attributes wait for its top
// level's listing (started at mount), which dates it: a copy that stats it
// first then sees the date it will see again.
const dateWait = 2 * time.Second

// fillAttr sets out from object o. Every attribute is set, Nlink and Mtime
// included: tools like find and rsync rely on them. A folder without a date
// of its own has its newest entry's, or the mount's start time until one
// is known: never 1970.
func (f *filesystem) fillAttr(o *tree.Object, out *fuse.Attr) {
	out.Ino = o.Ino
	out.Uid, out.Gid = f.uid, f.gid
	mtime := o.Mtime
	if o.IsDir() {
		var ok bool
		if mtime, ok = f.tree.DirTime(o); !ok {
			mtime = f.started
		}
	}
	out.SetTimes(&mtime, &mtime, &mtime)
	out.Blksize = ioBlockSize
	if o.IsDir() {
		out.Mode = f.dirMode
		out.Size = 4096
		// 2 + subdirectories once known; 1 ("unknown", as btrfs and
		// many FUSE filesystems say) before the folder is listed, so
		// that find does not skip subdirectories on a guess.
		out.Nlink = 1
		if n := f.tree.Subdirs(o); n >= 0 {
			out.Nlink = uint32(2 + n)
		}
		return
	}
	out.Mode = f.fileMode
	out.Nlink = 1
	if f.tree.IsSelected(o) {
		out.Nlink = 2 // in the selection folder too: the same inode
	}
	out.Size = uint64(o.Size)
	out.Blocks = (out.Size + 511) / 512
}

// newChild makes (or finds, by inode number) the inode of child o of
// parent and fills out.
func (f *filesystem) newChild(ctx context.Context, parent *fs.Inode, o *tree.Object, out *fuse.EntryOut) *fs.Inode {
	var node fs.InodeEmbedder
	mode := uint32(syscall.S_IFREG)
	if o.IsDir() {
		node = &dirNode{fsys: f, obj: o}
		mode = syscall.S_IFDIR
	} else {
		node = &fileNode{fsys: f, obj: o}
	}
	f.fillAttr(o, &out.Attr)
	if o.IsDir() && o.DatedByEntries() {
		out.SetAttrTimeout(dirDateTimeout)
	}
	return parent.NewInode(ctx, node, fs.StableAttr{Mode: mode, Ino: o.Ino, Gen: o.Gen()})
}

// awaitDates waits, within dateWait, for what dates dir when it is the
// root or a card root: the top level of each card, which the warm listing
// lists first. A camera that is slow or gone leaves the stand-in date.
func (f *filesystem) awaitDates(ctx context.Context, dir *tree.Object) {
	var cards []*tree.Object
	switch dir.Kind {
	case tree.KindStorage:
		cards = []*tree.Object{dir}
	case tree.KindRoot:
		cards, _ = f.tree.ListedChildren(dir)
	}
	var todo []*tree.Object
	for _, c := range cards {
		if !f.tree.Listed(c) {
			todo = append(todo, c)
		}
	}
	if len(todo) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, dateWait)
	defer cancel()
	for _, c := range todo {
		f.tree.List(ctx, c)
	}
}
