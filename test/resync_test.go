package test

// Change detection's troubles (issue 19): a flood of captures announced
// faster than the mount takes them (events dropped: a resync lists the
// listed folders again), and the event connection lost while the session
// goes on (noticed, shown, and folders diffed instead).

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
)

// A flood of 3,000 new photos announced at once, far past the 64 events
// the session queues: every one appears in the mount within seconds of the
// flood, the dropped events are counted, a resync ran, and memory stays
// bounded.
func TestEventFloodResync(t *testing.T) {
	mountRequireFUSE(t)
	const n = 3000
	dir, _ := mountCard(t, mountCardSpec{jpegs: 4})
	cam, port := simStart(t, camsim.Config{Dir: dir, Personality: camsim.Generic()})
	mnt := mountDir(t)
	run := mountStart(t, net.JoinHostPort("127.0.0.1", port), mnt)
	store := mountStorage(t, mnt)
	folder := filepath.Join(store, "DCIM", "100TEST")
	before, err := os.ReadDir(folder)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := filepath.Join(dir, "DCIM", "100TEST", fmt.Sprintf("FL%05d.JPG", i))
		if err := os.WriteFile(name, []byte(fmt.Sprintf("photo %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// One ObjectAdded per new file, sent as fast as the socket takes them.
	if err := cam.Rescan(); err != nil {
		t.Fatal(err)
	}
	flooded := time.Now()
	faultEventually(t, "every new photo in the mount", 60*time.Second, func() error {
		des, err := os.ReadDir(folder)
		if err != nil {
			return err
		}
		if len(des) != len(before)+n {
			return fmt.Errorf("%d entries, want %d", len(des), len(before)+n)
		}
		return nil
	})
	t.Logf("all %d new photos listed %v after the flood", n, time.Since(flooded).Round(time.Millisecond))
	st := mountStats(t, mnt)
	t.Logf("events_dropped %s, resyncs %s", st["events_dropped"], st["resyncs"])
	if mountStatInt(t, st, "events_dropped") == 0 {
		t.Error("no event dropped: the flood did not overflow the queue, the test proves nothing")
	}
	if mountStatInt(t, st, "resyncs") < 1 {
		t.Error("no resync counted")
	}
	for _, i := range []int{0, n / 2, n - 1} {
		p := filepath.Join(folder, fmt.Sprintf("FL%05d.JPG", i))
		if b, err := os.ReadFile(p); err != nil || string(b) != fmt.Sprintf("photo %d\n", i) {
			t.Errorf("%s: %q, %v", p, b, err)
		}
	}
	if hwm := mountVmHWM(t, run.cmd.Process.Pid); hwm > 150<<20 {
		t.Errorf("peak RSS %d MiB", hwm>>20)
	}
	if n := strings.Count(run.stderr.String(), "listing the listed folders again"); n > 2 {
		t.Errorf("%d log lines about resyncs, want one a minute at most", n)
	}
}

// The event connection alone ends while the session goes on: the mount
// notices, says so in its stats and status, and finds new shots by
// listing the folders again.
func TestEventConnectionLost(t *testing.T) {
	mountRequireFUSE(t)
	dir, _ := mountCard(t, mountCardSpec{jpegs: 4})
	cam, port := simStart(t, camsim.Config{Dir: dir, Personality: camsim.Generic()})
	mnt := mountDir(t)
	run := mountStart(t, net.JoinHostPort("127.0.0.1", port), mnt)
	store := mountStorage(t, mnt)
	folder := filepath.Join(store, "DCIM", "100TEST")
	if _, err := os.ReadDir(folder); err != nil {
		t.Fatal(err)
	}
	if st := mountStats(t, mnt); st["event_connection_lost"] != "0" {
		t.Fatalf("event_connection_lost %q before the loss", st["event_connection_lost"])
	}
	if a := cam.Control("drop-events"); a != "ok dropped 1" {
		t.Fatal(a)
	}
	faultEventually(t, "the loss in /.airnef/stats", 10*time.Second, func() error {
		st := mountStats(t, mnt)
		if st["event_connection_lost"] != "1" || !strings.Contains(st["session"], "event connection lost") {
			return fmt.Errorf("event_connection_lost %q, session %q", st["event_connection_lost"], st["session"])
		}
		return nil
	})
	if out := mountRunCmd(t, 10*time.Second, nil, run.cmd.Path, "status", mnt); !strings.Contains(out, "event connection lost") {
		t.Errorf("status does not tell the loss:\n%s", out)
	}
	src := filepath.Join(t.TempDir(), "NEW_0099.JPG")
	shot := mountJPEG(t, 99)
	if err := os.WriteFile(src, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := cam.Control("add " + src + " DCIM/100TEST/NEW_0099.JPG"); !strings.HasPrefix(got, "ok ") {
		t.Fatalf("add: %q", got)
	}
	rtEventually(t, "the new file in the listing", func() bool {
		_, err := os.Stat(filepath.Join(folder, "NEW_0099.JPG"))
		return err == nil
	})
	if b := rtRead(t, filepath.Join(folder, "NEW_0099.JPG")); string(b) != string(shot) {
		t.Errorf("new file: %d bytes differ from the shot's %d", len(b), len(shot))
	}
}
