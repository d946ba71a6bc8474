package tree

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// changePaths reads n changes and returns "+path" or "-path" for each.
func changePaths(t *testing.T, changes <-chan Change, n int) []string {
	t.Helper()
	var got []string
	for range n {
		c := nextChange(t, changes)
		sign := "+"
		if c.Removed {
			sign = "-"
		}
		if c.Obj.parent != c.Dir {
			t.Errorf("change of %q reported in %q", c.Obj.Path(), c.Dir.Path())
		}
		got = append(got, sign+c.Obj.Path())
	}
	return got
}

// A shot in a folder the camera has just made (100NIKON full): the folder
// is added to the listed DCIM, listed at once, and its file reported, for
// each way the camera tells (only the file reported; the folder and then
// the file; nothing, found by diffing DCIM).
func TestWatchNewFolder(t *testing.T) {
	for name, tc := range map[string]struct {
		diff         bool
		reportFolder bool
	}{
		"file event":          {},
		"folder, file events": {reportFolder: true},
		"diffing":             {diff: true},
	} {
		t.Run(name, func(t *testing.T) {
			c := treetest.Sample()
			events := make(chan mtp.Event, 4)
			cfg := WatchConfig{Events: events}
			if tc.diff {
				cfg = WatchConfig{Diff: true, DiffEvery: 10 * time.Millisecond}
			}
			tr, changes := watchTree(t, c, cfg)
			dcim := walk(t, tr, "SD", "DCIM")
			c.Mu.Lock()
			f101 := c.Add(0x00010001, dcim.Handle, "101NIKON", true, nil, "", "")
			h := c.Add(0x00010001, f101, "DSC_0100.JPG", false, []byte("a hundred"), "20240320T101010", "")
			c.Mu.Unlock()
			if !tc.diff {
				if tc.reportFolder {
					events <- mtp.Event{Code: mtp.EventObjectAdded, Params: []uint32{f101}}
				}
				events <- mtp.Event{Code: mtp.EventObjectAdded, Params: []uint32{h}}
			}
			want := []string{"+SD/DCIM/101NIKON", "+SD/DCIM/101NIKON/DSC_0100.JPG"}
			if got := changePaths(t, changes, 2); !equalStrings(got, want) {
				t.Errorf("changes %q, want %q", got, want)
			}
			noChange(t, changes)
			f := walk(t, tr, "SD", "DCIM", "101NIKON", "DSC_0100.JPG")
			buf := make([]byte, 16)
			if n, err := tr.ReadAt(context.Background(), f, 0, buf); err != nil || string(buf[:n]) != "a hundred" {
				t.Errorf("read: %q %v", buf[:n], err)
			}
		})
	}
}

// A shot whose folders the tree has never listed (only the root is): the
// tree walks up from the shot to the storage and lists the folders on the
// way down, not the others, and reports the shot alone.
func TestWatchUnlistedFolders(t *testing.T) {
	c := treetest.Sample()
	tr := newTestTree(t, c)
	mustList(t, tr, tr.Root())
	changes := make(chan Change, 16)
	tr.setNotify(func(ch Change) { changes <- ch })
	events := make(chan mtp.Event, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { tr.Watch(ctx, WatchConfig{Events: events}) })
	t.Cleanup(func() { cancel(); wg.Wait() })

	c.Mu.Lock()
	var f100 uint32
	for h, o := range c.Objects {
		if o.Info.Filename == "100NIKON" {
			f100 = h
		}
	}
	h := c.Add(0x00010001, f100, "DSC_0005.JPG", false, []byte("five"), "", "")
	c.Mu.Unlock()
	before := c.HandleCalls.Load()
	events <- mtp.Event{Code: mtp.EventObjectAdded, Params: []uint32{h}}
	want := []string{"+SD/DCIM/100NIKON/DSC_0005.JPG"}
	if got := changePaths(t, changes, 1); !equalStrings(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	noChange(t, changes)
	// SD, DCIM and 100NIKON: the dated folder and the other card are
	// not listed.
	if n := c.HandleCalls.Load() - before; n != 3 {
		t.Errorf("%d folders listed, want 3", n)
	}
	if tr.Listed(walk(t, tr, "SD", "DCIM", "100NIKON")) != true {
		t.Error("100NIKON not listed")
	}
	for _, dir := range tr.Root().children {
		if dir.Name != "SD" && tr.Listed(dir) {
			t.Errorf("%q listed", dir.Path())
		}
	}
}

// A new folder reported while the shot in it is still being written (a
// Nikon answers GeneralError to its GetObjectInfo for a while): the
// folder's listing is retried until it answers, and the shot reported.
func TestWatchNewFolderSettles(t *testing.T) {
	fc := treetest.Sample()
	c := &settlingCamera{Camera: fc}
	events := make(chan mtp.Event, 1)
	tr, changes := watchTree(t, c, WatchConfig{Events: events})
	dcim := walk(t, tr, "SD", "DCIM")
	fc.Mu.Lock()
	f101 := fc.Add(0x00010001, dcim.Handle, "101NIKON", true, nil, "", "")
	c.h = fc.Add(0x00010001, f101, "DSC_0100.JPG", false, []byte("a hundred"), "", "")
	fc.Mu.Unlock()
	c.fails.Store(3)
	events <- mtp.Event{Code: mtp.EventObjectAdded, Params: []uint32{f101}}
	want := []string{"+SD/DCIM/101NIKON", "+SD/DCIM/101NIKON/DSC_0100.JPG"}
	if got := changePaths(t, changes, 2); !equalStrings(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	if c.fails.Load() >= 0 {
		t.Error("the listing was not retried until the camera answered")
	}
}
