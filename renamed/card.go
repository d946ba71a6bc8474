package renamed

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/airnef-mount/airnef-mount/tree"
)

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
