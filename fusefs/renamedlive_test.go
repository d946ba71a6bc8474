package fusefs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/renamed"
	"github.com/airnef-mount/airnef-mount/tree"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// While mounted with renaming, a new capture gets a renamed path, which
// OnNew and /.airnef/latest give, and the directories the kernel holds
// answer from the new tree; a deletion takes it out and clears latest.
func TestRenamedFollowsChanges(t *testing.T) {
	c := treetest.RenameSample()
	root, news, events := renamedLive(t, c, "@dlnum@_@filename@")
	allDir := &renDirNode{fsys: root.fsys, path: "all"} // as the kernel would hold it
	n, _ := allDir.node()
	before := len(n.Children())

	f101 := treetest.FindHandle(t, c, 0x00010001, "101NIKON")
	c.Mu.Lock()
	h := c.Add(0x00010001, f101, "DSC_0009.NEF", false, []byte("nine"), "20200101T000000", "")
	c.Mu.Unlock()
	events <- mtp.Event{Code: mtp.EventObjectAdded, Params: []uint32{h}}
	var got string
	select {
	case got = <-news:
	case <-time.After(watchBound):
		t.Fatal("OnNew not told")
	}
	if want := "all/0007_DSC_0009.NEF"; got != want {
		t.Errorf("OnNew got %q, want %q", got, want)
	}
	if target, ok := root.fsys.latestTarget(); !ok || target != "../all/0007_DSC_0009.NEF" {
		t.Errorf("latest -> %q %v", target, ok)
	}
	n, _ = allDir.node()
	if len(n.Children()) != before+1 {
		t.Errorf("the held directory lists %d entries, want %d", len(n.Children()), before+1)
	}
	if _, ok := n.Lookup("0007_DSC_0009.NEF"); !ok {
		t.Error("the held directory does not find the new capture")
	}

	c.Mu.Lock()
	delete(c.Objects, h)
	c.Mu.Unlock()
	events <- mtp.Event{Code: mtp.EventObjectRemoved, Params: []uint32{h}}
	deadline := time.Now().Add(watchBound)
	for {
		n, _ = allDir.node()
		_, listed := n.Lookup("0007_DSC_0009.NEF")
		target, latest := root.fsys.latestTarget()
		if !listed && !latest {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the deletion: still listed %v, latest -> %q", listed, target)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(n.Children()) != before {
		t.Errorf("%d entries after the deletion, want %d", len(n.Children()), before)
	}
}

// A folder deleted on the camera takes latest with it when the newest
// capture was in it.
func TestRenamedFolderDeletedClearsLatest(t *testing.T) {
	c := treetest.RenameSample()
	root, news, events := renamedLive(t, c, "@dlnum@_@filename@")

	f101 := treetest.FindHandle(t, c, 0x00010001, "101NIKON")
	c.Mu.Lock()
	h := c.Add(0x00010001, f101, "DSC_0009.NEF", false, []byte("nine"), "20200101T000000", "")
	c.Mu.Unlock()
	events <- mtp.Event{Code: mtp.EventObjectAdded, Params: []uint32{h}}
	select {
	case <-news:
	case <-time.After(watchBound):
		t.Fatal("OnNew not told")
	}
	if _, ok := root.fsys.latestTarget(); !ok {
		t.Fatal("no latest after the capture")
	}
	c.Mu.Lock()
	for oh, o := range c.Objects {
		if oh == f101 || o.Info.ParentObject == f101 {
			delete(c.Objects, oh)
		}
	}
	c.Mu.Unlock()
	events <- mtp.Event{Code: mtp.EventObjectRemoved, Params: []uint32{f101}}
	for deadline := time.Now().Add(watchBound); ; time.Sleep(10 * time.Millisecond) {
		target, latest := root.fsys.latestTarget()
		if !latest {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("latest -> %q after its folder was deleted", target)
		}
	}
}

// A card put in while mounted shows its files in the renamed tree.
func TestRenamedCardInserted(t *testing.T) {
	c := treetest.RenameSample()
	c.Mu.Lock()
	c.IDs = c.IDs[:1] // the second card is not in yet
	card2 := c.Storages[0x00020001]
	delete(c.Storages, 0x00020001)
	c.Mu.Unlock()
	root, _, events := renamedLive(t, c, "@filename@")

	c.Mu.Lock()
	c.IDs = append(c.IDs, 0x00020001)
	c.Storages[0x00020001] = card2
	c.Mu.Unlock()
	events <- mtp.Event{Code: mtp.EventStoreAdded, Params: []uint32{0x00020001}}
	for deadline := time.Now().Add(watchBound); ; time.Sleep(10 * time.Millisecond) {
		files := renameFiles(root.fsys.ren.tree.Load())
		if files["all/A_B.JPG"] != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new card's files are not in the renamed tree: %v", files)
		}
	}
}

// renamedLive builds the renamed tree (dirs "all", files fileSpec) of c's
// tree and its root, which tells OnNew on news, and watches the tree for
// the events sent on events until the test ends.
func renamedLive(t *testing.T, c *treetest.Camera, fileSpec string) (*renDirNode, chan string, chan mtp.Event) {
	t.Helper()
	tr := newTestTree(t, c)
	r := renamed.NewRenamer(renamed.Config{
		DirSpec: mustSpec(t, "all", false), FileSpec: mustSpec(t, fileSpec, true),
		Camera: renameTestCamera, Logger: treetest.Logger(t),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt, err := r.Build(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	news := make(chan string, 4)
	root := NewRenamedRoot(Config{Tree: tr, Logger: treetest.Logger(t), OnNew: func(p string) { news <- p }}, rt).(*renDirNode)
	events := make(chan mtp.Event, 2)
	wctx, wcancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { tr.Watch(wctx, tree.WatchConfig{Events: events}) })
	t.Cleanup(func() { wcancel(); wg.Wait() })
	return root, news, events
}
