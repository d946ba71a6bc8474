package tree

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// FullDiffEvery is how often the listed folders are listed again even
// when the storages' free space has not moved since the last pass.
const FullDiffEvery = 30 * time.Second

// listedDir is a listed folder and the handles of its entries, as the
// tree knows them.
type listedDir struct {
	dir     *Object
	at      address
	handles map[uint32]*Object
}

// diff lists every listed folder again and applies the differences.
func (w *watcher) diff(ctx context.Context) {
	t := w.t
	cam := w.camera()
	if cam == nil {
		return
	}
	w.storages(ctx)
	t.mu.Lock()
	// Each folder costs a round trip: they are listed again only when a
	// storage's free space moved (a shot or a deletion moves it), and at
	// least every FullDiffEvery for a camera that reports it coarsely.
	print := storagePrintLocked(t.storages)
	if print == w.lastPrint && time.Since(w.lastFull) < FullDiffEvery {
		t.mu.Unlock()
		return
	}
	w.lastPrint, w.lastFull = print, time.Now()
	t.mu.Unlock()
	w.relist(ctx, cam)
}

// resync lists every listed folder again and applies the differences, once,
// for events that were dropped or could not be placed.
func (w *watcher) resync(ctx context.Context) {
	cam := w.camera()
	if cam == nil {
		return
	}
	start := time.Now()
	// One line per minute at most, however long the flood.
	level := slog.LevelDebug
	if start.Sub(w.lastResyncLog) >= time.Minute {
		level, w.lastResyncLog = slog.LevelInfo, start
	}
	w.t.log.Log(ctx, level, "listing the listed folders again: some of the camera's events were dropped or could not be placed")
	// Counted as it starts: relist publishes its changes while it runs, so
	// anyone who saw one of them sees the count too.
	w.t.resyncs.Add(1)
	w.relist(ctx, cam)
	w.t.log.Debug("resync done", "dur", time.Since(start))
}

// relist lists every listed folder again in cam's session and applies the
// differences.
func (w *watcher) relist(ctx context.Context, cam Camera) {
	t := w.t
	t.mu.Lock()
	var dirs []listedDir
	var walk func(d *Object)
	walk = func(d *Object) {
		for _, c := range d.children {
			if !c.IsDir() || !c.listed || c.gone {
				continue
			}
			ld := listedDir{dir: c, at: c.cur, handles: make(map[uint32]*Object, len(c.children))}
			for _, e := range c.children {
				ld.handles[e.cur.handle] = e
			}
			dirs = append(dirs, ld)
			walk(c)
		}
	}
	walk(t.root)
	t.mu.Unlock()
	for _, d := range dirs {
		if ctx.Err() != nil {
			return
		}
		hs, err := cam.ObjectHandles(ctx, d.at.storage, d.at.handle)
		if err != nil {
			// A folder deleted on the camera is taken out by its
			// parent's listing.
			t.log.Debug("listing a folder again failed", "dir", "/"+d.dir.Path(), "err", err)
			continue
		}
		now := make(map[uint32]bool, len(hs))
		for _, h := range hs {
			now[h] = true
			if d.handles[h] == nil && !w.seen[h] {
				w.add(ctx, h)
			}
		}
		for h, o := range d.handles {
			if !now[h] {
				w.removeObject(o)
			}
		}
	}
}

// storagePrintLocked is a fingerprint of the storages' identities and free
// space. t.mu is held.
func storagePrintLocked(infos map[uint32]*mtp.StorageInfo) string {
	ids := slices.Sorted(maps.Keys(infos))
	var b strings.Builder
	for _, id := range ids {
		si := infos[id]
		fmt.Fprintf(&b, "%x:%d:%d:%d;", id, si.MaxCapacity, si.FreeSpaceInBytes, si.FreeSpaceInImages)
	}
	return b.String()
}
