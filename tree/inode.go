package tree

import (
	"encoding/binary"
	"hash/fnv"
)

// RootIno is the FUSE root's inode number.
const RootIno = 1

// inodeOf is the inode number of the object at path (names joined by "/",
// "" for the storage's own directory) on the storage in slot: a hash of the
// object's place, so the number survives reconnects and remounts while
// handles do not (restic's inodeFromName). 0 and 1 are never returned: 0 is
// invalid and 1 is the root.
func inodeOf(slot uint16, path string) uint64 {
	h := fnv.New64a()
	var b [2]byte
	binary.LittleEndian.PutUint16(b[:], slot)
	h.Write(b[:])
	h.Write([]byte{0})
	h.Write([]byte(path))
	ino := h.Sum64()
	if ino < 2 {
		ino += 2
	}
	return ino
}
