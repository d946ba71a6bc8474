package camsim

import (
	"cmp"
	"fmt"
	"image/jpeg"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// storageID is the card in slot 1: slot 1 in the high 16 bits, a medium
// present (partition 1) in the low ones.
const storageID uint32 = 0x00010001

// Association types (PTP 1.1 table 21).
const assocGenericFolder = 0x0001

// object is one file or folder of the card.
type object struct {
	handle uint32
	parent uint32 // 0: the card's root
	rel    string // slash-separated path below the card directory
	dir    bool
	size   int64
	mtime  time.Time
	format mtp.ObjectFormat

	// Pixel size of a file that decodes as JPEG (0 otherwise), read from
	// its header when the file is found or changes.
	width, height uint32
	// thumb is the thumbnail, found on first request: nil until then,
	// empty for a file that has none.
	thumb []byte
}

func (o *object) name() string { return path.Base(o.rel) }

// change is one difference a scan found, reported as an event.
type change struct {
	code   mtp.EventCode
	handle uint32
}

// card is the object tree of the card directory. Handles are numbered from
// 1 in the order objects are found and stay the same while the process
// runs; a file that disappears and comes back is a new object.
type card struct {
	dir     string
	formats map[string]mtp.ObjectFormat
	log     *slog.Logger
	// access is access(2); tests replace it to make entries unreadable
	// even to root.
	access func(path string, mode uint32) error

	scanMu sync.Mutex // one scan at a time

	mu       sync.Mutex // guards the fields below
	byHandle map[uint32]*object
	byPath   map[string]*object
	next     uint32
}

func newCard(dir string, formats map[string]mtp.ObjectFormat, log *slog.Logger) *card {
	return &card{dir: dir, formats: formats, log: log, access: syscall.Access,
		byHandle: map[uint32]*object{}, byPath: map[string]*object{}, next: 1}
}

// entry is what a walk of the directory saw of one object.
type entry struct {
	rel   string
	dir   bool
	size  int64
	mtime time.Time
}

// walk lists the card directory, parents before children, in name order.
// Dotfiles, symlinks, special files and entries the process cannot read
// are not on the card.
func (c *card) walk() ([]entry, error) {
	var out []entry
	var visit func(rel string) error
	visit = func(rel string) error {
		des, err := os.ReadDir(filepath.Join(c.dir, filepath.FromSlash(rel)))
		if err != nil {
			if rel == "" {
				return err
			}
			c.log.Debug("card: folder skipped", "path", rel, "err", err)
			return nil
		}
		for _, de := range des {
			name := de.Name()
			if strings.HasPrefix(name, ".") || de.Type()&(fs.ModeSymlink|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice|fs.ModeIrregular) != 0 {
				continue
			}
			r := path.Join(rel, name)
			p := filepath.Join(c.dir, filepath.FromSlash(r))
			const rOK, xOK = 4, 1 // access(2) modes
			mode := uint32(rOK)
			if de.IsDir() {
				mode |= xOK
			}
			if c.access(p, mode) != nil {
				continue
			}
			fi, err := de.Info()
			if err != nil { // gone since ReadDir
				continue
			}
			out = append(out, entry{rel: r, dir: de.IsDir(), size: fi.Size(), mtime: fi.ModTime()})
			if de.IsDir() {
				if err := visit(r); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := visit(""); err != nil {
		return nil, err
	}
	return out, nil
}

// scan brings the tree up to date with the directory and returns what
// changed: additions parents first, removals children first.
func (c *card) scan() ([]change, error) {
	c.scanMu.Lock()
	defer c.scanMu.Unlock()
	entries, err := c.walk()
	if err != nil {
		return nil, fmt.Errorf("camsim: scan card: %w", err)
	}

	// Header reads happen outside the tree lock, for new or changed files.
	type dims struct{ w, h uint32 }
	probed := map[string]dims{}
	c.mu.Lock()
	for _, e := range entries {
		if o := c.byPath[e.rel]; !e.dir && (o == nil || o.size != e.size || !o.mtime.Equal(e.mtime)) {
			probed[e.rel] = dims{}
		}
	}
	c.mu.Unlock()
	for rel := range probed {
		w, h := c.jpegSize(rel)
		probed[rel] = dims{w, h}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	var added, changed, removed []change
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		seen[e.rel] = true
		o := c.byPath[e.rel]
		if o != nil && o.dir != e.dir { // a file became a folder or back
			removed = append(removed, change{mtp.EventObjectRemoved, o.handle})
			c.removeLocked(o)
			o = nil
		}
		d := probed[e.rel]
		switch {
		case o == nil:
			parent := uint32(0)
			if dir := path.Dir(e.rel); dir != "." {
				parent = c.byPath[dir].handle // walk lists parents first
			}
			o = &object{handle: c.next, parent: parent, rel: e.rel, dir: e.dir,
				size: e.size, mtime: e.mtime, format: c.format(e.rel, e.dir), width: d.w, height: d.h}
			c.next++
			if e.dir {
				o.size = 0
			}
			c.byHandle[o.handle] = o
			c.byPath[o.rel] = o
			added = append(added, change{mtp.EventObjectAdded, o.handle})
		case !e.dir && (o.size != e.size || !o.mtime.Equal(e.mtime)):
			o.size, o.mtime, o.width, o.height, o.thumb = e.size, e.mtime, d.w, d.h, nil
			changed = append(changed, change{mtp.EventObjectInfoChanged, o.handle})
		case e.dir && !o.mtime.Equal(e.mtime):
			o.mtime = e.mtime // a folder's mtime changes with its entries: no event
		}
	}
	var gone []*object
	for rel, o := range c.byPath {
		if !seen[rel] {
			gone = append(gone, o)
		}
	}
	// Children first: deeper paths, then by handle for a stable order.
	slices.SortFunc(gone, func(a, b *object) int {
		return cmp.Or(-cmp.Compare(strings.Count(a.rel, "/"), strings.Count(b.rel, "/")), cmp.Compare(a.handle, b.handle))
	})
	for _, o := range gone {
		removed = append(removed, change{mtp.EventObjectRemoved, o.handle})
		c.removeLocked(o)
	}
	return slices.Concat(removed, added, changed), nil
}

func (c *card) removeLocked(o *object) {
	delete(c.byHandle, o.handle)
	delete(c.byPath, o.rel)
}

// format is the object format of the entry at rel.
func (c *card) format(rel string, dir bool) mtp.ObjectFormat {
	if dir {
		return mtp.FormatAssociation
	}
	if f, ok := c.formats[strings.ToLower(path.Ext(rel))]; ok {
		return f
	}
	return mtp.FormatUndefined
}

// jpegSize reads the pixel size from the header of a file that is a JPEG,
// whatever its name says; 0, 0 for anything else.
func (c *card) jpegSize(rel string) (w, h uint32) {
	f, err := os.Open(filepath.Join(c.dir, filepath.FromSlash(rel)))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	cfg, err := jpeg.DecodeConfig(f)
	if err != nil {
		return 0, 0
	}
	return uint32(cfg.Width), uint32(cfg.Height)
}

// get returns a copy of the object with handle h.
func (c *card) get(h uint32) (object, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.byHandle[h]
	if !ok {
		return object{}, false
	}
	return *o, true
}

// list returns copies of the objects keep accepts, in handle order.
func (c *card) list(keep func(*object) bool) []object {
	c.mu.Lock()
	var out []object
	for _, o := range c.byHandle {
		if keep(o) {
			out = append(out, *o)
		}
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b object) int { return cmp.Compare(a.handle, b.handle) })
	return out
}

// open opens the file of o for reading.
func (c *card) open(o *object) (*os.File, error) {
	return os.Open(filepath.Join(c.dir, filepath.FromSlash(o.rel)))
}

// setThumb caches a generated thumbnail for the object h, unless the
// object changed since o was copied.
func (c *card) setThumb(o *object, thumb []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.byHandle[o.handle]; ok && cur.size == o.size && cur.mtime.Equal(o.mtime) {
		cur.thumb = thumb
	}
}

// space reports the capacity and free bytes of the file system holding the
// card directory.
func (c *card) space() (capacity, free uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(c.dir, &st); err != nil {
		return 0, 0, err
	}
	return st.Blocks * uint64(st.Bsize), st.Bavail * uint64(st.Bsize), nil
}
