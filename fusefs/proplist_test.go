package fusefs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// propCamera is a fakeCamera that also describes folders with one
// GetObjectPropList (FolderDescriber), the way an MTP camera does.
type propCamera struct {
	*fakeCamera
	// everything answers depth 1 with every object of every storage, as
	// libmtp notes some devices do.
	everything bool
	// err, when non-nil, is DescribeFolder's answer; topErr is its
	// answer for the top levels (parent 0) only.
	err    error
	topErr error
	// topEmpty answers the top levels with an empty list.
	topEmpty bool
	// drop leaves property p of object h out of the list.
	drop map[uint32]mtp.PropCode

	propCalls atomic.Int64
}

func newPropCamera(c *fakeCamera) *propCamera {
	return &propCamera{fakeCamera: c, drop: map[uint32]mtp.PropCode{}}
}

func (c *propCamera) DescribeFolder(ctx context.Context, parent uint32) ([]mtp.ObjectDesc, error) {
	c.propCalls.Add(1)
	c.mu.Lock()
	block := c.block
	c.mu.Unlock()
	if block != nil { // as ObjectHandles: the test releases the answer
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.err != nil:
		return nil, c.err
	case c.fail != nil:
		return nil, c.fail
	case parent == 0 && c.topErr != nil:
		return nil, c.topErr
	case parent == 0 && c.topEmpty:
		return nil, nil
	}
	var list []mtp.PropListEntry
	for h := uint32(1); h < c.next; h++ {
		o, ok := c.objects[h]
		if !ok || c.gone[h] || (!c.everything && o.info.ParentObject != parent) {
			continue
		}
		size := uint64(o.info.CompressedSize)
		if size == 0xFFFFFFFF {
			size = o.size
		}
		for _, e := range []mtp.PropListEntry{
			{Prop: mtp.PropStorageID, DataType: mtp.TypeUint32, Value: uint64(o.info.StorageID)},
			{Prop: mtp.PropObjectFormat, DataType: mtp.TypeUint16, Value: uint64(o.info.ObjectFormat)},
			{Prop: mtp.PropObjectSize, DataType: mtp.TypeUint64, Value: size},
			{Prop: mtp.PropObjectFileName, DataType: mtp.TypeString, Str: o.info.Filename},
			{Prop: mtp.PropDateCreated, DataType: mtp.TypeString, Str: o.info.CaptureDate},
			{Prop: mtp.PropDateModified, DataType: mtp.TypeString, Str: o.info.ModificationDate},
			{Prop: mtp.PropParentObject, DataType: mtp.TypeUint32, Value: uint64(o.info.ParentObject)},
		} {
			if p, ok := c.drop[h]; ok && p == e.Prop {
				continue
			}
			e.Handle = h
			list = append(list, e)
		}
	}
	// Through the wire format, as a camera sends it.
	b, err := mtp.AppendPropList(nil, list)
	if err != nil {
		return nil, err
	}
	if list, err = mtp.DecodePropList(b); err != nil {
		return nil, err
	}
	return mtp.DescribeObjects(list), nil
}

// snapshot lists the whole tree, one line per object: path, kind, size,
// mtime and inode number.
func snapshot(t *testing.T, tr *Tree) []string {
	t.Helper()
	var out []string
	var rec func(dir *Object)
	rec = func(dir *Object) {
		kids, err := tr.List(context.Background(), dir)
		if err != nil {
			t.Fatalf("list %q: %v", dir.Path(), err)
		}
		for _, k := range kids {
			out = append(out, fmt.Sprintf("%s kind=%d size=%d mtime=%s ino=%#x", k.Path(), k.Kind, k.Size, k.Mtime.UTC().Format(time.RFC3339), k.Ino))
			if k.IsDir() {
				rec(k)
			}
		}
	}
	rec(tr.Root())
	return out
}

// sampleSnapshot is the tree of sampleCamera listed the old way: one
// GetObjectInfo per object, no cache.
func sampleSnapshot(t *testing.T) []string {
	t.Helper()
	return snapshot(t, newTestTree(t, sampleCamera()))
}

func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("tree differs:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

// A camera with GetObjectPropList lists each folder with one operation,
// both storages' top levels with one more (handle 0), no GetObjectInfo,
// and the tree is the one the old way lists, file over 4 GiB included
// without an ObjectSize round trip.
func TestTreePropListListing(t *testing.T) {
	want := sampleSnapshot(t)
	c := newPropCamera(sampleCamera())
	tr := newTestTree(t, c)
	sameLines(t, snapshot(t, tr), want)
	// Top levels: SD and card3 together. Folders: DCIM, DCIM/100NIKON,
	// 2024-03-15.
	if n := c.propCalls.Load(); n != 4 {
		t.Errorf("%d GetObjectPropList, want 4 (the top levels, then one per folder)", n)
	}
	if n := c.infoCalls.Load(); n != 0 {
		t.Errorf("%d GetObjectInfo, want 0", n)
	}
	if n := c.handleCalls.Load(); n != 0 {
		t.Errorf("%d GetObjectHandles, want 0", n)
	}
	if n := c.sizeCalls.Load(); n != 0 {
		t.Errorf("%d ObjectSize, want 0 (BIG.MOV's size is in the list)", n)
	}
}

// A file over 4 GiB in a folder listed by property list takes its size
// from ObjectSize: no extra round trip.
func TestTreePropListHugeFile(t *testing.T) {
	fc := newFakeCamera()
	fc.addStorage(0x00010001, "SD", "", 1<<40, 1<<30)
	dcim := fc.add(0x00010001, 0, "DCIM", true, nil, "", "")
	big := fc.add(0x00010001, dcim, "MVI_0001.MOV", false, nil, "20240102T030405", "")
	fc.objects[big].info.CompressedSize = 0xFFFFFFFF
	fc.objects[big].size = 5<<30 + 3
	c := newPropCamera(fc)
	tr := newTestTree(t, c)
	o := walk(t, tr, "SD", "DCIM", "MVI_0001.MOV")
	if o.Size != 5<<30+3 {
		t.Fatalf("size %d, want %d", o.Size, int64(5<<30+3))
	}
	if n := c.sizeCalls.Load(); n != 0 {
		t.Fatalf("%d ObjectSize round trips, want 0", n)
	}
}

// A camera that answers depth 1 with every object keeps each folder to its
// own entries (belongs, strays), and the tree is the same.
func TestTreePropListEveryObject(t *testing.T) {
	want := sampleSnapshot(t)
	c := newPropCamera(sampleCamera())
	c.everything = true
	tr := newTestTree(t, c)
	sameLines(t, snapshot(t, tr), want)
}

// An object the list describes without a required property is asked with
// GetObjectInfo, and only that one.
func TestTreePropListIncomplete(t *testing.T) {
	want := sampleSnapshot(t)
	fc := sampleCamera()
	c := newPropCamera(fc)
	var h uint32
	for k, o := range fc.objects {
		if o.info.Filename == "DSC_0002.JPG" {
			h = k
		}
	}
	c.drop[h] = mtp.PropObjectSize
	tr := newTestTree(t, c)
	nikon := walk(t, tr, "SD", "DCIM", "100NIKON")
	before := c.infoCalls.Load()
	if _, err := tr.List(context.Background(), nikon); err != nil {
		t.Fatal(err)
	}
	if n := c.infoCalls.Load() - before; n != 1 {
		t.Fatalf("%d GetObjectInfo for 100NIKON, want 1 (DSC_0002.JPG)", n)
	}
	sameLines(t, snapshot(t, tr), want)
}

// A camera refusing GetObjectPropList (a response code) is listed the old
// way, and is not asked again in the session (after the top levels' own
// refusal); a camera without it is never asked; a transport error fails
// the listing.
func TestTreePropListFallback(t *testing.T) {
	want := sampleSnapshot(t)
	for name, tc := range map[string]struct {
		err   error
		calls int64
	}{
		// Handle 0 refused first, then the first folder.
		"refused": {fmt.Errorf("get object prop list: %w", mtp.RespSpecByGroupUnsupported), 2},
		"general": {fmt.Errorf("get object prop list: %w", mtp.RespGeneralError), 2},
		// No round trip: never asked again.
		"unsupported": {fmt.Errorf("describe folder: %w", errors.ErrUnsupported), 1},
	} {
		t.Run(name, func(t *testing.T) {
			c := newPropCamera(sampleCamera())
			c.err = tc.err
			var logs syncBuffer
			tr := NewTree(c, TreeConfig{Location: time.UTC, Logger: slogTo(&logs)})
			t.Cleanup(tr.Close)
			sameLines(t, snapshot(t, tr), want)
			if n := c.propCalls.Load(); n != tc.calls {
				t.Fatalf("%d GetObjectPropList, want %d (then never again)", n, tc.calls)
			}
			if n := strings.Count(logs.String(), "refused GetObjectPropList"); n > 1 {
				t.Fatalf("refusal logged %d times:\n%s", n, logs.String())
			}
		})
	}
	t.Run("transport error", func(t *testing.T) {
		c := newPropCamera(sampleCamera())
		c.err = fmt.Errorf("get object prop list: %w", errBroken)
		tr := newTestTree(t, c)
		sd := walk(t, tr, "SD")
		if _, err := tr.List(context.Background(), sd); !errors.Is(err, errBroken) {
			t.Fatalf("err = %v, want the transport's", err)
		}
		if n := c.infoCalls.Load() + c.handleCalls.Load(); n != 0 {
			t.Fatalf("%d GetObjectInfo and GetObjectHandles: no fallback on a lost session", n)
		}
	})
}

// A size no file can have (beyond 2^63 bytes) leaves the file out instead
// of showing a negative size.
func TestTreePropListImpossibleSize(t *testing.T) {
	fc := newFakeCamera()
	fc.addStorage(0x00010001, "SD", "", 1<<40, 1<<30)
	dcim := fc.add(0x00010001, 0, "DCIM", true, nil, "", "")
	bad := fc.add(0x00010001, dcim, "BAD.MOV", false, nil, "", "")
	fc.add(0x00010001, dcim, "GOOD.JPG", false, []byte("good"), "", "")
	fc.objects[bad].info.CompressedSize = 0xFFFFFFFF
	fc.objects[bad].size = 1<<64 - 1
	tr := newTestTree(t, newPropCamera(fc))
	if got := names(mustList(t, tr, walk(t, tr, "SD", "DCIM"))); !slices.Equal(got, []string{"GOOD.JPG"}) {
		t.Fatalf("DCIM = %q, want only GOOD.JPG", got)
	}
}

// twoCards is a camera with two cards, each with DCIM, a photo in it and
// a file at the top.
func twoCards() *fakeCamera {
	c := newFakeCamera()
	c.addStorage(0x00010001, "A", "", 1<<30, 1<<20)
	c.addStorage(0x00020001, "B", "", 1<<30, 1<<20)
	for _, s := range []uint32{0x00010001, 0x00020001} {
		dcim := c.add(s, 0, "DCIM", true, nil, "", "")
		c.add(s, dcim, "IMG.JPG", false, []byte("photo"), "20240101T000000", "")
		c.add(s, 0, fmt.Sprintf("TOP%d.TXT", s>>16), false, []byte("top"), "", "")
	}
	return c
}

// The storages' top levels are listed with one GetObjectPropList of
// handle 0 for both cards: each keeps its own objects only (StorageID and
// ParentObject), also from a camera that answers with every object of
// every storage, and the tree is the one the old way lists.
func TestTreeTopPropListStorages(t *testing.T) {
	want := snapshot(t, newTestTree(t, twoCards()))
	for _, everything := range []bool{false, true} {
		t.Run(fmt.Sprintf("everything=%v", everything), func(t *testing.T) {
			c := newPropCamera(twoCards())
			c.everything = everything
			tr := newTestTree(t, c)
			for card, top := range map[string][]string{"A": {"DCIM", "TOP1.TXT"}, "B": {"DCIM", "TOP2.TXT"}} {
				if got := names(mustList(t, tr, walk(t, tr, card))); !slices.Equal(got, top) {
					t.Errorf("%s = %q, want %q", card, got, top)
				}
			}
			if n := c.propCalls.Load(); n != 1 {
				t.Errorf("%d GetObjectPropList for both top levels, want 1", n)
			}
			if n := c.infoCalls.Load() + c.handleCalls.Load(); n != 0 {
				t.Errorf("%d GetObjectInfo and GetObjectHandles, want 0", n)
			}
			sameLines(t, snapshot(t, tr), want)
		})
	}
	// The other card's share is used only for a moment: listed later, a
	// top level is asked of the camera.
	t.Run("later", func(t *testing.T) {
		c := newPropCamera(twoCards())
		tr := newTestTree(t, c)
		mustList(t, tr, walk(t, tr, "A"))
		tr.mu.Lock()
		tr.topParts.at = time.Now().Add(-2 * topPartsMaxAge)
		tr.mu.Unlock()
		if got := names(mustList(t, tr, walk(t, tr, "B"))); !slices.Equal(got, []string{"DCIM", "TOP2.TXT"}) {
			t.Errorf("B = %q", got)
		}
		if n := c.propCalls.Load(); n != 2 {
			t.Errorf("%d GetObjectPropList, want 2 (B's share too old)", n)
		}
	})
}

// A top-level answer that cannot be used (refused, empty, without
// StorageIDs) lists the top levels the old way for the rest of the
// session, while folders keep GetObjectPropList; an object described
// incompletely is asked alone.
func TestTreeTopPropListFallback(t *testing.T) {
	want := sampleSnapshot(t)
	for name, tc := range map[string]struct {
		setup             func(c *propCamera)
		props, infos, ghs int64
	}{
		// Top levels: DCIM, 2024-03-15 (SD), BIG.MOV (card3), each
		// with GetObjectInfo (and BIG.MOV's size with ObjectSize).
		"refused": {func(c *propCamera) {
			c.topErr = fmt.Errorf("get object prop list 0: %w", mtp.RespInvalidObjectHandle)
		}, 1 + 3, 3, 2},
		"empty": {func(c *propCamera) { c.topEmpty = true }, 1 + 3, 3, 2},
		"no StorageID": {func(c *propCamera) {
			c.drop[handleOf(t, c.fakeCamera, "DCIM")] = mtp.PropStorageID
		}, 1 + 3, 3, 2},
		// DCIM is asked alone, by each top level's listing: the
		// answer does not tell which card it is on, so card3's top
		// level is asked again too.
		"incomplete": {func(c *propCamera) {
			c.drop[handleOf(t, c.fakeCamera, "DCIM")] = mtp.PropObjectSize
		}, 2 + 3, 2, 0},
	} {
		t.Run(name, func(t *testing.T) {
			c := newPropCamera(sampleCamera())
			tc.setup(c)
			tr := newTestTree(t, c)
			sameLines(t, snapshot(t, tr), want)
			if n := c.propCalls.Load(); n != tc.props {
				t.Errorf("%d GetObjectPropList, want %d", n, tc.props)
			}
			if n := c.infoCalls.Load(); n != tc.infos {
				t.Errorf("%d GetObjectInfo, want %d", n, tc.infos)
			}
			if n := c.handleCalls.Load(); n != tc.ghs {
				t.Errorf("%d GetObjectHandles, want %d", n, tc.ghs)
			}
		})
	}
}

// A top level listed with the storages' property list is recorded in the
// metadata cache with its own handles: a remount checks it with
// GetObjectHandles alone; when it changed, the handles GetObjectHandles
// listed are described from the property list.
func TestTreeTopPropListMetaCache(t *testing.T) {
	fc := sampleCamera()
	c := newPropCamera(fc)
	dir := t.TempDir()
	tr, _ := metaTree(t, c, dir, testLogger(t))
	snapshot(t, tr)
	tr.Close()

	resetCounts(fc)
	c.propCalls.Store(0)
	tr, _ = metaTree(t, c, dir, testLogger(t))
	mustList(t, tr, walk(t, tr, "SD"))
	mustList(t, tr, walk(t, tr, "card3"))
	if n, p, i := fc.handleCalls.Load(), c.propCalls.Load(), fc.infoCalls.Load(); n != 2 || p != 0 || i != 0 {
		t.Errorf("remount: %d GetObjectHandles, %d GetObjectPropList, %d GetObjectInfo; want 2, 0, 0", n, p, i)
	}
	tr.Close()

	fc.add(0x00010001, 0, "NEW.TXT", false, []byte("new"), "", "")
	resetCounts(fc)
	c.propCalls.Store(0)
	tr, _ = metaTree(t, c, dir, testLogger(t))
	if got := names(mustList(t, tr, walk(t, tr, "SD"))); !slices.Equal(got, []string{"2024-03-15", "DCIM", "NEW.TXT"}) {
		t.Errorf("SD after a change = %q", got)
	}
	if n, p, i := fc.handleCalls.Load(), c.propCalls.Load(), fc.infoCalls.Load(); n != 1 || p != 1 || i != 0 {
		t.Errorf("changed top level: %d GetObjectHandles, %d GetObjectPropList, %d GetObjectInfo; want 1, 1, 0", n, p, i)
	}
}
