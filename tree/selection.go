package tree

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// The photos the user marked on the camera ("Select to send to smart
// device" on a Nikon): the camera's own selection, shown as a folder of the
// root (SelectionDirName) holding those files under their own names. An
// entry is the card tree's object itself, so the file has one inode and
// one set of cached blocks, whichever folder it is read through. The watcher
// asks the camera again every SelectionEvery and after each change it
// reports (the camera tells of no mark), so the folder follows the camera
// while mounted; it exists only while the camera has a list.

// SelectionDirName is the root folder of the photos marked on the camera.
// It is reserved: no storage takes it.
const SelectionDirName = "Selected on camera"

// SelectionEvery is how often the watcher asks for the camera's selection.
const SelectionEvery = 3 * time.Second

// MaxSelection caps the selection folder's entries: a hostile camera's
// list of a million handles costs no more than this.
const MaxSelection = 10_000

// SelectionCamera is a Camera that can tell which photos the user marked
// on it. A camera without the notion answers an error wrapping
// errors.ErrUnsupported without a round trip; one with nothing marked
// answers an error wrapping ErrNoSelection.
type SelectionCamera interface {
	MarkedHandles(ctx context.Context) ([]uint32, error)
}

// ErrNoSelection is a SelectionCamera's answer when nothing is marked.
var ErrNoSelection = errors.New("tree: nothing marked on the camera")

// MarkedHandles runs Nikon's GetTransferList (mtp.Device.NikonTransferList)
// on a Nikon, whether its DeviceInfo lists it or not, as Airnef does.
func (c deviceCamera) MarkedHandles(ctx context.Context) ([]uint32, error) {
	if c.d.Vendor() != mtp.VendorNikon {
		return nil, errors.ErrUnsupported
	}
	hs, err := c.d.NikonTransferList(ctx)
	if errors.Is(err, mtp.ErrNoTransferList) {
		return nil, errors.Join(ErrNoSelection, err)
	}
	return hs, err
}

var _ = (SelectionCamera)(deviceCamera{})

// Selected is one entry of the selection folder: a file of the card tree
// and its name in the folder (its own, unless two marked files share it).
type Selected struct {
	Name string
	Obj  *Object
}

// selectionState is the selection the tree shows; guarded by Tree.mu.
type selectionState struct {
	on      bool       // the camera has a list
	entries []Selected // sorted by Name
	byName  map[string]*Object
	marked  map[*Object]bool
	refused bool // the camera refused the operation: not asked again
	capped  bool // the cap was logged
	// notify is told when the selection changed (fusefs).
	notify func(before, after []Selected, wasOn, isOn bool)
}

// OnSelection makes fn the receiver of the selection's changes: the
// entries before and after, and whether the folder was and is shown. It
// runs on the watcher's goroutine, outside the tree's lock.
func (t *Tree) OnSelection(fn func(before, after []Selected, wasOn, isOn bool)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sel.notify = fn
}

// Selection is the selection folder's entries, sorted by name, and
// whether the folder is shown (the camera has a list). The slice is
// shared: do not modify it.
func (t *Tree) Selection() ([]Selected, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sel.entries, t.sel.on
}

// SelectionLookup is the file called name in the selection folder.
func (t *Tree) SelectionLookup(name string) (*Object, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.sel.on {
		return nil, false
	}
	o, ok := t.sel.byName[name]
	return o, ok
}

// IsSelected reports whether file o is in the selection folder too.
func (t *Tree) IsSelected(o *Object) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sel.on && t.sel.marked[o]
}

// RefreshSelection asks the camera of the current session for its
// selection and shows it. Marked photos in folders not listed yet are
// found by listing those folders. It reports whether the selection
// changed. A camera that cannot tell (not a Nikon, or one that refuses the
// operation) is not asked again; while disconnected nothing changes.
func (t *Tree) RefreshSelection(ctx context.Context) (bool, error) {
	t.mu.Lock()
	cam, gen, refused := t.cam, t.gen, t.sel.refused
	t.mu.Unlock()
	sc, ok := cam.(SelectionCamera)
	if cam == nil || !ok || refused {
		return false, nil
	}
	hs, err := sc.MarkedHandles(ctx)
	var rc mtp.ResponseCode
	switch {
	case errors.Is(err, ErrNoSelection):
		hs, err = nil, nil
	case errors.Is(err, errors.ErrUnsupported),
		errors.As(err, &rc) && (rc == mtp.RespOperationNotSupported || rc == mtp.RespParameterNotSupported):
		t.mu.Lock()
		t.sel.refused = true
		t.mu.Unlock()
		t.log.Debug("the camera keeps no selection of photos to send", "err", err)
		return t.showSelection(gen, false, nil), nil
	case err != nil:
		return false, err
	}
	on := len(hs) > 0 // an empty list is no list
	objs := t.resolve(hs)
	if len(objs) < len(hs) {
		// Marked photos in folders not listed yet: list them all.
		t.listAll(ctx)
		objs = t.resolve(hs)
	}
	return t.showSelection(gen, on, objs), nil
}

// resolve finds the listed files of handles hs in the current session, in
// the order of hs.
func (t *Tree) resolve(hs []uint32) []*Object {
	if len(hs) == 0 {
		return nil
	}
	want := make(map[uint32]int, len(hs))
	for i, h := range hs {
		want[h] = i
	}
	found := make([]*Object, len(hs))
	t.mu.Lock()
	var walk func(d *Object)
	walk = func(d *Object) {
		for _, c := range d.children {
			if c.gone {
				continue
			}
			if c.Kind != KindFile {
				walk(c)
			} else if i, ok := want[c.cur.handle]; ok {
				found[i] = c
			}
		}
	}
	walk(t.root)
	t.mu.Unlock()
	return slices.DeleteFunc(found, func(o *Object) bool { return o == nil })
}

// listAll lists every folder not listed yet, as a background reader
// would; failures leave a folder unlisted.
func (t *Tree) listAll(ctx context.Context) {
	var walk func(d *Object)
	walk = func(d *Object) {
		children, err := t.List(ctx, d)
		if err != nil {
			t.log.Debug("listing for the camera's selection failed", "dir", "/"+d.Path(), "err", err)
			return
		}
		for _, c := range children {
			if c.IsDir() && ctx.Err() == nil {
				walk(c)
			}
		}
	}
	walk(t.root)
}

// showSelection installs objs (a session gen's) as the selection, with
// the folder shown when on, and tells OnSelection if anything changed.
func (t *Tree) showSelection(gen uint64, on bool, objs []*Object) bool {
	if len(objs) > MaxSelection {
		t.mu.Lock()
		first := !t.sel.capped
		t.sel.capped = true
		t.mu.Unlock()
		if first {
			t.log.Warn("the camera's selection is longer than the folder holds: the rest is left out",
				"marked", len(objs), "max", MaxSelection)
		}
		objs = objs[:MaxSelection]
	}
	names := make([]string, len(objs))
	keys := make([]entryKey, len(objs))
	for i, o := range objs {
		names[i] = o.Name
		keys[i] = entryKey{raw: o.RawName, mtime: o.Mtime.UnixNano(), size: o.Size, handle: o.Handle}
	}
	unique := uniqueNames(names, keys, nil)
	entries := make([]Selected, 0, len(objs))
	for i, o := range objs {
		if unique[i] != "" {
			entries = append(entries, Selected{Name: unique[i], Obj: o})
		}
	}
	slices.SortFunc(entries, func(a, b Selected) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	t.mu.Lock()
	if t.gen != gen {
		t.mu.Unlock()
		return false
	}
	before, wasOn := t.sel.entries, t.sel.on
	if wasOn == on && slices.Equal(before, entries) {
		t.mu.Unlock()
		return false
	}
	t.sel.on, t.sel.entries = on, entries
	t.sel.byName = make(map[string]*Object, len(entries))
	t.sel.marked = make(map[*Object]bool, len(entries))
	for _, e := range entries {
		t.sel.byName[e.Name] = e.Obj
		t.sel.marked[e.Obj] = true
	}
	fn := t.sel.notify
	t.mu.Unlock()
	t.log.Info("the camera's selection changed", "shown", on, "photos", len(entries))
	if fn != nil {
		fn(before, entries, wasOn, on)
	}
	return true
}
