// Package cache keeps recently read parts of camera objects in memory, so
// that the one slow camera session is asked for each byte once.
//
// Objects are cut into fixed-size blocks (a multiple of the kernel's 128 KiB
// FUSE read) held in a byte-bounded LRU keyed by (object ID, block index).
// A block being fetched is recorded under the same mutex as the LRU, so any
// number of readers of a missing block cause one camera request and wait for
// it, then look again (restic's internal/bloblru does the same). A request
// may fill several consecutive blocks (Config.RequestSize) but is trimmed to
// the run of blocks neither cached nor already on their way, and never reads
// past the object's end; an object's last block is short.
//
// Fetches run on the cache's own context, not the reader's: a reader whose
// context ends (an interrupted FUSE request) stops waiting and gets
// ctx.Err(), while the fetch completes for everyone else and the session is
// left alone. Close cancels that context. A failed fetch reports its error to
// every reader waiting for it and caches nothing, so the next read retries.
//
// A Reader, one per open file, notices sequential reading and fetches the
// read-ahead window beyond it in the background, so the camera is sending
// the next blocks while the kernel copies the current ones.
//
// Fetches wait in a queue, those a reader waits for ahead of read-ahead, and
// at most Config.Concurrency (default 1) are handed to the Source at once:
// the camera serves one request at a time anyway, and the cache, not the
// session's lock, then decides what goes next. Read-ahead only adds to the
// queue while it holds fewer than Config.MaxFetches fetches.
//
// Memory is bounded by Config.Size plus the fetches running: block buffers
// are recycled from evicted blocks, and a block is reference counted so no
// reader copies out of a buffer being reused. A whole object is never
// buffered.
//
// The package knows nothing of MTP or PTP/IP: the camera is a Source, and an
// object only an ID and a size. Stats exposes counters in a text form for
// the mount's /.airnef/stats file.
package cache
