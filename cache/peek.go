package cache

import "context"

// Peek reads len(p) bytes of obj at off like ReadAt, fetching only the
// blocks p covers: no request-sized fetch, no read-ahead, and the copy
// heuristics of readers are left alone. It serves a background reader's
// ranged reads (the thumbnailer's look into a file's header and IFDs),
// which must not look like, or disturb, a copy.
func (c *Cache) Peek(ctx context.Context, obj Object, p []byte, off int64) (int, error) {
	return c.read(ctx, obj, p, off, plan{}, nil)
}
