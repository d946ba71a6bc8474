package tree

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"

	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// Listing tells how far a folder listed one object at a time has got, and
// nothing once it is done.
func TestListingProgress(t *testing.T) {
	const n = 50
	c := treetest.New()
	c.AddStorage(0x00010001, "SD", "", 1<<30, 1<<29)
	dir := c.Add(0x00010001, 0, "DCIM", true, nil, "", "")
	for i := range n {
		c.Add(0x00010001, dir, fmt.Sprintf("F%03d.JPG", i), false, []byte("x"), "20240315T120000", "")
	}
	slow := &slowInfo{Camera: c, after: 5, hold: make(chan struct{}), held: make(chan struct{})}
	tr := newTestTree(t, slow)
	dcim := walk(t, tr, "SD", "DCIM")
	if lp := tr.Listing(); lp != (ListingProgress{}) {
		t.Fatalf("Listing before any = %+v", lp)
	}
	slow.calls.Store(0)
	done := make(chan error, 1)
	go func() {
		_, err := tr.List(context.Background(), dcim)
		done <- err
	}()
	select {
	case <-slow.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the listing did not start")
	}
	lp := tr.Listing()
	close(slow.hold)
	if lp.Folders != 1 || lp.Known != n || lp.Done != 5 {
		t.Errorf("Listing mid-way = %+v, want 1 folder, %d known, 5 done", lp, n)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if lp := tr.Listing(); lp != (ListingProgress{}) {
		t.Errorf("Listing once done = %+v", lp)
	}
}

// slowInfo holds GetObjectInfo after some calls until hold is closed.
type slowInfo struct {
	*treetest.Camera
	after int64
	calls atomic.Int64
	hold  chan struct{}
	held  chan struct{}
}

func (c *slowInfo) ObjectInfo(ctx context.Context, h uint32) (*mtp.ObjectInfo, error) {
	if c.calls.Add(1) == c.after+1 {
		close(c.held)
		<-c.hold
	}
	return c.Camera.ObjectInfo(ctx, h)
}
