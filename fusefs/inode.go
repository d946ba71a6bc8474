package fusefs

import "hash/fnv"

// controlIno is the inode number of a control file or directory (under
// /.airnef), named by its path. Its hash input never equals a storage
// object's (the slot's two bytes are followed by a NUL there, by 0xFF here).
func controlIno(path string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("\xff\xff\xffairnef\x00"))
	h.Write([]byte(path))
	ino := h.Sum64()
	if ino < 2 {
		ino += 2
	}
	return ino
}
