package tree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// ErrNotFound is returned by Lookup for a name the directory does not hold.
var ErrNotFound = errors.New("fusefs: no such object")

// ErrNotFile is returned by ReadAt for a directory.
var ErrNotFile = errors.New("fusefs: not a file")

// ErrDisconnected is returned for anything that needs the camera while the
// tree has no session (Disconnect until Reconnect): the files answer EIO
// at once instead of waiting on a camera that is gone.
var ErrDisconnected = errors.New("fusefs: camera disconnected")

// statfsMaxAge is how long Statfs answers from the StorageInfo it has
// before asking the camera again: file managers call statfs often.
const statfsMaxAge = 10 * time.Second

// Config configures a Tree.
type Config struct {
	// Location is the camera's time zone: its dates are wall times
	// without a zone. Nil means time.Local.
	Location *time.Location
	Logger   *slog.Logger
	// MaxObjects caps the objects the tree holds (0: DefaultMaxObjects);
	// a listing beyond it fails with ErrTooManyObjects (limits.go).
	MaxObjects int
	// Meta is the metadata cache of this camera (metacache.go): folders
	// listed on an earlier mount are checked with one GetObjectHandles
	// and, when unchanged, described from it. Nil lists everything from
	// the camera.
	Meta *MetaCache
}

// Tree is the camera's object tree: root -> one directory per storage ->
// the camera's folders -> files. Directories are listed from the camera on
// first use and then kept. It needs no FUSE: the nodes in node.go are thin
// adapters over it.
//
// Locking: mu guards every directory's listing state, the inode index,
// the storage infos, the camera and every object's current address; it is
// never held across a camera round trip. A
// listing runs once per directory however many callers ask, on the tree's
// own context, so an interrupted caller stops waiting without cancelling
// it for the others.
type Tree struct {
	loc *time.Location
	log *slog.Logger

	ctx    context.Context // listings and refreshes run on it
	cancel context.CancelFunc

	mu       sync.Mutex
	cam      Camera // nil while disconnected
	gen      uint64 // counts sessions: a listing of an older one is dropped
	root     *Object
	byIno    map[uint64]*Object
	storages map[uint32]*mtp.StorageInfo
	statAt   time.Time    // when storages were last read
	statBusy bool         // a Usage refresh is asking the camera
	notify   func(Change) // told of each change Watch applies (watch.go)

	inoGen map[uint64]uint64  // next generation of a place (generation.go)
	reborn map[uint64]*Object // files of a later generation by cache ID
	// notifyAll, when set, is told of changes applied together instead
	// of notify (watch.go).
	notifyAll func([]Change)

	listed   atomic.Int64 // objects described by the camera so far
	listings atomic.Int32 // listings running now

	meta       *MetaCache  // nil: no metadata cache
	noPropList atomic.Bool // GetObjectPropList failed: not asked again

	lim limits // the bounds on what a camera can make the tree hold
}

// New makes the tree of the camera behind cam. Nothing is asked of the
// camera until a directory is listed.
func New(cam Camera, cfg Config) *Tree {
	loc := cfg.Location
	if loc == nil {
		loc = time.Local
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	root := &Object{Kind: KindRoot, Ino: RootIno, Mtime: Epoch, Handle: storageRoot, cur: address{handle: storageRoot}}
	return &Tree{
		cam: cam, loc: loc, log: log, ctx: ctx, cancel: cancel,
		root:     root,
		byIno:    map[uint64]*Object{RootIno: root},
		storages: map[uint32]*mtp.StorageInfo{},
		lim:      newLimits(cfg.MaxObjects),
		meta:     cfg.Meta,
	}
}

// Close stops the listings in progress and saves the metadata cache. The
// tree answers from what it has listed afterwards, and fails what needs
// the camera.
func (t *Tree) Close() {
	t.cancel()
	if err := t.meta.Close(); err != nil {
		t.log.Warn("cannot save the metadata cache; the next mount lists the card from the camera", "err", err)
	}
}

// session returns the camera, the session generation and where o is in
// that session: ErrDisconnected without a camera, ErrNotFound for an
// object not found again after a reconnect.
func (t *Tree) session(o *Object) (Camera, uint64, address, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case o.gone:
		return nil, 0, address{}, fmt.Errorf("%q: %w", "/"+o.Path(), ErrNotFound)
	case t.cam == nil:
		return nil, 0, address{}, ErrDisconnected
	}
	return t.cam, t.gen, o.cur, nil
}

// Context is the tree's own context: listings run on it, and it ends at
// Close.
func (t *Tree) Context() context.Context { return t.ctx }

// Root is the mount's root directory.
func (t *Tree) Root() *Object { return t.root }

// ObjectsListed is how many objects the camera has described so far.
func (t *Tree) ObjectsListed() int64 { return t.listed.Load() }

// Object returns the object with inode number ino, if it has been listed.
func (t *Tree) Object(ino uint64) (*Object, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o, ok := t.byIno[ino]
	return o, ok
}

// Listed reports whether dir's entries are known without asking the camera.
func (t *Tree) Listed(dir *Object) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return dir.listed
}

// Subdirs is the number of directories in dir, or -1 when dir has not been
// listed yet.
func (t *Tree) Subdirs(dir *Object) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !dir.listed {
		return -1
	}
	return dir.subdirs
}

// List returns dir's entries sorted by name, listing dir from the camera
// the first time. The slice is shared: do not modify it.
func (t *Tree) List(ctx context.Context, dir *Object) ([]*Object, error) {
	if !dir.IsDir() {
		return nil, fmt.Errorf("list %q: %w", dir.Path(), ErrNotFile)
	}
	if err := t.ensureListed(ctx, dir); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return dir.children, nil
}

// Lookup returns the entry called name in dir, listing dir first if
// needed. A name dir does not hold is ErrNotFound.
func (t *Tree) Lookup(ctx context.Context, dir *Object, name string) (*Object, error) {
	if err := t.ensureListed(ctx, dir); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if o, ok := dir.byName[name]; ok {
		return o, nil
	}
	return nil, fmt.Errorf("lookup %q in %q: %w", name, dir.Path(), ErrNotFound)
}

// ensureListed makes sure dir has been listed, starting the listing or
// joining the one in progress. It returns early with ctx's error when ctx
// ends first; the listing goes on for the others.
func (t *Tree) ensureListed(ctx context.Context, dir *Object) error {
	return t.awaitListed(ctx, dir, false)
}

// awaitListed is ensureListed. With oneRequest, a listing it starts may
// cost only one request (the warm listing's, warm.go): it ends with
// errNotCheap rather than describe the folder's objects one by one. A
// caller without oneRequest that joined such a listing and saw it give up
// starts a full one.
func (t *Tree) awaitListed(ctx context.Context, dir *Object, oneRequest bool) error {
	for {
		t.mu.Lock()
		if dir.listed {
			t.mu.Unlock()
			return nil
		}
		if dir.gone {
			t.mu.Unlock()
			return fmt.Errorf("list %q: %w", "/"+dir.Path(), ErrNotFound)
		}
		l := dir.listing
		if l == nil {
			l = &listing{done: make(chan struct{}), oneRequest: oneRequest}
			dir.listing = l
			go t.runListing(dir, l)
		}
		t.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if oneRequest || !errors.Is(l.err, errNotCheap) {
			return l.err
		}
	}
}

// errNotCheap ends a listing that may cost only one request (awaitListed)
// of a folder that needs one GetObjectInfo per object.
var errNotCheap = errors.New("fusefs: folder not listed with one request")

// listing is one run of a directory listing that callers wait on.
type listing struct {
	done chan struct{}
	err  error // set before done is closed
	// oneRequest: the listing gives up (errNotCheap) rather than
	// describe objects one by one.
	oneRequest bool
}

// listMode is how a listing of a folder runs: whether it may cost only
// one request.
type listMode struct {
	oneRequest bool
}

func (t *Tree) runListing(dir *Object, l *listing) {
	t.listings.Add(1)
	defer t.listings.Add(-1)
	start := time.Now()
	var children []*Object
	var infos map[uint32]*mtp.StorageInfo
	cam, gen, at, err := t.session(dir)
	if err == nil {
		if dir.Kind == KindRoot {
			children, infos, err = t.listStorages(t.ctx, cam)
		} else {
			children, err = t.listFolderMode(t.ctx, cam, dir, at, listMode{oneRequest: l.oneRequest})
		}
	}
	t.mu.Lock()
	if err == nil && t.gen != gen {
		// The session changed under the listing: its handles belong
		// to the old one.
		err = ErrDisconnected
	}
	t.mu.Unlock()
	switch {
	case errors.Is(err, errNotCheap):
		err = fmt.Errorf("list %q: %w", "/"+dir.Path(), err)
		t.log.Debug("not listed: it takes one request per object; listed when opened", "dir", "/"+dir.Path())
	case err != nil:
		err = fmt.Errorf("list %q: %w", "/"+dir.Path(), err)
		t.log.Debug("listing failed", "dir", "/"+dir.Path(), "err", err)
	default:
		t.log.Debug("listed", "dir", "/"+dir.Path(), "entries", len(children), "dur", time.Since(start))
	}
	t.mu.Lock()
	if err == nil {
		t.installLocked(dir, children)
		for id, si := range infos {
			t.storages[id] = si
		}
		if infos != nil {
			t.statAt = time.Now()
		}
		t.meta.touched()
	}
	l.err = err
	dir.listing = nil
	t.mu.Unlock()
	close(l.done)
}

// installLocked makes children dir's entries. t.mu must be held.
func (t *Tree) installLocked(dir *Object, children []*Object) {
	sort.Slice(children, func(i, j int) bool { return children[i].Name < children[j].Name })
	dir.byName = make(map[string]*Object, len(children))
	dir.subdirs = 0
	for _, c := range children {
		dir.byName[c.Name] = c
		if c.IsDir() {
			dir.subdirs++
		}
		old, ok := t.byIno[c.Ino]
		if ok && old != c && old.Path() != c.Path() {
			t.log.Warn("inode number collision", "ino", c.Ino, "a", old.Path(), "b", c.Path())
		}
		if old != c {
			t.bornLocked(c)
		}
		t.byIno[c.Ino] = c
	}
	dir.children = children
	dir.listed = true
}

// reservedRootNames are the control directories at the root: a storage
// never takes their names.
var reservedRootNames = map[string]bool{ControlDirName: true, CameraDirName: true}

// Reserved reports whether name is one of the control directories at the
// root, which neither a storage nor a renamed directory takes.
func Reserved(name string) bool { return reservedRootNames[name] }

// listStorages lists the root: one directory per storage that holds a
// medium, named from its StorageDescription, else its VolumeLabel, else
// cardN by its slot.
func (t *Tree) listStorages(ctx context.Context, cam Camera) ([]*Object, map[uint32]*mtp.StorageInfo, error) {
	ids, err := cam.StorageIDs(ctx)
	if err != nil {
		return nil, nil, err
	}
	return t.describeStorages(ctx, cam, ids)
}

// describeStorages is listStorages for the storage IDs the camera gave.
func (t *Tree) describeStorages(ctx context.Context, cam Camera, ids []uint32) ([]*Object, map[uint32]*mtp.StorageInfo, error) {
	ids = slices.Clone(ids)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	infos := make(map[uint32]*mtp.StorageInfo, len(ids))
	var objs []*Object
	var names []string
	var keys []entryKey
	for _, id := range ids {
		if id&0xFFFF == 0 {
			continue // a slot without a medium (PTP's rule)
		}
		si, err := cam.StorageInfo(ctx, id)
		if errors.Is(err, mtp.RespInvalidStorageID) || errors.Is(err, mtp.RespStoreNotAvailable) {
			t.log.Info("storage not available; skipped", "storage", fmt.Sprintf("%#08x", id), "err", err)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		infos[id] = si
		t.meta.storage(Slot(id), si)
		raw := si.StorageDescription
		if raw == "" {
			raw = si.VolumeLabel
		}
		if raw == "" {
			raw = fmt.Sprintf("card%d", Slot(id))
		}
		objs = append(objs, &Object{
			Kind: KindStorage, Mtime: Epoch, Handle: storageRoot, Storage: id,
			RawName: raw, parent: t.root, cur: address{storage: id, handle: storageRoot},
		})
		names = append(names, sanitizeName(raw))
		keys = append(keys, entryKey{raw: raw, handle: id})
	}
	unique := uniqueNames(names, keys, reservedRootNames)
	for i, o := range objs {
		o.Name = unique[i]
		o.Ino = inodeOf(Slot(o.Storage), o.Path())
	}
	return objs, infos, nil
}

// listFolder lists one folder (or a storage's top level), which is at in
// cam's session: it describes the folder's objects (describeFolder), then
// builds the entries from the descriptions (buildEntries), and records
// both in the metadata cache.
func (t *Tree) listFolder(ctx context.Context, cam Camera, dir *Object, at address) ([]*Object, error) {
	return t.listFolderMode(ctx, cam, dir, at, listMode{})
}

// listFolderMode is listFolder with mode.oneRequest (awaitListed).
func (t *Tree) listFolderMode(ctx context.Context, cam Camera, dir *Object, at address, mode listMode) ([]*Object, error) {
	if err := t.lim.refusedErr(dir); err != nil {
		return nil, err // too many objects: the camera is not asked again
	}
	key := metaKeyOf(dir)
	handles, descs, err := t.describeFolder(ctx, cam, dir, at, key, mode)
	if err != nil {
		return nil, err
	}
	objs, err := t.buildEntries(ctx, cam, dir, at, descs)
	if err != nil {
		return nil, err
	}
	// Recorded after the build, which learns the exact size of objects
	// over 4 GiB.
	t.meta.record(key, handles, descs)
	return objs, nil
}

// described is one object listed in a folder: its handle and, unless it
// was not described (gone since listed, a duplicate, a parent cycle), its
// ObjectInfo and, when known, its exact 64-bit size.
type described struct {
	h    uint32
	info *mtp.ObjectInfo
	size uint64 // 0: unknown (then CompressedSize, or ObjectSize beyond 4 GiB)
}

// describeFolder describes the objects of dir, which is at in cam's
// session, in the cheapest way that is right:
//
//   - from the metadata cache, when GetObjectHandles answers the handles
//     the cache recorded (and, when the card changed since, one
//     GetObjectInfo agrees with the cached description: spotCheck);
//   - else with one GetObjectPropList, when the camera has it;
//   - else with GetObjectHandles and one GetObjectInfo per object, unless
//     mode.oneRequest (then errNotCheap).
//
// It returns the handles the camera listed, which the cache records and
// checks the next time, and the descriptions in the camera's order. (A
// camera that answers GetObjectPropList depth 1 with every object never
// lists the same handles with GetObjectHandles: its folders are listed
// from the camera on every mount, one operation each, never wrongly.)
func (t *Tree) describeFolder(ctx context.Context, cam Camera, dir *Object, at address, key metaKey, mode listMode) ([]uint32, []described, error) {
	var handles []uint32
	haveHandles := false
	if rec := t.meta.folder(key); rec != nil {
		var err error
		if handles, err = cam.ObjectHandles(ctx, at.storage, at.handle); err != nil {
			return nil, nil, err
		}
		haveHandles = true
		ok := sameHandles(handles, rec.Handles)
		if ok && t.meta.stale(rec) {
			if ok, err = t.spotCheck(ctx, cam, rec); err != nil {
				return nil, nil, err
			}
		}
		if ok {
			descs := rec.described()
			if err := t.checkCount(dir, len(descs)); err != nil {
				return nil, nil, err
			}
			t.log.Debug("listed from the metadata cache", "dir", "/"+dir.Path(), "objects", len(descs))
			return handles, descs, nil
		}
		t.log.Debug("metadata cache out of date: listing from the camera", "dir", "/"+dir.Path())
	}
	// A storage's top level keeps GetObjectHandles: GetObjectPropList
	// has no StorageID parameter, so "the top level" would be handle 0
	// (MTP 1.1 E.2.1.1: the root of every storage at once, which is what
	// the simulator answers), on a dual-slot camera both cards mixed, and
	// cameras differ in how they read handle 0. The top level holds one
	// to three folders (DCIM, MISC, PRIVATE): the round trips saved would
	// be few.
	if at.handle != storageRoot {
		handles, descs, ok, err := t.describeByPropList(ctx, cam, dir, at, mode)
		if err != nil || ok {
			return handles, descs, err
		}
	}
	if mode.oneRequest && (!haveHandles || len(handles) > 0) {
		return nil, nil, errNotCheap
	}
	if !haveHandles {
		var err error
		if handles, err = cam.ObjectHandles(ctx, at.storage, at.handle); err != nil {
			return nil, nil, err
		}
	}
	if err := t.checkCount(dir, len(handles)); err != nil {
		return nil, nil, err
	}
	descs := make([]described, len(handles))
	for i, h := range handles {
		descs[i].h = h
	}
	if err := t.describeEach(ctx, cam, dir, descs, false); err != nil {
		return nil, nil, err
	}
	return handles, descs, nil
}

// describeByPropList describes dir's objects with one GetObjectPropList.
// ok is false, with no error, when the camera cannot or will not: the
// caller then lists the old way. A response code stops the tree from
// asking again in this session (a camera that refuses it once refuses it
// for every folder: OperationNotSupported, SpecificationByGroupUnsupported,
// InvalidObjectPropCode, ParameterNotSupported, GeneralError...); an
// answer too large or malformed falls back for this folder only. A
// transport error is an error: the session is gone.
func (t *Tree) describeByPropList(ctx context.Context, cam Camera, dir *Object, at address, mode listMode) ([]uint32, []described, bool, error) {
	fd, ok := cam.(FolderDescriber)
	if !ok || t.noPropList.Load() {
		return nil, nil, false, nil
	}
	list, err := fd.DescribeFolder(ctx, at.handle)
	var refused mtp.ResponseCode
	switch {
	case err == nil:
	case errors.Is(err, errors.ErrUnsupported):
		t.noPropList.Store(true)
		return nil, nil, false, nil
	case errors.Is(err, mtp.RespInvalidObjectHandle):
		// The folder is gone: the old way says so as it always has.
		return nil, nil, false, nil
	case errors.As(err, &refused):
		if !t.noPropList.Swap(true) {
			t.log.Info("the camera refused GetObjectPropList: listing with one GetObjectInfo per object",
				"dir", "/"+dir.Path(), "err", err)
		}
		return nil, nil, false, nil
	case errors.Is(err, mtp.ErrTooLarge), errors.Is(err, mtp.ErrMalformed):
		t.log.Warn("GetObjectPropList answer unusable: listing the folder with one GetObjectInfo per object",
			"dir", "/"+dir.Path(), "err", err)
		return nil, nil, false, nil
	default:
		return nil, nil, false, err
	}
	if err := t.checkCount(dir, len(list)); err != nil {
		return nil, nil, false, err
	}
	handles := make([]uint32, len(list))
	descs := make([]described, len(list))
	for i, d := range list {
		handles[i] = d.Handle
		descs[i] = described{h: d.Handle, info: d.Info, size: d.Size}
	}
	// Objects the list described incompletely are asked one by one.
	if err := t.describeEach(ctx, cam, dir, descs, mode.oneRequest); err != nil {
		return nil, nil, false, err
	}
	return handles, descs, true, nil
}

// describeEach asks GetObjectInfo for each object of descs not described
// yet, except the ones buildEntries skips without looking: duplicates,
// handles 0 and 0xFFFFFFFF, and the folders above (a parent cycle). An
// object gone since it was listed stays undescribed. With oneRequest it
// asks nothing: an object to ask about is errNotCheap.
func (t *Tree) describeEach(ctx context.Context, cam Camera, dir *Object, descs []described, oneRequest bool) error {
	anc := t.ancestorHandles(dir)
	seen := make(map[uint32]bool, len(descs))
	prog := newProgress(t.log, "listing a folder", ProgressEvery)
	for i := range descs {
		d := &descs[i]
		prog.tick(i, len(descs), "dir", "/"+dir.Path())
		if seen[d.h] || d.h == 0 || d.h == storageRoot || anc[d.h] {
			continue
		}
		seen[d.h] = true
		if d.info != nil {
			continue
		}
		if oneRequest {
			return errNotCheap
		}
		info, err := cam.ObjectInfo(ctx, d.h)
		if errors.Is(err, mtp.RespInvalidObjectHandle) {
			continue // deleted on the camera since it was listed
		}
		if err != nil {
			return err
		}
		d.info = info
	}
	return nil
}

// buildEntries makes dir's entries, not yet installed, from the
// descriptions of the objects the camera listed for it (describeFolder):
// it keeps the ones that belong to dir, skips the bad ones, and names them
// uniquely. The exact sizes it learns are written back into descs.
func (t *Tree) buildEntries(ctx context.Context, cam Camera, dir *Object, at address, descs []described) ([]*Object, error) {
	anc := t.ancestorHandles(dir)
	tooDeep := depth(dir)+1 > MaxDepth // for folders among the entries
	strays := map[uint32]uint32{}      // listed here, not in here: handle -> ParentObject
	var objs []*Object
	var names []string
	var keys []entryKey
	seen := make(map[uint32]bool, len(descs))
	for i := range descs {
		d := &descs[i]
		h, info := d.h, d.info
		if seen[h] || h == 0 || h == storageRoot {
			continue
		}
		seen[h] = true
		if anc[h] {
			t.skipBad(dir, at.storage, h, "parent cycle: a folder lists itself or a folder above it")
			continue
		}
		if info == nil {
			continue // gone since it was listed
		}
		t.listed.Add(1)
		if !t.belongs(dir, at, info) {
			// Some cameras ignore the parent filter and return every
			// object of the storage (libmtp notes devices that answer
			// GetObjectPropList depth 1 with every object, too): keep
			// this folder's only.
			strays[h] = info.ParentObject
			continue
		}
		o, ok, err := t.newEntrySized(ctx, cam, dir, at, h, info, d.size, tooDeep)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if o.Kind == KindFile && info.CompressedSize == 0xFFFFFFFF {
			d.size = uint64(o.Size)
		}
		objs = append(objs, o)
		names = append(names, sanitizeName(info.Filename))
		keys = append(keys, entryKey{raw: info.Filename, mtime: o.Mtime.UnixNano(), size: o.Size, handle: h})
	}
	t.reportCycles(dir, at.storage, strays)
	unique := uniqueNames(names, keys, nil)
	for i, o := range objs {
		o.Name = unique[i]
		o.Ino = inodeOf(Slot(o.Storage), o.Path())
	}
	return objs, nil
}

// spotCheck reports whether the cached listing rec still describes its
// folder on a card that changed since it was recorded. Some cameras number
// handles afresh in each session (design.md: an object's identity is its
// place, not its handle): after a shot was taken or deleted, the same set
// of handles may name other objects. One GetObjectInfo of the last object
// recorded must agree with its cached name, format, parent, size and date.
func (t *Tree) spotCheck(ctx context.Context, cam Camera, rec *metaFolder) (bool, error) {
	last := rec.last()
	if last == nil {
		return true, nil // nothing described: nothing to mix up
	}
	info, err := cam.ObjectInfo(ctx, last.Handle)
	var refused mtp.ResponseCode
	if errors.As(err, &refused) {
		return false, nil // gone, or not the object it was: list again
	}
	if err != nil {
		return false, err
	}
	want := last.info()
	return info.Filename == want.Filename && info.ObjectFormat == want.ObjectFormat &&
		info.ParentObject == want.ParentObject && info.CompressedSize == want.CompressedSize &&
		t.sameDate(info.CaptureDate, want.CaptureDate), nil
}

// sameDate reports whether two camera dates are the same time: GetObjectInfo
// and GetObjectPropList may write one date differently.
func (t *Tree) sameDate(a, b string) bool {
	ta, oka := mtp.ParseDate(a, t.loc)
	tb, okb := mtp.ParseDate(b, t.loc)
	if oka && okb {
		return ta.Equal(tb)
	}
	return a == b
}

// newEntry makes the Object, not yet named, of object h of dir, which is
// at in cam's session, from its ObjectInfo. ok is false for an object
// left out (logged): a folder nested too deep (tooDeep), a file whose
// size the camera cannot tell.
func (t *Tree) newEntry(ctx context.Context, cam Camera, dir *Object, at address, h uint32, info *mtp.ObjectInfo, tooDeep bool) (o *Object, ok bool, err error) {
	return t.newEntrySized(ctx, cam, dir, at, h, info, 0, tooDeep)
}

// newEntrySized is newEntry for an object whose exact size may be known
// already (exact, 0 if not): a file over 4 GiB described by a property
// list, or by the metadata cache, needs no ObjectSize round trip.
func (t *Tree) newEntrySized(ctx context.Context, cam Camera, dir *Object, at address, h uint32, info *mtp.ObjectInfo, exact uint64, tooDeep bool) (o *Object, ok bool, err error) {
	if tooDeep && info.ObjectFormat == mtp.FormatAssociation {
		t.skipBad(dir, at.storage, h, fmt.Sprintf("folder nested deeper than %d levels", MaxDepth), "name", info.Filename)
		return nil, false, nil
	}
	o = &Object{
		Handle: h, Storage: at.storage, Format: info.ObjectFormat,
		RawName: info.Filename, parent: dir, cur: address{storage: at.storage, handle: h},
	}
	if info.ObjectFormat == mtp.FormatAssociation {
		o.Kind = KindFolder
	} else {
		o.Kind = KindFile
		size := uint64(info.CompressedSize)
		switch {
		case info.CompressedSize == 0xFFFFFFFF && exact >= 0xFFFFFFFF:
			size = exact
		case info.CompressedSize == 0xFFFFFFFF:
			size, err = cam.ObjectSize(ctx, h, info)
			var refused mtp.ResponseCode
			if errors.As(err, &refused) {
				// The camera cannot tell the size of an object
				// over 4 GiB (PTP-only firmware): showing it
				// with a wrong size would make copies silently
				// short, so it is left out, loudly.
				t.log.Warn("object over 4 GiB left out: the camera does not report its size",
					"path", "/"+dir.Path()+"/"+info.Filename, "err", err)
				return nil, false, nil
			}
			if err != nil {
				return nil, false, fmt.Errorf("size of %q: %w", info.Filename, err)
			}
		}
		if size > math.MaxInt64 {
			t.skipBad(dir, at.storage, h, "size beyond 2^63 bytes", "name", info.Filename, "size", size)
			return nil, false, nil
		}
		o.Size = int64(size)
	}
	o.Mtime = t.mtimeOf(info, o.Kind == KindFolder)
	return o, true, nil
}

// belongs reports whether an object the camera listed for dir, which is
// at in this session, really is one of dir's entries.
func (t *Tree) belongs(dir *Object, at address, info *mtp.ObjectInfo) bool {
	if info.StorageID != 0 && info.StorageID != at.storage {
		return false
	}
	if dir.Kind == KindStorage {
		return info.ParentObject == 0 || info.ParentObject == storageRoot
	}
	return info.ParentObject == at.handle
}

// mtimeOf is an object's mtime: its capture date, else its modification
// date, else (for a folder) a date in its name as Sony's dated folders
// carry ("2024-03-15"), else the fixed epoch. Dates are wall times in the
// camera's time zone.
func (t *Tree) mtimeOf(info *mtp.ObjectInfo, folder bool) time.Time {
	if tm, ok := mtp.ParseDate(info.CaptureDate, t.loc); ok {
		return tm
	}
	if tm, ok := mtp.ParseDate(info.ModificationDate, t.loc); ok {
		return tm
	}
	if folder {
		if tm, err := time.ParseInLocation("2006-01-02", info.Filename, t.loc); err == nil {
			return tm
		}
	}
	return Epoch
}

// ReadAt reads len(dst) bytes (fewer at the end) of file o from offset off
// into dst, in one camera operation, on ctx.
func (t *Tree) ReadAt(ctx context.Context, o *Object, off int64, dst []byte) (int, error) {
	if o.Kind != KindFile {
		return 0, fmt.Errorf("read %q: %w", o.Path(), ErrNotFile)
	}
	if off >= o.Size || len(dst) == 0 {
		return 0, nil
	}
	if rest := o.Size - off; int64(len(dst)) > rest {
		dst = dst[:rest]
	}
	cam, _, at, err := t.session(o)
	if err != nil {
		return 0, fmt.Errorf("read %q at %d: %w", o.Path(), off, err)
	}
	w := &sliceWriter{buf: dst}
	_, err = cam.ReadAt(ctx, at.handle, off, uint32(len(dst)), w)
	if err != nil {
		return w.n, fmt.Errorf("read %q at %d: %w", o.Path(), off, err)
	}
	return w.n, nil
}

// sliceWriter is an io.Writer filling a fixed slice; writing past its end
// is an error, never a reallocation.
type sliceWriter struct {
	buf []byte
	n   int
}

var errOverrun = errors.New("fusefs: camera sent more than asked")

func (w *sliceWriter) Write(p []byte) (int, error) {
	n := copy(w.buf[w.n:], p)
	w.n += n
	if n < len(p) {
		return n, errOverrun
	}
	return n, nil
}

var _ io.Writer = (*sliceWriter)(nil)

// Usage is the camera's total capacity and free space over its storages.
type Usage struct {
	Capacity uint64
	Free     uint64
	Storages int
}

// Usage sums the storages' capacity and free space. It answers from the
// StorageInfo read in the last statfsMaxAge, else asks the camera (and
// falls back to the older figures when the camera does not answer).
func (t *Tree) Usage(ctx context.Context) (Usage, error) {
	if err := t.ensureListed(ctx, t.root); err != nil {
		return Usage{}, err
	}
	t.mu.Lock()
	if cam := t.cam; cam != nil && time.Since(t.statAt) > statfsMaxAge && !t.statBusy {
		t.statBusy = true
		ids := make([]uint32, 0, len(t.storages))
		for id := range t.storages {
			ids = append(ids, id)
		}
		t.mu.Unlock()
		fresh := make(map[uint32]*mtp.StorageInfo, len(ids))
		for _, id := range ids {
			si, err := cam.StorageInfo(ctx, id)
			if err != nil {
				t.log.Debug("storage info refresh failed", "storage", fmt.Sprintf("%#08x", id), "err", err)
				fresh = nil
				break
			}
			fresh[id] = si
		}
		t.mu.Lock()
		for id, si := range fresh {
			t.storages[id] = si
		}
		t.statAt = time.Now()
		t.statBusy = false
	}
	defer t.mu.Unlock()
	var u Usage
	for _, si := range t.storages {
		u.Capacity += si.MaxCapacity
		u.Free += si.FreeSpaceInBytes
		u.Storages++
	}
	return u, nil
}

// FilesBelow returns the files listed below directory o.
func (t *Tree) FilesBelow(o *Object) []*Object {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*Object
	var walk func(d *Object)
	walk = func(d *Object) {
		for _, c := range d.children {
			if c.Kind == KindFile {
				out = append(out, c)
			} else {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

// ListedChildren is dir's entries when it is listed (and not taken out),
// without asking the camera.
func (t *Tree) ListedChildren(dir *Object) ([]*Object, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !dir.listed || dir.gone {
		return nil, false
	}
	return dir.children, true
}
