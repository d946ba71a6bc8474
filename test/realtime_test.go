package test

// Realtime captures and deletions on the camera while mounted, for each way
// a camera reports them: the event connection (generic), Nikon's GetEvent
// polling, and handle-list diffing for a camera that reports nothing
// (Canon). The simulator runs in the test process (simStart); airnef-mount
// mounts as a subprocess. Helpers start with "rt".

import (
	"bytes"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
)

// rtBound is how long a change may take to show in the mount: airnef-mount
// shows it within 3 s of the camera reporting it; the test allows 5x.
const rtBound = 15 * time.Second

func TestRealtime(t *testing.T) {
	for name, tc := range map[string]struct {
		p   func() *camsim.Personality
		log string // how airnef-mount says it watches
	}{
		"events":  {camsim.Generic, `by="event connection"`},
		"nikon":   {camsim.Nikon, `by="GetEvent polling"`},
		"diffing": {camsim.Canon, `by="handle-list diffing"`},
	} {
		t.Run(name, func(t *testing.T) {
			run := rtCheck(t, tc.p())
			if !strings.Contains(run.stderr.String(), tc.log) {
				t.Errorf("airnef-mount did not log %s", tc.log)
			}
		})
	}
}

// rtEventually polls ok every 50 ms until it holds or rtBound passes, and
// returns how long it took.
func rtEventually(t *testing.T, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > rtBound {
			t.Fatalf("%s: not within %v", what, rtBound)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// rtRead reads a file of the mount, failing the test on error.
func rtRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rtCheck mounts a camera of personality p, adds a file, deletes another,
// and checks the mount follows; it returns the mount's process.
func rtCheck(t *testing.T, p *camsim.Personality) *mountRun {
	mountRequireFUSE(t)
	dir, files := mountCard(t, mountCardSpec{jpegs: 6})
	cam, port := simStart(t, camsim.Config{Dir: dir, Personality: p})
	out := filepath.Join(t.TempDir(), "on-new.txt")
	mnt := mountDir(t)
	run := mountStart(t, net.JoinHostPort("127.0.0.1", port), mnt, "--on-new", "printf '%s\\n' >>"+out)
	store := mountStorage(t, mnt)
	folder := filepath.Join(store, "DCIM", "100TEST")

	// List the folder and read its files: the folder is listed and some
	// blocks cached before the camera changes.
	for _, f := range files {
		if got := rtRead(t, filepath.Join(store, f.rel)); !bytes.Equal(got, f.data) {
			t.Fatalf("%s: %d bytes differ from the card's %d", f.rel, len(got), len(f.data))
		}
	}
	if _, err := os.ReadDir(folder); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Readlink(filepath.Join(mnt, ".airnef", "latest")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("/.airnef/latest before any capture: %v", err)
	}

	// A shot.
	shot := mountJPEG(t, 99)
	src := filepath.Join(t.TempDir(), "NEW_0099.JPG")
	if err := os.WriteFile(src, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := cam.Control("add " + src + " DCIM/100TEST/NEW_0099.JPG"); !strings.HasPrefix(got, "ok ") {
		t.Fatalf("add: %q", got)
	}
	took := rtEventually(t, "the new file in the listing", func() bool {
		des, err := os.ReadDir(folder)
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range des {
			if de.Name() == "NEW_0099.JPG" {
				return true
			}
		}
		return false
	})
	t.Logf("the new file was listed %v after the camera had it", took.Round(time.Millisecond))
	newPath := filepath.Join(folder, "NEW_0099.JPG")
	if got := rtRead(t, newPath); !bytes.Equal(got, shot) {
		t.Errorf("new file: %d bytes differ from the shot's %d", len(got), len(shot))
	}
	rtEventually(t, "--on-new run for the new file", func() bool {
		b, _ := os.ReadFile(out)
		return strings.Contains(string(b), newPath+"\n")
	})
	if b, _ := os.ReadFile(out); strings.Count(string(b), "\n") != 1 {
		t.Errorf("--on-new ran %d times, want once: %q", strings.Count(string(b), "\n"), b)
	}
	liveLatest(t, mnt, newPath, shot)
	if des, _ := os.ReadDir(filepath.Join(mnt, ".airnef")); len(des) != 1 {
		t.Errorf("/.airnef lists %v, want stats only", des)
	}

	// A deletion on the camera, of a file read (and cached) before.
	gone := files[0]
	if got := cam.Control("delete " + gone.rel); !strings.HasPrefix(got, "ok ") {
		t.Fatalf("delete: %q", got)
	}
	rtEventually(t, "the deleted file gone", func() bool {
		_, err := os.Stat(filepath.Join(store, gone.rel))
		return errors.Is(err, fs.ErrNotExist)
	})
	if _, err := os.ReadFile(filepath.Join(store, gone.rel)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reading the deleted file: %v, want ENOENT", err)
	}
	for _, f := range files[1:] {
		if got := rtRead(t, filepath.Join(store, f.rel)); !bytes.Equal(got, f.data) {
			t.Errorf("%s after the deletion: %d bytes differ from the card's %d", f.rel, len(got), len(f.data))
		}
	}
	if got := rtRead(t, newPath); !bytes.Equal(got, shot) {
		t.Errorf("new file after the deletion: bytes differ")
	}

	// The session lived through it all.
	if s := mountStats(t, mnt)["session"]; !strings.HasPrefix(s, "connected") {
		t.Errorf("session %q", s)
	}
	if n := cam.Inits(); n != 1 {
		t.Errorf("%d Init Command Requests: the session was torn down", n)
	}
	if n := cam.OpCount(mtp.OpNikonGetEvent); (n > 0) != (p.Events == camsim.EventsGetEvent) {
		t.Errorf("%d GetEvent polls", n)
	}
	select {
	case <-run.done:
		t.Fatalf("airnef-mount exited: %v", run.err)
	default:
	}
	return run
}
