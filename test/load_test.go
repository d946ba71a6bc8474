package test

// Load on one session: 16 parallel readers plus repeated ls -lR-style
// walks and stats for a fixed duration. Helpers start with "load".

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
)

// loadVmRSS is the resident memory of process pid, in bytes.
func loadVmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v)
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil || len(f) < 2 || f[1] != "kB" {
				t.Fatalf("VmRSS line %q", l)
			}
			return n << 10
		}
	}
	t.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

// loadReadAll reads path with O_DIRECT (every read reaches airnef-mount:
// the kernel's page cache would otherwise answer the repeats) and returns
// its sha256.
func loadReadAll(path string, buf []byte) ([32]byte, int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return [32]byte{}, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, struct{ io.Reader }{f}, buf)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n, err
}

// loadMem is airnef-mount's memory and goroutines at one moment.
type loadMem struct {
	rss        int64 // resident memory (VmRSS)
	goroutines int64
	// The runtime's figures (/.airnef/stats): the heap live at the end of
	// the last GC, the heap now (live and garbage), all it holds.
	heapLive, heap, runtime int64
	gcs                     int64 // GC cycles so far
}

func (m loadMem) String() string {
	return fmt.Sprintf("RSS %d MiB, heap live %d MiB, heap %d MiB, runtime %d MiB, %d goroutines",
		m.rss>>20, m.heapLive>>20, m.heap>>20, m.runtime>>20, m.goroutines)
}

// loadSample is airnef-mount's memory and goroutines now.
func loadSample(t *testing.T, run *mountRun, mnt string) loadMem {
	t.Helper()
	st := mountStats(t, mnt)
	return loadMem{
		rss: loadVmRSS(t, run.cmd.Process.Pid), goroutines: mountStatInt(t, st, "goroutines"),
		heapLive: mountStatInt(t, st, "heap_live_bytes"), heap: mountStatInt(t, st, "heap_bytes"),
		runtime: mountStatInt(t, st, "runtime_bytes"), gcs: mountStatInt(t, st, "gc_cycles"),
	}
}

// loadAfterGC samples airnef-mount once a GC has run since after (up to
// 15 s, while the load goes on), so that its live heap is measured under
// the load, not left from an earlier moment.
func loadAfterGC(t *testing.T, run *mountRun, mnt string, after loadMem) loadMem {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		m := loadSample(t, run, mnt)
		if m.gcs > after.gcs || time.Now().After(deadline) {
			return m
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// 16 readers verify every byte of files chosen in turn while walkers list
// the whole tree with stat (ls -lR) and read the stats, for a fixed time,
// on one session, with a cache smaller than the card so that blocks are
// evicted and fetched again. No error, every byte right, and neither
// memory nor goroutines grow between a warmed-up start and the end.
func TestLoad(t *testing.T) {
	mountRequireFUSE(t)
	const (
		duration = 10 * time.Second
		readers  = 16
		walkers  = 2
	)
	cam, addr := faultSim(t, camsim.Config{Generate: &camsim.CardSpec{Photos: 24, Seed: 11, Size: 1 << 20, Folders: 3}})
	want := map[string][32]byte{}
	var paths []string
	for _, f := range cam.Files() {
		if !f.Dir {
			want[f.Path] = sha256.Sum256(simBytes(t, cam, f))
			paths = append(paths, f.Path)
		}
	}
	mnt := mountDir(t)
	run := mountStart(t, addr, mnt, "--cache-size", "16MiB", "--block-size", "256KiB")
	storage := mountStorage(t, mnt)

	var failures atomic.Int64
	var mu sync.Mutex
	var firstErrs []string
	fail := func(format string, a ...any) {
		if failures.Add(1) <= 5 {
			mu.Lock()
			firstErrs = append(firstErrs, fmt.Sprintf(format, a...))
			mu.Unlock()
		}
	}
	readOne := func(i int, buf []byte) int64 {
		p := paths[i%len(paths)]
		sum, n, err := loadReadAll(filepath.Join(storage, p), buf)
		switch {
		case err != nil:
			fail("read %s: %v", p, err)
		case sum != want[p]:
			fail("read %s: %d bytes, sha256 differs", p, n)
		}
		return n
	}
	walkOnce := func() int {
		n := 0
		err := filepath.WalkDir(storage, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if _, err := os.Lstat(p); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			fail("walk: %v", err)
		}
		if _, err := os.ReadFile(filepath.Join(mnt, ".airnef", "stats")); err != nil {
			fail("stats: %v", err)
		}
		return n
	}

	// Warm up: every file once, and a walk, so that the cache is full and
	// airnef-mount's steady state is what the start sample sees.
	buf := make([]byte, 256<<10)
	for i := range paths {
		readOne(i, buf)
	}
	walkOnce()
	if failures.Load() > 0 {
		t.Fatalf("warm-up: %q", firstErrs)
	}
	m0 := loadSample(t, run, mnt)
	g0 := m0.goroutines

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bytesRead, filesRead, walks atomic.Int64
	for r := range readers {
		wg.Go(func() {
			buf := make([]byte, 256<<10)
			for i := r; ; i += readers {
				select {
				case <-stop:
					return
				default:
				}
				bytesRead.Add(readOne(i*7, buf))
				filesRead.Add(1)
			}
		})
	}
	for range walkers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if walkOnce() < len(paths) {
					fail("walk saw fewer entries than the card's %d files", len(paths))
				}
				walks.Add(1)
			}
		})
	}
	time.Sleep(duration / 2)
	mMid := loadAfterGC(t, run, mnt, m0)
	time.Sleep(duration / 2)
	mEnd := loadAfterGC(t, run, mnt, mMid)
	close(stop)
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(5 * 10 * time.Second): // one round of 16 files: a few seconds
		t.Fatal("readers or walkers still busy 50 s after the end of the load")
	}
	t.Logf("%d files (%d MiB) read and verified, %d walks, in %v", filesRead.Load(), bytesRead.Load()>>20, walks.Load(), duration)
	if n := failures.Load(); n > 0 {
		t.Errorf("%d failures, first: %q", n, firstErrs)
	}
	if filesRead.Load() < int64(len(paths)) || walks.Load() < 2 {
		t.Errorf("too little load: %d files, %d walks", filesRead.Load(), walks.Load())
	}

	// go-fuse lets idle request goroutines end; give them a moment.
	var m1 loadMem
	deadline := time.Now().Add(10 * time.Second)
	for {
		m1 = loadSample(t, run, mnt)
		if m1.goroutines <= g0+8 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	rss1, g1 := m1.rss, m1.goroutines
	t.Logf("airnef-mount at the start: %v", m0)
	t.Logf("airnef-mount mid-load:     %v", mMid)
	t.Logf("airnef-mount at the end:   %v", m1)
	if g1 > g0+8 {
		t.Errorf("goroutines grew from %d to %d", g0, g1)
	}
	t.Logf("airnef-mount late in the load: %v", mEnd)
	// What a leak grows is the heap live after a GC, measured here under
	// the load at a GC of each half: bounded by the cache (16 MiB) and
	// what is in flight (fetches, FUSE requests, listings), and not
	// growing from the first half to the second. Resident memory is not
	// that: between GCs the heap holds garbage up to the GC's goal (twice
	// the live heap, GOGC=100), and the runtime returns freed pages
	// lazily, so it peaks near twice the live heap whatever the leak, and
	// the warmed-up start (a GC before the cache filled) is no baseline.
	const cacheSize, inFlight = 16 << 20, 16 << 20
	if mMid.gcs == m0.gcs || mEnd.gcs == mMid.gcs {
		t.Errorf("no GC in a half of the load (cycles %d, %d, %d): the live heap was not measured", m0.gcs, mMid.gcs, mEnd.gcs)
	}
	for _, m := range []loadMem{mMid, mEnd} {
		if m.heapLive > cacheSize+inFlight {
			t.Errorf("live heap %d MiB under load, above the cache's 16 MiB and 16 MiB in flight", m.heapLive>>20)
		}
	}
	if mEnd.heapLive > mMid.heapLive+8<<20 {
		t.Errorf("live heap grew from %d MiB to %d MiB in the second half of the load", mMid.heapLive>>20, mEnd.heapLive>>20)
	}
	if peak := max(rss1, mEnd.rss); peak > 2*(cacheSize+inFlight)+32<<20 {
		t.Errorf("resident memory %d MiB, above twice the live heap's bound and 32 MiB of runtime and program", peak>>20)
	}
	if s := faultSession(t, mnt); !strings.HasPrefix(s, "connected") {
		t.Errorf("session %q after the load", s)
	}
	if n := cam.Inits(); n != 1 {
		t.Errorf("%d Init Command Requests, want one session", n)
	}
}
