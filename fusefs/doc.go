// Package fusefs shows a camera's object tree as a read-only FUSE
// filesystem.
//
// The tree (tree.go, object.go, names.go, inode.go) is plain Go over the
// small Camera interface and is tested without FUSE: root -> one
// directory per storage -> the camera's folders -> files, with sanitised,
// unique names, inode numbers hashed from each object's place, exact sizes
// and capture-date mtimes. Folders are listed from the camera on first use
// and kept.
//
// The nodes (root.go, node.go, dir.go, file.go, control.go) are thin go-fuse
// adapters over the tree: file bytes come through package cache, errors
// become errno values in exactly one place (errno.go), and every write is
// refused with EROFS. Mount (mount.go) mounts read-only.
//
// With --dirnamespec or --filenamespec the mount shows a renamed tree
// instead (rename.go, renamenode.go): Renamer lists the whole card through
// the Tree and names each file with package pathspec; the camera tree stays
// reachable at /.camera, unlisted. Lifetime (dlnum.go) keeps the
// @dlnum_lifetime@ numbers of each camera in the state directory.
//
// fusefs does not speak PTP, cache blocks or parse flags: those are
// packages mtp and ptpip, cache, and cmd/airnef-mount.
package fusefs
