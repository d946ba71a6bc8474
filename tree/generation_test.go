package tree

import (
	"context"
	"errors"
	"testing"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// A file deleted on the camera and its name taken by a new capture: the
// new object is of the next generation, the cache keys it apart, and the
// old object's cache key no longer reads anything.
func TestGenerationReusedName(t *testing.T) {
	c := treetest.Sample()
	events := make(chan mtp.Event, 4)
	tr, changes := watchTree(t, c, WatchConfig{Events: events})
	old := walk(t, tr, "SD", "DCIM", "100NIKON", "DSC_0001.JPG")
	if old.gen != 0 || cacheID(old) != old.Ino {
		t.Fatalf("first object: generation %d, cache ID %#x (inode %#x)", old.gen, cacheID(old), old.Ino)
	}
	src := tr.Source()
	ctx := context.Background()

	c.Mu.Lock()
	delete(c.Objects, old.Handle)
	h := c.Add(0x00010001, walk(t, tr, "SD", "DCIM", "100NIKON").Handle, "DSC_0001.JPG", false, []byte("a new picture"), "20240320T101010", "")
	c.Mu.Unlock()
	events <- mtp.Event{Code: mtp.EventObjectRemoved, Params: []uint32{old.Handle}}
	events <- mtp.Event{Code: mtp.EventObjectAdded, Params: []uint32{h}}
	if ch := nextChange(t, changes); !ch.Removed || ch.Obj != old {
		t.Fatalf("first change %+v, want the removal", ch)
	}
	ch := nextChange(t, changes)
	o := ch.Obj
	if ch.Removed || o.Path() != old.Path() || o.Ino != old.Ino {
		t.Fatalf("second change %+v at %q, want the new file at the old place", ch, o.Path())
	}
	if o.gen != 1 || cacheID(o) == cacheID(old) {
		t.Errorf("new object: generation %d, cache ID %#x, old's %#x", o.gen, cacheID(o), cacheID(old))
	}
	buf := make([]byte, o.Size)
	if n, err := src.Fetch(ctx, CacheObject(o), 0, buf); err != nil || string(buf[:n]) != "a new picture" {
		t.Errorf("fetch of the new object: %q, %v", buf[:n], err)
	}
	if _, err := src.Fetch(ctx, CacheObject(old), 0, make([]byte, old.Size)); !errors.Is(err, ErrNotFound) {
		t.Errorf("fetch of the deleted object: %v, want ErrNotFound", err)
	}

	// Taken out again: the generation after it is 2.
	c.Mu.Lock()
	delete(c.Objects, h)
	h2 := c.Add(0x00010001, walk(t, tr, "SD", "DCIM", "100NIKON").Handle, "DSC_0001.JPG", false, []byte("third one"), "20240321T101010", "")
	c.Mu.Unlock()
	events <- mtp.Event{Code: mtp.EventObjectRemoved, Params: []uint32{h}}
	events <- mtp.Event{Code: mtp.EventObjectAdded, Params: []uint32{h2}}
	nextChange(t, changes)
	if o3 := nextChange(t, changes).Obj; o3.gen != 2 || cacheID(o3) == cacheID(o) {
		t.Errorf("third object: generation %d", o3.gen)
	}
	if _, err := src.Fetch(ctx, CacheObject(o), 0, make([]byte, o.Size)); !errors.Is(err, ErrNotFound) {
		t.Errorf("fetch of the second, deleted object: %v, want ErrNotFound", err)
	}
}
