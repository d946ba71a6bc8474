package tree

import (
	"encoding/binary"
	"hash/fnv"
)

// A new capture can take a deleted file's name, and so its place and inode
// number, while the kernel and the block cache still hold the old file.
// Each object therefore has a generation: 0 for the first object at a
// place during this mount, one more for each after it. FUSE tells inodes
// apart by (node ID, generation), and the block cache keys a later
// generation apart (cacheID).

// bornLocked gives o, installed in the tree for the first time, the
// generation of its place. t.mu must be held.
func (t *Tree) bornLocked(o *Object) {
	o.gen = t.inoGen[o.Ino]
	if o.gen != 0 && o.Kind == KindFile {
		if t.reborn == nil {
			t.reborn = map[uint64]*Object{}
		}
		t.reborn[cacheID(o)] = o
	}
}

// diedLocked notes that o was taken out of the tree: the next object at
// its place is of the next generation. t.mu must be held.
func (t *Tree) diedLocked(o *Object) {
	if t.inoGen == nil {
		t.inoGen = map[uint64]uint64{}
	}
	if g := o.gen + 1; g > t.inoGen[o.Ino] {
		t.inoGen[o.Ino] = g
	}
	if o.gen != 0 {
		delete(t.reborn, cacheID(o))
	}
}

// cacheID is the block cache's key of file o: its inode number for the
// first object at its place (stable across remounts, as design.md wants),
// a hash of the number and generation for a later one.
func cacheID(o *Object) uint64 {
	if o.gen == 0 {
		return o.Ino
	}
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], o.Ino)
	binary.LittleEndian.PutUint64(b[8:], o.gen)
	h.Write([]byte("\xff\xff\xfdgen\x00"))
	h.Write(b[:])
	return h.Sum64()
}

// objectByCacheID returns the file whose blocks the cache keys by id, if
// it is still in the tree. The old object of a reused place is not found:
// an open file of it fails to read instead of reading the new capture.
func (t *Tree) objectByCacheID(id uint64) (*Object, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if o, ok := t.byIno[id]; ok && o.gen == 0 {
		return o, true
	}
	o, ok := t.reborn[id]
	return o, ok
}
