package tree

import (
	"context"
	"errors"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// described is one object listed in a folder: its handle and, unless it
// was not described (gone since listed, a duplicate, a parent cycle), its
// ObjectInfo and, when known, its exact 64-bit size.
type described struct {
	h    uint32
	info *mtp.ObjectInfo
	size uint64 // 0: unknown (then CompressedSize, or ObjectSize beyond 4 GiB)
	// refused: the camera would not describe it (left out, logged); the
	// listing is not recorded, so the next one asks again.
	refused bool
}

// listMethod is a way to describe every object of a folder in one
// operation, rather than one GetObjectInfo per object.
type listMethod int

const (
	// listEOS is Canon EOS GetObjectInfoEx: any folder, a storage's top
	// level included; libgphoto2 lists EOS folders with it.
	listEOS listMethod = iota
	// listPropList is MTP GetObjectPropList: folders only. A storage's
	// top level keeps GetObjectHandles: GetObjectPropList has no
	// StorageID, and its handle 0 means every storage's root at once
	// (MTP 1.1 E.2.1.1); the top level holds only a few folders anyway.
	listPropList
	listMethods // the number of methods
)

func (m listMethod) String() string {
	if m == listEOS {
		return "GetObjectInfoEx"
	}
	return "GetObjectPropList"
}

// describeFolder describes the objects of dir, which is at in cam's
// session, in the cheapest way that is right:
//
//   - from the metadata cache, when GetObjectHandles answers the handles
//     the cache recorded (and, when the card changed since, one
//     GetObjectInfo agrees with the cached description: spotCheck);
//   - else with one operation for the whole folder where the camera has
//     one, fastest first (listEOS, listPropList); GetObjectPropList's
//     answer is checked against GetObjectHandles, an object it leaves out
//     asked with GetObjectInfo (libmtp flags devices whose property lists
//     drop objects);
//   - else with GetObjectHandles and one GetObjectInfo per object, unless
//     mode.oneRequest (then errNotCheap).
//
// It returns the handles GetObjectHandles listed, which the cache records
// and checks the next time, and the descriptions in that order.
func (t *Tree) describeFolder(ctx context.Context, cam Camera, dir *Object, at address, key metaKey, mode listMode) ([]uint32, []described, error) {
	var handles []uint32
	haveHandles := false
	if rec := t.meta.folder(key); rec != nil {
		var err error
		if handles, err = t.objectHandles(ctx, cam, dir, at); err != nil {
			return nil, nil, err
		}
		haveHandles = true
		ok := sameHandles(handles, rec.Handles)
		if ok && t.meta.stale(rec) {
			if ok, err = t.spotCheck(ctx, cam, rec); err != nil {
				return nil, nil, err
			}
		}
		if ok {
			descs := rec.described()
			if err := t.checkCount(dir, len(descs)); err != nil {
				return nil, nil, err
			}
			t.log.Debug("listed from the metadata cache", "dir", "/"+dir.Path(), "objects", len(descs))
			return handles, descs, nil
		}
		t.log.Debug("metadata cache out of date: listing from the camera", "dir", "/"+dir.Path())
	}
	for m := listMethod(0); m < listMethods; m++ {
		list, ok, err := t.describeByList(ctx, cam, dir, at, m)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue
		}
		switch {
		case haveHandles:
		case m == listEOS:
			// GetObjectInfoEx is trusted as it stands, as libgphoto2
			// lists EOS folders (gphoto2 --list-files of an EOS asks
			// no GetObjectHandles: docs/benchmarks.md); a check would
			// cost a round trip per folder, a third of a cold listing.
			handles = make([]uint32, len(list))
			for i, d := range list {
				handles[i] = d.h
			}
			haveHandles = true
		default:
			if handles, err = t.objectHandles(ctx, cam, dir, at); err != nil {
				return nil, nil, err
			}
			haveHandles = true
		}
		descs := t.checkList(dir, m, handles, list)
		if err := t.checkCount(dir, len(descs)); err != nil {
			return nil, nil, err
		}
		// Objects the answer left out or described incompletely are
		// asked one by one.
		if err := t.describeEach(ctx, cam, dir, descs, mode.oneRequest); err != nil {
			return nil, nil, err
		}
		return handles, descs, nil
	}
	if mode.oneRequest && (!haveHandles || len(handles) > 0) {
		return nil, nil, errNotCheap
	}
	if !haveHandles {
		var err error
		if handles, err = t.objectHandles(ctx, cam, dir, at); err != nil {
			return nil, nil, err
		}
	}
	if err := t.checkCount(dir, len(handles)); err != nil {
		return nil, nil, err
	}
	descs := make([]described, len(handles))
	for i, h := range handles {
		descs[i].h = h
	}
	if err := t.describeEach(ctx, cam, dir, descs, false); err != nil {
		return nil, nil, err
	}
	return handles, descs, nil
}

// describeByList describes dir's objects with list method m. ok is false,
// with no error, when the camera cannot or will not: the caller then tries
// the next way. A response code stops m being asked again this session (a
// camera that refuses it once refuses every folder); an answer too large
// or malformed falls back for this folder only; a transport error is an
// error.
func (t *Tree) describeByList(ctx context.Context, cam Camera, dir *Object, at address, m listMethod) ([]described, bool, error) {
	if t.refused[m].Load() || t.lim.listUnusable(dir, false) {
		return nil, false, nil
	}
	var list []mtp.ObjectDesc
	var err error
	switch m {
	case listEOS:
		sd, ok := cam.(StorageFolderDescriber)
		if !ok {
			return nil, false, nil
		}
		list, err = sd.DescribeStorageFolder(ctx, at.storage, at.handle)
	case listPropList:
		fd, ok := cam.(FolderDescriber)
		if !ok || at.handle == storageRoot {
			return nil, false, nil
		}
		list, err = fd.DescribeFolder(ctx, at.handle)
	}
	var refused mtp.ResponseCode
	switch {
	case err == nil:
	case errors.Is(err, errors.ErrUnsupported):
		t.refused[m].Store(true)
		return nil, false, nil
	case errors.Is(err, mtp.RespInvalidObjectHandle):
		// The folder is gone: the old way says so as it always has.
		return nil, false, nil
	case errors.As(err, &refused):
		if !t.refused[m].Swap(true) {
			t.log.Info("the camera refused "+m.String()+": listing another way",
				"dir", "/"+dir.Path(), "err", err)
		}
		return nil, false, nil
	case errors.Is(err, mtp.ErrTooLarge), errors.Is(err, mtp.ErrMalformed), errors.Is(err, mtp.ErrTooManyObjects):
		// Not asked again for this folder: a hostile answer costs its
		// transfer once.
		t.lim.listUnusable(dir, true)
		t.log.Warn(m.String()+" answer unusable: listing the folder another way",
			"dir", "/"+dir.Path(), "err", err)
		return nil, false, nil
	default:
		return nil, false, err
	}
	if err := t.checkCount(dir, len(list)); err != nil {
		return nil, false, err
	}
	descs := make([]described, len(list))
	for i, d := range list {
		descs[i] = described{h: d.Handle, info: d.Info, size: d.Size}
	}
	return descs, true, nil
}

// checkList puts the descriptions list method m gave of dir in the order
// of handles, GetObjectHandles' answer, which decides what is in the
// folder: an object it lists and the answer left out stays undescribed
// (asked with GetObjectInfo), an object the answer adds is dropped.
func (t *Tree) checkList(dir *Object, m listMethod, handles []uint32, list []described) []described {
	byHandle := make(map[uint32]described, len(list))
	for _, d := range list {
		if _, dup := byHandle[d.h]; !dup {
			byHandle[d.h] = d
		}
	}
	out := make([]described, len(handles))
	inHandles := make(map[uint32]bool, len(handles))
	missing := 0
	for i, h := range handles {
		inHandles[h] = true
		d, ok := byHandle[h]
		if !ok {
			d = described{h: h}
			missing++
		}
		out[i] = d
	}
	extra := 0
	for h := range byHandle {
		if !inHandles[h] {
			extra++
		}
	}
	if missing > 0 {
		t.log.Info(m.String()+" left out objects GetObjectHandles lists: described one by one",
			"dir", "/"+dir.Path(), "missing", missing, "listed", len(handles))
	}
	if extra > 0 {
		t.log.Debug(m.String()+" described objects GetObjectHandles does not list: left out",
			"dir", "/"+dir.Path(), "extra", extra)
	}
	return out
}

// describeEach asks GetObjectInfo for each object of descs not described
// yet, except the ones buildEntries skips without looking: duplicates,
// handles 0 and 0xFFFFFFFF, and the folders above (a parent cycle). An
// object gone since it was listed stays undescribed. With oneRequest it
// asks nothing: an object to ask about is errNotCheap.
func (t *Tree) describeEach(ctx context.Context, cam Camera, dir *Object, descs []described, oneRequest bool) error {
	anc := t.ancestorHandles(dir)
	seen := make(map[uint32]bool, len(descs))
	var settle time.Time // the listing's one wait for shots being written
	prog := newProgress(t.log, "listing a folder", ProgressEvery)
	defer t.track(prog)()
	for i := range descs {
		d := &descs[i]
		prog.tick(i, len(descs), "dir", "/"+dir.Path())
		if seen[d.h] || d.h == 0 || d.h == storageRoot || anc[d.h] {
			continue
		}
		seen[d.h] = true
		if d.info != nil {
			continue
		}
		if oneRequest {
			return errNotCheap
		}
		info, err := t.settledObjectInfo(ctx, cam, d.h, &settle)
		if errors.Is(err, mtp.RespInvalidObjectHandle) {
			continue // deleted on the camera since it was listed
		}
		if t.leftOut(dir, d.h, err) {
			d.refused = true
			continue
		}
		if err != nil {
			return err
		}
		d.info = info
	}
	return nil
}

// spotCheck reports whether the cached listing rec still describes its
// folder on a card that changed since it was recorded: some cameras number
// handles afresh in each session, so the same handles may name other
// objects. One GetObjectInfo of the last object recorded must agree with
// its cached name, format, parent, size and date.
func (t *Tree) spotCheck(ctx context.Context, cam Camera, rec *metaFolder) (bool, error) {
	last := rec.last()
	if last == nil {
		return true, nil // nothing described: nothing to mix up
	}
	info, err := cam.ObjectInfo(ctx, last.Handle)
	var refused mtp.ResponseCode
	if errors.As(err, &refused) {
		return false, nil // gone, or not the object it was: list again
	}
	if err != nil {
		return false, err
	}
	want := last.info()
	return info.Filename == want.Filename && info.ObjectFormat == want.ObjectFormat &&
		info.ParentObject == want.ParentObject && info.CompressedSize == want.CompressedSize &&
		t.sameDate(info.CaptureDate, want.CaptureDate), nil
}

// sameDate reports whether two camera dates are the same time: GetObjectInfo
// and GetObjectPropList may write one date differently.
func (t *Tree) sameDate(a, b string) bool {
	ta, oka := mtp.ParseDate(a, t.loc)
	tb, okb := mtp.ParseDate(b, t.loc)
	if oka && okb {
		return ta.Equal(tb)
	}
	return a == b
}
