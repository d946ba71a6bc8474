package renamed

import (
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/airnef-mount/airnef-mount/tree"
)

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
