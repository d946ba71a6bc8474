package tree

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// metaVersion is the format of the file; a file of another version is
// ignored (and replaced at the next save).
const metaVersion = 1

// metaFile is the file's content.
type metaFile struct {
	Version  int           `json:"version"`
	Model    string        `json:"model"`
	Serial   string        `json:"serial"`
	Storages []metaStorage `json:"storages"`
	Folders  []*metaFolder `json:"folders"`
}

// metaStorage is one storage's fingerprint as last seen.
type metaStorage struct {
	Slot        uint16          `json:"slot"`
	Fingerprint metaFingerprint `json:"fingerprint"`
}

// metaFingerprint is what StorageInfo says of a card that changes when a
// picture is taken or deleted: the free space in bytes and in images.
// Capacity, description and label tell another card in the same slot.
type metaFingerprint struct {
	Capacity    uint64 `json:"capacity"`
	Free        uint64 `json:"free"`
	FreeImages  uint32 `json:"free_images"`
	Description string `json:"description"`
	Label       string `json:"label"`
}

func fingerprintOf(si *mtp.StorageInfo) metaFingerprint {
	return metaFingerprint{
		Capacity: si.MaxCapacity, Free: si.FreeSpaceInBytes, FreeImages: si.FreeSpaceInImages,
		Description: si.StorageDescription, Label: si.VolumeLabel,
	}
}

// metaFolder is one folder's listing: the handles the camera listed and
// the description of each object it described, in the camera's order.
// Records are never modified once made: a new listing replaces the record.
type metaFolder struct {
	Slot uint16 `json:"slot"`
	// Path is the folder's raw camera names from the storage down,
	// empty for the storage's top level.
	Path []string `json:"path"`
	// Fingerprint is the storage's fingerprint the listing was made or
	// last checked under.
	Fingerprint metaFingerprint `json:"fingerprint"`
	Handles     []uint32        `json:"handles"`
	Objects     []metaObject    `json:"objects"`
}

// metaObject is one object's description: the ObjectInfo fields a listing
// uses, and the exact size.
type metaObject struct {
	Handle   uint32 `json:"h"`
	Storage  uint32 `json:"s"`
	Format   uint16 `json:"f"`
	Parent   uint32 `json:"p"`
	Name     string `json:"n"`
	Captured string `json:"c,omitempty"`
	Modified string `json:"m,omitempty"`
	// Size is the exact size; SizeKnown is false for an object over
	// 4 GiB whose exact size was not learnt (Size is then 0xFFFFFFFF).
	Size      uint64 `json:"z"`
	SizeKnown bool   `json:"k,omitempty"`
}

// check refuses a record this program cannot have written: it would
// describe objects by handles the camera did not list.
func (f *metaFolder) check() error {
	if f == nil {
		return errors.New("empty folder record")
	}
	listed := make(map[uint32]bool, len(f.Handles))
	for _, h := range f.Handles {
		listed[h] = true
	}
	seen := make(map[uint32]bool, len(f.Objects))
	for _, o := range f.Objects {
		if !listed[o.Handle] || seen[o.Handle] {
			return fmt.Errorf("folder %q: object %#x not listed, or twice", f.Path, o.Handle)
		}
		seen[o.Handle] = true
	}
	return nil
}

// info is the ObjectInfo o describes.
func (o *metaObject) info() *mtp.ObjectInfo {
	return &mtp.ObjectInfo{
		StorageID: o.Storage, ObjectFormat: mtp.ObjectFormat(o.Format), ParentObject: o.Parent,
		Filename: o.Name, CaptureDate: o.Captured, ModificationDate: o.Modified,
		CompressedSize: uint32(min(o.Size, 0xFFFFFFFF)),
	}
}

// described returns the record's objects as a listing describes them.
func (f *metaFolder) described() []described {
	out := make([]described, len(f.Objects))
	for i := range f.Objects {
		o := &f.Objects[i]
		out[i] = described{h: o.Handle, info: o.info()}
		if o.SizeKnown {
			out[i].size = o.Size
		}
	}
	return out
}

// last is the object recorded last, nil for an empty folder.
func (f *metaFolder) last() *metaObject {
	if len(f.Objects) == 0 {
		return nil
	}
	return &f.Objects[len(f.Objects)-1]
}

// metaKey names a folder in the cache: the storage's slot and the folder's
// raw names from the storage down.
type metaKey struct {
	slot uint16
	path []string
}

func (k metaKey) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(k.slot)))
	for _, p := range k.path {
		b.WriteByte(0)
		b.WriteString(p)
	}
	return b.String()
}

// metaKeyOf is the key of dir, a storage or a folder.
func metaKeyOf(dir *Object) metaKey {
	var path []string
	for p := dir; p != nil && p.Kind == KindFolder; p = p.parent {
		path = append(path, p.RawName)
	}
	slices.Reverse(path)
	return metaKey{slot: Slot(dir.Storage), path: path}
}

// sameHandles reports whether a and b hold the same handles, in any order.
func sameHandles(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	sa, sb := slices.Clone(a), slices.Clone(b)
	slices.Sort(sa)
	slices.Sort(sb)
	return slices.Equal(sa, sb)
}
