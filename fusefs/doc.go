// Package fusefs shows package tree's camera tree, or package renamed's
// view of it, as a read-only FUSE filesystem: thin go-fuse nodes that
// answer from memory where they can.
//
//   - root.go, node.go, dir.go, file.go: the camera tree's nodes; file
//     bytes are read through package cache.
//   - renamenode.go: the renamed tree's nodes, and /.camera.
//   - control.go: /.airnef (stats, latest), reachable by name, not listed.
//   - invalidate.go: what the kernel is told when the camera changes.
//   - errno.go: the one place where errors become errno values.
//   - readonly.go, mount.go: every write is refused with EROFS, and the
//     mount is read-only.
//
// fusefs does not list the camera, cache blocks or name files: packages
// tree, cache and renamed do.
package fusefs
