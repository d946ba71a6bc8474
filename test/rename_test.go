package test

// End-to-end tests of the renamed tree (issue 6): airnef-mount with
// --dirnamespec and --filenamespec on the simulator, checked against the
// card it serves. Helpers are prefixed "rename"; the mount* helpers of
// mount_helpers_test.go do the building, starting and cleaning up.

import (
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// renameZone is the zone of both the simulator and airnef-mount: one
// capture is at 23:30 on 31 December there, already 2024 in UTC, so a date
// read in the wrong zone lands in the wrong directory.
const renameZone = "America/New_York"

// renameSrc is one file of the test card.
type renameSrc struct {
	rel   string
	data  []byte
	mtime time.Time
}

// renameCard writes the test card: the same name in two folders on the
// same day (a collision), a capture near a year boundary, a file in a
// subfolder, a movie of several cache blocks and an empty folder.
func renameCard(t *testing.T) (string, []renameSrc) {
	t.Helper()
	loc, err := time.LoadLocation(renameZone)
	if err != nil {
		t.Skipf("no zone %s: %v", renameZone, err)
	}
	big := make([]byte, 3<<20+12345)
	io.ReadFull(&mountPatternReader{}, big)
	files := []renameSrc{
		{"DCIM/100TEST/IMG_0001.JPG", mountJPEG(t, 0), time.Date(2024, 3, 15, 12, 0, 0, 0, loc)},
		{"DCIM/100TEST/IMG_0002.JPG", mountJPEG(t, 1), time.Date(2024, 3, 15, 13, 0, 7, 0, loc)},
		{"DCIM/101TEST/IMG_0001.JPG", mountJPEG(t, 2), time.Date(2024, 3, 15, 14, 0, 0, 0, loc)},
		{"DCIM/101TEST/IMG_0003.JPG", mountJPEG(t, 3), time.Date(2023, 12, 31, 23, 30, 0, 0, loc)},
		{"DCIM/101TEST/SUB/IMG_0004.JPG", mountJPEG(t, 4), time.Date(2024, 6, 1, 9, 0, 0, 0, loc)},
		{"DCIM/100TEST/MVI_0005.MOV", big, time.Date(2024, 6, 1, 10, 0, 0, 0, loc)},
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "MISC/EMPTY"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		renameWrite(t, dir, f)
	}
	return dir, files
}

func renameWrite(t *testing.T, dir string, f renameSrc) {
	t.Helper()
	p := filepath.Join(dir, f.rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, f.data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, f.mtime, f.mtime); err != nil {
		t.Fatal(err)
	}
}

// renameEntry is what the mount shows of one file.
type renameEntry struct {
	size  int64
	mtime int64
	ino   uint64
	sum   [sha256.Size]byte
}

// renameScan reads every regular file under dir (not following the hidden
// directories): relative path -> size, mtime, inode number and sha256.
func renameScan(t *testing.T, dir string) map[string]renameEntry {
	t.Helper()
	out := map[string]renameEntry{}
	for rel, fi := range mountWalk(t, dir) {
		f, err := os.Open(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			t.Fatalf("read %s: %v", rel, err)
		}
		e := renameEntry{size: fi.Size(), mtime: fi.ModTime().Unix(), ino: fi.Sys().(*syscall.Stat_t).Ino}
		copy(e.sum[:], h.Sum(nil))
		out[rel] = e
	}
	return out
}

// renameCheck checks that the mount at mnt holds exactly want (mount path
// -> card file): names, sizes, mtimes and bytes.
func renameCheck(t *testing.T, mnt string, want map[string]renameSrc) map[string]renameEntry {
	t.Helper()
	got := renameScan(t, mnt)
	for p, src := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("%s missing from the mount", p)
			continue
		}
		if g.size != int64(len(src.data)) || g.mtime != src.mtime.Unix() || g.sum != sha256.Sum256(src.data) {
			t.Errorf("%s: size %d mtime %v, want %s: size %d mtime %v (or the bytes differ)",
				p, g.size, time.Unix(g.mtime, 0), src.rel, len(src.data), src.mtime)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s is in the mount but not expected", p)
		}
	}
	return got
}

func renameByRel(files []renameSrc) map[string]renameSrc {
	m := map[string]renameSrc{}
	for _, f := range files {
		m[f.rel] = f
	}
	return m
}

func renameNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// The example: directories by capture year and date, files named
// model_filename, a collision resolved by capture order; the camera tree
// at /.camera, hidden; and the same tree, inode numbers included, on a
// second mount.
func TestRenameMount(t *testing.T) {
	mountRequireFUSE(t)
	card, files := renameCard(t)
	src := renameByRel(files)
	env := []string{"TZ=" + renameZone}
	sim := mountStartSim(t, card, env...)
	args := []string{"--dirnamespec", "@capturedate_y@/@capturedate@", "--filenamespec", "@cameramodel@_@filename@"}
	want := map[string]renameSrc{
		"2023/20231231/CamSim_IMG_0003.JPG":     src["DCIM/101TEST/IMG_0003.JPG"],
		"2024/20240315/CamSim_IMG_0001.JPG":     src["DCIM/100TEST/IMG_0001.JPG"],
		"2024/20240315/CamSim_IMG_0001 (2).JPG": src["DCIM/101TEST/IMG_0001.JPG"],
		"2024/20240315/CamSim_IMG_0002.JPG":     src["DCIM/100TEST/IMG_0002.JPG"],
		"2024/20240601/CamSim_IMG_0004.JPG":     src["DCIM/101TEST/SUB/IMG_0004.JPG"],
		"2024/20240601/CamSim_MVI_0005.MOV":     src["DCIM/100TEST/MVI_0005.MOV"],
	}

	mnt := mountDir(t)
	run := mountStartEnv(t, env, sim.addr, mnt, args...)
	// The line is written before the ready line, but stderr is copied
	// from its pipe apart from stdout: give the copy a moment.
	for end := time.Now().Add(5 * time.Second); !strings.Contains(run.stderr.String(), "renamed tree ready") && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(run.stderr.String(), "renamed tree ready") {
		t.Errorf("no progress logged before the ready line:\n%s", run.stderr.String())
	}
	first := renameCheck(t, mnt, want)

	t.Run("hidden camera tree", func(t *testing.T) {
		if got := renameNames(t, mnt); !slices.Equal(got, []string{"2023", "2024"}) {
			t.Errorf("root lists %q, want only the renamed tree", got)
		}
		camera := filepath.Join(mnt, ".camera")
		fi, err := os.Stat(camera)
		if err != nil || !fi.IsDir() {
			t.Fatalf("/.camera: %v", err)
		}
		root, _ := os.Stat(mnt)
		if fi.Sys().(*syscall.Stat_t).Ino == root.Sys().(*syscall.Stat_t).Ino {
			t.Errorf("/.camera has the root's inode number")
		}
		storage := mountStorage(t, camera)
		got := renameScan(t, storage)
		for rel, f := range src {
			g, ok := got[rel]
			if !ok || g.sum != sha256.Sum256(f.data) || g.mtime != f.mtime.Unix() {
				t.Errorf("/.camera/%s/%s: %+v, %v", filepath.Base(storage), rel, g, ok)
			}
		}
		if len(got) != len(src) {
			t.Errorf("/.camera holds %d files, the card %d", len(got), len(src))
		}
		if fi, err := os.Stat(filepath.Join(storage, "MISC/EMPTY")); err != nil || !fi.IsDir() {
			t.Errorf("/.camera lacks the empty folder: %v", err)
		}
		if _, err := os.ReadFile(filepath.Join(mnt, ".airnef", "stats")); err != nil {
			t.Errorf("/.airnef/stats: %v", err)
		}
	})

	t.Run("read-only", func(t *testing.T) {
		p := filepath.Join(mnt, "2024/20240315/CamSim_IMG_0002.JPG")
		if _, err := os.OpenFile(p, os.O_WRONLY, 0); !errors.Is(err, syscall.EROFS) {
			t.Errorf("open for writing: %v, want EROFS", err)
		}
		if err := os.Mkdir(filepath.Join(mnt, "2024", "new"), 0o755); !errors.Is(err, syscall.EROFS) {
			t.Errorf("mkdir: %v, want EROFS", err)
		}
	})

	t.Run("rsync", func(t *testing.T) {
		mountRequireTool(t, "rsync")
		dst := filepath.Join(t.TempDir(), "photos")
		mountRunCmd(t, 2*time.Minute, nil, "rsync", "-a", mnt+"/", dst+"/")
		copied := mountWalk(t, dst)
		if len(copied) != len(want) {
			t.Errorf("rsync -a copied %d files, want %d (the hidden directories must not be copied)", len(copied), len(want))
		}
		for p := range want {
			if _, ok := copied[p]; !ok {
				t.Errorf("rsync -a did not copy %s", p)
			}
		}
		out := mountRunCmd(t, time.Minute, nil, "rsync", "-a", "--itemize-changes", mnt+"/", dst+"/")
		if strings.TrimSpace(out) != "" {
			t.Errorf("a second rsync -a transferred:\n%s", out)
		}
	})

	// Unmount and mount again: the same tree, the same inode numbers.
	run.cmd.Process.Signal(os.Interrupt)
	if code := run.exitCode(30 * time.Second); code != 0 {
		t.Fatalf("exit status after SIGINT: %d", code)
	}
	mountStartEnv(t, env, sim.addr, mnt, args...)
	second := renameCheck(t, mnt, want)
	for p, e := range first {
		if second[p].ino != e.ino {
			t.Errorf("%s: inode number %d, then %d", p, e.ino, second[p].ino)
		}
	}
}

// Only --filenamespec: files keep their storage and folder. With
// @dlnum_lifetime@ and the state directory kept, a second mount shows the
// same names, and a new capture (older than all the others) takes the
// next number rather than renumbering the card.
func TestRenameFilenameOnly(t *testing.T) {
	mountRequireFUSE(t)
	card, files := renameCard(t)
	src := renameByRel(files)
	env := []string{"TZ=" + renameZone, "XDG_STATE_HOME=" + t.TempDir()}
	args := []string{"--filenamespec", "@dlnum_lifetime@-@filename@"}

	sim := mountStartSim(t, card, env[0])
	mnt := mountDir(t)
	run := mountStartEnv(t, env, sim.addr, mnt, args...)
	storages := renameNames(t, mnt)
	camStorages := renameNames(t, filepath.Join(mnt, ".camera"))
	if len(storages) != 1 || !slices.Equal(storages, camStorages) {
		t.Fatalf("root lists %q, /.camera %q: want the camera's one storage", storages, camStorages)
	}
	s := storages[0] + "/"
	want := map[string]renameSrc{
		s + "DCIM/101TEST/0001-IMG_0003.JPG":     src["DCIM/101TEST/IMG_0003.JPG"],
		s + "DCIM/100TEST/0002-IMG_0001.JPG":     src["DCIM/100TEST/IMG_0001.JPG"],
		s + "DCIM/100TEST/0003-IMG_0002.JPG":     src["DCIM/100TEST/IMG_0002.JPG"],
		s + "DCIM/101TEST/0004-IMG_0001.JPG":     src["DCIM/101TEST/IMG_0001.JPG"],
		s + "DCIM/101TEST/SUB/0005-IMG_0004.JPG": src["DCIM/101TEST/SUB/IMG_0004.JPG"],
		s + "DCIM/100TEST/0006-MVI_0005.MOV":     src["DCIM/100TEST/MVI_0005.MOV"],
	}
	renameCheck(t, mnt, want)
	run.cmd.Process.Signal(os.Interrupt)
	if code := run.exitCode(30 * time.Second); code != 0 {
		t.Fatalf("exit status after SIGINT: %d", code)
	}
	sim.stop()

	// A new capture, older than everything on the card.
	loc, _ := time.LoadLocation(renameZone)
	added := renameSrc{"DCIM/100TEST/IMG_0000.JPG", mountJPEG(t, 9), time.Date(2020, 1, 1, 8, 0, 0, 0, loc)}
	renameWrite(t, card, added)
	want[s+"DCIM/100TEST/0007-IMG_0000.JPG"] = added

	sim = mountStartSim(t, card, env[0])
	mountStartEnv(t, env, sim.addr, mnt, args...)
	renameCheck(t, mnt, want)
}

// A malformed spec stops airnef-mount with exit status 2 and a message
// naming the specifier and its position, before it dials the camera.
func TestRenameBadSpec(t *testing.T) {
	mnt := t.TempDir()
	tests := map[string]struct {
		args []string
		say  string
	}{
		"unknown specifier": {[]string{"--dirnamespec", "@capturedate_y@/@nope@"}, `--dirnamespec: pathspec: unknown specifier "@nope@" at position 16`},
		"unterminated":      {[]string{"--filenamespec", "IMG_@dlnum"}, `--filenamespec: pathspec: unterminated specifier "@dlnum" at position 4`},
		"separator":         {[]string{"--filenamespec", "@capturedate@/@filename@"}, `path separator in filename spec "/" at position 13`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// Nothing listens on port 1: a spec error comes first.
			r := mountLaunch(t, "127.0.0.1:1", mnt, tc.args...)
			if code := r.exitCode(30 * time.Second); code != 2 {
				t.Errorf("exit status %d, want 2; stderr:\n%s", code, r.stderr.String())
			}
			if !strings.Contains(r.stderr.String(), tc.say) {
				t.Errorf("stderr lacks %q:\n%s", tc.say, r.stderr.String())
			}
		})
	}
}
