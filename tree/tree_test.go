package tree

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/cache"
	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

func newTestTree(t *testing.T, c Camera) *Tree {
	t.Helper()
	tr := New(c, Config{Location: time.UTC})
	t.Cleanup(tr.Close)
	return tr
}

// walk resolves a path from the root with Lookup.
func walk(t *testing.T, tr *Tree, path ...string) *Object {
	t.Helper()
	o := tr.Root()
	for _, name := range path {
		var err error
		o, err = tr.Lookup(context.Background(), o, name)
		if err != nil {
			t.Fatalf("lookup %q: %v", path, err)
		}
	}
	return o
}

func names(objs []*Object) []string {
	var n []string
	for _, o := range objs {
		n = append(n, o.Name)
	}
	return n
}

func TestTreeListing(t *testing.T) {
	c := treetest.Sample()
	tr := newTestTree(t, c)
	ctx := context.Background()
	if c.HandleCalls.Load() != 0 || c.StorageCalls.Load() != 0 {
		t.Fatal("New asked the camera before anything was listed")
	}
	root, err := tr.List(ctx, tr.Root())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(root), []string{"SD", "card3"}; !slices.Equal(got, want) {
		t.Fatalf("root = %q, want %q", got, want)
	}
	if c.HandleCalls.Load() != 0 {
		t.Fatal("listing the root listed folders")
	}
	sd, err := tr.List(ctx, root[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(sd), []string{"2024-03-15", "DCIM"}; !slices.Equal(got, want) {
		t.Fatalf("SD = %q, want %q", got, want)
	}
	if got, want := sd[0].Mtime, time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("dated folder mtime = %v, want %v", got, want)
	}
	dir := walk(t, tr, "SD", "DCIM", "100NIKON")
	files, err := tr.List(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(files), []string{"DSC_0001.JPG", "DSC_0002.JPG", "DSC_0003.JPG", "a_b (2).JPG", "a_b.JPG"}; !slices.Equal(got, want) {
		t.Fatalf("100NIKON = %q, want %q", got, want)
	}
	byName := map[string]*Object{}
	for _, f := range files {
		byName[f.Name] = f
	}
	if o := byName["a_b.JPG"]; o.RawName != "a_b.JPG" || o.Size != int64(len("underscore")) {
		t.Errorf("a_b.JPG is %q (%d bytes), want the camera's a_b.JPG", o.RawName, o.Size)
	}
	mtimes := map[string]time.Time{
		"DSC_0001.JPG": time.Date(2024, 3, 15, 14, 30, 25, 0, time.UTC), // capture date
		"DSC_0002.JPG": time.Date(2024, 3, 16, 8, 0, 0, 0, time.UTC),    // modification date
		"DSC_0003.JPG": Epoch,                                           // invalid date, none else
	}
	for name, want := range mtimes {
		if got := byName[name].Mtime; !got.Equal(want) {
			t.Errorf("%s mtime = %v, want %v", name, got, want)
		}
	}
	if tr.Subdirs(dir) != 0 || tr.Subdirs(walk(t, tr, "SD")) != 2 || tr.Subdirs(walk(t, tr, "card3")) != -1 {
		t.Errorf("Subdirs: 100NIKON %d, SD %d, card3 (unlisted) %d", tr.Subdirs(dir), tr.Subdirs(walk(t, tr, "SD")), tr.Subdirs(walk(t, tr, "card3")))
	}

	big := walk(t, tr, "card3", "BIG.MOV")
	if big.Size != 5<<30 {
		t.Errorf("BIG.MOV size = %d, want %d", big.Size, int64(5<<30))
	}
	if c.SizeCalls.Load() != 1 {
		t.Errorf("ObjectSize asked %d times, want once (for the object over 4 GiB)", c.SizeCalls.Load())
	}

	// Listed folders are answered from memory.
	before := c.HandleCalls.Load() + c.InfoCalls.Load()
	walk(t, tr, "SD", "DCIM", "100NIKON", "DSC_0001.JPG")
	if _, err := tr.Lookup(ctx, dir, "missing.JPG"); !errors.Is(err, ErrNotFound) {
		t.Errorf("lookup of a missing name: %v, want ErrNotFound", err)
	}
	if after := c.HandleCalls.Load() + c.InfoCalls.Load(); after != before {
		t.Errorf("a listed folder asked the camera %d more times", after-before)
	}
	if got := tr.ObjectsListed(); got != int64(len(c.Objects)) {
		t.Errorf("ObjectsListed = %d, want %d", got, len(c.Objects))
	}
	if o, ok := tr.Object(big.Ino); !ok || o != big {
		t.Errorf("Object(%#x) = %v, %v", big.Ino, o, ok)
	}
	if p := byName["DSC_0001.JPG"].Path(); p != "SD/DCIM/100NIKON/DSC_0001.JPG" {
		t.Errorf("Path = %q", p)
	}
}

// Inode numbers are a hash of the place: identical in a new tree (a
// remount), even when the camera numbers its handles differently.
func TestTreeInodesStable(t *testing.T) {
	inos := func(c *treetest.Camera) map[string]uint64 {
		tr := newTestTree(t, c)
		m := map[string]uint64{}
		var rec func(o *Object)
		rec = func(o *Object) {
			m[o.Path()] = o.Ino
			if !o.IsDir() {
				return
			}
			ch, err := tr.List(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range ch {
				rec(c)
			}
		}
		rec(tr.Root())
		return m
	}
	a := inos(treetest.Sample())
	renumbered := treetest.Sample()
	objs := renumbered.Objects
	renumbered.Objects = map[uint32]*treetest.Object{}
	for h, o := range objs {
		if o.Info.ParentObject != 0 {
			o.Info.ParentObject += 1000
		}
		renumbered.Objects[h+1000] = o
	}
	renumbered.Next += 1000
	b := inos(renumbered)
	if len(a) != len(b) || len(a) < 10 {
		t.Fatalf("trees differ in size: %d and %d", len(a), len(b))
	}
	seen := map[uint64]string{}
	for p, ino := range a {
		if b[p] != ino {
			t.Errorf("%q: inode %#x, after renumbering %#x", p, ino, b[p])
		}
		if ino < 2 && p != "" {
			t.Errorf("%q: inode %d", p, ino)
		}
		if q, dup := seen[ino]; dup {
			t.Errorf("%q and %q share inode %#x", p, q, ino)
		}
		seen[ino] = p
	}
}

func TestInodeNeverReserved(t *testing.T) {
	for i := range 20000 {
		if ino := inodeOf(uint16(i), fmt.Sprint(i)); ino < 2 {
			t.Fatalf("inodeOf(%d) = %d", i, ino)
		}
	}
	if inodeOf(1, "SD/a") == inodeOf(2, "SD/a") || inodeOf(1, "SD/a") == inodeOf(1, "SD/b") {
		t.Fatal("different places share an inode")
	}
}

func TestTreeCameraTimeZone(t *testing.T) {
	c := treetest.New()
	c.AddStorage(0x00010001, "SD", "", 0, 0)
	c.Add(0x00010001, 0, "A.JPG", false, []byte("x"), "20240315T143025", "")
	c.Add(0x00010001, 0, "B.JPG", false, []byte("x"), "20240315T143025Z", "")
	tokyo := time.FixedZone("JST", 9*3600)
	tr := New(c, Config{Location: tokyo})
	defer tr.Close()
	a := walk(t, tr, "SD", "A.JPG")
	b := walk(t, tr, "SD", "B.JPG")
	if want := time.Date(2024, 3, 15, 14, 30, 25, 0, tokyo); !a.Mtime.Equal(want) {
		t.Errorf("wall time read in the camera's zone: %v, want %v", a.Mtime, want)
	}
	if want := time.Date(2024, 3, 15, 14, 30, 25, 0, time.UTC); !b.Mtime.Equal(want) {
		t.Errorf("a date with its own zone: %v, want %v", b.Mtime, want)
	}
}

// Concurrent callers share one listing, and a slow listing does not block
// answers from folders already listed.
func TestTreeListOnceNoLockAcrossCamera(t *testing.T) {
	c := treetest.Sample()
	tr := newTestTree(t, c)
	ctx := context.Background()
	sd := walk(t, tr, "SD")
	if _, err := tr.List(ctx, sd); err != nil {
		t.Fatal(err)
	}
	dcim := walk(t, tr, "SD", "DCIM")

	block := make(chan struct{})
	c.Mu.Lock()
	c.Block = block
	c.Mu.Unlock()
	calls := c.HandleCalls.Load()

	var wg sync.WaitGroup
	results := make([][]*Object, 10)
	errs := make([]error, 10)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = tr.List(ctx, dcim) })
	}
	// While the camera holds the listing, a listed folder still answers.
	done := make(chan error, 1)
	go func() {
		_, err := tr.Lookup(ctx, sd, "2024-03-15")
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("lookup in a listed folder waited for another folder's listing")
	}
	// An interrupted caller stops waiting with its context's error.
	ictx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := tr.List(ictx, dcim); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted list: %v, want context.Canceled", err)
	}
	close(block)
	wg.Wait()
	for i := range results {
		if errs[i] != nil || len(results[i]) != 1 {
			t.Fatalf("caller %d: %q, %v", i, names(results[i]), errs[i])
		}
	}
	if n := c.HandleCalls.Load() - calls; n != 1 {
		t.Fatalf("%d concurrent lists sent %d GetObjectHandles, want 1", len(results), n)
	}
}

// A listing whose only caller was interrupted still completes, for the
// next caller: the interrupt does not waste the camera's work.
func TestTreeInterruptedListingCompletes(t *testing.T) {
	c := treetest.Sample()
	tr := newTestTree(t, c)
	sd := walk(t, tr, "SD")
	block := make(chan struct{})
	c.Mu.Lock()
	c.Block = block
	c.Mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := tr.List(ctx, sd)
		errc <- err
	}()
	for c.HandleCalls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted list: %v", err)
	}
	close(block)
	got, err := tr.List(context.Background(), sd)
	if err != nil || len(got) != 2 {
		t.Fatalf("list after the interrupt: %q, %v", names(got), err)
	}
	if n := c.HandleCalls.Load(); n != 1 {
		t.Fatalf("GetObjectHandles sent %d times, want 1", n)
	}
}

// A failed listing is not cached: the next call asks again.
func TestTreeListingErrorRetried(t *testing.T) {
	c := treetest.Sample()
	tr := newTestTree(t, c)
	ctx := context.Background()
	c.Fail = errors.New("ptpip: session broken")
	if _, err := tr.List(ctx, tr.Root()); err == nil || !errors.Is(err, c.Fail) {
		t.Fatalf("list with the camera failing: %v", err)
	}
	c.Mu.Lock()
	c.Fail = nil
	c.Mu.Unlock()
	if got, err := tr.List(ctx, tr.Root()); err != nil || len(got) != 2 {
		t.Fatalf("retry: %q, %v", names(got), err)
	}
}

// An object deleted between GetObjectHandles and GetObjectInfo is left out;
// objects of other folders (a camera ignoring the parent filter) too.
func TestTreeSkipsGoneAndForeign(t *testing.T) {
	c := treetest.New()
	c.AddStorage(0x00010001, "SD", "", 0, 0)
	keep := c.Add(0x00010001, 0, "KEEP.JPG", false, []byte("k"), "", "")
	gone := c.Add(0x00010001, 0, "GONE.JPG", false, []byte("g"), "", "")
	c.Gone[gone] = true
	foreign := c.Add(0x00010001, 0, "OTHER.JPG", false, []byte("o"), "", "")
	c.Objects[foreign].Info.ParentObject = 0 // listed at the top...
	c.Objects[foreign].Info.StorageID = 0x00020001
	_ = keep
	tr := newTestTree(t, c)
	got, err := tr.List(context.Background(), walk(t, tr, "SD"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"KEEP.JPG"}; !slices.Equal(names(got), want) {
		t.Fatalf("SD = %q, want %q", names(got), want)
	}
}

// An object over 4 GiB whose size the camera cannot tell, or tells as 0,
// or garbled, is left out; a transport failure fails the listing instead.
func TestTreeUnknownHugeSize(t *testing.T) {
	for name, tc := range map[string]struct {
		err     error
		want    []string
		listErr bool
	}{
		"refused":   {err: fmt.Errorf("object size: %w", mtp.RespOperationNotSupported), want: []string{"SMALL.JPG"}},
		"zero":      {want: []string{"SMALL.JPG"}}, // the 64-bit size is 0
		"malformed": {err: fmt.Errorf("object size: %w", mtp.ErrMalformed), want: []string{"SMALL.JPG"}},
		"transport": {err: treetest.ErrBroken, listErr: true},
	} {
		t.Run(name, func(t *testing.T) {
			c := treetest.New()
			c.AddStorage(0x00010001, "SD", "", 0, 0)
			c.Add(0x00010001, 0, "SMALL.JPG", false, []byte("s"), "", "")
			huge := c.Add(0x00010001, 0, "HUGE.MOV", false, nil, "", "")
			c.Objects[huge].Info.CompressedSize = 0xFFFFFFFF
			c.SizeErr = tc.err
			tr := newTestTree(t, c)
			got, err := tr.List(context.Background(), walk(t, tr, "SD"))
			if tc.listErr {
				if !errors.Is(err, treetest.ErrBroken) {
					t.Fatalf("list: %q, %v; want the transport error", names(got), err)
				}
				return
			}
			if err != nil || !slices.Equal(names(got), tc.want) {
				t.Fatalf("list: %q, %v; want %q", names(got), err, tc.want)
			}
		})
	}
}

func TestTreeReadThroughCache(t *testing.T) {
	c := treetest.New()
	c.AddStorage(0x00010001, "SD", "", 0, 0)
	data := make([]byte, 3*cache.BlockUnit+1234)
	for i := range data {
		data[i] = byte(i * 7)
	}
	c.Add(0x00010001, 0, "F.JPG", false, data, "", "")
	tr := newTestTree(t, c)
	f := walk(t, tr, "SD", "F.JPG")
	ch, err := cache.New(cache.Config{Size: 8 * cache.BlockUnit, BlockSize: cache.BlockUnit, RequestSize: cache.BlockUnit, ReadAhead: -1}, tr.Source())
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	r := ch.NewReader(CacheObject(f))
	got := make([]byte, len(data))
	for off := 0; off < len(data); {
		n, err := r.ReadAt(context.Background(), got[off:min(off+70000, len(data))], int64(off))
		if err != nil && n == 0 {
			t.Fatalf("read at %d: %v", off, err)
		}
		off += n
	}
	if !bytes.Equal(got, data) {
		t.Fatal("bytes differ from the camera's")
	}
	if n := c.ReadCalls.Load(); n != 4 {
		t.Errorf("camera reads = %d, want 4 (one per block)", n)
	}
	// Reading a directory, or an object gone from the tree's index.
	if _, err := tr.ReadAt(context.Background(), walk(t, tr, "SD"), 0, got); !errors.Is(err, ErrNotFile) {
		t.Errorf("read of a directory: %v", err)
	}
	if _, err := tr.Source().Fetch(context.Background(), cache.Object{ID: 12345, Size: 10}, 0, got[:10]); !errors.Is(err, ErrNotFound) {
		t.Errorf("fetch of an unknown inode: %v", err)
	}
	c.Gone[f.Handle] = true
	if _, err := tr.ReadAt(context.Background(), f, 0, got[:10]); !errors.Is(err, mtp.RespInvalidObjectHandle) {
		t.Errorf("read of a deleted object: %v", err)
	}
}

func TestTreeUsage(t *testing.T) {
	c := treetest.Sample()
	tr := newTestTree(t, c)
	u, err := tr.Usage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Usage{Capacity: 96 << 30, Free: 11 << 30, Storages: 2}); u != want {
		t.Fatalf("Usage = %+v, want %+v", u, want)
	}
	calls := c.StorageCalls.Load()
	if _, err := tr.Usage(context.Background()); err != nil || c.StorageCalls.Load() != calls {
		t.Fatalf("a second Usage within %v asked the camera (%v)", statfsMaxAge, err)
	}
}
