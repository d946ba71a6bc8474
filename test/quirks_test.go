package test

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
)

// TestQuirksTolerated mounts cameras answering as foreign responders do
// (camsim --quirk, issue 15) and copies their cards whole: an answer with
// transaction ID 0, objects reporting a StorageID the camera does not
// list, a GetObjectPropList that leaves out every other object. On an EOS
// the StorageID quirk is in GetObjectInfoEx's entries too.
func TestQuirksTolerated(t *testing.T) {
	mountRequireFUSE(t)
	mountBuild(t)
	for name, tc := range map[string]struct {
		p *camsim.Personality
		q camsim.Quirks
	}{
		"tid-zero":             {camsim.Generic(), camsim.Quirks{TIDZero: true}},
		"tid-zero eos":         {camsim.Canon(), camsim.Quirks{TIDZero: true}},
		"storage-mismatch":     {camsim.Generic(), camsim.Quirks{StorageMismatch: true}},
		"storage-mismatch eos": {camsim.Canon(), camsim.Quirks{StorageMismatch: true}},
		"proplist-drops":       {camsim.Generic(), camsim.Quirks{PropListDrops: true}},
	} {
		t.Run(name, func(t *testing.T) {
			dir, files, _ := bodiesCard(t, tc.p)
			_, port := simStart(t, camsim.Config{Dir: dir, Personality: tc.p, Quirks: tc.q})
			mnt := mountDir(t)
			r := mountStart(t, net.JoinHostPort("127.0.0.1", port), mnt, "--metadata-cache=false")
			dst := t.TempDir()
			mountRunCmd(t, 60*time.Second, nil, "cp", "-a", mountStorage(t, mnt)+"/.", dst)
			for rel, want := range files {
				got, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(rel)))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: %d bytes copied, want the card's %d: %v", rel, len(got), len(want), err)
				}
			}
			r.stop()
		})
	}
}

// TestQuirkStorageMismatchGphoto2 records what gphoto2 does with objects
// whose StorageID is not the storage they were listed in (issue 15: it
// hides them): it lists no file, where the mount shows them all
// (TestQuirksTolerated).
func TestQuirkStorageMismatchGphoto2(t *testing.T) {
	gphotoTool(t, "gphoto2")
	dir, files, _ := bodiesCard(t, camsim.Generic())
	_, port := simStart(t, camsim.Config{Dir: dir, Personality: camsim.Generic(), Quirks: camsim.Quirks{StorageMismatch: true}})
	out := newGphoto(t, port).run(t, t.TempDir(), "--list-files")
	listed := regexp.MustCompile(`(?m)^#\d+\s`).FindAllString(out, -1)
	t.Logf("gphoto2 lists %d of the card's %d files:\n%s", len(listed), len(files), out)
	if len(listed) >= len(files) {
		t.Errorf("gphoto2 listed %d files: it no longer hides objects of another storage", len(listed))
	}
}
