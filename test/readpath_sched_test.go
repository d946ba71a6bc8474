package test

// End-to-end tests of the one session's scheduling (issue 14): what a user
// waits on goes before a copy's read-ahead, and an interrupted FUSE
// request ends the caller's wait, never a transaction. They count
// operations in the simulator's log and read the mount's stats and log,
// never times.

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readpathFolders writes folders of random files into dir/DCIM: name ->
// {files, size}. It returns the card and every file's bytes by its path
// under DCIM.
func readpathFolders(t *testing.T, folders map[string][2]int) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{}
	for folder, spec := range folders {
		rng := rand.New(rand.NewPCG(uint64(len(folder)), uint64(spec[1])))
		if err := os.MkdirAll(filepath.Join(dir, "DCIM", folder), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range spec[0] {
			b := make([]byte, spec[1])
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			name := filepath.Join(folder, fmt.Sprintf("DSC_%04d.JPG", i+1))
			if err := os.WriteFile(filepath.Join(dir, "DCIM", name), b, 0o644); err != nil {
				t.Fatal(err)
			}
			files[name] = b
		}
	}
	return dir, files
}

// readpathOp is one operation in the simulator's log: its name and
// parameters.
type readpathOp struct {
	op     string
	params string
}

var readpathOpRE = regexp.MustCompile(`op=([A-Za-z0-9]+) tid=\d+ params="?([^"]*?)"? resp=`)

func readpathOps(log string) []readpathOp {
	var out []readpathOp
	for _, m := range readpathOpRE.FindAllStringSubmatch(log, -1) {
		out = append(out, readpathOp{m[1], m[2]})
	}
	return out
}

// readpathCopy starts cp -r of src to a new directory and returns it with
// a function that waits for cp and checks every byte of the copy.
func readpathCopy(t *testing.T, src string, files map[string][]byte, folder string) func() {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	cp := exec.Command("cp", "-r", src, dst)
	var out bytes.Buffer
	cp.Stdout, cp.Stderr = &out, &out
	if err := cp.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cp.Wait() }()
	t.Cleanup(func() { cp.Process.Kill(); <-done })
	return func() {
		t.Helper()
		select {
		case err := <-done:
			done <- err
			if err != nil {
				t.Fatalf("cp -r: %v\n%s", err, out.String())
			}
		case <-time.After(5 * time.Minute):
			t.Fatal("cp -r did not end")
		}
		for name, want := range files {
			if !strings.HasPrefix(name, folder+"/") {
				continue
			}
			got, err := os.ReadFile(filepath.Join(dst, strings.TrimPrefix(name, folder+"/")))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: %v; the copy differs from the card", name, err)
			}
		}
	}
}

// TestReadPathListingFirst lists a folder not listed yet (a Nikon: one
// GetObjectInfo per object) while cp -r copies another over a WiFi-like
// link, and checks that the listing's requests went one after another,
// before the copy's read-ahead: between its first and last request the
// camera served at most readpathSlipped of the copy's.
func TestReadPathListingFirst(t *testing.T) {
	mountRequireFUSE(t)
	card, files := readpathFolders(t, map[string][2]int{"100COPY": {4, 3_000_000}, "101LIST": {20, 20_000}})
	sim := readpathStartSim(t, card, "--vendor", "nikon", "--rate", "3000000", "--latency", "20ms")
	mnt := mountDir(t)
	mountStart(t, sim.addr, mnt)
	dcim := filepath.Join(mountStorage(t, mnt), "DCIM")
	mountRunCmd(t, readpathTimeout, nil, "ls", dcim)
	wait := readpathCopy(t, filepath.Join(dcim, "100COPY"), files, "100COPY")
	deadline := time.Now().Add(time.Minute)
	for mountStatInt(t, mountStats(t, mnt), "fetches") < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the copy did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mark := len(readpathOps(sim.log.String()))
	out := mountRunCmd(t, readpathTimeout, nil, "ls", "-l", filepath.Join(dcim, "101LIST"))
	if n := strings.Count(out, "DSC_"); n != 20 {
		t.Fatalf("ls -l listed %d files, want 20:\n%s", n, out)
	}
	wait()

	ops := readpathOps(sim.log.String())[mark:]
	first, last := -1, -1
	for i, o := range ops {
		if o.op == "GetObjectInfo" || o.op == "GetObjectHandles" {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 || last-first < 20 {
		t.Fatalf("the listing's requests not found after the copy began: %v", ops)
	}
	slipped := 0
	for _, o := range ops[first:last] {
		if o.op == "GetPartialObject" {
			slipped++
		}
	}
	t.Logf("%d of the copy's requests between the listing's %d", slipped, last-first+1)
	if slipped > readpathSlipped {
		t.Errorf("%d of the copy's requests went between the listing's requests, want at most %d: %v", slipped, readpathSlipped, ops[first:last+1])
	}
}

// readpathSlipped is how many of a copy's requests may go between a
// listing's: the session waits sched.Anticipate (20 ms) after each of the
// listing's requests for its next, which a loaded machine may once in a
// while miss. Served first come, first served, there is one per object.
const readpathSlipped = 2

// readpathPest is a process making every kind of FUSE request, again and
// again, until the file named by its first argument exists: lookups and
// getattrs, listings (of folders not listed yet, which wait for the
// camera), statfs, opens, reads (O_DIRECT ones too) and releases; with
// "statfs" as its last argument, statfs alone. It catches SIGUSR1 and
// SIGURG, so that each signal interrupts the request it waits in (the
// kernel sends FUSE_INTERRUPT; Go programs get SIGURG from their own
// runtime all the time), says "ready" then, and at the end prints how
// many rounds of requests it made.
const readpathPest = `import mmap, os, signal, sys, random
signal.signal(signal.SIGUSR1, lambda *a: None)
signal.signal(signal.SIGURG, lambda *a: None)
print("ready", flush=True)
stop, root = sys.argv[1], sys.argv[2]
n = 0
rng = random.Random(int(sys.argv[3]))
while sys.argv[4] == "statfs" and not os.path.exists(stop):
    os.statvfs(root)
    n += 1
while not os.path.exists(stop):
    for d in sorted(os.listdir(root)):
        p = os.path.join(root, d)
        try:
            os.statvfs(p)
            names = os.listdir(p)
            for name in names[:3]:
                f = os.path.join(p, name)
                os.stat(f)
                with open(f, "rb") as fh:
                    fh.seek(rng.randrange(max(1, os.path.getsize(f))))
                    fh.read(4096)
                    fh.seek(0)
                    fh.read(65536)
                # Reads through the page cache are the kernel's readahead,
                # which a signal does not interrupt; O_DIRECT reads wait in
                # the request itself.
                fd = os.open(f, os.O_RDONLY | os.O_DIRECT)
                try:
                    os.preadv(fd, [mmap.mmap(-1, 65536)], rng.randrange(max(1, os.path.getsize(f))) // 4096 * 4096)
                finally:
                    os.close(fd)
                n += 1
        except OSError as e:
            print("error", p, e, file=sys.stderr)
        if os.path.exists(stop):
            break
print(n)
`

var (
	readpathRxRE        = regexp.MustCompile(`rx (\d+): ([A-Z_]+) `)
	readpathInterruptRE = regexp.MustCompile(`rx \d+: INTERRUPT n\d+ \{ix (\d+)\}`)
)

// TestReadPathInterrupts runs cp -r over a WiFi-like link while processes
// make every kind of FUSE request and are sent signals all the time, so
// that go-fuse cancels the requests they wait in. The session must never
// break: the copy's bytes are right, the stats say connected with no failed
// fetch, and the log shows no broken session, while it shows interrupted
// reads and listings.
func TestReadPathInterrupts(t *testing.T) {
	mountRequireFUSE(t)
	mountRequireTool(t, "python3")
	folders := map[string][2]int{"100COPY": {6, 3_000_000}}
	for i := range 12 {
		folders[fmt.Sprintf("%dMANY", 101+i)] = [2]int{4, 300_000}
	}
	card, files := readpathFolders(t, folders)
	sim := readpathStartSim(t, card, "--vendor", "nikon", "--rate", "3000000", "--latency", "20ms")
	mnt := mountDir(t)
	run := mountStart(t, sim.addr, mnt, "--debug", "fuse")
	dcim := filepath.Join(mountStorage(t, mnt), "DCIM")
	mountRunCmd(t, readpathTimeout, nil, "ls", dcim)
	wait := readpathCopy(t, filepath.Join(dcim, "100COPY"), files, "100COPY")

	stop := filepath.Join(t.TempDir(), "stop")
	var pests []*exec.Cmd
	var outs []*bufio.Reader
	// Two pests make every request and get a signal every 20 ms on
	// average, so signals land in requests waiting for their turn; the
	// third calls statfs alone and gets one every 150 ms: its requests
	// get through their wait and are signalled in their transaction.
	modes := []string{"all", "all", "statfs"}
	every := []time.Duration{40 * time.Millisecond, 40 * time.Millisecond, 300 * time.Millisecond}
	for i, mode := range modes {
		cmd := exec.Command("python3", "-c", readpathPest, stop, dcim, strconv.Itoa(i), mode)
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		out := bufio.NewReader(stdout)
		if l, err := out.ReadString('\n'); l != "ready\n" {
			t.Fatalf("pest %d said %q, %v", i, l, err)
		}
		pests = append(pests, cmd)
		outs = append(outs, out)
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				t.Logf("pest %d stderr:\n%s", i, errOut.String())
			}
		})
	}
	// Signals to each pest at random intervals.
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for i, p := range pests {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 14))
			for n := 0; ; n++ {
				select {
				case <-quit:
					return
				case <-time.After(time.Duration(rng.Int64N(int64(every[i])))):
				}
				sig := syscall.SIGUSR1
				if n%2 == 1 {
					sig = syscall.SIGURG
				}
				p.Process.Signal(sig)
			}
		})
	}
	wait()
	close(quit)
	wg.Wait()
	if err := os.WriteFile(stop, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, p := range pests {
		done := make(chan string, 1)
		go func() {
			l, _ := outs[i].ReadString('\n')
			done <- l
		}()
		select {
		case l := <-done:
			t.Logf("pest %d made %s rounds of requests", i, strings.TrimSpace(l))
		case <-time.After(time.Minute):
			t.Fatalf("pest %d did not stop", i)
		}
		if err := p.Wait(); err != nil {
			t.Errorf("pest %d: %v", i, err)
		}
	}

	stats := mountStats(t, mnt)
	if s := stats["session"]; !strings.HasPrefix(s, "connected") {
		t.Errorf("session %q after the interrupts, want connected", s)
	}
	if n := mountStatInt(t, stats, "fetch_errors"); n != 0 {
		t.Errorf("%d failed fetches", n)
	}
	log := run.stderr.String()
	for _, bad := range []string{"session broken", "session was lost", "keep-alive failed", "reconnect"} {
		if strings.Contains(log, bad) {
			t.Errorf("the mount's log says %q", bad)
		}
	}
	// Which requests were interrupted, by their FUSE operation.
	opOf := map[string]string{}
	for _, m := range readpathRxRE.FindAllStringSubmatch(log, -1) {
		opOf[m[1]] = m[2]
	}
	interrupted := map[string]int{}
	for _, m := range readpathInterruptRE.FindAllStringSubmatch(log, -1) {
		interrupted[opOf[m[1]]]++
	}
	t.Logf("interrupted FUSE requests by operation: %v", interrupted)
	if interrupted["READ"] == 0 || interrupted["LOOKUP"]+interrupted["OPENDIR"]+interrupted["READDIR"]+interrupted["READDIRPLUS"] == 0 {
		t.Errorf("interrupted %v; want reads and listings interrupted while they waited for the camera", interrupted)
	}
	// The copy and the pests' reads still read right after all that.
	for name, want := range files {
		if strings.HasPrefix(name, "101MANY/") {
			got, err := os.ReadFile(filepath.Join(dcim, name))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: %v; reads differ from the card after the interrupts", name, err)
			}
		}
	}
}
