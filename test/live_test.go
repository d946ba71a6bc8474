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
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/test/camsim"
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
// once with both changes reported together.
func TestLiveNameReused(t *testing.T) {
	for name, p := range map[string]func() *camsim.Personality{
		"events": camsim.Generic,
		"nikon":  camsim.Nikon,
	} {
		t.Run(name, func(t *testing.T) {
			mountRequireFUSE(t)
			dir, files := mountCard(t, mountCardSpec{jpegs: 6})
			cam, port := simStart(t, camsim.Config{Dir: dir, Personality: p()})
			mnt := mountDir(t)
			mountStart(t, net.JoinHostPort("127.0.0.1", port), mnt)
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
