package test

// End-to-end tests of how a mount lists the card: with one
// GetObjectPropList per folder where the camera has it, and from the
// metadata cache ($XDG_CACHE_HOME/airnef-mount) on a remount.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
)

// listingOps are the operations a listing may use, counted by the
// simulator.
var listingOps = []mtp.OpCode{
	mtp.OpGetObjectHandles, mtp.OpGetObjectInfo, mtp.OpGetObjectPropList, mtp.OpGetObjectPropValue,
	mtp.OpCanonEOSGetObjectInfoEx,
}

// listingCount is how many times the camera received each listing
// operation since before.
func listingCount(cam *camsim.Camera, before map[mtp.OpCode]int) map[mtp.OpCode]int {
	out := map[mtp.OpCode]int{}
	for _, op := range listingOps {
		out[op] = cam.OpCount(op) - before[op]
	}
	return out
}

func listingSnapshot(cam *camsim.Camera) map[mtp.OpCode]int {
	return listingCount(cam, nil)
}

// listingMount mounts the camera at port with cacheHome as
// $XDG_CACHE_HOME, runs ls -lR on the mount, reads files, unmounts (which
// saves the metadata cache) and returns the listing with the mount point
// replaced by MNT and link counts by N, and the operations it cost.
func listingMount(t *testing.T, cam *camsim.Camera, port, cacheHome string, files []camsim.File, args ...string) (string, map[mtp.OpCode]int) {
	t.Helper()
	before := listingSnapshot(cam)
	mnt := mountDir(t)
	r := mountStartEnv(t, []string{"XDG_CACHE_HOME=" + cacheHome}, "127.0.0.1:"+port, mnt, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ls", "-lR", "--time-style=full-iso", mnt)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ls -lR: %v\n%s", err, out)
	}
	ops := listingCount(cam, before)
	// Every byte of the files read matches the camera's.
	storage := mountStorage(t, mnt)
	for _, f := range files {
		got := listingSum(t, filepath.Join(storage, filepath.FromSlash(f.Path)))
		want := sha256.Sum256(simBytes(t, cam, f))
		if got != want {
			t.Errorf("%s: sha256 %x through the mount, %x on the camera", f.Path, got, want)
		}
	}
	r.stop()
	if code := r.exitCode(30 * time.Second); code != 0 {
		t.Fatalf("airnef-mount exited %d; stderr:\n%s", code, r.stderr.String())
	}
	return listingNlinks.ReplaceAllString(strings.ReplaceAll(string(out), mnt, "MNT"), "$1 N "), ops
}

// listingNlinks matches the link count of a line of ls -l, which listings
// do not compare: a directory shows 1 ("unknown") until it is listed and
// 2 + its subdirectories after (fusefs fillAttr), and whether the warm
// listing has listed it when ls first looks depends on timing.
var listingNlinks = regexp.MustCompile(`(?m)^([-dl][-rwxsStT]{9}\S*) +\d+ +`)

func listingSum(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// listingFiles picks a few small files of the card to read back.
func listingFiles(cam *camsim.Camera, n int) []camsim.File {
	var out []camsim.File
	for _, f := range cam.Files() {
		if !f.Dir && f.Size < 16<<20 && len(out) < n {
			out = append(out, f)
		}
	}
	return out
}

// listingCacheFiles lists the metadata cache files under cacheHome.
func listingCacheFiles(t *testing.T, cacheHome string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(cacheHome, "airnef-mount", "metadata-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A generic (MTP) camera: a cold ls -lR lists each folder with one
// GetObjectPropList and asks GetObjectInfo only for the storage's top
// level (and no ObjectSize for the movie over 4 GiB); a remount with the
// same cache lists with GetObjectHandles alone; and the listing is the
// same cold, cached and with --metadata-cache=false.
func TestListingPropListAndCache(t *testing.T) {
	mountRequireFUSE(t)
	mountBuild(t)
	cam, port := simStart(t, camsim.Config{
		Personality: camsim.Generic(),
		Generate:    &camsim.CardSpec{Photos: 40, Seed: 21, Folders: 4, Size: 300 << 10, Video: persVideo},
	})
	var folders, files, top int
	for _, f := range cam.Files() {
		switch {
		case !strings.Contains(f.Path, "/"):
			top++
			if f.Dir {
				folders++
			}
		case f.Dir:
			folders++
		default:
			files++
		}
	}
	read := listingFiles(cam, 3)
	cacheHome := t.TempDir()

	cold, ops := listingMount(t, cam, port, cacheHome, read)
	t.Logf("cold: %v", ops)
	if ops[mtp.OpGetObjectPropList] == 0 {
		t.Errorf("cold listing used no GetObjectPropList: %v", ops)
	}
	if ops[mtp.OpGetObjectInfo] > top {
		t.Errorf("cold listing asked GetObjectInfo %d times; want at most %d (the storage's top level), not one per file (%d files): %v",
			ops[mtp.OpGetObjectInfo], top, files, ops)
	}
	if ops[mtp.OpGetObjectPropValue] != 0 {
		t.Errorf("the movie's size was asked with GetObjectPropValue: the property list has it: %v", ops)
	}
	if cf := listingCacheFiles(t, cacheHome); len(cf) != 1 {
		t.Fatalf("metadata cache files after the cold mount: %q, want one", cf)
	}

	cached, ops := listingMount(t, cam, port, cacheHome, read)
	t.Logf("cached: %v", ops)
	if ops[mtp.OpGetObjectInfo] != 0 || ops[mtp.OpGetObjectPropList] != 0 || ops[mtp.OpGetObjectPropValue] != 0 {
		t.Errorf("remount described objects again: %v", ops)
	}
	if n := ops[mtp.OpGetObjectHandles]; n == 0 || n > folders+1 {
		t.Errorf("remount used %d GetObjectHandles, want 1..%d (one per folder and the top level)", n, folders+1)
	}
	if cached != cold {
		t.Errorf("listing after a remount differs from the cold one:\n--- cold\n%s\n--- cached\n%s", cold, cached)
	}

	noCache := t.TempDir()
	plain, ops := listingMount(t, cam, port, noCache, read, "--metadata-cache=false")
	t.Logf("--metadata-cache=false: %v", ops)
	if plain != cold {
		t.Errorf("listing with --metadata-cache=false differs from the cold one:\n--- cold\n%s\n--- no cache\n%s", cold, plain)
	}
	if ops[mtp.OpGetObjectPropList] == 0 {
		t.Errorf("--metadata-cache=false listed without GetObjectPropList: %v", ops)
	}
	if cf := listingCacheFiles(t, noCache); len(cf) != 0 {
		t.Errorf("--metadata-cache=false wrote %q", cf)
	}
}

// canonWithout is the EOS 80D (GetObjectInfoEx, no GetObjectPropList) with
// GetObjectInfoEx switched off: a camera listed one GetObjectInfo per
// object.
func canonWithout() *camsim.Personality {
	b, err := camsim.BodyNamed("eos-80d")
	if err != nil {
		panic(err)
	}
	return b.Without(mtp.OpCanonEOSGetObjectInfoEx).Personality()
}

// A canon card: listed cold with one GetObjectInfoEx per directory (the EOS
// 6D) or one GetObjectInfo per object (without it), from the cache on a
// remount, the same both times.
func TestListingCacheCanon(t *testing.T) {
	mountRequireFUSE(t)
	mountBuild(t)
	for name, p := range map[string]*camsim.Personality{"eos": camsim.Canon(), "per-object": canonWithout()} {
		t.Run(name, func(t *testing.T) {
			cam, port := simStart(t, camsim.Config{
				Personality: p,
				Generate:    &camsim.CardSpec{Photos: 24, Seed: 5, Folders: 3, Size: 300 << 10},
			})
			files, dirs := 0, 0
			for _, f := range cam.Files() {
				if f.Dir {
					dirs++
				} else {
					files++
				}
			}
			read := listingFiles(cam, 3)
			cacheHome := t.TempDir()
			cold, ops := listingMount(t, cam, port, cacheHome, read)
			t.Logf("cold: %v", ops)
			if ops[mtp.OpGetObjectPropList] != 0 {
				t.Errorf("a canon with GetObjectInfoEx or without GetObjectPropList was asked GetObjectPropList: %v", ops)
			}
			if name == "eos" {
				// The top level, DCIM and the DCF folders.
				if ops[mtp.OpCanonEOSGetObjectInfoEx] != dirs+1 || ops[mtp.OpGetObjectInfo] != 0 || ops[mtp.OpGetObjectHandles] != 0 {
					t.Errorf("cold EOS listing: %v, want %d GetObjectInfoEx, no GetObjectHandles or GetObjectInfo", ops, dirs+1)
				}
			} else if ops[mtp.OpGetObjectInfo] < files || ops[mtp.OpCanonEOSGetObjectInfoEx] != 0 {
				t.Errorf("cold canon listing: %d GetObjectInfo for %d files: %v", ops[mtp.OpGetObjectInfo], files, ops)
			}
			cached, ops := listingMount(t, cam, port, cacheHome, read)
			t.Logf("cached: %v", ops)
			if ops[mtp.OpGetObjectInfo] != 0 || ops[mtp.OpCanonEOSGetObjectInfoEx] != 0 {
				t.Errorf("remount of a canon described objects again: %v", ops)
			}
			if cached != cold {
				t.Errorf("listing after a remount differs:\n--- cold\n%s\n--- cached\n%s", cold, cached)
			}
			if !bytes.Contains([]byte(cold), []byte(".JPG")) {
				t.Fatalf("listing shows no pictures:\n%s", cold)
			}
		})
	}
}

// listingWarmed mounts the camera at port cold, with fuse debug logs, and
// waits (bounded) for the warm listing's line: no file is accessed.
func listingWarmed(t *testing.T, cam *camsim.Camera, port string) (*mountRun, string) {
	t.Helper()
	mnt := mountDir(t)
	r := mountStartEnv(t, []string{"XDG_CACHE_HOME=" + t.TempDir()}, "127.0.0.1:"+port, mnt, "--debug", "fuse")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(r.stderr.String(), "warm listing done") {
		if time.Now().After(deadline) {
			t.Fatalf("no warm listing line 30s after mounting; stderr:\n%s", r.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return r, mnt
}

// listingWalk runs ls -lR and find on the mount.
func listingWalk(t *testing.T, mnt string) {
	t.Helper()
	mountRunCmd(t, 60*time.Second, []string{"LC_ALL=C"}, "ls", "-lR", mnt)
	mountRunCmd(t, 60*time.Second, nil, "find", mnt, "-type", "f")
}

// Right after mounting, with nobody looking, the warm listing lists the
// storage's top level, DCIM and the DCF folders: on a generic camera one
// GetObjectPropList per folder checked by one GetObjectHandles (the top
// level with GetObjectHandles and GetObjectInfo of DCIM), on an EOS one
// GetObjectInfoEx per directory and nothing else, so that ls -lR
// and find then cost no listing operation. On a canon without either it
// lists the top level and DCIM only, one GetObjectInfo per object: the DCF
// folders, one request per photo, are listed when opened.
func TestListingWarm(t *testing.T) {
	mountRequireFUSE(t)
	mountBuild(t)
	t.Run("generic", func(t *testing.T) {
		cam, port := simStart(t, camsim.Config{
			Personality: camsim.Generic(),
			Generate:    &camsim.CardSpec{Photos: 24, Seed: 8, Folders: 4, Size: camsim.MinGeneratedSize},
		})
		before := listingSnapshot(cam)
		r, mnt := listingWarmed(t, cam, port)
		ops := listingCount(cam, before)
		t.Logf("warm listing: %v", ops)
		// The top level; DCIM and 4 DCF folders.
		if ops[mtp.OpGetObjectHandles] != 6 || ops[mtp.OpGetObjectInfo] != 1 || ops[mtp.OpGetObjectPropList] != 5 {
			t.Errorf("warm listing: %v, want 6 GetObjectHandles, 1 GetObjectInfo, 5 GetObjectPropList", ops)
		}
		if !strings.Contains(r.stderr.String(), "folders=6 skipped=0") {
			t.Errorf("warm listing line: want folders=6 skipped=0:\n%s", r.stderr.String())
		}
		after := listingSnapshot(cam)
		listingWalk(t, mnt)
		if ops := listingCount(cam, after); ops[mtp.OpGetObjectPropList]+ops[mtp.OpGetObjectHandles]+ops[mtp.OpGetObjectInfo] != 0 {
			t.Errorf("ls -lR and find after the warm listing listed again: %v", ops)
		}
	})
	t.Run("eos", func(t *testing.T) {
		cam, port := simStart(t, camsim.Config{
			Personality: camsim.Canon(),
			Generate:    &camsim.CardSpec{Photos: 12, Seed: 9, Folders: 3, Size: camsim.MinGeneratedSize},
		})
		before := listingSnapshot(cam)
		r, mnt := listingWarmed(t, cam, port)
		ops := listingCount(cam, before)
		t.Logf("warm listing: %v", ops)
		// The top level, DCIM and 3 DCF folders.
		if ops[mtp.OpCanonEOSGetObjectInfoEx] != 5 || ops[mtp.OpGetObjectHandles] != 0 || ops[mtp.OpGetObjectInfo] != 0 || ops[mtp.OpGetObjectPropList] != 0 {
			t.Errorf("warm listing: %v, want 5 GetObjectInfoEx and nothing else", ops)
		}
		if !strings.Contains(r.stderr.String(), "folders=5 skipped=0") {
			t.Errorf("warm listing line: want folders=5 skipped=0:\n%s", r.stderr.String())
		}
		after := listingSnapshot(cam)
		listingWalk(t, mnt)
		if ops := listingCount(cam, after); ops[mtp.OpCanonEOSGetObjectInfoEx]+ops[mtp.OpGetObjectHandles]+ops[mtp.OpGetObjectInfo] != 0 {
			t.Errorf("ls -lR and find after the warm listing listed again: %v", ops)
		}
	})
	t.Run("canon", func(t *testing.T) {
		cam, port := simStart(t, camsim.Config{
			Personality: canonWithout(),
			Generate:    &camsim.CardSpec{Photos: 12, Seed: 9, Folders: 3, Size: camsim.MinGeneratedSize},
		})
		photos := 0
		for _, f := range cam.Files() {
			if !f.Dir {
				photos++
			}
		}
		before := listingSnapshot(cam)
		_, mnt := listingWarmed(t, cam, port)
		ops := listingCount(cam, before)
		t.Logf("warm listing: %v", ops)
		// GetObjectHandles of the top level and DCIM; GetObjectInfo of
		// DCIM and the 3 DCF folders.
		if ops[mtp.OpGetObjectHandles] != 2 || ops[mtp.OpGetObjectInfo] != 4 || ops[mtp.OpGetObjectPropList] != 0 {
			t.Errorf("warm listing: %v, want 2 GetObjectHandles and 4 GetObjectInfo", ops)
		}
		after := listingSnapshot(cam)
		listingWalk(t, mnt)
		ops = listingCount(cam, after)
		if ops[mtp.OpGetObjectHandles] != 3 || ops[mtp.OpGetObjectInfo] != photos {
			t.Errorf("ls -lR after the warm listing: %v, want 3 GetObjectHandles (the DCF folders) and %d GetObjectInfo (the files)", ops, photos)
		}
	})
}
