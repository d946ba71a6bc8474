package tree

import (
	"context"
	"slices"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/sched"
)

// A camera keeps shooting while mounted and tells the host as its make does
// (protocol notes, section 6): most on the PTP/IP event connection; Nikon
// bodies of the WU-1a era queue events for GetEvent (0x90C7), polled; others
// (Canon EOS over PTP/IP) send nothing, so listed folders are diffed
// (diff.go). Changes are applied under the tree's lock once the camera has
// answered and told to OnChanges (fusefs invalidates the kernel's caches).

// Watch defaults.
const (
	// PollEvery is how often GetEvent is polled.
	PollEvery = time.Second
	// DiffEvery is how often listed folders are listed again on a
	// camera that reports nothing.
	DiffEvery = 2 * time.Second
)

// Change is one change of the tree the camera reported: Obj was added to
// or removed from directory Dir.
type Change struct {
	Dir     *Object
	Obj     *Object
	Removed bool
}

// WatchConfig says how a camera session reports changes; see WatchFor.
type WatchConfig struct {
	// Events is the event connection's events; nil: none.
	Events <-chan mtp.Event
	// Poll returns the events queued on the camera (Nikon GetEvent);
	// nil: not polled.
	Poll      func(ctx context.Context) ([]mtp.Event, error)
	PollEvery time.Duration // 0: PollEvery
	// Diff lists every listed folder again each DiffEvery and applies
	// the differences, for a camera that reports nothing.
	Diff      bool
	DiffEvery time.Duration // 0: DiffEvery
	// Dropped, when set, counts the events the connection dropped in a
	// flood (ptpip.Session.DroppedEvents): when it grows, the listed
	// folders are listed again once (a resync), so no capture is lost.
	Dropped func() uint64
	// Selection asks for the photos marked on the camera at once, every
	// SelectionEvery and after the changes the camera reports
	// (RefreshSelection), for a camera that keeps such a list (Nikon).
	Selection      bool
	SelectionEvery time.Duration // 0: SelectionEvery
}

// ResyncEvery is how often a resync may run while events are dropped or
// cannot be placed: once per interval, however long the flood.
const ResyncEvery = time.Second

// WatchFor chooses, from the DeviceInfo of d's session, how changes are
// learnt: GetEvent polling when the camera lists 0x90C7, handle-list
// diffing when it lists no ObjectAdded event or is a Canon EOS (which
// lists PTP events but reports changes through its own GetEvent 0x9116:
// libgphoto2's ptp_check_event, "EOS has no normal PTP events"), and
// always whatever arrives on events (the session's event connection). A
// Sony in Send to Computer takes no pictures: it is not watched.
func WatchFor(d *mtp.Device, events <-chan mtp.Event) WatchConfig {
	info := d.Info()
	if info == nil || d.Vendor() == mtp.VendorSony {
		return WatchConfig{}
	}
	cfg := WatchConfig{Events: events, Selection: d.Vendor() == mtp.VendorNikon}
	switch {
	case info.Supports(mtp.OpNikonGetEvent):
		cfg.Poll = d.NikonGetEvent
	case !slices.Contains(info.EventsSupported, mtp.EventObjectAdded),
		d.Vendor() == mtp.VendorCanon && info.Supports(mtp.OpCanonEOSGetEvent):
		cfg.Diff = true
	}
	return cfg
}

// Mechanism names the ways cfg learns of changes, for the log.
func (cfg WatchConfig) Mechanism() string {
	switch {
	case cfg.Poll != nil:
		return "GetEvent polling"
	case cfg.Diff:
		return "handle-list diffing"
	case cfg.Events != nil:
		return "event connection"
	}
	return "none"
}

// setNotify makes fn the receiver of every Change (the FUSE side).
func (t *Tree) setNotify(fn func(Change)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.notify, t.notifyAll = fn, nil
}

// OnChanges makes fn the receiver of the changes, those applied
// together (a new folder and what is in it) in one call: the renamed tree
// is then built again once for all of them.
func (t *Tree) OnChanges(fn func([]Change)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.notify, t.notifyAll = nil, fn
}

func (t *Tree) changed(c Change) { t.changedAll([]Change{c}) }

// changedAll tells of changes applied together, in order.
func (t *Tree) changedAll(cs []Change) {
	t.mu.Lock()
	fn, all := t.notify, t.notifyAll
	t.mu.Unlock()
	for _, c := range cs {
		t.log.Info("camera change", "removed", c.Removed, "path", "/"+c.Obj.Path())
	}
	switch {
	case all != nil:
		all(cs)
	case fn != nil:
		for _, c := range cs {
			fn(c)
		}
	}
}

// Watch applies the changes the camera of the current session reports, as
// cfg says, until ctx ends or the tree is closed. Start it after New or
// Reconnect, and stop it when that session is lost: changes reported
// by an older session are dropped. Its requests are background work
// (sched.Background).
func (t *Tree) Watch(ctx context.Context, cfg WatchConfig) {
	ctx = sched.With(ctx, sched.Background, 0)
	t.mu.Lock()
	gen := t.gen
	t.mu.Unlock()
	w := &watcher{t: t, gen: gen, seen: map[uint32]bool{}}
	var poll, diff <-chan time.Time
	if cfg.Poll != nil {
		tk := time.NewTicker(cmpOr(cfg.PollEvery, PollEvery))
		defer tk.Stop()
		poll = tk.C
	}
	if cfg.Diff {
		tk := time.NewTicker(cmpOr(cfg.DiffEvery, DiffEvery))
		defer tk.Stop()
		diff = tk.C
	}
	var selTick <-chan time.Time
	selDue := false // a change was applied: ask for the selection again
	if cfg.Selection {
		tk := time.NewTicker(cmpOr(cfg.SelectionEvery, SelectionEvery))
		defer tk.Stop()
		selTick = tk.C
		w.selection(ctx)
	}
	events := cfg.Events
	pollFailed := false
	t.eventsLost.Store(false)
	var lastDropped uint64
	if cfg.Dropped != nil {
		lastDropped = cfg.Dropped()
	}
	resync := time.NewTicker(ResyncEvery)
	defer resync.Stop()
	for {
		if selDue && cfg.Selection {
			selDue = false
			w.selection(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				if diff == nil && w.eventsEnded(ctx) {
					// New shots would no longer appear: the
					// listed folders are diffed instead.
					tk := time.NewTicker(cmpOr(cfg.DiffEvery, DiffEvery))
					defer tk.Stop()
					diff = tk.C
				}
				continue
			}
			w.apply(ctx, ev)
			selDue = true
		case <-selTick:
			if t.listings.Load() == 0 {
				w.selection(ctx)
			}
		case <-resync.C:
			if cfg.Dropped != nil {
				if n := cfg.Dropped(); n != lastDropped {
					lastDropped = n
					w.resyncDue = true
				}
			}
			if w.resyncDue {
				w.resyncDue = false
				w.resync(ctx)
				selDue = true
			}
		case <-poll:
			if t.listings.Load() > 0 {
				// The camera is busy answering a listing, one
				// round trip per object on these cameras: ask
				// after it (a Nikon keeps its events until asked).
				continue
			}
			evs, err := cfg.Poll(ctx)
			if err != nil {
				if !pollFailed && ctx.Err() == nil {
					t.log.Warn("polling the camera's events failed", "err", err)
				}
				pollFailed = true
				continue
			}
			pollFailed = false
			for _, ev := range evs {
				w.apply(ctx, ev)
			}
			selDue = len(evs) > 0
		case <-diff:
			if t.listings.Load() > 0 {
				continue // as for polling: after the listing
			}
			w.diff(ctx)
		}
	}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// watcher is the state of one Watch: the session generation it applies
// changes of, and the handles it has already looked at (diffing).
type watcher struct {
	t    *Tree
	gen  uint64
	seen map[uint32]bool

	// Handle-list diffing: the storages' fingerprint at the last folder
	// pass, and when that pass ran.
	lastPrint string
	lastFull  time.Time
	// resyncDue: events were dropped or could not be placed; the listed
	// folders are listed again at the next ResyncEvery tick.
	resyncDue     bool
	lastResyncLog time.Time

	selFailed bool // asking for the selection failed (logged once)
}

// eventsEnded handles the end of the event connection: when the session
// itself still works (only the event connection was lost), it is logged,
// shown in the status (EventsLost) and it returns true: the caller diffs
// the listed folders from now on.
func (w *watcher) eventsEnded(ctx context.Context) bool {
	cam := w.camera()
	if cam == nil || ctx.Err() != nil || lost(cam) {
		return false
	}
	// The session's transport closes Events just before it reports the
	// loss: give it a moment to tell.
	if lr, ok := cam.(LossReporter); ok && lr.Lost() != nil {
		select {
		case <-lr.Lost():
			return false
		case <-ctx.Done():
			return false
		case <-time.After(ResyncEvery):
		}
	}
	if w.camera() == nil {
		return false
	}
	w.t.eventsLost.Store(true)
	w.t.log.Warn("the camera's event connection ended while its session goes on; new pictures are found by listing the folders again every few seconds")
	return true
}

// Resyncs is how many resync passes ran (events dropped or not placed).
func (t *Tree) Resyncs() int64 { return t.resyncs.Load() }

// EventsLost reports whether the current session's event connection ended
// while the session goes on (the watcher diffs folders instead).
func (t *Tree) EventsLost() bool { return t.eventsLost.Load() }

// camera returns the session's camera, or nil once the session is gone.
func (w *watcher) camera() Camera {
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	if w.t.gen != w.gen {
		return nil
	}
	return w.t.cam
}

// selection asks for the camera's selection again (RefreshSelection); a
// failure is logged once until one succeeds.
func (w *watcher) selection(ctx context.Context) {
	_, err := w.t.RefreshSelection(ctx)
	switch {
	case err == nil:
		w.selFailed = false
	case !w.selFailed && ctx.Err() == nil:
		w.t.log.Warn("asking the camera for the photos marked on it failed", "err", err)
		w.selFailed = true
	}
}

// apply applies one reported event.
func (w *watcher) apply(ctx context.Context, ev mtp.Event) {
	w.t.log.Debug("camera event", "event", ev.Code, "params", ev.Params)
	var p uint32
	if len(ev.Params) > 0 {
		p = ev.Params[0]
	}
	switch ev.Code {
	case mtp.EventObjectAdded:
		w.add(ctx, p)
	case mtp.EventObjectRemoved:
		w.remove(p)
	case mtp.EventStoreAdded, mtp.EventStoreRemoved, mtp.EventStorageInfoChanged:
		w.t.mu.Lock()
		w.t.statAt = time.Time{} // statfs asks the camera again
		w.t.mu.Unlock()
		w.storages(ctx)
	}
}
