package cache

import "context"

// Peek reads len(p) bytes of obj at off like ReadAt, fetching only the
// blocks p covers, with no read-ahead, in the scheduler's Background class.
// It serves the mount's own ranged reads (the thumbnailer's look into a
// file's header and IFDs), which no user waits on.
func (c *Cache) Peek(ctx context.Context, obj Object, p []byte, off int64) (int, error) {
	return c.read(ctx, obj, p, off, plan{background: true}, nil)
}
