package fusefs

import (
	"bytes"
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/airnef-mount/airnef-mount/cache"
	"github.com/airnef-mount/airnef-mount/tree"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// newTestRoot builds the node tree over c without mounting: go-fuse's
// NodeFS initialises the root so that its methods can be called directly.
func newTestRoot(t *testing.T, c tree.Camera) (*dirNode, *cache.Cache) {
	t.Helper()
	tr := newTestTree(t, c)
	ch, err := cache.New(cache.Config{Size: 16 * cache.BlockUnit, BlockSize: cache.BlockUnit}, tr.Source())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	root := NewRoot(Config{Tree: tr, Cache: ch, Status: func() string { return "connected TEST" }, Logger: treetest.Logger(t)})
	fs.NewNodeFS(root, &fs.Options{})
	return root.(*dirNode), ch
}

func lookup(t *testing.T, d fs.NodeLookuper, name string) (*fs.Inode, *fuse.EntryOut) {
	t.Helper()
	var out fuse.EntryOut
	in, errno := d.Lookup(context.Background(), name, &out)
	if errno != 0 {
		t.Fatalf("lookup %q: %v", name, errno)
	}
	return in, &out
}

func readdir(t *testing.T, d fs.NodeReaddirer) []string {
	t.Helper()
	s, errno := d.Readdir(context.Background())
	if errno != 0 {
		t.Fatalf("readdir: %v", errno)
	}
	var names []string
	for s.HasNext() {
		e, errno := s.Next()
		if errno != 0 {
			t.Fatal(errno)
		}
		names = append(names, e.Name)
	}
	return names
}

func TestNodes(t *testing.T) {
	ctx := context.Background()
	root, _ := newTestRoot(t, treetest.Sample())

	if got := strings.Join(readdir(t, root), ","); got != "SD,card3" {
		t.Fatalf("root lists %q; the control directory must stay hidden", got)
	}
	sdIn, out := lookup(t, root, "SD")
	if out.Attr.Mode != dirMode || out.Attr.Nlink == 0 || out.Attr.Ino != sdIn.StableAttr().Ino {
		t.Errorf("SD attr: %+v", out.Attr)
	}
	sd := sdIn.Operations().(*dirNode)
	dcim := lookupDir(t, sd, "DCIM")
	f100 := lookupDir(t, dcim, "100NIKON")
	fileIn, fout := lookup(t, f100, "DSC_0001.JPG")
	a := fout.Attr
	if a.Mode != fileMode || a.Size != uint64(len("first picture")) || a.Nlink != 1 ||
		a.Mtime != uint64(time.Date(2024, 3, 15, 14, 30, 25, 0, time.UTC).Unix()) {
		t.Errorf("file attr: %+v", a)
	}
	var dattr fuse.AttrOut
	if errno := f100.Getattr(ctx, nil, &dattr); errno != 0 || dattr.Nlink != 2 {
		t.Errorf("listed folder without subfolders: Nlink %d (%v), want 2", dattr.Nlink, errno)
	}
	if _, errno := f100.Lookup(ctx, "nope.JPG", &fuse.EntryOut{}); errno != syscall.ENOENT {
		t.Errorf("lookup of a missing name: %v, want ENOENT", errno)
	}

	file := fileIn.Operations().(*fileNode)
	for _, fl := range []int{syscall.O_WRONLY, syscall.O_RDWR, syscall.O_RDONLY | syscall.O_TRUNC, syscall.O_WRONLY | syscall.O_APPEND} {
		if _, _, errno := file.Open(ctx, uint32(fl)); errno != syscall.EROFS {
			t.Errorf("open with flags %#x: %v, want EROFS", fl, errno)
		}
	}
	fh, flags, errno := file.Open(ctx, syscall.O_RDONLY)
	if errno != 0 || flags&fuse.FOPEN_KEEP_CACHE == 0 {
		t.Fatalf("open: flags %#x, %v", flags, errno)
	}
	buf := make([]byte, 100)
	res, errno := file.Read(ctx, fh, buf, 6)
	if errno != 0 {
		t.Fatal(errno)
	}
	if got, _ := res.Bytes(make([]byte, 100)); string(got) != "picture" {
		t.Errorf("read at 6 = %q", got)
	}
	res, errno = file.Read(ctx, fh, buf, 1000)
	if got, _ := res.Bytes(make([]byte, 100)); errno != 0 || len(got) != 0 {
		t.Errorf("read past the end = %q, %v; want empty, no error", got, errno)
	}

	// Every write-ish operation is refused.
	if _, errno := file.Write(ctx, fh, []byte("x"), 0); errno != syscall.EROFS {
		t.Errorf("write: %v", errno)
	}
	if errno := file.Setattr(ctx, fh, &fuse.SetAttrIn{}, &fuse.AttrOut{}); errno != syscall.EROFS {
		t.Errorf("setattr: %v", errno)
	}
	if _, errno := f100.Mkdir(ctx, "x", 0o755, &fuse.EntryOut{}); errno != syscall.EROFS {
		t.Errorf("mkdir: %v", errno)
	}
	if _, _, _, errno := f100.Create(ctx, "x", 0, 0o644, &fuse.EntryOut{}); errno != syscall.EROFS {
		t.Errorf("create: %v", errno)
	}
	if errno := f100.Unlink(ctx, "DSC_0001.JPG"); errno != syscall.EROFS {
		t.Errorf("unlink: %v", errno)
	}
	if errno := f100.Rename(ctx, "DSC_0001.JPG", f100, "y", 0); errno != syscall.EROFS {
		t.Errorf("rename: %v", errno)
	}

	var st fuse.StatfsOut
	if errno := root.Statfs(ctx, &st); errno != 0 || st.Blocks*uint64(st.Bsize) != 96<<30 || st.Bfree*uint64(st.Bsize) != 11<<30 {
		t.Errorf("statfs: %+v, %v", st, errno)
	}

	// The control directory: reachable by name.
	ctlIn, _ := lookup(t, root, tree.ControlDirName)
	ctl := ctlIn.Operations().(*ctlDirNode)
	if got := readdir(t, ctl); len(got) != 1 || got[0] != "stats" {
		t.Errorf(".airnef lists %q", got)
	}
	statsIn, _ := lookup(t, ctl, "stats")
	stats := statsIn.Operations().(*ctlFileNode)
	sh, sflags, errno := stats.Open(ctx, syscall.O_RDONLY)
	if errno != 0 || sflags&fuse.FOPEN_DIRECT_IO == 0 {
		t.Fatalf("open stats: %#x %v", sflags, errno)
	}
	res, _ = stats.Read(ctx, sh, make([]byte, 4096), 0)
	text, _ := res.Bytes(nil)
	for _, want := range []string{"session connected TEST\n", "objects_listed 8\n", "bytes_from_camera 13\n", "misses 1\n"} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("stats lack %q:\n%s", want, text)
		}
	}
}

func lookupDir(t *testing.T, d *dirNode, name string) *dirNode {
	t.Helper()
	in, _ := lookup(t, d, name)
	return in.Operations().(*dirNode)
}

// With the camera gone, listed folders and cached blocks still answer;
// the rest fails with EIO.
func TestNodesCameraGone(t *testing.T) {
	ctx := context.Background()
	c := treetest.Sample()
	root, _ := newTestRoot(t, c)
	sd := lookupDir(t, root, "SD")
	dcim := lookupDir(t, sd, "DCIM")
	f100 := lookupDir(t, dcim, "100NIKON")
	fileIn, _ := lookup(t, f100, "DSC_0001.JPG")
	file := fileIn.Operations().(*fileNode)
	fh, _, _ := file.Open(ctx, syscall.O_RDONLY)
	if _, errno := file.Read(ctx, fh, make([]byte, 4), 0); errno != 0 {
		t.Fatal(errno)
	}
	c.Mu.Lock()
	c.Fail = treetest.ErrBroken
	c.Mu.Unlock()
	if got := readdir(t, f100); len(got) != 5 {
		t.Errorf("listed folder with the camera gone: %q", got)
	}
	res, errno := file.Read(ctx, fh, make([]byte, 4), 2)
	if got, _ := res.Bytes(nil); errno != 0 || string(got) != "rst " {
		t.Errorf("cached read with the camera gone: %q, %v", got, errno)
	}
	card3 := lookupDir(t, root, "card3")
	if _, errno := card3.Readdir(ctx); errno != syscall.EIO {
		t.Errorf("unlisted folder with the camera gone: %v, want EIO", errno)
	}
	otherIn, _ := lookup(t, f100, "DSC_0002.JPG")
	other := otherIn.Operations().(*fileNode)
	oh, _, _ := other.Open(ctx, syscall.O_RDONLY)
	if _, errno := other.Read(ctx, oh, make([]byte, 4), 0); errno != syscall.EIO {
		t.Errorf("uncached read with the camera gone: %v, want EIO", errno)
	}
}
