package fusefs

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/airnef-mount/airnef-mount/cache"
	"github.com/airnef-mount/airnef-mount/renamed"
	"github.com/airnef-mount/airnef-mount/tree"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// newRenamedTestRoot builds the renamed mount's nodes over c without
// mounting.
func newRenamedTestRoot(t *testing.T, c tree.Camera, dir, file string) *renDirNode {
	t.Helper()
	tr := newTestTree(t, c)
	ch, err := cache.New(cache.Config{Size: 16 * cache.BlockUnit, BlockSize: cache.BlockUnit}, tr.Source())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	r := renamed.NewRenamer(renamed.Config{
		DirSpec: mustSpec(t, dir, false), FileSpec: mustSpec(t, file, true), Camera: renameTestCamera, Logger: treetest.Logger(t),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt, err := r.Build(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	root := NewRenamedRoot(Config{Tree: tr, Cache: ch, Logger: treetest.Logger(t)}, rt)
	fs.NewNodeFS(root, &fs.Options{})
	return root.(*renDirNode)
}

func readAll(t *testing.T, n fs.InodeEmbedder) []byte {
	t.Helper()
	ctx := context.Background()
	fh, flags, errno := n.(fs.NodeOpener).Open(ctx, syscall.O_RDONLY)
	if errno != 0 || flags&fuse.FOPEN_KEEP_CACHE == 0 {
		t.Fatalf("open: %v, flags %#x", errno, flags)
	}
	buf := make([]byte, 1<<16)
	res, errno := n.(fs.NodeReader).Read(ctx, fh, buf, 0)
	if errno != 0 {
		t.Fatalf("read: %v", errno)
	}
	b, _ := res.Bytes(buf)
	return b
}

// The renamed root lists the renamed tree only; /.camera and /.airnef are
// found by name; a renamed file has its own inode number, the camera
// file's size and mtime, and its bytes, read through the same cache as
// the camera tree's file.
func TestRenamedNodes(t *testing.T) {
	ctx := context.Background()
	c := treetest.RenameSample()
	root := newRenamedTestRoot(t, c, "@capturedate_y@/@capturedate@", "@cameramodel@_@filename@")

	if got := readdir(t, root); !slices.Equal(got, []string{"1970", "2015"}) {
		t.Fatalf("root lists %q; .camera and .airnef must stay hidden", got)
	}
	var rattr fuse.AttrOut
	if errno := root.Getattr(ctx, nil, &rattr); errno != 0 || rattr.Ino != tree.RootIno || rattr.Nlink != 4 || rattr.Mode != dirMode {
		t.Errorf("root attr %+v, %v", rattr.Attr, errno)
	}

	yIn, yout := lookup(t, root, "2015")
	if yout.Attr.Mode != dirMode || yout.Attr.Nlink != 5 || yout.Attr.Ino != yIn.StableAttr().Ino ||
		yout.Attr.Mtime != uint64(time.Date(2015, 9, 25, 0, 0, 0, 0, time.UTC).Unix()) {
		t.Errorf("2015 attr: %+v", yout.Attr)
	}
	dayIn, _ := lookup(t, yIn.Operations().(*renDirNode), "20150924")
	day := dayIn.Operations().(*renDirNode)
	if got := readdir(t, day); !slices.Equal(got, []string{"D7200_DSC_0001 (2).NEF", "D7200_DSC_0001.NEF", "D7200_DSC_0002.NEF"}) {
		t.Errorf("20150924 lists %q", got)
	}
	fIn, fout := lookup(t, day, "D7200_DSC_0001 (2).NEF")
	a := fout.Attr
	if a.Mode != fileMode || a.Size != uint64(len("one in 101")) || a.Nlink != 1 ||
		a.Mtime != uint64(time.Date(2015, 9, 24, 14, 5, 13, 0, time.UTC).Unix()) || a.Ino != fIn.StableAttr().Ino {
		t.Errorf("file attr: %+v", a)
	}
	var gattr fuse.AttrOut
	if errno := fIn.Operations().(fs.NodeGetattrer).Getattr(ctx, nil, &gattr); errno != 0 || gattr.Ino != a.Ino || gattr.Size != a.Size {
		t.Errorf("getattr %+v, lookup %+v", gattr.Attr, a)
	}
	if _, errno := day.Lookup(ctx, "nope", &fuse.EntryOut{}); errno != syscall.ENOENT {
		t.Errorf("lookup of a missing name: %v", errno)
	}
	if got := string(readAll(t, fIn.Operations())); got != "one in 101" {
		t.Errorf("renamed file reads %q", got)
	}
	reads := c.ReadCalls.Load()

	// The camera tree at /.camera, with the same file, from the cache.
	camIn, camOut := lookup(t, root, ".camera")
	if camOut.Attr.Mode != dirMode || camOut.Attr.Ino == tree.RootIno || camOut.Attr.Ino != camIn.StableAttr().Ino {
		t.Errorf("/.camera attr %+v", camOut.Attr)
	}
	var cattr fuse.AttrOut
	if errno := camIn.Operations().(fs.NodeGetattrer).Getattr(ctx, nil, &cattr); errno != 0 || cattr.Ino != camIn.StableAttr().Ino {
		t.Errorf("/.camera getattr %+v", cattr.Attr)
	}
	cam := camIn.Operations().(*cameraRootNode)
	if got := readdir(t, cam); !slices.Equal(got, []string{"SD", "SD2"}) {
		t.Errorf("/.camera lists %q", got)
	}
	sdIn, _ := lookup(t, cam, "SD")
	dcimIn, _ := lookup(t, sdIn.Operations().(*dirNode), "DCIM")
	f101In, _ := lookup(t, dcimIn.Operations().(*dirNode), "101NIKON")
	camFileIn, camFileOut := lookup(t, f101In.Operations().(*dirNode), "DSC_0001.NEF")
	if camFileOut.Attr.Ino == a.Ino || camFileOut.Attr.Size != a.Size || camFileOut.Attr.Mtime != a.Mtime {
		t.Errorf("camera file attr %+v vs renamed %+v", camFileOut.Attr, a)
	}
	if got := string(readAll(t, camFileIn.Operations())); got != "one in 101" {
		t.Errorf("camera file reads %q", got)
	}
	if c.ReadCalls.Load() != reads {
		t.Errorf("reading the camera file after the renamed one asked the camera again: the cache is not shared")
	}

	if _, out := lookup(t, root, tree.ControlDirName); out.Attr.Mode&syscall.S_IFDIR == 0 {
		t.Errorf("/.airnef attr %+v", out.Attr)
	}

	// Read-only.
	if _, errno := root.Mkdir(ctx, "x", 0o755, &fuse.EntryOut{}); errno != syscall.EROFS {
		t.Errorf("mkdir: %v", errno)
	}
	if _, _, errno := fIn.Operations().(fs.NodeOpener).Open(ctx, syscall.O_WRONLY); errno != syscall.EROFS {
		t.Errorf("open for writing: %v", errno)
	}
	if errno := day.Unlink(ctx, "D7200_DSC_0002.NEF"); errno != syscall.EROFS {
		t.Errorf("unlink: %v", errno)
	}
}
