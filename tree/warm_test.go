package tree

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// warmCard is a camera with two cards: SD holds ten folders at its top
// (the first eight by name are warmed), DCIM ten DCF folders (the first
// eight are), PRIVATE one, and a level below those; card2 one DCF folder.
func warmCard() *treetest.Camera {
	const sd, card2 = 0x00010001, 0x00020001
	c := treetest.New()
	c.AddStorage(sd, "SD", "", 1<<30, 1<<20)
	c.AddStorage(card2, "card2", "", 1<<30, 1<<20)
	dcim := c.Add(sd, 0, "DCIM", true, nil, "", "")
	c.Add(sd, 0, "MISC", true, nil, "", "")
	private := c.Add(sd, 0, "PRIVATE", true, nil, "", "")
	for i := range 7 {
		c.Add(sd, 0, fmt.Sprintf("Z%d", i), true, nil, "", "")
	}
	c.Add(sd, 0, "TOP.TXT", false, []byte("top"), "", "")
	for i := range 10 {
		f := c.Add(sd, dcim, fmt.Sprintf("%dMSDCF", 100+i), true, nil, "", "")
		for j := range 3 {
			c.Add(sd, f, fmt.Sprintf("DSC%05d.JPG", 10*i+j), false, []byte("photo"), "20240101T000000", "")
		}
		if i == 0 {
			sub := c.Add(sd, f, "SUB", true, nil, "", "")
			c.Add(sd, sub, "DEEP.JPG", false, []byte("deep"), "", "")
		}
	}
	c.Add(sd, dcim, "DCIM.TXT", false, []byte("x"), "", "")
	m4 := c.Add(sd, private, "M4ROOT", true, nil, "", "")
	c.Add(sd, m4, "CLIP", true, nil, "", "")
	d2 := c.Add(card2, 0, "DCIM", true, nil, "", "")
	f2 := c.Add(card2, d2, "100B", true, nil, "", "")
	c.Add(card2, f2, "B.JPG", false, []byte("b"), "", "")
	return c
}

// warmWant is the directories of warmCard the warm listing lists at levels
// 1 and 2, and at level 3 (only with one request per folder).
var (
	warmLevels12 = []string{
		"SD", "card2",
		"SD/DCIM", "SD/MISC", "SD/PRIVATE", "SD/Z0", "SD/Z1", "SD/Z2", "SD/Z3", "SD/Z4",
		"card2/DCIM",
	}
	warmLevel3 = []string{
		"SD/DCIM/100MSDCF", "SD/DCIM/101MSDCF", "SD/DCIM/102MSDCF", "SD/DCIM/103MSDCF",
		"SD/DCIM/104MSDCF", "SD/DCIM/105MSDCF", "SD/DCIM/106MSDCF", "SD/DCIM/107MSDCF",
		"SD/PRIVATE/M4ROOT", "card2/DCIM/100B",
	}
)

// listedDirs is every directory of tr listed so far, without asking the
// camera.
func listedDirs(tr *Tree) []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []string
	var rec func(d *Object)
	rec = func(d *Object) {
		if !d.listed {
			return
		}
		if d.Kind != KindRoot {
			out = append(out, d.Path())
		}
		for _, c := range d.children {
			if c.IsDir() {
				rec(c)
			}
		}
	}
	rec(tr.root)
	slices.Sort(out)
	return out
}

func sorted(s ...[]string) []string {
	out := slices.Concat(s...)
	slices.Sort(out)
	return out
}

// warmTree is a tree of c logging into logs (debug included), with the root listed as
// serve lists it before the warm listing starts.
func warmTree(t *testing.T, c Camera, logs *treetest.SyncBuffer) *Tree {
	t.Helper()
	tr := New(c, Config{Location: time.UTC, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(tr.Close)
	if _, err := tr.List(context.Background(), tr.Root()); err != nil {
		t.Fatal(err)
	}
	return tr
}

// startBlocked makes c's requests wait on the returned block channel and
// starts the warm listing of tr with ctx; done is closed when it returns.
func startBlocked(ctx context.Context, c *propCamera, tr *Tree) (block, done chan struct{}) {
	block, done = make(chan struct{}), make(chan struct{})
	c.Mu.Lock()
	c.Block = block
	c.Mu.Unlock()
	go func() {
		defer close(done)
		tr.Warm(ctx)
	}()
	return block, done
}

// runWarm runs the warm listing, bounded.
func runWarm(t *testing.T, ctx context.Context, tr *Tree) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr.Warm(ctx)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("warm listing still running after 30s")
	}
}

// With GetObjectPropList, the warm listing lists the top levels, their
// first eight folders and those folders' first eight folders, in name
// order, nothing deeper, each folder with one GetObjectPropList checked by
// one GetObjectHandles, and logs how long it took.
func TestWarmPropList(t *testing.T) {
	c := newPropCamera(warmCard())
	var logs treetest.SyncBuffer
	tr := warmTree(t, c, &logs)
	runWarm(t, context.Background(), tr)
	want := sorted(warmLevels12, warmLevel3)
	if got := listedDirs(tr); !slices.Equal(got, want) {
		t.Fatalf("listed %q,\nwant %q", got, want)
	}
	if n := c.propCalls.Load(); n != int64(len(want)-2) {
		t.Errorf("%d GetObjectPropList, want %d (one per folder)", n, len(want)-2)
	}
	// GetObjectHandles for every directory; GetObjectInfo of the top
	// levels' objects only, SD's 11 and card2's DCIM.
	if n, i := c.HandleCalls.Load(), c.InfoCalls.Load(); n != int64(len(want)) || i != 12 {
		t.Errorf("%d GetObjectHandles, %d GetObjectInfo, want %d and 12 (the top levels)", n, i, len(want))
	}
	// Each listing counted as running while it ran (the watcher waits
	// for them), none after.
	waitFor(t, "no listing counted as running", func() bool { return tr.listings.Load() == 0 })
	if !strings.Contains(logs.String(), fmt.Sprintf("msg=\"warm listing done\" folders=%d skipped=0", len(want))) {
		t.Errorf("no warm listing line with folders=%d:\n%s", len(want), logs.String())
	}
}

// Without GetObjectPropList (one GetObjectInfo per object), the warm
// listing lists the top levels and their folders, and no folder below
// those: none of their objects is described.
func TestWarmWithoutPropList(t *testing.T) {
	c := warmCard()
	var logs treetest.SyncBuffer
	tr := warmTree(t, c, &logs)
	runWarm(t, context.Background(), tr)
	if got := listedDirs(tr); !slices.Equal(got, sorted(warmLevels12)) {
		t.Fatalf("listed %q,\nwant %q", got, sorted(warmLevels12))
	}
	// The objects described: those at the top levels and in the
	// folders there but Z5 and Z6.
	level2 := map[uint32]bool{}
	for h, o := range c.Objects {
		if o.Info.ParentObject == 0 && o.Info.ObjectFormat == mtp.FormatAssociation && o.Info.Filename != "Z5" && o.Info.Filename != "Z6" {
			level2[h] = true
		}
	}
	var want int64
	for _, o := range c.Objects {
		if o.Info.ParentObject == 0 || level2[o.Info.ParentObject] {
			want++
		}
	}
	if n := c.InfoCalls.Load(); n != want {
		t.Errorf("%d GetObjectInfo, want %d (the top levels' objects and their folders')", n, want)
	}
	if n := c.HandleCalls.Load(); n != int64(len(warmLevels12)) {
		t.Errorf("%d GetObjectHandles, want %d: a folder not listed costs nothing", n, len(warmLevels12))
	}
	if !strings.Contains(logs.String(), fmt.Sprintf("folders=%d skipped=%d", len(warmLevels12), len(warmLevel3))) {
		t.Errorf("warm listing line: want folders=%d skipped=%d:\n%s", len(warmLevels12), len(warmLevel3), logs.String())
	}
	// Opened by the user, a folder is listed as always.
	got := names(mustList(t, tr, walk(t, tr, "SD", "DCIM", "100MSDCF")))
	if !slices.Equal(got, []string{"DSC00000.JPG", "DSC00001.JPG", "DSC00002.JPG", "SUB"}) {
		t.Errorf("100MSDCF = %q", got)
	}
}

// On a remount with the metadata cache, the warm listing checks each
// folder with one GetObjectHandles, level 3 included also without
// GetObjectPropList, and describes nothing.
func TestWarmMetaCache(t *testing.T) {
	cameras(t, func(t *testing.T, fc *treetest.Camera, c Camera, props func() int64) {
		dir := t.TempDir()
		tr, _ := metaTree(t, c, dir, treetest.Logger(t))
		snapshot(t, tr)
		tr.Close()
		resetCounts(fc)
		p0 := props()
		tr, _ = metaTree(t, c, dir, treetest.Logger(t))
		mustList(t, tr, tr.Root())
		runWarm(t, context.Background(), tr)
		// treetest.Sample: SD, card3; DCIM, 2024-03-15; DCIM/100NIKON.
		if n := fc.HandleCalls.Load(); n != sampleFolders {
			t.Errorf("%d GetObjectHandles, want %d", n, sampleFolders)
		}
		if n, p := fc.InfoCalls.Load(), props()-p0; n+p != 0 {
			t.Errorf("%d GetObjectInfo, %d GetObjectPropList, want none", n, p)
		}
		if got := len(listedDirs(tr)); got != sampleFolders {
			t.Errorf("%d directories listed, want %d", got, sampleFolders)
		}
	})
}

// A lookup in a directory the warm listing is listing joins that listing:
// each directory costs one request however many ask.
func TestWarmLookupJoins(t *testing.T) {
	c := newPropCamera(treetest.Sample())
	tr := warmTree(t, c, &treetest.SyncBuffer{})
	block, done := startBlocked(context.Background(), c, tr)
	requests := func() int64 { return c.HandleCalls.Load() + c.propCalls.Load() }
	waitFor(t, "SD's listing", func() bool { return requests() == 1 })
	sd := walk(t, tr, "SD")
	found := make(chan error, 1)
	go func() {
		_, err := tr.Lookup(context.Background(), sd, "DCIM")
		found <- err
	}()
	time.Sleep(20 * time.Millisecond) // the lookup waits on the warm listing
	if n := requests(); n != 1 {
		t.Fatalf("%d listing requests while the warm listing holds SD's, want 1", n)
	}
	close(block)
	if err := <-found; err != nil {
		t.Fatal(err)
	}
	<-done
	// SD and card3: GetObjectHandles; 2024-03-15, DCIM, DCIM/100NIKON:
	// GetObjectPropList and GetObjectHandles; once each.
	if n := requests(); n != 8 {
		t.Fatalf("%d listing requests, want 8", n)
	}
}

// A lookup that joined a warm listing which gave up (the folder needs one
// GetObjectInfo per object) lists the folder itself.
func TestWarmGiveUpJoined(t *testing.T) {
	fc := treetest.Sample()
	c := newPropCamera(fc)
	c.drop[handleOf(t, fc, "DSC_0002.JPG")] = mtp.PropObjectSize
	var logs treetest.SyncBuffer
	tr := warmTree(t, c, &logs)
	block, done := startBlocked(context.Background(), c, tr)
	// SD and card3 (GetObjectHandles), 2024-03-15 and DCIM
	// (GetObjectPropList and GetObjectHandles); then DCIM/100NIKON waits.
	requests := func() int64 { return fc.HandleCalls.Load() + c.propCalls.Load() }
	for i := range 6 {
		block <- struct{}{}
		waitFor(t, fmt.Sprintf("request %d", i+2), func() bool { return requests() == int64(i+2) })
	}
	nikon := walk(t, tr, "SD", "DCIM", "100NIKON")
	listed := make(chan []*Object, 1)
	go func() {
		kids, err := tr.List(context.Background(), nikon)
		if err != nil {
			t.Error(err)
		}
		listed <- kids
	}()
	time.Sleep(20 * time.Millisecond) // the list joins the warm listing
	close(block)
	if got := names(<-listed); len(got) != 5 {
		t.Fatalf("100NIKON = %q, want its 5 files", got)
	}
	<-done
	// The top levels' 3 objects, and DSC_0002.JPG.
	if n := fc.InfoCalls.Load(); n != 4 {
		t.Errorf("%d GetObjectInfo, want 4 (DSC_0002.JPG once, by the lookup's own listing)", n)
	}
	if n := c.propCalls.Load(); n != 4 {
		t.Errorf("%d GetObjectPropList, want 4 (100NIKON by the warm listing, then by the lookup)", n)
	}
	if !strings.Contains(logs.String(), "skipped=1") {
		t.Errorf("warm listing line: want skipped=1:\n%s", logs.String())
	}
}

// The warm listing stops when the tree is closed, its context ends or the
// session is lost, without waiting for the camera, and lists nothing more.
func TestWarmStops(t *testing.T) {
	for name, stop := range map[string]func(tr *Tree, cancel context.CancelFunc){
		"close":      func(tr *Tree, _ context.CancelFunc) { tr.Close() },
		"context":    func(_ *Tree, cancel context.CancelFunc) { cancel() },
		"disconnect": func(tr *Tree, _ context.CancelFunc) { tr.Disconnect() },
	} {
		t.Run(name, func(t *testing.T) {
			c := newPropCamera(treetest.Sample())
			tr := warmTree(t, c, &treetest.SyncBuffer{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			block, done := startBlocked(ctx, c, tr)
			requests := func() int64 { return c.HandleCalls.Load() + c.propCalls.Load() }
			waitFor(t, "the first request", func() bool { return requests() == 1 })
			stop(tr, cancel)
			if name == "disconnect" {
				close(block) // the answer comes, for a session gone
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("warm listing still running 10s after it was stopped")
			}
			if name != "disconnect" {
				close(block)
			}
			if n := requests(); n != 1 {
				t.Errorf("%d listing requests, want 1: nothing asked after the stop", n)
			}
		})
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
