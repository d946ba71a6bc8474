package test

// A hostile camera (camsim --hostile): each kind mounts, lists and
// survives; names come out sane, bad objects are skipped with one log line
// each, memory stays bounded. Helpers start with "hostile".

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
)

// hostileMount starts a hostile camera of one kind with a small generated
// card, mounts it and returns the camera, the storage directory and the
// mount.
func hostileMount(t *testing.T, kind string, args ...string) (*camsim.Camera, string, *mountRun) {
	t.Helper()
	cam, addr := faultSim(t, camsim.Config{Generate: &camsim.CardSpec{Photos: 2, Seed: 3, Size: camsim.MinGeneratedSize}, Hostile: []string{kind}})
	mnt := mountDir(t)
	run := mountStart(t, addr, mnt, append([]string{"--timeout", faultTimeout.String()}, args...)...)
	return cam, mountStorage(t, mnt), run
}

// hostileAlive checks that the mount still answers and serves a card file
// correctly, that airnef-mount runs and never panicked.
func hostileAlive(t *testing.T, cam *camsim.Camera, storage string, run *mountRun) {
	t.Helper()
	select {
	case <-run.done:
		t.Fatalf("airnef-mount exited: %v", run.err)
	default:
	}
	for _, f := range cam.Files() {
		if f.Dir {
			continue
		}
		want := simBytes(t, cam, f)
		faultEventually(t, "reading "+f.Path, 30*time.Second, func() error {
			return faultCheck(filepath.Join(storage, f.Path), want)
		})
		break
	}
	if strings.Contains(run.stderr.String(), "panic") {
		t.Errorf("airnef-mount panicked:\n%s", run.stderr.String())
	}
}

// hostileSum is the sha256 of n hostile bytes from off.
func hostileSum(off, n int64) [32]byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = camsim.HostileByte(off + int64(i))
	}
	return sha256.Sum256(b)
}

// hostileNames lists dir's names.
func hostileNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// hostileCount counts the log lines holding all of parts.
func hostileCount(log string, parts ...string) int {
	n := 0
	for _, l := range strings.Split(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			n++
		}
	}
	return n
}

// hostileLogLines counts the lines of run's stderr that hold every part,
// waiting up to a second for at least want of them: stderr reaches the test
// through a pipe and a copying goroutine, so a line the mount wrote just
// before it answered may not have arrived yet.
func hostileLogLines(run *mountRun, want int, parts ...string) (int, string) {
	deadline := time.Now().Add(time.Second)
	for {
		log := run.stderr.String()
		n := hostileCount(log, parts...)
		if n >= want || time.Now().After(deadline) {
			return n, log
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHostileNames(t *testing.T) {
	mountRequireFUSE(t)
	cam, storage, run := hostileMount(t, "names")
	dir := filepath.Join(storage, "NAMES")
	names := hostileNames(t, dir)
	if len(names) != 11 {
		t.Errorf("NAMES holds %d entries %q, want the 11 the camera lists", len(names), names)
	}
	seen := map[string]bool{}
	for _, n := range names {
		switch {
		case n == "" || n == "." || n == "..", strings.ContainsAny(n, "/\x00"), !utf8.ValidString(n), len(n) > 255:
			t.Errorf("unsafe name %q", n)
		case seen[n]:
			t.Errorf("duplicate name %q", n)
		}
		seen[n] = true
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil || len(b) != camsim.HostileFileSize || sha256.Sum256(b) != hostileSum(0, camsim.HostileFileSize) {
			t.Errorf("%q: %d bytes, %v", n, len(b), err)
		}
	}
	for _, want := range []string{"a_b.JPG", "_..", "_.", "_", "NUL", "\uFFFDX.JPG", "\uFFFD\uFFFDY.JPG"} {
		if !seen[want] {
			t.Errorf("no %q among %q", want, names)
		}
	}
	long := false
	for n := range seen {
		long = long || (strings.HasPrefix(n, "日日日") && strings.HasSuffix(n, ".JPG") && len(n) <= 255)
	}
	if !long {
		t.Errorf("the 304-byte name was not shortened keeping .JPG: %q", names)
	}
	hostileAlive(t, cam, storage, run)
	hostileEnd(t, cam, run)
}

func TestHostileDuplicates(t *testing.T) {
	mountRequireFUSE(t)
	cam, storage, run := hostileMount(t, "duplicates")
	names := hostileNames(t, filepath.Join(storage, "DUPS"))
	want := []string{"SAME", "SAME (2)", "SAME (2).JPG", "SAME (3).JPG", "SAME.JPG"}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("DUPS holds %q, want %q (the handle listed twice once)", names, want)
	}
	hostileAlive(t, cam, storage, run)
	hostileEnd(t, cam, run)
}

func TestHostileCycles(t *testing.T) {
	mountRequireFUSE(t)
	cam, storage, run := hostileMount(t, "cycles")
	top := strings.Join(hostileNames(t, storage), "|")
	for _, bad := range []string{"CYCLE_A", "CYCLE_B", "SELF"} {
		if strings.Contains(top, bad) {
			t.Errorf("the top level shows %s: %s", bad, top)
		}
	}
	if got := hostileNames(t, filepath.Join(storage, "LOOP", "INNER")); strings.Join(got, "|") != "OK.JPG" {
		t.Errorf("LOOP/INNER holds %q, want [OK.JPG]", got)
	}
	// Listing again (from the kernel's cache or the tree) adds no lines.
	hostileNames(t, filepath.Join(storage, "LOOP", "INNER"))
	hostileAlive(t, cam, storage, run)
	if n, log := hostileLogLines(run, 5, "object skipped", "parent cycle"); n != 5 {
		t.Errorf("%d skip lines, want 5 (CYCLE_A, CYCLE_B, SELF, LOOP and INNER in INNER):\n%s", n, log)
	}
	hostileEnd(t, cam, run)
}

func TestHostileDeep(t *testing.T) {
	mountRequireFUSE(t)
	cam, storage, run := hostileMount(t, "deep")
	// Walk down by relative paths from a directory handle, as find does.
	dir, err := os.Open(filepath.Join(storage, "DEEP"))
	if err != nil {
		t.Fatal(err)
	}
	levels := 2 // storage, DEEP
	start := time.Now()
	for {
		names, err := dir.Readdirnames(-1)
		if err != nil {
			dir.Close()
			t.Fatalf("level %d: %v", levels, err)
		}
		if len(names) == 0 {
			break
		}
		if len(names) != 1 || names[0] != "d" {
			t.Fatalf("level %d holds %q", levels, names)
		}
		fd, err := syscall.Openat(int(dir.Fd()), "d", syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
		dir.Close()
		if err != nil {
			t.Fatalf("level %d: open d: %v", levels, err)
		}
		dir = os.NewFile(uintptr(fd), "d")
		levels++
		if time.Since(start) > time.Minute {
			t.Fatalf("still walking at level %d after a minute", levels)
		}
	}
	dir.Close()
	if levels != 256 {
		t.Errorf("the chain stops at level %d, want 256 (tree.MaxDepth)", levels)
	}
	hostileAlive(t, cam, storage, run)
	if n, log := hostileLogLines(run, 1, "object skipped", "nested deeper than"); n != 1 {
		t.Errorf("%d skip lines for the deep chain, want 1:\n%s", n, log)
	}
	hostileEnd(t, cam, run)
}

func TestHostileMany(t *testing.T) {
	mountRequireFUSE(t)
	cam, storage, run := hostileMount(t, "many")
	for range 3 {
		err := faultTimed(t, "listing MANY", 5*faultTimeout, func() error {
			_, err := os.ReadDir(filepath.Join(storage, "MANY"))
			return err
		})
		if !errors.Is(err, syscall.EIO) {
			t.Errorf("listing MANY: %v, want EIO", err)
		}
	}
	if n := cam.OpCount(mtp.OpGetObjectInfo); n > 100 {
		t.Errorf("%d GetObjectInfo: the refused folder's objects were described", n)
	}
	if n := cam.OpCount(mtp.OpGetObjectHandles); n > 4 {
		t.Errorf("%d GetObjectHandles: the refused folder is asked again", n)
	}
	hostileAlive(t, cam, storage, run)
	if n, log := hostileLogLines(run, 1, "too many objects", "max_objects=200000"); n != 1 {
		t.Errorf("%d lines about the cap, want 1:\n%s", n, log)
	}
	if hwm := mountVmHWM(t, run.cmd.Process.Pid); hwm > 150<<20 {
		t.Errorf("peak RSS %d MiB", hwm>>20)
	}
	hostileEnd(t, cam, run)
}

// Under a lower cap, the folder that crosses it is refused even though
// every folder alone is small: the cap is on what the mount holds.
func TestHostileMaxObjectsFlag(t *testing.T) {
	mountRequireFUSE(t)
	cam, storage, run := hostileMount(t, "names", "--max-objects", "8")
	if _, err := os.ReadDir(filepath.Join(storage, "NAMES")); !errors.Is(err, syscall.EIO) {
		t.Errorf("listing NAMES (11 objects) under --max-objects 8: %v, want EIO", err)
	}
	if n, log := hostileLogLines(run, 1, "too many objects", "max_objects=8"); n != 1 {
		t.Errorf("%d lines about the cap, want 1:\n%s", n, log)
	}
	hostileAlive(t, cam, storage, run)
	hostileEnd(t, cam, run)
}

func TestHostileHuge(t *testing.T) {
	mountRequireFUSE(t)
	cam, storage, run := hostileMount(t, "huge")
	path := filepath.Join(storage, "HUGE.MOV")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != camsim.HostileHugeSize {
		t.Errorf("size %d, want %d", fi.Size(), int64(camsim.HostileHugeSize))
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const n = 1 << 20
	for _, off := range []int64{0, 2 << 30, camsim.HostileHugeSize - n} {
		b := make([]byte, n)
		if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
			t.Fatalf("read at %d: %v", off, err)
		}
		if sha256.Sum256(b) != hostileSum(off, n) {
			t.Errorf("bytes at %d differ from the generator's", off)
		}
	}
	if k, err := f.ReadAt(make([]byte, 100), camsim.HostileHugeSize); k != 0 || err != io.EOF {
		t.Errorf("read at the end: %d bytes, %v", k, err)
	}
	hostileAlive(t, cam, storage, run)
	f.Close() // an open file keeps the mount busy
	hostileEnd(t, cam, run)
}

// Truncated and oversized packets break the session: the read fails with
// EIO at once, never a hang or a panic; the mount reconnects and goes on.
func TestHostileBrokenPackets(t *testing.T) {
	mountRequireFUSE(t)
	for kind, name := range map[string]string{"truncated": "TRUNCATED.JPG", "oversized": "OVERSIZED.JPG"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel() // each waits for airnef-mount's 5 s redial
			cam, storage, run := hostileMount(t, kind)
			err := faultTimed(t, "reading "+name, 5*faultTimeout, func() error {
				_, err := os.ReadFile(filepath.Join(storage, name))
				return err
			})
			if !errors.Is(err, syscall.EIO) {
				t.Errorf("reading %s: %v, want EIO", name, err)
			}
			hostileAlive(t, cam, storage, run)
			if !bytes.Contains([]byte(run.stderr.String()), []byte("session broken")) {
				t.Errorf("no broken session in the log:\n%s", run.stderr.String())
			}
			hostileEnd(t, cam, run)
		})
	}
}
