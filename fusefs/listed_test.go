package fusefs

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"

	"github.com/airnef-mount/airnef-mount/cache"
	"github.com/airnef-mount/airnef-mount/renamed"
	"github.com/airnef-mount/airnef-mount/tree"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// listedRecorder records what the Listed hook is told.
type listedRecorder struct {
	mu    sync.Mutex
	paths []string
}

func (r *listedRecorder) listed(files []ListedFile) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range files {
		if f.Object == nil || f.Object.Kind != tree.KindFile {
			panic("Listed told of a non-file")
		}
		r.paths = append(r.paths, f.Path)
	}
}

func (r *listedRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.paths
	r.paths = nil
	slices.Sort(p)
	return p
}

func TestListedHookAndStats(t *testing.T) {
	tr := newTestTree(t, treetest.Sample())
	ch, err := cache.New(cache.Config{Size: 16 * cache.BlockUnit, BlockSize: cache.BlockUnit}, tr.Source())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	rec := &listedRecorder{}
	served := new(tree.Served)
	rootNode := NewRoot(Config{
		Tree: tr, Cache: ch, Logger: treetest.Logger(t), Listed: rec.listed, Served: served,
		Camera:    tree.NewCameraID("Nikon Corporation", "D7200", "0035551323"),
		MoreStats: func() string { return "thumbnails_made 7\n" },
	})
	fs.NewNodeFS(rootNode, &fs.Options{})
	root := rootNode.(*dirNode)

	readdir(t, root)
	if got := rec.take(); len(got) != 0 {
		t.Errorf("the root (storages only) reported files %q", got)
	}
	sd := lookupDir(t, root, "SD")
	f100 := lookupDir(t, lookupDir(t, sd, "DCIM"), "100NIKON")
	readdir(t, f100)
	want := []string{"SD/DCIM/100NIKON/DSC_0001.JPG", "SD/DCIM/100NIKON/DSC_0002.JPG", "SD/DCIM/100NIKON/DSC_0003.JPG", "SD/DCIM/100NIKON/a_b (2).JPG", "SD/DCIM/100NIKON/a_b.JPG"}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Errorf("listed %q, want %q", got, want)
	}

	fileIn, _ := lookup(t, f100, "DSC_0001.JPG")
	b := readAll(t, fileIn.Operations())
	readAll(t, fileIn.Operations()) // the same file again: one file, twice the bytes
	if served.Files() != 1 || served.Bytes() != int64(2*len(b)) {
		t.Errorf("served %d files, %d bytes; want 1 file, %d bytes", served.Files(), served.Bytes(), 2*len(b))
	}

	text := root.fsys.statsText()
	for _, w := range []string{"camera_make Nikon\n", "camera_model D7200\n", "camera_serial 35551323\n",
		"files_read 1\n", "bytes_served 26\n", "thumbnails_made 7\n", "mounted_at " + root.fsys.started.Format(time.RFC3339) + "\n"} {
		if !bytes.Contains(text, []byte(w)) {
			t.Errorf("stats lack %q:\n%s", w, text)
		}
	}
}

// Under a renamed tree the hook gets the renamed paths, and the camera
// tree's files under .camera/.
func TestListedHookRenamed(t *testing.T) {
	tr := newTestTree(t, treetest.Sample())
	ch, err := cache.New(cache.Config{Size: 16 * cache.BlockUnit, BlockSize: cache.BlockUnit}, tr.Source())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	r := renamed.NewRenamer(renamed.Config{FileSpec: mustSpec(t, "@cameramodel@_@filename@", true), Camera: renameTestCamera, Logger: treetest.Logger(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt, err := r.Build(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	rec := &listedRecorder{}
	rootNode := NewRenamedRoot(Config{Tree: tr, Cache: ch, Logger: treetest.Logger(t), Listed: rec.listed}, rt)
	fs.NewNodeFS(rootNode, &fs.Options{})
	root := rootNode.(*renDirNode)

	sdIn, _ := lookup(t, root, "SD")
	dcimIn, _ := lookup(t, sdIn.Operations().(*renDirNode), "DCIM")
	f100In, _ := lookup(t, dcimIn.Operations().(*renDirNode), "100NIKON")
	names := readdir(t, f100In.Operations().(*renDirNode))
	got := rec.take()
	if len(got) == 0 || len(got) != len(names) {
		t.Fatalf("listed %q for entries %q", got, names)
	}
	for _, p := range got {
		if !strings.HasPrefix(p, "SD/DCIM/100NIKON/D7200_") {
			t.Errorf("renamed file reported as %q", p)
		}
	}

	camIn, _ := lookup(t, root, tree.CameraDirName)
	cam := camIn.Operations().(*cameraRootNode)
	f := lookupDir(t, lookupDir(t, lookupDir(t, &cam.dirNode, "SD"), "DCIM"), "100NIKON")
	readdir(t, f)
	for _, p := range rec.take() {
		if !strings.HasPrefix(p, ".camera/SD/DCIM/100NIKON/") {
			t.Errorf("camera file under a renamed mount reported as %q", p)
		}
	}
}
