package test

// The live camera beyond the basics of realtime_test.go: a name deleted
// and taken again by a new capture, captures in folders the mount has not
// listed (and in a folder the camera has just made), and the renamed tree
// following the camera. Helpers start with "live".

import (
	"bytes"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
)

// liveShot writes data to a host file called name, for the simulator's add.
func liveShot(t *testing.T, name string, data []byte) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

// liveControl runs a control command of the simulator and fails the test
// unless it answers ok.
func liveControl(t *testing.T, cam *camsim.Camera, cmd string) string {
	t.Helper()
	a := cam.Control(cmd)
	if !strings.HasPrefix(a, "ok") {
		t.Fatalf("%s: %q", cmd, a)
	}
	return a
}

// liveReused is a new JPEG of exactly old's size with other bytes: the
// kernel cannot tell it from old by its attributes.
func liveReused(t *testing.T, old []byte) []byte {
	t.Helper()
	for i := 100; i < 200; i++ {
		b := mountJPEG(t, i)
		switch {
		case len(b) > len(old):
			continue
		case len(b) < len(old):
			// Pad after the end-of-image marker: still a JPEG.
			b = append(b, bytes.Repeat([]byte{0xA5}, len(old)-len(b))...)
		}
		if !bytes.Equal(b, old) {
			return b
		}
	}
	t.Fatal("no replacement JPEG small enough")
	return nil
}

// A file read through the mount (its bytes in the block cache and the
// kernel's page cache, its inode held open), deleted on the camera and its
// name taken by a new capture of the same size: the mount reads the new
// bytes, never the old cached ones. Once with the deletion seen first,
// once with both changes reported together; and in the renamed tree
// (the camera's folders, the same names: the same paths).
func TestLiveNameReused(t *testing.T) {
	for name, tc := range map[string]struct {
		p    func() *camsim.Personality
		args []string
	}{
		"events":  {camsim.Generic, nil},
		"nikon":   {camsim.Nikon, nil},
		"renamed": {camsim.Generic, []string{"--filenamespec", "@filename@"}},
	} {
		t.Run(name, func(t *testing.T) {
			mountRequireFUSE(t)
			dir, files := mountCard(t, mountCardSpec{jpegs: 6})
			cam, port := simStart(t, camsim.Config{Dir: dir, Personality: tc.p()})
			mnt := mountDir(t)
			mountStart(t, net.JoinHostPort("127.0.0.1", port), mnt, tc.args...)
			store := mountStorage(t, mnt)

			for i, together := range []bool{false, true} {
				f := files[i]
				path := filepath.Join(store, f.rel)
				if got := rtRead(t, path); !bytes.Equal(got, f.data) {
					t.Fatalf("%s: bytes differ from the card's", f.rel)
				}
				// The kernel keeps the old inode while this is open.
				held, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer held.Close()
				fresh := liveReused(t, f.data)
				src := liveShot(t, filepath.Base(f.rel), fresh)

				liveControl(t, cam, "delete "+f.rel)
				if !together {
					rtEventually(t, "the deleted file gone", func() bool {
						_, err := os.Stat(path)
						return errors.Is(err, fs.ErrNotExist)
					})
				}
				liveControl(t, cam, "add "+src+" "+f.rel)
				took := rtEventually(t, "the new bytes under the reused name", func() bool {
					got, err := os.ReadFile(path)
					return err == nil && bytes.Equal(got, fresh)
				})
				t.Logf("together=%v: the new bytes read %v after the capture", together, took.Round(time.Millisecond))
				// And they stay: nothing cached of the old file comes back.
				for range 3 {
					if got := rtRead(t, path); !bytes.Equal(got, fresh) {
						t.Fatalf("together=%v: the reused name read old bytes again", together)
					}
					time.Sleep(100 * time.Millisecond)
				}
				// The open file of the deleted object never gives the new
				// object's bytes.
				buf := make([]byte, len(fresh))
				if n, err := held.ReadAt(buf, 0); err == nil && bytes.Equal(buf[:n], fresh) {
					t.Errorf("together=%v: the old open file reads the new capture's bytes", together)
				}
			}
			// The other files were not disturbed.
			for _, f := range files[2:] {
				if got := rtRead(t, filepath.Join(store, f.rel)); !bytes.Equal(got, f.data) {
					t.Errorf("%s: bytes differ from the card's", f.rel)
				}
			}
		})
	}
}

// liveOnNew waits until --on-new (which appends its argument to out) has
// run for path, and checks it ran for it once.
func liveOnNew(t *testing.T, out, path string) time.Duration {
	t.Helper()
	took := rtEventually(t, "--on-new run for "+path, func() bool {
		b, _ := os.ReadFile(out)
		return strings.Contains(string(b), path+"\n")
	})
	if b, _ := os.ReadFile(out); strings.Count(string(b), path+"\n") != 1 {
		t.Errorf("--on-new ran %d times for %s: %q", strings.Count(string(b), path+"\n"), path, b)
	}
	return took
}

// liveLatest checks that /.airnef/latest is a relative link to path and
// reads data through it.
func liveLatest(t *testing.T, mnt, path string, data []byte) {
	t.Helper()
	latest := filepath.Join(mnt, ".airnef", "latest")
	target, err := os.Readlink(latest)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := filepath.Rel(filepath.Join(mnt, ".airnef"), path); target != want {
		t.Errorf("latest -> %q, want %q", target, want)
	}
	if got := rtRead(t, latest); !bytes.Equal(got, data) {
		t.Errorf("through latest: %d bytes differ from the shot's %d", len(got), len(data))
	}
}

// liveListed reports whether dir lists name.
func liveListed(t *testing.T, dir, name string) bool {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if de.Name() == name {
			return true
		}
	}
	return false
}

// Captures in folders the mount has not listed: one the mount knows of but
// never listed (events and polling: diffing only looks at listed folders,
// so there it shows when the folder is first listed), and one the camera
// has just made (DCIM/102TEST, as a camera does when 100 is full). Each
// shows in the mount, runs --on-new and becomes /.airnef/latest within
// the bound, and the mount does not list the rest of the card for it.
func TestLiveUnlistedFolders(t *testing.T) {
	for name, tc := range map[string]struct {
		p        func() *camsim.Personality
		reported bool // the camera reports each object (not diffing)
	}{
		"events":  {camsim.Generic, true},
		"nikon":   {camsim.Nikon, true},
		"diffing": {camsim.Canon, false},
	} {
		t.Run(name, func(t *testing.T) {
			mountRequireFUSE(t)
			dir, _ := mountCard(t, mountCardSpec{jpegs: 6})
			cam, port := simStart(t, camsim.Config{Dir: dir, Personality: tc.p()})
			out := filepath.Join(t.TempDir(), "on-new.txt")
			mnt := mountDir(t)
			mountStart(t, net.JoinHostPort("127.0.0.1", port), mnt, "--on-new", "printf '%s\\n' >>"+out)
			store := mountStorage(t, mnt)
			// DCIM is listed; its folders are not.
			if !liveListed(t, filepath.Join(store, "DCIM"), "101TEST") {
				t.Fatal("DCIM does not list 101TEST")
			}

			if tc.reported {
				shot := mountJPEG(t, 77)
				liveControl(t, cam, "add "+liveShot(t, "SUB_0077.JPG", shot)+" DCIM/101TEST/SUB/SUB_0077.JPG")
				path := filepath.Join(store, "DCIM", "101TEST", "SUB", "SUB_0077.JPG")
				took := liveOnNew(t, out, path)
				t.Logf("a shot in a folder never listed: --on-new after %v", took.Round(time.Millisecond))
				liveLatest(t, mnt, path, shot)
				if !liveListed(t, filepath.Dir(path), "SUB_0077.JPG") {
					t.Error("the folder does not list the shot")
				}
			}

			shot := mountJPEG(t, 88)
			liveControl(t, cam, "add "+liveShot(t, "NEW_0088.JPG", shot)+" DCIM/102TEST/NEW_0088.JPG")
			path := filepath.Join(store, "DCIM", "102TEST", "NEW_0088.JPG")
			took := liveOnNew(t, out, path)
			t.Logf("a shot in a new folder: --on-new after %v", took.Round(time.Millisecond))
			liveLatest(t, mnt, path, shot)
			if !liveListed(t, filepath.Join(store, "DCIM"), "102TEST") || !liveListed(t, filepath.Dir(path), "NEW_0088.JPG") {
				t.Error("the new folder or its shot is not listed")
			}
			if got := rtRead(t, path); !bytes.Equal(got, shot) {
				t.Error("the shot's bytes differ")
			}
			if b, _ := os.ReadFile(out); strings.Count(string(b), "\n") != map[bool]int{true: 2, false: 1}[tc.reported] {
				t.Errorf("--on-new ran for %q", b)
			}
		})
	}
}

// liveIno is the inode number of path.
func liveIno(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// The renamed tree follows the camera: a new capture (older than the
// card's files, in a folder the camera has just made, with a name already
// taken in the renamed tree) appears under its renamed path, which
// --on-new and /.airnef/latest give; the files already there keep their
// paths, inodes and bytes; a deletion on the camera takes the renamed
// file out and moves nobody.
func TestLiveRenamed(t *testing.T) {
	for name, p := range map[string]func() *camsim.Personality{
		"events":  camsim.Generic,
		"diffing": camsim.Canon,
	} {
		t.Run(name, func(t *testing.T) {
			mountRequireFUSE(t)
			dir, files := mountCard(t, mountCardSpec{jpegs: 6})
			cam, port := simStart(t, camsim.Config{Dir: dir, Personality: p()})
			out := filepath.Join(t.TempDir(), "on-new.txt")
			mnt := mountDir(t)
			mountStart(t, net.JoinHostPort("127.0.0.1", port), mnt,
				"--dirnamespec", "all", "--filenamespec", "@filename@", "--on-new", "printf '%s\\n' >>"+out)
			all := filepath.Join(mnt, "all")
			inos := map[string]uint64{}
			for _, f := range files {
				p := filepath.Join(all, filepath.Base(f.rel))
				if got := rtRead(t, p); !bytes.Equal(got, f.data) {
					t.Fatalf("%s: bytes differ from the card's %s", p, f.rel)
				}
				inos[p] = liveIno(t, p)
			}

			// IMG_0002.JPG again, shot (by its date) before everything
			// else, in a new folder.
			shot := mountJPEG(t, 55)
			src := liveShot(t, "IMG_0002.JPG", shot)
			old := time.Date(2020, 1, 2, 12, 0, 0, 0, time.Local)
			if err := os.Chtimes(src, old, old); err != nil {
				t.Fatal(err)
			}
			liveControl(t, cam, "add "+src+" DCIM/102TEST/IMG_0002.JPG")
			newPath := filepath.Join(all, "IMG_0002 (2).JPG")
			took := liveOnNew(t, out, newPath)
			t.Logf("--on-new ran with the renamed path %v after the capture", took.Round(time.Millisecond))
			liveLatest(t, mnt, newPath, shot)
			if got := rtRead(t, newPath); !bytes.Equal(got, shot) {
				t.Error("the new capture's bytes differ")
			}
			if !liveListed(t, all, "IMG_0002 (2).JPG") {
				t.Error("the renamed directory does not list the new capture")
			}
			if got := rtRead(t, filepath.Join(mnt, ".camera", mountStorageName(t, mnt), "DCIM", "102TEST", "IMG_0002.JPG")); !bytes.Equal(got, shot) {
				t.Error("/.camera: the new capture's bytes differ")
			}
			for _, f := range files {
				p := filepath.Join(all, filepath.Base(f.rel))
				if got := rtRead(t, p); !bytes.Equal(got, f.data) {
					t.Errorf("%s after the capture: bytes differ from %s's", p, f.rel)
				}
				if ino := liveIno(t, p); ino != inos[p] {
					t.Errorf("%s: inode %d, was %d", p, ino, inos[p])
				}
			}

			// The file that had the name goes: nothing moves.
			gone := filepath.Join(all, "IMG_0002.JPG")
			liveControl(t, cam, "delete "+files[1].rel)
			rtEventually(t, "the deleted file gone from the renamed tree", func() bool {
				_, err := os.Stat(gone)
				return errors.Is(err, fs.ErrNotExist)
			})
			if liveListed(t, all, "IMG_0002.JPG") {
				t.Error("the renamed directory still lists the deleted file")
			}
			if got := rtRead(t, newPath); !bytes.Equal(got, shot) {
				t.Error("the new capture after the deletion: bytes differ")
			}
			liveLatest(t, mnt, newPath, shot)
			for i, f := range files {
				if i == 1 {
					continue
				}
				p := filepath.Join(all, filepath.Base(f.rel))
				if got := rtRead(t, p); !bytes.Equal(got, f.data) {
					t.Errorf("%s after the deletion: bytes differ", p)
				}
			}
			if b, _ := os.ReadFile(out); strings.Count(string(b), "\n") != 1 {
				t.Errorf("--on-new ran for %q, want the capture once", b)
			}
		})
	}
}

// mountStorageName is the name of the camera tree's one storage under
// /.camera of a renamed mount.
func mountStorageName(t *testing.T, mnt string) string {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(mnt, ".camera"))
	if err != nil || len(des) != 1 {
		t.Fatalf("/.camera: %v %v", des, err)
	}
	return des[0].Name()
}
