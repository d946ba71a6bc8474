// Package tree is the camera's object tree: root -> one directory per
// storage -> the camera's folders -> files, with sanitised unique names,
// inode numbers hashed from each object's place, exact sizes and
// capture-date mtimes. It is plain Go over the small Camera interface
// (camera.go), tested without FUSE.
//
//   - tree.go: the Tree and its lookups; listing.go, describe.go and
//     entry.go: a folder is listed on first use, once however many callers
//     wait, from the metadata cache, one GetObjectPropList or one
//     GetObjectInfo per object; warm.go lists the top folders after mounting.
//   - watch.go: the camera's changes (events, Nikon's polled GetEvent,
//     handle diffing in diff.go, a resync when events are dropped or
//     cannot be placed, diffing when the event connection alone ends); add.go places a new object, remove.go and
//     storages.go take objects and cards out.
//   - reconnect.go: a new session finds each listed object at its place;
//     generation.go tells a reused place's new object from the old one;
//     resume.go: a read cut by a lost session goes on in the next one.
//   - metacache.go, metafile.go: the listing kept on disk between mounts.
//   - source.go: file bytes for package cache; prefetch.go learns, per
//     process, whether it copies a folder and which file it reads next;
//     thumbs.go reads the camera's thumbnails.
//   - limits.go: what a broken or hostile camera cannot make the tree hold.
//
// Listings and refreshes run on the tree's own context: an interrupted
// caller stops waiting without cancelling what others share, and no tree
// lock is held across a camera round trip. Each request carries its class
// for the session's scheduler (package sched): a listing the user waits
// on is the user's, the tree's own work (warm listing, change detection,
// storage refreshes, thumbnails) is background.
//
// tree does not speak FUSE, cache blocks or rename files: packages fusefs,
// cache and renamed do.
package tree
