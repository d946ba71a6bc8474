package renamed

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/tree"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// lifetimeNames builds the renamed tree of c with @dlnum_lifetime@ in
// every name, on a fresh tree (a new mount), and returns renamed path ->
// camera path.
func lifetimeNames(t *testing.T, c *treetest.Camera, dir string) map[string]string {
	t.Helper()
	lt := OpenLifetime(dir, renameTestCamera, treetest.Logger(t))
	return renameFiles(buildRenamed(t, c, "", "@dlnum_lifetime@_@filename@", lt))
}

// @dlnum_lifetime@ survives mounts: a second build gives the same
// numbers; a file whose size or capture date changed in the same place is
// another file and gets a new number; a new file gets the next one,
// however old it is.
func TestLifetimePersists(t *testing.T) {
	dir := t.TempDir()
	c := treetest.RenameSample()
	first := lifetimeNames(t, c, dir)
	want := map[string]string{
		"SD/DCIM/100NIKON/0001_NODATE.JPG":    "SD/DCIM/100NIKON/NODATE.JPG",
		"SD2/DCIM/100NIKON/0002_DSC_0001.NEF": "SD2/DCIM/100NIKON/DSC_0001.NEF",
		"SD/DCIM/100NIKON/0003_DSC_0001.NEF":  "SD/DCIM/100NIKON/DSC_0001.NEF",
		"SD/DCIM/101NIKON/0004_DSC_0001.NEF":  "SD/DCIM/101NIKON/DSC_0001.NEF",
		"SD/DCIM/100NIKON/0005_DSC_0002.NEF":  "SD/DCIM/100NIKON/DSC_0002.NEF",
		"SD2/DCIM/100NIKON/0006_A_B.JPG":      `SD2/DCIM/100NIKON/A\B.JPG`,
	}
	if !maps.Equal(first, want) {
		t.Fatalf("first mount:\n%s\nwant:\n%s", dumpMap(first), dumpMap(want))
	}
	if again := lifetimeNames(t, c, dir); !maps.Equal(again, first) {
		t.Fatalf("second mount:\n%s\nwant the first's:\n%s", dumpMap(again), dumpMap(first))
	}

	// Changes on the card: DSC_0002.NEF rewritten with another size,
	// NODATE.JPG given a date, and an old file added.
	c.Objects[treetest.FindHandle(t, c, 0x00010001, "DSC_0002.NEF")].Data = []byte("two, longer")
	c.Objects[treetest.FindHandle(t, c, 0x00010001, "DSC_0002.NEF")].Info.CompressedSize = uint32(len("two, longer"))
	c.Objects[treetest.FindHandle(t, c, 0x00010001, "NODATE.JPG")].Info.CaptureDate = "20150101T000000"
	c.Add(0x00010001, treetest.FindHandle(t, c, 0x00010001, "101NIKON"), "OLD.JPG", false, []byte("old"), "20000101T000000", "")
	third := lifetimeNames(t, c, dir)
	// New numbers in naming order: OLD.JPG (2000), NODATE.JPG (2015-01-01),
	// DSC_0002.NEF (2015-09-24 15:00).
	want = map[string]string{
		"SD/DCIM/101NIKON/0007_OLD.JPG":       "SD/DCIM/101NIKON/OLD.JPG",
		"SD/DCIM/100NIKON/0008_NODATE.JPG":    "SD/DCIM/100NIKON/NODATE.JPG",
		"SD2/DCIM/100NIKON/0002_DSC_0001.NEF": "SD2/DCIM/100NIKON/DSC_0001.NEF",
		"SD/DCIM/100NIKON/0003_DSC_0001.NEF":  "SD/DCIM/100NIKON/DSC_0001.NEF",
		"SD/DCIM/101NIKON/0004_DSC_0001.NEF":  "SD/DCIM/101NIKON/DSC_0001.NEF",
		"SD/DCIM/100NIKON/0009_DSC_0002.NEF":  "SD/DCIM/100NIKON/DSC_0002.NEF",
		"SD2/DCIM/100NIKON/0006_A_B.JPG":      `SD2/DCIM/100NIKON/A\B.JPG`,
	}
	if !maps.Equal(third, want) {
		t.Fatalf("after changes:\n%s\nwant:\n%s", dumpMap(third), dumpMap(want))
	}
	if fourth := lifetimeNames(t, c, dir); !maps.Equal(fourth, third) {
		t.Fatalf("mount after the changes:\n%s\nwant:\n%s", dumpMap(fourth), dumpMap(third))
	}

	// One file per camera, nothing else left behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	wantFiles := []string{"dlnum_lifetime-D7200-35551323.json", "dlnum_lifetime-D7200-35551323.json.lock"}
	if !slices.Equal(got, wantFiles) {
		t.Errorf("state directory holds %q, want %q", got, wantFiles)
	}
}

// Another camera (model or serial) has its own numbers.
func TestLifetimePerCamera(t *testing.T) {
	dir := t.TempDir()
	a := OpenLifetime(dir, tree.CameraID{Model: "D7200", Serial: "1"}, nil)
	b := OpenLifetime(dir, tree.CameraID{Model: "D7200", Serial: "2"}, nil)
	c := OpenLifetime(dir, tree.CameraID{Model: "D750", Serial: "1"}, nil)
	k := []LifetimeKey{{Slot: 1, Folder: "DCIM/100NIKON", Name: "DSC_0001.NEF", Size: 1}}
	k2 := []LifetimeKey{{Slot: 1, Folder: "DCIM/100NIKON", Name: "DSC_0002.NEF", Size: 1}}
	for _, step := range []struct {
		l    *Lifetime
		keys []LifetimeKey
		want int
	}{{a, k, 1}, {a, k2, 2}, {b, k2, 1}, {c, k, 1}, {a, k, 1}, {b, k, 2}} {
		nums, err := step.l.Assign(step.keys)
		if err != nil || nums[0] != step.want {
			t.Errorf("%s: %v, %v; want %d", filepath.Base(step.l.Path()), nums, err, step.want)
		}
	}
	if a.Path() == b.Path() || a.Path() == c.Path() {
		t.Errorf("cameras share a file: %s %s %s", a.Path(), b.Path(), c.Path())
	}
	// A model with a path separator still names one file in dir.
	odd := OpenLifetime(dir, tree.CameraID{Model: "../x/y", Serial: ""}, nil)
	if filepath.Dir(odd.Path()) != dir {
		t.Errorf("odd model's file %s is outside %s", odd.Path(), dir)
	}
}

// A corrupt file is set aside with a warning and numbering starts again;
// it is never fatal.
func TestLifetimeCorrupt(t *testing.T) {
	keys := []LifetimeKey{{Slot: 1, Name: "A.JPG", Size: 1}, {Slot: 1, Name: "B.JPG", Size: 2}}
	for name, content := range map[string]string{
		"garbage":        "{not json",
		"truncated":      `{"version":1,"model":"D7200","serial":"35551323","last":5,"objects":[{"slot":1,`,
		"other camera":   `{"version":1,"model":"D750","serial":"35551323","last":0,"objects":[]}`,
		"future version": `{"version":99,"model":"D7200","serial":"35551323","last":0,"objects":[]}`,
		"number too big": `{"version":1,"model":"D7200","serial":"35551323","last":1,"objects":[{"slot":1,"folder":"","name":"A.JPG","size":1,"capture":"","num":7}]}`,
		"duplicate":      `{"version":1,"model":"D7200","serial":"35551323","last":2,"objects":[{"slot":1,"name":"A.JPG","size":1,"num":1},{"slot":1,"name":"A.JPG","size":1,"num":2}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var log treetest.SyncBuffer
			l := OpenLifetime(dir, renameTestCamera, slog.New(slog.NewTextHandler(&log, nil)))
			if err := os.WriteFile(l.Path(), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			nums, err := l.Assign(keys)
			if err != nil || !slices.Equal(nums, []int{1, 2}) {
				t.Fatalf("Assign = %v, %v; want [1 2]", nums, err)
			}
			if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "corrupt") {
				t.Errorf("no warning:\n%s", log.String())
			}
			if b, err := os.ReadFile(l.Path() + ".corrupt"); err != nil || string(b) != content {
				t.Errorf("the corrupt file was not kept aside: %v", err)
			}
			// The new file is good: the next mount reads it.
			again, err := OpenLifetime(dir, renameTestCamera, nil).Assign(keys[1:])
			if err != nil || !slices.Equal(again, []int{2}) {
				t.Errorf("next mount: %v, %v", again, err)
			}
		})
	}
}

// A state directory that cannot be written: the numbers hold for this
// mount, with an error to warn about.
func TestLifetimeUnwritable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	nums, err := OpenLifetime(filepath.Join(dir, "state"), renameTestCamera, nil).Assign([]LifetimeKey{{Name: "A"}, {Name: "B"}})
	if err == nil || !slices.Equal(nums, []int{1, 2}) {
		t.Errorf("Assign = %v, %v; want [1 2] and an error", nums, err)
	}
}

// Mounts of the same camera at the same time never hand out a number
// twice: the file is updated under a lock.
func TestLifetimeConcurrent(t *testing.T) {
	dir := t.TempDir()
	const workers, each = 8, 20
	var wg sync.WaitGroup
	results := make([][]int, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			l := OpenLifetime(dir, renameTestCamera, nil) // one per mount
			for i := range each {
				nums, err := l.Assign([]LifetimeKey{{Slot: 1, Folder: fmt.Sprint(w), Name: fmt.Sprint(i)}})
				if err != nil {
					errs[w] = err
					return
				}
				results[w] = append(results[w], nums[0])
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("concurrent Assign did not finish in 30s")
	}
	seen := map[int]bool{}
	for w, r := range results {
		if errs[w] != nil {
			t.Fatal(errs[w])
		}
		for _, n := range r {
			if seen[n] {
				t.Errorf("number %d handed out twice", n)
			}
			seen[n] = true
		}
	}
	if len(seen) != workers*each {
		t.Errorf("%d numbers, want %d", len(seen), workers*each)
	}
	var f lifetimeFile
	b, err := os.ReadFile(OpenLifetime(dir, renameTestCamera, nil).Path())
	if err != nil || json.Unmarshal(b, &f) != nil || f.Last != workers*each || len(f.Objects) != workers*each {
		t.Errorf("file after the race: last %d, %d objects (%v)", f.Last, len(f.Objects), err)
	}
}

// In memory (no state directory) the numbers still follow the rules for
// the life of the store.
func TestLifetimeMemory(t *testing.T) {
	l := OpenLifetime("", renameTestCamera, nil)
	k := []LifetimeKey{{Name: "A", Size: 1, Capture: "2015-09-24T14:05:13"}, {Name: "B", Size: 1}}
	if nums, err := l.Assign(k); err != nil || !slices.Equal(nums, []int{1, 2}) {
		t.Fatalf("first: %v, %v", nums, err)
	}
	k[0].Capture = "2015-09-24T14:05:14"
	if nums, err := l.Assign(k); err != nil || !slices.Equal(nums, []int{3, 2}) {
		t.Fatalf("after a date change: %v, %v; want [3 2]", nums, err)
	}
	if l.Path() != "" {
		t.Errorf("Path() = %q", l.Path())
	}
}
