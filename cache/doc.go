// Package cache keeps recently read parts of camera objects in memory, so
// that the one slow camera session is asked for each byte once.
//
// Objects are cut into fixed-size blocks (a multiple of the kernel's 128 KiB
// FUSE read) in a byte-bounded LRU. A block being fetched is recorded under
// the LRU's mutex, so concurrent readers of a missing block share one camera
// request (as restic's internal/bloblru does).
//
// A Reader, one per open file handle, reads ahead from what that handle
// consumed, as the kernel's readahead does: a first read fetches what it
// asked for (a peek at a header costs one small request); a window of
// read-ahead opens once the reader has consumed what was fetched for it and
// doubles while it reads on, up to the request size the link calls for
// (link.go: about 32 round trips of data, so a copy alone keeps the link
// busy); a seek fetches only its own bytes, uncached, and withdraws the
// read-ahead queued before it, as does closing the handle. A process that
// copies file after file (its evidence is the caller's: SetCopy) gets
// link-sized requests from the start and the next file's first request
// prefetched. A request's blocks are served as they arrive.
//
// Fetches wait in the cache's queue by class (a reader's, read-ahead, the
// next file's prefetch) and take their turns in the session's scheduler
// (package sched) beside the tree's listings; a speculative request is
// capped to speculativeTime of the link while another process's request
// waits or did lately. They run on the cache's own context: an interrupted
// reader stops waiting, the fetch completes for everyone else and the
// session is left alone. Memory stays within Config.Size; a whole object is
// never buffered.
//
// It knows nothing of MTP or PTP/IP: the camera is a Source, an object only
// an ID and a size.
package cache
