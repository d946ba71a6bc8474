package tree

import (
	"context"
	"fmt"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/sched"
)

// statfsMaxAge is how old the StorageInfo Usage answers from may be before
// it is read again, in the background: file managers call statfs often.
const statfsMaxAge = 10 * time.Second

// Usage is the camera's total capacity and free space over its storages.
type Usage struct {
	Capacity uint64
	Free     uint64
	Storages int
	// FreeImages is how many more pictures fit, as the cameras tell
	// (StorageInfo's FreeSpaceInImages), when every storage does.
	FreeImages      uint64
	FreeImagesKnown bool
}

// Usage sums the storages' capacity and free space from the last
// StorageInfo the camera sent: it never waits for the camera (ctx only
// bounds waiting for the storages' first listing, done at mount). Figures
// older than statfsMaxAge are read again in the background, on the tree's
// context: an interrupted statfs cannot cut a transaction.
func (t *Tree) Usage(ctx context.Context) (Usage, error) {
	if err := t.ensureListed(ctx, t.root); err != nil {
		return Usage{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if cam := t.cam; cam != nil && time.Since(t.statAt) > statfsMaxAge && !t.statBusy {
		t.statBusy = true
		ids := make([]uint32, 0, len(t.storages))
		for id := range t.storages {
			ids = append(ids, id)
		}
		go t.refreshUsage(cam, ids)
	}
	u := Usage{FreeImagesKnown: len(t.storages) > 0}
	for _, si := range t.storages {
		u.Capacity += si.MaxCapacity
		u.Free += si.FreeSpaceInBytes
		u.Storages++
		u.FreeImages += uint64(si.FreeSpaceInImages)
		// All ones is PTP's "not used"; 0 with space free is taken as the
		// same (the free bytes then tell).
		u.FreeImagesKnown = u.FreeImagesKnown && si.FreeSpaceInImages != 0xFFFFFFFF && si.FreeSpaceInImages != 0
	}
	if !u.FreeImagesKnown {
		u.FreeImages = 0
	}
	return u, nil
}

// refreshUsage reads the StorageInfo of storages ids from cam, as
// background work; the older figures stay when the camera does not answer.
func (t *Tree) refreshUsage(cam Camera, ids []uint32) {
	ctx := sched.With(t.ctx, sched.Background, 0)
	fresh := make(map[uint32]*mtp.StorageInfo, len(ids))
	for _, id := range ids {
		si, err := cam.StorageInfo(ctx, id)
		if err != nil {
			t.log.Debug("storage info refresh failed", "storage", fmt.Sprintf("%#08x", id), "err", err)
			fresh = nil
			break
		}
		fresh[id] = si
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, si := range fresh {
		t.storages[id] = si
	}
	t.statAt = time.Now()
	t.statBusy = false
}
