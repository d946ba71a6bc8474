package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
)

// A camera whose thumbnail is an image bomb (camsim --hostile thumbbomb: a
// 68-byte PNG declaring 10^12 pixels; thumbhuge: a valid 16,000 x 16,000
// PNG) never kills the mount with --thumbnails: the image is refused from
// its header with one log line, memory stays bounded, the rest of the
// folder and the card is listed and thumbnailed, and the mount unmounts
// within seconds.
func TestHostileThumbnails(t *testing.T) {
	mountRequireFUSE(t)
	gio := mountRequireTool(t, "gio")
	for kind, folder := range map[string]string{"thumbbomb": "THUMBBOMB", "thumbhuge": "THUMBHUGE"} {
		t.Run(kind, func(t *testing.T) {
			cam, addr := faultSim(t, camsim.Config{Generate: &camsim.CardSpec{Photos: 2, Seed: 3, Size: camsim.MinGeneratedSize}, Hostile: []string{kind}})
			mnt := mountDir(t)
			cacheHome := t.TempDir()
			run := mountStartEnv(t, []string{"XDG_CACHE_HOME=" + cacheHome}, addr, mnt, "--thumbnails", "--timeout", faultTimeout.String())
			storage := mountStorage(t, mnt)
			names := hostileNames(t, filepath.Join(storage, folder))
			if len(names) != 2 {
				t.Fatalf("%s holds %q, want the bad file and GOOD.JPG", folder, names)
			}
			var photos []string
			for _, f := range cam.Files() {
				if !f.Dir && strings.HasPrefix(f.Path, "DCIM/") {
					photos = append(photos, filepath.Join(storage, f.Path))
					if _, err := os.ReadDir(filepath.Dir(filepath.Join(storage, f.Path))); err != nil {
						t.Fatal(err)
					}
				}
			}
			stats := mediaWaitThumbnails(t, mnt, int64(len(photos)+2))
			if made, failed := mountStatInt(t, stats, "thumbnails_made"), mountStatInt(t, stats, "thumbnails_failed"); made != int64(len(photos)+1) || failed != 1 {
				t.Errorf("stats %v: want %d made and the bad one failed", stats, len(photos)+1)
			}
			bad := filepath.Join(storage, folder, names[0])
			if names[0] == "GOOD.JPG" {
				bad = filepath.Join(storage, folder, names[1])
			}
			mediaGIOValid(t, gio, cacheHome, append(photos, filepath.Join(storage, folder, "GOOD.JPG")), []string{bad})
			if n, log := hostileLogLines(run, 1, "thumbnail refused", filepath.Base(bad)); n != 1 {
				t.Errorf("%d lines refusing %s, want 1:\n%s", n, bad, log)
			}
			// Listing again makes and logs nothing more.
			hostileNames(t, filepath.Join(storage, folder))
			time.Sleep(200 * time.Millisecond)
			if n, _ := hostileLogLines(run, 2, "thumbnail refused"); n != 1 {
				t.Errorf("the refusal was logged %d times", n)
			}
			hostileAlive(t, cam, storage, run)
			if hwm := mountVmHWM(t, run.cmd.Process.Pid); hwm > 100<<20 {
				t.Errorf("peak RSS %d MiB", hwm>>20)
			} else {
				t.Logf("peak RSS %d MiB", hwm>>20)
			}
			start := time.Now()
			run.cmd.Process.Signal(os.Interrupt)
			if code := run.exitCode(10 * time.Second); code != 0 {
				t.Errorf("exit status %d", code)
			}
			t.Logf("unmounted in %v", time.Since(start).Round(time.Millisecond))
		})
	}
}
