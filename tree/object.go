package tree

import (
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// Kind tells what an Object is in the tree.
type Kind uint8

const (
	KindRoot    Kind = iota // the mount's root: one directory per storage
	KindStorage             // a storage (card slot) directory
	KindFolder              // a folder on a card (an MTP association)
	KindFile                // a file: an image, a movie, ...
)

// Epoch is the mtime of objects the camera gives no usable date for: fixed,
// so it is the same on every mount and rsync never recopies.
var Epoch = time.Unix(0, 0)

// Object is one node of the camera's tree. Everything but a directory's
// listing (guarded by the Tree's lock) is fixed when the object is created.
type Object struct {
	// Name is the sanitised name, unique in the parent directory.
	Name string
	// Ino is the inode number: a hash of the object's place (slot and
	// Path), see inodeOf.
	Ino  uint64
	Kind Kind
	// Size is the exact size in bytes (64-bit even when ObjectInfo said
	// 0xFFFFFFFF); 0 for directories.
	Size int64
	// Mtime is the capture date (else the modification date, else a
	// fixed epoch), read in the camera's time zone.
	Mtime time.Time
	// Handle is the object's handle in the session it was listed in;
	// for a storage directory it is mtp's "root of the storage" parent,
	// 0xFFFFFFFF. After a reconnect the camera may number objects
	// differently: the tree keeps the current handle (Tree.Reconnect).
	Handle uint32
	// Storage is the StorageID the object lived on when listed (0 for
	// the root); its slot (high 16 bits) never changes.
	Storage uint32
	// Format is the object's format code (0 for the root and storages).
	Format mtp.ObjectFormat
	// RawName is the name as the camera reported it.
	RawName string

	parent *Object

	// Guarded by Tree.mu.
	cur      address // where the object is in the current session
	gone     bool    // not found again after a reconnect
	gen      uint64  // objects at this place before it (generation.go)
	listed   bool
	listing  *listing  // non-nil while a listing runs
	children []*Object // sorted by Name
	newest   time.Time // a directory's newest entry date (dates.go)
	byName   map[string]*Object
	subdirs  int
}

// Parent is the directory the object is in; nil for the root.
func (o *Object) Parent() *Object { return o.parent }

// Gen is the object's generation: how many objects were at its place
// before it during this mount (generation.go).
func (o *Object) Gen() uint64 { return o.gen }

// IsDir reports whether the object is a directory (root, storage or folder).
func (o *Object) IsDir() bool { return o.Kind != KindFile }

// Path is the object's path from the mount root, e.g. "SD/DCIM/100NIKON/DSC_0001.JPG".
func (o *Object) Path() string {
	if o.Kind == KindRoot {
		return ""
	}
	if o.parent == nil || o.parent.Kind == KindRoot {
		return o.Name
	}
	return o.parent.Path() + "/" + o.Name
}

// address is where an object is in one camera session.
type address struct {
	storage, handle uint32
}

// Slot is the card slot of a StorageID (its high 16 bits).
func Slot(storage uint32) uint16 { return uint16(storage >> 16) }

// storageRoot is the parent handle that names a storage's top level in
// GetObjectHandles.
const storageRoot = 0xFFFFFFFF
