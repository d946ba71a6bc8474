package test

// End-to-end tests of stopping a mount (issues 16 and 19): the first
// Ctrl-C or SIGTERM waits for the reads in progress and unmounts, the
// second fails them with EIO; whatever was in flight (a read, a listing, a
// Nikon poll), the session ends gracefully: a Sony is put to sleep, any
// other camera gets CloseSession. The simulator runs in the test process
// (its operation counts and state are read directly), airnef-mount as a
// subprocess. Helpers start with "stop".

import (
	"errors"
	"fmt"
	"io"
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
	"github.com/airnef-mount/airnef-mount/mtp"
)

// stopReadOps are the operations a file read can use.
var stopReadOps = []mtp.OpCode{
	mtp.OpGetPartialObject, mtp.OpNikonGetPartialObjectEx, mtp.OpAndroidGetPartialObject64,
	mtp.OpCanonEOSGetPartialObject64, mtp.OpCanonEOSGetPartialObjectEx64, mtp.OpGetObject,
}

// stopCount is how many of ops the camera has received.
func stopCount(cam *camsim.Camera, ops ...mtp.OpCode) int {
	n := 0
	for _, op := range ops {
		n += cam.OpCount(op)
	}
	return n
}

// stopWaitOps waits (bounded) until the camera has received more than n of
// ops.
func stopWaitOps(t *testing.T, cam *camsim.Camera, n int, what string, ops ...mtp.OpCode) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for stopCount(cam, ops...) <= n {
		if time.Now().After(deadline) {
			t.Fatalf("no %s reached the camera within 30s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stopInFlight makes the camera hold its answers for d while a transaction
// of ops is in flight. busy says the host asks for ops back to back (a
// copy, a listing): a request that reached the camera before the stall may
// still wait for its answer, so the host is stalled once nothing new
// arrives for a moment. Otherwise (a poll every second) the stall starts
// just after one poll and holds the next.
func stopInFlight(t *testing.T, cam *camsim.Camera, d time.Duration, what string, busy bool, ops ...mtp.OpCode) {
	t.Helper()
	if !busy {
		stopWaitOps(t, cam, stopCount(cam, ops...), what, ops...)
		time.Sleep(100 * time.Millisecond) // answered; the next one comes later
	}
	n := stopCount(cam, ops...)
	if a := cam.Control("stall " + d.String()); !strings.HasPrefix(a, "ok") {
		t.Fatalf("stall: %s", a)
	}
	if busy {
		time.Sleep(500 * time.Millisecond)
		if stopCount(cam, ops...) <= n {
			return // the request before the stall waits for its answer
		}
	}
	stopWaitOps(t, cam, n, what, ops...)
}

// stopGoodbye checks the session ended gracefully: a Sony asleep, another
// camera with CloseSession, and no broken session in the log.
func stopGoodbye(t *testing.T, cam *camsim.Camera, sony bool, stderr string) {
	t.Helper()
	if sony {
		if st, _ := cam.SonyState(); st != camsim.SonyAsleep {
			t.Errorf("after the stop the Sony is %s, want asleep", st)
		}
	} else if n := cam.OpCount(mtp.OpCloseSession); n != 1 {
		t.Errorf("the camera got %d CloseSession, want 1", n)
	}
	for _, bad := range []string{"session broken", "without its goodbye", "failed; press Cancel"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("the log says %q:\n%s", bad, stderr)
		}
	}
}

// stopSony starts a simulated Sony with a generated card.
func stopSony(t *testing.T, spec *camsim.CardSpec, rate int64) (*camsim.Camera, string) {
	t.Helper()
	cam, port := simStart(t, camsim.Config{Personality: camsim.Sony(), Generate: spec, Rate: rate})
	return cam, "127.0.0.1:" + port
}

// The session ends with its goodbye whatever was in flight at the stop: a
// file's read (Sony: sleep; Nikon: CloseSession), a folder's listing one
// GetObjectInfo at a time, or a Nikon's GetEvent poll.
func TestStopGraceful(t *testing.T) {
	mountRequireFUSE(t)
	tests := map[string]struct {
		sony   bool
		during string // read, listing, poll
	}{
		"sony read":     {sony: true, during: "read"},
		"nikon read":    {during: "read"},
		"nikon listing": {during: "listing"},
		"nikon poll":    {during: "poll"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := &camsim.CardSpec{Photos: 400, Seed: 3, Size: 2 << 20}
			var cam *camsim.Camera
			var addr string
			args := []string{"--timeout", "10s", "--metadata-cache=false"}
			if tc.sony {
				cam, addr = stopSony(t, spec, 0)
				args = append(args, "--guid", sonyZeroGUID)
			} else {
				cfg := camsim.Config{Personality: camsim.Nikon(), Generate: spec}
				if tc.during == "listing" {
					// 400 GetObjectInfo: 16 s, which the stop must not wait for.
					cfg.Latency = 40 * time.Millisecond
				}
				cam, addr = faultSim(t, cfg)
			}
			mnt := mountDir(t)
			run := mountStart(t, addr, mnt, args...)
			storage := mountStorage(t, mnt)
			var files []camsim.File
			for _, f := range cam.Files() {
				if !f.Dir {
					files = append(files, f)
				}
			}
			switch tc.during {
			case "read":
				stopRead(t, cam, filepath.Join(storage, files[0].Path))
				stopInFlight(t, cam, 2*time.Second, "read", true, stopReadOps...)
			case "listing":
				n := cam.OpCount(mtp.OpGetObjectInfo)
				go os.ReadDir(filepath.Join(storage, filepath.Dir(files[0].Path)))
				stopWaitOps(t, cam, n+5, "listing", mtp.OpGetObjectInfo) // well into it
				stopInFlight(t, cam, 2*time.Second, "GetObjectInfo", true, mtp.OpGetObjectInfo)
			case "poll":
				stopInFlight(t, cam, 2*time.Second, "GetEvent poll", false, mtp.OpNikonGetEvent)
			}
			start := time.Now()
			run.cmd.Process.Signal(syscall.SIGTERM)
			if code := run.exitCode(30 * time.Second); code != 0 {
				t.Errorf("exit status %d, want 0", code)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("the stop took %v: it waited for more than the transaction in flight", d)
			}
			stopGoodbye(t, cam, tc.sony, run.stderr.String())
		})
	}
}

// stopRead reads the file at path in the background, once listed, and
// returns when the camera is sending it; the channel gets the read's end.
func stopRead(t *testing.T, cam *camsim.Camera, path string) <-chan error {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	n := stopCount(cam, stopReadOps...)
	done := make(chan error, 1)
	go func() {
		f, err := os.Open(path)
		if err != nil {
			done <- err
			return
		}
		defer f.Close()
		_, err = io.Copy(io.Discard, f)
		done <- err
	}()
	stopWaitOps(t, cam, n, "read", stopReadOps...)
	return done
}

// stopCopy runs cp of src into a temporary directory in the background and
// returns its result channel.
func stopCopy(t *testing.T, src string) <-chan error {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	done := make(chan error, 1)
	cmd := exec.Command("cp", src, dst)
	var out mountLockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		if err != nil {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(out.String()))
		}
		done <- err
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return done
}

// stopReadsRE is the first stop's sentence.
var stopReadsRE = regexp.MustCompile(`unmounting; ([0-9]+) reads in progress \(Ctrl-C again to abort them\)`)

// stopWaitLog waits (bounded) until the log matches re and returns the
// match.
func stopWaitLog(t *testing.T, log func() string, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if m := re.FindStringSubmatch(log()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %q:\n%s", re, log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop means stop: a copy of a file that takes a minute on the camera's
// link. The first Ctrl-C names the reads in progress and unmounts as soon
// as they end: cp fails at its next read instead of running to its end.
// The Sony is put to sleep.
func TestStopFirstSignal(t *testing.T) {
	mountRequireFUSE(t)
	mountRequireTool(t, "cp")
	const size = 60 << 20
	cam, addr := stopSony(t, &camsim.CardSpec{Photos: 2, Seed: 9, Size: size}, 1<<20) // a minute at 1 MiB/s
	mnt := mountDir(t)
	run := mountStart(t, addr, mnt, "--timeout", "10s", "--guid", sonyZeroGUID)
	var big camsim.File
	for _, f := range cam.Files() {
		if !f.Dir {
			big = f
		}
	}
	src := filepath.Join(mountStorage(t, mnt), big.Path)
	if _, err := os.Stat(src); err != nil { // listed: the copy starts reading at once
		t.Fatal(err)
	}
	n := stopCount(cam, stopReadOps...)
	copied := stopCopy(t, src)
	stopWaitOps(t, cam, n, "reads", stopReadOps...)
	stopInFlight(t, cam, 2*time.Second, "read", true, stopReadOps...)
	start := time.Now()
	run.cmd.Process.Signal(syscall.SIGINT)
	m := stopWaitLog(t, run.stderr.String, stopReadsRE)
	if n, _ := strconv.Atoi(m[1]); n < 1 {
		t.Errorf("the stop counted %d reads in progress during a copy", n)
	}
	if code := run.exitCode(30 * time.Second); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	took := time.Since(start)
	t.Logf("stopped %v after the signal", took.Round(time.Millisecond))
	select {
	case err := <-copied:
		if err == nil {
			t.Error("cp of a 60 MiB file at 1 MiB/s succeeded after the stop")
		} else {
			t.Logf("cp: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("cp still runs 15s after airnef-mount ended")
	}
	if mountIsMounted(t, mnt) {
		t.Error("still mounted")
	}
	if took > 20*time.Second {
		t.Errorf("the stop took %v: it waited for the copy", took)
	}
	stopGoodbye(t, cam, true, run.stderr.String())
}

// The second Ctrl-C fails the reads in progress with EIO at once, and the
// mount ends (exit status 130); the Sony is still put to sleep, once the
// camera has answered the transaction in flight.
func TestStopSecondSignal(t *testing.T) {
	mountRequireFUSE(t)
	const size = 8 << 20
	cam, addr := stopSony(t, &camsim.CardSpec{Photos: 2, Seed: 9, Size: size}, 0)
	mnt := mountDir(t)
	run := mountStart(t, addr, mnt, "--timeout", "10s", "--guid", sonyZeroGUID)
	var big camsim.File
	for _, f := range cam.Files() {
		if !f.Dir {
			big = f
		}
	}
	readErr := stopRead(t, cam, filepath.Join(mountStorage(t, mnt), big.Path))
	stopInFlight(t, cam, 6*time.Second, "read", true, stopReadOps...) // less than --timeout
	run.cmd.Process.Signal(syscall.SIGINT)
	stopWaitLog(t, run.stderr.String, stopReadsRE)
	aborted := time.Now()
	run.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-readErr:
		if !errors.Is(err, syscall.EIO) {
			t.Errorf("the read in progress ended with %v, want EIO", err)
		}
		if d := time.Since(aborted); d > 3*time.Second {
			t.Errorf("the read failed %v after the second signal", d)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the read in progress did not end after the second signal")
	}
	if code := run.exitCode(30 * time.Second); code != 130 {
		t.Errorf("exit status %d, want 130", code)
	}
	if mountIsMounted(t, mnt) {
		t.Error("still mounted")
	}
	stopGoodbye(t, cam, true, run.stderr.String())
}

// With --daemon the mount's own process gets the signals: the first names
// the reads in progress (in the log file), the second fails them, and the
// Sony is put to sleep.
func TestStopDaemon(t *testing.T) {
	mountRequireFUSE(t)
	_, airnef := mountBuild(t)
	cam, addr := stopSony(t, &camsim.CardSpec{Photos: 2, Seed: 9, Size: 8 << 20}, 0)
	mnt := mountDir(t)
	t.Cleanup(func() { serviceKillAll(t, mnt) })
	logFile := filepath.Join(t.TempDir(), "log")
	r := serviceRun(t, 60*time.Second, serviceEnv(t), airnef, "-d", "--log-file", logFile,
		"--timeout", "10s", "--guid", sonyZeroGUID, "--camera", addr, mnt)
	if r.code != 0 {
		t.Fatalf("airnef-mount -d: exit status %d:\n%s", r.code, r.stderr)
	}
	pid, err := strconv.Atoi(mountStats(t, mnt)["pid"])
	if err != nil {
		t.Fatalf("stats name no process: %v", err)
	}
	var big camsim.File
	for _, f := range cam.Files() {
		if !f.Dir {
			big = f
		}
	}
	readErr := stopRead(t, cam, filepath.Join(mountStorage(t, mnt), big.Path))
	stopInFlight(t, cam, 6*time.Second, "read", true, stopReadOps...)
	log := func() string { b, _ := os.ReadFile(logFile); return string(b) }
	syscall.Kill(pid, syscall.SIGINT)
	stopWaitLog(t, log, stopReadsRE)
	syscall.Kill(pid, syscall.SIGINT)
	select {
	case err := <-readErr:
		if !errors.Is(err, syscall.EIO) {
			t.Errorf("the read in progress ended with %v, want EIO", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the read in progress did not end after the second signal")
	}
	serviceWaitGone(t, mnt, 30*time.Second)
	if mountIsMounted(t, mnt) {
		t.Error("still mounted")
	}
	stopGoodbye(t, cam, true, log())
}
