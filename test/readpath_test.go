package test

// End-to-end tests of the read path (issue 8): a copy of a folder costs one
// camera request per photo once the link is measured, with the next photo
// prefetched while the copying program moves on; a peek at a file's header
// costs one small request.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"
)

// readpathStartSim is mountStartSim with more flags for the simulator: a
// link model (--rate, --latency) and --debug, so its log names every
// operation. Cleanup stops it.
func readpathStartSim(t *testing.T, dir string, args ...string) *mountSim {
	t.Helper()
	return mountStartSimArgs(t, dir, nil, append([]string{"--debug"}, args...)...)
}

// readpathPartial is one GetPartialObject the simulator served.
type readpathPartial struct {
	handle   int
	off, len int64
}

var readpathPartialRE = regexp.MustCompile(`op=GetPartialObject tid=\d+ params="\[(\d+) (\d+) (\d+)\]" resp=OK`)

// readpathPartials lists the GetPartialObject operations in a simulator log.
func readpathPartials(log string) []readpathPartial {
	var out []readpathPartial
	for _, m := range readpathPartialRE.FindAllStringSubmatch(log, -1) {
		h, _ := strconv.Atoi(m[1])
		off, _ := strconv.ParseInt(m[2], 10, 64)
		n, _ := strconv.ParseInt(m[3], 10, 64)
		out = append(out, readpathPartial{h, off, n})
	}
	return out
}

// readpathWaitPartials returns the GetPartialObject operations in the
// simulator's log once it shows at least n of them (bounded): the simulator
// logs an operation after answering it, and its log reaches the test
// through a pipe, so the last lines may trail the reads the test made.
func readpathWaitPartials(t *testing.T, sim *mountSim, n int) []readpathPartial {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ps := readpathPartials(sim.log.String())
		if len(ps) >= n || time.Now().After(deadline) {
			return ps
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readpathCard writes n files of size random bytes into dir/DCIM/100TEST.
func readpathCard(t *testing.T, n int, size int) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	folder := filepath.Join(dir, "DCIM", "100TEST")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, uint64(size)))
	files := map[string][]byte{}
	for i := range n {
		b := make([]byte, size)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		name := fmt.Sprintf("DSC_%04d.JPG", i+1)
		if err := os.WriteFile(filepath.Join(folder, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	return dir, files
}

// TestReadPathCopy copies a folder of 12 photos of 3 MB with cp -r over a
// LAN-like link (40 MB/s, 2 ms) and checks every byte, then that the first
// photo started with one small request (nothing tells yet that cp copies),
// that every photo after it cost the camera exactly one GetPartialObject of
// the whole file (cp read the one before to its end and opened the next:
// link-sized requests), those from the third on asked before cp opened them
// (prefetch), and that the link was measured (the listing's round trips and
// the fetches).
func TestReadPathCopy(t *testing.T) {
	mountRequireFUSE(t)
	const size = 3_000_000
	card, files := readpathCard(t, 12, size)
	sim := readpathStartSim(t, card, "--rate", "40000000", "--latency", "2ms")
	mnt := mountDir(t)
	mountStart(t, sim.addr, mnt)

	dst := filepath.Join(t.TempDir(), "copy")
	src := filepath.Join(mountStorage(t, mnt), "DCIM", "100TEST")
	start := time.Now()
	mountRunCmd(t, time.Minute, nil, "cp", "-r", src, dst)
	t.Logf("cp -r of %d x %d bytes in %v", len(files), size, time.Since(start))
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes differ from the card's %d", name, len(got), len(want))
		}
	}

	stats := mountStats(t, mnt)
	fetches := mountStatInt(t, stats, "fetches")
	partials := readpathWaitPartials(t, sim, int(fetches))
	byHandle := map[int][]readpathPartial{}
	var order []int
	for _, p := range partials {
		if byHandle[p.handle] == nil {
			order = append(order, p.handle)
		}
		byHandle[p.handle] = append(byHandle[p.handle], p)
	}
	if len(order) != len(files) {
		t.Fatalf("GetPartialObject of %d objects, want %d: %v", len(order), len(files), byHandle)
	}
	first := byHandle[order[0]]
	// The kernel may send cp's first two reads together: the first
	// request is one block or two, at the start.
	if first[0].off > 128<<10 || first[0].len > 256<<10 {
		t.Errorf("first file's first request %+v, want a small one at its start", first[0])
	}
	var covered int64
	for _, p := range first {
		covered += p.len
	}
	if covered != size {
		t.Errorf("first file's requests %+v cover %d bytes, want each of its %d once", first, covered, size)
	}
	for _, h := range order[1:] {
		if ps := byHandle[h]; len(ps) != 1 || ps[0].off != 0 || ps[0].len != size {
			t.Errorf("handle %d: requests %+v, want one of the whole %d bytes", h, ps, size)
		}
	}
	if int(fetches) != len(partials) {
		t.Errorf("stats fetches %d, camera served %d GetPartialObject", fetches, len(partials))
	}
	// cp -r reads by inode number; all but the first file (and the second,
	// should the first transition be needed to learn the order) prefetched.
	if got := mountStatInt(t, stats, "prefetches"); got < int64(len(files))-2 {
		t.Errorf("stats prefetches %d, want at least %d", got, len(files)-2)
	}
	if mountStatInt(t, stats, "link_rtt_us") <= 0 || mountStatInt(t, stats, "request_size") < 256<<10 {
		t.Errorf("stats show no link estimate: rtt %s us, request %s", stats["link_rtt_us"], stats["request_size"])
	}
	t.Logf("link rtt %s us, rate %s B/s, request %s B, fetches %s, prefetches %s",
		stats["link_rtt_us"], stats["link_rate_bytes_per_s"], stats["request_size"], stats["fetches"], stats["prefetches"])
}

// TestReadPathPeek reads the first 64 KiB of each of three 8 MB files, as a
// file manager making thumbnails does, and checks the bytes and that each
// cost one request of at most the kernel's 128 KiB read, not a megabyte.
func TestReadPathPeek(t *testing.T) {
	mountRequireFUSE(t)
	const size = 8_000_000
	card, files := readpathCard(t, 3, size)
	sim := readpathStartSim(t, card, "--rate", "40000000", "--latency", "2ms")
	mnt := mountDir(t)
	mountStart(t, sim.addr, mnt)
	folder := filepath.Join(mountStorage(t, mnt), "DCIM", "100TEST")
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range files {
			if !yield(n) {
				return
			}
		}
	})
	for _, name := range names {
		f, err := os.Open(filepath.Join(folder, name))
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 64<<10)
		n, err := f.ReadAt(p, 0)
		f.Close()
		if err != nil || !bytes.Equal(p[:n], files[name][:64<<10]) {
			t.Fatalf("%s: read %d, %v; want the card's first 64 KiB", name, n, err)
		}
	}
	readpathWaitPartials(t, sim, len(files))
	time.Sleep(100 * time.Millisecond) // let any request beyond them show
	ps := readpathPartials(sim.log.String())
	if len(ps) != len(files) {
		t.Fatalf("camera served %+v, want one GetPartialObject per file", ps)
	}
	for _, p := range ps {
		if p.off != 0 || p.len > 128<<10 {
			t.Errorf("request %+v, want at most 128 KiB at 0", p)
		}
	}
	stats := mountStats(t, mnt)
	if got := mountStatInt(t, stats, "bytes_from_camera"); got > int64(len(files))*128<<10 {
		t.Errorf("bytes_from_camera %d for %d peeks of 64 KiB", got, len(files))
	}
}
