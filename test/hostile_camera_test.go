package test

// More hostile cameras (camsim --hostile): slow answers, floods, bad
// objects, hostile strings. Each test checks what every hostile case must
// keep: no panic, no hang past --timeout, bounded memory, an unmount within
// seconds, no path outside its folder, and only operations that read.

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
)

// hostileReadOps are the operations airnef-mount may send: each only reads.
var hostileReadOps = []mtp.OpCode{
	mtp.OpGetDeviceInfo, mtp.OpOpenSession, mtp.OpCloseSession, mtp.OpGetStorageIDs,
	mtp.OpGetStorageInfo, mtp.OpGetNumObjects, mtp.OpGetObjectHandles, mtp.OpGetObjectInfo,
	mtp.OpGetObject, mtp.OpGetThumb, mtp.OpGetPartialObject, mtp.OpGetObjectPropsSupported,
	mtp.OpGetObjectPropDesc, mtp.OpGetObjectPropValue, mtp.OpGetObjectPropList,
	mtp.OpAndroidGetPartialObject64, mtp.OpNikonGetEvent, mtp.OpNikonGetObjectSize,
	mtp.OpNikonGetPartialObjectEx, mtp.OpCanonEOSGetObjectInfo64, mtp.OpCanonEOSGetPartialObject64,
	mtp.OpCanonEOSGetPartialObjectEx64,
}

// hostileEnd checks what every hostile case must keep: every name in the
// mount is one a directory can hold (no path leaves its folder), the
// mount's peak memory is bounded, the camera received only operations that
// read; then it stops airnef-mount (SIGTERM) and checks that it unmounted
// and exited cleanly within seconds.
func hostileEnd(t *testing.T, cam *camsim.Camera, run *mountRun) {
	t.Helper()
	hostileWalk(t, run.mnt)
	if hwm := mountVmHWM(t, run.cmd.Process.Pid); hwm > 150<<20 {
		t.Errorf("peak RSS %d MiB", hwm>>20)
	}
	for op, n := range cam.OpCounts() {
		if !slices.Contains(hostileReadOps, op) {
			t.Errorf("the camera received %v %d times: not an operation that only reads", op, n)
		}
	}
	start := time.Now()
	run.cmd.Process.Signal(syscall.SIGTERM)
	if code := run.exitCode(15 * time.Second); code != 0 {
		t.Errorf("airnef-mount exited with %d after SIGTERM", code)
	}
	t.Logf("unmounted and exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	if mountIsMounted(t, run.mnt) {
		t.Errorf("%s still mounted after airnef-mount exited", run.mnt)
	}
}

// hostileWalk lists every directory of the mount it can (a folder refused
// for its size or by the camera is skipped) and checks every name.
func hostileWalk(t *testing.T, mnt string) {
	t.Helper()
	n := 0
	filepath.WalkDir(mnt, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fs.SkipDir
		}
		n++
		name := d.Name()
		if p != mnt && (name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\n\x00") ||
			len(name) > 255 || !utf8.ValidString(name) || hostileUnprintable(name) >= 0) {
			t.Errorf("unsafe name %q at %s", name, p)
		}
		if rel, err := filepath.Rel(mnt, p); err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("%s is outside the mount", p)
		}
		return nil
	})
	t.Logf("walked %d entries", n)
}

// A camera that answers a read with a byte every half second, or only
// with Probe Requests, each piece well within --timeout: the read fails
// with EIO within about --timeout, df meanwhile answers, the mount
// reconnects and serves the card.
func TestHostileSlow(t *testing.T) {
	mountRequireFUSE(t)
	for kind, name := range map[string]string{"slow": "SLOW.JPG", "probes": "PROBES.JPG"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel() // each waits for airnef-mount's redial
			cam, storage, run := hostileMount(t, kind)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(faultTimeout / 4) // the read holds the session
				faultTimed(t, "df", 5*faultTimeout, func() error {
					ctx, cancel := context.WithTimeout(context.Background(), 10*faultTimeout)
					defer cancel()
					out, err := exec.CommandContext(ctx, "df", run.mnt).CombinedOutput()
					if err != nil {
						t.Logf("df: %v: %s", err, out)
					}
					return err
				})
			}()
			start := time.Now()
			err := faultTimed(t, "reading "+name, 5*faultTimeout, func() error {
				_, err := os.ReadFile(filepath.Join(storage, name))
				return err
			})
			if !errors.Is(err, syscall.EIO) {
				t.Errorf("reading %s: %v, want EIO", name, err)
			}
			if d := time.Since(start); d > 3*faultTimeout {
				t.Errorf("EIO after %v, want about --timeout (%v)", d, faultTimeout)
			}
			wg.Wait()
			hostileAlive(t, cam, storage, run)
			if n, log := hostileLogLines(run, 1, "session broken", "too slow"); n < 1 {
				t.Errorf("no \"too slow\" broken session in the log:\n%s", log)
			}
			hostileEnd(t, cam, run)
		})
	}
}

// A flood of events: the ones the mount cannot take are dropped, counted
// in /.airnef/stats and logged in a line or two, not a line each.
func TestHostileEvents(t *testing.T) {
	mountRequireFUSE(t)
	cam, storage, run := hostileMount(t, "events")
	var dropped int64
	faultEventually(t, "events dropped in /.airnef/stats", 30*time.Second, func() error {
		n := mountStatInt(t, mountStats(t, run.mnt), "events_dropped")
		if n == 0 || n != dropped {
			dropped = n // not yet, or still growing
			return fmt.Errorf("events_dropped %d", n)
		}
		return nil
	})
	t.Logf("%d of %d events dropped", dropped, camsim.HostileEvents)
	if n, log := hostileLogLines(run, 1, "dropped"); n < 1 || n > 3 {
		t.Errorf("%d lines about dropped events, want 1 to 3 (one per 10 s):\n%.3000s", n, log)
	}
	hostileAlive(t, cam, storage, run)
	if hwm := mountVmHWM(t, run.cmd.Process.Pid); hwm > 150<<20 {
		t.Errorf("peak RSS %d MiB", hwm>>20)
	}
	hostileEnd(t, cam, run)
}

// A GetObjectPropList answer of 64 MiB describing 7.4 million objects,
// fetched by the warm listing without anyone asking: it is refused as it
// decodes, in bounded memory; the folder lists (empty, as its handle
// list is) and the mount goes on.
func TestHostilePropList(t *testing.T) {
	mountRequireFUSE(t)
	cam, storage, run := hostileMount(t, "proplist")
	faultEventually(t, "the warm listing's GetObjectPropList", 30*time.Second, func() error {
		if cam.OpCount(mtp.OpGetObjectPropList) == 0 {
			return errors.New("not asked yet")
		}
		return nil
	})
	err := faultTimed(t, "listing PROPLIST", 5*faultTimeout, func() error {
		_, err := os.ReadDir(filepath.Join(storage, "PROPLIST"))
		return err
	})
	if err != nil {
		t.Errorf("listing PROPLIST: %v", err)
	}
	hostileAlive(t, cam, storage, run)
	hwm := mountVmHWM(t, run.cmd.Process.Pid)
	t.Logf("peak RSS %d MiB", hwm>>20)
	if hwm > 150<<20 {
		t.Errorf("peak RSS %d MiB", hwm>>20)
	}
	if n, log := hostileLogLines(run, 1, "GetObjectPropList", "too many objects"); n != 1 {
		t.Errorf("%d lines about the refused answer, want 1:\n%s", n, log)
	}
	hostileEnd(t, cam, run)
}

// Objects the camera refuses to describe (AccessDenied, GeneralError) or
// describes with a malformed ObjectInfo are left out of their folder with
// one log line each; the rest is listed. A folder the camera refuses to
// list answers EACCES, logged once.
func TestHostileBadInfo(t *testing.T) {
	mountRequireFUSE(t)
	cam, addr := faultSim(t, camsim.Config{Generate: &camsim.CardSpec{Photos: 2, Seed: 3, Size: camsim.MinGeneratedSize}, Hostile: []string{"badinfo", "denied"}})
	run := mountStart(t, addr, mountDir(t), "--timeout", faultTimeout.String())
	storage := mountStorage(t, run.mnt)
	var names []string
	faultTimed(t, "listing BADINFO", 5*faultTimeout+4*time.Second, func() error {
		names = hostileNames(t, filepath.Join(storage, "BADINFO"))
		return nil
	})
	if !slices.Equal(names, []string{"GOOD.JPG"}) {
		t.Errorf("BADINFO holds %q, want [GOOD.JPG]", names)
	}
	if b, err := os.ReadFile(filepath.Join(storage, "BADINFO", "GOOD.JPG")); err != nil || sha256.Sum256(b) != hostileSum(0, camsim.HostileFileSize) {
		t.Errorf("GOOD.JPG: %d bytes, %v", len(b), err)
	}
	for _, name := range []string{"DENIED.JPG", "GENERAL.JPG", "GARBLED.JPG"} {
		if _, err := os.Stat(filepath.Join(storage, "BADINFO", name)); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("stat %s: %v, want ENOENT", name, err)
		}
	}
	if n, log := hostileLogLines(run, 3, "object skipped", "BADINFO"); n != 3 {
		t.Errorf("%d skip lines, want 3:\n%s", n, log)
	}
	for range 2 {
		if _, err := os.ReadDir(filepath.Join(storage, "DENIED")); !errors.Is(err, syscall.EACCES) {
			t.Errorf("listing DENIED: %v, want EACCES", err)
		}
	}
	if n, log := hostileLogLines(run, 1, "refuses to list it", "DENIED"); n != 1 {
		t.Errorf("%d lines about DENIED, want 1:\n%s", n, log)
	}
	hostileAlive(t, cam, storage, run)
	hostileEnd(t, cam, run)
}

// Thousands of files named alike list in time linear in their number, each
// under its own name.
func TestHostileAlike(t *testing.T) {
	mountRequireFUSE(t)
	cam, storage, run := hostileMount(t, "alike")
	var names []string
	faultTimed(t, "listing ALIKE", time.Minute, func() error {
		names = hostileNames(t, filepath.Join(storage, "ALIKE"))
		return nil
	})
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("duplicate name %q", n)
		}
		seen[n] = true
	}
	if len(names) != camsim.DefaultHostileAlike || !seen["SAME.JPG"] || !seen[fmt.Sprintf("SAME (%d).JPG", camsim.DefaultHostileAlike)] {
		t.Errorf("ALIKE holds %d names, want SAME.JPG to SAME (%d).JPG", len(names), camsim.DefaultHostileAlike)
	}
	hostileAlive(t, cam, storage, run)
	hostileEnd(t, cam, run)
}

// A camera listing a million storages: the first 64 are mounted, with one
// log line, in bounded time and memory.
func TestHostileStorages(t *testing.T) {
	mountRequireFUSE(t)
	cam, addr := faultSim(t, camsim.Config{Generate: &camsim.CardSpec{Photos: 2, Seed: 3, Size: camsim.MinGeneratedSize}, Hostile: []string{"storages"}})
	start := time.Now()
	run := mountStart(t, addr, mountDir(t), "--timeout", faultTimeout.String())
	t.Logf("mounted in %v", time.Since(start).Round(time.Millisecond))
	des, err := os.ReadDir(run.mnt)
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != mtp.MaxStorageIDs || des[0].Name() != "Card 1" || des[1].Name() != "HOSTILE" {
		t.Errorf("the root holds %d entries from %q, want %d from Card 1, HOSTILE", len(des), des[0].Name(), mtp.MaxStorageIDs)
	}
	if n := cam.OpCount(mtp.OpGetStorageInfo); n > 2*mtp.MaxStorageIDs {
		t.Errorf("%d GetStorageInfo", n)
	}
	if n, log := hostileLogLines(run, 1, "more storages"); n != 1 {
		t.Errorf("%d lines about the storages, want 1:\n%.3000s", n, log)
	}
	hostileAlive(t, cam, filepath.Join(run.mnt, "Card 1"), run)
	if hwm := mountVmHWM(t, run.cmd.Process.Pid); hwm > 150<<20 {
		t.Errorf("peak RSS %d MiB", hwm>>20)
	}
	hostileEnd(t, cam, run)
}

// hostileUnprintable is the first character of s that a terminal would act
// on or that breaks a line, or -1.
func hostileUnprintable(s string) rune {
	for _, r := range s {
		if r != ' ' && r != '\n' && !unicode.IsPrint(r) {
			return r
		}
	}
	return -1
}

// Camera strings with newlines, terminal escapes and bidirectional
// overrides: the mounted line is one printable line, /.airnef/stats and
// the log forge no line, names keep their visible characters only and are
// the same on the next mount, also in the renamed view.
func TestHostileStrings(t *testing.T) {
	mountRequireFUSE(t)
	cam, addr := faultSim(t, camsim.Config{Generate: &camsim.CardSpec{Photos: 2, Seed: 3, Size: camsim.MinGeneratedSize}, Hostile: []string{"strings"}})
	cache := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + cache}
	run := mountStartEnv(t, env, addr, mountDir(t), "--timeout", faultTimeout.String())
	if r := hostileUnprintable(run.line); r >= 0 || !strings.Contains(run.line, `Evil\nmounted Fake Camera`) {
		t.Errorf("mounted line %q: holds %U, or lost the camera's make", run.line, r)
	}
	stats, err := os.ReadFile(filepath.Join(run.mnt, ".airnef", "stats"))
	if err != nil {
		t.Fatal(err)
	}
	if r := hostileUnprintable(string(stats)); r >= 0 {
		t.Errorf("/.airnef/stats holds %U:\n%s", r, stats)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(stats)), "\n") {
		if k, _, _ := strings.Cut(l, " "); k == "mounted" || strings.Count(string(stats), "\n"+k+" ") > 1 {
			t.Errorf("/.airnef/stats holds a forged line %q", l)
		}
	}
	storage := mountStorage(t, run.mnt)
	if r := hostileUnprintable(filepath.Base(storage)); r >= 0 {
		t.Errorf("storage named %q: holds %U", filepath.Base(storage), r)
	}
	names := hostileNames(t, filepath.Join(storage, "STRINGS"))
	for _, want := range []string{"ESC_[2J.JPG", "NL_mounted.JPG", "BIDI_gpj.exe", "LS_PS_.JPG", "TAB_DEL_.JPG"} {
		if !slices.Contains(names, want) {
			t.Errorf("STRINGS holds %q, not %q", names, want)
		}
	}
	inos := map[string]uint64{}
	for _, n := range names {
		if r := hostileUnprintable(n); r >= 0 || len(names) != len(camsim.HostileStringNames) {
			t.Errorf("name %q holds %U (of %d names)", n, r, len(names))
		}
		fi, err := os.Stat(filepath.Join(storage, "STRINGS", n))
		if err != nil {
			t.Fatal(err)
		}
		inos[n] = fi.Sys().(*syscall.Stat_t).Ino
	}
	hostileAlive(t, cam, storage, run)
	// The log: every line is one record, with no terminal escape.
	log := run.stderr.String()
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		if r := hostileUnprintable(l); r >= 0 || !strings.HasPrefix(l, "time=") {
			t.Errorf("log line %q: holds %U, or is not a record of its own", l, r)
		}
	}
	hostileEnd(t, cam, run)

	// The next mount (the metadata cache kept), and the renamed view.
	run = mountStartEnv(t, env, addr, mountDir(t), "--timeout", faultTimeout.String(), "--dirnamespec", "@cameramodel@")
	storage = filepath.Join(run.mnt, ".camera", filepath.Base(storage))
	for n, ino := range inos {
		fi, err := os.Stat(filepath.Join(storage, "STRINGS", n))
		if err != nil || fi.Sys().(*syscall.Stat_t).Ino != ino {
			t.Errorf("%q on the next mount: %v (inode changed: %t)", n, err, err == nil)
		}
	}
	des, err := os.ReadDir(run.mnt)
	if err != nil || len(des) != 1 || hostileUnprintable(des[0].Name()) >= 0 {
		t.Errorf("renamed root: %v, %v", des, err)
	}
	hostileEnd(t, cam, run)
}

// An object of "4 GiB or more" whose 64-bit size is 0 is left out with one
// log line, never shown as a 0-byte file.
func TestHostileZero64(t *testing.T) {
	mountRequireFUSE(t)
	cam, storage, run := hostileMount(t, "zero64")
	for range 2 {
		names := hostileNames(t, storage)
		if slices.Contains(names, "ZERO64.MOV") {
			t.Errorf("the top level shows ZERO64.MOV: %q", names)
		}
	}
	if _, err := os.Stat(filepath.Join(storage, "ZERO64.MOV")); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("stat ZERO64.MOV: %v, want ENOENT", err)
	}
	if n := cam.OpCount(mtp.OpGetObjectPropValue); n == 0 {
		t.Error("the 64-bit size was not asked")
	}
	if n, log := hostileLogLines(run, 1, "object skipped", "64-bit size is 0"); n != 1 {
		t.Errorf("%d lines about ZERO64.MOV, want 1:\n%s", n, log)
	}
	hostileAlive(t, cam, storage, run)
	hostileEnd(t, cam, run)
}

// The bound on a whole transaction spares an honest slow link: over a
// camera sending 80 KiB/s (a few times the minimum rate), reads whose
// transactions each take several times --timeout complete, byte-exact,
// without breaking the session.
func TestSlowHonestLink(t *testing.T) {
	mountRequireFUSE(t)
	cam, addr := faultSim(t, camsim.Config{Generate: &camsim.CardSpec{Photos: 2, Seed: 5, Size: 640 << 10}, Rate: 80 << 10})
	run := mountStart(t, addr, mountDir(t), "--timeout", faultTimeout.String(), "--debug", "ptp")
	storage := mountStorage(t, run.mnt)
	for _, f := range cam.Files() {
		if f.Dir {
			continue
		}
		want := simBytes(t, cam, f)
		faultTimed(t, "reading "+f.Path, 10*time.Duration(len(want))*time.Second/(80<<10), func() error {
			return faultCheck(filepath.Join(storage, f.Path), want)
		})
		break
	}
	if strings.Contains(run.stderr.String(), "session broken") {
		t.Errorf("the session broke on an honest slow link:\n%s", run.stderr.String())
	}
	// At least one read took longer than --timeout: the test proves what
	// it says.
	longest := time.Duration(0)
	for _, l := range strings.Split(run.stderr.String(), "\n") {
		if !strings.Contains(l, "op=GetPartialObject") || !strings.Contains(l, " dur=") {
			continue
		}
		f := strings.Fields(l[strings.Index(l, " dur=")+5:])
		if d, err := time.ParseDuration(f[0]); err == nil {
			longest = max(longest, d)
		}
	}
	t.Logf("longest read transaction %v", longest)
	if longest <= faultTimeout {
		t.Errorf("no read took longer than --timeout (%v): the link is not slow enough to test anything", faultTimeout)
	}
	hostileEnd(t, cam, run)
}
