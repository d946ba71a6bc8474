package tree

import (
	"context"
	"errors"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// described is one object listed in a folder: its handle and, unless it
// was not described (gone since listed, a duplicate, a parent cycle), its
// ObjectInfo and, when known, its exact 64-bit size.
type described struct {
	h    uint32
	info *mtp.ObjectInfo
	size uint64 // 0: unknown (then CompressedSize, or ObjectSize beyond 4 GiB)
}

// describeFolder describes the objects of dir, which is at in cam's
// session, in the cheapest way that is right:
//
//   - from the metadata cache, when GetObjectHandles answers the handles
//     the cache recorded (and, when the card changed since, one
//     GetObjectInfo agrees with the cached description: spotCheck);
//   - else with one GetObjectPropList, when the camera has it;
//   - else with GetObjectHandles and one GetObjectInfo per object, unless
//     mode.oneRequest (then errNotCheap).
//
// It returns the handles the camera listed, which the cache records and
// checks the next time, and the descriptions in the camera's order.
func (t *Tree) describeFolder(ctx context.Context, cam Camera, dir *Object, at address, key metaKey, mode listMode) ([]uint32, []described, error) {
	var handles []uint32
	haveHandles := false
	if rec := t.meta.folder(key); rec != nil {
		var err error
		if handles, err = cam.ObjectHandles(ctx, at.storage, at.handle); err != nil {
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
	// A storage's top level keeps GetObjectHandles: GetObjectPropList has
	// no StorageID, and its handle 0 means every storage's root at once
	// (MTP 1.1 E.2.1.1); the top level holds only a few folders anyway.
	if at.handle != storageRoot {
		handles, descs, ok, err := t.describeByPropList(ctx, cam, dir, at, mode)
		if err != nil || ok {
			return handles, descs, err
		}
	}
	if mode.oneRequest && (!haveHandles || len(handles) > 0) {
		return nil, nil, errNotCheap
	}
	if !haveHandles {
		var err error
		if handles, err = cam.ObjectHandles(ctx, at.storage, at.handle); err != nil {
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

// describeByPropList describes dir's objects with one GetObjectPropList.
// ok is false, with no error, when the camera cannot or will not: the
// caller then lists the old way. A response code stops it being asked
// again this session (a camera that refuses it once refuses every folder);
// an answer too large or malformed falls back for this folder only; a
// transport error is an error.
func (t *Tree) describeByPropList(ctx context.Context, cam Camera, dir *Object, at address, mode listMode) ([]uint32, []described, bool, error) {
	fd, ok := cam.(FolderDescriber)
	if !ok || t.noPropList.Load() {
		return nil, nil, false, nil
	}
	list, err := fd.DescribeFolder(ctx, at.handle)
	var refused mtp.ResponseCode
	switch {
	case err == nil:
	case errors.Is(err, errors.ErrUnsupported):
		t.noPropList.Store(true)
		return nil, nil, false, nil
	case errors.Is(err, mtp.RespInvalidObjectHandle):
		// The folder is gone: the old way says so as it always has.
		return nil, nil, false, nil
	case errors.As(err, &refused):
		if !t.noPropList.Swap(true) {
			t.log.Info("the camera refused GetObjectPropList: listing with one GetObjectInfo per object",
				"dir", "/"+dir.Path(), "err", err)
		}
		return nil, nil, false, nil
	case errors.Is(err, mtp.ErrTooLarge), errors.Is(err, mtp.ErrMalformed):
		t.log.Warn("GetObjectPropList answer unusable: listing the folder with one GetObjectInfo per object",
			"dir", "/"+dir.Path(), "err", err)
		return nil, nil, false, nil
	default:
		return nil, nil, false, err
	}
	if err := t.checkCount(dir, len(list)); err != nil {
		return nil, nil, false, err
	}
	handles := make([]uint32, len(list))
	descs := make([]described, len(list))
	for i, d := range list {
		handles[i] = d.Handle
		descs[i] = described{h: d.Handle, info: d.Info, size: d.Size}
	}
	// Objects the list described incompletely are asked one by one.
	if err := t.describeEach(ctx, cam, dir, descs, mode.oneRequest); err != nil {
		return nil, nil, false, err
	}
	return handles, descs, true, nil
}

// describeEach asks GetObjectInfo for each object of descs not described
// yet, except the ones buildEntries skips without looking: duplicates,
// handles 0 and 0xFFFFFFFF, and the folders above (a parent cycle). An
// object gone since it was listed stays undescribed. With oneRequest it
// asks nothing: an object to ask about is errNotCheap.
func (t *Tree) describeEach(ctx context.Context, cam Camera, dir *Object, descs []described, oneRequest bool) error {
	anc := t.ancestorHandles(dir)
	seen := make(map[uint32]bool, len(descs))
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
		info, err := cam.ObjectInfo(ctx, d.h)
		if errors.Is(err, mtp.RespInvalidObjectHandle) {
			continue // deleted on the camera since it was listed
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
