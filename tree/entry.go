package tree

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

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
		if !t.belongs(dir, at, h, info) {
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
	named := objs[:0]
	left := map[string]int{} // names with more than MaxAlike entries: those left out
	for i, o := range objs {
		if unique[i] == "" {
			left[names[i]]++
			continue
		}
		o.Name = unique[i]
		o.Ino = inodeOf(Slot(o.Storage), o.Path())
		named = append(named, o)
	}
	for _, n := range slices.Sorted(maps.Keys(left)) {
		t.log.Warn("objects left out: more entries of the folder share one name than it may hold",
			"dir", "/"+dir.Path(), "name", n, "left_out", left[n], "max_alike", MaxAlike)
	}
	return named, nil
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
			switch {
			case errors.As(err, &refused):
				// The camera cannot tell the size of an object
				// over 4 GiB (PTP-only firmware): showing it
				// with a wrong size would make copies silently
				// short, so it is left out, loudly.
				t.log.Warn("object over 4 GiB left out: the camera does not report its size",
					"path", "/"+dir.Path()+"/"+info.Filename, "err", err)
				return nil, false, nil
			case errors.Is(err, mtp.ErrMalformed), errors.Is(err, mtp.ErrTooLarge):
				t.skipBad(dir, at.storage, h, "object over 4 GiB: its 64-bit size does not decode", "name", info.Filename, "err", err)
				return nil, false, nil
			case err != nil:
				return nil, false, fmt.Errorf("size of %q: %w", info.Filename, err)
			case size == 0:
				// 4 GiB or more, then nothing: which is right is
				// unknown, and a 0-byte file (or one cut at 4 GiB)
				// would make copies silently wrong.
				t.skipBad(dir, at.storage, h, "object over 4 GiB: its 64-bit size is 0", "name", info.Filename)
				return nil, false, nil
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

// belongs reports whether object h, which the camera listed for dir (at in
// this session), really is one of dir's entries: its ParentObject is dir.
// A StorageID that disagrees with the storage it was listed in is the
// listing's (some responders report another, and gphoto2 then hides their
// files), unless, at a storage's top level, it names another storage the
// camera has: the camera ignored GetObjectHandles' storage filter.
func (t *Tree) belongs(dir *Object, at address, h uint32, info *mtp.ObjectInfo) bool {
	if dir.Kind == KindStorage {
		if info.ParentObject != 0 && info.ParentObject != storageRoot {
			return false
		}
		if info.StorageID != 0 && info.StorageID != at.storage && t.hasStorage(info.StorageID) {
			return false
		}
	} else if info.ParentObject != at.handle {
		return false
	}
	if info.StorageID != 0 && info.StorageID != at.storage {
		t.log.Debug("object's StorageID is not the storage it was listed in: the listing's kept",
			"dir", "/"+dir.Path(), "handle", fmt.Sprintf("%#x", h), "storage", fmt.Sprintf("%#08x", info.StorageID),
			"listed in", fmt.Sprintf("%#08x", at.storage))
	}
	return true
}

// hasStorage reports whether id is one of the storages the root lists.
func (t *Tree) hasStorage(id uint32) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hasStorageLocked(id)
}

// hasStorageLocked is hasStorage; t.mu must be held.
func (t *Tree) hasStorageLocked(id uint32) bool {
	for _, s := range t.root.children {
		if s.cur.storage == id && !s.gone {
			return true
		}
	}
	return false
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
