package tree

import (
	"context"
	"errors"
	"fmt"

	"github.com/airnef-mount/airnef-mount/sched"
)

// ErrNoThumbs is returned by Tree.Thumb when the tree's camera cannot send
// thumbnails.
var ErrNoThumbs = errors.New("tree: the camera cannot send thumbnails")

// MaxThumbSize bounds a thumbnail: cameras keep 160×120 JPEGs of a few KiB;
// anything much larger is not one.
const MaxThumbSize = 1 << 20

// Thumb returns the camera's thumbnail of file o, read with one GetThumb
// straight from the camera: it does not go through the block cache and
// reads none of the file's content. It is background work
// (sched.Background): nobody waits on the mount for it.
func (t *Tree) Thumb(ctx context.Context, o *Object) ([]byte, error) {
	ctx = sched.With(ctx, sched.Background, 0)
	if o.Kind != KindFile {
		return nil, fmt.Errorf("thumbnail of %q: %w", o.Path(), ErrNotFile)
	}
	cam, _, at, err := t.session(o)
	if err != nil {
		return nil, fmt.Errorf("thumbnail of %q: %w", o.Path(), err)
	}
	tc, ok := cam.(ThumbCamera)
	if !ok {
		return nil, ErrNoThumbs
	}
	w := &thumbWriter{}
	if err := tc.Thumb(ctx, at.handle, w); err != nil {
		return nil, fmt.Errorf("thumbnail of %q: %w", o.Path(), err)
	}
	if w.over > 0 {
		return nil, fmt.Errorf("thumbnail of %q: %d bytes, more than %d", o.Path(), len(w.buf)+w.over, MaxThumbSize)
	}
	return w.buf, nil
}

// thumbWriter keeps the first MaxThumbSize bytes and counts the rest: it
// never fails a write, which would break the session mid-transaction.
type thumbWriter struct {
	buf  []byte
	over int
}

func (w *thumbWriter) Write(p []byte) (int, error) {
	keep := min(len(p), MaxThumbSize-len(w.buf))
	w.buf = append(w.buf, p[:keep]...)
	w.over += len(p) - keep
	return len(p), nil
}
