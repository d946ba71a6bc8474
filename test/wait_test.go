package test

// End-to-end test of --wait --exec: when the simulated Sony announces
// itself, airnef-mount mounts it at DIR/<model>-<serial>, runs a real
// rsync of the card, unmounts and puts the camera to sleep, then ignores
// the camera's stale announcements until it has been silent for the quiet
// period. SSDP runs in a network namespace. Helpers start with "wait".

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
)

// waitLine waits (bounded) for a stdout line of r that starts with prefix.
func waitLine(t *testing.T, r *mountRun, prefix string, within time.Duration) string {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				t.Fatalf("airnef-mount ended before printing %q; stderr:\n%s", prefix, r.stderr.String())
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
			t.Logf("airnef-mount: %s", l)
		case <-deadline:
			t.Fatalf("no %q line within %v; stderr:\n%s", prefix, within, r.stderr.String())
		}
	}
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitTree lists every file under dir with its bytes.
func waitTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWaitExecRsync(t *testing.T) {
	if !discNetns(t, 90*time.Second) {
		return
	}
	mountRequireFUSE(t)
	rsync := mountRequireTool(t, "rsync")
	card, files := sonyCard(t)
	cam := discSony(t, camsim.Config{Dir: card, Serial: "3101234"})
	dest := t.TempDir()
	script := filepath.Join(t.TempDir(), "copy.sh")
	// $1 is the mount path; one storage directory under it.
	body := "#!/bin/sh\nset -e\nfor s in \"$1\"/*/; do " + rsync + " -a \"$s\" '" + dest + "/'; done\necho copied >> '" + dest + ".log'\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	top := mountDir(t)
	const quiet = 3 * time.Second
	r := mountLaunch(t, "", top, "--wait", "--exec", "sh "+script, "--guid", sonyZeroGUID, "--quiet-period", quiet.String())
	waitLine(t, r, "waiting for cameras", 20*time.Second)
	mounted := waitLine(t, r, "mounted ", 30*time.Second)
	want := filepath.Join(top, "ILCE-7M3-3101234")
	if !strings.HasSuffix(mounted, " at "+want) {
		t.Errorf("mounted line %q, want the mount at %s", mounted, want)
	}
	// The command ran, then the camera was unmounted and put to sleep
	// (stdout lines may come too fast to read one by one: poll).
	waitFor(t, 60*time.Second, "the exec to finish and the unmount", func() bool {
		st, _ := cam.SonyState()
		return strings.Count(r.stderr.String(), "--exec finished") == 1 && st == camsim.SonyAsleep && !mountIsMounted(t, want)
	})
	if !strings.Contains(r.stderr.String(), "status=0") {
		t.Errorf("the exec status is not logged; stderr:\n%s", r.stderr.String())
	}
	slept := time.Now()
	got := waitTree(t, dest)
	if len(got) != len(files) {
		t.Errorf("rsync copied %d files, want %d", len(got), len(files))
	}
	for rel, data := range files {
		if !bytes.Equal(got[rel], data) {
			t.Errorf("%s: rsync copy differs (%d bytes, want %d)", rel, len(got[rel]), len(data))
		}
	}
	if st := sonyState(t, cam); st != camsim.SonyAsleep {
		t.Errorf("after --exec the camera is %s, want asleep", st)
	}
	if mountIsMounted(t, want) {
		t.Errorf("%s still mounted", want)
	}
	if _, err := os.Stat(want); !os.IsNotExist(err) {
		t.Errorf("the mount point %s was not removed: %v", want, err)
	}

	// Stale NOTIFYs of the sleeping camera (its description still
	// answers) are ignored: no connection is tried.
	inits := cam.Inits()
	for time.Since(slept) < quiet-500*time.Millisecond {
		if err := cam.Announce(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(time.Second) // let the last ones be verified and reported
	if n := cam.Inits(); n != inits {
		t.Errorf("%d Init Command Requests after stale announcements, want none", n-inits)
	}
	if !strings.Contains(r.stderr.String(), "ignoring an announcement of a camera that just left") {
		t.Errorf("no stale announcement was ignored; stderr:\n%s", r.stderr.String())
	}

	// After the quiet period, Send to Computer pressed again: mounted
	// and copied again.
	time.Sleep(quiet + 500*time.Millisecond)
	if err := cam.Press(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the second exec and unmount", func() bool {
		st, _ := cam.SonyState()
		return strings.Count(r.stderr.String(), "--exec finished") == 2 && st == camsim.SonyAsleep && !mountIsMounted(t, want)
	})
	log, err := os.ReadFile(dest + ".log")
	if err != nil || string(log) != "copied\ncopied\n" {
		t.Errorf("--exec ran %q times, want twice: %v", log, err)
	}
	if st := sonyState(t, cam); st != camsim.SonyAsleep {
		t.Errorf("camera %s, want asleep", st)
	}
	r.stop()
	if code := r.exitCode(20 * time.Second); code != 0 {
		t.Errorf("exit status %d", code)
	}
}
