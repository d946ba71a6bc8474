package fusefs

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree"
)

// The control directory, /.airnef: reachable by name, not listed at the
// root (design.md), holding:
//
//	stats   camera, session state, serving process, mount time, objects
//	        listed and held, listings in progress, bytes and files read,
//	        cache counters
//	latest  a relative symlink to the newest capture the camera reported
//	        while mounted (reachable by name, not listed; absent before
//	        one)
type ctlDirNode struct {
	fs.Inode
	fsys *filesystem
}

// ctlFileNode is a generated text file; its content is made at open.
type ctlFileNode struct {
	fs.Inode
	fsys    *filesystem
	name    string
	content func() []byte
}

// ctlHandle is an open control file: the content as it was at open.
type ctlHandle struct{ data []byte }

const (
	ctlStats  = "stats"
	ctlLatest = "latest"
)

// ctlLinkNode is /.airnef/latest: its target is read at each readlink.
type ctlLinkNode struct {
	fs.Inode
	fsys *filesystem
}

func (f *filesystem) controlDir(ctx context.Context, parent *fs.Inode, out *fuse.EntryOut) *fs.Inode {
	f.ctlAttr(controlIno(tree.ControlDirName), true, 0, &out.Attr)
	return parent.NewInode(ctx, &ctlDirNode{fsys: f}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: controlIno(tree.ControlDirName)})
}

func (f *filesystem) ctlAttr(ino uint64, dir bool, size int, out *fuse.Attr) {
	out.Ino = ino
	out.Uid, out.Gid = f.uid, f.gid
	out.SetTimes(&f.started, &f.started, &f.started)
	if dir {
		out.Mode = syscall.S_IFDIR | 0o555
		out.Nlink = 2
		out.Size = 4096
		return
	}
	out.Mode = syscall.S_IFREG | 0o444
	out.Nlink = 1
	out.Size = uint64(size)
}

// ctlFiles are the control directory's entries, sorted.
var ctlFiles = []string{ctlStats}

func (d *ctlDirNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fsys.ctlAttr(controlIno(tree.ControlDirName), true, 0, &out.Attr)
	return 0
}

func (d *ctlDirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	var content func() []byte
	switch name {
	case ctlStats:
		content = d.fsys.statsText
	case ctlLatest:
		target, ok := d.fsys.latestTarget()
		if !ok {
			return nil, syscall.ENOENT
		}
		ino := controlIno(tree.ControlDirName + "/" + name)
		d.fsys.linkAttr(ino, target, &out.Attr)
		out.SetAttrTimeout(0)
		out.SetEntryTimeout(0)
		return d.NewInode(ctx, &ctlLinkNode{fsys: d.fsys}, fs.StableAttr{Mode: syscall.S_IFLNK, Ino: ino}), 0
	default:
		return nil, syscall.ENOENT
	}
	n := &ctlFileNode{fsys: d.fsys, name: name, content: content}
	ino := controlIno(tree.ControlDirName + "/" + name)
	d.fsys.ctlAttr(ino, false, len(content()), &out.Attr)
	out.SetAttrTimeout(0)
	out.SetEntryTimeout(0)
	return d.NewInode(ctx, n, fs.StableAttr{Mode: syscall.S_IFREG, Ino: ino}), 0
}

func (d *ctlDirNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	entries := make([]fuse.DirEntry, len(ctlFiles))
	for i, name := range ctlFiles {
		entries[i] = fuse.DirEntry{Name: name, Mode: syscall.S_IFREG, Ino: controlIno(tree.ControlDirName + "/" + name)}
	}
	return fs.NewListDirStream(entries), 0
}

func (n *ctlFileNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	size := 0
	if h, ok := f.(*ctlHandle); ok {
		size = len(h.data)
	} else {
		size = len(n.content())
	}
	n.fsys.ctlAttr(controlIno(tree.ControlDirName+"/"+n.name), false, size, &out.Attr)
	out.SetTimeout(0)
	return 0
}

// Open snapshots the content; direct I/O, because the size changes between
// opens and the kernel must not serve an old copy.
func (n *ctlFileNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&writeFlags != 0 {
		return nil, 0, syscall.EROFS
	}
	return &ctlHandle{data: n.content()}, fuse.FOPEN_DIRECT_IO, 0
}

func (n *ctlFileNode) Read(ctx context.Context, f fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h, ok := f.(*ctlHandle)
	if !ok {
		return nil, syscall.EBADF
	}
	if off >= int64(len(h.data)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(dest)), int64(len(h.data)))
	return fuse.ReadResultData(h.data[off:end]), 0
}

func (n *ctlFileNode) Write(ctx context.Context, f fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}

func (n *ctlFileNode) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

// latestTarget is /.airnef/latest's target: the newest capture's path
// relative to /.airnef.
func (f *filesystem) latestTarget() (string, bool) {
	p := f.latest.Load()
	if p == nil {
		return "", false
	}
	return "../" + *p, true
}

func (f *filesystem) linkAttr(ino uint64, target string, out *fuse.Attr) {
	out.Ino = ino
	out.Uid, out.Gid = f.uid, f.gid
	out.SetTimes(&f.started, &f.started, &f.started)
	out.Mode = syscall.S_IFLNK | 0o777
	out.Nlink = 1
	out.Size = uint64(len(target))
}

func (n *ctlLinkNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	target, ok := n.fsys.latestTarget()
	if !ok {
		return nil, syscall.ENOENT
	}
	return []byte(target), 0
}

func (n *ctlLinkNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	target, _ := n.fsys.latestTarget()
	n.fsys.linkAttr(controlIno(tree.ControlDirName+"/"+ctlLatest), target, &out.Attr)
	out.SetTimeout(0)
	return 0
}

// statsText is /.airnef/stats: one "name value" line per counter. Values
// holding camera strings are made printable (mtp.Printable): a camera
// cannot forge a line or send a terminal escape.
func (f *filesystem) statsText() []byte {
	var b strings.Builder
	if f.status != nil {
		fmt.Fprintf(&b, "session %s\n", mtp.Printable(f.status()))
	}
	if f.camera != (tree.CameraID{}) {
		fmt.Fprintf(&b, "camera_make %s\ncamera_model %s\ncamera_serial %s\n",
			mtp.Printable(f.camera.Make), mtp.Printable(f.camera.Model), mtp.Printable(f.camera.Serial))
	}
	fmt.Fprintf(&b, "pid %d\n", os.Getpid())
	fmt.Fprintf(&b, "mounted_at %s\n", f.started.Format(time.RFC3339))
	fmt.Fprintf(&b, "uptime_seconds %d\n", int64(time.Since(f.started).Seconds()))
	fmt.Fprintf(&b, "goroutines %d\n", runtime.NumGoroutine())
	b.WriteString(memStats())
	fmt.Fprintf(&b, "objects_listed %d\n", f.tree.ObjectsListed())
	objects, _, _ := f.tree.Held()
	fmt.Fprintf(&b, "objects %d\n", objects)
	lp := f.tree.Listing()
	fmt.Fprintf(&b, "listing_folders %d\nlisting_done %d\nlisting_known %d\nlisting_left_seconds %d\n",
		lp.Folders, lp.Done, lp.Known, int64(lp.Left.Seconds()))
	fmt.Fprintf(&b, "files_read %d\n", f.served.Files())
	fmt.Fprintf(&b, "bytes_served %d\n", f.served.Bytes())
	if f.cache != nil {
		b.WriteString(f.cache.Stats().String())
	}
	if f.moreStats != nil {
		b.WriteString(f.moreStats())
	}
	return []byte(b.String())
}

// memSamples are the runtime's memory figures in the stats: the heap that
// was live at the end of the last GC (what a leak grows), the heap now
// (live plus garbage not collected yet: up to about twice the live heap
// with GOGC=100), and the memory the runtime holds from the OS.
var memSamples = []struct{ name, metric string }{
	{"heap_live_bytes", "/gc/heap/live:bytes"},
	{"heap_bytes", "/memory/classes/heap/objects:bytes"},
	{"runtime_bytes", "/memory/classes/total:bytes"},
	{"gc_cycles", "/gc/cycles/total:gc-cycles"},
}

// memStats is the memSamples lines, read without stopping the world.
func memStats() string {
	samples := make([]metrics.Sample, len(memSamples))
	for i, m := range memSamples {
		samples[i].Name = m.metric
	}
	metrics.Read(samples)
	var b strings.Builder
	for i, m := range memSamples {
		if samples[i].Value.Kind() == metrics.KindUint64 {
			fmt.Fprintf(&b, "%s %d\n", m.name, samples[i].Value.Uint64())
		}
	}
	return b.String()
}
