// Package renamed is the renamed view of a card (--dirnamespec,
// --filenamespec): the files of package tree's listing under the
// directories and names that Airnef's renaming language (package pathspec)
// makes from each file's metadata. Directories exist only for the files in
// them.
//
// A mount of the same card shows the same view every time, so rsync never
// recopies: names come from metadata and stable numbers (@dlnum@ by
// capture order; @dlnum_lifetime@, kept per camera by Lifetime in
// dlnum.go), collisions resolve in a fixed order, and inode numbers hash
// the renamed path (directories) or the object's identity (files).
//
// While mounted, Rebuild makes the tree again from what the camera tree has
// listed, asking the camera nothing. A file keeps its path whatever is
// added or deleted around it (it is pinned): only new files are named,
// around the names taken, so a late older capture takes "NAME (2)" and a
// deletion renumbers nobody.
//
// renamed does not list the camera or speak FUSE: packages tree and fusefs
// do.
package renamed
