package renamed

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/pathspec"
	"github.com/airnef-mount/airnef-mount/tree"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

var renameTestCamera = tree.NewCameraID("Nikon Corporation", "D7200", "0035551323")

// renameFiles is a renamed tree's files: path -> the camera path of the
// object behind it.
func renameFiles(rt *Tree) map[string]string {
	out := map[string]string{}
	var walk func(n *Node)
	walk = func(n *Node) {
		for _, c := range n.Children() {
			if c.IsDir() {
				walk(c)
			} else {
				out[c.Path()] = c.Object.Path()
			}
		}
	}
	walk(rt.Root())
	return out
}

func mustSpec(t *testing.T, s string, file bool) *pathspec.Spec {
	t.Helper()
	if s == "" {
		return nil
	}
	var sp *pathspec.Spec
	var err error
	if file {
		sp, err = pathspec.ParseFilename(s)
	} else {
		sp, err = pathspec.Parse(s)
	}
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func buildRenamed(t *testing.T, c tree.Camera, dir, file string, lt *Lifetime) *Tree {
	t.Helper()
	r := NewRenamer(Config{
		DirSpec: mustSpec(t, dir, false), FileSpec: mustSpec(t, file, true), Camera: renameTestCamera,
		DownloadTime: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Lifetime: lt, Logger: treetest.Logger(t),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt, err := r.Build(ctx, newTestTree(t, c))
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// Each renamed tree is exactly the expected one: directories from the dir
// spec, names from the file spec, each defaulting to the camera's own,
// collisions resolved in (capture date, slot, folder, name) order.
func TestRenamedTree(t *testing.T) {
	tests := map[string]struct {
		dir, file string
		want      map[string]string
	}{
		"issue example": {
			dir: "@capturedate_y@/@capturedate@", file: "@cameramodel@_@filename@",
			want: map[string]string{
				"1970/19700101/D7200_NODATE.JPG":       "SD/DCIM/100NIKON/NODATE.JPG",
				"2015/20150923/D7200_DSC_0001.NEF":     "SD2/DCIM/100NIKON/DSC_0001.NEF",
				"2015/20150924/D7200_DSC_0001.NEF":     "SD/DCIM/100NIKON/DSC_0001.NEF",
				"2015/20150924/D7200_DSC_0001 (2).NEF": "SD/DCIM/101NIKON/DSC_0001.NEF",
				"2015/20150924/D7200_DSC_0002.NEF":     "SD/DCIM/100NIKON/DSC_0002.NEF",
				"2015/20150925/D7200_A_B.JPG":          `SD2/DCIM/100NIKON/A\B.JPG`,
			},
		},
		"file spec only keeps storage and folder": {
			file: "@capturedate@-@dlnum@.@filename_ext@",
			want: map[string]string{
				"SD/DCIM/100NIKON/19700101-0001.JPG":  "SD/DCIM/100NIKON/NODATE.JPG",
				"SD2/DCIM/100NIKON/20150923-0002.NEF": "SD2/DCIM/100NIKON/DSC_0001.NEF",
				"SD/DCIM/100NIKON/20150924-0003.NEF":  "SD/DCIM/100NIKON/DSC_0001.NEF",
				"SD/DCIM/101NIKON/20150924-0004.NEF":  "SD/DCIM/101NIKON/DSC_0001.NEF",
				"SD/DCIM/100NIKON/20150924-0005.NEF":  "SD/DCIM/100NIKON/DSC_0002.NEF",
				"SD2/DCIM/100NIKON/20150925-0006.JPG": `SD2/DCIM/100NIKON/A\B.JPG`,
			},
		},
		"dir spec only keeps the camera's names": {
			dir: `@cameramake@\@slotnumber@`,
			want: map[string]string{
				"Nikon/1/NODATE.JPG":       "SD/DCIM/100NIKON/NODATE.JPG",
				"Nikon/2/DSC_0001.NEF":     "SD2/DCIM/100NIKON/DSC_0001.NEF",
				"Nikon/1/DSC_0001.NEF":     "SD/DCIM/100NIKON/DSC_0001.NEF",
				"Nikon/1/DSC_0001 (2).NEF": "SD/DCIM/101NIKON/DSC_0001.NEF",
				"Nikon/1/DSC_0002.NEF":     "SD/DCIM/100NIKON/DSC_0002.NEF",
				`Nikon/2/A\B.JPG`:          `SD2/DCIM/100NIKON/A\B.JPG`,
			},
		},
		"empty, dot and dot-dot components dropped": {
			dir: "/./../@cameramodel@//.//@camerafolder@/../", file: "@filename_root@.@filename_ext:::l@",
			want: map[string]string{
				"D7200/100NIKON/NODATE.jpg":       "SD/DCIM/100NIKON/NODATE.JPG",
				"D7200/100NIKON/DSC_0001.nef":     "SD2/DCIM/100NIKON/DSC_0001.NEF",
				"D7200/100NIKON/DSC_0001 (2).nef": "SD/DCIM/100NIKON/DSC_0001.NEF",
				"D7200/101NIKON/DSC_0001.nef":     "SD/DCIM/101NIKON/DSC_0001.NEF",
				"D7200/100NIKON/DSC_0002.nef":     "SD/DCIM/100NIKON/DSC_0002.NEF",
				"D7200/100NIKON/A_B.jpg":          `SD2/DCIM/100NIKON/A\B.JPG`,
			},
		},
		"all in the top directory, never as a control directory": {
			dir: "@replace~D7200~@", file: ".camera",
			want: map[string]string{
				".camera (2)": "SD/DCIM/100NIKON/NODATE.JPG",
				".camera (3)": "SD2/DCIM/100NIKON/DSC_0001.NEF",
				".camera (4)": "SD/DCIM/100NIKON/DSC_0001.NEF",
				".camera (5)": "SD/DCIM/101NIKON/DSC_0001.NEF",
				".camera (6)": "SD/DCIM/100NIKON/DSC_0002.NEF",
				".camera (7)": `SD2/DCIM/100NIKON/A\B.JPG`,
			},
		},
		"a directory never takes a control directory's name": {
			dir: ".airnef/@slotnumber@", file: "@filename_root@",
			want: map[string]string{
				".airnef (2)/1/NODATE":       "SD/DCIM/100NIKON/NODATE.JPG",
				".airnef (2)/2/DSC_0001":     "SD2/DCIM/100NIKON/DSC_0001.NEF",
				".airnef (2)/1/DSC_0001":     "SD/DCIM/100NIKON/DSC_0001.NEF",
				".airnef (2)/1/DSC_0001 (2)": "SD/DCIM/101NIKON/DSC_0001.NEF",
				".airnef (2)/1/DSC_0002":     "SD/DCIM/100NIKON/DSC_0002.NEF",
				".airnef (2)/2/A_B":          `SD2/DCIM/100NIKON/A\B.JPG`,
			},
		},
		"a directory keeps its name against a file": {
			// DSC_0002.NEF stays at the top; the DSC_0001.NEF go
			// to DSC_0002.NEF/in, a directory of the same name.
			dir: "@filename@@replace~DSC_0002.NEF~@@replace~DSC_0001.NEF~DSC_0002.NEF/in@@replace~NODATE.JPG~@@replace~A\\B.JPG~@",
			want: map[string]string{
				"NODATE.JPG":                       "SD/DCIM/100NIKON/NODATE.JPG",
				"DSC_0002.NEF/in/DSC_0001.NEF":     "SD2/DCIM/100NIKON/DSC_0001.NEF",
				"DSC_0002.NEF/in/DSC_0001 (2).NEF": "SD/DCIM/100NIKON/DSC_0001.NEF",
				"DSC_0002.NEF/in/DSC_0001 (3).NEF": "SD/DCIM/101NIKON/DSC_0001.NEF",
				"DSC_0002 (2).NEF":                 "SD/DCIM/100NIKON/DSC_0002.NEF",
				`A\B.JPG`:                          `SD2/DCIM/100NIKON/A\B.JPG`,
			},
		},
		"empty name falls back to the camera's": {
			dir: "x", file: "@filename:0:0@@filename:0:0@",
			want: map[string]string{
				"x/NODATE.JPG":       "SD/DCIM/100NIKON/NODATE.JPG",
				"x/DSC_0001.NEF":     "SD2/DCIM/100NIKON/DSC_0001.NEF",
				"x/DSC_0001 (2).NEF": "SD/DCIM/100NIKON/DSC_0001.NEF",
				"x/DSC_0001 (3).NEF": "SD/DCIM/101NIKON/DSC_0001.NEF",
				"x/DSC_0002.NEF":     "SD/DCIM/100NIKON/DSC_0002.NEF",
				`x/A\B.JPG`:          `SD2/DCIM/100NIKON/A\B.JPG`,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rt := buildRenamed(t, treetest.RenameSample(), tc.dir, tc.file, nil)
			got := renameFiles(rt)
			if !maps.Equal(got, tc.want) {
				t.Errorf("renamed tree:\n%s\nwant:\n%s", dumpMap(got), dumpMap(tc.want))
			}
			if rt.Files() != len(tc.want) {
				t.Errorf("Files() = %d, want %d", rt.Files(), len(tc.want))
			}
		})
	}
}

func dumpMap(m map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "\t%q <- %q\n", k, m[k])
	}
	return b.String()
}

// Entries are sorted, directories count their subdirectories, and every
// attribute is a stable function of the card: inode numbers (the path's
// for directories, the identity's for files, never 0 or 1 and all
// different), sizes, and mtimes (a directory's newest file's).
func TestRenamedTreeAttributes(t *testing.T) {
	const dir, file = "@capturedate_y@/@capturedate@", "@cameramodel@_@filename@"
	rt := buildRenamed(t, treetest.RenameSample(), dir, file, nil)
	again := buildRenamed(t, treetest.RenameSample(), dir, file, nil)
	root := rt.Root()
	if got := names2(root.Children()); !slices.Equal(got, []string{"1970", "2015"}) {
		t.Fatalf("top = %q", got)
	}
	if root.Subdirs() != 2 || root.Ino != tree.RootIno || rt.Dirs() != 6 {
		t.Errorf("top: subdirs %d, ino %d, dirs %d", root.Subdirs(), root.Ino, rt.Dirs())
	}
	y2015, _ := root.Lookup("2015")
	if got := names2(y2015.Children()); !slices.Equal(got, []string{"20150923", "20150924", "20150925"}) {
		t.Errorf("2015 = %q", got)
	}
	if want := time.Date(2015, 9, 25, 0, 0, 0, 0, time.UTC); !y2015.Mtime.Equal(want) {
		t.Errorf("2015 mtime %v, want its newest file's %v", y2015.Mtime, want)
	}
	day, _ := y2015.Lookup("20150924")
	if got := names2(day.Children()); !slices.Equal(got, []string{"D7200_DSC_0001 (2).NEF", "D7200_DSC_0001.NEF", "D7200_DSC_0002.NEF"}) {
		t.Errorf("20150924 = %q", got)
	}
	f, _ := day.Lookup("D7200_DSC_0001 (2).NEF")
	if f.Object.Size != int64(len("one in 101")) || !f.Mtime.Equal(time.Date(2015, 9, 24, 14, 5, 13, 0, time.UTC)) {
		t.Errorf("file: size %d mtime %v", f.Object.Size, f.Mtime)
	}
	if f.Path() != "2015/20150924/D7200_DSC_0001 (2).NEF" {
		t.Errorf("Path() = %q", f.Path())
	}

	inos := map[uint64]string{}
	var walk func(a, b *Node)
	walk = func(a, b *Node) {
		if a.Name != b.Name || a.Ino != b.Ino || !a.Mtime.Equal(b.Mtime) {
			t.Errorf("%s differs between two builds: ino %d/%d mtime %v/%v", a.Path(), a.Ino, b.Ino, a.Mtime, b.Mtime)
		}
		if a.Ino < 2 && a != root {
			t.Errorf("%s: ino %d", a.Path(), a.Ino)
		}
		if p, dup := inos[a.Ino]; dup {
			t.Errorf("%s and %s share ino %d", p, a.Path(), a.Ino)
		}
		inos[a.Ino] = a.Path()
		if a.IsDir() && a != root {
			if a.Ino != renamedDirIno(a.Path()) {
				t.Errorf("%s: directory ino is not its path's", a.Path())
			}
		}
		if !a.IsDir() {
			if a.Ino == a.Object.Ino {
				t.Errorf("%s has the camera tree's inode number", a.Path())
			}
		}
		ac, bc := a.Children(), b.Children()
		if !slices.IsSortedFunc(ac, func(x, y *Node) int { return strings.Compare(x.Name, y.Name) }) {
			t.Errorf("%s: entries not sorted", a.Path())
		}
		if len(ac) != len(bc) {
			t.Fatalf("%s: %d entries, then %d", a.Path(), len(ac), len(bc))
		}
		for i := range ac {
			walk(ac[i], bc[i])
		}
	}
	walk(root, again.Root())

	// A file's inode number follows its identity, not its new name:
	// the same file named differently keeps it.
	other := buildRenamed(t, treetest.RenameSample(), "", "x_@filename@", nil)
	o, ok := lookupPath(other.Root(), "SD/DCIM/101NIKON/x_DSC_0001.NEF")
	if !ok || o.Ino != f.Ino {
		t.Errorf("the same file under another name: ino %v, want %d", o, f.Ino)
	}
}

func names2(ns []*Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Name)
	}
	return out
}

func lookupPath(n *Node, p string) (*Node, bool) {
	for _, name := range strings.Split(p, "/") {
		var ok bool
		if n, ok = n.Lookup(name); !ok {
			return nil, false
		}
	}
	return n, true
}

// Names over 255 bytes are shortened keeping the extension (and in
// directories too); '/', NUL and invalid UTF-8 from the metadata never
// reach a name.
func TestRenamedSafeNames(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	c := treetest.New()
	c.AddStorage(0x00010001, "SD", "", 1<<30, 1<<30)
	folder := c.Add(0x00010001, 0, "bad\xffname", true, nil, "", "")
	c.Add(0x00010001, folder, "IMG_0001.JPG", false, []byte("x"), "20240101T000000", "")
	c.Add(0x00010001, folder, "IMG_0002.JPG", false, []byte("y"), "20240101T000001", "")
	rt := buildRenamed(t, c, long+"@filename_ext@.d/@camerafolder@", long+"@filename_root@.@filename_ext@", nil)
	files := renameFiles(rt)
	if len(files) != 2 {
		t.Fatalf("files: %v", files)
	}
	for p := range files {
		parts := strings.Split(p, "/")
		if len(parts) != 3 {
			t.Fatalf("%q: want two directories and a file", p)
		}
		for _, part := range parts {
			if len(part) > tree.MaxNameLen || !utf8Valid(part) || strings.ContainsAny(part, "\x00") {
				t.Errorf("component %q (%d bytes) is not a safe name", part, len(part))
			}
		}
		if !strings.HasSuffix(parts[0], "é.d") || len(parts[0]) < tree.MaxNameLen-1 {
			t.Errorf("directory %q: want it shortened keeping .d", parts[0])
		}
		if parts[1] != "bad_name" {
			t.Errorf("camera folder component %q, want bad_name", parts[1])
		}
		if !strings.HasSuffix(parts[2], ".JPG") || len(parts[2]) < tree.MaxNameLen-1 {
			t.Errorf("file %q: want it shortened keeping .JPG", parts[2])
		}
	}
	// Shortened to the same stem: the second capture is numbered, still
	// within 255 bytes.
	names := slices.Sorted(maps.Keys(files))
	if !strings.Contains(names[0]+names[1], " (2).JPG") {
		t.Errorf("shortened names do not collide into (2): %q", names)
	}

	for in, want := range map[string]string{
		"a/b":   "a_b",
		`a\b`:   "a_b",
		"a\x00": "a_",
		".":     "_.",
		"..":    "_..",
		"ok":    "ok",
	} {
		if got, ok := safeFileName(in); !ok || got != want {
			t.Errorf("safeFileName(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := safeFileName(""); ok {
		t.Error("safeFileName accepted an empty name")
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// @dlnum@ numbers the mount's files oldest capture first, ties by (slot,
// folder, name); a later build after new captures keeps the numbers and
// gives the new files the next ones, even a new file older than the rest.
func TestRenamedDLNum(t *testing.T) {
	c := treetest.RenameSample()
	r := NewRenamer(Config{
		FileSpec: mustSpec(t, "@dlnum@_@filename@", true), Camera: renameTestCamera, Logger: treetest.Logger(t),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt, err := r.Build(ctx, newTestTree(t, c))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"SD/DCIM/100NIKON/0001_NODATE.JPG":    "SD/DCIM/100NIKON/NODATE.JPG",
		"SD2/DCIM/100NIKON/0002_DSC_0001.NEF": "SD2/DCIM/100NIKON/DSC_0001.NEF",
		"SD/DCIM/100NIKON/0003_DSC_0001.NEF":  "SD/DCIM/100NIKON/DSC_0001.NEF",
		"SD/DCIM/101NIKON/0004_DSC_0001.NEF":  "SD/DCIM/101NIKON/DSC_0001.NEF",
		"SD/DCIM/100NIKON/0005_DSC_0002.NEF":  "SD/DCIM/100NIKON/DSC_0002.NEF",
		"SD2/DCIM/100NIKON/0006_A_B.JPG":      `SD2/DCIM/100NIKON/A\B.JPG`,
	}
	if got := renameFiles(rt); !maps.Equal(got, want) {
		t.Fatalf("renamed tree:\n%s\nwant:\n%s", dumpMap(got), dumpMap(want))
	}

	// New captures: one older than everything, one newer.
	f100 := treetest.FindHandle(t, c, 0x00010001, "100NIKON")
	c.Add(0x00010001, f100, "DSC_0000.NEF", false, []byte("old"), "20100101T000000", "")
	c.Add(0x00010001, f100, "DSC_0003.NEF", false, []byte("new"), "20200101T000000", "")
	rt, err = r.Build(ctx, newTestTree(t, c))
	if err != nil {
		t.Fatal(err)
	}
	want["SD/DCIM/100NIKON/0007_DSC_0000.NEF"] = "SD/DCIM/100NIKON/DSC_0000.NEF"
	want["SD/DCIM/100NIKON/0008_DSC_0003.NEF"] = "SD/DCIM/100NIKON/DSC_0003.NEF"
	if got := renameFiles(rt); !maps.Equal(got, want) {
		t.Fatalf("after new captures:\n%s\nwant:\n%s", dumpMap(got), dumpMap(want))
	}
}

// Building the renamed tree lists each folder once, with one
// GetObjectInfo per object: no more than browsing the whole camera tree,
// and the camera tree then answers from that listing.
func TestRenamedListingCost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	browse := treetest.RenameSample()
	tr := newTestTree(t, browse)
	var browseAll func(o *tree.Object)
	browseAll = func(o *tree.Object) {
		children, err := tr.List(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range children {
			if c.IsDir() {
				browseAll(c)
			}
		}
	}
	browseAll(tr.Root())

	c := treetest.RenameSample()
	tr2 := newTestTree(t, c)
	var logBuf treetest.SyncBuffer
	r := NewRenamer(Config{
		DirSpec: mustSpec(t, "@capturedate@", false), Camera: renameTestCamera,
		ProgressEvery: time.Nanosecond, Logger: slog.New(slog.NewTextHandler(&logBuf, nil)),
	})
	if _, err := r.Build(ctx, tr2); err != nil {
		t.Fatal(err)
	}
	for what, n := range map[string][2]int64{
		"GetObjectHandles": {c.HandleCalls.Load(), browse.HandleCalls.Load()},
		"GetObjectInfo":    {c.InfoCalls.Load(), browse.InfoCalls.Load()},
		"storage":          {c.StorageCalls.Load(), browse.StorageCalls.Load()},
	} {
		if n[0] != n[1] || n[0] == 0 {
			t.Errorf("%s: %d calls to build, %d to browse the camera tree", what, n[0], n[1])
		}
	}
	before := c.InfoCalls.Load() + c.HandleCalls.Load()
	for _, p := range [][]string{{"SD", "DCIM", "100NIKON"}, {"SD2", "DCIM", "100NIKON"}} {
		o := walk(t, tr2, p...)
		if _, err := tr2.List(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if after := c.InfoCalls.Load() + c.HandleCalls.Load(); after != before {
		t.Errorf("browsing the camera tree after the build asked the camera %d more times", after-before)
	}
	if log := logBuf.String(); !strings.Contains(log, "listing the card") || !strings.Contains(log, "renamed tree ready") {
		t.Errorf("no progress logged:\n%s", log)
	}
}

// A camera that fails mid-listing fails the build.
func TestRenamedBuildFails(t *testing.T) {
	c := treetest.RenameSample()
	c.Fail = treetest.ErrBroken
	r := NewRenamer(Config{FileSpec: mustSpec(t, "@filename@", true), Camera: renameTestCamera})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.Build(ctx, newTestTree(t, c)); err == nil {
		t.Fatal("Build succeeded on a broken camera")
	}
}
