package renamed

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// A file keeps its renamed path while mounted: a new capture older than
// the others, which a fresh build would name first, takes the next free
// name instead of the one an existing file has; a deletion renumbers
// nobody. Built from the watched tree's listing, without asking the
// camera.
func TestRenamedRebuildPins(t *testing.T) {
	c := treetest.RenameSample()
	tr := newTestTree(t, c)
	r := NewRenamer(Config{
		DirSpec: mustSpec(t, "all", false), FileSpec: mustSpec(t, "@filename@", true),
		Camera: renameTestCamera, Logger: treetest.Logger(t),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt, err := r.Build(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	// Naming order is capture order: card 2's DSC_0001.NEF is the oldest.
	want := map[string]string{
		"all/DSC_0001.NEF":     "SD2/DCIM/100NIKON/DSC_0001.NEF",
		"all/DSC_0001 (2).NEF": "SD/DCIM/100NIKON/DSC_0001.NEF",
		"all/DSC_0001 (3).NEF": "SD/DCIM/101NIKON/DSC_0001.NEF",
		"all/DSC_0002.NEF":     "SD/DCIM/100NIKON/DSC_0002.NEF",
		"all/NODATE.JPG":       "SD/DCIM/100NIKON/NODATE.JPG",
		"all/A_B.JPG":          `SD2/DCIM/100NIKON/A\B.JPG`,
	}
	if got := renameFiles(rt); !maps.Equal(got, want) {
		t.Fatalf("renamed tree:\n%s\nwant:\n%s", dumpMap(got), dumpMap(want))
	}

	changes := make(chan tree.Change, 16)
	tr.OnChanges(func(cs []tree.Change) {
		for _, ch := range cs {
			changes <- ch
		}
	})
	events := make(chan mtp.Event, 4)
	wctx, wcancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { tr.Watch(wctx, tree.WatchConfig{Events: events}) })
	defer func() { wcancel(); wg.Wait() }()

	// A capture older than every other, in a folder the camera has just
	// made.
	dcim := treetest.FindHandle(t, c, 0x00010001, "DCIM")
	c.Mu.Lock()
	f102 := c.Add(0x00010001, dcim, "102NIKON", true, nil, "", "")
	h := c.Add(0x00010001, f102, "DSC_0001.NEF", false, []byte("oldest"), "20100101T000000", "")
	c.Mu.Unlock()
	infoCalls, handleCalls := c.InfoCalls.Load(), c.HandleCalls.Load()
	events <- mtp.Event{Code: mtp.EventObjectAdded, Params: []uint32{h}}
	nextChange(t, changes)
	nextChange(t, changes)
	before := c.InfoCalls.Load() + c.HandleCalls.Load()
	rt2 := r.Rebuild(tr)
	if n := c.InfoCalls.Load() + c.HandleCalls.Load(); n != before {
		t.Errorf("Rebuild asked the camera %d times", n-before)
	}
	t.Logf("the capture cost %d GetObjectInfo, %d GetObjectHandles", before-c.HandleCalls.Load()-infoCalls, c.HandleCalls.Load()-handleCalls)
	want["all/DSC_0001 (4).NEF"] = "SD/DCIM/102NIKON/DSC_0001.NEF"
	if got := renameFiles(rt2); !maps.Equal(got, want) {
		t.Fatalf("after an older capture:\n%s\nwant:\n%s", dumpMap(got), dumpMap(want))
	}
	o := walk(t, tr, "SD", "DCIM", "102NIKON", "DSC_0001.NEF")
	if n, ok := rt2.File(o); !ok || n.Path() != "all/DSC_0001 (4).NEF" || n.DLNum != 7 {
		t.Errorf("File of the new capture: %+v %v", n, ok)
	}
	if d, ok := rt2.Dir("all"); !ok || len(d.Children()) != 7 {
		t.Errorf("Dir(all): %v %v", d, ok)
	}

	// The file named first goes: the others keep their names.
	gone := treetest.FindHandle(t, c, 0x00020001, "DSC_0001.NEF")
	c.Mu.Lock()
	delete(c.Objects, gone)
	c.Mu.Unlock()
	events <- mtp.Event{Code: mtp.EventObjectRemoved, Params: []uint32{gone}}
	nextChange(t, changes)
	delete(want, "all/DSC_0001.NEF")
	rt3 := r.Rebuild(tr)
	if got := renameFiles(rt3); !maps.Equal(got, want) {
		t.Fatalf("after a deletion:\n%s\nwant:\n%s", dumpMap(got), dumpMap(want))
	}
	// Numbers are kept too.
	for _, n := range rt3.Root().Children()[0].Children() {
		if old, ok := rt2.File(n.Object); !ok || old.DLNum != n.DLNum || old.DLNumLifetime != n.DLNumLifetime || old.Ino != n.Ino {
			t.Errorf("%s: numbers or inode changed", n.Path())
		}
	}
}
