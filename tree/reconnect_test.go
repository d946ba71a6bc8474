package tree

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// reconnectCard fills a fake camera with the same card, handles numbered
// from first: SD/DCIM/100MSDCF/{A.ARW,B.ARW,C.ARW} and SD/DCIM/EMPTY.
// skip leaves a file out (it was deleted between the sessions).
func reconnectCard(first uint32, skip string) *treetest.Camera {
	c := treetest.New()
	c.Next = first
	c.AddStorage(0x00010001, "SD", "", 1<<30, 1<<29)
	dcim := c.Add(0x00010001, 0, "DCIM", true, nil, "", "")
	f := c.Add(0x00010001, dcim, "100MSDCF", true, nil, "", "")
	c.Add(0x00010001, dcim, "EMPTY", true, nil, "", "")
	for i, name := range []string{"A.ARW", "B.ARW", "C.ARW"} {
		if name == skip {
			continue
		}
		c.Add(0x00010001, f, name, false, bytes.Repeat([]byte{byte('a' + i)}, 1000+i), "20240315T120000", "")
	}
	return c
}

func TestReconnectRemapsByPlace(t *testing.T) {
	old := reconnectCard(1, "")
	tr := newTestTree(t, old)
	ctx := context.Background()
	a := walk(t, tr, "SD", "DCIM", "100MSDCF", "A.ARW")
	c := walk(t, tr, "SD", "DCIM", "100MSDCF", "C.ARW")
	empty := walk(t, tr, "SD", "DCIM", "EMPTY") // known, never listed
	buf := make([]byte, 10)
	if _, err := tr.ReadAt(ctx, a, 0, buf); err != nil {
		t.Fatal(err)
	}

	// The session is lost: reads fail at once, with ErrDisconnected.
	tr.Disconnect()
	if tr.Connected() {
		t.Fatal("connected after Disconnect")
	}
	start := time.Now()
	if _, err := tr.ReadAt(ctx, a, 0, buf); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("read while disconnected: %v", err)
	}
	if _, err := tr.List(ctx, empty); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("listing while disconnected: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("failing took %v", d)
	}
	// What was listed stays visible.
	if _, err := tr.Lookup(ctx, walk(t, tr, "SD", "DCIM"), "100MSDCF"); err != nil {
		t.Fatal(err)
	}

	// The next session numbers everything differently, B.ARW was
	// deleted and D.ARW is new.
	fresh := reconnectCard(500, "B.ARW")
	fresh.Add(0x00010001, 501, "D.ARW", false, []byte("dddd"), "20240316T120000", "")
	var told []string
	tr.setNotify(func(c Change) {
		told = append(told, fmt.Sprintf("%s removed=%v", c.Obj.Path(), c.Removed))
	})
	if err := tr.Reconnect(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	// What changed while away is told as the watcher tells it.
	slices.Sort(told)
	if want := []string{"SD/DCIM/100MSDCF/B.ARW removed=true", "SD/DCIM/100MSDCF/D.ARW removed=false"}; !slices.Equal(told, want) {
		t.Errorf("changes told %q, want %q", told, want)
	}
	if !tr.Connected() {
		t.Fatal("not connected after Reconnect")
	}
	// Same objects, new handles (DCIM 500, 100MSDCF 501, EMPTY 502,
	// A.ARW 503, C.ARW 504, D.ARW 505).
	if got := walk(t, tr, "SD", "DCIM", "100MSDCF", "A.ARW"); got != a {
		t.Error("A.ARW is a new object after the reconnect")
	}
	n, err := tr.ReadAt(ctx, c, 0, buf)
	if err != nil || n != len(buf) || !bytes.Equal(buf, bytes.Repeat([]byte{'c'}, 10)) {
		t.Fatalf("read C.ARW after reconnect: %d %q %v", n, buf[:n], err)
	}
	if old.ReadCalls.Load() != 1 || fresh.ReadCalls.Load() != 1 {
		t.Errorf("reads: old camera %d, new %d; want 1 and 1", old.ReadCalls.Load(), fresh.ReadCalls.Load())
	}
	// B is gone; D appeared.
	dir := walk(t, tr, "SD", "DCIM", "100MSDCF")
	names := []string{}
	entries, err := tr.List(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		names = append(names, e.Name)
	}
	if want := []string{"A.ARW", "C.ARW", "D.ARW"}; !equalStrings(names, want) {
		t.Errorf("after reconnect the folder lists %v, want %v", names, want)
	}
	// The unlisted folder is listed in the new session.
	if got, err := tr.List(ctx, empty); err != nil || len(got) != 0 {
		t.Errorf("EMPTY after reconnect: %v %v", got, err)
	}
	if h := fresh.HandleCalls.Load(); h != 4 {
		t.Errorf("new session: %d GetObjectHandles, want 4 (SD, DCIM, 100MSDCF re-listed, then EMPTY)", h)
	}
}

func TestReconnectGoneObject(t *testing.T) {
	old := reconnectCard(1, "")
	tr := newTestTree(t, old)
	ctx := context.Background()
	b := walk(t, tr, "SD", "DCIM", "100MSDCF", "B.ARW")
	if err := tr.Reconnect(ctx, reconnectCard(40, "B.ARW")); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.ReadAt(ctx, b, 0, make([]byte, 4)); !errors.Is(err, ErrNotFound) {
		t.Errorf("read of a file gone since the last session: %v, want ErrNotFound", err)
	}
	if _, ok := tr.Object(b.Ino); ok {
		t.Error("a gone file is still in the inode index")
	}
}

func TestReconnectFailsStaysDisconnected(t *testing.T) {
	tr := newTestTree(t, reconnectCard(1, ""))
	ctx := context.Background()
	a := walk(t, tr, "SD", "DCIM", "100MSDCF", "A.ARW")
	broken := reconnectCard(9, "")
	broken.Fail = treetest.ErrBroken
	if err := tr.Reconnect(ctx, broken); !errors.Is(err, treetest.ErrBroken) {
		t.Fatalf("Reconnect over a broken session: %v", err)
	}
	if tr.Connected() {
		t.Fatal("connected after a failed reconnect")
	}
	if _, err := tr.ReadAt(ctx, a, 0, make([]byte, 4)); !errors.Is(err, ErrDisconnected) {
		t.Errorf("read: %v", err)
	}
	// A later session works.
	if err := tr.Reconnect(ctx, reconnectCard(90, "")); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.ReadAt(ctx, a, 0, make([]byte, 4)); err != nil {
		t.Errorf("read after the second reconnect: %v", err)
	}
}

// TestReconnectDropsStaleListing: a listing that started on the old
// session and ends after the reconnect does not install the old handles.
func TestReconnectDropsStaleListing(t *testing.T) {
	old := reconnectCard(1, "")
	tr := newTestTree(t, old)
	ctx := context.Background()
	f := walk(t, tr, "SD", "DCIM", "100MSDCF")
	release, done := listingHeld(t, tr, old, f, 2) // SD, DCIM, then this one
	tr.Disconnect()
	release()
	listErr := <-done
	if !errors.Is(listErr, ErrDisconnected) {
		t.Fatalf("stale listing: %v, want ErrDisconnected", listErr)
	}
	if tr.Listed(f) {
		t.Fatal("the stale listing was installed")
	}
	if err := tr.Reconnect(ctx, reconnectCard(70, "")); err != nil {
		t.Fatal(err)
	}
	a := walk(t, tr, "SD", "DCIM", "100MSDCF", "A.ARW")
	if _, err := tr.ReadAt(ctx, a, 0, make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if a.Handle < 70 {
		t.Errorf("A.ARW listed with handle %d of the old session", a.Handle)
	}
}

// listingHeld starts listing dir on tr in the background and returns once
// the listing asks cam for dir's handles (after the calls GetObjectHandles
// cam answered before), held there until release; the listing's error
// comes on done.
func listingHeld(t *testing.T, tr *Tree, cam *treetest.Camera, dir *Object, calls int64) (release func(), done <-chan error) {
	t.Helper()
	cam.Mu.Lock()
	block := make(chan struct{})
	cam.Block = block
	cam.Mu.Unlock()
	errs := make(chan error, 1)
	go func() {
		_, err := tr.List(context.Background(), dir)
		errs <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for cam.HandleCalls.Load() <= calls {
		if time.Now().After(deadline) {
			close(block)
			t.Fatal("the listing never asked the camera")
		}
		time.Sleep(time.Millisecond)
	}
	return func() { close(block) }, errs
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
