package test

// End-to-end tests of `airnef-mount status` (issue 16): every mount, the
// mounts below a directory (as --wait makes them), a listing in progress
// with objects done and known and the time left, and --watch. Helpers start
// with "status".

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
)

// statusRun runs airnef-mount status with args and returns its output.
func statusRun(t *testing.T, args ...string) (string, int) {
	t.Helper()
	_, airnef := mountBuild(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, airnef, append([]string{"status"}, args...)...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// Two cameras mounted below one directory: status of the directory shows
// both, status alone shows every mount, both with their mount points.
func TestStatusMounts(t *testing.T) {
	mountRequireFUSE(t)
	dir := t.TempDir()
	var mnts []string
	for i, p := range []*camsim.Personality{camsim.Nikon(), camsim.Canon()} {
		_, addr := faultSim(t, camsim.Config{Personality: p, Generate: faultCard()})
		mnt := filepath.Join(dir, strconv.Itoa(i))
		os.Mkdir(mnt, 0o755)
		t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
		mountStart(t, addr, mnt)
		mnts = append(mnts, mnt)
	}
	for _, args := range [][]string{{dir}, {}} {
		out, code := statusRun(t, append(args, "--interval", "0")...)
		if code != 0 {
			t.Errorf("status %q: exit status %d:\n%s", args, code, out)
		}
		for i, want := range []string{"Nikon Corporation D7200", "Canon Inc. Canon EOS 6D"} {
			if !strings.Contains(out, "mountpoint:  "+mnts[i]+"\n") || !strings.Contains(out, want) {
				t.Errorf("status %q does not show %s at %s:\n%s", args, want, mnts[i], out)
			}
		}
	}
	out, code := statusRun(t, "--interval", "0", t.TempDir())
	if code != 1 || !strings.Contains(out, "no camera is mounted below it") {
		t.Errorf("status of an empty directory: exit status %d:\n%s", code, out)
	}
}

// A folder listed one GetObjectInfo at a time: status shows how far the
// listing is, and --watch follows it until Ctrl-C.
func TestStatusListingInProgress(t *testing.T) {
	mountRequireFUSE(t)
	const photos = 300
	cam, addr := faultSim(t, camsim.Config{Personality: camsim.Nikon(), Latency: 30 * time.Millisecond,
		Generate: &camsim.CardSpec{Photos: photos, Seed: 4, Size: 256 << 10}})
	mnt := mountDir(t)
	mountStart(t, addr, mnt, "--metadata-cache=false")
	var folder string
	for _, f := range cam.Files() {
		if !f.Dir {
			folder = filepath.Dir(f.Path)
		}
	}
	go os.ReadDir(filepath.Join(mountStorage(t, mnt), folder))

	re := regexp.MustCompile(`listing: +1 folder: ([0-9]+) of ([0-9]+) objects described, about ([0-9hms]+) left`)
	deadline := time.Now().Add(30 * time.Second)
	var m []string
	for m == nil {
		if time.Now().After(deadline) {
			out, _ := statusRun(t, "--interval", "0", mnt)
			t.Fatalf("status never showed the listing:\n%s", out)
		}
		out, _ := statusRun(t, "--interval", "0", mnt)
		if m = re.FindStringSubmatch(out); m != nil {
			done, _ := strconv.Atoi(m[1])
			if done == 0 {
				m = nil // the time left is known once objects are done
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	done, _ := strconv.Atoi(m[1])
	known, _ := strconv.Atoi(m[2])
	if known < photos || done >= known {
		t.Errorf("listing %s of %s objects, want some of at least %d", m[1], m[2], photos)
	}
	t.Logf("status: %s", m[0])

	_, airnef := mountBuild(t)
	var out bytes.Buffer
	watch := exec.Command(airnef, "status", "--watch", "--interval", "300ms", mnt)
	watch.Stdout, watch.Stderr = &out, &out
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	watch.Process.Signal(syscall.SIGINT)
	if err := watch.Wait(); err != nil {
		t.Errorf("status --watch after Ctrl-C: %v\n%s", err, out.String())
	}
	if n := strings.Count(out.String(), "camera:"); n < 2 {
		t.Errorf("status --watch showed the status %d times in 1.5s at 300ms:\n%s", n, out.String())
	}
}
