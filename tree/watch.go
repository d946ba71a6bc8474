package tree

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// A camera keeps shooting while mounted. How it tells the host depends on
// the make (protocol notes, section 6):
//
//   - most send ObjectAdded/ObjectRemoved/StoreAdded/StoreRemoved/
//     StorageInfoChanged on the PTP/IP event connection;
//   - Nikon bodies of the WU-1a era queue them for GetEvent (0x90C7), which
//     the host polls;
//   - others (Canon EOS over PTP/IP) send nothing: the host lists the
//     handles of each folder again and compares.
//
// A new object in a folder the tree has listed is added to it. One in a
// folder the tree knows but has not listed makes the tree list that
// folder; one in a folder the tree does not know (the camera has just
// made DCIM/101NIKON because 100NIKON is full, or the folders above were
// never listed) is placed by walking up its ParentObject with
// GetObjectInfo to a folder the tree knows, then listing the folders on
// the way down: only the folders above the new object, never the whole
// card. A folder the camera has just made holds only new captures: each
// of its files is reported as new. Handle-list diffing sees only what is
// in listed folders: a new folder in one is found, and listed at once.
// Every change is applied under the tree's lock after the camera has
// answered, never across a round trip, and told to the FUSE side
// (Change), which invalidates the kernel's caches.

// Watch defaults.
const (
	// PollEvery is how often GetEvent is polled.
	PollEvery = time.Second
	// DiffEvery is how often listed folders are listed again on a
	// camera that reports nothing.
	DiffEvery = 2 * time.Second
	// FullDiffEvery is how often the listed folders are listed again even
	// when the storages' free space has not moved since the last pass.
	FullDiffEvery = 30 * time.Second
	// shotSettle bounds how long GetObjectInfo of a new object is retried
	// while the camera answers GeneralError: a Nikon is still writing the
	// file of a shot it has just announced.
	shotSettle = 4 * time.Second
	// settleRetry is the pause between those tries.
	settleRetry = 200 * time.Millisecond
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
}

// WatchFor chooses, from the DeviceInfo of d's session, how changes are
// learnt: GetEvent polling when the camera lists 0x90C7, handle-list
// diffing when it lists no ObjectAdded event, and always whatever arrives
// on events (the session's event connection). A Sony in Send to Computer
// takes no pictures: it is not watched.
func WatchFor(d *mtp.Device, events <-chan mtp.Event) WatchConfig {
	info := d.Info()
	if info == nil || d.Vendor() == mtp.VendorSony {
		return WatchConfig{}
	}
	cfg := WatchConfig{Events: events}
	switch {
	case info.Supports(mtp.OpNikonGetEvent):
		cfg.Poll = d.NikonGetEvent
	case !slices.Contains(info.EventsSupported, mtp.EventObjectAdded):
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
// cfg says, until ctx ends or the tree is closed. Start it after Connect
// or Reconnect, and stop it when that session is lost: changes reported
// by an older session are dropped.
func (t *Tree) Watch(ctx context.Context, cfg WatchConfig) {
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
	events := cfg.Events
	pollFailed := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			w.apply(ctx, ev)
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
}

// camera returns the session's camera, or nil once the session is gone.
func (w *watcher) camera() Camera {
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	if w.t.gen != w.gen {
		return nil
	}
	return w.t.cam
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

// settledInfo is GetObjectInfo of h, retried while the camera answers
// GeneralError for up to shotSettle (a shot still being written).
func (w *watcher) settledInfo(ctx context.Context, cam Camera, h uint32) (*mtp.ObjectInfo, error) {
	deadline := time.Now().Add(shotSettle)
	for {
		info, err := cam.ObjectInfo(ctx, h)
		if !errors.Is(err, mtp.RespGeneralError) || time.Now().After(deadline) {
			return info, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(settleRetry):
		}
	}
}

// add puts object h, which the camera reports as new, in its folder if
// that folder is listed.
func (w *watcher) add(ctx context.Context, h uint32) {
	t := w.t
	if h == 0 || h == storageRoot {
		return
	}
	cam := w.camera()
	if cam == nil {
		return
	}
	info, err := w.settledInfo(ctx, cam, h)
	if errors.Is(err, mtp.RespInvalidObjectHandle) {
		return // deleted again already
	}
	if err != nil {
		if ctx.Err() == nil {
			t.log.Warn("new object not described by the camera; it appears at the next listing", "handle", fmt.Sprintf("%#x", h), "err", err)
		}
		return
	}
	w.seen[h] = true
	dir, at := t.parentOf(w.gen, info)
	if dir == nil {
		var done bool
		if dir, done = w.attach(ctx, cam, h, info); dir == nil || done {
			return
		}
		// The folder was listed just now, most likely with h in it.
		t.mu.Lock()
		o := childByHandleLocked(dir, h)
		current := t.gen == w.gen
		at = dir.cur
		t.mu.Unlock()
		if !current {
			return
		}
		if o != nil {
			w.announce(ctx, dir, o)
			return
		}
	}
	if info.ObjectFormat == mtp.FormatAssociation && t.ancestorHandles(dir)[h] {
		t.skipBad(dir, at.storage, h, "parent cycle: a folder lists itself or a folder above it")
		return
	}
	o, ok, err := t.newEntry(ctx, cam, dir, at, h, info, depth(dir)+1 > MaxDepth)
	if err != nil {
		t.log.Warn("new object not added", "dir", "/"+dir.Path(), "handle", fmt.Sprintf("%#x", h), "err", err)
		return
	}
	if !ok {
		return
	}
	t.mu.Lock()
	switch {
	case t.gen != w.gen || !dir.listed || dir.gone:
		t.mu.Unlock()
		return
	case slices.ContainsFunc(dir.children, func(c *Object) bool { return c.cur == o.cur }):
		t.mu.Unlock()
		return // already listed
	case len(t.byIno) >= t.lim.maxObjects:
		t.mu.Unlock()
		t.skipBad(dir, at.storage, h, "too many objects (--max-objects)")
		return
	}
	taken := make(map[string]bool, len(dir.children))
	for _, c := range dir.children {
		taken[c.Name] = true
	}
	o.Name = uniqueNames([]string{sanitizeName(info.Filename)}, []entryKey{{raw: info.Filename, mtime: o.Mtime.UnixNano(), size: o.Size, handle: h}}, taken)[0]
	o.Ino = inodeOf(Slot(o.Storage), o.Path())
	t.installLocked(dir, append(slices.Clip(dir.children), o))
	t.mu.Unlock()
	t.listed.Add(1)
	w.announce(ctx, dir, o)
}

// announce reports new object o of dir; a new folder is listed at once
// and everything in it reported as new too (a camera makes a folder for
// the shots it is about to write), so that its files show without
// waiting for a reader to list it and --on-new runs for them.
func (w *watcher) announce(ctx context.Context, dir, o *Object) {
	var cs []Change
	w.collect(ctx, dir, o, &cs)
	w.t.changedAll(cs)
}

// collect appends the change of new object o of dir to cs, and for a new
// folder lists it and collects what is in it.
func (w *watcher) collect(ctx context.Context, dir, o *Object, cs *[]Change) {
	*cs = append(*cs, Change{Dir: dir, Obj: o})
	if !o.IsDir() {
		return
	}
	err := w.settledList(ctx, o)
	var children []*Object
	if err == nil {
		children, err = w.t.List(ctx, o)
	}
	if err != nil {
		if ctx.Err() == nil {
			w.t.log.Warn("new folder not listed; its files appear when it is", "dir", "/"+o.Path(), "err", err)
		}
		return
	}
	// The depth is bounded: the listing leaves out folders deeper than
	// MaxDepth.
	for _, c := range children {
		w.t.mu.Lock()
		w.seen[c.cur.handle] = true
		w.t.mu.Unlock()
		w.collect(ctx, o, c, cs)
	}
}

// attach finds the folder that new object h (described by info) is in
// when the tree has not listed it: it walks up info's ParentObject with
// GetObjectInfo to a directory the tree knows, then lists each folder on
// the way down. It returns that folder, listed; or done when it has
// reported h itself (h is in a folder the camera has just made, which was
// added and reported whole); or nil when h cannot be placed (logged).
func (w *watcher) attach(ctx context.Context, cam Camera, h uint32, info *mtp.ObjectInfo) (dir *Object, done bool) {
	t := w.t
	// chain: the folders between h and the nearest directory the tree
	// knows, h's own first.
	var chain []uint32
	visited := map[uint32]bool{h: true}
	parent := info.ParentObject
	for {
		if dir = t.knownDir(w.gen, info.StorageID, parent); dir != nil {
			break
		}
		if parent == 0 || parent == storageRoot {
			return nil, false // a storage not listed (yet)
		}
		if visited[parent] || len(chain) >= MaxDepth {
			t.log.Warn("new object not placed: its folders make a cycle or nest too deep", "handle", fmt.Sprintf("%#x", h))
			return nil, false
		}
		visited[parent] = true
		pinfo, err := cam.ObjectInfo(ctx, parent)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, mtp.RespInvalidObjectHandle) {
				t.log.Warn("folder of a new object not described by the camera; it appears at the next listing", "handle", fmt.Sprintf("%#x", h), "folder", fmt.Sprintf("%#x", parent), "err", err)
			}
			return nil, false
		}
		if pinfo.ObjectFormat != mtp.FormatAssociation || (pinfo.StorageID != 0 && info.StorageID != 0 && pinfo.StorageID != info.StorageID) {
			t.log.Warn("new object's parent is not a folder of its storage; not placed", "handle", fmt.Sprintf("%#x", h), "parent", fmt.Sprintf("%#x", parent))
			return nil, false
		}
		chain = append(chain, parent)
		parent = pinfo.ParentObject
	}
	for i := len(chain) - 1; i >= 0; i-- {
		wasListed := t.Listed(dir)
		if err := w.settledList(ctx, dir); err != nil {
			t.log.Debug("listing the folders above a new object failed", "dir", "/"+dir.Path(), "err", err)
			return nil, false
		}
		t.mu.Lock()
		next := childByHandleLocked(dir, chain[i])
		t.mu.Unlock()
		if next == nil {
			if wasListed {
				// Not in a folder listed before: the camera
				// has just made it.
				w.add(ctx, chain[i])
				return nil, true
			}
			return nil, false // deleted again already
		}
		dir = next
	}
	if err := w.settledList(ctx, dir); err != nil {
		t.log.Debug("listing the folder of a new object failed", "dir", "/"+dir.Path(), "err", err)
		return nil, false
	}
	return dir, false
}

// settledList lists dir if it is not listed, retrying for up to
// shotSettle while the camera answers GeneralError: a Nikon answers it
// to GetObjectInfo of a shot it is still writing, which fails the
// listing of the folder the shot is in (a RAW and a JPEG of one shot
// arrive together).
func (w *watcher) settledList(ctx context.Context, dir *Object) error {
	deadline := time.Now().Add(shotSettle)
	for {
		err := w.t.ensureListed(ctx, dir)
		if !errors.Is(err, mtp.RespGeneralError) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(settleRetry):
		}
	}
}

// knownDir returns the directory of this session (listed or not) that
// is folder handle on storage, or the storage itself for handle 0 or
// storageRoot; nil when the tree does not know it.
func (t *Tree) knownDir(gen uint64, storage, handle uint32) *Object {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gen != gen || !t.root.listed {
		return nil
	}
	onStorage := func(o *Object) bool { return storage == 0 || o.cur.storage == storage }
	if handle == 0 || handle == storageRoot {
		var found *Object
		for _, s := range t.root.children {
			if onStorage(s) && !s.gone {
				if found != nil {
					return nil // which one: no storage given
				}
				found = s
			}
		}
		return found
	}
	for _, o := range t.byIno {
		if o.Kind == KindFolder && !o.gone && o.cur.handle == handle && onStorage(o) {
			return o
		}
	}
	return nil
}

// childByHandleLocked is dir's entry of handle h, or nil. t.mu must be
// held.
func childByHandleLocked(dir *Object, h uint32) *Object {
	for _, c := range dir.children {
		if c.cur.handle == h && !c.gone {
			return c
		}
	}
	return nil
}

// parentOf returns the listed directory that object info is an entry of,
// and where it is in the session; nil when it is not listed or the
// session changed.
func (t *Tree) parentOf(gen uint64, info *mtp.ObjectInfo) (*Object, address) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gen != gen {
		return nil, address{}
	}
	var store *Object
	for _, s := range t.root.children {
		if s.cur.storage == info.StorageID {
			store = s
		}
	}
	if store == nil {
		return nil, address{}
	}
	if info.ParentObject == 0 || info.ParentObject == storageRoot {
		if !store.listed {
			return nil, address{}
		}
		return store, store.cur
	}
	var find func(d *Object) *Object
	find = func(d *Object) *Object {
		for _, c := range d.children {
			if !c.IsDir() {
				continue
			}
			if c.cur.handle == info.ParentObject {
				return c
			}
			if c.listed {
				if f := find(c); f != nil {
					return f
				}
			}
		}
		return nil
	}
	dir := find(store)
	if dir == nil || !dir.listed || dir.gone {
		return nil, address{}
	}
	return dir, dir.cur
}

// remove takes object h, which the camera reports deleted, out of the
// tree: a lookup of it answers ENOENT, an open file of it fails to read.
func (w *watcher) remove(h uint32) {
	t := w.t
	delete(w.seen, h)
	t.mu.Lock()
	if t.gen != w.gen {
		t.mu.Unlock()
		return
	}
	var o *Object
	for _, x := range t.byIno {
		if (x.Kind == KindFile || x.Kind == KindFolder) && x.cur.handle == h && !x.gone {
			o = x
			break
		}
	}
	if o == nil {
		t.mu.Unlock()
		return // not listed
	}
	dir := t.removeLocked(o)
	t.mu.Unlock()
	t.changed(Change{Dir: dir, Obj: o, Removed: true})
}

// removeLocked takes o out of its directory and marks it and what is
// below it gone; it returns the directory. t.mu must be held.
func (t *Tree) removeLocked(o *Object) *Object {
	dir := o.parent
	kept := make([]*Object, 0, len(dir.children))
	for _, c := range dir.children {
		if c != o {
			kept = append(kept, c)
		}
	}
	t.installLocked(dir, kept)
	t.forgetLocked(o)
	return dir
}

// storages lists the storages again: a card put in appears, a card taken
// out (its slot no longer in GetStorageIDs, or empty) disappears. A
// storage that is only not available for now (StoreNotAvailable: a low
// battery) stays: its files answer EIO until it is back.
func (w *watcher) storages(ctx context.Context) {
	t := w.t
	cam := w.camera()
	if cam == nil || !t.Listed(t.root) {
		return
	}
	ids, err := cam.StorageIDs(ctx)
	if err != nil {
		t.log.Debug("listing the storages again failed", "err", err)
		return
	}
	present := map[uint16]bool{}
	for _, id := range ids {
		if id&0xFFFF != 0 {
			present[Slot(id)] = true
		}
	}
	fresh, infos, err := t.describeStorages(ctx, cam, ids)
	if err != nil {
		t.log.Debug("listing the storages again failed", "err", err)
		return
	}
	t.mu.Lock()
	if t.gen != w.gen {
		t.mu.Unlock()
		return
	}
	for id, si := range infos {
		t.storages[id] = si
	}
	var changes []Change
	bySlot := map[uint16]*Object{}
	for _, n := range fresh {
		bySlot[Slot(n.Storage)] = n
	}
	for _, o := range slices.Clone(t.root.children) {
		if n, ok := bySlot[Slot(o.Storage)]; ok {
			o.cur = n.cur
			delete(bySlot, Slot(o.Storage))
			continue
		}
		if present[Slot(o.Storage)] {
			continue // not available for now
		}
		delete(t.storages, o.cur.storage)
		changes = append(changes, Change{Dir: t.removeLocked(o), Obj: o, Removed: true})
	}
	for _, n := range fresh {
		if bySlot[Slot(n.Storage)] != n {
			continue
		}
		taken := map[string]bool{ControlDirName: true, CameraDirName: true}
		for _, c := range t.root.children {
			taken[c.Name] = true
		}
		n.Name = uniqueNames([]string{n.Name}, []entryKey{{raw: n.RawName, handle: n.Storage}}, taken)[0]
		n.Ino = inodeOf(Slot(n.Storage), n.Path())
		t.installLocked(t.root, append(slices.Clip(t.root.children), n))
		changes = append(changes, Change{Dir: t.root, Obj: n})
	}
	t.mu.Unlock()
	t.changedAll(changes)
}

// listedDir is a listed folder and the handles of its entries, as the
// tree knows them.
type listedDir struct {
	dir     *Object
	at      address
	handles map[uint32]*Object
}

// diff lists every listed folder again and applies the differences.
func (w *watcher) diff(ctx context.Context) {
	t := w.t
	cam := w.camera()
	if cam == nil {
		return
	}
	w.storages(ctx)
	t.mu.Lock()
	// Listing every listed folder costs one round trip each: on a
	// WiFi link a card of 50 folders would keep the session busy half of
	// every 2 s. A shot or a deletion moves the storage's free space, so
	// the folders are listed again only when it moved, and at least
	// every FullDiffEvery in case a camera reports its free space
	// coarsely.
	print := storagePrintLocked(t.storages)
	if print == w.lastPrint && time.Since(w.lastFull) < FullDiffEvery {
		t.mu.Unlock()
		return
	}
	w.lastPrint, w.lastFull = print, time.Now()
	var dirs []listedDir
	var walk func(d *Object)
	walk = func(d *Object) {
		for _, c := range d.children {
			if !c.IsDir() || !c.listed || c.gone {
				continue
			}
			ld := listedDir{dir: c, at: c.cur, handles: make(map[uint32]*Object, len(c.children))}
			for _, e := range c.children {
				ld.handles[e.cur.handle] = e
			}
			dirs = append(dirs, ld)
			walk(c)
		}
	}
	walk(t.root)
	t.mu.Unlock()
	for _, d := range dirs {
		if ctx.Err() != nil {
			return
		}
		hs, err := cam.ObjectHandles(ctx, d.at.storage, d.at.handle)
		if err != nil {
			// A folder deleted on the camera is taken out by its
			// parent's listing.
			t.log.Debug("listing a folder again failed", "dir", "/"+d.dir.Path(), "err", err)
			continue
		}
		now := make(map[uint32]bool, len(hs))
		for _, h := range hs {
			now[h] = true
			if d.handles[h] == nil && !w.seen[h] {
				w.add(ctx, h)
			}
		}
		for h, o := range d.handles {
			if !now[h] {
				w.removeObject(o)
			}
		}
	}
}

// storagePrintLocked is a fingerprint of the storages' identities and free
// space. t.mu is held.
func storagePrintLocked(infos map[uint32]*mtp.StorageInfo) string {
	ids := slices.Sorted(maps.Keys(infos))
	var b strings.Builder
	for _, id := range ids {
		si := infos[id]
		fmt.Fprintf(&b, "%x:%d:%d:%d;", id, si.MaxCapacity, si.FreeSpaceInBytes, si.FreeSpaceInImages)
	}
	return b.String()
}

// removeObject removes o if it is still in the tree of this session.
func (w *watcher) removeObject(o *Object) {
	t := w.t
	t.mu.Lock()
	if t.gen != w.gen || o.gone {
		t.mu.Unlock()
		return
	}
	dir := t.removeLocked(o)
	t.mu.Unlock()
	t.changed(Change{Dir: dir, Obj: o, Removed: true})
}
