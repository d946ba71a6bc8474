package tree

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// watchBound is how long a test waits for a change: far above the
// watcher's own periods (tens of milliseconds here).
const watchBound = 5 * time.Second

// watchTree is a tree of treetest.Sample with /SD/DCIM/100NIKON listed and
// a Watch running with cfg; changes come out of the returned channel.
func watchTree(t *testing.T, c Camera, cfg WatchConfig) (*Tree, <-chan Change) {
	t.Helper()
	tr := newTestTree(t, c)
	walk(t, tr, "SD", "DCIM", "100NIKON", "DSC_0001.JPG")
	changes := make(chan Change, 16)
	tr.setNotify(func(c Change) { changes <- c })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { tr.Watch(ctx, cfg) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return tr, changes
}

func nextChange(t *testing.T, changes <-chan Change) Change {
	t.Helper()
	select {
	case c := <-changes:
		return c
	case <-time.After(watchBound):
		t.Fatal("no change reported")
	}
	return Change{}
}

func noChange(t *testing.T, changes <-chan Change) {
	t.Helper()
	select {
	case c := <-changes:
		t.Fatalf("unexpected change %+v of %q", c, c.Obj.Path())
	case <-time.After(150 * time.Millisecond):
	}
}

// checkAddRemove adds a file to 100NIKON and to the unlisted dated
// folder, reports them with report, then deletes the first and reports
// that: the tree follows, other files keep reading. A reported camera
// (reported) makes the tree list the dated folder for its new file;
// diffing looks at listed folders only.
func checkAddRemove(t *testing.T, c *treetest.Camera, tr *Tree, changes <-chan Change, reported bool, report func(mtp.EventCode, uint32)) {
	t.Helper()
	ctx := context.Background()
	c.Mu.Lock()
	h := c.Add(0x00010001, 2, "DSC_0004.JPG", false, []byte("fourth"), "20240317T101010", "")
	other := c.Add(0x00010001, 8, "IN_UNLISTED.JPG", false, []byte("x"), "", "")
	c.Storages[0x00010001].FreeSpaceInBytes -= 7 // as a camera does: diffing looks for it
	c.Mu.Unlock()
	report(mtp.EventObjectAdded, other)
	report(mtp.EventObjectAdded, h)
	ch := nextChange(t, changes)
	if reported {
		if ch.Removed || ch.Obj.Path() != "SD/2024-03-15/IN_UNLISTED.JPG" || ch.Dir.Path() != "SD/2024-03-15" {
			t.Fatalf("change %+v at %q, want the unlisted folder's new file", ch, ch.Obj.Path())
		}
		ch = nextChange(t, changes)
	}
	if ch.Removed || ch.Obj.Path() != "SD/DCIM/100NIKON/DSC_0004.JPG" || ch.Dir.Path() != "SD/DCIM/100NIKON" || ch.Obj.Size != 6 {
		t.Fatalf("change %+v at %q", ch, ch.Obj.Path())
	}
	noChange(t, changes)
	o := walk(t, tr, "SD", "DCIM", "100NIKON", "DSC_0004.JPG")
	buf := make([]byte, 16)
	if n, err := tr.ReadAt(ctx, o, 0, buf); err != nil || string(buf[:n]) != "fourth" {
		t.Fatalf("read new file: %q %v", buf[:n], err)
	}
	if got := len(mustList(t, tr, walk(t, tr, "SD", "DCIM", "100NIKON"))); got != 6 {
		t.Errorf("100NIKON holds %d entries, want 6", got)
	}

	c.Mu.Lock()
	delete(c.Objects, h)
	c.Storages[0x00010001].FreeSpaceInBytes += 6
	c.Mu.Unlock()
	report(mtp.EventObjectRemoved, h)
	ch = nextChange(t, changes)
	if !ch.Removed || ch.Obj != o {
		t.Fatalf("change %+v, want the removal of %q", ch, o.Path())
	}
	dir := walk(t, tr, "SD", "DCIM", "100NIKON")
	if _, err := tr.Lookup(ctx, dir, "DSC_0004.JPG"); !errors.Is(err, ErrNotFound) {
		t.Errorf("lookup after removal: %v", err)
	}
	if _, err := tr.ReadAt(ctx, o, 0, buf); !errors.Is(err, ErrNotFound) {
		t.Errorf("read after removal: %v", err)
	}
	first := walk(t, tr, "SD", "DCIM", "100NIKON", "DSC_0001.JPG")
	if n, err := tr.ReadAt(ctx, first, 0, buf); err != nil || string(buf[:n]) != "first picture" {
		t.Errorf("other file: %q %v", buf[:n], err)
	}
	if _, err := tr.Lookup(ctx, walk(t, tr, "SD", "2024-03-15"), "IN_UNLISTED.JPG"); err != nil {
		t.Errorf("file of the folder listed later: %v", err)
	}
}

func mustList(t *testing.T, tr *Tree, dir *Object) []*Object {
	t.Helper()
	l, err := tr.List(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestWatchEvents(t *testing.T) {
	c := treetest.Sample()
	events := make(chan mtp.Event, 4)
	tr, changes := watchTree(t, c, WatchConfig{Events: events})
	checkAddRemove(t, c, tr, changes, true, func(code mtp.EventCode, h uint32) {
		events <- mtp.Event{Code: code, Params: []uint32{h}}
	})
}

func TestWatchPoll(t *testing.T) {
	c := treetest.Sample()
	var mu sync.Mutex
	var queued []mtp.Event
	var polls atomic.Int64
	poll := func(context.Context) ([]mtp.Event, error) {
		polls.Add(1)
		mu.Lock()
		defer mu.Unlock()
		q := queued
		queued = nil
		return q, nil
	}
	tr, changes := watchTree(t, c, WatchConfig{Poll: poll, PollEvery: 10 * time.Millisecond})
	checkAddRemove(t, c, tr, changes, true, func(code mtp.EventCode, h uint32) {
		mu.Lock()
		queued = append(queued, mtp.Event{Code: code, Params: []uint32{h}})
		mu.Unlock()
	})
	if polls.Load() < 2 {
		t.Errorf("%d polls", polls.Load())
	}
}

func TestWatchDiff(t *testing.T) {
	c := treetest.Sample()
	tr, changes := watchTree(t, c, WatchConfig{Diff: true, DiffEvery: 10 * time.Millisecond})
	checkAddRemove(t, c, tr, changes, false, func(mtp.EventCode, uint32) {}) // nothing reported: found by diffing
	// A card taken out disappears.
	c.Mu.Lock()
	c.IDs = c.IDs[1:]
	delete(c.Storages, 0x00010001)
	c.Mu.Unlock()
	ch := nextChange(t, changes)
	if !ch.Removed || ch.Obj.Path() != "SD" {
		t.Fatalf("change %+v at %q, want SD removed", ch, ch.Obj.Path())
	}
}

// TestWatchDiffQuiet: while the storages' free space stays put, diffing
// lists no folder again until FullDiffEvery; a shot that moves it is found
// at the next pass.
func TestWatchDiffQuiet(t *testing.T) {
	c := treetest.Sample()
	_, changes := watchTree(t, c, WatchConfig{Diff: true, DiffEvery: 10 * time.Millisecond})
	// The first pass lists the listed folders; wait for it to end.
	deadline := time.Now().Add(watchBound)
	for c.HandleCalls.Load() < 6 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	before := c.HandleCalls.Load()
	time.Sleep(200 * time.Millisecond) // about 20 diff periods
	if n := c.HandleCalls.Load() - before; n != 0 {
		t.Errorf("%d GetObjectHandles while nothing changed", n)
	}
	c.Mu.Lock()
	c.Add(0x00010001, 2, "DSC_0004.JPG", false, []byte("fourth"), "", "")
	c.Storages[0x00010001].FreeSpaceInBytes -= 6
	c.Mu.Unlock()
	if ch := nextChange(t, changes); ch.Removed || ch.Obj.Path() != "SD/DCIM/100NIKON/DSC_0004.JPG" {
		t.Fatalf("change %+v at %q", ch, ch.Obj.Path())
	}
}

// settlingCamera answers GeneralError to the first fails GetObjectInfo of
// handle h: a shot still being written.
type settlingCamera struct {
	*treetest.Camera
	h     uint32
	fails atomic.Int32
}

func (c *settlingCamera) ObjectInfo(ctx context.Context, h uint32) (*mtp.ObjectInfo, error) {
	if h == c.h && c.fails.Add(-1) >= 0 {
		return nil, mtp.RespGeneralError
	}
	return c.Camera.ObjectInfo(ctx, h)
}

func TestWatchShotSettles(t *testing.T) {
	fc := treetest.Sample()
	c := &settlingCamera{Camera: fc}
	events := make(chan mtp.Event, 1)
	_, changes := watchTree(t, c, WatchConfig{Events: events})
	fc.Mu.Lock()
	c.h = fc.Add(0x00010001, 2, "DSC_0009.JPG", false, []byte("nine"), "", "")
	fc.Mu.Unlock()
	c.fails.Store(3)
	events <- mtp.Event{Code: mtp.EventObjectAdded, Params: []uint32{c.h}}
	if ch := nextChange(t, changes); ch.Obj.Name != "DSC_0009.JPG" {
		t.Fatalf("change %+v", ch)
	}
	if c.fails.Load() >= 0 {
		t.Errorf("GetObjectInfo not retried until it answered")
	}
}

// TestWatchOldSession: changes reported by a session that has since been
// lost are not applied.
func TestWatchOldSession(t *testing.T) {
	c := treetest.Sample()
	events := make(chan mtp.Event, 1)
	tr, changes := watchTree(t, c, WatchConfig{Events: events})
	tr.Disconnect()
	c.Mu.Lock()
	h := c.Add(0x00010001, 2, "DSC_0005.JPG", false, []byte("5"), "", "")
	c.Mu.Unlock()
	events <- mtp.Event{Code: mtp.EventObjectAdded, Params: []uint32{h}}
	noChange(t, changes)
}

func TestWatchFor(t *testing.T) {
	ev := make(chan mtp.Event)
	for name, tc := range map[string]struct {
		info *mtp.DeviceInfo
		want string
	}{
		"events": {&mtp.DeviceInfo{EventsSupported: []mtp.EventCode{mtp.EventObjectAdded}}, "event connection"},
		"nikon": {&mtp.DeviceInfo{VendorExtensionID: 0xA, Manufacturer: "Nikon Corporation",
			OperationsSupported: []mtp.OpCode{mtp.OpNikonGetEvent}, EventsSupported: []mtp.EventCode{mtp.EventObjectAdded}}, "GetEvent polling"},
		"silent": {&mtp.DeviceInfo{VendorExtensionID: 0xB, Manufacturer: "Canon Inc."}, "handle-list diffing"},
		// The EOS 6D lists ObjectAdded (camsim body eos-6d) and reports
		// through its GetEvent.
		"eos": {&mtp.DeviceInfo{VendorExtensionID: 0xB, Manufacturer: "Canon Inc.",
			OperationsSupported: []mtp.OpCode{mtp.OpCanonEOSGetEvent}, EventsSupported: []mtp.EventCode{mtp.EventObjectAdded}}, "handle-list diffing"},
		"sony": {&mtp.DeviceInfo{VendorExtensionID: 0x11, Manufacturer: "Sony Corporation"}, "none"},
	} {
		t.Run(name, func(t *testing.T) {
			d := mtp.NewDevice(infoTransport{tc.info}, nil)
			if _, err := d.GetDeviceInfo(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := WatchFor(d, ev).Mechanism(); got != tc.want {
				t.Errorf("mechanism %q, want %q", got, tc.want)
			}
		})
	}
}

// infoTransport answers GetDeviceInfo with info and nothing else.
type infoTransport struct{ info *mtp.DeviceInfo }

func (f infoTransport) Do(ctx context.Context, req mtp.Request, dataOut io.Reader, dataOutSize int64, dataIn io.Writer) (mtp.Response, error) {
	if req.Code != mtp.OpGetDeviceInfo {
		return mtp.Response{Code: mtp.RespOperationNotSupported}, nil
	}
	b, err := f.info.AppendBinary(nil)
	if err != nil {
		return mtp.Response{}, err
	}
	if _, err := dataIn.Write(b); err != nil {
		return mtp.Response{}, err
	}
	return mtp.Response{Code: mtp.RespOK}, nil
}

func (infoTransport) Events() <-chan mtp.Event { return nil }
func (infoTransport) Close() error             { return nil }

// folderBlockingCamera holds GetObjectHandles of one folder until release
// is closed: a listing that takes long.
type folderBlockingCamera struct {
	*treetest.Camera
	folder  uint32
	release chan struct{}
}

func (c *folderBlockingCamera) ObjectHandles(ctx context.Context, storage, parent uint32) ([]uint32, error) {
	if parent == c.folder {
		select {
		case <-c.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return c.Camera.ObjectHandles(ctx, storage, parent)
}

// While a listing runs, the watcher does not ask the camera for changes:
// on cameras without events a listing is one round trip per object, and
// diffing or polling in between would only slow it down.
func TestWatchWaitsForListings(t *testing.T) {
	fc := treetest.Sample()
	c := &folderBlockingCamera{Camera: fc, folder: treetest.FindHandle(t, fc, 0x00010001, "2024-03-15"), release: make(chan struct{})}
	polls := atomic.Int32{}
	poll := func(context.Context) ([]mtp.Event, error) { polls.Add(1); return nil, nil }
	tr, _ := watchTree(t, c, WatchConfig{Diff: true, DiffEvery: 5 * time.Millisecond, Poll: poll, PollEvery: 5 * time.Millisecond})
	time.Sleep(50 * time.Millisecond)
	dated := walk(t, tr, "SD", "2024-03-15") // known, not listed
	listed := make(chan error, 1)
	go func() {
		_, err := tr.List(context.Background(), dated)
		listed <- err
	}()
	deadline := time.Now().Add(watchBound)
	for tr.listings.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // a pass already started ends
	storages, polled := fc.StorageCalls.Load(), polls.Load()
	time.Sleep(100 * time.Millisecond) // about 20 periods of each
	if n, p := fc.StorageCalls.Load()-storages, polls.Load()-polled; n != 0 || p != 0 {
		t.Errorf("during a listing: %d storage checks, %d polls; want none", n, p)
	}
	close(c.release)
	if err := <-listed; err != nil {
		t.Fatal(err)
	}
	for polled := polls.Load(); polls.Load() == polled; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no poll after the listing")
		}
	}
}

// Events dropped by the connection (its Dropped count grows) make the
// watcher list the listed folders again once: a capture whose event was
// lost appears, within about ResyncEvery.
func TestWatchResyncOnDropped(t *testing.T) {
	c := treetest.Sample()
	events := make(chan mtp.Event)
	var dropped atomic.Uint64
	tr, changes := watchTree(t, c, WatchConfig{Events: events, Dropped: dropped.Load})
	c.Mu.Lock()
	c.Add(0x00010001, 2, "DSC_0004.JPG", false, []byte("fourth"), "20240317T101010", "")
	c.Mu.Unlock()
	noChange(t, changes) // its event was dropped: nothing tells the tree
	dropped.Add(1)
	ch := nextChange(t, changes)
	if ch.Removed || ch.Obj.Path() != "SD/DCIM/100NIKON/DSC_0004.JPG" {
		t.Fatalf("change %+v at %q", ch, ch.Obj.Path())
	}
	if tr.Resyncs() != 1 {
		t.Errorf("%d resyncs, want 1", tr.Resyncs())
	}
	noChange(t, changes)
}

// The event connection ending while the session goes on (its camera not
// lost) is shown (EventsLost) and the listed folders are diffed instead;
// ending with the session is not.
func TestWatchEventsLost(t *testing.T) {
	for _, sessionLost := range []bool{false, true} {
		c := newCutting(treetest.Sample(), -1)
		events := make(chan mtp.Event)
		tr, changes := watchTree(t, c, WatchConfig{Events: events, DiffEvery: 50 * time.Millisecond})
		if sessionLost {
			close(c.lost)
		}
		close(events)
		if sessionLost {
			time.Sleep(300 * time.Millisecond)
			if tr.EventsLost() {
				t.Error("EventsLost after the session's loss")
			}
			continue
		}
		deadline := time.Now().Add(watchBound)
		for !tr.EventsLost() {
			if time.Now().After(deadline) {
				t.Fatal("EventsLost still false")
			}
			time.Sleep(10 * time.Millisecond)
		}
		c.Mu.Lock()
		c.Add(0x00010001, 2, "DSC_0004.JPG", false, []byte("fourth"), "20240317T101010", "")
		c.Storages[0x00010001].FreeSpaceInBytes -= 6
		c.Mu.Unlock()
		if ch := nextChange(t, changes); ch.Obj.Path() != "SD/DCIM/100NIKON/DSC_0004.JPG" {
			t.Fatalf("change at %q", ch.Obj.Path())
		}
	}
}
