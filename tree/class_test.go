package tree

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/sched"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// classCamera is a treetest camera that sends thumbnails and records the
// class of their requests.
type classCamera struct {
	*treetest.Camera
	classes chan string
}

func (c classCamera) Thumb(ctx context.Context, h uint32, w io.Writer) error {
	class, _ := sched.From(ctx)
	c.classes <- class.String()
	_, err := w.Write([]byte("jpeg"))
	return err
}

// TestRequestClasses checks the class and owner each of the tree's requests
// carries to the camera: a listing the user waits on is the user's, with
// the owner of whoever started it, even when run on the tree's own
// context; the warm listing, change detection, storage refreshes and
// thumbnails are background work.
func TestRequestClasses(t *testing.T) {
	c := treetest.Sample()
	cam := classCamera{c, make(chan string, 1)}
	tr := newTestTree(t, cam)
	ctx := sched.With(context.Background(), sched.User, 42)
	if _, err := tr.List(ctx, tr.Root()); err != nil {
		t.Fatal(err)
	}
	sd, err := tr.Lookup(ctx, tr.Root(), "SD")
	if err != nil {
		t.Fatal(err)
	}
	seenOnly := func(what string, want string) {
		t.Helper()
		got := c.Classes()
		if len(got) == 0 {
			t.Fatalf("%s: no request", what)
		}
		for _, g := range got {
			if !strings.HasSuffix(g, " "+want) {
				t.Errorf("%s: requests %v, want every one %s", what, got, want)
				return
			}
		}
	}
	if _, err := tr.List(ctx, sd); err != nil {
		t.Fatal(err)
	}
	seenOnly("user listing", "user/42")

	tr.Warm(context.Background())
	seenOnly("warm listing", "background/0")

	tr.mu.Lock()
	tr.statAt = time.Time{}
	tr.mu.Unlock()
	if _, err := tr.Usage(ctx); err != nil {
		t.Fatal(err)
	}
	waitTree(t, "the storage refresh", func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return !tr.statBusy
	})
	seenOnly("statfs refresh", "background/0")

	storageCalls := c.StorageCalls.Load()
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr.Watch(wctx, WatchConfig{Diff: true, DiffEvery: time.Millisecond})
	}()
	waitTree(t, "diff passes", func() bool { return c.StorageCalls.Load() > storageCalls+6 })
	cancel()
	<-done
	seenOnly("handle diffing", "background/0")

	dcim := walk(t, tr, "SD", "DCIM", "100NIKON", "DSC_0001.JPG")
	if _, err := tr.Thumb(ctx, dcim); err != nil {
		t.Fatal(err)
	}
	if got := <-cam.classes; got != "background" {
		t.Errorf("thumbnail request %s, want background", got)
	}
	c.Classes()
}

// TestUsageNeverWaits checks that statfs answers from the last figures at
// once while the camera is slow to answer their refresh, and that the
// refresh then lands.
func TestUsageNeverWaits(t *testing.T) {
	c := treetest.Sample()
	tr := newTestTree(t, c)
	if _, err := tr.Usage(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Mu.Lock()
	c.Storages[0x00010001].FreeSpaceInBytes = 5 << 30
	c.Fail = errBusy // the refresh fails: the old figures stay
	c.Mu.Unlock()
	tr.mu.Lock()
	tr.statAt = time.Time{}
	tr.mu.Unlock()
	u, err := tr.Usage(context.Background())
	if err != nil || u.Free != 11<<30 {
		t.Fatalf("Usage = %+v, %v; want the last figures", u, err)
	}
	waitTree(t, "the failed refresh", func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return !tr.statBusy
	})
	if u, _ := tr.Usage(context.Background()); u.Free != 11<<30 {
		t.Errorf("Usage after a failed refresh = %+v, want the last figures", u)
	}
	c.Mu.Lock()
	c.Fail = nil
	c.Mu.Unlock()
	tr.mu.Lock()
	tr.statAt = time.Time{}
	tr.mu.Unlock()
	tr.Usage(context.Background())
	waitTree(t, "the refresh", func() bool {
		u, _ := tr.Usage(context.Background())
		return u.Free == 6<<30
	})
	// An interrupted statfs returns at once (the storages are listed).
	ictx, icancel := context.WithCancel(context.Background())
	icancel()
	if _, err := tr.Usage(ictx); err != nil {
		t.Errorf("Usage on an ended context: %v", err)
	}
}

var errBusy = io.ErrNoProgress

// waitTree polls cond until it holds, failing t after 10 seconds.
func waitTree(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
