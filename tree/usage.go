package tree

import (
	"context"
	"fmt"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// statfsMaxAge is how long Statfs answers from the StorageInfo it has
// before asking the camera again: file managers call statfs often.
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

// Usage sums the storages' capacity and free space. It answers from the
// StorageInfo read in the last statfsMaxAge, else asks the camera (and
// falls back to the older figures when the camera does not answer).
func (t *Tree) Usage(ctx context.Context) (Usage, error) {
	if err := t.ensureListed(ctx, t.root); err != nil {
		return Usage{}, err
	}
	t.mu.Lock()
	if cam := t.cam; cam != nil && time.Since(t.statAt) > statfsMaxAge && !t.statBusy {
		t.statBusy = true
		ids := make([]uint32, 0, len(t.storages))
		for id := range t.storages {
			ids = append(ids, id)
		}
		t.mu.Unlock()
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
		for id, si := range fresh {
			t.storages[id] = si
		}
		t.statAt = time.Now()
		t.statBusy = false
	}
	defer t.mu.Unlock()
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
