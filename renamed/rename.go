package renamed

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airnef-mount/airnef-mount/pathspec"
	"github.com/airnef-mount/airnef-mount/tree"
)

// The renamed tree (--dirnamespec, --filenamespec): the card's files under
// the directories and names that Airnef's renaming language makes from
// each file's metadata, built from the camera tree's listing at mount and
// again after each change the camera reports. It is plain Go, tested
// without FUSE; renamenode.go shows it.
//
// What a mount shows must be the same on every mount of the same card, so
// that rsync never recopies: names come from the metadata and from numbers
// that are themselves stable (@dlnum@ by capture order, @dlnum_lifetime@
// from the Lifetime store), collisions are resolved in a fixed order, and
// inode numbers are hashes of the renamed path (directories) or of the
// object's identity (files).
//
// Directories exist only for the files in them: an empty folder of the
// card is in /.camera, not in the renamed tree.
//
// While mounted the camera adds and deletes files: the tree is built again
// (Rebuild) from the camera tree's own listing, without asking the camera.
// A file keeps the path it had in the last tree whatever is added or
// deleted around it (pinned): only new files are named, around the names
// already taken. So an older capture arriving late, which a fresh mount
// would name first, takes "NAME (2)" rather than moving the file that had
// "NAME"; and a deletion never renumbers the others.

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

// Tree is one renamed view of the card. It does not change once
// built: safe for any number of readers.
type Tree struct {
	root  *Node
	files int
	dirs  int

	renamer  *Renamer         // builds the next tree (Rebuild)
	dirIndex map[string]*Node // directories by path ("" the top)
	byObject map[*tree.Object]*Node
}

// Renamer is the Renamer that built the tree, which builds the next one.
func (rt *Tree) Renamer() *Renamer { return rt.renamer }

// AllDirs yields every directory of the tree with its path ("" the top).
func (rt *Tree) AllDirs() iter.Seq2[string, *Node] { return maps.All(rt.dirIndex) }

// Dir is the directory at path ("" the top), if the tree has it.
func (rt *Tree) Dir(path string) (*Node, bool) {
	n, ok := rt.dirIndex[path]
	return n, ok
}

// File is the entry of camera file o, if the tree has it (a nil tree has
// none).
func (rt *Tree) File(o *tree.Object) (*Node, bool) {
	if rt == nil {
		return nil, false
	}
	n, ok := rt.byObject[o]
	return n, ok
}

// Root is the top directory.
func (rt *Tree) Root() *Node { return rt.root }

// Files is the number of files in the tree.
func (rt *Tree) Files() int { return rt.files }

// Dirs is the number of directories in the tree, the top one excluded.
func (rt *Tree) Dirs() int { return rt.dirs }

// Node is a directory or a file of a renamed tree.
type Node struct {
	// Name is unique in the parent directory and a valid Linux name.
	Name string
	// Ino is the inode number: for a directory a hash of its path, for
	// a file of the object's identity (slot, folder path, name).
	Ino uint64
	// Mtime is a file's capture date, a directory's newest file's.
	Mtime time.Time
	// Object is the camera's file; nil for a directory.
	Object *tree.Object
	// DLNum and DLNumLifetime are the file's @dlnum@ and
	// @dlnum_lifetime@ (0 for a directory).
	DLNum, DLNumLifetime int

	parent   *Node
	children []*Node // sorted by Name
	byName   map[string]*Node
	subdirs  int
	pending  []*cardFile // files to name, in naming order (build only)
	key      LifetimeKey // a file's identity and check (pins)
	place    string      // key.place()
}

// IsDir reports whether n is a directory.
func (n *Node) IsDir() bool { return n.Object == nil }

// Children are a directory's entries sorted by name. Do not modify.
func (n *Node) Children() []*Node { return n.children }

// Lookup returns the entry called name.
func (n *Node) Lookup(name string) (*Node, bool) {
	c, ok := n.byName[name]
	return c, ok
}

// Subdirs is the number of directories in n.
func (n *Node) Subdirs() int { return n.subdirs }

// Path is n's path from the top, names joined by "/".
func (n *Node) Path() string {
	if n.parent == nil {
		return ""
	}
	if n.parent.parent == nil {
		return n.Name
	}
	return n.parent.Path() + "/" + n.Name
}

// cardFile is one file of the card with what renaming needs of it.
type cardFile struct {
	obj    *tree.Object
	key    LifetimeKey // its identity and check
	place  string      // key.place(), computed once
	folder string      // @camerafolder@: the folder it is in ("" at the top)
	dirs   []string    // its directory in the camera tree: storage, folders
	dl     int
	dlLife int
	name   string // the wanted name, before collisions
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

// listCard walks the camera tree depth first and returns its files.
func (r *Renamer) listCard(ctx context.Context, t *tree.Tree) ([]*cardFile, error) {
	var files []*cardFile
	folders := 0
	last := time.Now()
	stack := []*tree.Object{t.Root()}
	for len(stack) > 0 {
		dir := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		children, err := t.List(ctx, dir)
		if err != nil {
			return nil, err
		}
		// Push in reverse so that folders are walked in name order.
		for i := len(children) - 1; i >= 0; i-- {
			c := children[i]
			if c.IsDir() {
				stack = append(stack, c)
				folders++
				continue
			}
			files = append(files, newCardFile(c))
		}
		if time.Since(last) >= r.cfg.ProgressEvery {
			last = time.Now()
			r.log.Info("listing the card", "objects", t.ObjectsListed(), "files", len(files), "folders", folders)
		}
	}
	return files, nil
}

// ListCard lists, on ctx, every folder of the card t has not listed yet
// (a card put in while mounted), as Build does; Rebuild then names its
// files.
func (r *Renamer) ListCard(ctx context.Context, t *tree.Tree) error {
	_, err := r.listCard(ctx, t)
	return err
}

// listListed walks what t has listed of the camera tree, depth first,
// and returns its files; a folder not listed is left out (it has not
// been seen, so neither have its files).
func (r *Renamer) listListed(t *tree.Tree) []*cardFile {
	var files []*cardFile
	stack := []*tree.Object{t.Root()}
	for len(stack) > 0 {
		dir := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		children, ok := t.ListedChildren(dir)
		if !ok {
			continue
		}
		for i := len(children) - 1; i >= 0; i-- {
			if c := children[i]; c.IsDir() {
				stack = append(stack, c)
			} else {
				files = append(files, newCardFile(c))
			}
		}
	}
	return files
}

// newCardFile describes camera file o.
func newCardFile(o *tree.Object) *cardFile {
	f := &cardFile{obj: o}
	var names []string // storage, folders
	for p := o.Parent(); p != nil && p.Kind != tree.KindRoot; p = p.Parent() {
		names = append(names, p.Name)
		if p.Kind == tree.KindStorage {
			f.key.Slot = int(tree.Slot(p.Storage))
		}
	}
	slices.Reverse(names)
	f.dirs = names
	if len(names) > 1 {
		f.key.Folder = strings.Join(names[1:], "/")
	}
	if p := o.Parent(); p != nil && p.Kind == tree.KindFolder {
		f.folder = p.Name
	}
	f.key.Name = o.Name
	f.key.Size = o.Size
	f.key.Capture = wallTime(o.Mtime)
	f.place = f.key.place()
	return f
}

// wallTime is the check string of a capture date: its wall time in the
// camera's zone, so that the check does not depend on the zone setting;
// "" for an object without a date.
func wallTime(t time.Time) string {
	if t.Equal(tree.Epoch) {
		return ""
	}
	return t.Format("2006-01-02T15:04:05")
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

// buildTree makes the tree from files in naming order: the files of the
// last tree at their pinned paths first, then the others named around
// them. r.build must be held.
func (r *Renamer) buildTree(files []*cardFile) *Tree {
	rt := &Tree{root: &Node{Ino: tree.RootIno, byName: map[string]*Node{}}, renamer: r}
	var fresh []*cardFile
	for _, f := range files {
		p, ok := r.pinned[f.place]
		if !ok || p.size != f.key.Size || p.capture != f.key.Capture {
			fresh = append(fresh, f)
			continue
		}
		d := rt.root
		for _, c := range p.dirs {
			d = rt.mkdir(d, c)
		}
		if _, taken := d.byName[p.name]; taken {
			fresh = append(fresh, f) // cannot be: named again
			continue
		}
		rt.addFile(d, p.name, f)
	}
	var fellBack, replaced int
	for _, f := range fresh {
		m := r.meta(f)
		dirs := f.dirs
		if r.cfg.DirSpec != nil {
			dirs = safeDirs(r.cfg.DirSpec.Expand(m))
		}
		f.name = f.obj.Name
		if r.cfg.FileSpec != nil {
			raw := r.cfg.FileSpec.Expand(m)
			name, ok := safeFileName(raw)
			switch {
			case !ok:
				fellBack++
				r.log.Debug("--filenamespec made an empty name: the camera's name is used", "file", "/"+f.obj.Path())
			case name != raw:
				replaced++
				r.log.Debug("--filenamespec name made safe", "file", "/"+f.obj.Path(), "name", raw, "safe", name)
				f.name = name
			default:
				f.name = name
			}
		}
		d := rt.root
		for _, c := range dirs {
			d = rt.mkdir(d, c)
		}
		d.pending = append(d.pending, f)
	}
	if fellBack > 0 {
		r.log.Warn("--filenamespec made an empty name for some files: they keep the camera's name", "files", fellBack)
	}
	if replaced > 0 {
		r.log.Warn("--filenamespec made names with '/', '\\', NUL or over 255 bytes for some files: those characters became '_' and long names were shortened", "files", replaced)
	}
	rt.finish(rt.root)
	rt.index()
	return rt
}

// addFile makes file f's entry called name in d.
func (rt *Tree) addFile(d *Node, name string, f *cardFile) {
	c := &Node{
		Name: name, Ino: renamedFileIno(f.key), Mtime: f.obj.Mtime, Object: f.obj,
		DLNum: f.dl, DLNumLifetime: f.dlLife, parent: d, key: f.key, place: f.place,
	}
	d.byName[name] = c
	d.children = append(d.children, c)
	rt.files++
}

// index fills the lookups of directories by path and files by object.
func (rt *Tree) index() {
	rt.dirIndex = map[string]*Node{}
	rt.byObject = make(map[*tree.Object]*Node, rt.files)
	var walk func(d *Node, path string)
	walk = func(d *Node, path string) {
		rt.dirIndex[path] = d
		for _, c := range d.children {
			switch {
			case !c.IsDir():
				rt.byObject[c.Object] = c
			case path == "":
				walk(c, c.Name)
			default:
				walk(c, path+"/"+c.Name)
			}
		}
	}
	walk(rt.root, "")
}

// mkdir returns directory name in d, making it if needed. At the top, the
// names of the control directories are never handed out.
func (rt *Tree) mkdir(d *Node, name string) *Node {
	if d == rt.root && tree.Reserved(name) {
		name = tree.NumberedName(name, 2)
	}
	if c, ok := d.byName[name]; ok && c.IsDir() {
		return c
	} else if ok {
		// A file of the last tree holds the name: it keeps it.
		base := name
		for k := 2; ok && !c.IsDir(); k++ {
			name = tree.NumberedName(base, k)
			c, ok = d.byName[name]
		}
		if ok {
			return c
		}
	}
	c := &Node{Name: name, parent: d, byName: map[string]*Node{}}
	c.Ino = renamedDirIno(c.Path())
	d.byName[name] = c
	d.children = append(d.children, c)
	d.subdirs++
	rt.dirs++
	return c
}

// finish names d's files and, depth first, its subdirectories', sorts
// the entries and sets the directories' mtimes.
func (rt *Tree) finish(d *Node) {
	// Subdirectories keep their names; files take theirs in naming
	// order, so an older capture keeps a name and a newer one with the
	// same name becomes "NAME (2).EXT".
	for _, f := range d.pending {
		name := f.name
		_, taken := d.byName[name]
		if d == rt.root && tree.Reserved(name) {
			taken = true
		}
		for k := 2; taken; k++ {
			name = tree.NumberedName(f.name, k)
			_, taken = d.byName[name]
		}
		rt.addFile(d, name, f)
	}
	d.pending = nil
	for _, c := range d.children {
		if c.IsDir() {
			rt.finish(c)
		}
		if d.Mtime.IsZero() || c.Mtime.After(d.Mtime) {
			d.Mtime = c.Mtime
		}
	}
	if d.Mtime.IsZero() {
		d.Mtime = tree.Epoch
	}
	slices.SortFunc(d.children, func(a, b *Node) int { return strings.Compare(a.Name, b.Name) })
}

// safeDirs splits an expanded --dirnamespec into directory names that a
// Linux directory can hold: empty, "." and ".." components dropped
// (pathspec.SplitDirs), invalid UTF-8 and NUL replaced, each name at most
// 255 bytes (shortened keeping its extension).
func safeDirs(s string) []string {
	dirs := pathspec.SplitDirs(s)
	for i, d := range dirs {
		dirs[i] = tree.ShortenName(strings.ReplaceAll(strings.ToValidUTF8(d, "_"), "\x00", "_"))
	}
	return dirs
}

// safeFileName makes an expanded --filenamespec a file name: '/' and '\'
// (which can only come from the camera's metadata: ParseFilename refused
// them in the spec), NUL and invalid UTF-8 become '_', "." and ".." get a
// "_" prefix, and a name over 255 bytes is shortened keeping its
// extension. It reports false for an empty name.
func safeFileName(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, strings.ToValidUTF8(s, "_"))
	if s == "." || s == ".." {
		s = "_" + s
	}
	return tree.ShortenName(s), true
}

// renamedDirIno is the inode number of the renamed tree's directory at
// path. Its hash input never equals inodeOf's (whose third byte is NUL)
// nor controlIno's (0xFF).
func renamedDirIno(path string) uint64 {
	return hashIno("\xff\xff\xfedir\x00", path)
}

// renamedFileIno is the inode number of a file in the renamed tree: a hash
// of its identity, so the file keeps it whatever it is named and however
// the camera numbers its handles.
func renamedFileIno(k LifetimeKey) uint64 {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(k.Slot))
	return hashIno("\xff\xff\xfefile\x00", string(b[:])+k.Folder+"\x00"+k.Name)
}

func hashIno(prefix, s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(prefix))
	h.Write([]byte(s))
	ino := h.Sum64()
	if ino < 2 {
		ino += 2
	}
	return ino
}

// String describes the tree for logs and test failures: one line per
// file, "path size".
func (rt *Tree) String() string {
	var b strings.Builder
	var walk func(n *Node)
	walk = func(n *Node) {
		for _, c := range n.children {
			if c.IsDir() {
				walk(c)
				continue
			}
			fmt.Fprintf(&b, "%s %d\n", c.Path(), c.Object.Size)
		}
	}
	walk(rt.root)
	return b.String()
}
