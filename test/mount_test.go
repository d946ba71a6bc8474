package test

// End-to-end tests of airnef-mount (issue 4): the real binaries, the
// simulator on 127.0.0.1:0, real FUSE mounts, each bounded in time and
// always unmounted. Helpers are in mount_helpers_test.go.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/ptpip"
)

// One mount of a card with JPEGs in nested folders and a big file, probed
// several ways.
func TestMountCard(t *testing.T) {
	mountRequireFUSE(t)
	const bigSize = 5<<20 + 12345
	card, files := mountCard(t, mountCardSpec{jpegs: 12, bigSize: bigSize})
	// Camera and computer in a zone away from UTC: a date read in the
	// wrong zone shows as an mtime hours off.
	const zone = "TZ=America/New_York"
	sim := mountStartSim(t, card, zone)
	mnt := mountDir(t)
	run := mountStartEnv(t, []string{zone}, sim.addr, mnt)
	if want := "mounted airnef-mount CamSim (serial 000000000001) at " + mnt; run.line != want {
		t.Errorf("stdout line %q, want %q", run.line, want)
	}
	storage := mountStorage(t, mnt)
	big := filepath.Join(storage, "DCIM/100TEST/MVI_0001.MOV")

	t.Run("tree", func(t *testing.T) {
		got := mountWalk(t, storage)
		want := mountWalk(t, card)
		if len(got) != len(want) || len(want) != len(files) {
			t.Errorf("mount has %d files, card %d (%d written)", len(got), len(want), len(files))
		}
		for rel, w := range want {
			g, ok := got[rel]
			if !ok {
				t.Errorf("%s missing from the mount", rel)
				continue
			}
			if g.Size() != w.Size() {
				t.Errorf("%s: size %d, want %d", rel, g.Size(), w.Size())
			}
			if g.ModTime().Unix() != w.ModTime().Unix() {
				t.Errorf("%s: mtime %v, want %v", rel, g.ModTime(), w.ModTime())
			}
			if !g.Mode().IsRegular() || g.Sys().(*syscall.Stat_t).Nlink != 1 {
				t.Errorf("%s: mode %v, nlink %d", rel, g.Mode(), g.Sys().(*syscall.Stat_t).Nlink)
			}
		}
		for rel := range got {
			if _, ok := want[rel]; !ok {
				t.Errorf("%s is in the mount but not on the card", rel)
			}
		}
		if fi, err := os.Stat(filepath.Join(storage, "MISC/EMPTY")); err != nil || !fi.IsDir() {
			t.Errorf("empty folder: %v", err)
		}
		// The same inode number for the same file on a second stat.
		a, _ := os.Stat(big)
		b, _ := os.Stat(big)
		if a.Sys().(*syscall.Stat_t).Ino != b.Sys().(*syscall.Stat_t).Ino || a.Sys().(*syscall.Stat_t).Ino < 2 {
			t.Errorf("inode numbers %d, %d", a.Sys().(*syscall.Stat_t).Ino, b.Sys().(*syscall.Stat_t).Ino)
		}
	})

	t.Run("control files hidden", func(t *testing.T) {
		des, err := os.ReadDir(mnt)
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range des {
			if strings.HasPrefix(de.Name(), ".") {
				t.Errorf("root lists %q", de.Name())
			}
		}
		stats := mountStats(t, mnt)
		if n := mountStatInt(t, stats, "objects_listed"); n < int64(len(files)) {
			t.Errorf("objects_listed %d after a walk of %d files", n, len(files))
		}
		if !strings.HasPrefix(stats["session"], "connected") {
			t.Errorf("session %q", stats["session"])
		}
	})

	t.Run("rsync", func(t *testing.T) {
		mountRequireTool(t, "rsync")
		dst := filepath.Join(t.TempDir(), "photos")
		mountRunCmd(t, 2*time.Minute, nil, "rsync", "-a", storage+"/", dst+"/")
		if out, err := exec.Command("diff", "-r", dst, card).CombinedOutput(); err != nil || len(out) != 0 {
			t.Fatalf("diff -r after rsync -a: %v\n%s", err, out)
		}
		out := mountRunCmd(t, time.Minute, nil, "rsync", "-a", "--itemize-changes", storage+"/", dst+"/")
		if strings.TrimSpace(out) != "" {
			t.Fatalf("a second rsync -a transferred:\n%s", out)
		}
	})

	t.Run("read-only", func(t *testing.T) {
		f, ok := mountInfo(t, mnt)
		if !ok {
			t.Fatal("not in mountinfo")
		}
		if opts := strings.Split(f[5], ","); opts[0] != "ro" {
			t.Errorf("mount options %q, want ro", f[5])
		}
		jpg := filepath.Join(storage, files[0].rel)
		checks := map[string]error{}
		_, checks["open for writing"] = os.OpenFile(jpg, os.O_WRONLY, 0)
		_, checks["create"] = os.Create(filepath.Join(storage, "new.JPG"))
		checks["mkdir"] = os.Mkdir(filepath.Join(storage, "NEW"), 0o755)
		checks["remove"] = os.Remove(jpg)
		checks["rename"] = os.Rename(jpg, jpg+".x")
		checks["chmod"] = os.Chmod(jpg, 0o600)
		checks["truncate"] = os.Truncate(jpg, 0)
		for what, err := range checks {
			if !errors.Is(err, syscall.EROFS) {
				t.Errorf("%s: %v, want EROFS", what, err)
			}
		}
	})

	t.Run("random reads", func(t *testing.T) {
		f, err := os.Open(big)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(g), 99))
				for range 60 {
					off := r.Int64N(bigSize + 1000)
					buf := make([]byte, 1+r.IntN(300000))
					n, err := f.ReadAt(buf, off)
					if err != nil && !(errors.Is(err, io.EOF) && off+int64(len(buf)) > bigSize) {
						errs <- fmt.Errorf("read %d at %d: %v", len(buf), off, err)
						return
					}
					if want := max(0, min(int64(len(buf)), bigSize-off)); int64(n) != want {
						errs <- fmt.Errorf("read %d at %d: %d bytes, want %d", len(buf), off, n, want)
						return
					}
					for i := range n {
						if buf[i] != mountPatternByte(off+int64(i)) {
							errs <- fmt.Errorf("read at %d: byte %d differs", off, off+int64(i))
							return
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	t.Run("fio", func(t *testing.T) {
		fio := mountRequireTool(t, "fio")
		out := mountRunCmd(t, time.Minute, nil, fio, "--name=airnef", "--readonly", "--rw=randread",
			"--filename="+big, "--bs=4k", fmt.Sprintf("--size=%d", bigSize/4096*4096), "--runtime=3",
			"--ioengine=psync", "--verify=0")
		if !strings.Contains(out, "err= 0") {
			t.Errorf("fio reported errors:\n%s", out)
		}
	})

	// SIGINT unmounts and exits 0.
	run.cmd.Process.Signal(os.Interrupt)
	if code := run.exitCode(30 * time.Second); code != 0 {
		t.Errorf("exit status after SIGINT: %d, want 0", code)
	}
	if mountIsMounted(t, mnt) {
		t.Error("still mounted after SIGINT")
	}
}

// --camera-tz: a camera whose clock runs in another zone than the computer.
func TestMountCameraTZ(t *testing.T) {
	mountRequireFUSE(t)
	card, files := mountCard(t, mountCardSpec{jpegs: 3})
	sim := mountStartSim(t, card, "TZ=Asia/Tokyo")
	mnt := mountDir(t)
	mountStartEnv(t, []string{"TZ=Europe/Paris"}, sim.addr, mnt, "--camera-tz", "Asia/Tokyo")
	storage := mountStorage(t, mnt)
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(storage, f.rel))
		if err != nil {
			t.Fatal(err)
		}
		if fi.ModTime().Unix() != f.mtime.Unix() {
			t.Errorf("%s: mtime %v, want %v", f.rel, fi.ModTime(), f.mtime)
		}
	}
}

// The same JPEG set, sizes and bytes as gphotofs sees on the same simulator.
func TestMountDifferentialGphotofs(t *testing.T) {
	mountRequireFUSE(t)
	gphotofs := mountRequireTool(t, "gphotofs")
	card, _ := mountCard(t, mountCardSpec{jpegs: 9})
	sim := mountStartSim(t, card)

	// JPEG files by path below the storage directory: size and hash.
	type sum struct {
		size int64
		hash [32]byte
	}
	jpegs := func(t *testing.T, storage string) map[string]sum {
		out := map[string]sum{}
		for rel, fi := range mountWalk(t, storage) {
			if !strings.EqualFold(filepath.Ext(rel), ".jpg") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(storage, rel))
			if err != nil {
				t.Fatal(err)
			}
			out[rel] = sum{fi.Size(), sha256.Sum256(b)}
		}
		return out
	}

	mnt := mountDir(t)
	run := mountStart(t, sim.addr, mnt)
	ours := jpegs(t, mountStorage(t, mnt))
	run.cmd.Process.Signal(syscall.SIGTERM)
	if code := run.exitCode(30 * time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}

	gmnt := mountDir(t)
	home := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := exec.CommandContext(ctx, gphotofs, "--port=ptpip:127.0.0.1:"+sim.port+":"+sim.port, "--camera=PTP/IP Camera", gmnt, "-f")
	g.Env = append(os.Environ(), "HOME="+home)
	var glog mountLockedBuffer
	g.Stdout, g.Stderr = &glog, &glog
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	gdone := make(chan struct{})
	go func() { g.Wait(); close(gdone) }()
	t.Cleanup(func() {
		exec.Command("fusermount3", "-u", gmnt).Run()
		select {
		case <-gdone:
		case <-time.After(10 * time.Second):
			cancel()
			<-gdone
		}
		if t.Failed() {
			t.Logf("gphotofs output:\n%s", glog.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !mountIsMounted(t, gmnt) {
		if time.Now().After(deadline) {
			t.Fatalf("gphotofs did not mount within 30s:\n%s", glog.String())
		}
		select {
		case <-gdone:
			t.Fatalf("gphotofs exited:\n%s", glog.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	des, err := os.ReadDir(gmnt)
	if err != nil {
		t.Fatal(err)
	}
	var stores []string
	for _, de := range des {
		if strings.HasPrefix(de.Name(), "store_") {
			stores = append(stores, de.Name())
		}
	}
	if len(stores) != 1 {
		t.Fatalf("gphotofs root holds %v, want one store_XXXXXXXX", des)
	}
	theirs := jpegs(t, filepath.Join(gmnt, stores[0]))
	if len(theirs) == 0 || len(theirs) != len(ours) {
		t.Errorf("JPEGs: gphotofs %d, airnef-mount %d", len(theirs), len(ours))
	}
	var paths []string
	for p := range theirs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if o, ok := ours[p]; !ok {
			t.Errorf("%s: in gphotofs, not in airnef-mount", p)
		} else if o != theirs[p] {
			th := theirs[p]
			t.Errorf("%s: airnef-mount %d bytes %x, gphotofs %d bytes %x", p, o.size, o.hash[:6], th.size, th.hash[:6])
		}
	}
}

// With the camera gone (silent, then dead), listed folders still answer,
// reads of uncached data fail with EIO within --timeout, and both an
// external unmount and SIGTERM end airnef-mount with status 0.
func TestMountCameraGone(t *testing.T) {
	mountRequireFUSE(t)
	for _, how := range []string{"fusermount3 -u", "SIGTERM"} {
		t.Run(how, func(t *testing.T) {
			card, files := mountCard(t, mountCardSpec{jpegs: 6, bigSize: 3 << 20})
			sim := mountStartSim(t, card)
			mnt := mountDir(t)
			const timeout = 2 * time.Second
			run := mountStart(t, sim.addr, mnt, "--timeout", timeout.String(), "--block-size", "128KiB")
			storage := mountStorage(t, mnt)
			listed := mountWalk(t, storage)
			first := filepath.Join(storage, files[0].rel)
			want, err := os.ReadFile(first)
			if err != nil {
				t.Fatal(err)
			}

			// A camera that stops answering (out of range) ...
			if err := sim.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			again := mountWalk(t, storage)
			if len(again) != len(listed) {
				t.Errorf("listed tree with the camera silent: %d files, want %d", len(again), len(listed))
			}
			if got, err := os.ReadFile(first); err != nil || !bytes.Equal(got, want) {
				t.Errorf("re-reading a read file with the camera silent: %v", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("answers from memory took %v", d)
			}
			f, err := os.Open(filepath.Join(storage, files[len(files)-1].rel))
			if err != nil {
				t.Fatal(err)
			}
			start = time.Now()
			_, err = f.ReadAt(make([]byte, 4096), 2<<20)
			f.Close()
			if !errors.Is(err, syscall.EIO) {
				t.Errorf("uncached read with the camera silent: %v, want EIO", err)
			}
			if d := time.Since(start); d > timeout+3*time.Second {
				t.Errorf("the failing read took %v with --timeout %v", d, timeout)
			}
			// ... and then is gone for good.
			sim.cmd.Process.Kill()
			sim.cmd.Process.Signal(syscall.SIGCONT)
			<-sim.done

			if how == "SIGTERM" {
				run.cmd.Process.Signal(syscall.SIGTERM)
			} else {
				mountRunCmd(t, 20*time.Second, nil, "fusermount3", "-u", mnt)
			}
			if code := run.exitCode(30 * time.Second); code != 0 {
				t.Errorf("exit status %d, want 0; stderr:\n%s", code, run.stderr.String())
			}
			if mountIsMounted(t, mnt) {
				t.Error("still mounted")
			}
		})
	}
}

// A killed airnef-mount leaves a mount that umount cleans, and a restart
// on such a stale mount point cleans it itself and mounts.
func TestMountKilled(t *testing.T) {
	mountRequireFUSE(t)
	card, _ := mountCard(t, mountCardSpec{jpegs: 3})
	sim := mountStartSim(t, card)
	mnt := mountDir(t)

	kill := func(r *mountRun) {
		t.Helper()
		r.cmd.Process.Kill()
		if code := r.exitCode(10 * time.Second); code != 128+int(syscall.SIGKILL) {
			t.Fatalf("exit status %d after SIGKILL", code)
		}
		// statfs always reaches the server (stat may be answered from
		// the kernel's attribute cache).
		var st syscall.Statfs_t
		if err := syscall.Statfs(mnt, &st); !errors.Is(err, syscall.ENOTCONN) {
			t.Fatalf("statfs of the dead mount: %v, want ENOTCONN", err)
		}
	}

	// Inode numbers of every file and folder, to compare across remounts.
	inodes := func() map[string]uint64 {
		m := map[string]uint64{}
		err := filepath.WalkDir(mnt, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			m[p] = fi.Sys().(*syscall.Stat_t).Ino
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	first := mountStart(t, sim.addr, mnt)
	before := inodes()
	kill(first)
	mountRunCmd(t, 20*time.Second, nil, "umount", mnt)
	if mountIsMounted(t, mnt) {
		t.Fatal("umount left the dead mount")
	}

	kill(mountStart(t, sim.addr, mnt))
	run := mountStart(t, sim.addr, mnt)
	if !strings.Contains(run.stderr.String(), "stale mount") {
		t.Errorf("no message about the stale mount; stderr:\n%s", run.stderr.String())
	}
	if strings.Contains(run.stderr.String(), "level=ERROR") {
		t.Errorf("the stale mount was reported as an error:\n%s", run.stderr.String())
	}
	after := inodes()
	if len(after) != len(before) || len(before) < 5 {
		t.Errorf("remount shows %d entries, first mount %d", len(after), len(before))
	}
	for p, ino := range before {
		if p != mnt && after[p] != ino {
			t.Errorf("%s: inode %d, after a remount %d", p, ino, after[p])
		}
	}
	run.cmd.Process.Signal(syscall.SIGTERM)
	if code := run.exitCode(30 * time.Second); code != 0 {
		t.Errorf("exit status %d", code)
	}
}

// SIGTERM with a file still open but no read in progress: the mount goes
// at once and airnef-mount ends without waiting for the file to be closed
// (stop means stop); the open file's next read fails.
func TestMountBusyUnmount(t *testing.T) {
	mountRequireFUSE(t)
	card, files := mountCard(t, mountCardSpec{jpegs: 2})
	sim := mountStartSim(t, card)
	mnt := mountDir(t)
	run := mountStart(t, sim.addr, mnt)
	f, err := os.Open(filepath.Join(mountStorage(t, mnt), files[0].rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run.cmd.Process.Signal(syscall.SIGTERM)
	if code := run.exitCode(15 * time.Second); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if mountIsMounted(t, mnt) {
		t.Error("still mounted after airnef-mount ended")
	}
	if _, err := io.ReadAll(f); err == nil {
		t.Error("reading the open file after the stop succeeded")
	} else {
		t.Logf("reading the open file after the stop: %v", err)
	}
	if !strings.Contains(run.stderr.String(), "unmounting") {
		t.Errorf("no word about unmounting:\n%s", run.stderr.String())
	}
}

// Exit statuses: 1 when no camera answers, 2 on misuse, 3 when the camera
// refuses this computer; each with a sentence on stderr.
func TestMountExitStatus(t *testing.T) {
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	mnt := t.TempDir()
	tests := map[string]struct {
		addr string
		args []string
		mnt  string
		code int
		say  string
	}{
		"no camera":          {addr: closed, mnt: mnt, code: 1, say: "(connection refused)"},
		"unknown flag":       {addr: closed, args: []string{"--bogus"}, mnt: mnt, code: 2, say: "usage: airnef-mount"},
		"no mount point":     {addr: closed, code: 2, say: "no mount point"},
		"exec without wait":  {addr: closed, args: []string{"--exec", "true"}, mnt: mnt, code: 2, say: "give --wait too"},
		"bad block size":     {addr: closed, args: []string{"--block-size", "100KiB"}, mnt: mnt, code: 2, say: "multiple of 128KiB"},
		"bad cache size":     {addr: closed, args: []string{"--cache-size", "lots"}, mnt: mnt, code: 2, say: "not a size"},
		"bad debug":          {addr: closed, args: []string{"--debug", "ptp,wifi"}, mnt: mnt, code: 2, say: "unknown subsystem"},
		"missing mountpoint": {addr: closed, mnt: filepath.Join(mnt, "nope"), code: 2, say: "create the directory"},
		"init fail":          {addr: mountInitFailCamera(t), mnt: mnt, code: 3, say: "refused this computer"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// A refusal looks for the camera's announcement: not on this
			// machine's network (an interface that does not exist).
			r := mountLaunch(t, tc.addr, tc.mnt, append(tc.args, "--connect-timeout", "10s", "--ssdp-interface", "no-such-if")...)
			if code := r.exitCode(30 * time.Second); code != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tc.code, r.stderr.String())
			}
			if !strings.Contains(r.stderr.String(), tc.say) {
				t.Errorf("stderr lacks %q:\n%s", tc.say, r.stderr.String())
			}
		})
	}
}

// mountInitFailCamera is a fake camera that answers every Init Command
// Request with Init Fail (rejected initiator), like an unpaired Sony.
func mountInitFailCamera(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				p, err := ptpip.ReadPacket(c, 1<<16)
				if err != nil {
					return
				}
				if _, ok := p.(*ptpip.InitCommandRequest); !ok {
					return
				}
				ptpip.WritePacket(c, &ptpip.InitFail{Reason: ptpip.FailRejectedInitiator})
			})
		}
	})
	return ln.Addr().String()
}

// 16 readers of one file: one camera fetch per block. The readers use
// O_DIRECT, so the kernel's page cache does not merge their reads: every
// read reaches airnef-mount, and only its block cache can dedup them.
func TestMountConcurrentReaders(t *testing.T) {
	mountRequireFUSE(t)
	const size = 6<<20 + 4321
	const block = 1 << 20
	const readers = 16
	card, _ := mountCard(t, mountCardSpec{bigSize: size})
	sim := mountStartSim(t, card)
	mnt := mountDir(t)
	mountStart(t, sim.addr, mnt, "--block-size", "1MiB")
	path := filepath.Join(mountStorage(t, mnt), "DCIM/100TEST/MVI_0001.MOV")

	want := sha256.New()
	io.Copy(want, io.LimitReader(&mountPatternReader{}, size))
	var wg sync.WaitGroup
	sums := make([][]byte, readers)
	start := make(chan struct{})
	for i := range sums {
		wg.Go(func() {
			f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECT, 0)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			<-start
			h := sha256.New()
			// Large Go allocations are page-aligned, as O_DIRECT wants.
			buf := make([]byte, 128<<10)
			if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, buf); err != nil {
				t.Error(err)
				return
			}
			sums[i] = h.Sum(nil)
		})
	}
	close(start)
	wg.Wait()
	for i, s := range sums {
		if !bytes.Equal(s, want.Sum(nil)) {
			t.Errorf("reader %d: wrong bytes", i)
		}
	}
	stats := mountStats(t, mnt)
	blocks := int64((size + block - 1) / block)
	if got := mountStatInt(t, stats, "bytes_from_camera"); got != size {
		t.Errorf("bytes_from_camera %d, want the file size %d", got, size)
	}
	// Each byte came once (above), in requests of whole blocks.
	if got := mountStatInt(t, stats, "fetches"); got < 1 || got > blocks {
		t.Errorf("fetches %d, want 1 to %d (one request per block at most)", got, blocks)
	}
	// The dedup was exercised: the readers' requests reached the cache.
	touched := mountStatInt(t, stats, "hits") + mountStatInt(t, stats, "waits") + mountStatInt(t, stats, "misses")
	if touched < readers*blocks {
		t.Errorf("the cache saw %d block reads, want at least %d (16 readers x %d blocks)", touched, readers*blocks, blocks)
	}
	t.Logf("cache: hits %s, waits %s, misses %s, fetches %s", stats["hits"], stats["waits"], stats["misses"], stats["fetches"])
}

// Memory stays bounded while copying an object much larger than the cache.
func TestMountMemoryBounded(t *testing.T) {
	mountRequireFUSE(t)
	if testing.Short() {
		t.Skip("copies 320 MiB")
	}
	const size = 320 << 20
	const cacheSize = 64 << 20
	card, _ := mountCard(t, mountCardSpec{bigSize: size})
	sim := mountStartSim(t, card)
	mnt := mountDir(t)
	run := mountStart(t, sim.addr, mnt, "--cache-size", "64MiB")
	path := filepath.Join(mountStorage(t, mnt), "DCIM/100TEST/MVI_0001.MOV")

	want := sha256.New()
	io.Copy(want, io.LimitReader(&mountPatternReader{}, size))
	done := make(chan error, 1)
	got := sha256.New()
	go func() {
		f, err := os.Open(path)
		if err != nil {
			done <- err
			return
		}
		defer f.Close()
		n, err := io.Copy(got, f)
		if err == nil && n != size {
			err = fmt.Errorf("copied %d bytes, want %d", n, size)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("copying 320 MiB took over 3 minutes")
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatal("copied bytes differ")
	}
	hwm := mountVmHWM(t, run.cmd.Process.Pid)
	t.Logf("peak RSS %d MiB copying %d MiB with a %d MiB cache", hwm>>20, size>>20, cacheSize>>20)
	if limit := int64(cacheSize + 100<<20); hwm > limit {
		t.Errorf("peak RSS %d MiB, want under %d MiB", hwm>>20, limit>>20)
	}
	stats := mountStats(t, mnt)
	if n := mountStatInt(t, stats, "bytes_from_camera"); n < size {
		t.Errorf("bytes_from_camera %d < size", n)
	}
}
