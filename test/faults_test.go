package test

// Faults injected through the simulator (AccessDenied, StoreNotAvailable,
// a deletion mid-read, a connection cut after N bytes) and, for a silent
// stall between airnef-mount and the camera, through a loopback relay
// that the test pauses (faultProxy). Each test bounds its waits at five times what
// they should take. Helpers start with "fault".

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
)

// faultTimeout is the --timeout of the fault tests' mounts.
const faultTimeout = 2 * time.Second

// faultSim starts an in-process camera and returns it with its address.
func faultSim(t *testing.T, cfg camsim.Config) (*camsim.Camera, string) {
	t.Helper()
	cam, port := simStart(t, cfg)
	return cam, net.JoinHostPort("127.0.0.1", port)
}

// faultCard is a generated card of a few photos, one of them large enough
// that reading it takes many blocks.
func faultCard() *camsim.CardSpec {
	return &camsim.CardSpec{Photos: 6, Seed: 7, Size: 2 << 20, Folders: 2}
}

// faultFiles returns the card's files (not folders) and their bytes, from
// the generator.
func faultFiles(t *testing.T, cam *camsim.Camera) ([]camsim.File, map[string][]byte) {
	t.Helper()
	var files []camsim.File
	data := map[string][]byte{}
	for _, f := range cam.Files() {
		if !f.Dir {
			files = append(files, f)
			data[f.Path] = simBytes(t, cam, f)
		}
	}
	if len(files) < 4 {
		t.Fatalf("card has %d files", len(files))
	}
	return files, data
}

// faultTimed runs f and fails the test if it takes longer than bound.
func faultTimed(t *testing.T, what string, bound time.Duration, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- f() }()
	select {
	case err := <-done:
		t.Logf("%s: %v after %v", what, err, time.Since(start).Round(time.Millisecond))
		return err
	case <-time.After(bound):
		t.Fatalf("%s: no answer within %v (hang)", what, bound)
		return nil
	}
}

// faultRead reads a whole file through the mount.
func faultRead(path string) ([]byte, error) { return os.ReadFile(path) }

// faultCheck reads path and compares its sha256 with want's.
func faultCheck(path string, want []byte) error {
	got, err := faultRead(path)
	if err != nil {
		return err
	}
	if sha256.Sum256(got) != sha256.Sum256(want) {
		return fmt.Errorf("%s: %d bytes, sha256 differs from the card's", path, len(got))
	}
	return nil
}

// faultEventually retries f until it succeeds or bound passes.
func faultEventually(t *testing.T, what string, bound time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(bound)
	start := time.Now()
	for {
		err := f()
		if err == nil {
			t.Logf("%s after %v", what, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, bound, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// faultSession is the session line of /.airnef/stats.
func faultSession(t *testing.T, mnt string) string {
	t.Helper()
	return mountStats(t, mnt)["session"]
}

func faultIsErrno(err error, e syscall.Errno) bool { return errors.Is(err, e) }

// AccessDenied for one object: its reads fail with EACCES at once, the other
// files read correctly, the session stays; once the camera allows it, it
// reads correctly.
func TestFaultAccessDenied(t *testing.T) {
	mountRequireFUSE(t)
	cam, addr := faultSim(t, camsim.Config{Generate: faultCard()})
	files, data := faultFiles(t, cam)
	denied := files[1]
	if a := cam.Control("deny " + denied.Path); !strings.HasPrefix(a, "ok") {
		t.Fatal(a)
	}
	mnt := mountDir(t)
	mountStart(t, addr, mnt, "--timeout", faultTimeout.String())
	storage := mountStorage(t, mnt)

	err := faultTimed(t, "read of the denied file", 5*faultTimeout, func() error {
		_, err := faultRead(filepath.Join(storage, denied.Path))
		return err
	})
	if !faultIsErrno(err, syscall.EACCES) {
		t.Errorf("denied read: %v, want EACCES", err)
	}
	for _, f := range []camsim.File{files[0], files[2]} {
		if err := faultCheck(filepath.Join(storage, f.Path), data[f.Path]); err != nil {
			t.Error(err)
		}
	}
	if s := faultSession(t, mnt); !strings.HasPrefix(s, "connected") {
		t.Errorf("session %q after AccessDenied, want connected", s)
	}
	if a := cam.Control("deny off"); !strings.HasPrefix(a, "ok") {
		t.Fatal(a)
	}
	if err := faultCheck(filepath.Join(storage, denied.Path), data[denied.Path]); err != nil {
		t.Errorf("after deny off: %v", err)
	}
	if n := cam.Inits(); n != 1 {
		t.Errorf("%d Init Command Requests, want 1: the session must not be torn down", n)
	}
}

// StoreNotAvailable (low battery): uncached reads and unlisted folders
// fail with EIO at once, what is listed stays listable and cached bytes
// readable; after store-back every file reads correctly, on the same
// session.
func TestFaultStoreNotAvailable(t *testing.T) {
	mountRequireFUSE(t)
	cam, addr := faultSim(t, camsim.Config{Generate: faultCard()})
	files, data := faultFiles(t, cam)
	mnt := mountDir(t)
	mountStart(t, addr, mnt, "--timeout", faultTimeout.String(), "--block-size", "128KiB")
	storage := mountStorage(t, mnt)
	listed := mountWalk(t, storage)
	first := filepath.Join(storage, files[0].Path)
	if err := faultCheck(first, data[files[0].Path]); err != nil {
		t.Fatal(err)
	}

	if a := cam.Control("store-gone"); a != "ok store-gone" {
		t.Fatal(a)
	}
	err := faultTimed(t, "uncached read with the store gone", 5*faultTimeout, func() error {
		_, err := faultRead(filepath.Join(storage, files[3].Path))
		return err
	})
	if !faultIsErrno(err, syscall.EIO) {
		t.Errorf("read with the store gone: %v, want EIO", err)
	}
	if again := mountWalk(t, storage); len(again) != len(listed) {
		t.Errorf("listed tree with the store gone: %d files, want %d", len(again), len(listed))
	}
	if err := faultCheck(first, data[files[0].Path]); err != nil {
		t.Errorf("a file read before, with the store gone: %v", err)
	}
	if s := faultSession(t, mnt); !strings.HasPrefix(s, "connected") {
		t.Errorf("session %q with the store gone, want connected", s)
	}

	if a := cam.Control("store-back"); a != "ok store-back" {
		t.Fatal(a)
	}
	for _, f := range files {
		if err := faultCheck(filepath.Join(storage, f.Path), data[f.Path]); err != nil {
			t.Errorf("after store-back: %v", err)
		}
	}
	if n := cam.Inits(); n != 1 {
		t.Errorf("%d Init Command Requests, want 1", n)
	}
}

// An object deleted on the camera while it is being read: the reader gets
// ENOENT once the next block is asked for (the block in flight completes:
// its length was promised), other files keep reading, the session stays.
// What the kernel keeps is described in the log at the end.
func TestFaultDeletedMidRead(t *testing.T) {
	mountRequireFUSE(t)
	// 4 MB/s: a 2 MiB file takes half a second, 128 KiB blocks 30 ms.
	cam, addr := faultSim(t, camsim.Config{Generate: faultCard(), Rate: 4 << 20})
	files, data := faultFiles(t, cam)
	victim, other := files[2], files[3]
	mnt := mountDir(t)
	mountStart(t, addr, mnt, "--timeout", faultTimeout.String(), "--block-size", "128KiB")
	storage := mountStorage(t, mnt)
	path := filepath.Join(storage, victim.Path)

	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 128<<10)
	if _, err := io.ReadFull(f, buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, data[victim.Path][:len(buf)]) {
		t.Fatal("first block differs")
	}
	if a := cam.Control("delete " + victim.Path); !strings.HasPrefix(a, "ok") {
		t.Fatal(a)
	}
	var readErr error
	got := len(buf)
	faultTimed(t, "reading on after the delete", 5*faultTimeout, func() error {
		for {
			n, err := f.Read(buf)
			if n > 0 && !bytes.Equal(buf[:n], data[victim.Path][got:got+n]) {
				readErr = fmt.Errorf("wrong bytes at %d", got)
				return readErr
			}
			got += n
			if err != nil {
				readErr = err
				return err
			}
		}
	})
	if !faultIsErrno(readErr, syscall.ENOENT) {
		t.Errorf("reading the deleted file on: %v after %d bytes, want ENOENT", readErr, got)
	}
	if got >= len(data[victim.Path]) {
		t.Errorf("read the whole deleted file (%d bytes)", got)
	}
	if err := faultCheck(filepath.Join(storage, other.Path), data[other.Path]); err != nil {
		t.Errorf("another file after the delete: %v", err)
	}
	if s := faultSession(t, mnt); !strings.HasPrefix(s, "connected") {
		t.Errorf("session %q after the delete, want connected", s)
	}
	if n := cam.Inits(); n != 1 {
		t.Errorf("%d Init Command Requests, want 1: the session must not be torn down", n)
	}
	// A new open of the deleted file: the kernel may still know the entry
	// (entry and attribute timeouts are long), but no byte comes back.
	_, statErr := os.Stat(path)
	_, err = faultRead(path)
	if !faultIsErrno(err, syscall.ENOENT) {
		t.Errorf("reading the deleted file again: %v, want ENOENT", err)
	}
	t.Logf("after the delete: stat %v; a new read %v", statErr, err)
}

// The connection dropped before `cp -r` reached a folder (a WiFi blip): the
// folder was never listed, and listing it while the camera is away waits
// for the reconnection and lists it in the new session, as a read waits,
// rather than failing with EIO; the stats count the listing.
func TestFaultListingAcrossDrop(t *testing.T) {
	mountRequireFUSE(t)
	// Ten folders: the warm listing lists eight of DCIM's.
	cam, addr := faultSim(t, camsim.Config{Generate: &camsim.CardSpec{Photos: 10, Seed: 7, Size: 256 << 10, Folders: 10}})
	mnt := mountDir(t)
	mountStart(t, addr, mnt, "--timeout", (3 * faultTimeout).String())
	storage := mountStorage(t, mnt)
	folders, err := os.ReadDir(filepath.Join(storage, "DCIM"))
	if err != nil || len(folders) != 10 {
		t.Fatalf("DCIM: %d folders, %v; want 10", len(folders), err)
	}
	last := "DCIM/" + folders[len(folders)-1].Name()
	var want []string
	for _, f := range cam.Files() {
		if dir, name := path.Split(f.Path); dir == last+"/" {
			want = append(want, name)
		}
	}
	if len(want) == 0 {
		t.Fatalf("the card has no file in %s", last)
	}
	if a := cam.Control("drop"); !strings.Contains(a, "dropped") {
		t.Fatal(a)
	}
	// airnef-mount dials again after 1 s: list while it is away.
	deadline := time.Now().Add(10 * faultTimeout)
	for strings.HasPrefix(faultSession(t, mnt), "connected") {
		if time.Now().After(deadline) {
			t.Fatal("the mount never noticed the drop")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var got []string
	faultTimed(t, "listing an unlisted folder across the drop", 10*faultTimeout, func() error {
		des, err := os.ReadDir(filepath.Join(storage, last))
		if err != nil {
			t.Errorf("listing %s across the drop: %v", last, err)
		}
		for _, de := range des {
			got = append(got, de.Name())
		}
		return err
	})
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s listed %q, want %q", last, got, want)
	}
	st := mountStats(t, mnt)
	if mountStatInt(t, st, "reconnections") < 1 || mountStatInt(t, st, "listings_resumed") < 1 {
		t.Errorf("stats: reconnections %s, listings_resumed %s; want both >= 1", st["reconnections"], st["listings_resumed"])
	}
}

// The connection cut after N bytes, inside a read, and the camera answering
// again at once (a WiFi blip): the read waits for the reconnection and goes
// on byte-exact, so a `cp -r` across the cut succeeds with every byte equal;
// listed folders stay listable meanwhile, and the stats count the
// reconnection and the resumed read.
func TestFaultDropAfter(t *testing.T) {
	mountRequireFUSE(t)
	cam, addr := faultSim(t, camsim.Config{Generate: faultCard()})
	files, data := faultFiles(t, cam)
	mnt := mountDir(t)
	mountStart(t, addr, mnt, "--timeout", faultTimeout.String(), "--block-size", "128KiB")
	storage := mountStorage(t, mnt)
	listed := mountWalk(t, storage)

	// 300,000 bytes: inside the third 128 KiB block of the copy.
	if a := cam.Control("drop-after 300000"); !strings.HasPrefix(a, "ok") {
		t.Fatal(a)
	}
	dst := t.TempDir()
	// airnef-mount dials again after 1 s; the read waits up to --timeout.
	faultTimed(t, "cp -r across the cut", 10*faultTimeout, func() error {
		mountRunCmd(t, 10*faultTimeout, nil, "cp", "-r", storage, dst)
		return nil
	})
	if n := cam.Inits(); n < 2 {
		t.Errorf("%d Init Command Requests: no reconnect", n)
	}
	copied := filepath.Join(dst, filepath.Base(storage))
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(copied, f.Path))
		if err != nil {
			t.Error(err)
			continue
		}
		if sha256.Sum256(got) != sha256.Sum256(data[f.Path]) {
			t.Errorf("%s: copied %d bytes, sha256 differs from the card's", f.Path, len(got))
		}
	}
	if again := mountWalk(t, storage); len(again) != len(listed) {
		t.Errorf("listed tree after the cut: %d files, want %d", len(again), len(listed))
	}
	st := mountStats(t, mnt)
	if mountStatInt(t, st, "reconnections") < 1 || mountStatInt(t, st, "reads_resumed") < 1 {
		t.Errorf("stats: reconnections %s, reads_resumed %s; want both >= 1", st["reconnections"], st["reads_resumed"])
	}
	for _, f := range files {
		if err := faultCheck(filepath.Join(storage, f.Path), data[f.Path]); err != nil {
			t.Error(err)
		}
	}
}

// faultProxy is a loopback TCP relay to upstream whose traffic the test
// can stop silently (no FIN, no RST: a camera out of WiFi range). Bytes and
// closes held during a stall go on when it ends, as TCP retransmits them.
type faultProxy struct {
	mu    sync.Mutex
	gate  chan struct{} // non-nil during a stall, closed when it ends
	conns []net.Conn
	done  bool
}

func faultStartProxy(t *testing.T, upstream string) (*faultProxy, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		p.done = true
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.resume(t)
		wg.Wait()
	})
	wg.Go(func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				down.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, down, up)
			done := p.done
			p.mu.Unlock()
			if done {
				down.Close()
				up.Close()
				return
			}
			wg.Go(func() { p.pipe(up, down) })
			wg.Go(func() { p.pipe(down, up) })
		}
	})
	return p, ln.Addr().String()
}

// pipe copies src to dst until either fails, then closes both; during a
// stall it holds what it read, and the close, until the stall ends.
func (p *faultProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			p.wait()
			break
		}
	}
	dst.Close()
	src.Close()
}

// wait returns once no stall is in force.
func (p *faultProxy) wait() {
	p.mu.Lock()
	gate := p.gate
	p.mu.Unlock()
	if gate != nil {
		<-gate
	}
}

// stall stops every byte in both directions, without closing anything.
func (p *faultProxy) stall(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate == nil {
		p.gate = make(chan struct{})
	}
}

// resume lets traffic through again.
func (p *faultProxy) resume(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate != nil {
		close(p.gate)
		p.gate = nil
	}
}

// A silent stall between airnef-mount and the camera: a pending read and
// new reads fail with EIO once --timeout passes (bound 5x), listed folders
// stay listable and read files readable; when the link comes back the
// mount continues with sha256-verified reads; and unmount works during a
// stall.
func TestFaultSilentStall(t *testing.T) {
	mountRequireFUSE(t)
	// 8 MB/s, so that a read is in flight when the stall starts.
	cam, camAddr := faultSim(t, camsim.Config{Generate: faultCard(), Rate: 8 << 20})
	files, data := faultFiles(t, cam)
	proxy, addr := faultStartProxy(t, camAddr)
	mnt := mountDir(t)
	run := mountStart(t, addr, mnt, "--timeout", faultTimeout.String(), "--block-size", "128KiB")
	storage := mountStorage(t, mnt)
	listed := mountWalk(t, storage)
	if err := faultCheck(filepath.Join(storage, files[0].Path), data[files[0].Path]); err != nil {
		t.Fatal(err)
	}

	// A pending read: started before the stall, it cannot finish.
	pending := make(chan error, 1)
	started := time.Now()
	go func() { pending <- faultCheck(filepath.Join(storage, files[1].Path), data[files[1].Path]) }()
	time.Sleep(50 * time.Millisecond)
	proxy.stall(t)
	stalled := time.Now()
	select {
	case err := <-pending:
		if time.Since(started) > 5*faultTimeout+time.Second {
			t.Errorf("pending read ended after %v", time.Since(started))
		}
		if !faultIsErrno(err, syscall.EIO) {
			t.Errorf("pending read: %v, want EIO", err)
		}
	case <-time.After(5*faultTimeout + time.Second):
		t.Fatalf("pending read still blocked %v into the stall (--timeout %v)", time.Since(stalled), faultTimeout)
	}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, f := range files[2:] {
		wg.Go(func() {
			err := faultCheck(filepath.Join(storage, f.Path), data[f.Path])
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		})
	}
	faultTimed(t, "new reads during the stall", 5*faultTimeout, func() error {
		wg.Wait()
		return nil
	})
	for _, err := range errs {
		if !faultIsErrno(err, syscall.EIO) {
			t.Errorf("new read during the stall: %v, want EIO", err)
		}
	}
	start := time.Now()
	if again := mountWalk(t, storage); len(again) != len(listed) {
		t.Errorf("listed tree during the stall: %d files, want %d", len(again), len(listed))
	}
	if err := faultCheck(filepath.Join(storage, files[0].Path), data[files[0].Path]); err != nil {
		t.Errorf("a file read before, during the stall: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("answers from memory took %v during the stall", d)
	}

	proxy.resume(t)
	faultEventually(t, "reads after the stall", 30*time.Second, func() error {
		for _, f := range files {
			if err := faultCheck(filepath.Join(storage, f.Path), data[f.Path]); err != nil {
				return err
			}
		}
		return nil
	})

	// Unmount during a stall.
	proxy.stall(t)
	faultTimed(t, "fusermount3 -u during a stall", 25*time.Second, func() error {
		mountRunCmd(t, 20*time.Second, nil, "fusermount3", "-u", mnt)
		return nil
	})
	if code := run.exitCode(5 * (faultTimeout + 4*time.Second)); code != 0 {
		t.Errorf("exit status %d after unmounting during a stall", code)
	}
	if mountIsMounted(t, mnt) {
		t.Error("still mounted")
	}
}

// An unmount while a reconnection re-lists the card (a slow camera, many
// folders listed) is noticed at once: the re-listing runs off the serve
// loop, so fusermount3 -u returns within a second and the mount ends.
func TestFaultUnmountDuringRelisting(t *testing.T) {
	mountRequireFUSE(t)
	// A Nikon lists one GetObjectInfo per object: 60 objects at 100 ms
	// are several seconds of re-listing.
	cam, addr := faultSim(t, camsim.Config{Personality: camsim.Nikon(), Latency: 100 * time.Millisecond,
		Generate: &camsim.CardSpec{Photos: 60, Seed: 7, Size: 256 << 10, Folders: 1}})
	mnt := mountDir(t)
	run := mountStart(t, addr, mnt, "--timeout", faultTimeout.String(), "--metadata-cache=false")
	storage := mountStorage(t, mnt)
	listed := mountWalk(t, storage)
	if a := cam.Control("drop"); !strings.HasPrefix(a, "ok") {
		t.Fatal(a)
	}
	faultEventually(t, "re-listing after the reconnection", 20*time.Second, func() error {
		if s := faultSession(t, mnt); !strings.HasPrefix(s, "reconnecting") {
			return fmt.Errorf("session %q", s)
		}
		return nil
	})
	// Listed folders answer from memory meanwhile.
	start := time.Now()
	if again := mountWalk(t, storage); len(again) != len(listed) {
		t.Errorf("listed tree during the re-listing: %d files, want %d", len(again), len(listed))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("listing listed folders during the re-listing took %v", d)
	}
	start = time.Now()
	mountRunCmd(t, 10*time.Second, nil, "fusermount3", "-u", mnt)
	if d := time.Since(start); d > time.Second {
		t.Errorf("fusermount3 -u during the re-listing took %v", d)
	}
	if code := run.exitCode(3 * (faultTimeout + 4*time.Second)); code != 0 {
		t.Errorf("exit status %d after unmounting during the re-listing", code)
	}
	if mountIsMounted(t, mnt) {
		t.Error("still mounted")
	}
}
