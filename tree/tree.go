package tree

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// ErrNotFound is returned by Lookup for a name the directory does not hold.
var ErrNotFound = errors.New("tree: no such object")

// ErrNotFile is returned by ReadAt for a directory.
var ErrNotFile = errors.New("tree: not a file")

// ErrDisconnected is returned for anything that needs the camera while the
// tree has no session (Disconnect until Reconnect) and cannot wait for the
// next one (reads and listings wait up to Config.ResumeWithin after the
// loss: resume.go): the files answer EIO.
var ErrDisconnected = errors.New("tree: camera disconnected")

// Config configures a Tree.
type Config struct {
	// Location is the camera's time zone: its dates are wall times
	// without a zone. Nil means time.Local.
	Location *time.Location
	Logger   *slog.Logger
	// MaxObjects caps the objects the tree holds (0: DefaultMaxObjects);
	// a listing beyond it fails with ErrTooManyObjects (limits.go).
	MaxObjects int
	// Meta is the metadata cache of this camera (metacache.go); nil lists
	// everything from the camera.
	Meta *MetaCache
	// ResumeWithin is how long after losing its session a read waits for
	// the next one and goes on there (resume.go); 0: it fails at once.
	ResumeWithin time.Duration
}

// Tree is the camera's object tree: root -> one directory per storage ->
// the camera's folders -> files. Directories are listed from the camera on
// first use and then kept.
//
// mu guards every directory's listing state, the inode index, the storage
// infos, the camera and every object's current address; it is never held
// across a camera round trip.
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
	progress progressSet  // how far the long ones have got (progress.go)

	meta *MetaCache // nil: no metadata cache
	// refused[m] is set once list method m failed: it is not asked again.
	refused [listMethods]atomic.Bool

	lim limits // the bounds on what a camera can make the tree hold

	// Reads across a reconnection (resume.go): how long they wait, when
	// the session was lost, a channel closed at each change of cam, and
	// the counters of Stats.
	resumeWithin    time.Duration
	lostAt          time.Time
	sessionCh       chan struct{}
	readsResumed    atomic.Int64
	listingsResumed atomic.Int64
	reconnections   atomic.Int64

	// Change detection's troubles (watch.go): the event connection lost
	// while the session goes on, and the resync passes run.
	eventsLost atomic.Bool
	resyncs    atomic.Int64

	sel selectionState // the photos marked on the camera (selection.go)
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
	t := &Tree{
		cam: cam, loc: loc, log: log, ctx: ctx, cancel: cancel,
		root:     root,
		byIno:    map[uint64]*Object{RootIno: root},
		storages: map[uint32]*mtp.StorageInfo{},
		lim:      newLimits(cfg.MaxObjects),
		meta:     cfg.Meta,

		resumeWithin: cfg.ResumeWithin,
		sessionCh:    make(chan struct{}),
	}
	t.limitCamera(cam)
	return t
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
// that session: ErrDisconnected without a camera (with the generation), ErrNotFound for an
// object not found again after a reconnect.
func (t *Tree) session(o *Object) (Camera, uint64, address, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case o.gone:
		return nil, 0, address{}, fmt.Errorf("%q: %w", "/"+o.Path(), ErrNotFound)
	case t.cam == nil:
		return nil, t.gen, address{}, ErrDisconnected
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
	t.datesChangedLocked(dir)
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
