package renamed

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airnef-mount/airnef-mount/pathspec"
	"github.com/airnef-mount/airnef-mount/tree"
)

// Config configures a Renamer.
type Config struct {
	// DirSpec names each file's directory (components separated by '/'
	// or '\'); nil keeps the camera's own: the storage and its folders.
	DirSpec *pathspec.Spec
	// FileSpec names each file; nil keeps the camera's name. Parse it
	// with pathspec.ParseFilename.
	FileSpec *pathspec.Spec
	Camera   tree.CameraID
	// DownloadTime is @dldate@ and @dltime@: the mount's start time.
	DownloadTime time.Time
	// Lifetime holds the @dlnum_lifetime@ numbers; nil keeps them in
	// memory (numbered from 1 by this Renamer).
	Lifetime *Lifetime
	// ProgressEvery is how often listing the card logs its progress;
	// 0 means every 2 seconds.
	ProgressEvery time.Duration
	Logger        *slog.Logger
}

// Renamer builds renamed trees of one camera. It keeps the @dlnum@ numbers
// it has handed out: a later Build (after the camera tree was listed
// again) gives known files the same numbers and new captures the next
// ones.
type Renamer struct {
	cfg      Config
	log      *slog.Logger
	lifetime *Lifetime

	// build serialises builds: each starts from the last one's pins.
	build sync.Mutex

	mu     sync.Mutex
	dlnum  map[string]numbered // by place
	lastDL int
	// life are the @dlnum_lifetime@ numbers already had from the store,
	// by place: a rebuild asks the store for new files only.
	life map[string]numbered
	// pinned is where each file of the last tree is, by place.
	pinned map[string]pinnedFile
}

// pinnedFile is the path a file had in the last tree, with its check.
type pinnedFile struct {
	size    int64
	capture string
	dirs    []string
	name    string
}

// numbered is a number handed out to the file at a place, with its check.
type numbered struct {
	num     int
	size    int64
	capture string
}

// NewRenamer returns a Renamer for cfg.
func NewRenamer(cfg Config) *Renamer {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 2 * time.Second
	}
	lt := cfg.Lifetime
	if lt == nil {
		lt = OpenLifetime("", cfg.Camera, log)
	}
	return &Renamer{cfg: cfg, log: log, lifetime: lt, dlnum: map[string]numbered{}, life: map[string]numbered{}, pinned: map[string]pinnedFile{}}
}

// Build lists the whole card through t (each folder once, as browsing the
// camera tree would: the listing is t's and is kept for it) and returns
// the renamed tree. Progress is logged every ProgressEvery.
func (r *Renamer) Build(ctx context.Context, t *tree.Tree) (*Tree, error) {
	start := time.Now()
	files, err := r.listCard(ctx, t)
	if err != nil {
		return nil, err
	}
	rt := r.make(files)
	r.log.Info("renamed tree ready", "files", rt.files, "dirs", rt.dirs, "dur", time.Since(start).Round(time.Millisecond))
	return rt, nil
}

// Rebuild builds the renamed tree again from what t has listed, asking
// the camera nothing: after the camera reported a change. Files of the
// last tree keep their paths, new ones get the next @dlnum@.
func (r *Renamer) Rebuild(t *tree.Tree) *Tree {
	start := time.Now()
	rt := r.make(r.listListed(t))
	r.log.Debug("renamed tree rebuilt", "files", rt.files, "dirs", rt.dirs, "dur", time.Since(start))
	return rt
}

// make numbers files and builds their tree.
func (r *Renamer) make(files []*cardFile) *Tree {
	r.build.Lock()
	defer r.build.Unlock()
	// Naming order: oldest capture first, then slot, folder and name.
	slices.SortFunc(files, func(a, b *cardFile) int {
		if c := a.obj.Mtime.Compare(b.obj.Mtime); c != 0 {
			return c
		}
		return compareKeys(a.key, b.key)
	})
	r.assignDLNum(files)
	r.assignLifetime(files)
	rt := r.buildTree(files)
	r.pin(rt)
	return rt
}

// assignLifetime gives files (in naming order) their @dlnum_lifetime@:
// the number had before for the same file, else one from the store.
func (r *Renamer) assignLifetime(files []*cardFile) {
	var keys []LifetimeKey
	var fresh []*cardFile
	r.mu.Lock()
	for _, f := range files {
		if n, ok := r.life[f.place]; ok && n.size == f.key.Size && n.capture == f.key.Capture {
			f.dlLife = n.num
			continue
		}
		keys = append(keys, f.key)
		fresh = append(fresh, f)
	}
	r.mu.Unlock()
	if len(keys) == 0 {
		return
	}
	nums, err := r.lifetime.Assign(keys)
	if err != nil {
		r.log.Warn("dlnum_lifetime numbers could not be kept: they hold for this mount only", "err", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, f := range fresh {
		f.dlLife = nums[i]
		r.life[f.place] = numbered{num: nums[i], size: f.key.Size, capture: f.key.Capture}
	}
}

// pin remembers where each file of rt is, for the next build; a file
// not in rt (deleted) loses its pin. r.build must be held.
func (r *Renamer) pin(rt *Tree) {
	pinned := make(map[string]pinnedFile, rt.files)
	for _, n := range rt.byObject {
		k := n.key
		var dirs []string
		for p := n.parent; p != nil && p.parent != nil; p = p.parent {
			dirs = append(dirs, p.Name)
		}
		slices.Reverse(dirs)
		pinned[n.place] = pinnedFile{size: k.Size, capture: k.Capture, dirs: dirs, name: n.Name}
	}
	r.pinned = pinned
}

// compareKeys orders files of the same capture date: slot, folder, name.
func compareKeys(a, b LifetimeKey) int {
	return cmp.Or(cmp.Compare(a.Slot, b.Slot), strings.Compare(a.Folder, b.Folder), strings.Compare(a.Name, b.Name))
}

// ListCard lists, on ctx, every folder of the card t has not listed yet
// (a card put in while mounted), as Build does; Rebuild then names its
// files.
func (r *Renamer) ListCard(ctx context.Context, t *tree.Tree) error {
	_, err := r.listCard(ctx, t)
	return err
}

// assignDLNum gives files (in naming order) their @dlnum@: the number this
// Renamer gave the same file before, else the next one.
func (r *Renamer) assignDLNum(files []*cardFile) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range files {
		place := f.place
		if n, ok := r.dlnum[place]; ok && n.size == f.key.Size && n.capture == f.key.Capture {
			f.dl = n.num
			continue
		}
		r.lastDL++
		r.dlnum[place] = numbered{num: r.lastDL, size: f.key.Size, capture: f.key.Capture}
		f.dl = r.lastDL
	}
}

// meta is what the specifiers expand from for file f.
func (r *Renamer) meta(f *cardFile) pathspec.Meta {
	m := pathspec.Meta{
		DownloadTime:  r.cfg.DownloadTime,
		Filename:      f.obj.Name,
		CameraFolder:  f.folder,
		Slot:          f.key.Slot,
		CameraMake:    r.cfg.Camera.Make,
		CameraModel:   r.cfg.Camera.Model,
		CameraSerial:  r.cfg.Camera.Serial,
		DLNum:         f.dl,
		DLNumLifetime: f.dlLife,
	}
	if !f.obj.Mtime.Equal(tree.Epoch) {
		m.CaptureTime = f.obj.Mtime
	}
	return m
}
