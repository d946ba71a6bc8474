package renamed

import (
	"encoding/binary"
	"hash/fnv"
)

// renamedDirIno is the inode number of the renamed tree's directory at
// path. Its hash input never equals inodeOf's (whose third byte is NUL)
// nor controlIno's (0xFF).
func renamedDirIno(path string) uint64 {
	return hashIno("\xff\xff\xfedir\x00", path)
}

// renamedFileIno is the inode number of a file in the renamed tree: a hash
// of its identity, so the file keeps it whatever it is named and however
// the camera numbers its handles.
func renamedFileIno(k LifetimeKey) uint64 {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(k.Slot))
	return hashIno("\xff\xff\xfefile\x00", string(b[:])+k.Folder+"\x00"+k.Name)
}

func hashIno(prefix, s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(prefix))
	h.Write([]byte(s))
	ino := h.Sum64()
	if ino < 2 {
		ino += 2
	}
	return ino
}
