//go:build soak

package test

// The soak test of issue 19 (make soak; not in CI): for SOAK_DURATION
// (default 30 minutes) readers verify every byte of files chosen in turn,
// walkers list the card, new photos arrive (one at a time and in floods
// that overflow the event queue), and the camera drops its connections
// (all of them, mid-read after N bytes, or only the event connection),
// with airnef-mount and the simulator built with the race detector. At
// the end every file on the card is read and compared, and the live heap
// and resident memory must have stayed bounded.

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
)

// soakFile makes the deterministic bytes of a card file.
func soakFile(seed uint64, size int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, size)
	for i := 0; i+8 <= len(b); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func TestSoak(t *testing.T) {
	mountRequireFUSE(t)
	if os.Getenv("AIRNEF_TEST_RACE") != "1" {
		t.Log("airnef-mount is built without the race detector (make soak sets AIRNEF_TEST_RACE=1)")
	}
	duration := 30 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("SOAK_DURATION")); err == nil && d > 0 {
		duration = d
	}
	const (
		readers   = 4
		cacheSize = 32 << 20
		timeout   = 5 * time.Second
	)
	dir := t.TempDir()
	folders := []string{"DCIM/100SOAK", "DCIM/101SOAK", "DCIM/102SOAK"}
	var mu sync.Mutex
	want := map[string][32]byte{} // card path -> sha256
	var paths []string            // card paths that the mount shows
	write := func(rel string, b []byte) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 36 {
		rel := fmt.Sprintf("%s/DSC%05d.JPG", folders[i%len(folders)], i)
		b := soakFile(uint64(i), 256<<10+i*(100<<10))
		write(rel, b)
		want[rel] = sha256.Sum256(b)
		paths = append(paths, rel)
	}
	cam, port := simStart(t, camsim.Config{Dir: dir, Personality: camsim.Generic(), Rate: 24 << 20})
	mnt := mountDir(t)
	run := mountStart(t, net.JoinHostPort("127.0.0.1", port), mnt,
		"--timeout", timeout.String(), "--cache-size", "32MiB", "--block-size", "128KiB")
	storage := mountStorage(t, mnt)

	var failures atomic.Int64
	var errMu sync.Mutex
	var firstErrs []string
	fail := func(format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		if failures.Add(1) <= 10 {
			errMu.Lock()
			firstErrs = append(firstErrs, time.Now().UTC().Format("15:04:05 ")+msg)
			errMu.Unlock()
		}
		t.Log("failure: " + msg)
	}
	pick := func(r *rand.Rand) (string, [32]byte) {
		mu.Lock()
		defer mu.Unlock()
		p := paths[r.IntN(len(paths))]
		return p, want[p]
	}
	var filesRead, bytesRead, walks, added, floods, drops, dropsAfter, dropsEvents atomic.Int64
	var slowest atomic.Int64 // the longest a new photo took to appear, ns

	start := time.Now()
	stop := make(chan struct{})
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			buf := make([]byte, 256<<10)
			for !stopped() {
				p, sum := pick(rng)
				got, n, err := loadReadAll(filepath.Join(storage, p), buf)
				switch {
				case err != nil:
					fail("read %s: %v", p, err)
				case got != sum:
					fail("read %s: %d bytes, sha256 differs", p, n)
				}
				filesRead.Add(1)
				bytesRead.Add(n)
			}
		})
	}
	wg.Go(func() { // a walker: ls -lR and the stats, twice a second
		for !stopped() {
			err := filepath.WalkDir(storage, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				_, err = os.Lstat(p)
				return err
			})
			if err != nil {
				fail("walk: %v", err)
			}
			if _, err := os.ReadFile(filepath.Join(mnt, ".airnef", "stats")); err != nil {
				fail("stats: %v", err)
			}
			walks.Add(1)
			time.Sleep(500 * time.Millisecond)
		}
	})
	// appear waits for new card paths to show in the mount, then lets the
	// readers read them.
	appear := func(rels []string, since time.Time) {
		for _, rel := range rels {
			shown := false
			for !shown {
				if _, err := os.Stat(filepath.Join(storage, rel)); err == nil {
					shown = true
					break
				}
				if time.Since(since) > 60*time.Second {
					fail("%s not in the mount %v after the camera had it", rel, time.Since(since).Round(time.Second))
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if !shown {
				continue // the final check reads it
			}
			if d := int64(time.Since(since)); d > slowest.Load() {
				slowest.Store(d)
			}
			mu.Lock()
			paths = append(paths, rel)
			mu.Unlock()
		}
	}
	floodEvery := min(5*time.Minute, duration/3)
	wg.Go(func() { // new photos: one every 3 s, a flood of 300 every 5 minutes
		src := filepath.Join(t.TempDir(), "new.jpg")
		next := 1000
		lastFlood := time.Now()
		for !stopped() {
			time.Sleep(3 * time.Second)
			if time.Since(lastFlood) > floodEvery {
				lastFlood = time.Now()
				var rels []string
				for range 300 {
					rel := fmt.Sprintf("%s/FLD%05d.JPG", folders[next%len(folders)], next)
					b := soakFile(uint64(next), 4<<10+next%4096)
					write(rel, b)
					mu.Lock()
					want[rel] = sha256.Sum256(b)
					mu.Unlock()
					rels = append(rels, rel)
					next++
				}
				if err := cam.Rescan(); err != nil {
					fail("rescan: %v", err)
				}
				floods.Add(1)
				appear(rels, time.Now())
				continue
			}
			rel := fmt.Sprintf("%s/NEW%05d.JPG", folders[next%len(folders)], next)
			b := soakFile(uint64(next), 64<<10+next%(512<<10))
			if err := os.WriteFile(src, b, 0o644); err != nil {
				fail("%v", err)
				continue
			}
			mu.Lock()
			want[rel] = sha256.Sum256(b)
			mu.Unlock()
			next++
			if a := cam.Control("add " + src + " " + rel); !strings.HasPrefix(a, "ok ") {
				fail("add %s: %s", rel, a)
				continue
			}
			added.Add(1)
			appear([]string{rel}, time.Now())
		}
	})
	wg.Go(func() { // the camera drops: every 20 to 40 s, one of three kinds
		rng := rand.New(rand.NewPCG(99, 2))
		for !stopped() {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(20+rng.IntN(20)) * time.Second):
			}
			switch k := rng.IntN(4); {
			case k == 0:
				cam.Control("drop-events")
				dropsEvents.Add(1)
			case k == 1:
				cam.Control(fmt.Sprintf("drop-after %d", 100_000+rng.IntN(3_000_000)))
				dropsAfter.Add(1)
			default:
				cam.Control("drop")
				drops.Add(1)
			}
		}
	})

	// Memory, sampled every 30 s once warmed up (the first two minutes).
	type sample struct {
		at  time.Duration
		mem loadMem
	}
	var samples []sample
	tick := time.NewTicker(30 * time.Second)
	for time.Since(start) < duration {
		select {
		case <-tick.C:
		case <-time.After(time.Until(start.Add(duration))):
		}
		if f := faultSession(t, mnt); !strings.HasPrefix(f, "connected") {
			continue // the stats of a mount between sessions still answer, but skip: memory mid-reconnect
		}
		m := loadSample(t, run, mnt)
		samples = append(samples, sample{time.Since(start), m})
		t.Logf("%v: %v; %d files read, %d failures", time.Since(start).Round(time.Second), m, filesRead.Load(), failures.Load())
	}
	tick.Stop()
	close(stop)
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("workers still busy 3 minutes after the end")
	}
	cam.Control("drop-after off")

	// Settle: the session back, then every file on the card read and
	// compared, those the mount shows and those it should.
	faultEventually(t, "the session after the soak", 60*time.Second, func() error {
		if s := faultSession(t, mnt); !strings.HasPrefix(s, "connected") {
			return fmt.Errorf("session %q", s)
		}
		return nil
	})
	var card []string
	for _, f := range cam.Files() {
		if !f.Dir {
			card = append(card, f.Path)
		}
	}
	slices.Sort(card)
	buf := make([]byte, 256<<10)
	var checked, checkedBytes int64
	for _, p := range card {
		sum, ok := want[p]
		if !ok {
			t.Errorf("%s: on the card but not written by the test", p)
			continue
		}
		got, n, err := loadReadAll(filepath.Join(storage, p), buf)
		switch {
		case err != nil:
			t.Errorf("final read %s: %v", p, err)
		case got != sum:
			t.Errorf("final read %s: %d bytes, sha256 differs", p, n)
		}
		checked++
		checkedBytes += n
	}
	st := mountStats(t, mnt)
	end := loadSample(t, run, mnt)
	hwm := mountVmHWM(t, run.cmd.Process.Pid)
	t.Logf("soak of %v: %d files (%d MiB) read and verified, %d walks, %d new photos one by one and %d floods of 300 (slowest to appear %v); drops: %d whole, %d mid-read, %d of the event connection; stats: reconnections %s, reads_resumed %s, resyncs %s, events_dropped %s",
		duration, filesRead.Load(), bytesRead.Load()>>20, walks.Load(), added.Load(), floods.Load(), time.Duration(slowest.Load()).Round(time.Millisecond),
		drops.Load(), dropsAfter.Load(), dropsEvents.Load(), st["reconnections"], st["reads_resumed"], st["resyncs"], st["events_dropped"])
	t.Logf("final check: %d files, %d MiB, every byte compared", checked, checkedBytes>>20)
	if len(samples) > 0 {
		t.Logf("memory: first sample %v; at the end %v; peak RSS %d MiB", samples[0].mem, end, hwm>>20)
	}
	if n := failures.Load(); n > 0 {
		t.Errorf("%d failures during the soak, first: %q", n, firstErrs)
	}
	// The live heap (after a GC) is what a leak grows: bounded by the
	// cache and what is in flight, and no higher in the last samples
	// than in those after the warm-up.
	var early, late int64
	for _, s := range samples {
		switch {
		case s.mem.heapLive > cacheSize+48<<20:
			t.Errorf("live heap %d MiB at %v, above the cache's %d MiB and 48 MiB in flight", s.mem.heapLive>>20, s.at.Round(time.Second), cacheSize>>20)
		}
		if s.at > 2*time.Minute && s.at < duration/3 {
			early = max(early, s.mem.heapLive)
		}
		if s.at > 2*duration/3 {
			late = max(late, s.mem.heapLive)
		}
	}
	if early > 0 && late > early+16<<20 {
		t.Errorf("live heap grew from %d MiB (first third) to %d MiB (last third)", early>>20, late>>20)
	}
	// The race detector's shadow memory is several times the heap: a
	// generous absolute bound on the peak.
	if hwm > 1<<30 {
		t.Errorf("peak RSS %d MiB", hwm>>20)
	}
	if s := run.stderr.String(); strings.Contains(s, "DATA RACE") {
		t.Errorf("the race detector reported a race in airnef-mount")
	}
	if mountStatInt(t, st, "reconnections") == 0 || drops.Load()+dropsAfter.Load() == 0 {
		t.Error("no reconnection: the soak did not drop the camera")
	}
	run.cmd.Process.Signal(syscall.SIGTERM)
	if code := run.exitCode(60 * time.Second); code != 0 {
		t.Errorf("exit status %d", code)
	}
}
