package camsim

import (
	"cmp"
	"fmt"
	"log/slog"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// storageFor is the StorageID of the card in slot n: the slot in the high
// 16 bits, a medium present (partition 1) in the low ones.
func storageFor(slot int) uint32 { return uint32(slot)<<16 | 1 }

// storageID is the card in slot 1.
var storageID = storageFor(1)

// Association types (PTP 1.1 table 21).
const assocGenericFolder = 0x0001

// object is one file or folder of a card.
type object struct {
	handle  uint32
	storage uint32
	parent  uint32 // 0: the card's root
	rel     string // slash-separated path below the card root
	dir     bool
	size    int64
	mtime   time.Time
	format  mtp.ObjectFormat
	// added is when the object appeared while the camera ran (zero for
	// what the first scan found): a new shot.
	added time.Time

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

// handles hands out object handles for every card of a camera, so that
// they are unique across slots.
type handles struct {
	mu      sync.Mutex
	next    uint32
	used    map[uint32]bool
	encoded bool
}

func newHandles(encoded bool) *handles {
	return &handles{next: 1, used: map[uint32]bool{}, encoded: encoded}
}

// dcf matches a DCF folder (100NIKON) or file (DSC_0042.NEF) name: the
// number is what Nikon's handles encode.
var (
	dcfFolder = regexp.MustCompile(`^([1-9][0-9][0-9])[0-9A-Z_]{5}$`)
	dcfFile   = regexp.MustCompile(`^[0-9A-Za-z_]{4}([0-9]{4})\.[0-9A-Za-z]{3}$`)
)

// encode is a Nikon-style handle for the object at rel in slot:
//
//	bits 28-31  slot
//	bits 18-27  folder number (100-999; 0 outside a DCF folder)
//	bits  4-17  file number (1-9999; 0 for a folder)
//	bits  0-3   which object with that number (NEF and JPG share one)
//
// Objects outside the DCF pattern, and collisions, get handles from a
// range no DCF object uses (folder number 1023).
func (a *handles) encode(slot int, rel string, dir bool) uint32 {
	base := uint32(slot&0xF) << 28
	name := path.Base(rel)
	var folder, file uint32
	ok := false
	if dir {
		if m := dcfFolder.FindStringSubmatch(name); m != nil && path.Dir(rel) == "DCIM" {
			n, _ := strconv.Atoi(m[1])
			folder, ok = uint32(n), true
		} else if rel == "DCIM" {
			ok = true // folder 0, file 0
		}
	} else if m := dcfFile.FindStringSubmatch(name); m != nil {
		if fm := dcfFolder.FindStringSubmatch(path.Base(path.Dir(rel))); fm != nil {
			f, _ := strconv.Atoi(fm[1])
			n, _ := strconv.Atoi(m[1])
			folder, file, ok = uint32(f), uint32(n), n > 0
		}
	}
	if ok {
		for v := uint32(0); v < 16; v++ {
			h := base | folder<<18 | file<<4 | v
			if h != base && !a.used[h] {
				return h
			}
		}
	}
	for {
		h := base | 1023<<18 | a.next&0x3FFFF
		a.next++
		if !a.used[h] && h&0x3FFFF != 0 {
			return h
		}
	}
}

// alloc returns a new handle for the object at rel in slot.
func (a *handles) alloc(slot int, rel string, dir bool) uint32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var h uint32
	if a.encoded {
		h = a.encode(slot, rel, dir)
	} else {
		// Numbered from 1 in the order objects are found, never reused.
		h = a.next
		a.next++
	}
	a.used[h] = true
	return h
}

// release frees h: an encoded handle may be given again to an object at
// the same place, as a camera does.
func (a *handles) release(h uint32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.used, h)
}

// card is the object tree of one card slot. Handles stay the same while
// the process runs; a file that disappears and comes back is a new object
// (with an encoded handle it may get its old handle back).
type card struct {
	slot    int
	storage uint32
	m       medium
	formats map[string]mtp.ObjectFormat
	handles *handles
	log     *slog.Logger

	scanMu sync.Mutex // one scan at a time

	mu       sync.Mutex // guards the fields below
	byHandle map[uint32]*object
	byPath   map[string]*object
	scanned  bool // the first scan is done: later additions are new shots
}

func newCard(slot int, m medium, formats map[string]mtp.ObjectFormat, h *handles, log *slog.Logger) *card {
	return &card{slot: slot, storage: storageFor(slot), m: m, formats: formats, handles: h, log: log,
		byHandle: map[uint32]*object{}, byPath: map[string]*object{}}
}

// scan brings the tree up to date with the medium and returns what
// changed: additions parents first, removals children first.
func (c *card) scan() ([]change, error) {
	c.scanMu.Lock()
	defer c.scanMu.Unlock()
	entries, err := c.m.walk()
	if err != nil {
		return nil, fmt.Errorf("camsim: scan card %d: %w", c.slot, err)
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
		w, h := c.m.dims(rel)
		probed[rel] = dims{w, h}
	}

	now := time.Now()
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
			o = &object{handle: c.handles.alloc(c.slot, e.rel, e.dir), storage: c.storage, parent: parent, rel: e.rel, dir: e.dir,
				size: e.size, mtime: e.mtime, format: c.format(e.rel, e.dir), width: d.w, height: d.h}
			if c.scanned {
				o.added = now
			}
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
	c.scanned = true
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
	c.handles.release(o.handle)
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

// lookup returns a copy of the object at rel.
func (c *card) lookup(rel string) (object, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.byPath[rel]
	if !ok {
		return object{}, false
	}
	return *o, true
}

// list appends copies of the objects keep accepts to out.
func (c *card) list(out []object, keep func(*object) bool) []object {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.byHandle {
		if keep(o) {
			out = append(out, *o)
		}
	}
	return out
}

// open opens the file of o for reading.
func (c *card) open(o *object) (blob, error) { return c.m.open(o.rel) }

// setThumb caches a generated thumbnail for the object h, unless the
// object changed since o was copied.
func (c *card) setThumb(o *object, thumb []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.byHandle[o.handle]; ok && cur.size == o.size && cur.mtime.Equal(o.mtime) {
		cur.thumb = thumb
	}
}

// space reports the card's capacity and free bytes: the capacity less its
// objects in 32 KiB exFAT clusters, so it moves with every shot and
// deletion (clients watch it) and not with the host's other files.
func (c *card) space() (capacity, free uint64, err error) {
	capacity, _, err = c.m.space()
	if err != nil {
		return 0, 0, err
	}
	const cluster = 32 << 10
	var used uint64
	c.mu.Lock()
	for _, o := range c.byPath {
		used += (uint64(max(o.size, 0)) + cluster - 1) / cluster * cluster
		used += cluster // its directory entry's share, folders included
	}
	c.mu.Unlock()
	capacity = max(capacity, 2*used)
	return capacity, capacity - used, nil
}
