package tree

import (
	"context"
	"maps"
	"slices"
)

// storages lists the storages again: a card put in appears, a card taken
// out (its slot no longer in GetStorageIDs, or empty) disappears. A
// storage that is only not available for now (StoreNotAvailable: a low
// battery) stays: its files answer EIO until it is back.
func (w *watcher) storages(ctx context.Context) {
	t := w.t
	cam := w.camera()
	if cam == nil || !t.Listed(t.root) {
		return
	}
	ids, err := cam.StorageIDs(ctx)
	if err != nil {
		t.log.Debug("listing the storages again failed", "err", err)
		return
	}
	present := map[uint16]bool{}
	for _, id := range ids {
		if id&0xFFFF != 0 {
			present[Slot(id)] = true
		}
	}
	fresh, infos, err := t.describeStorages(ctx, cam, ids)
	if err != nil {
		t.log.Debug("listing the storages again failed", "err", err)
		return
	}
	t.mu.Lock()
	if t.gen != w.gen {
		t.mu.Unlock()
		return
	}
	for id, si := range infos {
		t.storages[id] = si
	}
	var changes []Change
	bySlot := map[uint16]*Object{}
	for _, n := range fresh {
		bySlot[Slot(n.Storage)] = n
	}
	for _, o := range slices.Clone(t.root.children) {
		if n, ok := bySlot[Slot(o.Storage)]; ok {
			o.cur = n.cur
			delete(bySlot, Slot(o.Storage))
			continue
		}
		if present[Slot(o.Storage)] {
			continue // not available for now
		}
		delete(t.storages, o.cur.storage)
		changes = append(changes, Change{Dir: t.removeLocked(o), Obj: o, Removed: true})
	}
	for _, n := range fresh {
		if bySlot[Slot(n.Storage)] != n {
			continue
		}
		taken := maps.Clone(reservedRootNames)
		for _, c := range t.root.children {
			taken[c.Name] = true
		}
		n.Name = uniqueNames([]string{n.Name}, []entryKey{{raw: n.RawName, handle: n.Storage}}, taken)[0]
		n.Ino = inodeOf(Slot(n.Storage), n.Path())
		t.installLocked(t.root, append(slices.Clip(t.root.children), n))
		changes = append(changes, Change{Dir: t.root, Obj: n})
	}
	t.mu.Unlock()
	t.changedAll(changes)
}
