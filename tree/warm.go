package tree

import (
	"context"
	"errors"
	"time"

	"github.com/airnef-mount/airnef-mount/sched"
)

// The warm listing lists in the background, once the session is open, what
// a file manager or a copy opens first, so the first lookups find it
// listed or join its listing: each storage's top level, the first
// warmPerParent folders of each (DCIM, ...), and the first warmPerParent
// of those (DCIM/100MSDCF, ...) only when one request lists them (one
// GetObjectInfoEx, or GetObjectPropList and its GetObjectHandles check, or
// the metadata cache): a folder that needs one
// GetObjectInfo per object waits until it is opened (errNotCheap).
// "First" is name order, as cp -r, rsync and file managers visit. It goes
// through awaitListed, so a lookup joins it, and it never fails anything:
// a folder it could not list is listed when opened.

// warmPerParent is how many folders of one directory the warm listing
// lists, at levels 2 and 3.
const warmPerParent = 8

// Warm runs the warm listing of the tree's current session and returns
// when it is done, ctx has ended, the tree is closed or the session is
// lost. Start it once the storages are listed (or let it list them), in
// its own goroutine. Its requests are background work (sched.Background).
func (t *Tree) Warm(ctx context.Context) {
	start := time.Now()
	ctx, cancel := context.WithCancel(sched.With(ctx, sched.Background, 0))
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()

	w := warmer{t: t}
	storages := w.list(ctx, t.root, false, -1)
	var level2, level3 []*Object
	for _, s := range storages {
		level2 = append(level2, w.list(ctx, s, false, warmPerParent)...)
	}
	for _, d := range level2 {
		level3 = append(level3, w.list(ctx, d, false, warmPerParent)...)
	}
	for _, d := range level3 {
		w.list(ctx, d, true, 0)
	}
	if w.stopped(ctx) {
		t.log.Debug("warm listing stopped", "folders", w.folders, "dur", time.Since(start), "err", w.err)
		return
	}
	t.log.Debug("warm listing done", "folders", w.folders, "skipped", w.skipped, "dur", time.Since(start))
}

// warmer is one warm listing's state.
type warmer struct {
	t       *Tree
	folders int   // storages and folders listed (by it or by another caller)
	skipped int   // directories not listed: an error, or errNotCheap
	err     error // why it stopped: the session is gone
}

// stopped reports whether the warm listing must stop: ctx ended, the
// tree is closed (its context ends a moment before ctx does), or the
// session is gone.
func (w *warmer) stopped(ctx context.Context) bool {
	return ctx.Err() != nil || w.t.ctx.Err() != nil || w.err != nil
}

// list makes sure dir is listed (with oneRequest, only if that takes one
// request) and returns its first max directories in name order (every one
// for max < 0).
func (w *warmer) list(ctx context.Context, dir *Object, oneRequest bool, max int) []*Object {
	if w.stopped(ctx) {
		return nil
	}
	t := w.t
	if err := t.awaitListed(ctx, dir, oneRequest); err != nil {
		switch {
		case w.stopped(ctx):
		case errors.Is(err, ErrDisconnected):
			w.err = err
		default:
			w.skipped++
			if !errors.Is(err, errNotCheap) {
				t.log.Debug("warm listing: folder not listed; listed when opened", "dir", "/"+dir.Path(), "err", err)
			}
		}
		return nil
	}
	if dir.Kind != KindRoot {
		w.folders++
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var dirs []*Object
	for _, c := range dir.children { // sorted by name (installLocked)
		if max >= 0 && len(dirs) >= max {
			break
		}
		if c.IsDir() && !c.gone {
			dirs = append(dirs, c)
		}
	}
	return dirs
}
