package tree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/airnef-mount/airnef-mount/cache"
)

// Source returns the tree as the cache's source of object bytes. Objects
// are keyed by CacheObject, from the inode number (not the per-session
// handle), so cached blocks stay valid across reconnects.
func (t *Tree) Source() cache.Source { return treeSource{t} }

type treeSource struct{ t *Tree }

// CacheObject is the cache's name for file o.
func CacheObject(o *Object) cache.Object { return cache.Object{ID: cacheID(o), Size: o.Size} }

func (s treeSource) Fetch(ctx context.Context, obj cache.Object, off int64, dst []byte) (int, error) {
	o, ok := s.t.objectByCacheID(obj.ID)
	if !ok {
		return 0, fmt.Errorf("fetch inode %#x: %w", obj.ID, ErrNotFound)
	}
	n, err := s.t.ReadAt(ctx, o, off, dst)
	if err == nil && n < len(dst) {
		err = fmt.Errorf("read %q at %d: camera sent %d of %d bytes: %w", o.Path(), off, n, len(dst), io.ErrUnexpectedEOF)
	}
	return n, err
}

// FetchTo streams the n bytes of obj at off into w as the camera sends
// them, so the cache fills its block buffers without a second copy.
func (s treeSource) FetchTo(ctx context.Context, obj cache.Object, off, n int64, w io.Writer) (int64, error) {
	o, ok := s.t.objectByCacheID(obj.ID)
	if !ok {
		return 0, fmt.Errorf("fetch inode %#x: %w", obj.ID, ErrNotFound)
	}
	if o.Kind != KindFile {
		return 0, fmt.Errorf("read %q: %w", o.Path(), ErrNotFile)
	}
	if off < 0 || n <= 0 || off+n > o.Size || n > math.MaxUint32 {
		return 0, fmt.Errorf("read %q: %d bytes at %d of %d: %w", o.Path(), n, off, o.Size, io.ErrUnexpectedEOF)
	}
	got, err := s.t.readResuming(ctx, o, off, n, w)
	if err != nil {
		return got, fmt.Errorf("read %q at %d: %w", o.Path(), off, err)
	}
	if got < n {
		return got, fmt.Errorf("read %q at %d: camera sent %d of %d bytes: %w", o.Path(), off, got, n, io.ErrUnexpectedEOF)
	}
	return got, nil
}

var _ cache.WriterSource = treeSource{}

// ReadAt reads len(dst) bytes (fewer at the end) of file o from offset off
// into dst, in one camera operation, on ctx (another on the next session
// when this one is lost meanwhile: resume.go).
func (t *Tree) ReadAt(ctx context.Context, o *Object, off int64, dst []byte) (int, error) {
	if o.Kind != KindFile {
		return 0, fmt.Errorf("read %q: %w", o.Path(), ErrNotFile)
	}
	if off >= o.Size || len(dst) == 0 {
		return 0, nil
	}
	if rest := o.Size - off; int64(len(dst)) > rest {
		dst = dst[:rest]
	}
	w := &sliceWriter{buf: dst}
	_, err := t.readResuming(ctx, o, off, int64(len(dst)), w)
	if err != nil {
		return w.n, fmt.Errorf("read %q at %d: %w", o.Path(), off, err)
	}
	return w.n, nil
}

// sliceWriter is an io.Writer filling a fixed slice; writing past its end
// is an error, never a reallocation.
type sliceWriter struct {
	buf []byte
	n   int
}

var errOverrun = errors.New("tree: camera sent more than asked")

func (w *sliceWriter) Write(p []byte) (int, error) {
	n := copy(w.buf[w.n:], p)
	w.n += n
	if n < len(p) {
		return n, errOverrun
	}
	return n, nil
}

var _ io.Writer = (*sliceWriter)(nil)
