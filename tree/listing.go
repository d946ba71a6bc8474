package tree

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/sched"
)

// ensureListed makes sure dir has been listed, starting the listing or
// joining the one in progress. It returns early with ctx's error when ctx
// ends first; the listing goes on for the others, on the tree's context
// with the class and owner of ctx (sched.From) of the caller that started
// it.
func (t *Tree) ensureListed(ctx context.Context, dir *Object) error {
	return t.awaitListed(ctx, dir, false)
}

// awaitListed is ensureListed. With oneRequest, a listing it starts may
// cost only one request (the warm listing's, warm.go): it ends with
// errNotCheap rather than describe the folder's objects one by one. A
// caller without oneRequest that joined such a listing and saw it give up
// starts a full one.
func (t *Tree) awaitListed(ctx context.Context, dir *Object, oneRequest bool) error {
	for {
		t.mu.Lock()
		if dir.listed {
			t.mu.Unlock()
			return nil
		}
		if dir.gone {
			t.mu.Unlock()
			return fmt.Errorf("list %q: %w", "/"+dir.Path(), ErrNotFound)
		}
		l := dir.listing
		if l == nil {
			l = &listing{done: make(chan struct{}), oneRequest: oneRequest}
			dir.listing = l
			class, owner := sched.From(ctx)
			go t.runListing(sched.With(t.ctx, class, owner), dir, l)
		}
		t.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if oneRequest || !errors.Is(l.err, errNotCheap) {
			return l.err
		}
	}
}

// errNotCheap ends a listing that may cost only one request (awaitListed)
// of a folder that needs one GetObjectInfo per object.
var errNotCheap = errors.New("tree: folder not listed with one request")

// listing is one run of a directory listing that callers wait on.
type listing struct {
	done chan struct{}
	err  error // set before done is closed
	// oneRequest: the listing gives up (errNotCheap) rather than
	// describe objects one by one.
	oneRequest bool
}

// listMode is how a listing of a folder runs: whether it may cost only
// one request.
type listMode struct {
	oneRequest bool
}

// runListing lists dir on ctx (the tree's, with a class and owner) for
// the callers waiting on l.
func (t *Tree) runListing(ctx context.Context, dir *Object, l *listing) {
	t.listings.Add(1)
	defer t.listings.Add(-1)
	start := time.Now()
	var children []*Object
	var infos map[uint32]*mtp.StorageInfo
	var err error
	until := t.resumeUntil()
	// A listing cut by the session's loss, or started while the camera
	// is away, waits for the next session as a read does (resume.go), and
	// lists again there: a WiFi blip does not fail `cp -r` on a folder
	// it had not reached yet.
	for waits := 0; ; waits++ {
		var cam Camera
		var gen uint64
		var at address
		cam, gen, at, err = t.session(dir)
		if err != nil && err != ErrDisconnected {
			break // gone since
		}
		if err == nil {
			if dir.Kind == KindRoot {
				children, infos, err = t.listStorages(ctx, cam)
			} else {
				children, err = t.listFolderMode(ctx, cam, dir, at, listMode{oneRequest: l.oneRequest})
			}
		}
		t.mu.Lock()
		if err == nil && t.gen != gen {
			// The session changed under the listing: its handles
			// belong to the old one.
			err, cam = ErrDisconnected, nil
		}
		t.mu.Unlock()
		if err == nil || waits >= MaxResumes || !t.awaitSession(ctx, cam, gen, err, until()) {
			break
		}
		t.listingsResumed.Add(1)
		t.log.Info("listing goes on in the camera's new session", "dir", "/"+dir.Path(), "cut_by", err)
	}
	switch {
	case errors.Is(err, errNotCheap):
		err = fmt.Errorf("list %q: %w", "/"+dir.Path(), err)
		t.log.Debug("not listed: it takes one request per object; listed when opened", "dir", "/"+dir.Path())
	case err != nil:
		err = fmt.Errorf("list %q: %w", "/"+dir.Path(), err)
		t.log.Debug("listing failed", "dir", "/"+dir.Path(), "err", err)
		t.listingRefused(dir, err)
	default:
		t.log.Debug("listed", "dir", "/"+dir.Path(), "entries", len(children), "dur", time.Since(start))
	}
	t.mu.Lock()
	if err == nil {
		t.installLocked(dir, children)
		for id, si := range infos {
			t.storages[id] = si
		}
		if infos != nil {
			t.statAt = time.Now()
		}
		t.meta.touched()
	}
	l.err = err
	dir.listing = nil
	t.mu.Unlock()
	close(l.done)
}

// listStorages lists the root: one directory per storage that holds a
// medium, named from its StorageDescription, else its VolumeLabel, else
// cardN by its slot.
func (t *Tree) listStorages(ctx context.Context, cam Camera) ([]*Object, map[uint32]*mtp.StorageInfo, error) {
	ids, err := cam.StorageIDs(ctx)
	if err != nil {
		return nil, nil, err
	}
	return t.describeStorages(ctx, cam, ids)
}

// describeStorages is listStorages for the storage IDs the camera gave.
func (t *Tree) describeStorages(ctx context.Context, cam Camera, ids []uint32) ([]*Object, map[uint32]*mtp.StorageInfo, error) {
	ids = slices.Clone(ids)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	infos := make(map[uint32]*mtp.StorageInfo, len(ids))
	var objs []*Object
	var names []string
	var keys []entryKey
	for _, id := range ids {
		if id&0xFFFF == 0 {
			continue // a slot without a medium (PTP's rule)
		}
		si, err := cam.StorageInfo(ctx, id)
		if errors.Is(err, mtp.RespInvalidStorageID) || errors.Is(err, mtp.RespStoreNotAvailable) {
			t.log.Info("storage not available; skipped", "storage", fmt.Sprintf("%#08x", id), "err", err)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		infos[id] = si
		t.meta.storage(Slot(id), si)
		raw := si.StorageDescription
		if raw == "" {
			raw = si.VolumeLabel
		}
		if raw == "" {
			raw = fmt.Sprintf("card%d", Slot(id))
		}
		objs = append(objs, &Object{
			Kind: KindStorage, Mtime: Epoch, Handle: storageRoot, Storage: id,
			RawName: raw, parent: t.root, cur: address{storage: id, handle: storageRoot},
		})
		names = append(names, sanitizeName(raw))
		keys = append(keys, entryKey{raw: raw, handle: id})
	}
	unique := uniqueNames(names, keys, reservedRootNames)
	for i, o := range objs {
		o.Name = unique[i]
		o.Ino = inodeOf(Slot(o.Storage), o.Path())
	}
	return objs, infos, nil
}

// listFolder lists one folder (or a storage's top level), which is at in
// cam's session: it describes the folder's objects (describeFolder), then
// builds the entries from the descriptions (buildEntries), and records
// both in the metadata cache.
func (t *Tree) listFolder(ctx context.Context, cam Camera, dir *Object, at address) ([]*Object, error) {
	return t.listFolderMode(ctx, cam, dir, at, listMode{})
}

// listFolderMode is listFolder with mode.oneRequest (awaitListed).
func (t *Tree) listFolderMode(ctx context.Context, cam Camera, dir *Object, at address, mode listMode) ([]*Object, error) {
	if err := t.lim.refusedErr(dir); err != nil {
		return nil, err // too many objects: the camera is not asked again
	}
	key := metaKeyOf(dir)
	handles, descs, err := t.describeFolder(ctx, cam, dir, at, key, mode)
	if err != nil {
		return nil, err
	}
	objs, err := t.buildEntries(ctx, cam, dir, at, descs)
	if err != nil {
		return nil, err
	}
	// Recorded after the build, which learns the exact size of objects
	// over 4 GiB.
	t.meta.record(key, handles, descs)
	return objs, nil
}
