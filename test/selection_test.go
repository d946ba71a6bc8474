package test

// End-to-end tests of issue 18: a Nikon's own selection as the root folder
// "Selected on camera", --sync-clock, and a Sony in "Send to Smartphone"
// recognised by discover and --wait, against bin/camsim. Helpers start
// with "sel".

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ssdp"
)

const selDir = "Selected on camera"

// selStart starts a simulator of card with a control socket and args, and
// returns it with a connection to its control socket.
func selStart(t *testing.T, card string, args ...string) (*mountSim, *simControl) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "control.sock")
	sim := mountStartSimArgs(t, card, nil, append([]string{"--control", sock}, args...)...)
	return sim, simControlDial(t, sock)
}

// selNames lists dir, nil when it does not exist.
func selNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range des {
		out = append(out, d.Name())
	}
	return out
}

// selWait waits until ok holds of the selection folder's entries (nil:
// the folder does not exist), within d.
func selWait(t *testing.T, mnt string, d time.Duration, what string, ok func([]string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		names := selNames(t, filepath.Join(mnt, selDir))
		if ok(names) {
			return names
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the selection folder holds %q after %v", what, names, d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// selCard is the mount's card directory: the root's entry that is not the
// selection folder.
func selCard(t *testing.T, root string) string {
	t.Helper()
	for _, n := range selNames(t, root) {
		if n != selDir {
			return filepath.Join(root, n)
		}
	}
	t.Fatalf("no card at %s", root)
	return ""
}

func selIno(t *testing.T, path string) (ino uint64, nlink uint64) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino, uint64(st.Nlink)
}

// TestSelectionFolder: a Nikon with two photos marked shows them in
// "Selected on camera", byte for byte, as the card's own inodes; marking
// another on the camera makes the folder grow while mounted; unmarking all
// takes it away, and the root lists it only while it is there.
func TestSelectionFolder(t *testing.T) {
	mountRequireFUSE(t)
	card, files := mountCard(t, mountCardSpec{jpegs: 6})
	sim, ctl := selStart(t, card, "--vendor", "nikon", "--transfer-list", "2")
	mnt := mountDir(t)
	run := mountStart(t, sim.addr, mnt)

	// The first two photos in card order: DCIM/100TEST/IMG_0001 and _0004.
	got := selWait(t, mnt, 15*time.Second, "marked at start", func(n []string) bool { return len(n) == 2 })
	if !slices.Equal(got, []string{"IMG_0001.JPG", "IMG_0004.JPG"}) {
		t.Fatalf("selection %q", got)
	}
	if root := selNames(t, mnt); !slices.Contains(root, selDir) {
		t.Fatalf("the root does not list the folder: %q", root)
	}
	if !strings.Contains(run.stderr.String(), "the camera's selection changed") {
		t.Errorf("the log does not tell of the selection:\n%s", run.stderr.String())
	}
	cardDir := selCard(t, mnt)
	byRel := map[string]mountFile{}
	for _, f := range files {
		byRel[f.rel] = f
	}
	for _, name := range got {
		rel := "DCIM/100TEST/" + name
		sel, err := os.ReadFile(filepath.Join(mnt, selDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sel, byRel[rel].data) {
			t.Fatalf("%s differs from the card's file", name)
		}
		selInoN, selLinks := selIno(t, filepath.Join(mnt, selDir, name))
		cardIno, cardLinks := selIno(t, filepath.Join(cardDir, rel))
		if selInoN != cardIno || selLinks != 2 || cardLinks != 2 {
			t.Fatalf("%s: inode %d (links %d) in the selection, %d (links %d) on the card; want one inode, 2 links",
				name, selInoN, selLinks, cardIno, cardLinks)
		}
	}
	if _, links := selIno(t, filepath.Join(cardDir, "DCIM/101TEST/IMG_0002.JPG")); links != 1 {
		t.Fatalf("an unmarked photo has %d links", links)
	}
	// rsync copies the folder: the photos, their bytes and capture dates.
	rsync := mountRequireTool(t, "rsync")
	dst := t.TempDir()
	mountRunCmd(t, 30*time.Second, nil, rsync, "-a", filepath.Join(mnt, selDir)+"/", dst+"/")
	if got := selNames(t, dst); !slices.Equal(got, []string{"IMG_0001.JPG", "IMG_0004.JPG"}) {
		t.Fatalf("rsync copied %q", got)
	}
	for _, name := range []string{"IMG_0001.JPG", "IMG_0004.JPG"} {
		// The mount's date (a D7200 halves seconds: the camera's date).
		onCard, err := os.Stat(filepath.Join(cardDir, "DCIM/100TEST", name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dst, name))
		fi, _ := os.Stat(filepath.Join(dst, name))
		if err != nil || !bytes.Equal(b, byRel["DCIM/100TEST/"+name].data) || !fi.ModTime().Equal(onCard.ModTime()) {
			t.Fatalf("rsync's %s: %v, mtime %v want %v", name, err, fi.ModTime(), onCard.ModTime())
		}
	}

	// Marked on the camera while mounted: the folder grows.
	if a := ctl.do("mark DCIM/101TEST/IMG_0002.JPG"); a != "ok 3" {
		t.Fatalf("mark: %q", a)
	}
	selWait(t, mnt, 10*time.Second, "after marking one more", func(n []string) bool {
		return slices.Equal(n, []string{"IMG_0001.JPG", "IMG_0002.JPG", "IMG_0004.JPG"})
	})
	if _, links := selIno(t, filepath.Join(cardDir, "DCIM/101TEST/IMG_0002.JPG")); links != 2 {
		t.Fatalf("a newly marked photo has %d links", links)
	}

	// Nothing marked: no folder.
	if a := ctl.do("unmark all"); a != "ok 0" {
		t.Fatalf("unmark: %q", a)
	}
	selWait(t, mnt, 10*time.Second, "after unmarking all", func(n []string) bool { return n == nil })
	if root := selNames(t, mnt); slices.Contains(root, selDir) {
		t.Fatalf("the root still lists the folder: %q", root)
	}
}

// TestSelectionAbsent: a Nikon with nothing marked, and a camera that is
// not a Nikon (whatever it was told), show no folder.
func TestSelectionAbsent(t *testing.T) {
	mountRequireFUSE(t)
	card, _ := mountCard(t, mountCardSpec{jpegs: 3})
	for name, args := range map[string][]string{
		"nikon, none marked": {"--vendor", "nikon"},
		"canon":              {"--vendor", "canon", "--transfer-list", "2"},
	} {
		t.Run(name, func(t *testing.T) {
			sim, _ := selStart(t, card, args...)
			mnt := mountDir(t)
			run := mountStart(t, sim.addr, mnt)
			selCard(t, mnt)             // listed
			time.Sleep(4 * time.Second) // more than one round of asking
			if n := selNames(t, filepath.Join(mnt, selDir)); n != nil {
				t.Fatalf("a selection folder: %q", n)
			}
			if root := selNames(t, mnt); slices.Contains(root, selDir) {
				t.Fatalf("the root lists %q", root)
			}
			if strings.Contains(run.stderr.String(), "selection changed") {
				t.Fatalf("the log tells of a selection:\n%s", run.stderr.String())
			}
		})
	}
}

// TestSelectionNikonZ: a Nikon Z refuses to send unmarked photos: reading
// one is EACCES, the marked one reads, and the log says once, in one line,
// to mark photos on the camera.
func TestSelectionNikonZ(t *testing.T) {
	mountRequireFUSE(t)
	card, files := mountCard(t, mountCardSpec{jpegs: 4})
	sim, _ := selStart(t, card, "--body", "z6", "--transfer-list", "1", "--refuse-unmarked")
	mnt := mountDir(t)
	run := mountStart(t, sim.addr, mnt)
	selWait(t, mnt, 15*time.Second, "marked", func(n []string) bool { return len(n) == 1 })
	cardDir := selCard(t, mnt)
	if b, err := os.ReadFile(filepath.Join(mnt, selDir, "IMG_0001.JPG")); err != nil || !bytes.Equal(b, files[0].data) {
		t.Fatalf("the marked photo: %v", err)
	}
	for _, rel := range []string{"DCIM/101TEST/IMG_0002.JPG", "DCIM/101TEST/SUB/IMG_0003.JPG", "DCIM/100TEST/IMG_0004.JPG"} {
		_, err := os.ReadFile(filepath.Join(cardDir, rel))
		if !errors.Is(err, syscall.EACCES) {
			t.Fatalf("reading unmarked %s: %v, want EACCES", rel, err)
		}
	}
	time.Sleep(300 * time.Millisecond) // the log line crosses a pipe
	log := run.stderr.String()
	if n := strings.Count(log, "mark them in its playback menu"); n != 1 {
		t.Fatalf("the advice is logged %d times:\n%s", n, log)
	}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "mark them in its playback menu") && !strings.Contains(l, selDir) {
			t.Fatalf("the advice does not name the folder: %q", l)
		}
	}
}

// TestSelectionRenamed: the folder is at the root of a renamed mount too,
// its files the camera tree's (/.camera) inodes.
func TestSelectionRenamed(t *testing.T) {
	mountRequireFUSE(t)
	card, _ := mountCard(t, mountCardSpec{jpegs: 4})
	sim, _ := selStart(t, card, "--vendor", "nikon", "--transfer-list", "1")
	mnt := mountDir(t)
	mountStart(t, sim.addr, mnt, "--dirnamespec", "@capturedate_y@", "--filenamespec", "@cameramodel@_@filename@")
	got := selWait(t, mnt, 15*time.Second, "marked", func(n []string) bool { return len(n) == 1 })
	if got[0] != "IMG_0001.JPG" {
		t.Fatalf("selection %q", got)
	}
	root := selNames(t, mnt)
	if !slices.Contains(root, selDir) || !slices.Contains(root, "2024") {
		t.Fatalf("renamed root %q", root)
	}
	cam := selCard(t, filepath.Join(mnt, ".camera"))
	camIno, _ := selIno(t, filepath.Join(cam, "DCIM/100TEST/IMG_0001.JPG"))
	selInoN, links := selIno(t, filepath.Join(mnt, selDir, "IMG_0001.JPG"))
	if camIno != selInoN || links != 2 {
		t.Fatalf("inode %d (links %d), camera tree's %d", selInoN, links, camIno)
	}
	renIno, renLinks := selIno(t, filepath.Join(mnt, "2024", "D7200_IMG_0001.JPG"))
	if renIno == camIno || renLinks != 1 {
		t.Fatalf("the renamed file: inode %d links %d", renIno, renLinks)
	}
}

// TestSyncClock: with --sync-clock each make's clock is set as Airnef sets
// it (the simulator records the value), a Sony's is left alone (its
// DeviceInfo lists no DateTime), and without the flag nothing is set.
func TestSyncClock(t *testing.T) {
	mountRequireFUSE(t)
	card, _ := mountCard(t, mountCardSpec{jpegs: 1})
	for name, tc := range map[string]struct {
		sim   []string
		mount []string
		set   bool
		log   string
	}{
		"nikon":         {sim: []string{"--vendor", "nikon"}, mount: []string{"--sync-clock"}, set: true, log: "set the camera's clock"},
		"canon":         {sim: []string{"--vendor", "canon"}, mount: []string{"--sync-clock"}, set: true, log: "set the Canon's clock"},
		"sony":          {sim: []string{"--vendor", "sony"}, mount: []string{"--sync-clock", "--guid", sonyZeroGUID}, log: "does not let a computer set its clock"},
		"nikon no flag": {sim: []string{"--vendor", "nikon"}},
	} {
		t.Run(name, func(t *testing.T) {
			sim, ctl := selStart(t, card, append(tc.sim, "--clock-offset", "-3h")...)
			mnt := mountDir(t)
			run := mountStart(t, sim.addr, mnt, tc.mount...)
			selCard(t, mnt)
			state := ctl.do("state")
			_, clock, found := strings.Cut(state, " clock=")
			if found != tc.set {
				t.Fatalf("state %q; want the clock set: %v", state, tc.set)
			}
			if found {
				clock, _, _ = strings.Cut(clock, " ")
				at, ok := mtp.ParseDate(clock, time.Local)
				if d := time.Since(at).Abs(); !ok || d > 5*time.Second {
					t.Fatalf("the camera was set to %q, %v off this computer's clock", clock, d)
				}
			}
			time.Sleep(300 * time.Millisecond)
			log := run.stderr.String()
			if tc.log != "" && !strings.Contains(log, tc.log) {
				t.Fatalf("the log lacks %q:\n%s", tc.log, log)
			}
			if tc.log == "" && strings.Contains(log, "sync-clock") {
				t.Fatalf("without the flag the log says:\n%s", log)
			}
		})
	}
}

// TestSmartphoneSimulator: the simulator as a Sony in "Send to Smartphone"
// announces the phone app's media server, which Debian's gssdp-discover
// sees, and refuses PTP/IP; discover and --wait each say in one line to
// choose "Send to Computer", once.
func TestSmartphoneSimulator(t *testing.T) {
	if !discNetns(t, 60*time.Second) {
		return
	}
	mountRequireFUSE(t)
	card, _ := mountCard(t, mountCardSpec{jpegs: 1})
	sim := mountStartSimArgs(t, card, nil, "--listen", "127.0.0.1:15740", "--vendor", "sony", "--sony-mode", "smartphone",
		"--ssdp", "--ssdp-interface", "lo", "--ssdp-interval", "500ms")

	if gssdp, err := exec.LookPath("gssdp-discover"); err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, gssdp, "-i", "lo", "-t", ssdp.ServiceSonyPush, "-n", "3").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "resource available") {
			t.Errorf("gssdp-discover did not see the smartphone service: %v\n%s", err, out)
		}
	}

	// No PTP/IP: the connection is closed unanswered.
	c, err := net.DialTimeout("tcp", sim.addr, 5*time.Second)
	if err == nil {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("PTP/IP in Send to Smartphone: %v, want the connection refused or closed", err)
	}

	const advice = `choose "Send to Computer"`
	stdout, stderr, code := discRun(t, 20*time.Second, "discover", "--listen-time", "2s")
	if code != 1 || stdout != "" || strings.Count(stderr, advice) != 1 {
		t.Errorf("discover: exit status %d, stdout %q, advice %d times; want 1, nothing, once:\n%s",
			code, stdout, strings.Count(stderr, advice), stderr)
	}
	if !strings.Contains(stderr, `"Send to Smartphone"`) {
		t.Errorf("discover does not name the mode:\n%s", stderr)
	}

	// --wait hears it announce every half second: one line (logged as
	// key=value, its quotes escaped).
	const logged = "which offers no PTP/IP: choose"
	dir := t.TempDir()
	r := mountLaunch(t, "", dir, "--wait", "--ssdp-interface", "lo")
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(r.stderr.String(), logged) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // several more rounds of NOTIFYs
	select {
	case <-r.done:
		t.Fatalf("--wait exited: %v\n%s", r.err, r.stderr.String())
	default:
	}
	r.stop()
	if n := strings.Count(r.stderr.String(), logged); n != 1 {
		t.Errorf("--wait gave the advice %d times, want once:\n%s", n, r.stderr.String())
	}
}
