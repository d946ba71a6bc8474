package tree

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

var metaTestCam = CameraID{Model: "D7200", Serial: "0012345"}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// metaTree is a tree of c with the metadata cache of metaTestCam in dir.
func metaTree(t *testing.T, c Camera, dir string, log *slog.Logger) (*Tree, *MetaCache) {
	t.Helper()
	m := OpenMetaCache(dir, metaTestCam, 0, log)
	tr := New(c, Config{Location: time.UTC, Logger: log, Meta: m})
	t.Cleanup(tr.Close)
	return tr, m
}

func resetCounts(c *treetest.Camera) {
	c.HandleCalls.Store(0)
	c.InfoCalls.Store(0)
	c.StorageCalls.Store(0)
	c.SizeCalls.Store(0)
	c.ReadCalls.Store(0)
}

// handleOf is the handle of the object called name (the first found).
func handleOf(t *testing.T, c *treetest.Camera, name string) uint32 {
	t.Helper()
	for h := uint32(1); h < c.Next; h++ {
		if o, ok := c.Objects[h]; ok && o.Info.Filename == name {
			return h
		}
	}
	t.Fatalf("no object %q", name)
	return 0
}

// sampleFolders is how many directories of treetest.Sample are listed with
// GetObjectHandles on a remount: the two storages' top levels, DCIM,
// DCIM/100NIKON and 2024-03-15.
const sampleFolders = 5

// cameras runs f with treetest.Sample plain (one GetObjectInfo per object)
// and with GetObjectPropList.
func cameras(t *testing.T, f func(t *testing.T, fc *treetest.Camera, c Camera, props func() int64)) {
	t.Run("per object", func(t *testing.T) {
		fc := treetest.Sample()
		f(t, fc, fc, func() int64 { return 0 })
	})
	t.Run("prop list", func(t *testing.T) {
		pc := newPropCamera(treetest.Sample())
		f(t, pc.Camera, pc, pc.propCalls.Load)
	})
}

// Cold: the tree is listed from the camera and the cache saved at Close.
// Remount of the same card: one GetObjectHandles per folder and nothing
// else, and the same tree (names, sizes, mtimes, inode numbers).
func TestMetaCacheRemount(t *testing.T) {
	want := sampleSnapshot(t)
	cameras(t, func(t *testing.T, fc *treetest.Camera, c Camera, props func() int64) {
		dir := t.TempDir()
		tr, m := metaTree(t, c, dir, treetest.Logger(t))
		sameLines(t, snapshot(t, tr), want)
		if _, err := os.Stat(m.Path()); err == nil {
			t.Fatal("saved before the listings settled or the tree closed")
		}
		tr.Close()
		if _, err := os.Stat(m.Path()); err != nil {
			t.Fatalf("not saved at Close: %v", err)
		}
		resetCounts(fc)
		p0 := props()
		tr2, _ := metaTree(t, c, dir, treetest.Logger(t))
		sameLines(t, snapshot(t, tr2), want)
		if n := fc.HandleCalls.Load(); n != sampleFolders {
			t.Errorf("%d GetObjectHandles, want %d (one per folder)", n, sampleFolders)
		}
		if n, s, p := fc.InfoCalls.Load(), fc.SizeCalls.Load(), props()-p0; n+s+p != 0 {
			t.Errorf("%d GetObjectInfo, %d ObjectSize, %d GetObjectPropList on a remount, want none", n, s, p)
		}
		// Read through the remounted tree: the cached handles are right.
		o := walk(t, tr2, "SD", "DCIM", "100NIKON", "DSC_0001.JPG")
		buf := make([]byte, 64)
		n, err := tr2.ReadAt(context.Background(), o, 0, buf)
		if err != nil || string(buf[:n]) != "first picture" {
			t.Fatalf("read %q, %v", buf[:n], err)
		}
	})
}

// A file added to one folder: only that folder is described again.
func TestMetaCacheFolderChanged(t *testing.T) {
	cameras(t, func(t *testing.T, fc *treetest.Camera, c Camera, props func() int64) {
		dir := t.TempDir()
		tr, _ := metaTree(t, c, dir, treetest.Logger(t))
		snapshot(t, tr)
		tr.Close()
		f100 := handleOf(t, fc, "100NIKON")
		fc.Add(0x00010001, f100, "DSC_0004.JPG", false, []byte("fourth"), "20240317T090000", "")
		resetCounts(fc)
		p0 := props()
		tr2, _ := metaTree(t, c, dir, treetest.Logger(t))
		got := snapshot(t, tr2)
		if n := fc.HandleCalls.Load(); n != sampleFolders {
			t.Errorf("%d GetObjectHandles, want %d", n, sampleFolders)
		}
		// 100NIKON holds 6 objects now: described one by one, or by
		// one property list.
		wantInfos, wantProps := int64(6), int64(0)
		if _, ok := c.(FolderDescriber); ok {
			wantInfos, wantProps = 0, 1
		}
		if n, p := fc.InfoCalls.Load(), props()-p0; n != wantInfos || p != wantProps {
			t.Errorf("%d GetObjectInfo, %d GetObjectPropList; want %d, %d (100NIKON only)", n, p, wantInfos, wantProps)
		}
		sameLines(t, got, snapshot(t, newTestTree(t, fc)))
		if !slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "SD/DCIM/100NIKON/DSC_0004.JPG ") }) {
			t.Fatalf("new file not listed:\n%s", strings.Join(got, "\n"))
		}
	})
}

// The card changed (its free space): each reused folder costs one
// GetObjectInfo more, of its last object, and is reused when it agrees.
func TestMetaCacheSpotCheck(t *testing.T) {
	want := sampleSnapshot(t)
	dir := t.TempDir()
	fc := treetest.Sample()
	tr, _ := metaTree(t, fc, dir, treetest.Logger(t))
	snapshot(t, tr)
	tr.Close()
	fc.Storages[0x00010001].FreeSpaceInBytes -= 6 << 20
	fc.Storages[0x00010001].FreeSpaceInImages--
	resetCounts(fc)
	tr2, _ := metaTree(t, fc, dir, treetest.Logger(t))
	sameLines(t, snapshot(t, tr2), want)
	// SD's top level, DCIM and 100NIKON are checked; 2024-03-15 is
	// empty, and card3's storage did not change.
	if n := fc.InfoCalls.Load(); n != 3 {
		t.Errorf("%d GetObjectInfo, want 3 spot checks", n)
	}
}

// A camera that numbered the objects of a folder differently in this
// session, with the same set of handles, on a card that changed: the spot
// check sees it and the folder is listed again, so every name reads its
// own bytes.
func TestMetaCacheRenumbered(t *testing.T) {
	cameras(t, func(t *testing.T, fc *treetest.Camera, c Camera, props func() int64) {
		dir := t.TempDir()
		tr, _ := metaTree(t, c, dir, treetest.Logger(t))
		snapshot(t, tr)
		tr.Close()
		// Rotate the handles of 100NIKON's files.
		f100 := handleOf(t, fc, "100NIKON")
		var hs []uint32
		for h, o := range fc.Objects {
			if o.Info.ParentObject == f100 {
				hs = append(hs, h)
			}
		}
		slices.Sort(hs)
		old := map[uint32]*treetest.Object{}
		for _, h := range hs {
			old[h] = fc.Objects[h]
		}
		for i, h := range hs {
			fc.Objects[h] = old[hs[(i+1)%len(hs)]]
		}
		fc.Storages[0x00010001].FreeSpaceInBytes -= 6 << 20
		resetCounts(fc)
		tr2, _ := metaTree(t, c, dir, treetest.Logger(t))
		snapshot(t, tr2)
		nikon := walk(t, tr2, "SD", "DCIM", "100NIKON")
		kids, err := tr2.List(context.Background(), nikon)
		if err != nil {
			t.Fatal(err)
		}
		ft := newTestTree(t, fc)
		fresh := mustList(t, ft, walk(t, ft, "SD", "DCIM", "100NIKON"))
		if !slices.Equal(names(kids), names(fresh)) {
			t.Fatalf("100NIKON = %q, want %q", names(kids), names(fresh))
		}
		for i, k := range kids {
			if got, want := readHead(t, tr2, k), readHead(t, ft, fresh[i]); !bytes.Equal(got, want) {
				t.Errorf("%s reads %q, want %q", k.Name, got, want)
			}
		}
	})
}

// readHead reads the first 64 bytes of o, an object of tr.
func readHead(t *testing.T, tr *Tree, o *Object) []byte {
	t.Helper()
	buf := make([]byte, 64)
	n, err := tr.ReadAt(context.Background(), o, 0, buf)
	if err != nil {
		t.Fatalf("read %s: %v", o.Path(), err)
	}
	return buf[:n]
}

// A corrupt file, one of another version, and one of another camera are
// each ignored with one warning; the card is listed from the camera and
// the file replaced by a good one.
func TestMetaCacheBadFile(t *testing.T) {
	want := sampleSnapshot(t)
	for name, content := range map[string]string{
		"corrupt":       `{"version": 1, "folders": [{"slot": 1, "handles": [1, 2`,
		"empty":         ``,
		"other version": `{"version": 99, "model": "D7200", "serial": "0012345"}`,
		"other camera":  `{"version": 1, "model": "D750", "serial": "0012345", "folders": []}`,
		"null folder":   `{"version": 1, "model": "D7200", "serial": "0012345", "folders": [null]}`,
		"object not listed": `{"version": 1, "model": "D7200", "serial": "0012345", "folders": [
			{"slot": 1, "path": [], "handles": [1], "objects": [{"h": 2, "n": "X.JPG", "z": 1, "k": true}]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "metadata-D7200-0012345.json")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			var logs treetest.SyncBuffer
			fc := treetest.Sample()
			tr, m := metaTree(t, fc, dir, slogTo(&logs))
			if m.Path() != path {
				t.Fatalf("cache file %s, want %s", m.Path(), path)
			}
			sameLines(t, snapshot(t, tr), want)
			tr.Close()
			if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
				t.Fatalf("%d warnings, want 1:\n%s", n, logs.String())
			}
			resetCounts(fc)
			tr2, _ := metaTree(t, fc, dir, treetest.Logger(t))
			sameLines(t, snapshot(t, tr2), want)
			if n := fc.InfoCalls.Load(); n != 0 {
				t.Fatalf("the replaced file is not used: %d GetObjectInfo", n)
			}
		})
	}
}

// The file is saved a little after the listings settle, without waiting
// for Close; it can be deleted at any time.
func TestMetaCacheSavedAfterListing(t *testing.T) {
	dir := t.TempDir()
	fc := treetest.Sample()
	m := OpenMetaCache(dir, metaTestCam, 0, treetest.Logger(t))
	m.saveDelay = 20 * time.Millisecond
	tr := New(fc, Config{Location: time.UTC, Meta: m})
	t.Cleanup(tr.Close)
	snapshot(t, tr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(m.Path()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not saved 10 s after the last listing")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.Remove(m.Path()); err != nil {
		t.Fatal(err)
	}
	fc.Add(0x00010001, handleOf(t, fc, "2024-03-15"), "DSC_0009.JPG", false, []byte("x"), "", "")
	tr2, _ := metaTree(t, fc, dir, treetest.Logger(t))
	if got := names(mustList(t, tr2, walk(t, tr2, "SD", "2024-03-15"))); !slices.Equal(got, []string{"DSC_0009.JPG"}) {
		t.Fatalf("2024-03-15 = %q after the cache was deleted", got)
	}
}

// The file holds at most maxObjects descriptions.
func TestMetaCacheBounded(t *testing.T) {
	dir := t.TempDir()
	fc := treetest.Sample()
	m := OpenMetaCache(dir, metaTestCam, 4, nil)
	tr := New(fc, Config{Location: time.UTC, Meta: m})
	snapshot(t, tr)
	tr.Close()
	b, err := os.ReadFile(m.Path())
	if err != nil {
		t.Fatal(err)
	}
	var f metaFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, rec := range f.Folders {
		total += len(rec.Objects)
	}
	if total == 0 || total > 4 {
		t.Fatalf("file holds %d objects, want 1..4", total)
	}
	if len(f.Storages) != 2 || f.Storages[0].Fingerprint.Capacity != 32<<30 {
		t.Fatalf("storages %+v", f.Storages)
	}
}

// The spot check compares dates as times: a camera may write one date
// differently in GetObjectInfo and in a property list.
func TestSameDate(t *testing.T) {
	tr := newTestTree(t, treetest.New())
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"20240315T120000", "20240315T120000.0", true},
		{"20240315T120000", "20240315T120001", false},
		{"", "", true},
		{"garbage", "garbage", true},
		{"garbage", "", false},
	} {
		if got := tr.sameDate(c.a, c.b); got != c.same {
			t.Errorf("sameDate(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

// A reconnect re-lists the tree through the cache too: a new session with
// other handles is listed from the camera, the same one from the cache.
func TestMetaCacheReconnect(t *testing.T) {
	ctx := context.Background()
	tr, _ := metaTree(t, reconnectCard(1, ""), t.TempDir(), treetest.Logger(t))
	a := walk(t, tr, "SD", "DCIM", "100MSDCF", "A.ARW")
	mustList(t, tr, walk(t, tr, "SD", "DCIM", "100MSDCF"))

	same := reconnectCard(1, "")
	tr.Disconnect()
	if err := tr.Reconnect(ctx, same); err != nil {
		t.Fatal(err)
	}
	if n := same.InfoCalls.Load(); n != 0 {
		t.Errorf("reconnect to the same card: %d GetObjectInfo, want 0", n)
	}

	other := reconnectCard(100, "B.ARW")
	tr.Disconnect()
	if err := tr.Reconnect(ctx, other); err != nil {
		t.Fatal(err)
	}
	if n := other.InfoCalls.Load(); n == 0 {
		t.Error("reconnect to renumbered handles was not listed from the camera")
	}
	if got := names(mustList(t, tr, walk(t, tr, "SD", "DCIM", "100MSDCF"))); !slices.Equal(got, []string{"A.ARW", "C.ARW"}) {
		t.Fatalf("100MSDCF = %q after the reconnect", got)
	}
	buf := make([]byte, 4)
	if n, err := tr.ReadAt(ctx, a, 0, buf); err != nil || string(buf[:n]) != "aaaa" {
		t.Fatalf("A.ARW reads %q, %v", buf[:n], err)
	}
}

// A folder with an object the camera refused to describe is not kept in
// the metadata cache: the next mount asks for it again (a Nikon Z answers
// AccessDenied until the photo is marked for upload).
func TestMetaCacheRefusedNotKept(t *testing.T) {
	fc := treetest.Sample()
	h := handleOf(t, fc, "DSC_0001.JPG")
	c := &refusingCamera{Camera: fc, infoErr: map[uint32]error{h: mtp.RespAccessDenied}}
	dir := t.TempDir()
	tr, _ := metaTree(t, c, dir, treetest.Logger(t))
	list := func(tr *Tree) []string {
		children, err := tr.List(context.Background(), walk(t, tr, "SD", "DCIM", "100NIKON"))
		if err != nil {
			t.Fatal(err)
		}
		return names(children)
	}
	if got := list(tr); slices.Contains(got, "DSC_0001.JPG") {
		t.Fatalf("100NIKON holds %q with DSC_0001.JPG refused", got)
	}
	tr.Close()
	delete(c.infoErr, h) // marked for upload
	tr2, _ := metaTree(t, c, dir, treetest.Logger(t))
	if got := list(tr2); !slices.Contains(got, "DSC_0001.JPG") {
		t.Errorf("after a remount 100NIKON holds %q: the refused object was not asked again", got)
	}
}
