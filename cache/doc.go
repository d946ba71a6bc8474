// Package cache keeps recently read parts of camera objects in memory, so
// that the one slow camera session is asked for each byte once.
//
// Objects are cut into fixed-size blocks (a multiple of the kernel's 128 KiB
// FUSE read) in a byte-bounded LRU. A block being fetched is recorded under
// the LRU's mutex, so concurrent readers of a missing block share one camera
// request (as restic's internal/bloblru does).
//
// PTP/IP runs one transaction at a time and each request costs a round trip,
// so the request size decides how much of the link a copy gets: the cache
// fits the link from its own fetches (link.go) and sizes sequential requests
// from it. A first read fetches only what it needs (a peek at a header costs
// one small request) unless a copy is running. A Reader, one per open file,
// reads ahead of a sequential reader and queues the next file of a copy, so
// the session never idles; a request's blocks are served as they arrive.
//
// Fetches run on the cache's own context: an interrupted reader stops
// waiting, the fetch completes for everyone else and the session is left
// alone. Memory stays within Config.Size; a whole object is never buffered.
//
// It knows nothing of MTP or PTP/IP: the camera is a Source, an object only
// an ID and a size.
package cache
