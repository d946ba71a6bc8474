package test

// Helpers of the end-to-end mount tests (mount_test.go). They build the real
// binaries, run the simulator and airnef-mount as subprocesses (a FUSE
// server inside the test process can deadlock the kernel), and always
// unmount, even after a failure. Every name starts with "mount": the
// package is shared with other end-to-end tests.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mountBins holds the paths of the binaries built for this test run.
var mountBins struct {
	once     sync.Once
	dir      string
	err      error
	camsim   string
	airnef   string
	building time.Duration
}

// mountBuild builds cmd/camsim and cmd/airnef-mount once per test run.
// They go to a directory under the temp dir per user and per source tree
// (checkouts side by side must not run each other's binaries), each
// written to a temporary name and renamed into place, so concurrent runs
// never see a half-written binary and nothing accumulates across runs.
// With AIRNEF_TEST_RACE=1 (make soak) they are built with the race
// detector, in a directory of their own.
func mountBuild(t *testing.T) (camsim, airnef string) {
	t.Helper()
	mountBins.once.Do(func() {
		start := time.Now()
		src, _ := os.Getwd()
		h := fnv.New32a()
		h.Write([]byte(src))
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("airnef-mount-test-bin-%d-%08x", os.Getuid(), h.Sum32()))
		flags := []string{"build"}
		if os.Getenv("AIRNEF_TEST_RACE") == "1" {
			dir += "-race"
			flags = append(flags, "-race")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			mountBins.err = err
			return
		}
		mountBins.dir = dir
		for _, b := range []struct {
			pkg  string
			dest *string
		}{{"../cmd/camsim", &mountBins.camsim}, {"../cmd/airnef-mount", &mountBins.airnef}} {
			final := filepath.Join(dir, filepath.Base(b.pkg))
			tmp := fmt.Sprintf("%s.%d.tmp", final, os.Getpid())
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			out, err := exec.CommandContext(ctx, "go", append(flags, "-o", tmp, b.pkg)...).CombinedOutput()
			cancel()
			if err != nil {
				os.Remove(tmp)
				mountBins.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
			if err := os.Rename(tmp, final); err != nil {
				mountBins.err = err
				return
			}
			*b.dest = final
		}
		mountBins.building = time.Since(start)
	})
	if mountBins.err != nil {
		t.Fatal(mountBins.err)
	}
	return mountBins.camsim, mountBins.airnef
}

// mountRequireFUSE skips a test that needs to mount when this machine
// cannot: FUSE mounts in `make test` run as root with /dev/fuse.
func mountRequireFUSE(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mount tests run as root (make test)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse")
	}
}

// mountRequireTool skips when a peer tool is missing (make deps installs it).
func mountRequireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (make deps installs it)", name)
	}
	return p
}

// mountLockedBuffer collects a subprocess's output for failure messages.
type mountLockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *mountLockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *mountLockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mountFile is one file of a test card.
type mountFile struct {
	rel   string
	data  []byte
	mtime time.Time
}

// mountCardSpec says what mountCard puts on the card.
type mountCardSpec struct {
	jpegs    int   // real JPEGs, spread over nested folders
	bigSize  int64 // one file of this many deterministic bytes (0: none)
	bigName  string
	bigMtime time.Time
}

// mountCard makes a card directory: real JPEGs in nested folders (DCIM/
// 100TEST, DCIM/101TEST, DCIM/101TEST/SUB) with mtimes whole seconds apart,
// an empty folder, and an optional big file with deterministic bytes. It
// returns the directory and the files written (the big one with nil data:
// read it with mountPattern).
func mountCard(t *testing.T, spec mountCardSpec) (string, []mountFile) {
	t.Helper()
	dir := t.TempDir()
	folders := []string{"DCIM/100TEST", "DCIM/101TEST", "DCIM/101TEST/SUB"}
	for _, f := range append(folders, "MISC/EMPTY") {
		if err := os.MkdirAll(filepath.Join(dir, f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Mid-month dates at noon: never near a DST change in any zone.
	base := time.Date(2024, 3, 15, 12, 0, 0, 0, time.Local)
	var files []mountFile
	for i := range spec.jpegs {
		rel := fmt.Sprintf("%s/IMG_%04d.JPG", folders[i%len(folders)], i+1)
		f := mountFile{rel: rel, data: mountJPEG(t, i), mtime: base.Add(time.Duration(i)*time.Hour + time.Duration(i*7)*time.Second)}
		files = append(files, f)
	}
	for _, f := range files {
		p := filepath.Join(dir, f.rel)
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, f.mtime, f.mtime); err != nil {
			t.Fatal(err)
		}
	}
	if spec.bigSize > 0 {
		name := spec.bigName
		if name == "" {
			name = "DCIM/100TEST/MVI_0001.MOV"
		}
		mtime := spec.bigMtime
		if mtime.IsZero() {
			mtime = base.Add(-48 * time.Hour)
		}
		p := filepath.Join(dir, name)
		out, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, io.LimitReader(&mountPatternReader{}, spec.bigSize)); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		files = append(files, mountFile{rel: name, mtime: mtime})
	}
	return dir, files
}

// mountPatternReader yields the deterministic bytes of a big test file:
// byte i is a function of i, so any range can be checked without the
// whole file in memory.
type mountPatternReader struct{ off int64 }

func mountPatternByte(i int64) byte {
	x := uint64(i) * 0x9E3779B97F4A7C15
	return byte(x>>56) ^ byte(i>>12)
}

func (r *mountPatternReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = mountPatternByte(r.off + int64(i))
	}
	r.off += int64(len(p))
	return len(p), nil
}

// mountJPEG encodes a small real JPEG, different for each i.
func mountJPEG(t *testing.T, i int) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(i), 7))
	w, h := 96+16*(i%5), 64+8*(i%3)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8(r.IntN(256)), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// mountSim is a running simulator.
type mountSim struct {
	addr string
	port string
	cmd  *exec.Cmd
	log  *mountLockedBuffer
	done chan struct{}
}

// mountStartSim starts bin/camsim on 127.0.0.1:0 serving dir and waits for
// its "listening" line. env is added to its environment (e.g. TZ=...).
// Cleanup stops it.
func mountStartSim(t *testing.T, dir string, env ...string) *mountSim {
	t.Helper()
	return mountStartSimArgs(t, dir, env)
}

// mountStartSimArgs is mountStartSim with more flags for the simulator
// (e.g. a link model, --debug).
func mountStartSimArgs(t *testing.T, dir string, env []string, args ...string) *mountSim {
	t.Helper()
	camsim, _ := mountBuild(t)
	s := &mountSim{log: &mountLockedBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(camsim, append([]string{"--listen", "127.0.0.1:0", "--dir", dir}, args...)...)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stderr = s.log
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("camsim log:\n%s", s.log.String())
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case l, ok := <-line:
		addr, found := strings.CutPrefix(l, "listening ")
		if !ok || !found {
			t.Fatalf("camsim printed %q, want \"listening ADDR:PORT\"; log:\n%s", l, s.log.String())
		}
		s.addr = addr
		s.port = addr[strings.LastIndexByte(addr, ':')+1:]
	case <-time.After(20 * time.Second):
		t.Fatalf("camsim did not say it was listening within 20s; log:\n%s", s.log.String())
	}
	return s
}

// stop ends the simulator (SIGTERM, then SIGKILL) and waits for it.
func (s *mountSim) stop() {
	if s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// mountRun is a running airnef-mount.
type mountRun struct {
	t      *testing.T
	mnt    string
	cmd    *exec.Cmd
	stderr *mountLockedBuffer
	lines  <-chan string // stdout lines (the first is kept if unread)
	line   string        // the "mounted ..." line
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, set before done is closed
}

// mountDir makes an empty mount point whose cleanup unmounts whatever is
// left mounted there (lazily, so that a dead server cannot block it).
func mountDir(t *testing.T) string {
	t.Helper()
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 10 {
			if !mountIsMounted(t, mnt) {
				return
			}
			exec.Command("umount", "-l", mnt).Run()
		}
		t.Errorf("%s is still mounted after cleanup", mnt)
	})
	return mnt
}

// mountStart starts airnef-mount on camera addr at mnt with its own state
// directory and waits (bounded) for the "mounted" line. Cleanup stops it
// (SIGTERM, then SIGKILL) and unmounts.
func mountStart(t *testing.T, addr, mnt string, args ...string) *mountRun {
	t.Helper()
	return mountStartEnv(t, nil, addr, mnt, args...)
}

// mountStartEnv is mountStart with env added to airnef-mount's environment.
func mountStartEnv(t *testing.T, env []string, addr, mnt string, args ...string) *mountRun {
	t.Helper()
	r := mountLaunchEnv(t, env, addr, mnt, args...)
	if err := r.waitMounted(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	return r
}

// mountLaunch starts airnef-mount without waiting for it to mount.
func mountLaunch(t *testing.T, addr, mnt string, args ...string) *mountRun {
	t.Helper()
	return mountLaunchEnv(t, nil, addr, mnt, args...)
}

func mountLaunchEnv(t *testing.T, env []string, addr, mnt string, args ...string) *mountRun {
	t.Helper()
	_, airnef := mountBuild(t)
	full := append([]string{}, args...)
	if addr != "" {
		full = append(full, "--camera", addr)
	}
	if mnt != "" {
		full = append(full, mnt)
	}
	r := &mountRun{t: t, mnt: mnt, stderr: &mountLockedBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(airnef, full...)
	r.cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+t.TempDir(), "XDG_CACHE_HOME="+t.TempDir())
	r.cmd.Env = append(r.cmd.Env, env...)
	r.cmd.Stderr = r.stderr
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	r.lines = lines
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		r.stop()
		if t.Failed() {
			t.Logf("airnef-mount %q stderr:\n%s", full, r.stderr.String())
		}
	})
	return r
}

func (r *mountRun) waitMounted(d time.Duration) error {
	select {
	case l, ok := <-r.lines:
		if !ok {
			<-r.done
			return fmt.Errorf("airnef-mount exited (%v) before mounting; stderr:\n%s", r.err, r.stderr.String())
		}
		r.line = l
		if !strings.HasPrefix(l, "mounted ") {
			return fmt.Errorf("airnef-mount printed %q, want \"mounted ...\"", l)
		}
		return nil
	case <-time.After(d):
		return fmt.Errorf("airnef-mount did not mount within %v; stderr:\n%s", d, r.stderr.String())
	}
}

// stop ends the process if it still runs: SIGTERM, then SIGKILL.
func (r *mountRun) stop() {
	select {
	case <-r.done:
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(15 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
}

// exitCode waits (bounded) for the process to exit and returns its status.
func (r *mountRun) exitCode(d time.Duration) int {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(d):
		r.t.Fatalf("airnef-mount still running after %v; stderr:\n%s", d, r.stderr.String())
	}
	if r.err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(r.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	r.t.Fatalf("airnef-mount: %v", r.err)
	return -1
}

// mountIsMounted reports whether mnt is a mount point in
// /proc/self/mountinfo.
func mountIsMounted(t *testing.T, mnt string) bool {
	_, ok := mountInfo(t, mnt)
	return ok
}

// mountInfo returns the mountinfo fields of the mount at mnt.
func mountInfo(t *testing.T, mnt string) ([]string, bool) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 5 && mountUnescape(f[4]) == mnt {
			found = f // the last one is on top
		}
	}
	return found, found != nil
}

// mountUnescape undoes mountinfo's octal escapes (\040 for a space).
func mountUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountStorage returns the path of the mount's only storage directory.
func mountStorage(t *testing.T, mnt string) string {
	t.Helper()
	des, err := os.ReadDir(mnt)
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != 1 || !des[0].IsDir() {
		t.Fatalf("mount root holds %v, want one storage directory", des)
	}
	return filepath.Join(mnt, des[0].Name())
}

// mountStats reads /.airnef/stats into a map of counters.
func mountStats(t *testing.T, mnt string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(mnt, ".airnef", "stats"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok {
			m[k] = v
		}
	}
	return m
}

func mountStatInt(t *testing.T, stats map[string]string, key string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(stats[key], 10, 64)
	if err != nil {
		t.Fatalf("stats %q = %q: %v", key, stats[key], err)
	}
	return n
}

// mountWalk lists every regular file under dir: relative path -> info.
func mountWalk(t *testing.T, dir string) map[string]fs.FileInfo {
	t.Helper()
	out := map[string]fs.FileInfo{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = fi
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mountRunCmd runs a command with a time bound and returns its combined
// output, failing the test on error.
func mountRunCmd(t *testing.T, d time.Duration, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// mountVmHWM is the peak resident memory of process pid, in bytes.
func mountVmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(v)
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil || len(f) < 2 || f[1] != "kB" {
				t.Fatalf("VmHWM line %q", l)
			}
			return n << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}
