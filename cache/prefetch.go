package cache

import "github.com/airnef-mount/airnef-mount/sched"

// Prefetch queues the first request of obj, the file the process owner
// copies next, as the least urgent fetch (sched.Prefetch); a reader
// arriving while it runs waits for at most this one request. It does
// nothing when obj's start is cached or coming, the queue is full, or the
// request would take more than an eighth of the cache, and reports whether
// it queued a fetch.
func (c *Cache) Prefetch(obj Object, owner sched.Owner) bool {
	if obj.Size <= 0 {
		return false
	}
	bs := int64(c.cfg.BlockSize)
	req := c.requestSize() / c.cfg.BlockSize
	blocks := (obj.Size + bs - 1) / bs
	if min(blocks, int64(c.stretch(req)))*bs > c.cfg.Size/8 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := key{obj.ID, 0}
	if c.closed || c.fetching >= c.cfg.MaxFetches || c.lru.Contains(k) || c.inflight[k] != nil {
		return false
	}
	c.startLocked(obj, 0, req, sched.Prefetch, owner)
	return true
}
