package test

// End-to-end tests of partial reads (issue 14): real programs reading part
// of a file cost the camera that part, about, and a copy its bytes. They
// pin bytes from the camera (/.airnef/stats bytes_from_camera) and the
// requests the simulator served, never times.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// readpathTimeout bounds each program run: a few seconds at most on the
// test's link.
const readpathTimeout = time.Minute

// readpathSlack is what a program may cost beyond the bytes it read, per
// file: the bound (the kernel's own read-ahead and the cache's
// 128 KiB blocks fit in it).
const readpathSlack = 256 << 10

// readpathProgram is one program run on each file of a folder.
type readpathProgram struct {
	args func(path string, size int64) []string
	read func(size int64) int64 // bytes it reads of a file
	// one: each file costs at most one request (a peek).
	one bool
}

var readpathPython = `import sys
f = open(sys.argv[1], "rb")
f.seek(int(sys.argv[2])); a = f.read(4096)
f.seek(20000); b = f.read(4096)
sys.stdout.buffer.write(a + b)
`

var readpathPrograms = map[string]readpathProgram{
	"head -c 65536": {
		args: func(p string, _ int64) []string { return []string{"head", "-c", "65536", p} },
		read: func(int64) int64 { return 65536 }, one: true,
	},
	"dd bs=64k count=1": {
		args: func(p string, _ int64) []string { return []string{"dd", "if=" + p, "bs=64k", "count=1", "status=none"} },
		read: func(int64) int64 { return 65536 }, one: true,
	},
	"python read(65536)": {
		args: func(p string, _ int64) []string {
			return []string{"python3", "-c", "import sys; sys.stdout.buffer.write(open(sys.argv[1], 'rb').read(65536))", p}
		},
		read: func(int64) int64 { return 65536 }, one: true,
	},
	"python seeks": {
		args: func(p string, size int64) []string {
			return []string{"python3", "-c", readpathPython, p, fmt.Sprint(size / 2)}
		},
		read: func(int64) int64 { return 8192 },
	},
}

// TestReadPathPrograms runs header peeks and scattered reads with real
// programs on a fresh mount each, and checks their output against the card
// and that the camera sent no more than what they read plus readpathSlack
// per file (a peek: one request per file); then cp -r of the folder, whose
// bytes from the camera must be the folder's size.
func TestReadPathPrograms(t *testing.T) {
	mountRequireFUSE(t)
	mountRequireTool(t, "python3")
	const size = 8_000_000
	card, files := readpathCard(t, 4, size)
	sim := readpathStartSim(t, card, "--rate", "40000000", "--latency", "2ms")
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range files {
			if !yield(n) {
				return
			}
		}
	})
	for name, prog := range readpathPrograms {
		t.Run(name, func(t *testing.T) {
			mnt := mountDir(t)
			run := mountStart(t, sim.addr, mnt)
			defer run.stop()
			folder := filepath.Join(mountStorage(t, mnt), "DCIM", "100TEST")
			mountRunCmd(t, readpathTimeout, nil, "ls", "-l", folder)
			before := len(readpathPartials(sim.log.String()))
			from := mountStatInt(t, mountStats(t, mnt), "bytes_from_camera")
			var read int64
			for _, n := range names {
				args := prog.args(filepath.Join(folder, n), size)
				out := mountRunCmd(t, readpathTimeout, nil, args[0], args[1:]...)
				want := files[n][:65536]
				if name == "python seeks" {
					want = append(slices.Clone(files[n][size/2:size/2+4096]), files[n][20000:24096]...)
				}
				if !bytes.Equal([]byte(out), want) {
					t.Fatalf("%s %s: %d bytes differ from the card's", name, n, len(out))
				}
				read += prog.read(size)
			}
			got := mountStatInt(t, mountStats(t, mnt), "bytes_from_camera") - from
			limit := read + int64(len(names))*readpathSlack
			t.Logf("%s on %d files: %d bytes from the camera for %d read (limit %d)", name, len(names), got, read, limit)
			if got > limit {
				t.Errorf("%s: %d bytes from the camera, want at most %d (%d read + %d per file)", name, got, limit, read, readpathSlack)
			}
			if prog.one {
				ps := readpathWaitPartials(t, sim, before+len(names))[before:]
				perHandle := map[int]int{}
				for _, p := range ps {
					perHandle[p.handle]++
				}
				for h, n := range perHandle {
					if n > 1 {
						t.Errorf("%s: handle %d cost %d requests, want one: %v", name, h, n, ps)
					}
				}
			}
		})
	}

	t.Run("cp -r", func(t *testing.T) {
		mnt := mountDir(t)
		run := mountStart(t, sim.addr, mnt)
		defer run.stop()
		src := filepath.Join(mountStorage(t, mnt), "DCIM", "100TEST")
		dst := filepath.Join(t.TempDir(), "copy")
		from := mountStatInt(t, mountStats(t, mnt), "bytes_from_camera")
		mountRunCmd(t, readpathTimeout, nil, "cp", "-r", src, dst)
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(dst, name))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: %v; copy differs from the card", name, err)
			}
		}
		got := mountStatInt(t, mountStats(t, mnt), "bytes_from_camera") - from
		if folder := int64(len(files)) * size; got != folder {
			t.Errorf("cp -r: %d bytes from the camera, want the folder's %d", got, folder)
		}
	})
}
