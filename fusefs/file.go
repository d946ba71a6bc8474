package fusefs

import (
	"context"
	"errors"
	"io"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/airnef-mount/airnef-mount/cache"
	"github.com/airnef-mount/airnef-mount/sched"
	"github.com/airnef-mount/airnef-mount/tree"
)

// fileNode is a file on the camera. Its bytes are read through the block
// cache: never a whole file at once.
type fileNode struct {
	fs.Inode
	fsys *filesystem
	obj  *tree.Object
}

// fileHandle is one open file: a cache reader, which keeps this handle's
// read-ahead window.
type fileHandle struct {
	r *cache.Reader
}

// Release withdraws the handle's queued read-ahead that no other reader
// wants.
func (fh *fileHandle) Release(ctx context.Context) syscall.Errno {
	fh.r.Close()
	return 0
}

// writeFlags are the open flags that would change a file.
const writeFlags = syscall.O_WRONLY | syscall.O_RDWR | syscall.O_TRUNC | syscall.O_APPEND | syscall.O_CREAT

func (n *fileNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.fsys.fillAttr(n.obj, &out.Attr)
	return 0
}

// Open refuses writing and keeps the kernel's page cache across opens:
// an object on the card never changes. The handle's reads are the opening
// process's; a process that copies file after file (tree.ReadOrder) gets
// link-sized requests and the next file prefetched.
func (n *fileNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&writeFlags != 0 {
		return nil, 0, syscall.EROFS
	}
	t, o, order := n.fsys.tree, n.obj, &n.fsys.order
	pid := callerPID(ctx)
	r := n.fsys.cache.NewReader(tree.CacheObject(o))
	r.SetOwner(sched.Owner(pid))
	if order.Opened(t, pid, o) {
		r.SetCopy(func() (cache.Object, bool) { return order.Next(t, pid, o) })
	}
	r.OnFinished(func() { order.Finished(pid, o) })
	return &fileHandle{r: r}, fuse.FOPEN_KEEP_CACHE, 0
}

// callerPID is the process that made the FUSE request of ctx, 0 if unknown.
func callerPID(ctx context.Context) uint32 {
	if c, ok := fuse.FromContext(ctx); ok {
		return c.Pid
	}
	return 0
}

// userCtx is ctx, a FUSE request's, tagged as its process's request that
// a user waits on (sched.User): listings it starts run in that class.
func userCtx(ctx context.Context) context.Context {
	return sched.With(ctx, sched.User, sched.Owner(callerPID(ctx)))
}

// Read reads through the cache. A read at or past the end returns no
// bytes, not an error.
func (n *fileNode) Read(ctx context.Context, f fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	fh, ok := f.(*fileHandle)
	if !ok {
		return nil, syscall.EBADF
	}
	g := n.fsys.gate
	rctx, leave, ok := g.enter(ctx)
	if !ok {
		return nil, syscall.EIO // unmounting
	}
	got, err := fh.r.ReadAt(rctx, dest, off)
	leave()
	if err != nil && !errors.Is(err, io.EOF) {
		if g.aborting() && ctx.Err() == nil {
			return nil, syscall.EIO // aborted by the second stop
		}
		return nil, n.fsys.errs.errno("read", err)
	}
	n.fsys.served.Add(n.obj, got)
	return fuse.ReadResultData(dest[:got]), 0
}

func (n *fileNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return n.fsys.statfs(ctx, out)
}

func (n *fileNode) Write(ctx context.Context, f fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}

func (n *fileNode) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

func (n *fileNode) Allocate(ctx context.Context, f fs.FileHandle, off uint64, size uint64, mode uint32) syscall.Errno {
	return syscall.EROFS
}

func (n *fileNode) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	return syscall.EROFS
}

func (n *fileNode) Removexattr(ctx context.Context, attr string) syscall.Errno { return syscall.EROFS }
