package test

// End-to-end tests of what df and a file manager show of a mount (issues
// 16 and 19): the camera's name as the mount's source, folders dated by
// their own date or their newest entry (card roots and the mount root
// too, never 1970), and df -i counting the camera's objects once, with the
// pictures that still fit as free inodes. Helpers start with "fm".

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
)

// fmDF runs df with --output fields on mnt and returns them.
func fmDF(t *testing.T, mnt string, fields string) []string {
	t.Helper()
	out := mountRunCmd(t, 30*time.Second, []string{"LC_ALL=C"}, "df", "--output="+fields, mnt)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("df: %q", out)
	}
	// The source may hold spaces: it is the first column, the rest are
	// numbers.
	n := strings.Count(fields, ",")
	f := strings.Fields(lines[1])
	if len(f) < n+1 {
		t.Fatalf("df line %q", lines[1])
	}
	return append([]string{strings.Join(f[:len(f)-n], " ")}, f[len(f)-n:]...)
}

// fmMtime is path's mtime.
func fmMtime(t *testing.T, path string) time.Time {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

// The camera's name in df and mountinfo, folder dates, and df -i.
func TestFileManagerView(t *testing.T) {
	mountRequireFUSE(t)
	mountRequireTool(t, "df")
	card := t.TempDir()
	base := time.Date(2024, 3, 15, 12, 0, 0, 0, time.Local)
	files := map[string]time.Time{
		"DCIM/100MSDCF/DSC00001.JPG": base,
		"DCIM/100MSDCF/DSC00002.JPG": base.Add(26 * time.Hour), // the newest
		"2024-03-10/DSC00003.JPG":    base.Add(-5 * 24 * time.Hour),
	}
	for rel, mt := range files {
		p := filepath.Join(card, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, mountJPEG(t, len(rel)), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mt, mt)
	}
	// A Sony's folders carry no date: "DCIM" and "100MSDCF" have none of
	// their own, "2024-03-10" its name's.
	sony := camsim.Sony()
	want := "Sony " + sony.Model // the make's first word, then the model
	_, port := simStart(t, camsim.Config{Personality: sony, Dir: card})
	mnt := mountDir(t)
	mountStart(t, "127.0.0.1:"+port, mnt, "--guid", sonyZeroGUID)
	storage := mountStorage(t, mnt)
	mountRunCmd(t, time.Minute, nil, "find", mnt, "-type", "f") // everything listed

	df := fmDF(t, mnt, "source,itotal,iused,iavail,ipcent")
	if df[0] != want {
		t.Errorf("df names the source %q, want the camera", df[0])
	}
	// The card's directory, DCIM, 100MSDCF, 2024-03-10 and three files.
	if df[2] != "7" {
		t.Errorf("df -i: %s inodes used, want 7 (the camera's objects)", df[2])
	}
	if df[4] == "100%" || df[3] == "0" {
		t.Errorf("df -i shows a full disk: %q", df)
	}
	if f, ok := mountInfo(t, mnt); !ok || !strings.Contains(strings.Join(f, " "), " - fuse.airnef-mount "+strings.ReplaceAll(want, " ", `\040`)+" ") {
		t.Errorf("mountinfo line %q, want source %q", f, want)
	}

	// A folder dated by its entries is asked again after a second: the
	// kernel may still hold the date it had before its listing.
	time.Sleep(1500 * time.Millisecond)
	newest := files["DCIM/100MSDCF/DSC00002.JPG"]
	for _, c := range []struct {
		path string
		want time.Time
	}{
		{filepath.Join(storage, "DCIM", "100MSDCF"), newest},
		{filepath.Join(storage, "DCIM"), newest},
		{filepath.Join(storage, "2024-03-10"), time.Date(2024, 3, 10, 0, 0, 0, 0, time.Local)},
		{storage, newest},
		{mnt, newest},
	} {
		if got := fmMtime(t, c.path); !got.Equal(c.want) {
			t.Errorf("%s: mtime %v, want %v", c.path, got, c.want)
		}
	}
}

// df -i counts each object once: a reconnection's re-listing and the
// camera's events do not count them again; a new shot is one more.
func TestFileManagerInodesStable(t *testing.T) {
	mountRequireFUSE(t)
	mountRequireTool(t, "df")
	cam, addr := faultSim(t, camsim.Config{Personality: camsim.Nikon(), Generate: faultCard()})
	mnt := mountDir(t)
	mountStart(t, addr, mnt, "--timeout", "2s")
	mountRunCmd(t, time.Minute, nil, "find", mnt, "-type", "f")
	used := func() int {
		n, err := strconv.Atoi(fmDF(t, mnt, "source,iused")[1])
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := used()
	if df := fmDF(t, mnt, "source"); df[0] != "Nikon D7200" {
		t.Errorf("df names the source %q", df[0])
	}

	time.Sleep(1500 * time.Millisecond) // a Nikon hangs the next session after one under a second
	liveControl(t, cam, "drop")
	faultEventually(t, "reconnected", 30*time.Second, func() error {
		if cam.Inits() < 2 || !strings.HasPrefix(faultSession(t, mnt), "connected") {
			return os.ErrNotExist
		}
		return nil
	})
	mountRunCmd(t, time.Minute, nil, "find", mnt, "-type", "f")
	if n := used(); n != before {
		t.Errorf("df -i: %d inodes used after a reconnection, %d before", n, before)
	}

	shot := filepath.Join(t.TempDir(), "DSC_9000.JPG")
	os.WriteFile(shot, mountJPEG(t, 9000), 0o644)
	liveControl(t, cam, "add "+shot)
	faultEventually(t, "the new shot counted", 30*time.Second, func() error {
		if used() != before+1 {
			return os.ErrNotExist
		}
		return nil
	})
	time.Sleep(2 * time.Second) // more polls: nothing counted again
	if n := used(); n != before+1 {
		t.Errorf("df -i: %d inodes used, want %d", n, before+1)
	}
	if out, err := exec.Command("df", "-i", mnt).CombinedOutput(); err == nil {
		t.Logf("df -i:\n%s", out)
	}
}
