package tree

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// eosCamera is a propCamera that also describes folders with Canon EOS
// GetObjectInfoEx (StorageFolderDescriber), through its wire format: it
// offers both one-operation listings, as an EOS 6D does.
type eosCamera struct {
	*propCamera
	// eosErr, when non-nil, is DescribeStorageFolder's answer.
	eosErr error
	// dropEOS leaves these objects out of the answer.
	dropEOS  map[uint32]bool
	eosCalls atomic.Int64
}

func newEOSCamera(c *treetest.Camera) *eosCamera {
	return &eosCamera{propCamera: newPropCamera(c), dropEOS: map[uint32]bool{}}
}

func (c *eosCamera) DescribeStorageFolder(ctx context.Context, storage, parent uint32) ([]mtp.ObjectDesc, error) {
	c.eosCalls.Add(1)
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if c.eosErr != nil {
		return nil, c.eosErr
	}
	if parent == storageRoot {
		parent = 0
	}
	var f mtp.EOSFolder
	for h := uint32(1); h < c.Next; h++ {
		o, ok := c.Objects[h]
		if !ok || c.Gone[h] || c.dropEOS[h] || o.Info.StorageID != storage || o.Info.ParentObject != parent {
			continue
		}
		// One time per object: the capture date, else the modification
		// date, as mtimeOf reads them.
		when, ok := mtp.ParseDate(o.Info.CaptureDate, time.UTC)
		if !ok {
			when, _ = mtp.ParseDate(o.Info.ModificationDate, time.UTC)
		}
		f = append(f, mtp.EOSFolderEntry{Handle: h, StorageID: storage, Format: o.Info.ObjectFormat,
			Size: o.Info.CompressedSize, Name: o.Info.Filename, Terminated: len(o.Info.Filename) < 16, Time: mtp.EOSTime(when)})
	}
	b, err := f.AppendBinary(nil)
	if err != nil {
		return nil, err
	}
	var back mtp.EOSFolder
	if err := back.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return back.Describe(parent), nil
}

// A Canon EOS lists every directory, storages' top levels included, with
// one GetObjectInfoEx each and nothing else (as libgphoto2 does), before
// GetObjectPropList, and the tree is the one the old way lists.
func TestTreeEOSListing(t *testing.T) {
	want := sampleSnapshot(t)
	c := newEOSCamera(treetest.Sample())
	tr := newTestTree(t, c)
	sameLines(t, snapshot(t, tr), want)
	// SD, card3, DCIM, DCIM/100NIKON, 2024-03-15.
	if n := c.eosCalls.Load(); n != 5 {
		t.Errorf("%d GetObjectInfoEx, want 5 (one per directory)", n)
	}
	if n := c.HandleCalls.Load(); n != 0 {
		t.Errorf("%d GetObjectHandles, want none (GetObjectInfoEx is trusted)", n)
	}
	if p, i := c.propCalls.Load(), c.InfoCalls.Load(); p != 0 || i != 0 {
		t.Errorf("%d GetObjectPropList, %d GetObjectInfo, want none", p, i)
	}
	if n := c.SizeCalls.Load(); n != 1 {
		t.Errorf("%d ObjectSize, want 1 (BIG.MOV: 32 bits of size only)", n)
	}
}

// A GetObjectPropList answer that leaves out objects GetObjectHandles
// lists is completed with GetObjectInfo of those (libmtp flags devices
// whose property lists drop objects). GetObjectInfoEx is trusted as it
// stands: what it leaves out is not listed.
func TestTreeListDropsObjects(t *testing.T) {
	want := sampleSnapshot(t)
	for _, method := range []string{"GetObjectInfoEx", "GetObjectPropList"} {
		t.Run(method, func(t *testing.T) {
			fc := treetest.Sample()
			var c Camera
			h := treetest.FindHandle(t, fc, 0x00010001, "DSC_0002.JPG")
			if method == "GetObjectInfoEx" {
				ec := newEOSCamera(fc)
				ec.dropEOS[h] = true
				c = ec
			} else {
				pc := newPropCamera(fc)
				pc.dropObject = map[uint32]bool{h: true}
				c = pc
			}
			var logs treetest.SyncBuffer
			tr := New(c, Config{Location: time.UTC, Logger: slogTo(&logs)})
			t.Cleanup(tr.Close)
			nikon := walk(t, tr, "SD", "DCIM", "100NIKON")
			before := fc.InfoCalls.Load()
			if _, err := tr.List(context.Background(), nikon); err != nil {
				t.Fatal(err)
			}
			if method == "GetObjectInfoEx" {
				if n := fc.InfoCalls.Load() - before; n != 0 {
					t.Errorf("%d GetObjectInfo for 100NIKON, want none", n)
				}
				if _, err := tr.Lookup(context.Background(), nikon, "DSC_0002.JPG"); err == nil {
					t.Error("DSC_0002.JPG listed: GetObjectInfoEx left it out")
				}
				return
			}
			if n := fc.InfoCalls.Load() - before; n != 1 {
				t.Errorf("%d GetObjectInfo for 100NIKON, want 1 (DSC_0002.JPG)", n)
			}
			sameLines(t, snapshot(t, tr), want)
			if !strings.Contains(logs.String(), method+" left out objects GetObjectHandles lists") {
				t.Errorf("no log of the dropped object:\n%s", logs.String())
			}
		})
	}
}

// A Canon refusing GetObjectInfoEx is listed with GetObjectPropList where it
// has it, the old way elsewhere, and is not asked again.
func TestTreeEOSRefused(t *testing.T) {
	want := sampleSnapshot(t)
	c := newEOSCamera(treetest.Sample())
	c.eosErr = fmt.Errorf("get object info ex: %w", mtp.RespOperationNotSupported)
	tr := newTestTree(t, c)
	sameLines(t, snapshot(t, tr), want)
	if n := c.eosCalls.Load(); n != 1 {
		t.Errorf("%d GetObjectInfoEx, want 1 (then never again)", n)
	}
	if n := c.propCalls.Load(); n != 3 {
		t.Errorf("%d GetObjectPropList, want 3 (the folders)", n)
	}
}

// A GetObjectInfoEx answer that is unusable (malformed, too many objects
// for the cap) fails the one-operation listing of its folder only: that
// folder is listed one GetObjectInfo per object, without GetObjectPropList
// (a hostile answer costs its transfer once), and the next folder is asked
// with GetObjectInfoEx again.
func TestTreeEOSUnusable(t *testing.T) {
	for name, err := range map[string]error{
		"malformed":    fmt.Errorf("get object info ex: %w: count beyond the data", mtp.ErrMalformed),
		"many objects": fmt.Errorf("get object info ex: %w: the camera lists 9999999", mtp.ErrTooManyObjects),
	} {
		t.Run(name, func(t *testing.T) {
			want := sampleSnapshot(t)
			c := newEOSCamera(treetest.Sample())
			c.eosErr = err
			tr := newTestTree(t, c)
			sameLines(t, snapshot(t, tr), want)
			if n := c.eosCalls.Load(); n != 5 {
				t.Errorf("%d GetObjectInfoEx, want 5 (each directory asked once)", n)
			}
			if n := c.propCalls.Load(); n != 0 {
				t.Errorf("%d GetObjectPropList, want 0 (the folder is listed the old way)", n)
			}
		})
	}
}

// mismatchCamera reports in ObjectInfo a StorageID the camera does not
// list, as the responder of issue 15 does (camsim --quirk storage-mismatch).
type mismatchCamera struct{ *treetest.Camera }

func (c mismatchCamera) ObjectInfo(ctx context.Context, h uint32) (*mtp.ObjectInfo, error) {
	info, err := c.Camera.ObjectInfo(ctx, h)
	if err == nil {
		info.StorageID++
	}
	return info, err
}

// An object whose StorageID disagrees with the storage it was listed in
// keeps the listing's: the tree is the one a truthful camera gives, and a
// new object reported by an event lands in its folder.
func TestTreeStorageMismatch(t *testing.T) {
	want := sampleSnapshot(t)
	fc := treetest.Sample()
	events := make(chan mtp.Event, 1)
	tr, changes := watchTree(t, mismatchCamera{fc}, WatchConfig{Events: events})
	sameLines(t, snapshot(t, tr), want)
	nikon := treetest.FindHandle(t, fc, 0x00010001, "100NIKON")
	fc.Mu.Lock()
	h := fc.Add(0x00010001, nikon, "DSC_0009.JPG", false, []byte("ninth"), "20240317T101010", "")
	fc.Mu.Unlock()
	events <- mtp.Event{Code: mtp.EventObjectAdded, Params: []uint32{h}}
	ch := nextChange(t, changes)
	if ch.Removed || ch.Obj.Path() != "SD/DCIM/100NIKON/DSC_0009.JPG" {
		t.Fatalf("change %+v at %q", ch, ch.Obj.Path())
	}
}
