// Package cache keeps recently read parts of camera objects in memory, so
// that the one slow camera session is asked for each byte once.
//
// Objects are cut into fixed-size blocks (a multiple of the kernel's 128 KiB
// FUSE read, by default exactly that) held in a byte-bounded LRU keyed by
// (object ID, block index). A block being fetched is recorded under the same
// mutex as the LRU, so any number of readers of a missing block cause one
// camera request and wait for it, then look again (restic's
// internal/bloblru does the same). A request may fill many consecutive
// blocks but is trimmed to the run of blocks neither cached nor already on
// their way, and never reads past the object's end; an object's last block
// is short.
//
// PTP/IP has one transaction in flight and each request costs a round trip
// before its data flows, so the size of a sequential reader's requests
// decides how much of the link a copy gets. The cache fits a model of the
// link (a fetch of n bytes takes rtt + n/rate) to its recent fetches and
// sizes sequential requests to carry about 32 round trips of data (see
// link.go), within Config.RequestSize before the first fit and
// Config.MaxRequestSize; when the rest of an object is within one and a
// half requests it comes in one. A reader's first read fetches only the
// blocks it needs (a peek at a header costs one small request), unless the
// reader before it read its object sequentially to the end: a copy is
// running, and the whole request is fetched at once. A program reading
// sequentially from the start makes the kernel send two reads at once;
// the first read's fetch waits a moment for the second's, and they go out
// as one request (fetch.go, companionWait).
//
// A request's blocks are cached as their bytes arrive, a megabyte at a
// time, so a reader waits for its own part, not for the end of a request of
// many megabytes.
//
// Fetches run on the cache's own context, not the reader's: a reader whose
// context ends (an interrupted FUSE request) stops waiting and gets
// ctx.Err(), while the fetch completes for everyone else and the session is
// left alone. Close cancels that context. A failed fetch reports its error to
// every reader waiting for a block it did not bring whole, so the next read
// retries.
//
// A Reader, one per open file, notices sequential reading and fetches the
// read-ahead window beyond it in the background, so the camera is sending
// the next blocks while the kernel copies the current ones. When its
// fetches reach the object's end it asks a hint from the caller (the next
// file of the folder being copied) and queues that object's first request
// behind them, so the session does not idle while the copying program moves
// from one file to the next.
//
// Fetches wait in a queue, those a reader waits for ahead of read-ahead, and
// at most Config.Concurrency (default 1) are handed to the Source at once:
// the camera serves one request at a time anyway, and the cache, not the
// session's lock, then decides what goes next. Read-ahead only adds to the
// queue while it holds fewer than Config.MaxFetches fetches.
//
// Memory is bounded by Config.Size: before a fetch runs, the least recently
// used blocks are evicted to make room for it, so its buffers are recycled
// from them; a block is reference counted so no reader copies out of a
// buffer being reused. A WriterSource streams a request's bytes straight
// into the block buffers. A whole object is never buffered.
//
// The package knows nothing of MTP or PTP/IP: the camera is a Source, and an
// object only an ID and a size. Stats exposes counters and the link
// estimate in a text form for the mount's /.airnef/stats file.
package cache
