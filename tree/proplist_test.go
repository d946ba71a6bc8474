package tree

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
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// propCamera is a treetest.Camera that also describes folders with one
// GetObjectPropList (FolderDescriber), the way an MTP camera does.
type propCamera struct {
	*treetest.Camera
	// everything answers depth 1 with every object of every storage, as
	// libmtp notes some devices do.
	everything bool
	// err, when non-nil, is DescribeFolder's answer.
	err error
	// drop leaves property p of object h out of the list.
	drop map[uint32]mtp.PropCode
	// dropObject leaves these objects out of the list.
	dropObject map[uint32]bool

	propCalls atomic.Int64
}

func newPropCamera(c *treetest.Camera) *propCamera {
	return &propCamera{Camera: c, drop: map[uint32]mtp.PropCode{}}
}

func (c *propCamera) DescribeFolder(ctx context.Context, parent uint32) ([]mtp.ObjectDesc, error) {
	c.propCalls.Add(1)
	c.Mu.Lock()
	block := c.Block
	c.Mu.Unlock()
	if block != nil { // as ObjectHandles: the test releases the answer
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	switch {
	case c.err != nil:
		return nil, c.err
	case c.Fail != nil:
		return nil, c.Fail
	}
	var list []mtp.PropListEntry
	for h := uint32(1); h < c.Next; h++ {
		o, ok := c.Objects[h]
		if !ok || c.Gone[h] || c.dropObject[h] || (!c.everything && o.Info.ParentObject != parent) {
			continue
		}
		size := uint64(o.Info.CompressedSize)
		if size == 0xFFFFFFFF {
			size = o.Size
		}
		for _, e := range []mtp.PropListEntry{
			{Prop: mtp.PropStorageID, DataType: mtp.TypeUint32, Value: uint64(o.Info.StorageID)},
			{Prop: mtp.PropObjectFormat, DataType: mtp.TypeUint16, Value: uint64(o.Info.ObjectFormat)},
			{Prop: mtp.PropObjectSize, DataType: mtp.TypeUint64, Value: size},
			{Prop: mtp.PropObjectFileName, DataType: mtp.TypeString, Str: o.Info.Filename},
			{Prop: mtp.PropDateCreated, DataType: mtp.TypeString, Str: o.Info.CaptureDate},
			{Prop: mtp.PropDateModified, DataType: mtp.TypeString, Str: o.Info.ModificationDate},
			{Prop: mtp.PropParentObject, DataType: mtp.TypeUint32, Value: uint64(o.Info.ParentObject)},
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

// sampleSnapshot is the tree of treetest.Sample listed the old way: one
// GetObjectInfo per object, no cache.
func sampleSnapshot(t *testing.T) []string {
	t.Helper()
	return snapshot(t, newTestTree(t, treetest.Sample()))
}

func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("tree differs:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

// A camera with GetObjectPropList lists each folder with one operation,
// checked by one GetObjectHandles, and no GetObjectInfo, the storages' top
// levels the old way, and the tree is the one the old way lists, file over
// 4 GiB included without an ObjectSize round trip.
func TestTreePropListListing(t *testing.T) {
	want := sampleSnapshot(t)
	c := newPropCamera(treetest.Sample())
	tr := newTestTree(t, c)
	sameLines(t, snapshot(t, tr), want)
	// Folders: DCIM, DCIM/100NIKON, 2024-03-15. Top levels: SD, card3.
	if n := c.propCalls.Load(); n != 3 {
		t.Errorf("%d GetObjectPropList, want 3 (one per folder)", n)
	}
	// The top levels' objects: DCIM, 2024-03-15 and BIG.MOV.
	if n := c.InfoCalls.Load(); n != 3 {
		t.Errorf("%d GetObjectInfo, want 3 (the storages' top levels only)", n)
	}
	if n := c.HandleCalls.Load(); n != 5 {
		t.Errorf("%d GetObjectHandles, want 5 (one per directory)", n)
	}
	if n := c.SizeCalls.Load(); n != 1 {
		t.Errorf("%d ObjectSize, want 1 (BIG.MOV, on a top level listed the old way)", n)
	}
}

// A file over 4 GiB in a folder listed by property list takes its size
// from ObjectSize: no extra round trip.
func TestTreePropListHugeFile(t *testing.T) {
	fc := treetest.New()
	fc.AddStorage(0x00010001, "SD", "", 1<<40, 1<<30)
	dcim := fc.Add(0x00010001, 0, "DCIM", true, nil, "", "")
	big := fc.Add(0x00010001, dcim, "MVI_0001.MOV", false, nil, "20240102T030405", "")
	fc.Objects[big].Info.CompressedSize = 0xFFFFFFFF
	fc.Objects[big].Size = 5<<30 + 3
	c := newPropCamera(fc)
	tr := newTestTree(t, c)
	o := walk(t, tr, "SD", "DCIM", "MVI_0001.MOV")
	if o.Size != 5<<30+3 {
		t.Fatalf("size %d, want %d", o.Size, int64(5<<30+3))
	}
	if n := c.SizeCalls.Load(); n != 0 {
		t.Fatalf("%d ObjectSize round trips, want 0", n)
	}
}

// A camera that answers depth 1 with every object keeps each folder to its
// own entries (belongs, strays), and the tree is the same.
func TestTreePropListEveryObject(t *testing.T) {
	want := sampleSnapshot(t)
	c := newPropCamera(treetest.Sample())
	c.everything = true
	tr := newTestTree(t, c)
	sameLines(t, snapshot(t, tr), want)
}

// An object the list describes without a required property is asked with
// GetObjectInfo, and only that one.
func TestTreePropListIncomplete(t *testing.T) {
	want := sampleSnapshot(t)
	fc := treetest.Sample()
	c := newPropCamera(fc)
	var h uint32
	for k, o := range fc.Objects {
		if o.Info.Filename == "DSC_0002.JPG" {
			h = k
		}
	}
	c.drop[h] = mtp.PropObjectSize
	tr := newTestTree(t, c)
	nikon := walk(t, tr, "SD", "DCIM", "100NIKON")
	before := c.InfoCalls.Load()
	if _, err := tr.List(context.Background(), nikon); err != nil {
		t.Fatal(err)
	}
	if n := c.InfoCalls.Load() - before; n != 1 {
		t.Fatalf("%d GetObjectInfo for 100NIKON, want 1 (DSC_0002.JPG)", n)
	}
	sameLines(t, snapshot(t, tr), want)
}

// A camera refusing GetObjectPropList (a response code) is listed the old
// way, and is not asked again in the session; a camera without it is never
// asked; a transport error fails the listing.
func TestTreePropListFallback(t *testing.T) {
	want := sampleSnapshot(t)
	for name, err := range map[string]error{
		"refused":     fmt.Errorf("get object prop list: %w", mtp.RespSpecByGroupUnsupported),
		"general":     fmt.Errorf("get object prop list: %w", mtp.RespGeneralError),
		"unsupported": fmt.Errorf("describe folder: %w", errors.ErrUnsupported),
	} {
		t.Run(name, func(t *testing.T) {
			c := newPropCamera(treetest.Sample())
			c.err = err
			var logs treetest.SyncBuffer
			tr := New(c, Config{Location: time.UTC, Logger: slogTo(&logs)})
			t.Cleanup(tr.Close)
			sameLines(t, snapshot(t, tr), want)
			if n := c.propCalls.Load(); n != 1 {
				t.Fatalf("%d GetObjectPropList, want 1 (then never again)", n)
			}
			if n := strings.Count(logs.String(), "refused GetObjectPropList"); n > 1 {
				t.Fatalf("refusal logged %d times:\n%s", n, logs.String())
			}
		})
	}
	t.Run("transport error", func(t *testing.T) {
		c := newPropCamera(treetest.Sample())
		c.err = fmt.Errorf("get object prop list: %w", treetest.ErrBroken)
		tr := newTestTree(t, c)
		sd := walk(t, tr, "SD")
		dcim, err := tr.Lookup(context.Background(), sd, "DCIM")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.List(context.Background(), dcim); !errors.Is(err, treetest.ErrBroken) {
			t.Fatalf("err = %v, want the transport's", err)
		}
		if n := c.InfoCalls.Load(); n != 2 {
			t.Fatalf("%d GetObjectInfo, want 2 (SD's top level only): no fallback on a lost session", n)
		}
	})
}

// A size no file can have (beyond 2^63 bytes) leaves the file out instead
// of showing a negative size.
func TestTreePropListImpossibleSize(t *testing.T) {
	fc := treetest.New()
	fc.AddStorage(0x00010001, "SD", "", 1<<40, 1<<30)
	dcim := fc.Add(0x00010001, 0, "DCIM", true, nil, "", "")
	bad := fc.Add(0x00010001, dcim, "BAD.MOV", false, nil, "", "")
	fc.Add(0x00010001, dcim, "GOOD.JPG", false, []byte("good"), "", "")
	fc.Objects[bad].Info.CompressedSize = 0xFFFFFFFF
	fc.Objects[bad].Size = 1<<64 - 1
	tr := newTestTree(t, newPropCamera(fc))
	if got := names(mustList(t, tr, walk(t, tr, "SD", "DCIM"))); !slices.Equal(got, []string{"GOOD.JPG"}) {
		t.Fatalf("DCIM = %q, want only GOOD.JPG", got)
	}
}
