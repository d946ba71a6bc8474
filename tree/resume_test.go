package tree

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/cache"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// cuttingCamera is a fake camera whose session is lost after cut more
// bytes of reads: the read that crosses it writes what came before the cut
// and fails, and Lost is closed, as ptpip's Done is.
type cuttingCamera struct {
	*treetest.Camera
	mu   sync.Mutex
	cut  int64 // bytes left before the loss; < 0: never
	lost chan struct{}
}

func newCutting(c *treetest.Camera, cut int64) *cuttingCamera {
	return &cuttingCamera{Camera: c, cut: cut, lost: make(chan struct{})}
}

func (c *cuttingCamera) Lost() <-chan struct{} { return c.lost }

func (c *cuttingCamera) ReadAt(ctx context.Context, h uint32, off int64, size uint32, w io.Writer) (int64, error) {
	var buf bytes.Buffer
	if _, err := c.Camera.ReadAt(ctx, h, off, size, &buf); err != nil {
		return 0, err
	}
	select {
	case <-c.lost:
		return 0, treetest.ErrBroken
	default:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b := buf.Bytes()
	if c.cut >= 0 && int64(len(b)) > c.cut {
		n, _ := w.Write(b[:c.cut])
		c.cut = -1
		close(c.lost)
		return int64(n), treetest.ErrBroken
	}
	if c.cut >= 0 {
		c.cut -= int64(len(b))
	}
	n, err := w.Write(b)
	return int64(n), err
}

// A read cut by the session's loss waits for the next session and goes on
// from the byte it reached; one whose camera does not come back within
// ResumeWithin fails; a camera's own error is never waited on.
func TestReadResumesAcrossReconnect(t *testing.T) {
	for _, tc := range []struct {
		name    string
		back    time.Duration // when the next session is attached; 0: never
		within  time.Duration
		wantErr bool
	}{
		{"back in time", 100 * time.Millisecond, 2 * time.Second, false},
		{"back too late", 0, 300 * time.Millisecond, true},
		{"resuming off", 50 * time.Millisecond, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := newCutting(reconnectCard(1, ""), 500)
			tr := New(first, Config{Location: time.UTC, ResumeWithin: tc.within})
			t.Cleanup(tr.Close)
			a := walk(t, tr, "SD", "DCIM", "100MSDCF", "B.ARW")
			want := bytes.Repeat([]byte{'b'}, 1001)
			if tc.back > 0 {
				go func() {
					<-first.lost
					tr.Disconnect() // as the mount does once Done is closed
					time.Sleep(tc.back)
					if err := tr.Reconnect(context.Background(), newCutting(reconnectCard(700, ""), -1)); err != nil {
						t.Error(err)
					}
				}()
			}
			var got bytes.Buffer
			start := time.Now()
			n, err := tr.Source().(cache.WriterSource).FetchTo(context.Background(), CacheObject(a), 0, a.Size, &got)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("read succeeded (%d bytes), want a failure", n)
				}
				if d := time.Since(start); d > tc.within+time.Second {
					t.Errorf("failing took %v (ResumeWithin %v)", d, tc.within)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) || n != int64(len(want)) {
				t.Fatalf("read %d bytes, %q...; want the file's %d", n, got.Bytes()[:min(20, got.Len())], len(want))
			}
			if tr.ReadsResumed() != 1 || tr.Reconnections() != 1 {
				t.Errorf("reads resumed %d, reconnections %d; want 1, 1", tr.ReadsResumed(), tr.Reconnections())
			}
			// A read starting while the camera is away waits too.
			tr.Disconnect()
			go func() {
				time.Sleep(50 * time.Millisecond)
				if err := tr.Reconnect(context.Background(), newCutting(reconnectCard(900, ""), -1)); err != nil {
					t.Error(err)
				}
			}()
			buf := make([]byte, 1001)
			if _, err := tr.ReadAt(context.Background(), a, 0, buf); err != nil || !bytes.Equal(buf, want) {
				t.Fatalf("read while away: %v", err)
			}
		})
	}
}

// An error of a working session (the camera's answer) fails the read at
// once, however long ResumeWithin is.
func TestReadNoResumeOnCameraError(t *testing.T) {
	c := newCutting(reconnectCard(1, ""), -1)
	tr := New(c, Config{Location: time.UTC, ResumeWithin: time.Minute})
	t.Cleanup(tr.Close)
	a := walk(t, tr, "SD", "DCIM", "100MSDCF", "A.ARW")
	c.Mu.Lock()
	c.Fail = errors.New("camera says no")
	c.Mu.Unlock()
	start := time.Now()
	if _, err := tr.ReadAt(context.Background(), a, 0, make([]byte, 10)); err == nil {
		t.Fatal("read succeeded")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("failing took %v", d)
	}
}

// A session lost because the camera stopped answering for --timeout is not
// waited for: the read has waited its --timeout already.
func TestReadNoResumeAfterTimeout(t *testing.T) {
	c := newCutting(reconnectCard(1, ""), -1)
	tr := New(c, Config{Location: time.UTC, ResumeWithin: time.Minute})
	t.Cleanup(tr.Close)
	a := walk(t, tr, "SD", "DCIM", "100MSDCF", "A.ARW")
	close(c.lost)
	c.Mu.Lock()
	c.Fail = fmt.Errorf("GetPartialObject tid 9: no progress for 2s: %w", os.ErrDeadlineExceeded)
	c.Mu.Unlock()
	go func() {
		time.Sleep(100 * time.Millisecond)
		tr.Disconnect()
		tr.Reconnect(context.Background(), newCutting(reconnectCard(700, ""), -1))
	}()
	start := time.Now()
	if _, err := tr.ReadAt(context.Background(), a, 0, make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v, want the timeout", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("failing took %v", d)
	}
}

// A listing cut by the session's loss, or started while the camera is
// away, waits for the next session and lists there, with its handles; one
// whose camera does not come back within ResumeWithin fails, and a folder
// gone in the new session is not found.
func TestListingResumesAcrossReconnect(t *testing.T) {
	ctx := context.Background()
	t.Run("cut", func(t *testing.T) {
		old := newCutting(reconnectCard(1, ""), -1)
		tr := New(old, Config{Location: time.UTC, ResumeWithin: 5 * time.Second})
		t.Cleanup(tr.Close)
		f := walk(t, tr, "SD", "DCIM", "100MSDCF")
		release, done := listingHeld(t, tr, old.Camera, f, 2) // SD, DCIM, then this one
		close(old.lost)
		tr.Disconnect()
		release()
		select {
		case err := <-done:
			t.Fatalf("the listing ended (%v) while the camera was away; want it to wait", err)
		case <-time.After(100 * time.Millisecond):
		}
		if err := tr.Reconnect(ctx, newCutting(reconnectCard(700, ""), -1)); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("listing across the reconnection: %v", err)
		}
		a := walk(t, tr, "SD", "DCIM", "100MSDCF", "A.ARW")
		if a.Handle < 700 {
			t.Errorf("A.ARW listed with handle %d of the old session", a.Handle)
		}
		if _, err := tr.ReadAt(ctx, a, 0, make([]byte, 4)); err != nil {
			t.Fatal(err)
		}
		if tr.ListingsResumed() != 1 {
			t.Errorf("listings resumed %d, want 1", tr.ListingsResumed())
		}
	})
	for _, tc := range []struct {
		name    string
		back    time.Duration // when the next session is attached; 0: never
		within  time.Duration
		gone    bool // the new session has no 100MSDCF
		wantErr error
	}{
		{"started while away", 50 * time.Millisecond, 5 * time.Second, false, nil},
		{"gone in the new session", 50 * time.Millisecond, 5 * time.Second, true, ErrNotFound},
		{"back too late", 0, 300 * time.Millisecond, false, ErrDisconnected},
		{"resuming off", 50 * time.Millisecond, 0, false, ErrDisconnected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := New(newCutting(reconnectCard(1, ""), -1), Config{Location: time.UTC, ResumeWithin: tc.within})
			t.Cleanup(tr.Close)
			f := walk(t, tr, "SD", "DCIM", "100MSDCF")
			tr.Disconnect()
			if tc.back > 0 {
				go func() {
					time.Sleep(tc.back)
					next := reconnectCard(700, "")
					if tc.gone {
						next = treetest.New()
						next.AddStorage(0x00010001, "SD", "", 1<<30, 1<<29)
						dcim := next.Add(0x00010001, 0, "DCIM", true, nil, "", "")
						next.Add(0x00010001, dcim, "EMPTY", true, nil, "", "")
					}
					if err := tr.Reconnect(ctx, newCutting(next, -1)); err != nil {
						t.Error(err)
					}
				}()
			}
			start := time.Now()
			entries, err := tr.List(ctx, f)
			if d := time.Since(start); d > tc.within+2*time.Second {
				t.Errorf("listing took %v (ResumeWithin %v)", d, tc.within)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("listing: %v, want %v", err, tc.wantErr)
				}
				if tr.Listed(f) {
					t.Fatal("a failed listing was installed")
				}
				return
			}
			if err != nil || len(entries) != 3 {
				t.Fatalf("listing while away: %d entries, %v; want 3", len(entries), err)
			}
		})
	}
}
