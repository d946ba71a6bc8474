package cache

// Prefetch queues the first request of obj behind all other fetches, as
// read-ahead that a reader's own fetch always overtakes in the queue: the
// file a copy most likely reads next, so the session is busy while the
// copying program finishes one file and opens the next. It does nothing
// when obj's start is cached or on its way, when read-ahead already fills
// the queue (Config.MaxFetches), or when the request would take more than an
// eighth of the cache, which would evict blocks readers still use. It
// reports whether it queued a fetch.
//
// The camera serves one request at a time and a running request cannot be
// interrupted, so a reader arriving meanwhile for something else waits for
// at most this one request (about requestRoundTrips round trips): the price
// of keeping a copy's session busy.
func (c *Cache) Prefetch(obj Object) bool {
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
	f := c.startLocked(obj, 0, req, true)
	f.prefetch = true
	return true
}
